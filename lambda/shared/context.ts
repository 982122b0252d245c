import type { Iam } from '../aws/iam';
import type { Budget } from '../aws/retry';
import type { Secrets } from '../aws/secrets';

/** What one invocation of the handler works with, whichever path (stack event or rotation step) it takes. */
export interface Context {
  readonly iam: Iam;
  readonly secrets: Secrets;
  /** Until CloudFormation must be answered. */
  readonly budget: Budget;
  /** A short budget of its own, for undoing work after the main one ran out. */
  readonly cleanupBudget: () => Budget;
  /** Registers a secret value so that no message can carry it. */
  readonly remember: (secret: string | undefined) => void;
  readonly log: (line: string) => void;
  /** The handler's own stack: only its secrets are written, only the credentials they record are deleted. */
  readonly stackId: string;
}

/** One invocation: its context, and what the handler needs to answer at its end. */
export interface Invocation {
  readonly ctx: Context;
  /** Replaces every secret value the invocation has seen. */
  readonly redact: (text: string) => string;
  /** Since the invocation started, in ms. */
  readonly elapsed: () => number;
  /** Stops the deadline's timer. */
  readonly end: () => void;
}

/** Time kept back from the Lambda timeout to undo half-done work and answer CloudFormation. */
const RESERVE_MS = 15_000;

/** @param remainingMs the Lambda invocation's time left */
export function startInvocation(
  clients: { iam: Iam; secrets: Secrets },
  remainingMs: number,
  options: { sleep: Budget['sleep']; log: (line: string) => void; stackId: string },
): Invocation {
  const { sleep, log, stackId } = options;
  const started = Date.now();
  const reserve = Math.min(RESERVE_MS, remainingMs / 4);
  const deadline = started + remainingMs - reserve;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('the Lambda function is about to time out')), deadline - started);
  const secrets = new Set<string>();
  const redact = (text: string) => [...secrets].reduce((t, s) => t.split(s).join('*****'), text);
  const ctx: Context = {
    ...clients,
    budget: { signal: abort.signal, deadline, sleep },
    cleanupBudget: () => {
      // The time the event has left, or a third of the reserve once that is spent: a cleanup that IAM throttles
      // must not give up with minutes to go. AbortSignal.timeout takes whole milliseconds only.
      const ms = Math.max(1, Math.floor(Math.max(deadline - Date.now(), reserve / 3)));
      return { signal: AbortSignal.timeout(ms), deadline: Date.now() + ms, sleep };
    },
    remember: (secret) => secret && secrets.add(secret),
    log: (line) => log(redact(line)),
    stackId,
  };
  return { ctx, redact, elapsed: () => Date.now() - started, end: () => clearTimeout(timer) };
}
