import { Pace, isThrottling } from './pace';
import { ExplicitlyDenied, OutOfTime, StillDenied, errorCode } from '../logic/errors';

/** How long a request may keep trying. */
export interface Budget {
  /** Aborted when the handler must stop working and answer CloudFormation. */
  readonly signal: AbortSignal;
  /** When the signal aborts (ms since the epoch). */
  readonly deadline: number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

const TRANSIENT = new Set([
  'Throttling', 'RequestLimitExceeded', 'TooManyRequests', 'ServiceFailure', 'InternalFailure',
  'InternalServiceError', 'ServiceUnavailable', 'RequestTimeout', 'TimeoutError',
]);

/** Throttling, 5xx and dropped connections: worth another try whatever the operation. */
export function isTransient(err: unknown): boolean {
  const e = err as { $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string };
  if (TRANSIENT.has(errorCode(err))) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500 || e.$fault === 'server') return true;
  // No HTTP status at all: the request never got an answer (ECONNRESET, socket hang up).
  return e.$metadata?.httpStatusCode === undefined && typeof e.code === 'string';
}

/** A freshly attached policy answers AccessDenied until IAM has propagated it. */
export function isAccessDenied(err: unknown): boolean {
  return errorCode(err) === 'AccessDenied';
}

/**
 * An AccessDenied that AWS says comes from an explicit deny: a service control policy, a permissions boundary, a Deny
 * statement. The one decision the handler takes by an error's wording, because AWS documents this wording as the way
 * to tell the two denials apart (IAM User Guide, "Troubleshoot access denied error messages": an explicit denial says
 * "with an explicit deny in a <policy type>", an implicit one "because no <policy type> policy allows the <action>
 * action"; an SCP's may say "due to an explicit deny" even when implicit, which no wait lifts either). It is safe both
 * ways: a denial worded otherwise (a service without the format, a new wording) is retried for the window as before and
 * then fails as StillDenied, so a rewording costs the 60-second wait, never another outcome; and an explicit deny
 * lasts until someone changes the policy, so waiting for it only hides the reason (unless that change happens during
 * the deployment, when the deployment's retry succeeds).
 */
export function isExplicitDeny(err: unknown): boolean {
  return isAccessDenied(err) && /\bexplicit deny\b/i.test((err as Error).message ?? '');
}

const FIRST_DELAY_MS = 500;
/** Kept for the last attempt when a wait would reach the deadline. */
const LAST_ATTEMPT_MS = 1_000;
const MAX_DELAY_MS = 10_000;
/**
 * How long AccessDenied is taken for a policy IAM has not applied yet. IAM documents its changes as eventually
 * consistent, usually within seconds; a denial that lasts longer is a real one (a service control policy, a
 * permissions boundary, a KMS key policy) and waiting to the deadline would only hide it.
 */
export const ACCESS_DENIED_WINDOW_MS = 60_000;

/**
 * Whether an error is worth another attempt: no; yes, until the deadline; or `briefly`, within ACCESS_DENIED_WINDOW_MS,
 * for an error that eventual consistency explains at first and a real cause once it lasts (AccessDenied always is).
 */
export type Retry = boolean | 'briefly';

/**
 * Calls `call` until it succeeds, fails with an error `retryable` rejects, or the budget's signal aborts. This is the
 * only retry layer: the SDK clients make one attempt each. Every attempt first waits the environment's `pace`, which
 * throttling sets; other errors back off from 0.5 s to 10 s with jitter. The budget, not a count, bounds the attempts,
 * so a user created a moment ago gets the ~2 minutes IAM may need. A brief error is retried for ACCESS_DENIED_WINDOW_MS only.
 * @param operation the API operation, named in the error when the budget runs out
 */
export async function withRetry<T>(
  budget: Budget,
  operation: string,
  retryable: (err: unknown) => Retry,
  call: (signal: AbortSignal) => Promise<T>,
  pace?: Pace,
): Promise<T> {
  let lastError: unknown;
  let deniedMs = 0;
  let backoffs = 0;
  let last = false;
  // The calls made: a wait cut short by the deadline makes none.
  let calls = 0;
  for (;;) {
    // The wait is cut short rather than run through the deadline, so that a short budget (cleaning up after a
    // failure) still gets its attempt; that attempt is the last, or a throttled call would repeat without waiting.
    const wanted = pace?.delay() ?? 0;
    const room = budget.deadline - Date.now() - LAST_ATTEMPT_MS;
    if (wanted > 0 && wanted > room) {
      if (last) throw new OutOfTime(operation, calls, lastError);
      last = true;
    }
    try {
      budget.signal.throwIfAborted();
      const wait = Math.min(wanted, room);
      if (wait > 0) {
        await budget.sleep(wait, budget.signal);
        if (deniedMs) deniedMs += wait;
      }
      calls++;
      const result = await raceAbort(call(budget.signal), budget.signal);
      pace?.succeeded();
      return result;
    } catch (err) {
      if (budget.signal.aborted) throw new OutOfTime(operation, calls, lastError);
      const retry = retryable(err);
      if (!retry) throw err;
      if (isExplicitDeny(err)) throw new ExplicitlyDenied(operation, err);
      lastError = err;
      // A throttle says nothing about the denial: the window keeps counting across it, the pace's waits included.
      if (pace && isThrottling(err)) {
        pace.throttled();
        continue;
      }
      const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** backoffs++);
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      // Counted in the time slept, so that the window is the same whatever each call takes.
      const brief = retry === 'briefly' || isAccessDenied(err);
      if (brief && deniedMs >= ACCESS_DENIED_WINDOW_MS) throw isAccessDenied(err) ? new StillDenied(operation, calls, deniedMs, err) : err;
      deniedMs = brief ? deniedMs + delay : 0;
      try {
        await budget.sleep(delay, budget.signal);
      } catch {
        throw new OutOfTime(operation, calls, lastError);
      }
    }
  }
}

/** A sleep that ends early, with an error, when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles with the call, or rejects when the signal aborts: the deadline holds even for a call that ignores its signal. */
function raceAbort<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) onAbort();
  });
}
