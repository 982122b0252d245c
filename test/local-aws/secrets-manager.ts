import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './errors';

// Secrets with versions, AWSCURRENT/AWSPREVIOUS staging and ClientRequestToken idempotency.

export interface StoredSecret {
  arn: string;
  name: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  deleted: boolean;
  /** Set by a RotationSchedule (the CloudFormation driver sets it when the template has one). */
  rotationEnabled?: boolean;
  /** A version without a value is the empty one a rotation labels AWSPENDING before calling createSecret. */
  versions: Array<{ id: string; secretString?: string; stages: string[]; created: Date }>;
}

/** What the version of a rotation configuration test holds: see `startConfigurationTest`. */
export type ConfigurationTestForm = 'copy' | 'empty' | 'none';

const notFound = () => new AwsError('ResourceNotFoundException', 400, "Secrets Manager can't find the specified secret.");

export class SecretsManager {
  public readonly secrets: StoredSecret[] = [];

  constructor(private readonly accountId: string) {}

  public handle(operation: string, input: Record<string, any>): object {
    switch (operation) {
      case 'CreateSecret': {
        const secret = this.create(input.Name, input.KmsKeyId, userTags(input.Tags));
        if (input.SecretString !== undefined) this.put(secret, input.SecretString, input.ClientRequestToken);
        return { ARN: secret.arn, Name: secret.name, VersionId: secret.versions[0]?.id };
      }
      case 'PutSecretValue': {
        const secret = this.live(input.SecretId);
        const version = this.put(secret, input.SecretString, input.ClientRequestToken, input.VersionStages);
        return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: version.stages };
      }
      case 'GetSecretValue': {
        const secret = this.live(input.SecretId);
        const version = input.VersionId
          ? secret.versions.find((v) => v.id === input.VersionId)
          : secret.versions.find((v) => v.stages.includes(input.VersionStage ?? 'AWSCURRENT'));
        if (!version?.secretString) {
          throw new AwsError('ResourceNotFoundException', 400, input.VersionId
            ? `Secrets Manager can't find the specified secret value for VersionId: ${input.VersionId}`
            : `Secrets Manager can't find the specified secret value for staging label: ${input.VersionStage ?? 'AWSCURRENT'}`);
        }
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: version.id,
          SecretString: version.secretString,
          VersionStages: version.stages,
          CreatedDate: version.created.getTime() / 1000,
        };
      }
      case 'DescribeSecret': {
        const secret = this.find(input.SecretId);
        return {
          ARN: secret.arn,
          Name: secret.name,
          KmsKeyId: secret.kmsKeyId,
          Tags: secret.tags.length ? secret.tags : undefined,
          DeletedDate: secret.deleted ? Date.now() / 1000 : undefined,
          RotationEnabled: secret.rotationEnabled,
          VersionIdsToStages: Object.fromEntries(secret.versions.filter((v) => v.stages.length).map((v) => [v.id, v.stages])),
        };
      }
      case 'ListSecretVersionIds': {
        const secret = this.live(input.SecretId);
        // A version without labels is deprecated: listed only when asked for.
        const versions = secret.versions.filter((v) => input.IncludeDeprecated || v.stages.length);
        return { ARN: secret.arn, Name: secret.name, Versions: versions.map((v) => ({ VersionId: v.id, VersionStages: v.stages })) };
      }
      case 'UpdateSecretVersionStage': {
        const secret = this.live(input.SecretId);
        const version = (id: string | undefined) => {
          const found = secret.versions.find((v) => v.id === id);
          if (!found) throw new AwsError('InvalidParameterException', 400, `Not a valid version: ${id}`);
          return found;
        };
        const holder = secret.versions.find((v) => v.stages.includes(input.VersionStage));
        if (holder && holder.id !== input.RemoveFromVersionId && input.MoveToVersionId) {
          // AWS: a label moves only when the caller names the version it leaves (API reference, RemoveFromVersionId; for
          // every label, where LocalStack enforces it for AWSCURRENT only).
          throw new AwsError('InvalidParameterException', 400, 'The parameter RemoveFromVersionId can\'t be empty. Staging label '
            + `${input.VersionStage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`);
        }
        if (input.RemoveFromVersionId) version(input.RemoveFromVersionId);
        if (input.MoveToVersionId) this.label(secret, version(input.MoveToVersionId), [input.VersionStage]);
        // As LocalStack: taking a label off a version that does not carry it changes nothing.
        else if (holder && holder.id === input.RemoveFromVersionId) holder.stages = holder.stages.filter((l) => l !== input.VersionStage);
        return { ARN: secret.arn, Name: secret.name };
      }
      case 'TagResource': {
        const secret = this.live(input.SecretId);
        for (const tag of userTags(input.Tags)) {
          secret.tags = [...secret.tags.filter((t) => t.Key !== tag.Key), tag];
        }
        return {};
      }
      case 'DeleteSecret': {
        const secret = this.find(input.SecretId);
        if (input.ForceDeleteWithoutRecovery) this.secrets.splice(this.secrets.indexOf(secret), 1);
        else secret.deleted = true;
        return { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 };
      }
      default: throw new AwsError('InvalidAction', 400, `Unknown operation ${operation}`);
    }
  }

  /** @param tags may carry the `aws:` tags that only AWS itself (CloudFormation) can set */
  public create(name: string, kmsKeyId?: string, tags: StoredSecret['tags'] = []): StoredSecret {
    if (this.secrets.some((s) => s.name === name)) throw new AwsError('ResourceExistsException', 400, `The operation failed because the secret ${name} already exists.`);
    const suffix = randomBytes(6).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 6);
    const secret: StoredSecret = { arn: `arn:aws:secretsmanager:us-east-1:${this.accountId}:secret:${name}-${suffix}`, name, kmsKeyId, tags, deleted: false, versions: [] };
    this.secrets.push(secret);
    return secret;
  }

  public find(id: string): StoredSecret {
    const secret = this.secrets.find((s) => s.arn === id || s.name === id);
    if (!secret) throw notFound();
    return secret;
  }

  private live(id: string): StoredSecret {
    const secret = this.find(id);
    if (secret.deleted) throw new AwsError('InvalidRequestException', 400, "You can't perform this operation on the secret because it was marked for deletion.");
    return secret;
  }

  /**
   * Starts a rotation as RotateSecret does: an empty version under the token, labelled AWSPENDING. Refused while
   * another version holds AWSPENDING without AWSCURRENT (LocalStack's wording).
   */
  public startRotation(secretId: string, token: string): void {
    const secret = this.live(secretId);
    if (secret.versions.some((v) => v.id === token && v.stages.includes('AWSPENDING'))) return;
    this.refuseWhileRotating(secret);
    if (secret.versions.some((v) => v.id === token)) throw new Error(`test misuse: version ${token} exists and is not AWSPENDING`);
    const version = { id: token, stages: [] as string[], created: new Date() };
    secret.versions.push(version);
    this.label(secret, version, ['AWSPENDING']);
  }

  /**
   * What RotateSecret does with `RotateImmediately: false` (CloudFormation's `RotateImmediatelyOnUpdate: false`): it
   * "tests the rotation configuration by running the testSecret step of the Lambda rotation function. The test creates
   * an AWSPENDING version of the secret and then removes it" (RotateSecret, API reference). What that version holds is
   * not documented: `copy`, AWSCURRENT's value (what a rotation template's testSecret can log in with), or `empty`.
   * `none` labels no version at all, as some emulators do. Refused, as RotateSecret is, while a rotation is in progress.
   */
  public startConfigurationTest(secretId: string, token: string, form: ConfigurationTestForm): void {
    const secret = this.live(secretId);
    this.refuseWhileRotating(secret);
    if (form === 'none') return;
    const current = secret.versions.find((v) => v.stages.includes('AWSCURRENT'));
    const version = { id: token, stages: [] as string[], created: new Date(), secretString: form === 'copy' ? current?.secretString : undefined };
    secret.versions.push(version);
    this.label(secret, version, ['AWSPENDING']);
  }

  /** The version a rotation in progress labelled AWSPENDING (not the current one). */
  private rotationInProgress(secret: StoredSecret): StoredSecret['versions'][number] | undefined {
    return secret.versions.find((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'));
  }

  /** RotateSecret's refusal while another rotation is in progress (LocalStack's wording). */
  private refuseWhileRotating(secret: StoredSecret): void {
    if (this.rotationInProgress(secret)) throw new AwsError('InvalidRequestException', 400, 'Previous rotation request is still in progress.');
  }

  /** The end of the configuration test, however testSecret answered: the version it created is removed. */
  public endConfigurationTest(secretId: string, token: string): void {
    const secret = this.find(secretId);
    const at = secret.versions.findIndex((v) => v.id === token);
    if (at >= 0) secret.versions.splice(at, 1);
  }

  private put(secret: StoredSecret, value: string, token: string = randomUUID(), stages: string[] = ['AWSCURRENT']) {
    const same = secret.versions.find((v) => v.id === token);
    if (same?.secretString !== undefined) {
      // Idempotent for the same value; a token names one version forever.
      if (same.secretString === value) return same;
      throw new AwsError('ResourceExistsException', 400,
        `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${secret.arn}`);
    }
    // A rotation's empty AWSPENDING version gets its value.
    const version = same ?? { id: token, stages: [] as string[], created: new Date() };
    version.secretString = value;
    if (!same) secret.versions.push(version);
    this.label(secret, version, stages);
    return version;
  }

  /** Attaches labels, taking each from the version that had it; the version AWSCURRENT leaves becomes AWSPREVIOUS. */
  private label(secret: StoredSecret, version: StoredSecret['versions'][number], labels: string[]): void {
    for (const label of labels) {
      const holder = secret.versions.find((v) => v !== version && v.stages.includes(label));
      if (holder) holder.stages = holder.stages.filter((l) => l !== label);
      if (label === 'AWSCURRENT' && holder) this.label(secret, holder, ['AWSPREVIOUS']);
      if (!version.stages.includes(label)) version.stages.push(label);
    }
  }
}

/**
 * Tags as a caller may set them. The `aws:` prefix is reserved for AWS ("You can't edit or delete tag names or values
 * with this prefix", Secrets Manager user guide); the message here is not a recorded one.
 */
function userTags(tags: Array<{ Key: string; Value: string }> = []): Array<{ Key: string; Value: string }> {
  const reserved = tags.find((t) => t.Key.toLowerCase().startsWith('aws:'));
  if (reserved) throw new AwsError('ValidationException', 400, `Tag keys beginning with 'aws:' are reserved for AWS use: ${reserved.Key}`);
  return tags.map(({ Key, Value }) => ({ Key, Value }));
}
