import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Budget, errorCode, isAccessDenied, isTransient, withRetry } from './retry';

/** The secret already has a different value under this request's token: an earlier delivery of the same event wrote it. */
export class AlreadyWritten extends Error {}

const passing = (err: unknown) => isTransient(err) || isAccessDenied(err);

/** One version of a secret: its document (which holds the secret value), id and creation time (ms). */
export interface StoredVersion {
  readonly document?: string;
  readonly versionId?: string;
  readonly created: number;
}

export class Secrets {
  constructor(private readonly client: SecretsManagerClient) {}

  /**
   * Writes a new version and makes it AWSCURRENT.
   * @param token the version id; a CREATE uses its request id so that a repeated delivery is detected, not duplicated
   */
  public async put(budget: Budget, secretArn: string, document: string, token?: string): Promise<void> {
    try {
      await withRetry(budget, 'secretsmanager:PutSecretValue', passing, (abortSignal) =>
        this.client.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: document, ClientRequestToken: token }), { abortSignal }));
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
      const out = await withRetry(budget, 'secretsmanager:GetSecretValue', passing, (abortSignal) =>
        this.client.send(new GetSecretValueCommand({ SecretId: secretArn, ...version }), { abortSignal }));
      return { document: out.SecretString, versionId: out.VersionId, created: out.CreatedDate?.getTime() ?? 0 };
    } catch (err) {
      if (errorCode(err) === 'ResourceNotFound') return undefined;
      throw err;
    }
  }

  /** The secret's tags, or undefined when there is no such secret or it is scheduled for deletion. */
  public async tags(budget: Budget, secretArn: string): Promise<Record<string, string> | undefined> {
    try {
      const out = await withRetry(budget, 'secretsmanager:DescribeSecret', passing, (abortSignal) =>
        this.client.send(new DescribeSecretCommand({ SecretId: secretArn }), { abortSignal }));
      if (out.DeletedDate) return undefined;
      return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    } catch (err) {
      if (errorCode(err) === 'ResourceNotFound') return undefined;
      throw err;
    }
  }
}
