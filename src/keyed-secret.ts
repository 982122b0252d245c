import { ArnFormat, Resource, SecretValue, SecretsManagerSecretOptions, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { grantSecretKey, KeyUse } from './key-grants';

/**
 * A secret by its ARN, as `secretsmanager.Secret.fromSecretAttributes` imports it, whose grants give its key's use
 * through Secrets Manager wherever that can be granted (see key-grants.ts): aws-cdk's own grant the key in the key's
 * policy only, which cycles for a key of another stack and adds nothing for an imported one. Integrations that grant
 * on the secret themselves (an ECS task's secrets) call these, so they work with a shared key too; a CodeBuild
 * project's `SECRETS_MANAGER` environment variable takes an ARN and grants `GetSecretValue` only. Not exported from
 * index.ts.
 */
export class KeyedSecret extends Resource implements secretsmanager.ISecret {
  public readonly secretName: string;

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

  // The rest of ISecret, as aws-cdk-lib's imported secrets have it, from its public parts: its base class is not exported.

  public get secretRef(): secretsmanager.SecretReference {
    return { secretId: this.secretArn };
  }

  public get secretValue(): SecretValue {
    return this.secretValueFromJson('');
  }

  public secretValueFromJson(jsonField: string): SecretValue {
    return SecretValue.secretsManager(this.secretArn, { jsonField });
  }

  public cfnDynamicReferenceKey(options: SecretsManagerSecretOptions = {}): string {
    return SecretValue.cfnDynamicReferenceKey(this.secretArn, options);
  }

  public addRotationSchedule(id: string, options: secretsmanager.RotationScheduleOptions): secretsmanager.RotationSchedule {
    return new secretsmanager.RotationSchedule(this, id, { secret: this, ...options });
  }

  /** A secret this stack does not create has no resource policy here to add to. */
  public addToResourcePolicy(_statement: iam.PolicyStatement): iam.AddToResourcePolicyResult {
    return { statementAdded: false };
  }

  public denyAccountRootDelete(): void {
    this.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:DeleteSecret'], effect: iam.Effect.DENY, resources: ['*'], principals: [new iam.AccountRootPrincipal()],
    }));
  }

  public attach(target: secretsmanager.ISecretAttachmentTarget): secretsmanager.ISecret {
    if (this.node.tryFindChild('Attachment')) throw new Error(`${this.node.path} is already attached to a target`);
    return new secretsmanager.SecretTargetAttachment(this, 'Attachment', { secret: this, target });
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

  private get arnForPolicies(): string {
    return this.complete ? this.secretArn : `${this.secretArn}-??????`;
  }

  private grantSecret(grantee: iam.IGrantable, actions: string[], use: KeyUse): iam.Grant {
    const grant = iam.Grant.addToPrincipalOrResource({ grantee, actions, resourceArns: [this.arnForPolicies], resource: this });
    if (this.encryptionKey) grantSecretKey(grantee, this.encryptionKey, Stack.of(this).region, use);
    return grant;
  }
}
