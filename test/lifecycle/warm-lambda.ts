import { ChildProcess, spawn } from 'node:child_process';
import * as os from 'node:os';

/** A clock running `warp` times faster than the real one (ms), for the local AWS to share a WarmLambda's time. */
export function warpedClock(warp: number): () => number {
  const started = Date.now();
  return () => started + (Date.now() - started) * warp;
}

/**
 * Lambda's execution environments for one function, kept warm: each is a Node process that loads the bundled handler
 * once and runs events one at a time, so module state (SDK clients, the handler's pace) lives from one event to the
 * next as on Lambda. At most `size` run at once; further events wait for a free one, as with a concurrency limit.
 *
 * `warp` runs every clock of the environments that many times faster (timers, Date.now, AbortSignal.timeout), so a
 * wave of an hour can be measured in minutes; the local AWS's rate limit must run on the same warped clock (`now`).
 */
export class WarmLambda {
  private readonly idle: Environment[] = [];
  private readonly waiting: Array<(env: Environment) => void> = [];
  private readonly all = new Set<Environment>();
  /** Now, on the warped clock (ms). */
  public readonly now: () => number;

  constructor(
    private readonly handlerFile: string,
    private readonly env: Record<string, string>,
    private readonly size: number,
    private readonly timeoutMs: number,
    public readonly warp = 1,
  ) {
    this.now = warpedClock(warp);
  }

  /** Runs one event to its end; resolves false when Lambda's timeout ended it. */
  public async invoke(event: object): Promise<boolean> {
    return (await this.run(event)).finished;
  }

  /**
   * Runs one event to its end: whether it finished within the timeout, whether the handler threw (a failed rotation
   * step, for Secrets Manager), and what it logged (what CloudWatch Logs would hold).
   */
  public async run(event: object): Promise<Outcome> {
    const env = this.idle.pop() ?? (this.all.size < this.size ? this.spawn() : await new Promise<Environment>((r) => this.waiting.push(r)));
    const outcome = await env.run(event, this.timeoutMs, this.warp);
    if (!outcome.finished) {
      // Lambda ends an environment at its timeout: the next event gets a fresh one.
      this.all.delete(env);
      env.child.kill('SIGKILL');
      const next = this.waiting.shift();
      if (next) next(this.spawn());
      return outcome;
    }
    const next = this.waiting.shift();
    if (next) next(env);
    else this.idle.push(env);
    return outcome;
  }

  public close(): void {
    for (const env of this.all) env.child.kill('SIGKILL');
    this.all.clear();
  }

  private spawn(): Environment {
    const child = spawn(process.execPath, ['-e', RUNTIME, this.handlerFile], {
      env: { ...this.env, PATH: process.env.PATH, HOME: os.tmpdir(), TIME_WARP: String(this.warp) },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const env = new Environment(child);
    this.all.add(env);
    return env;
  }
}

export interface Outcome {
  readonly finished: boolean;
  readonly threw: boolean;
  readonly output: string;
}

class Environment {
  private done?: (message: { threw: boolean; output: string }) => void;

  constructor(public readonly child: ChildProcess) {
    child.on('message', (message: { threw: boolean; output: string }) => this.done?.(message));
  }

  public run(event: object, timeoutMs: number, warp: number): Promise<Outcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ finished: false, threw: false, output: '' }), timeoutMs / warp);
      this.done = ({ threw, output }) => {
        clearTimeout(timer);
        resolve({ finished: true, threw, output });
      };
      this.child.send({ event, timeoutMs });
    });
  }
}

/**
 * The runtime's part: warp the clocks, load the handler once, run each event with a context counting down its timeout,
 * and send back whether it threw and what it logged.
 */
const RUNTIME = `
const warp = Number(process.env.TIME_WARP);
if (warp !== 1) {
  const realNow = Date.now, t0 = realNow(), realSetTimeout = setTimeout, realTimeout = AbortSignal.timeout;
  Date.now = () => t0 + (realNow() - t0) * warp;
  globalThis.setTimeout = (fn, ms, ...args) => realSetTimeout(fn, (ms || 0) / warp, ...args);
  AbortSignal.timeout = (ms) => realTimeout.call(AbortSignal, Math.max(1, Math.floor(ms / warp)));
}
let output = [];
for (const level of ['log', 'info', 'warn', 'error']) console[level] = (...args) => output.push(args.map(String).join(' '));
const { handler } = require(process.argv[1]);
process.on('message', ({ event, timeoutMs }) => {
  const deadline = Date.now() + timeoutMs;
  const context = { getRemainingTimeInMillis: () => deadline - Date.now(), functionName: process.env.AWS_LAMBDA_FUNCTION_NAME };
  output = [];
  handler(event, context).then(() => false, (err) => { output.push('handler threw ' + (err && err.name)); return true; })
    .then((threw) => process.send({ threw, output: output.join('\\n') }));
});
`;
