import { Annotations, CfnDeletionPolicy, CfnResource, CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { IServiceSpecificCredential, ServiceSpecificCredentialAttributes } from './credential-base';
import { CredentialService, CredentialStatus, knownServices } from './credential-service';
import { CredentialResourceProperties, RESOURCE_TYPE, ROTATION_TAG } from './handler-contract';
import { ImportedServiceSpecificCredential } from './imported-credential';
import { suppress } from './nag';
import { CredentialProvider } from './provider';
import { CredentialRotationOptions, RotationStrategy } from './rotation';
import { scheduleOf, scheduleRotation } from './rotation-schedule';

/**
 * Properties of a ServiceSpecificCredential.
 */
export interface ServiceSpecificCredentialProps {
  /**
   * The IAM user the credential belongs to.
   *
   * A user with a path must be given with its full ARN (`iam.User.fromUserArn`) or as a `User` of this app:
   * `iam.User.fromUserName` assumes the path `/`, so the handler would be granted the wrong ARN and denied.
   */
  readonly user: iam.IUser;

  /**
   * The service the credential is for.
   */
  readonly service: CredentialService;

  /**
   * Whether the credential can be used. Changing it updates the credential in place.
   *
   * @default CredentialStatus.ACTIVE
   */
  readonly status?: CredentialStatus;

  /**
   * Change this number to reset the credential's secret value in place: the credential keeps its id and user
   * name, IAM issues a new password (or API key), and the secret gets a new version holding it. The old value
   * stops working at once.
   *
   * @default 0
   */
  readonly resetSerial?: number;

  /**
   * How long until the credential expires: whole days, from 1 to 36,600. Only API-key services accept it
   * (Bedrock, CloudWatch Logs, CloudWatch). Changing it replaces the credential.
   *
   * @default - the credential never expires
   */
  readonly expiresAfter?: Duration;

  /**
   * The KMS key that encrypts the secret. Readers granted with `grantRead` get decrypt on it too.
   *
   * @default - the account's AWS managed key `aws/secretsmanager`
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The name of the secret. A fixed name cannot be reused for 7 to 30 days after the secret is deleted.
   *
   * @default - a name CloudFormation generates
   */
  readonly secretName?: string;

  /**
   * What happens to the credential and its secret when the construct leaves the stack (or the stack is deleted):
   * both are deleted, or both are kept, never one without the other. A kept credential is no longer rotated and no
   * stack manages it: delete it and its secret by hand when done. A replacement (new user, service or expiresAfter)
   * still deletes the credential it replaces.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Rotate the credential on a schedule, through Secrets Manager. Apps that read the secret's current value each
   * time they connect (or cache it briefly) never notice a rotation with `RotationStrategy.ALTERNATING`.
   *
   * After a rotation, `serviceSpecificCredentialId` (the first credential's id), `serviceCredentialAlias` and
   * `expirationDate` are stale; the secret's current value holds the ones in use.
   *
   * @default - no rotation: the credential changes only when `resetSerial` changes
   */
  readonly rotation?: CredentialRotationOptions;
}

/**
 * An IAM service-specific credential (a CodeCommit Git password, an Amazon Keyspaces login, or a Bedrock or
 * CloudWatch API key) whose secret value goes straight into AWS Secrets Manager.
 *
 * A custom resource creates the credential, writes the one-time secret into a secret this construct owns,
 * and answers CloudFormation with ids and names only: the secret value never appears in the template,
 * a CloudFormation response, a log line or an error message.
 *
 * IAM allows at most 2 credentials per user and service.
 */
export class ServiceSpecificCredential extends Construct implements IServiceSpecificCredential {
  /**
   * A credential that exists already (made by hand or by another stack), to grant reading its secret and to wire
   * apps to it. This library never creates, resets or deletes it.
   */
  public static fromServiceSpecificCredentialAttributes(
    scope: Construct, id: string, attrs: ServiceSpecificCredentialAttributes,
  ): IServiceSpecificCredential {
    return new ImportedServiceSpecificCredential(scope, id, attrs);
  }

  public readonly serviceSpecificCredentialId: string;
  public readonly serviceUserName: string;
  public readonly serviceCredentialAlias: string;
  public readonly expirationDate: string;
  public readonly secretArn: string;
  private readonly encryptionKey?: kms.IKey;
  private importedSecret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: ServiceSpecificCredentialProps) {
    super(scope, id);
    let ageDays: string | undefined;
    let schedule: string | undefined;
    const strategy = props.rotation ? props.rotation.strategy ?? RotationStrategy.ALTERNATING : undefined;
    // Every message names the construct: in an app of many credentials, the value alone does not say which.
    try {
      // JavaScript and Python callers have no compiler to stop a plain string or a wrong value here.
      validateService(props.service);
      validateStatus(props.status);
      ageDays = credentialAgeDays(props.service, props.expiresAfter);
      schedule = props.rotation === undefined ? undefined : scheduleOf(props.rotation, props.expiresAfter);
      validateUserName(props.user.userName);
      validateResetSerial(props.resetSerial);
      validateSecretName(this, props.secretName);
      validateRemovalPolicy(props.removalPolicy);
      claimSlot(this, props.user, props.service, strategy === RotationStrategy.ALTERNATING ? 2 : 1);
    } catch (err) {
      throw new Error(`${this.node.path}: ${(err as Error).message}`);
    }
    warnAboutService(this, props.service, props.expiresAfter, props.rotation);

    const store = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.secretName,
      encryptionKey: props.encryptionKey,
      description: `${props.service.serviceName} credential of ${this.node.path}`,
    });
    if (!strategy) {
      suppress(store, {
        id: 'AwsSolutions-SMG4',
        reason: 'IAM issues the value, without a rotation schedule: it changes when resetSerial changes (IAM ResetServiceSpecificCredential).',
      });
    } else {
      // A rotation has no resource properties: the secret tells it the strategy.
      (store.node.defaultChild as secretsmanager.CfnSecret).tags.setTag(ROTATION_TAG, strategy);
    }
    const provider = CredentialProvider.of(this);
    const grant = provider.allow(props.user, store);

    const properties: CredentialResourceProperties = {
      UserName: props.user.userName,
      ServiceName: props.service.serviceName,
      Status: props.status ?? CredentialStatus.ACTIVE,
      SecretArn: store.secretArn,
      CredentialAgeDays: ageDays,
      ResetSerial: String(props.resetSerial ?? 0),
      // A user the app does not create exists already: the handler need not wait for IAM to show it.
      UserExists: props.user.node.defaultChild instanceof iam.CfnUser ? undefined : 'true',
      RotationStrategy: strategy,
    };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.function.functionArn,
      resourceType: RESOURCE_TYPE,
      properties,
    });
    // The first IAM call must not race the policy that allows it. (The role's own policy is already ordered
    // before the custom resource: the resource references the function, which depends on that policy.)
    resource.node.addDependency(grant);
    provider.enqueue(resource.node.defaultChild as CfnResource);
    if (props.removalPolicy === RemovalPolicy.RETAIN) {
      // DeletionPolicy only: a replaced credential is still deleted, as its secret no longer holds it.
      for (const cfn of [resource.node.defaultChild, store.node.defaultChild] as CfnResource[]) {
        cfn.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
      }
    }
    if (props.rotation) scheduleRotation(this, store, provider, props.rotation, schedule!, resource);

    this.serviceSpecificCredentialId = resource.ref;
    this.serviceUserName = resource.getAttString('ServiceUserName');
    this.serviceCredentialAlias = resource.getAttString('ServiceCredentialAlias');
    this.expirationDate = resource.getAttString('ExpirationDate');
    this.secretArn = resource.getAttString('SecretArn');
    this.encryptionKey = props.encryptionKey;
  }

  /**
   * The secret that holds the credential. Its ARN is the one the custom resource answers with, so whatever
   * references it deploys after the credential has been written into it.
   */
  public get secret(): secretsmanager.ISecret {
    // Made on first use: hundreds of credentials in one stack need not each carry an unused construct.
    this.importedSecret ??= secretsmanager.Secret.fromSecretAttributes(this, 'Value', {
      secretCompleteArn: this.secretArn,
      encryptionKey: this.encryptionKey,
    });
    return this.importedSecret;
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }
}

