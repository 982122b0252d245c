import { Annotations, CfnDeletionPolicy, CfnResource, Duration, RemovalPolicy, Resource, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { IServiceSpecificCredential, ServiceSpecificCredentialAttributes } from './credential-base';
import { CredentialService, CredentialStatus } from './credential-service';
import { leadSecondsOf, scheduleExpiryAlert } from './expiry-alert';
import { CredentialResourceProperties, RESOURCE_TYPE, ROTATION_TAG, STATUS_TAG } from './handler-contract';
import { ImportedServiceSpecificCredential } from './imported-credential';
import { checkKeyRegion } from './key-grants';
import { KeyedSecret } from './keyed-secret';
import { CredentialSlots } from './ledgers';
import { suppress } from './nag';
import { CredentialProvider } from './provider';
import { allowReplicaKeys, grantReplicaRead, replicaRegionsProperty, validateReplicaRegions } from './replicas';
import { CredentialRotationOptions, RotationStrategy } from './rotation';
import { onEventRule, rotationFailedPattern } from './rotation-failed';
import { scheduleRotation } from './rotation-schedule';
import { EXPIRES_WITHOUT_ROTATION, validateProps, validateRemovalPolicy, warnAboutService } from './validation';

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
   * stops working at once. With `RotationStrategy.ALTERNATING` rotation, a new number rotates at once instead (a new
   * credential; the previous value keeps working until the next rotation). An expired API key, which IAM cannot
   * reset, is renewed: a new key of the same `expiresAfter`.
   *
   * @default 0
   */
  readonly resetSerial?: number;

  /**
   * How long until the credential expires: whole days, from 1 to 36,600. Only API-key services accept it
   * (Bedrock, CloudWatch Logs, CloudWatch, X-Ray). Changing it replaces the credential.
   *
   * @default - the credential never expires
   */
  readonly expiresAfter?: Duration;

  /**
   * The KMS key that encrypts the secret, in the stack's region: a key of this stack or of another stack of the app,
   * or one imported with `kms.Key.fromKeyArn` (the full key ARN for a key of another account) or
   * `kms.Alias.fromAliasName`.
   *
   * The handler's role gets `kms:GenerateDataKey` and `kms:Decrypt` on it through Secrets Manager only, and readers
   * granted with `grantRead` (or through `secret`, as ECS task secrets are) get `kms:Decrypt`: in the key's policy
   * for a key of the grantee's own stack, otherwise in the grantee's own IAM policy, which takes effect only if the
   * key's policy lets this account's IAM policies allow its use (a key's default policy does) or names the grantee.
   * An alias's key is matched by the alias (`kms:ResourceAliases`): any key of the account and region that carries it.
   * A CodeBuild environment variable of type `SECRETS_MANAGER` grants reading the secret but no key: call `grantRead`.
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
   * Other regions the secret is replicated to, so that apps there read the credential from a replica in their own
   * region. Secrets Manager copies every value the handler writes, and every rotation, from this secret to each
   * replica; a replica is read-only. `grantRead` grants reading the replicas too. Each replica is billed as a secret of
   * its own. A replica's `encryptionKey` must be a key in that region (e.g. `kms.Key.fromKeyArn`), whose key policy
   * lets the account's principals use it through Secrets Manager.
   *
   * @default - the secret is not replicated
   */
  readonly replicaRegions?: secretsmanager.ReplicaRegion[];

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
 * Options of `ServiceSpecificCredential.onExpiring`.
 */
export interface OnExpiringOptions extends events.OnEventOptions {
  /**
   * How long before the key's expiry the alert fires: at least 1 minute, and shorter than `expiresAfter`.
   */
  readonly before: Duration;
}

/**
 * An IAM service-specific credential (a CodeCommit Git password, an Amazon Keyspaces login, or a Bedrock or
 * CloudWatch or X-Ray API key) whose secret value goes straight into AWS Secrets Manager.
 *
 * A custom resource creates the credential, writes the one-time secret into a secret this construct owns,
 * and answers CloudFormation with ids and names only: the secret value never appears in the template,
 * a CloudFormation response, a log line or an error message.
 *
 * IAM allows at most 2 credentials per user and service.
 */
export class ServiceSpecificCredential extends Resource implements IServiceSpecificCredential {
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

  /**
   * The secret that holds the credential. Its ARN is the one the custom resource answers with, so whatever
   * references it deploys after the credential has been written into it.
   */
  public readonly secret: secretsmanager.ISecret;

  /** The custom resource and the secret: deleted or kept together. */
  private readonly pair: CfnResource[];
  private readonly props: ServiceSpecificCredentialProps;

  constructor(scope: Construct, id: string, props: ServiceSpecificCredentialProps) {
    super(scope, id);
    this.props = props;
    const strategy = props.rotation ? props.rotation.strategy ?? RotationStrategy.ALTERNATING : undefined;
    // Checked before the provider is found: a refused credential must not leave the stack a handler.
    const checked = this.named(() => {
      const valid = validateProps(props);
      validateReplicaRegions(this, props.replicaRegions);
      if (props.encryptionKey) checkKeyRegion(props.encryptionKey, Stack.of(this).region, 'encryptionKey');
      CredentialSlots.of(this).claim(this, props.user, props.service, strategy === RotationStrategy.ALTERNATING ? 2 : 1);
      return valid;
    });
    const provider = CredentialProvider.of(this);
    this.named(() => provider.secretNames.claim(props.secretName, this.node.path));
    warnAboutService(this, props);

    const cfnSecret = secretResource(this, props, strategy);
    const grant = provider.allow(props.user, cfnSecret, props.encryptionKey);
    allowReplicaKeys(provider.role, props.replicaRegions);

    const properties: CredentialResourceProperties = {
      UserName: props.user.userName,
      ServiceName: props.service.serviceName,
      Status: props.status ?? CredentialStatus.ACTIVE,
      SecretArn: cfnSecret.ref,
      CredentialAgeDays: checked.credentialAgeDays,
      ResetSerial: String(props.resetSerial ?? 0),
      // A user the app does not create exists already: the handler need not wait for IAM to show it.
      UserExists: props.user.node.defaultChild instanceof iam.CfnUser ? undefined : 'true',
      RotationStrategy: strategy,
    };
    const cfnResource = customResource(this, provider.function.functionArn, properties);
    // The first IAM call must not race the policy that allows it. (The role's own policy is already ordered
    // before the custom resource: the resource references the function, which depends on that policy.)
    cfnResource.node.addDependency(grant);
    // What the properties refer to, which the lanes cannot read from a plain CfnResource. The function is left out:
    // every credential waits for it, so it cannot order one credential after another.
    const userResource = props.user.node.defaultChild;
    provider.lanes.add(cfnResource, CfnResource.isCfnResource(userResource) ? [cfnSecret, userResource] : [cfnSecret]);
    this.pair = [cfnResource, cfnSecret];
    if (props.removalPolicy !== undefined) this.applyRemovalPolicy(props.removalPolicy);
    if (props.rotation) scheduleRotation(this, cfnSecret, provider, props.rotation, checked.schedule!, cfnResource);

    this.serviceSpecificCredentialId = cfnResource.ref;
    this.serviceUserName = cfnResource.getAtt('ServiceUserName').toString();
    this.serviceCredentialAlias = cfnResource.getAtt('ServiceCredentialAlias').toString();
    this.expirationDate = cfnResource.getAtt('ExpirationDate').toString();
    this.secretArn = cfnResource.getAtt('SecretArn').toString();
    this.secret = new KeyedSecret(this, 'Value', this.secretArn, true, props.encryptionKey);
  }

  /**
   * What happens to the credential and its secret when the construct leaves the stack (or the stack is deleted), as
   * the `removalPolicy` prop: `RemovalPolicy.DESTROY` deletes both, `RemovalPolicy.RETAIN` keeps both. Any other
   * policy would part them, and is refused.
   *
   * A replacement (new user, service or expiresAfter) still deletes the credential it replaces.
   */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    this.named(() => validateRemovalPolicy(policy, 'the removal policy'));
    // DeletionPolicy only: a replaced credential is still deleted, as its secret no longer holds it.
    const deletionPolicy = policy === RemovalPolicy.RETAIN ? CfnDeletionPolicy.RETAIN : CfnDeletionPolicy.DELETE;
    for (const cfn of this.pair) cfn.cfnOptions.deletionPolicy = deletionPolicy;
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = this.secret.grantRead(grantee);
    grantReplicaRead(grantee, this.secretArn, this.props.replicaRegions);
    return grant;
  }

  /**
   * An EventBridge rule for this credential's failed rotations: Secrets Manager's `RotationFailed` events for its
   * secret, and no other secret's, as CloudTrail delivers them to the account's default event bus (best effort).
   * Secrets Manager retries a failed rotation at its next schedule; the rotation that failed leaves the credential in
   * use working.
   *
   * Only a credential with `rotation` is rotated: on one without, this is an error.
   *
   * @param id the rule's construct id
   * @param options the rule's target, description, name and an event pattern, merged into this one as aws-cdk's `onEvent` merges it (a value adds to a list)
   */
  public onRotationFailed(id: string, options: events.OnEventOptions = {}): events.Rule {
    this.named(() => {
      if (this.props.rotation === undefined) {
        throw new Error(`onRotationFailed('${id}') needs rotation: this credential has none, so Secrets Manager never rotates it and the `
          + 'rule would never fire. Set rotation: { automaticallyAfter: Duration.days(30) }'
          + (this.props.expiresAfter !== undefined ? ', or watch the expiry with onExpiring' : ''));
      }
    });
    return onEventRule(this, id, options, () => rotationFailedPattern(this.secretArn));
  }

  /**
   * An EventBridge rule for one event, `before` ahead of this API key's expiry: the expiry IAM returned when it issued
   * the key, read at deploy time. A reset or replacement that changes the expiry moves the alert. The event is put
   * on the account's default event bus by an EventBridge Scheduler one-time schedule (source
   * `cdk-service-specific-credential`, detail-type `Service-Specific Credential Expiring`, detail with the credential's
   * id, secret ARN and `expirationDate`); when the time is already past at deploy time, it comes a few minutes after.
   *
   * Only for a key with `expiresAfter` and no `rotation`: with rotation, each rotation issues a new key before the
   * expiry, and a rotation that fails fires `onRotationFailed`, the rule to watch instead. The alert answers the
   * synth warning that nothing renews the key, which it therefore acknowledges.
   *
   * Adds to the stack: a custom resource served by the stack's credential handler (no AWS call), an
   * `AWS::Scheduler::Schedule`, the rule, and one role per stack that may put events on the default bus.
   *
   * @param id the rule's construct id
   * @param options how long before the expiry, and the rule's target, description, name and an event pattern, merged into this one as aws-cdk's `onEvent` merges it (a value adds to a list)
   */
  public onExpiring(id: string, options: OnExpiringOptions): events.Rule {
    const leadSeconds = this.named(() => {
      const { rotation, expiresAfter } = this.props;
      if (rotation !== undefined) {
        throw new Error(`onExpiring('${id}') has nothing to watch on a rotated credential: each rotation issues a new key before `
          + 'the expiry. A rotation that fails fires onRotationFailed: watch that instead');
      }
      if (expiresAfter === undefined) {
        throw new Error(`onExpiring('${id}') needs expiresAfter: this ${this.props.service.serviceName} credential never expires. `
          + 'Set expiresAfter (API keys only), e.g. Duration.days(90)');
      }
      return leadSecondsOf(options?.before, expiresAfter);
    });
    Annotations.of(this).acknowledgeWarning(EXPIRES_WITHOUT_ROTATION, 'an expiry alert tells ahead of the expiry');
    return onEventRule(this, id, options, (rule) => scheduleExpiryAlert(rule, {
      construct: this,
      serviceName: this.props.service.serviceName,
      serviceSpecificCredentialId: this.serviceSpecificCredentialId,
      secretArn: this.secretArn,
      expirationDate: this.expirationDate,
      provider: CredentialProvider.of(this),
    }, leadSeconds));
  }

  /**
   * Runs a check, naming the construct in its error: in an app of many credentials, the value alone does not say
   * which. The check's own error stays the cause.
   */
  private named<T>(check: () => T): T {
    try {
      return check();
    } catch (err) {
      throw new Error(`${this.node.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * The custom resource: the CfnResource that aws-cdk's `CustomResource` would make, where it would make it, so that the
 * template and the logical id are the same. The construct uses nothing else of `CustomResource`, and at hundreds of
 * credentials every construct costs synth time.
 */
function customResource(credential: Construct, serviceToken: string, properties: CredentialResourceProperties): CfnResource {
  const resource = new CfnResource(new Construct(credential, 'Resource'), 'Default', {
    type: RESOURCE_TYPE,
    properties: { ServiceToken: serviceToken, ...properties },
  });
  resource.applyRemovalPolicy(RemovalPolicy.DESTROY);
  return resource;
}

/**
 * The secret the handler writes the credential into: the CfnSecret (and the KMS grants) that aws-cdk's `Secret` would
 * make, where it would make it, so that the template is the same. Not the `Secret` itself: readers use the credential's
 * `secret`, whose ARN comes from the custom resource, and a second `Secret` per credential costs synth time (about 0.3
 * of the baseline's at 240 credentials).
 */
function secretResource(credential: Construct, props: ServiceSpecificCredentialProps, strategy?: RotationStrategy): secretsmanager.CfnSecret {
  const secret = new secretsmanager.CfnSecret(new Construct(credential, 'Secret'), 'Resource', {
    description: `${props.service.serviceName} credential of ${credential.node.path}`,
    name: props.secretName,
    kmsKeyId: props.encryptionKey?.keyArn,
    generateSecretString: {},
    replicaRegions: replicaRegionsProperty(props.replicaRegions),
  });
  secret.applyRemovalPolicy(RemovalPolicy.DESTROY);
  if (props.encryptionKey) {
    // As `Secret` grants: Secrets Manager may use the key for the account's callers.
    const stack = Stack.of(credential);
    const principal = new kms.ViaServicePrincipal(`secretsmanager.${stack.region}.amazonaws.com`, new iam.AccountPrincipal(stack.account));
    props.encryptionKey.grantEncryptDecrypt(principal);
    props.encryptionKey.grant(principal, 'kms:CreateGrant', 'kms:DescribeKey');
  }
  if (strategy) {
    // A rotation has no resource properties: the secret tells it the strategy, and the status of a key it issues in
    // place of an expired one.
    secret.tags.setTag(ROTATION_TAG, strategy);
    secret.tags.setTag(STATUS_TAG, props.status ?? CredentialStatus.ACTIVE);
  } else {
    suppress(secret, {
      id: 'AwsSolutions-SMG4',
      reason: 'IAM issues the value, without a rotation schedule: it changes when resetSerial changes (IAM ResetServiceSpecificCredential).',
    });
  }
  return secret;
}
