import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * LocalStack, an AWS emulator written by others whose IAM tests were validated against real AWS: a second opinion
 * on the answers of the local AWS in this folder. It runs without Docker from a Python virtualenv
 * (`npx projen localstack:install`), only on loopback, with its telemetry and downloads off.
 */
export interface LocalStack {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** The virtualenv's Python: LOCALSTACK_PYTHON, or the one `localstack:install` makes; undefined when neither exists. */
export function localStackPython(): string | undefined {
  const candidates = [process.env.LOCALSTACK_PYTHON, path.join(__dirname, '..', '..', '.localstack', 'bin', 'python')];
  return candidates.find((p): p is string => !!p && fs.existsSync(p));
}

export async function startLocalStack(python: string, timeoutMs = 90_000): Promise<LocalStack> {
  // The free port is found by binding and releasing it, so another server may take it first: try again on another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(python, await freePort(), timeoutMs);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

async function startOnce(python: string, port: number, timeoutMs: number): Promise<LocalStack> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'localstack-'));
  const child = spawn(python, ['-m', 'localstack.runtime.main'], {
    env: {
      PATH: process.env.PATH,
      HOME: root,
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      SERVICES: 'iam,secretsmanager,sts',
      EAGER_SERVICE_LOADING: '0',
      DISABLE_EVENTS: '1',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DNS_ADDRESS: '0',
      PERSISTENCE: '0',
      FILESYSTEM_ROOT: root,
      LOCALSTACK_VOLUME_DIR: path.join(root, 'volume'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (!(await ready(endpoint))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      stop(child);
      throw new Error(`LocalStack did not start (exit ${child.exitCode}):\n${output.slice(-2_000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    endpoint,
    close: async () => {
      stop(child);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

async function ready(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(2_000) });
    const health = await res.json() as { services?: Record<string, string> };
    return ['iam', 'secretsmanager'].every((s) => ['available', 'running'].includes(health.services?.[s] ?? ''));
  } catch {
    return false;
  }
}

function stop(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