const MAX_AGE_DAYS = 36_600;

function credentialAgeDays(service: CredentialService, expiresAfter?: Duration): string | undefined {
  if (expiresAfter === undefined) return undefined;
  if (!service.supportsExpiry) {
    throw new Error(`expiresAfter is only supported for API-key services; ${service.serviceName} credentials do not expire`);
  }
  if (expiresAfter.isUnresolved()) return Token.asString(expiresAfter.toDays());
  const hours = expiresAfter.toHours({ integral: false });
  if (hours % 24 !== 0) {
    throw new Error(`expiresAfter must be a whole number of days, got ${expiresAfter.toHumanString()}`);
  }
  const days = hours / 24;
  if (days < 1 || days > MAX_AGE_DAYS) {
    throw new Error(`expiresAfter must be between 1 and ${MAX_AGE_DAYS} days, got ${days} days`);
  }
  return String(days);
}

function validateService(service: unknown): void {
  if (!(service instanceof CredentialService)) {
    throw new Error('service must be a CredentialService, e.g. CredentialService.BEDROCK or CredentialService.of(\'bedrock.amazonaws.com\'); '
      + `got ${JSON.stringify(service)}`);
  }
}

function validateRemovalPolicy(policy: unknown): void {
  if (policy !== undefined && policy !== RemovalPolicy.DESTROY && policy !== RemovalPolicy.RETAIN) {
    throw new Error(`removalPolicy must be RemovalPolicy.DESTROY or RemovalPolicy.RETAIN (the credential and its secret go or stay together); got ${JSON.stringify(policy)}`);
  }
}

