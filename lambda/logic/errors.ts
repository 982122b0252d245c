// Every error the handler decides on, in one place. A UserError's message is answered to CloudFormation (or to Secrets
// Manager) as it is; any other error is answered as `<code>: <message>`.

/** The error code of an SDK error, without the `Exception` suffix some clients add (`AccessDeniedException`). */
export function errorCode(err: unknown): string {
  const name = (err as { name?: string } | undefined)?.name ?? 'Error';
  return name.replace(/Exception$/, '');
}

/** An error whose message tells the user what to do. Its name is its class's, which `errorCode` reports. */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The user already has IAM's maximum of 2 credentials for the service. */
export class LimitReached extends UserError {}

/** IAM does not issue service-specific credentials for the service (decided by a call, not by IAM's wording). */
export class UnsupportedService extends UserError {}

/** The IAM user does not exist, or IAM does not show it yet (decided by a call, not by IAM's wording). */
export class UnknownUser extends UserError {}

/** ALTERNATING needs IAM's second slot for the user and service, and another credential holds it. */
export class NoSlot extends UserError {}

/** The secret does not exist or is scheduled for deletion. */
export class SecretGone extends UserError {}

/** The secret already has a different value under this request's token: an earlier delivery of the same event wrote it. */
export class AlreadyWritten extends Error {
  public readonly name = 'AlreadyWritten';
}

/** The budget ran out while an operation was still being retried: says which, how often, and its last error. */
export class OutOfTime extends Error {
  constructor(public readonly operation: string, public readonly attempts: number, public readonly lastError: unknown) {
    super(`${operation} did not succeed before the deadline (${attempts} attempt${attempts === 1 ? '' : 's'}`
      + `${lastError ? `; last error ${errorCode(lastError)}: ${(lastError as Error).message}` : ''})`, { cause: lastError });
    this.name = 'OutOfTime';
  }
}

/** A policy refused to let IAM create the credential: a message that names the call, the condition keys and the fix. */
export class CreateDenied extends UserError {}

/** Access was denied by an explicit deny (a service control policy, a permissions boundary, a Deny statement): no wait lifts it. */
export class ExplicitlyDenied extends Error {
  constructor(public readonly operation: string, public readonly lastError: unknown) {
    super(`${operation} was denied by an explicit deny, which waiting does not lift: ${errorCode(lastError)}: ${(lastError as Error).message}`,
      { cause: lastError });
    this.name = 'ExplicitlyDenied';
  }
}

/** Access was still denied after the window in which a new policy takes effect. */
export class StillDenied extends Error {
  constructor(public readonly operation: string, public readonly attempts: number, deniedMs: number, public readonly lastError: unknown) {
    super(`${operation} was still denied after ${Math.round(deniedMs / 1000)} s (${attempts} attempts), longer than IAM takes to apply `
      + `a new policy: ${errorCode(lastError)}: ${(lastError as Error).message}`, { cause: lastError });
    this.name = 'StillDenied';
  }
}
