import * as path from 'node:path';
import { ArnFormat, Aws, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { CLOUDFORMATION_STACK_TAG, SECRET_TAG, STACK_ID_VARIABLE } from './handler-contract';
import { CredentialSlots, SecretNames } from './ledgers';
import { suppress } from './nag';
import { UserPolicies } from './user-policies';

/** How many credentials of one stack CloudFormation creates, updates or deletes at once. */
export const CONCURRENT_CREDENTIALS = 10;

/**
 * The handler Lambda and its role, one per stack, shared by every credential in the stack; and what those credentials
 * share besides: their lanes, their users' policies and the ledgers of what they claim.
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
  /** The secret names the stack's credentials hold. */
  public readonly secretNames = new SecretNames();
  /** The IAM slots (user and service) the app's credentials hold, in this stack and the app's others. */
  public readonly slots: CredentialSlots;
  private readonly secretTagValue = Aws.STACK_ID;
  private readonly keys = new Set<kms.IKey>();
  private rotationGrant?: IDependable;
  /** The stack's credential custom resources, in the order they were added. */
  private readonly queue: CfnResource[] = [];
  /** The links the last synthesis added: formed again, from the app as it is then, by the next one. */
  private links: Array<[CfnResource, CfnResource]> = [];
  private readonly userPolicies: UserPolicies;

  private constructor(scope: Construct, id: string, runtime: lambda.Runtime) {
    super(scope, id);
    // An own role with exactly these grants, instead of the AWSLambdaBasicExecutionRole managed policy.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Creates, resets and deletes IAM service-specific credentials and stores them in Secrets Manager',
    });
    this.userPolicies = new UserPolicies(this, this.role);
    this.slots = CredentialSlots.of(this);
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

    // cdk-nag reads these from the template, so users of cdk-nag see no findings for what is deliberate here.
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
      reason: 'The runtime is lambda.determineLatestNodeRuntime(), the newest Node.js runtime that every region '
        + 'of the partition offers, and the handler is bundled for it.',
    });
  }

  /**
   * Orders a credential's custom resource after the one CONCURRENT_CREDENTIALS places before it, so that CloudFormation
   * sends at most that many of this stack's events to the handler at once, creating, updating or deleting. IAM's rate
   * is the account's: hundreds of events at once only throttle each other (and every other IAM caller) while the
   * earliest wait the longest, and more at once does not make IAM any faster.
   */
  public enqueue(resource: CfnResource): void {
    // The app may still add dependencies of its own: the lanes are formed once they are final (validation comes after
    // the app's construct dependencies became DependsOn).
    if (this.queue.push(resource) === 1) this.node.addValidation({ validate: () => this.formLanes() });
  }

  /**
   * A link that would close a cycle with the app's own ordering (an earlier credential that depends on, or refers
   * to, a later one) is left out: CloudFormation would refuse the template ("Circular dependency between resources").
   */
  private formLanes(): string[] {
    this.links.forEach(([resource, before]) => resource.removeDependency(before));
    this.links = [];
    const graph = new ResourceGraph(Stack.of(this));
    const lanes: CfnResource[] = [];
    this.queue.forEach((resource, i) => {
      const before = lanes[i % CONCURRENT_CREDENTIALS];
      if (before && !resource.obtainResourceDependencies().includes(before) && !graph.reaches(before, resource)) {
        resource.addDependency(before);
        graph.link(resource, before);
        this.links.push([resource, before]);
      }
      lanes[i % CONCURRENT_CREDENTIALS] = resource;
    });
    return [];
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
      encryptionKey.grantEncryptDecrypt(
        new kms.ViaServicePrincipal(`secretsmanager.${Stack.of(this).region}.amazonaws.com`, this.role),
      );
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

/** What each resource of a stack waits for in CloudFormation: its DependsOn, Ref and Fn::GetAtt. */
class ResourceGraph {
  private readonly byLogicalId = new Map<string, CfnResource>();
  private readonly edges = new Map<CfnResource, Set<CfnResource>>();

  constructor(private readonly stack: Stack) {
    for (const c of stack.node.findAll()) {
      if (CfnResource.isCfnResource(c) && Stack.of(c) === stack) this.byLogicalId.set(stack.resolve(c.logicalId), c);
    }
  }

  /** Whether `from` waits, directly or through others, for `to`. */
  public reaches(from: CfnResource, to: CfnResource): boolean {
    const seen = new Set<CfnResource>([from]);
    const todo = [from];
    for (let r = todo.pop(); r; r = todo.pop()) {
      for (const next of this.waitsFor(r)) {
        if (next === to) return true;
        if (!seen.has(next)) {
          seen.add(next);
          todo.push(next);
        }
      }
    }
    return false;
  }

  public link(from: CfnResource, to: CfnResource): void {
    this.waitsFor(from).add(to);
  }

  private waitsFor(resource: CfnResource): Set<CfnResource> {
    let found = this.edges.get(resource);
    if (!found) {
      const ids = new Set<string>();
      collectReferences(this.stack.resolve((resource as unknown as { _toCloudFormation(): object })._toCloudFormation()), ids);
      found = new Set([...ids].map((id) => this.byLogicalId.get(id)).filter((r): r is CfnResource => r !== undefined && r !== resource));
      this.edges.set(resource, found);
    }
    return found;
  }
}

function collectReferences(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    node.forEach((x) => collectReferences(x, into));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref' && typeof value === 'string') {
        into.add(value);
      } else if (key === 'Fn::GetAtt') {
        into.add(String(Array.isArray(value) ? value[0] : value).split('.')[0]);
      } else if (key === 'DependsOn') {
        [value].flat().forEach((id) => into.add(String(id)));
      } else if (key === 'Fn::Sub') {
        const [template, variables] = [value].flat();
        // ${Name} and ${Name.Attribute} refer to resources; ${!Literal} is text.
        for (const [, name] of String(template).matchAll(/\$\{([^!][^}.]*)[^}]*\}/g)) into.add(name);
        collectReferences(variables, into);
      } else {
        collectReferences(value, into);
      }
    }
  }
}

