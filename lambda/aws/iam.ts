import {
  CreateServiceSpecificCredentialCommand,
  CreateServiceSpecificCredentialCommandOutput,
  DeleteServiceSpecificCredentialCommand,
  IAMClient,
  ListServiceSpecificCredentialsCommand,
  ListServiceSpecificCredentialsCommandOutput,
  ResetServiceSpecificCredentialCommand,
  ResetServiceSpecificCredentialCommandOutput,
  ServiceSpecificCredential,
  ServiceSpecificCredentialMetadata,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { Pace } from './pace';
import { Budget, Retry, isAccessDenied, isTransient, withRetry } from './retry';
import { CreateDenied, ExplicitlyDenied, LimitReached, UnknownUser, UnsupportedService, errorCode } from '../logic/errors';

// Every call passes UserName: without it IAM acts on the caller's own user, i.e. this Lambda's role session.
//
// IAM answers NoSuchEntity for an unknown user, an unsupported service, an unknown credential id and another user's
// credential alike, in wordings it does not document. What one means is decided by a call, never by the wording:
// Create's and List's by `whatIsMissing` below, Reset's, Update's and Delete's by `find` in the callers.

export const isNoSuchEntity = (err: unknown) => errorCode(err) === 'NoSuchEntity';

const passing = (err: unknown) => isTransient(err) || isAccessDenied(err);
/**
 * IAM is eventually consistent: a user made moments ago in the same stack may not be visible yet, to every call alike
 * (UnknownUser) or, for a while, to Create only, which then looks like a service IAM does not support.
 */
const settling = (err: unknown): Retry => passing(err) || err instanceof UnknownUser || (err instanceof UnsupportedService && 'briefly');
/** List has nothing to wait for in a service IAM does not know: it holds no credentials. */
const seeing = (err: unknown): Retry => passing(err) || err instanceof UnknownUser;

export class Iam {
  /** IAM's rate is the account's: this environment's share of it, learnt from throttling. */
  private readonly pace = new Pace();

  constructor(private readonly client: IAMClient) {}

  /** @param waitForUser whether an unknown user may be one made in this deployment that IAM does not show yet */
  public async create(
    budget: Budget, userName: string, serviceName: string, ageDays?: number, waitForUser = true,
  ): Promise<ServiceSpecificCredential> {
    try {
      const command = new CreateServiceSpecificCredentialCommand({ UserName: userName, ServiceName: serviceName, CredentialAgeDays: ageDays });
      const out = await this.call<CreateServiceSpecificCredentialCommandOutput>(budget, 'CreateServiceSpecificCredential', waitForUser ? settling : passing, command);
      return out.ServiceSpecificCredential!;
    } catch (err) {
      const code = errorCode(err);
      if (code === 'LimitExceeded') {
        const ids = (await this.list(budget, userName, serviceName)).map((c) => c.ServiceSpecificCredentialId);
        throw new LimitReached(`IAM user '${userName}' already has the maximum of 2 credentials for ${serviceName} `
          + `(${ids.join(', ')}): delete one of them, or remove a ServiceSpecificCredential for this user and service. `
          + 'A replacement (a new user, service or expiresAfter) needs a free slot: the new credential is created before the old one is deleted', { cause: err });
      }
      if (notSupported(err)) throw unsupported(userName, serviceName, err);
      if (err instanceof ExplicitlyDenied) throw createDenied(userName, serviceName, ageDays, err);
      if (err instanceof UnknownUser && !waitForUser) {
        throw new UnknownUser(`IAM user '${userName}' does not exist. The stack imports it (iam.User.fromUserName or fromUserArn), so it `
          + 'must exist before the deployment: check its name, and for a user with a path, use fromUserArn with the full ARN', { cause: err });
      }
      throw err;
    }
  }

  public async reset(budget: Budget, userName: string, id: string): Promise<ServiceSpecificCredential> {
    const command = new ResetServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id });
    return (await this.call<ResetServiceSpecificCredentialCommandOutput>(budget, 'ResetServiceSpecificCredential', passing, command)).ServiceSpecificCredential!;
  }

  /** @param justCreated right after Create the new id may not be visible yet, so NoSuchEntity is retried too */
  public async setStatus(
    budget: Budget, userName: string, id: string, status: 'Active' | 'Inactive', justCreated = false,
  ): Promise<void> {
    const retryable = (e: unknown) => passing(e) || (justCreated && isNoSuchEntity(e));
    await this.call(budget, 'UpdateServiceSpecificCredential', retryable, new UpdateServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id, Status: status }));
  }

  /** Deletes the credential; one that is already gone (or whose user is) counts as deleted. */
  public async delete(budget: Budget, userName: string, id: string): Promise<void> {
    try {
      await this.call(budget, 'DeleteServiceSpecificCredential', passing, new DeleteServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id }));
    } catch (err) {
      if (!isNoSuchEntity(err)) throw err;
    }
  }

  /**
   * The user's credentials for a service, metadata only (List never returns secrets); none when the user does not exist
   * or IAM does not know the service. No SDK paginator exists.
   * @param waitForUser whether an unknown user may be one IAM does not show yet, and is waited for
   */
  public async list(
    budget: Budget, userName: string, serviceName: string, waitForUser = true,
  ): Promise<ServiceSpecificCredentialMetadata[]> {
    const all: ServiceSpecificCredentialMetadata[] = [];
    let marker: string | undefined;
    do {
      const command = new ListServiceSpecificCredentialsCommand({ UserName: userName, ServiceName: serviceName, Marker: marker });
      let page: ListServiceSpecificCredentialsCommandOutput;
      try {
        page = await this.call(budget, 'ListServiceSpecificCredentials', waitForUser ? seeing : passing, command);
      } catch (err) {
        if (err instanceof UnknownUser || err instanceof UnsupportedService || notSupported(err)) return [];
        throw err;
      }
      all.push(...page.ServiceSpecificCredentials ?? []);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return all;
  }

  /**
   * The credential, if it exists: the call that tells a credential deleted out of band from any other NoSuchEntity.
   * @param waitForUser see `list`
   */
  public async find(
    budget: Budget, userName: string, serviceName: string, id: string, waitForUser = true,
  ): Promise<ServiceSpecificCredentialMetadata | undefined> {
    return (await this.list(budget, userName, serviceName, waitForUser)).find((c) => c.ServiceSpecificCredentialId === id);
  }

  /**
   * One attempt after another within the budget, each at this environment's pace. A NoSuchEntity from Create or List
   * (for a user and a service) becomes UnknownUser or UnsupportedService, as IAM itself tells.
   */
  private call<O>(budget: Budget, action: string, retryable: (err: unknown) => Retry, command: { readonly input: object }): Promise<O> {
    const input = command.input as { UserName?: string; ServiceName?: string; ServiceSpecificCredentialId?: string };
    return withRetry(budget, `iam:${action}`, retryable, async (abortSignal) => {
      try {
        return await this.client.send(command as never, { abortSignal }) as O;
      } catch (err) {
        if (!isNoSuchEntity(err) || !input.ServiceName || input.ServiceSpecificCredentialId) throw err;
        throw await this.whatIsMissing(budget, input.UserName!, input.ServiceName, err);
      }
    }, this.pace);
  }

  /**
   * What a NoSuchEntity for a user and a service means, asked of IAM: the user's credentials for no service in
   * particular. NoSuchEntity there too means the user; otherwise the user exists, and the service is what IAM lacks.
   */
  private async whatIsMissing(budget: Budget, userName: string, serviceName: string, cause: unknown): Promise<Error> {
    try {
      await this.call(budget, 'ListServiceSpecificCredentials', isTransient, new ListServiceSpecificCredentialsCommand({ UserName: userName }));
    } catch (err) {
      if (isNoSuchEntity(err)) return new UnknownUser(`IAM user '${userName}' does not exist`, { cause });
      // This one call denied (a policy narrower than the handler's own): IAM's first answer is all there is to go by.
      if (isAccessDenied(err)) return cause as Error;
      throw err;
    }
    return unsupported(userName, serviceName, cause);
  }
}

