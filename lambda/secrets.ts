import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Budget, errorCode, isAccessDenied, isTransient, withRetry } from './retry';

/** The secret already has a different value under this request's token: an earlier delivery of the same event wrote it. */
export class AlreadyWritten extends Error {}

export class Secrets {
  constructor(private readonly client: SecretsManagerClient) {}

  /**
   * Writes a new version and makes it AWSCURRENT.
   * @param token the version id; a CREATE uses its request id so that a repeated delivery is detected, not duplicated
   */
  public async put(budget: Budget, secretArn: string, document: string, token?: string): Promise<void> {
    try {
      await withRetry(budget, (e) => isTransient(e) || isAccessDenied(e), (abortSignal) =>
        this.client.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: document, ClientRequestToken: token }), { abortSignal }));
    } catch (err) {
      if (token && errorCode(err) === 'ResourceExists') throw new AlreadyWritten(`secret version ${token} already exists`);
      throw err;
    }
  }

  /** The document stored under a version id or stage, or undefined when there is no such version. */
  public async read(budget: Budget, secretArn: string, version: { VersionId: string } | { VersionStage: string }): Promise<string | undefined> {
    try {
      const out = await withRetry(budget, (e) => isTransient(e) || isAccessDenied(e), (abortSignal) =>
        this.client.send(new GetSecretValueCommand({ SecretId: secretArn, ...version }), { abortSignal }));
      return out.SecretString;
    } catch (err) {
      if (errorCode(err) === 'ResourceNotFound') return undefined;
      throw err;
    }
  }
}
