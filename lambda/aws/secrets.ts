import {
  DescribeSecretCommand, DescribeSecretCommandOutput, GetSecretValueCommand, GetSecretValueCommandOutput, PutSecretValueCommand,
  PutSecretValueCommandOutput, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { Pace } from './pace';
import { Budget, isAccessDenied, isTransient, withRetry } from './retry';
import { AlreadyWritten, errorCode } from '../logic/errors';

const passing = (err: unknown) => isTransient(err) || isAccessDenied(err);

/** One version of a secret: its document (which holds the secret value), id and creation time (ms). */
export interface StoredVersion {
  readonly document?: string;
  readonly versionId?: string;
  readonly created: number;
}

/** What DescribeSecret shows of a secret: never a value. */
export interface SecretDescription {
  readonly tags: Record<string, string>;
  /** Staging labels by version id. */
  readonly stages: Record<string, string[]>;
  readonly rotationEnabled: boolean;
}

export class Secrets {
  private readonly pace = new Pace();

  constructor(private readonly client: SecretsManagerClient) {}

  /**
   * Writes a new version and makes it AWSCURRENT.
   * @param token the version id; a CREATE uses its request id so that a repeated delivery is detected, not duplicated
   * @param stages the labels instead of AWSCURRENT: a rotation stages its new value AWSPENDING until it is tested
   */
  public async put(budget: Budget, secretArn: string, document: string, token?: string, stages?: string[]): Promise<string> {
    try {
      const out = await this.call<PutSecretValueCommandOutput>(budget, 'PutSecretValue', new PutSecretValueCommand({
        SecretId: secretArn, SecretString: document, ClientRequestToken: token, VersionStages: stages,
      }));
      return out.VersionId!;
    } catch (err) {
      if (token && errorCode(err) === 'ResourceExists') throw new AlreadyWritten(`secret version ${token} already exists`);
      throw err;
    }
  }

  /** The version stored under a version id or stage, or undefined when there is no such version. */
  public async read(
    budget: Budget, secretArn: string, version: { VersionId: string } | { VersionStage: string },
  ): Promise<StoredVersion | undefined> {
    try {
      const out = await this.call<GetSecretValueCommandOutput>(budget, 'GetSecretValue', new GetSecretValueCommand({ SecretId: secretArn, ...version }));
      return { document: out.SecretString, versionId: out.VersionId, created: out.CreatedDate?.getTime() ?? 0 };
    } catch (err) {
      if (errorCode(err) === 'ResourceNotFound') return undefined;
      throw err;
    }
  }

  /** Tags, staging labels and rotation state; undefined when there is no such secret or it is scheduled for deletion. */
  public async describe(budget: Budget, secretArn: string): Promise<SecretDescription | undefined> {
    try {
      const out = await this.call<DescribeSecretCommandOutput>(budget, 'DescribeSecret', new DescribeSecretCommand({ SecretId: secretArn }));
      if (out.DeletedDate) return undefined;
      return {
        tags: Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
        stages: out.VersionIdsToStages ?? {},
        rotationEnabled: out.RotationEnabled === true,
      };
    } catch (err) {
      if (errorCode(err) === 'ResourceNotFound') return undefined;
      throw err;
    }
  }

  /**
   * Moves a staging label to `to`, or takes it off `from` when `to` is undefined. Moving AWSCURRENT makes Secrets Manager
   * move AWSPREVIOUS to the version it leaves. A label that is on a version must be named with it (`from`).
   */
  public async moveLabel(budget: Budget, secretArn: string, label: string, to: string | undefined, from: string | undefined): Promise<void> {
    await this.call(budget, 'UpdateSecretVersionStage', new UpdateSecretVersionStageCommand({
      SecretId: secretArn, VersionStage: label, MoveToVersionId: to, RemoveFromVersionId: from,
    }));
  }

  /** One attempt after another within the budget, each at this environment's pace. */
  private call<O>(budget: Budget, action: string, command: { readonly input: object }): Promise<O> {
    return withRetry(budget, `secretsmanager:${action}`, passing, async (abortSignal) =>
      await this.client.send(command as never, { abortSignal }) as O, this.pace);
  }
}
