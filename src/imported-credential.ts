import { ArnFormat, RemovalPolicy, Resource, ResourceProps, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { IServiceSpecificCredential, ServiceSpecificCredentialAttributes } from './credential-base';
import { grantSecretKey } from './key-grants';
import { KeyedSecret } from './keyed-secret';

/**
 * A credential this library neither created nor manages: it is never created, reset or deleted here, and nothing
 * is added to the template for it until something is granted on its secret.
 */
export class ImportedServiceSpecificCredential extends Resource implements IServiceSpecificCredential {
  public readonly serviceSpecificCredentialId: string;
  public readonly secret: secretsmanager.ISecret;
  private readonly attrs: ServiceSpecificCredentialAttributes;

  constructor(scope: Construct, id: string, attrs: ServiceSpecificCredentialAttributes) {
    // Its account and region are its secret's (the credential itself is IAM's, which has no region). The attributes are
    // checked first: Resource's own parse of an ARN would name neither the construct nor the attribute.
    super(scope, id, environmentOf(checked(scope, id, attrs)));
    this.attrs = attrs;
    this.serviceSpecificCredentialId = attrs.serviceSpecificCredentialId;
    this.secret = attrs.secret ?? (attrs.secretArn !== undefined
      ? new KeyedSecret(this, 'Secret', attrs.secretArn, true, attrs.encryptionKey)
      : new KeyedSecret(this, 'Secret', secretArnOf(this, attrs.secretName!), false, attrs.encryptionKey));
  }

  public get secretArn(): string {
    return this.secret.secretArn;
  }

  public get serviceUserName(): string {
    return this.known('serviceUserName');
  }

  public get serviceCredentialAlias(): string {
    return this.known('serviceCredentialAlias');
  }

  public get expirationDate(): string {
    return this.known('expirationDate');
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = this.secret.grantRead(grantee);
    // An ISecret given as it is keeps its own key; a key given beside it is granted too.
    if (this.attrs.secret && this.attrs.encryptionKey && this.attrs.encryptionKey !== this.attrs.secret.encryptionKey) {
      grantSecretKey(grantee, this.attrs.encryptionKey, Stack.of(this).region, 'read');
    }
    return grant;
  }

  /** Nothing of it is in the template: there is nothing to delete or keep. */
  public applyRemovalPolicy(_policy: RemovalPolicy): void {
    throw new Error(`${this.node.path} is an imported credential: no stack manages it, so it has no removal policy`);
  }

  private known(key: 'serviceUserName' | 'serviceCredentialAlias' | 'expirationDate'): string {
    const value = this.attrs[key];
    if (value === undefined) {
      throw new Error(`${key} of the imported credential ${this.node.path} is not known: give it in `
        + 'ServiceSpecificCredential.fromServiceSpecificCredentialAttributes, or read it from the secret');
    }
    return value;
  }
}

/** The attributes, checked; errors name the construct by the path it will have. */
function checked(scope: Construct, id: string, attrs: ServiceSpecificCredentialAttributes): ServiceSpecificCredentialAttributes {
  const path = scope.node.path ? `${scope.node.path}/${id}` : id;
  const credentialId = attrs.serviceSpecificCredentialId;
  if (!Token.isUnresolved(credentialId) && !/^\w{20,128}$/.test(credentialId)) {
    throw new Error(`Invalid serviceSpecificCredentialId '${credentialId}' for ${path}: IAM ids are 20 to 128 letters and `
      + 'digits, e.g. ACCAEXAMPLE123456789');
  }
  const given = (['secret', 'secretArn', 'secretName'] as const).filter((key) => attrs[key] !== undefined);
  if (given.length !== 1) {
    throw new Error(`Give the secret of ${path} in exactly one way (secret, secretArn or secretName); got `
      + `${given.length ? given.join(' and ') : 'none'}`);
  }
  const arn = attrs.secretArn;
  if (arn !== undefined && !Token.isUnresolved(arn) && !/^arn:[\w-]+:secretsmanager:[\w-]+:\d{12}:secret:.+$/.test(arn)) {
    throw new Error(`Invalid secretArn '${arn}' for ${path}: expected a secret's ARN, `
      + 'e.g. arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci/git-AbCdEf');
  }
  return attrs;
}

function environmentOf(attrs: ServiceSpecificCredentialAttributes): ResourceProps {
  return attrs.secret ? { account: attrs.secret.env.account, region: attrs.secret.env.region } : { environmentFromArn: attrs.secretArn };
}

/** The partial ARN of a secret in this stack's account and region: `grantRead` adds the suffix's wildcard. */
function secretArnOf(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}
