import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';

/** The actions that issue or change a secret or a status: only on the users of this stack's credentials. */
const CREDENTIAL_ACTIONS = [
  'iam:CreateServiceSpecificCredential',
  'iam:ResetServiceSpecificCredential',
  'iam:UpdateServiceSpecificCredential',
];

/** A managed policy holds 6,144 characters; the statement around the ARNs takes under 300. */
const USER_POLICY_BUDGET = 5_800;
/** IAM's default quota of managed policies per role. */
const MAX_MANAGED_POLICIES = 10;
/** `arn:aws-us-gov:iam::123456789012:user`: the longest a user ARN is before its path and name. */
const ARN_PREFIX = 37;
/** IAM's longest path (with its slashes) and user name. */
const MAX_PATH = 512;
const MAX_USER_NAME = 64;

interface UserPolicy {
  readonly policy: iam.ManagedPolicy;
  readonly statement: iam.PolicyStatement;
  /** The users it names, by their resolved ARN. */
  readonly users: Set<string>;
  /** The characters its ARNs take once IAM sees them. */
  size: number;
}

/**
 * The managed policies that let the handler act on the credentials of its stack's users, and on no other user's.
 * Users are packed into managed policies of their own, sized by the ARN IAM will see, not by the token CDK sees:
 * CDK's own policy splitting counts `{"Fn::GetAtt":[..]}` (about 35 characters) for an ARN that resolves to 70 or more.
 */
export class UserPolicies {
  private readonly policies: UserPolicy[] = [];

  /** @param scope where the policies are created: their construct ids are `Users1`, `Users2`, ... in it */
  constructor(private readonly scope: Construct, private readonly role: iam.IRole) {}

  /** Lets the role act on this user's credentials. Returns the policy that does, for the custom resource to wait for. */
  public grant(user: iam.IUser): IDependable {
    const stack = Stack.of(this.scope);
    const resolved = stack.resolve(user.userArn);
    const key = JSON.stringify(resolved);
    const existing = this.policies.find((p) => p.users.has(key));
    if (existing) return existing.policy;
    const size = arnLength(user, resolved) + 3; // quotes and comma
    let chunk = this.policies[this.policies.length - 1];
    if (!chunk || chunk.size + size > USER_POLICY_BUDGET) {
      if (this.policies.length === MAX_MANAGED_POLICIES) {
        const users = this.policies.reduce((n, p) => n + p.users.size, 0);
        throw new Error(`The credentials of stack ${stack.stackName} name more IAM users than the handler's role can be `
          + `granted: ${users} users fill IAM's ${MAX_MANAGED_POLICIES} managed policies per role (user ${user.node.path} is one too `
          + 'many). Put some of the credentials in another stack.');
      }
      chunk = this.addPolicy();
    }
    chunk.statement.addResources(user.userArn);
    chunk.users.add(key);
    chunk.size += size;
    return chunk.policy;
  }

  private addPolicy(): UserPolicy {
    const statement = new iam.PolicyStatement({ actions: CREDENTIAL_ACTIONS });
    const policy = new iam.ManagedPolicy(this.scope, `Users${this.policies.length + 1}`, {
      description: 'Lets the cdk-service-specific-credential handler manage these users\' service-specific credentials',
      statements: [statement],
      roles: [this.role],
    });
    const chunk = { policy, statement, users: new Set<string>(), size: 0 };
    this.policies.push(chunk);
    return chunk;
  }
}

/**
 * The longest the user's ARN can resolve to. A user made in this stack counts its real path and name where they are
 * known; pseudo parameters have known maximum lengths; any other reference counts IAM's longest path and name.
 */
function arnLength(user: iam.IUser, resolved: unknown): number {
  const cfnUser = user.node.defaultChild;
  if (cfnUser instanceof iam.CfnUser) {
    const known = (value: string | undefined, max: number, otherwise: number) =>
      value === undefined ? otherwise : Token.isUnresolved(value) ? max : value.length;
    return ARN_PREFIX + known(cfnUser.path, MAX_PATH, 1) + known(cfnUser.userName, MAX_USER_NAME, MAX_USER_NAME);
  }
  return resolvedLength(resolved);
}

function resolvedLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  const v = value as Record<string, any>;
  if (v && Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.reduce<number>((sum, part) => sum + resolvedLength(part), separator.length * Math.max(0, parts.length - 1));
  }
  const pseudo: Record<string, number> = { 'AWS::Partition': 10, 'AWS::AccountId': 12, 'AWS::Region': 16, 'AWS::URLSuffix': 13 };
  if (v && typeof v.Ref === 'string' && pseudo[v.Ref]) return pseudo[v.Ref];
  return ARN_PREFIX + MAX_PATH + MAX_USER_NAME;
}
