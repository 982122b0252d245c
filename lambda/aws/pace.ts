/**
 * How long one Lambda environment waits between its calls to a service that throttles it.
 *
 * IAM's rate limit is the account's: every handler environment deploying credentials at once, and every other IAM
 * caller, shares it. A backoff that starts afresh for each call (0.5 s, 1 s, 2 s...) lets each new event hammer IAM
 * while the oldest waiters poll least, so the first resources dispatched are served last. The pace instead belongs
 * to the environment, which Lambda keeps warm from one event to the next: a throttle doubles it, a success shortens
 * it, and every call of the environment, the first of a new event included, waits it. Environments then share the
 * rate alike, whatever the age of their events. Measured against the alternatives in docs/benchmarks.md.
 */
export class Pace {
  /** The wait's ceiling in ms; 0 while the service has not throttled this environment lately. */
  private ceiling = 0;
  private lastThrottle = 0;

  /** @param random a number in [0, 1), as Math.random gives: the share of the ceiling to wait */
  constructor(private readonly now: () => number = Date.now, private readonly random: () => number = Math.random) {}

  /** How long to wait before the next call: a random share of the ceiling, so that environments do not move in step. */
  public delay(): number {
    if (this.ceiling && this.now() - this.lastThrottle > FORGET_AFTER_MS) this.ceiling = 0;
    return this.ceiling * (0.5 + this.random() / 2);
  }

  public throttled(): void {
    this.ceiling = Math.min(MAX_MS, Math.max(MIN_MS, this.ceiling * 2));
    this.lastThrottle = this.now();
  }

  public succeeded(): void {
    this.ceiling = this.ceiling * 0.7 < MIN_MS / 4 ? 0 : this.ceiling * 0.7;
  }
}

const MIN_MS = 1_000;
/** The longest wait: also the longest a call waits once the rate is free again. */
const MAX_MS = 20_000;
/** A throttle this long ago says nothing about the account's rate now (a warm environment's next deployment). */
const FORGET_AFTER_MS = 120_000;

/** IAM's answer when the account's rate is exceeded: HTTP 400 `Throttling`, "Rate exceeded". */
export function isThrottling(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name ?? '';
  return /^(Throttling|ThrottlingException|TooManyRequestsException|RequestLimitExceeded)$/.test(name)
    || (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 429;
}
