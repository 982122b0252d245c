import {
  CreateServiceSpecificCredentialCommand,
  DeleteServiceSpecificCredentialCommand,
  IAMClient,
  ListServiceSpecificCredentialsCommand,
  ResetServiceSpecificCredentialCommand,
  ServiceSpecificCredential,
  ServiceSpecificCredentialMetadata,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { Budget, errorCode, isAccessDenied, isTransient, withRetry } from './retry';

// Every call passes UserName: without it IAM acts on the caller's own user, i.e. this Lambda's role session.

/** An error whose message tells the user what to do; it is answered to CloudFormation as it is. */
export class UserError extends Error {}

/** The user already has IAM's maximum of 2 credentials for the service. */
export class LimitReached extends UserError {}

const USER_NOT_FOUND = /user with name .* cannot be found/i;
const CREDENTIAL_NOT_FOUND = /service specific credential .* cannot be found/i;

/** IAM answers NoSuchEntity both for an unknown user and (on real AWS) for an unsupported service. */
function isUserNotFound(err: unknown): boolean {
  return errorCode(err) === 'NoSuchEntity' && USER_NOT_FOUND.test((err as Error).message);
}

export function isCredentialNotFound(err: unknown): boolean {
  return errorCode(err) === 'NoSuchEntity' && CREDENTIAL_NOT_FOUND.test((err as Error).message);
}

/** IAM is eventually consistent: a user or policy made moments ago in the same stack may not be visible yet. */
const settling = (err: unknown) => isTransient(err) || isAccessDenied(err) || isUserNotFound(err);

export class Iam {
  constructor(private readonly client: IAMClient) {}

  public async create(budget: Budget, userName: string, serviceName: string, ageDays?: number): Promise<ServiceSpecificCredential> {
    try {
      const out = await withRetry(budget, settling, (abortSignal) => this.client.send(new CreateServiceSpecificCredentialCommand({
        UserName: userName,
        ServiceName: serviceName,
        CredentialAgeDays: ageDays,
      }), { abortSignal }));
      return out.ServiceSpecificCredential!;
    } catch (err) {
      const code = errorCode(err);
      if (code === 'LimitExceeded') {
        const ids = (await this.list(budget, userName, serviceName)).map((c) => c.ServiceSpecificCredentialId);
        throw new LimitReached(`IAM user '${userName}' already has the maximum of 2 credentials for ${serviceName} `
          + `(${ids.join(', ')}): delete one of them, or remove a ServiceSpecificCredential for this user and service`);
      }
      if (code === 'ServiceNotSupported' || code === 'NotSupportedService' || (code === 'NoSuchEntity' && !isUserNotFound(err))) {
        throw new UserError(`IAM does not support service-specific credentials for '${serviceName}' (user '${userName}'): ${(err as Error).message}`);
      }
      if (isUserNotFound(err)) {
        throw new UserError(`IAM user '${userName}' does not exist (still not visible after retrying until the time budget ran out)`);
      }
      throw err;
    }
  }

  public async reset(budget: Budget, userName: string, id: string): Promise<ServiceSpecificCredential> {
    const out = await withRetry(budget, (e) => isTransient(e) || isAccessDenied(e), (abortSignal) =>
      this.client.send(new ResetServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id }), { abortSignal }));
    return out.ServiceSpecificCredential!;
  }

  /** @param justCreated right after Create the new id may not be visible yet, so NoSuchEntity is retried too */
  public async setStatus(
    budget: Budget, userName: string, id: string, status: 'Active' | 'Inactive', justCreated = false,
  ): Promise<void> {
    const retryable = (e: unknown) => isTransient(e) || isAccessDenied(e) || (justCreated && isCredentialNotFound(e));
    await withRetry(budget, retryable, (abortSignal) =>
      this.client.send(new UpdateServiceSpecificCredentialCommand({
        UserName: userName, ServiceSpecificCredentialId: id, Status: status,
      }), { abortSignal }));
  }

  /** Deletes the credential; one that is already gone (or whose user is) counts as deleted. */
  public async delete(budget: Budget, userName: string, id: string): Promise<void> {
    try {
      await withRetry(budget, (e) => isTransient(e) || isAccessDenied(e), (abortSignal) =>
        this.client.send(new DeleteServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id }), { abortSignal }));
    } catch (err) {
      if (errorCode(err) !== 'NoSuchEntity') throw err;
    }
  }

  /**
   * The user's credentials for a service, metadata only (List never returns secrets). No SDK paginator exists.
   * @param waitForUser whether an unknown user may be one IAM does not show yet; if not, it has no credentials
   */
  public async list(budget: Budget, userName: string, serviceName: string, waitForUser = true): Promise<ServiceSpecificCredentialMetadata[]> {
    const all: ServiceSpecificCredentialMetadata[] = [];
    let marker: string | undefined;
    do {
      const retryable = waitForUser ? settling : (e: unknown) => isTransient(e) || isAccessDenied(e);
      const page = await withRetry(budget, retryable, (abortSignal) => this.client.send(new ListServiceSpecificCredentialsCommand({
        UserName: userName, ServiceName: serviceName, Marker: marker,
      }), { abortSignal }));
      all.push(...page.ServiceSpecificCredentials ?? []);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return all;
  }

  /** Whether the credential still exists; one whose user is gone does not. */
  public async exists(budget: Budget, userName: string, serviceName: string, id: string): Promise<boolean> {
    try {
      return (await this.list(budget, userName, serviceName, false)).some((c) => c.ServiceSpecificCredentialId === id);
    } catch (err) {
      if (isUserNotFound(err)) return false;
      throw err;
    }
  }
}
