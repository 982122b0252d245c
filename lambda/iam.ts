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
import { Pace } from './pace';
import { Budget, errorCode, isAccessDenied, isTransient, withRetry } from './retry';

// Every call passes UserName: without it IAM acts on the caller's own user, i.e. this Lambda's role session.

/** An error whose message tells the user what to do; it is answered to CloudFormation as it is. */
export class UserError extends Error {}

/** The user already has IAM's maximum of 2 credentials for the service. */
export class LimitReached extends UserError {}

/** Real IAM's wording for an unknown user (recorded against AWS). */
const USER_NOT_FOUND = /user with name .* cannot be found/i;

/** IAM answers NoSuchEntity both for an unknown user and (on real AWS) for an unsupported service. */
function isUserNotFound(err: unknown): boolean {
  return errorCode(err) === 'NoSuchEntity' && USER_NOT_FOUND.test((err as Error).message);
}

/**
 * IAM answers NoSuchEntity for an unknown credential id, an unknown user, or a credential of another user, in
 * wordings that are not documented. What it means is decided by a call (`find`), never by the wording.
 */
export const isNoSuchEntity = (err: unknown) => errorCode(err) === 'NoSuchEntity';

/** IAM is eventually consistent: a user or policy made moments ago in the same stack may not be visible yet. */
const settling = (err: unknown) => isTransient(err) || isAccessDenied(err) || isUserNotFound(err);
const passing = (err: unknown) => isTransient(err) || isAccessDenied(err);

export class Iam {
  /** IAM's rate is the account's: this environment's share of it, learnt from throttling. */
  private readonly pace = new Pace();

  constructor(private readonly client: IAMClient) {}

  /** @param waitForUser whether an unknown user may be one made in this deployment that IAM does not show yet */
  public async create(
    budget: Budget, userName: string, serviceName: string, ageDays?: number, waitForUser = true,
  ): Promise<ServiceSpecificCredential> {
    try {
      const out = await withRetry(budget, 'iam:CreateServiceSpecificCredential', waitForUser ? settling : passing, (abortSignal) => this.client.send(
        new CreateServiceSpecificCredentialCommand({ UserName: userName, ServiceName: serviceName, CredentialAgeDays: ageDays }),
        { abortSignal }), this.pace);
      return out.ServiceSpecificCredential!;
    } catch (err) {
      const code = errorCode(err);
      if (code === 'LimitExceeded') {
        const ids = (await this.list(budget, userName, serviceName)).map((c) => c.ServiceSpecificCredentialId);
        throw new LimitReached(`IAM user '${userName}' already has the maximum of 2 credentials for ${serviceName} `
          + `(${ids.join(', ')}): delete one of them, or remove a ServiceSpecificCredential for this user and service. `
          + 'A replacement (a new user, service or expiresAfter) needs a free slot: the new credential is created before the old one is deleted');
      }
      if (code === 'ServiceNotSupported' || code === 'NotSupportedService' || (code === 'NoSuchEntity' && !isUserNotFound(err))) {
        throw new UserError(`IAM does not support service-specific credentials for '${serviceName}' (user '${userName}'): ${(err as Error).message}`);
      }
      if (isUserNotFound(err) && !waitForUser) {
        throw new UserError(`IAM user '${userName}' does not exist. The stack imports it (iam.User.fromUserName or fromUserArn), so it `
          + 'must exist before the deployment: check its name, and for a user with a path, use fromUserArn with the full ARN');
      }
      if (isUserNotFound(err)) {
        throw new UserError(`IAM user '${userName}' does not exist (still not visible after retrying until the time budget ran out)`);
      }
      throw err;
    }
  }

  public async reset(budget: Budget, userName: string, id: string): Promise<ServiceSpecificCredential> {
    const out = await withRetry(budget, 'iam:ResetServiceSpecificCredential', passing, (abortSignal) =>
      this.client.send(new ResetServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id }), { abortSignal }),
    this.pace);
    return out.ServiceSpecificCredential!;
  }

  /** @param justCreated right after Create the new id may not be visible yet, so NoSuchEntity is retried too */
  public async setStatus(
    budget: Budget, userName: string, id: string, status: 'Active' | 'Inactive', justCreated = false,
  ): Promise<void> {
    const retryable = (e: unknown) => passing(e) || (justCreated && isNoSuchEntity(e));
    await withRetry(budget, 'iam:UpdateServiceSpecificCredential', retryable, (abortSignal) =>
      this.client.send(new UpdateServiceSpecificCredentialCommand({
        UserName: userName, ServiceSpecificCredentialId: id, Status: status,
      }), { abortSignal }), this.pace);
  }

  /** Deletes the credential; one that is already gone (or whose user is) counts as deleted. */
  public async delete(budget: Budget, userName: string, id: string): Promise<void> {
    try {
      await withRetry(budget, 'iam:DeleteServiceSpecificCredential', passing, (abortSignal) =>
        this.client.send(new DeleteServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id }), { abortSignal }),
      this.pace);
    } catch (err) {
      if (!isNoSuchEntity(err)) throw err;
    }
  }

  /**
   * The user's credentials for a service, metadata only (List never returns secrets). No SDK paginator exists.
   * @param waitForUser whether an unknown user may be one IAM does not show yet; if not, it has no credentials
   */
  public async list(
    budget: Budget, userName: string, serviceName: string, waitForUser = true,
  ): Promise<ServiceSpecificCredentialMetadata[]> {
    const all: ServiceSpecificCredentialMetadata[] = [];
    let marker: string | undefined;
    do {
      const input = { UserName: userName, ServiceName: serviceName, Marker: marker };
      const page = await withRetry(budget, 'iam:ListServiceSpecificCredentials', waitForUser ? settling : passing, (abortSignal) =>
        this.client.send(new ListServiceSpecificCredentialsCommand(input), { abortSignal }), this.pace);
      all.push(...page.ServiceSpecificCredentials ?? []);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return all;
  }

  /**
   * The credential, if it exists: the call that tells a credential deleted out of band from any other NoSuchEntity.
   * @param waitForUser see `list`; without it, a user that is gone has no credential
   */
  public async find(
    budget: Budget, userName: string, serviceName: string, id: string, waitForUser = true,
  ): Promise<ServiceSpecificCredentialMetadata | undefined> {
    try {
      return (await this.list(budget, userName, serviceName, waitForUser)).find((c) => c.ServiceSpecificCredentialId === id);
    } catch (err) {
      if (!waitForUser && isUserNotFound(err)) return undefined;
      throw err;
    }
  }
}