/**
 * Organisations restrict these credentials on Create with two condition keys, which AWS's message may not name: the
 * reason names both, with what this request asked for, and AWS's own message (the policy's type and ARN).
 */
function createDenied(userName: string, serviceName: string, ageDays: number | undefined, cause: ExplicitlyDenied): CreateDenied {
  const asked = ageDays === undefined ? 'without CredentialAgeDays (a credential that never expires)' : `with CredentialAgeDays ${ageDays}`;
  return new CreateDenied(`iam:CreateServiceSpecificCredential for IAM user '${userName}' and ${serviceName} ${asked} was denied by an explicit `
    + `deny, which waiting does not lift: ${errorCode(cause.lastError)}: ${(cause.lastError as Error).message}. A service control policy or `
    + 'permissions boundary may limit iam:ServiceSpecificCredentialAgeDays (set expiresAfter within the age it allows; a credential '
    + 'without expiresAfter exceeds any limit) or iam:ServiceSpecificCredentialServiceName (use a service it allows). Nothing was created',
  { cause });
}

/** The code IAM's model declares for an unsupported service (real IAM answers NoSuchEntity instead). */
function notSupported(err: unknown): boolean {
  return ['ServiceNotSupported', 'NotSupportedService'].includes(errorCode(err));
}

function unsupported(userName: string, serviceName: string, cause: unknown): UnsupportedService {
  return new UnsupportedService(`IAM does not support service-specific credentials for '${serviceName}' (user '${userName}'): `
    + (cause as Error).message, { cause });
}

