import { ArnFormat, Resource, ResourceProps, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { grantSecretKey, KeyUse } from './key-grants';

/**
 * The base class of `secretsmanager.Secret` and of the secrets `Secret.fromSecretAttributes` imports, which aws-cdk-lib
 * does not export. A subclass inherits every `ISecret` method aws-cdk-lib has, and overrides only the grants.
 */
const SecretBase = secretBase() as abstract new (scope: Construct, id: string, props?: ResourceProps) =>
  Resource & Omit<secretsmanager.ISecret, 'secretFullArn' | 'grantRead' | 'grantWrite'>;

/**
 * The first class up from `Secret` that defines the grants: `Secret` itself creates a secret, and a property-injection
 * decorator wraps it in a subclass of its own.
 */
function secretBase(): Function {
  for (let c: Function = secretsmanager.Secret; c !== Resource; c = Object.getPrototypeOf(c)) {
    if (Object.prototype.hasOwnProperty.call(c.prototype, 'grantRead')) return c;
  }
  throw new Error('aws-cdk-lib\'s secretsmanager.Secret no longer extends a class that defines grantRead');
}

/**
 * A secret by its ARN, as `secretsmanager.Secret.fromSecretAttributes` imports it, whose grants give its key's use
 * through Secrets Manager wherever that can be granted (see key-grants.ts): aws-cdk's own grant the key in the key's
 * policy only. Integrations that grant on a secret themselves (an ECS task's secrets, a CodeBuild project's
 * environment) call these, so they work with a shared key too.
 */
export class KeyedSecret extends SecretBase implements secretsmanager.ISecret {
  public readonly secretName: string;
  protected readonly autoCreatePolicy = false;

  /**
   * @param secretArn the complete ARN, or the partial one (a name without Secrets Manager's 6-character suffix)
   * @param complete whether `secretArn` is complete
   */
  constructor(scope: Construct, id: string, public readonly secretArn: string, private readonly complete: boolean,
    public readonly encryptionKey?: kms.IKey) {
    super(scope, id, { environmentFromArn: secretArn });
    const name = Stack.of(this).splitArn(secretArn, ArnFormat.COLON_RESOURCE_NAME).resourceName!;
    // As aws-cdk parses a name from a complete ARN; a token stays whole.
    this.secretName = complete && !Token.isUnresolved(name) ? name.replace(/-[^-]{6}$/, '') : name;
  }

  public get secretFullArn(): string | undefined {
    return this.complete ? this.secretArn : undefined;
  }

  public grantRead(grantee: iam.IGrantable, versionStages?: string[]): iam.Grant {
    const grant = this.grantSecret(grantee, ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], 'read');
    const statement = grant.principalStatement ?? grant.resourceStatement;
    if (versionStages !== undefined) statement?.addCondition('ForAnyValue:StringEquals', { 'secretsmanager:VersionStage': versionStages });
    return grant;
  }

  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantSecret(grantee, ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecret', 'secretsmanager:UpdateSecretVersionStage'], 'write');
  }

  protected get arnForPolicies(): string {
    return this.complete ? this.secretArn : `${this.secretArn}-??????`;
  }

  private grantSecret(grantee: iam.IGrantable, actions: string[], use: KeyUse): iam.Grant {
    const grant = iam.Grant.addToPrincipalOrResource({ grantee, actions, resourceArns: [this.arnForPolicies], resource: this });
    if (this.encryptionKey) grantSecretKey(grantee, this.encryptionKey, Stack.of(this).region, use);
    return grant;
  }
}
