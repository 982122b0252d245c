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
