import * as path from 'node:path';
import { ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { CLOUDFORMATION_STACK_TAG, SECRET_TAG, STACK_ID_VARIABLE } from './handler-contract';
import { grantSecretKey, isAliasByName } from './key-grants';
import { Lanes } from './lanes';
import { SecretNames } from './ledgers';
import { suppress } from './nag';
import { UserPolicies } from './user-policies';

/**
 * The handler Lambda and its role, one per stack, shared by every credential in the stack; and what those credentials
 * share besides: their lanes, their users' policies and the secret names they claim (IAM's per-user limit is the app's:
 * `CredentialSlots`).
 * Not exported: users see only its effects (one function, one role).
 */
export class CredentialProvider extends Construct {
  /** The stack's provider, created on first use. */
  public static of(scope: Construct): CredentialProvider {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(PROVIDER_ID) as CredentialProvider | undefined)
      ?? new CredentialProvider(stack, PROVIDER_ID, lambda.determineLatestNodeRuntime(stack));
  }

  public readonly role: iam.Role;
  public readonly function: lambda.Function;
  /** The stack's credential custom resources, in lanes of one after another. */
  public readonly lanes: Lanes;
  /** The secret names the stack's credentials hold. */
  public readonly secretNames = new SecretNames();
  private readonly userPolicies: UserPolicies;
  private readonly secretTagValue = Aws.STACK_ID;
  private readonly keys = new Set<kms.IKey>();
  private rotationGrant?: IDependable;
  private aliasGrantSuppressed = false;

  private constructor(scope: Construct, id: string, runtime: lambda.Runtime) {
    super(scope, id);
    // An own role with exactly these grants, instead of the AWSLambdaBasicExecutionRole managed policy.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Creates, resets and deletes IAM service-specific credentials and stores them in Secrets Manager',
    });
    this.userPolicies = new UserPolicies(this, this.role);
    this.lanes = new Lanes(Stack.of(this));
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Handler', {
      runtime,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'lambda', 'handler')),
      role: this.role,
      logGroup,
      // Lambda's longest: a throttled account (other stacks deploying at once) is waited out rather than failed, and
      // only waiting invocations run that long. IAM may need ~2 minutes to see a user or policy made in the same
      // deployment. The handler answers CloudFormation 15 seconds before this timeout whatever happens.
      timeout: Duration.minutes(15),
      memorySize: 256,
      // The handler refuses events from any other stack.
      environment: { [STACK_ID_VARIABLE]: Aws.STACK_ID },
      description: 'cdk-service-specific-credential: custom resource handler for IAM service-specific credentials',
    });
    this.grantStackAccess();
    this.suppressDeliberateFindings();
  }

  /**
   * Lets the handler manage this user's credentials and write this secret, nothing else. Returns what the
   * custom resource must depend on, so that its first call does not race the grant.
   */
  public allow(user: iam.IUser, secret: secretsmanager.CfnSecret, encryptionKey?: kms.IKey): IDependable {
    // Secrets: one statement for any number of credentials, scoped by a tag only this stack's secrets carry.
    // Set on the resource itself: a Tags aspect per secret costs synth time at hundreds of credentials.
    secret.tags.setTag(SECRET_TAG, this.secretTagValue);
    if (encryptionKey && !this.keys.has(encryptionKey)) {
      this.keys.add(encryptionKey);
      grantSecretKey(this.role, encryptionKey, Stack.of(this).region, 'write');
      if (isAliasByName(encryptionKey)) this.suppressAliasGrant();
    }
    return this.userPolicies.grant(user);
  }

  /**
   * Lets Secrets Manager invoke the handler for rotation steps in this account: what rotation needs beyond the custom
   * resource's grants (which move staging labels already, for the ownership record), added once per stack.
   */
  public allowRotation(): IDependable {
    if (this.rotationGrant) return this.rotationGrant;
    this.function.addPermission('RotationInvoke', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
    });
    this.rotationGrant = new DependencyGroup(this.function.node.findChild('RotationInvoke'));
    return this.rotationGrant;
  }

  /** The role's grants on the stack's secrets and on its users' credentials beyond the users' own policies. */
  private grantStackAccess(): void {
    // Secrets: one statement for any number of credentials. Only the stack's own credential secrets carry both tags,
    // and only CloudFormation can set aws:cloudformation:stack-id. GetSecretValue reads back the handler's own writes
    // (a repeated event, the resetSerial a value was issued for). UpdateSecretVersionStage moves the labels that record
    // which credentials each resource owns, and AWSCURRENT back to the old credential's value after a rollback.
    const secretsArn = Stack.of(this).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      resources: [secretsArn],
      conditions: { StringEquals: this.ownSecretConditions() },
    }));
    // DescribeSecret, which reveals no value, on the stack's tag alone: so that a secret without CloudFormation's tag
    // gets a FAILED answer that says so, instead of AccessDenied until the deadline.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:DescribeSecret'],
      resources: [secretsArn],
      conditions: { StringEquals: { [`aws:ResourceTag/${SECRET_TAG}`]: this.secretTagValue } },
    }));
    // Delete and List reveal no secret, and must work for users no longer in the template: CloudFormation updates
    // the policies above before it deletes a replaced or removed credential, and a rollback runs the other way.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['iam:DeleteServiceSpecificCredential', 'iam:ListServiceSpecificCredentials'],
      resources: [Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' })],
    }));
  }

  /** cdk-nag reads these from the template, so users of cdk-nag see no findings for what is deliberate here. */
  private suppressDeliberateFindings(): void {
    suppress(this.role.node.findChild('DefaultPolicy'), {
      id: 'AwsSolutions-IAM5',
      reason: 'Any secret, but only under the condition that it carries the tags with this stack\'s id, which only the '
        + 'credential secrets of this stack carry (aws:cloudformation:stack-id is set by CloudFormation only): one '
        + 'statement for any number of credentials.',
      applies_to: ['Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*'],
    });
    suppress(this.role.node.findChild('DefaultPolicy'), {
      id: 'AwsSolutions-IAM5',
      reason: 'Only DeleteServiceSpecificCredential and ListServiceSpecificCredentials, which reveal no secret, on any '
        + 'user: the credential of a user that a stack update removed or replaced is deleted after the update has '
        + 'already taken that user out of the policies that scope Create, Reset and Update.',
      applies_to: ['Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*'],
    });
    suppress(this.function, {
      id: 'AwsSolutions-L1',
      reason: 'The runtime is lambda.determineLatestNodeRuntime(), the newest Node.js runtime the stack\'s region '
        + 'offers (per region, for a stack of no fixed region), and the handler is bundled for it.',
    });
  }

  /** Once per stack, for any number of aliases: each statement's condition names its alias. */
  private suppressAliasGrant(): void {
    if (this.aliasGrantSuppressed) return;
    this.aliasGrantSuppressed = true;
    suppress(this.role.node.findChild('DefaultPolicy'), {
      id: 'AwsSolutions-IAM5',
      reason: 'A key given as an alias name (kms.Alias.fromAliasName): IAM policies cannot name a key by its alias, so '
        + 'any key of the account and region, but only one that carries the alias (kms:ResourceAliases) and only '
        + 'through Secrets Manager (kms:ViaService).',
      applies_to: [{ regex: '/^Resource::arn:<AWS::Partition>:kms:.+:key\\/\\*$/' }],
    });
  }

  /** The condition only this stack's credential secrets meet: both tags, one of which only CloudFormation can set. */
  private ownSecretConditions(): Record<string, string> {
    return {
      [`aws:ResourceTag/${SECRET_TAG}`]: this.secretTagValue,
      [`aws:ResourceTag/${CLOUDFORMATION_STACK_TAG}`]: this.secretTagValue,
    };
  }
}

/**
 * Every credential's ServiceToken is this construct's function ARN, and CloudFormation refuses to change a
 * ServiceToken. So the id is a constant: nothing that moves between releases (the runtime above all, which
 * aws-cdk-lib advances, and which is a token in environment-agnostic stacks) may be part of it. test/upgrade.test.ts
 * pins the logical ids that follow from it.
 */
const PROVIDER_ID = 'ServiceSpecificCredentialProvider';