function validateStatus(status: unknown): void {
  const allowed: unknown[] = [CredentialStatus.ACTIVE, CredentialStatus.INACTIVE];
  if (status !== undefined && !allowed.includes(status)) {
    throw new Error(`status must be CredentialStatus.ACTIVE ('Active') or CredentialStatus.INACTIVE ('Inactive'); got ${JSON.stringify(status)}`);
  }
}

const secretNames = new WeakMap<IConstruct, Map<string, string>>();

/** Secrets Manager's rules for a name, and one name per secret within a stack (CloudFormation would fail the second). */
function validateSecretName(credential: Construct, name?: string): void {
  if (name === undefined || Token.isUnresolved(name)) return;
  if (!/^[\w/+=.@-]{1,512}$/.test(name)) {
    throw new Error(`Invalid secretName '${name}': 1 to 512 letters, digits and /_+=.@- only`);
  }
  const stack = Stack.of(credential);
  const taken = secretNames.get(stack) ?? new Map<string, string>();
  secretNames.set(stack, taken);
  if (taken.has(name)) throw new Error(`secretName '${name}' is already the secret of ${taken.get(name)}`);
  taken.set(name, credential.node.path);
}

/** What synth can tell but should not refuse: IAM adds services, and a key without expiry is allowed. */
function warnAboutService(credential: Construct, service: CredentialService, expiresAfter?: Duration, rotation?: CredentialRotationOptions): void {
  const name = service.serviceName;
  const known = knownServices().map((s) => s.serviceName);
  if (!Token.isUnresolved(name) && !known.includes(name)) {
    const closest = [...known].sort((a, b) => distance(name, a) - distance(name, b))[0];
    Annotations.of(credential).addWarningV2('cdk-service-specific-credential:unknownService',
      `'${name}' is none of the services this library knows (the closest is '${closest}'). IAM answers an unsupported `
      + 'service at deploy time; if IAM added this one, ignore this warning.');
  }
  if (service.supportsExpiry && expiresAfter === undefined && rotation === undefined) {
    Annotations.of(credential).addWarningV2('cdk-service-specific-credential:neverExpires',
      `This ${name} API key never expires and is never rotated: security scanners flag long-lived API keys. Set expiresAfter, `
      + 'e.g. Duration.days(90), with rotation: { automaticallyAfter: Duration.days(30) } to renew it.');
  }
  if (expiresAfter !== undefined && rotation === undefined) {
    Annotations.of(credential).addWarningV2('cdk-service-specific-credential:expiresWithoutRotation',
      `This ${name} API key stops working on its expiry (${expiresAfter.toHumanString()} after it is created) and nothing renews it. `
      + 'Add rotation: { automaticallyAfter: Duration.days(N) } with N shorter than expiresAfter: each rotation issues a new key with a new expiry.');
  }
}

/** Levenshtein distance: enough to name the service a typo meant. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

function validateUserName(userName: string): void {
  if (!Token.isUnresolved(userName) && !/^[\w+=,.@-]{1,64}$/.test(userName)) {
    throw new Error(`Invalid IAM user name '${userName}': 1 to 64 letters, digits and +=,.@_- only`);
  }
}

function validateResetSerial(serial?: number): void {
  if (serial !== undefined && !Token.isUnresolved(serial) && !(Number.isSafeInteger(serial) && serial >= 0)) {
    throw new Error(`resetSerial must be a whole number of 0 or more, got ${serial}`);
  }
}

const IAM_LIMIT_PER_USER_AND_SERVICE = 2;
const slots = new WeakMap<IConstruct, Map<string, string[]>>();

/** The user's name when synth knows it: imported by name, or a User of this app given a userName. */
function literalUserName(user: iam.IUser): string | undefined {
  if (!Token.isUnresolved(user.userName)) return user.userName;
  const cfnUser = user.node.defaultChild;
  return cfnUser instanceof iam.CfnUser && cfnUser.userName !== undefined && !Token.isUnresolved(cfnUser.userName) ? cfnUser.userName : undefined;
}

/** IAM allows 2 credentials per user and service: a third in the same app would fail only at deploy time. */
/** @param count the credentials the construct holds: 2 for an ALTERNATING rotation */
function claimSlot(credential: Construct, user: iam.IUser, service: CredentialService, count: number): void {
  const name = literalUserName(user);
  const userKey = name ? `name:${name}` : `path:${user.node.path}`;
  const key = `${userKey}|${service.serviceName}`;
  const root = credential.node.root;
  const byKey = slots.get(root) ?? new Map<string, string[]>();
  slots.set(root, byKey);
  const taken = byKey.get(key) ?? [];
  const shown = name ?? user.node.path;
  if (taken.length + count > IAM_LIMIT_PER_USER_AND_SERVICE) {
    const holders = [...new Set(taken)].map((p) => taken.filter((t) => t === p).length === 2 ? `${p} (ALTERNATING rotation: counts as 2)` : p);
    throw new Error(`IAM allows at most ${IAM_LIMIT_PER_USER_AND_SERVICE} credentials per user and service: user '${shown}' `
      + `already has ${holders.join(' and ')} for ${service.serviceName}`
      + (count === 2
        ? `, and this credential rotates with RotationStrategy.ALTERNATING, which counts as ${count} of the ${IAM_LIMIT_PER_USER_AND_SERVICE}: `
          + 'give it a user of its own, or use RotationStrategy.RESET_IN_PLACE'
        : '. Even two leave no room to replace either of them (a new user, service or expiresAfter creates the new credential before deleting the old one)'));
  }
  if (taken.length + count === IAM_LIMIT_PER_USER_AND_SERVICE && count === 1) {
    Annotations.of(credential).addWarningV2('cdk-service-specific-credential:noRoomToReplace',
      `User '${shown}' now has ${IAM_LIMIT_PER_USER_AND_SERVICE} credentials for ${service.serviceName} (${taken[0]} and this one), `
      + 'IAM\'s limit: changing the user, service or expiresAfter of either will fail at deploy time, because a replacement '
      + 'is created before the credential it replaces is deleted. Remove one of them first, in its own deployment.');
  }
  byKey.set(key, [...taken, ...Array(count).fill(credential.node.path)]);
}
