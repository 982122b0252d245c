/* eslint-disable no-console */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { App, Duration, SecretValue, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { buildSync } from 'esbuild';
import { policyDocuments } from './policies';
import { ExampleSettings, exampleStack } from '../../examples/app';
import { CredentialService, CredentialStatus, RotationStrategy, ServiceSpecificCredential } from '../../src';
import { CloudFormation, Synthesized, synthesize } from '../lifecycle/cloudformation';
import { WarmLambda, warpedClock } from '../lifecycle/warm-lambda';
import { startLocalAws } from '../local-aws';

/**
 * `npm run bench`: synth time, template size, IAM policy size, asset size, cold start and API calls per event,
 * each beside its baseline, measured in one run. `--write` also writes docs/benchmarks.md.
 */

const ROOT = path.join(__dirname, '..', '..');
const HANDLER = path.join(ROOT, 'assets', 'lambda', 'handler', 'index.js');
const SIZES = [1, 50, 240];
const SYNTH_RUNS = 9;
const COLD_RUNS = 15;

/** The value at fraction `p` of the sorted values (0.5: the median). */
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const median = (xs: number[]) => pct(xs, 0.5);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function credentialsStack(n: number): (app: App) => Stack {
  return (app) => {
    const stack = new Stack(app, 'Credentials', { env: { account: '123456789012', region: 'us-east-1' } });
    for (let i = 0; i < n; i++) {
      const user = iam.User.fromUserName(stack, `User${i}`, `developer-${String(i).padStart(4, '0')}`);
      new ServiceSpecificCredential(stack, `Git${i}`, { user, service: CredentialService.CODECOMMIT });
    }
    return stack;
  };
}

/** The CDK-native way to give N users a secret: an access key each, its secret key in a secret. */
function baselineStack(n: number): (app: App) => Stack {
  return (app) => {
    const stack = new Stack(app, 'Baseline', { env: { account: '123456789012', region: 'us-east-1' } });
    for (let i = 0; i < n; i++) {
      const user = iam.User.fromUserName(stack, `User${i}`, `developer-${String(i).padStart(4, '0')}`);
      const key = new iam.AccessKey(stack, `Key${i}`, { user });
      new secretsmanager.Secret(stack, `Secret${i}`, {
        secretObjectValue: { accessKeyId: SecretValue.unsafePlainText(key.accessKeyId), secretAccessKey: key.secretAccessKey },
      });
    }
    return stack;
  };
}

function timeSynth(build: (app: App) => Stack): { ms: number; template: any } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const started = process.hrtime.bigint();
  const app = new App({ outdir });
  const stack = build(app);
  const template = app.synth().getStackByName(stack.stackName).template;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ms, template };
}

function synthTable(): string[] {
  const rows = ['| N | synth (this) | synth (baseline) | ratio | template bytes / credential (this) | (baseline) | ratio | resources (limit 500) | largest IAM policy (limit) | managed policies on the role (limit 10) |', '|---|---|---|---|---|---|---|---|---|---|'];
  for (const n of SIZES) {
    const ours: number[] = [];
    const base: number[] = [];
    let oursTemplate: any;
    let baseTemplate: any;
    timeSynth(credentialsStack(n)); // warm-up: module loading is not synth time
    timeSynth(baselineStack(n));
    for (let i = 0; i < SYNTH_RUNS; i++) {
      // Interleaved, so that both see the same machine load.
      const a = timeSynth(credentialsStack(n));
      const b = timeSynth(baselineStack(n));
      ours.push(a.ms);
      base.push(b.ms);
      oursTemplate = a.template;
      baseTemplate = b.template;
    }
    const bytes = (t: any) => JSON.stringify(t).length / n;
    const docs = policyDocuments(oursTemplate);
    const largest = docs.reduce((a, d) => (d.size / d.limit > a.size / a.limit ? d : a));
    const managed = docs.filter((d) => d.kind === 'managed').length;
    const resources = Object.keys(oursTemplate.Resources).length;
    rows.push(`| ${n} | ${median(ours).toFixed(0)} ms | ${median(base).toFixed(0)} ms | ${(median(ours) / median(base)).toFixed(2)} `
      + `| ${bytes(oursTemplate).toFixed(0)} | ${bytes(baseTemplate).toFixed(0)} | ${(bytes(oursTemplate) / bytes(baseTemplate)).toFixed(2)} `
      + `| ${resources} | ${largest.size} chars, ${largest.kind} (${largest.limit}) | ${managed} |`);
  }
  return rows;
}

/** Milliseconds to load a module in a fresh Node process: the part of a cold start the bundle decides. */
function loadTime(file: string): number {
  const script = 'const t = process.hrtime.bigint(); require(process.argv[1]); console.log(Number(process.hrtime.bigint() - t) / 1e6);';
  return Number(execFileSync(process.execPath, ['-e', script, file], { encoding: 'utf8' }).trim());
}

function coldStartTable(): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-'));
  // The same two SDK clients, bundled the same way, with no handler code: the target's yardstick.
  fs.writeFileSync(path.join(dir, 'sdk.ts'), "export { IAMClient } from '@aws-sdk/client-iam';\nexport { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';\n");
  buildSync({ entryPoints: [path.join(dir, 'sdk.ts')], bundle: true, minify: true, platform: 'node', target: 'node22', outfile: path.join(dir, 'sdk.js'), nodePaths: [path.join(ROOT, 'node_modules')], logLevel: 'error' });
  // A handler with no SDK at all: the floor of loading anything.
  fs.writeFileSync(path.join(dir, 'floor.js'), 'exports.handler = async () => undefined;\n');
  const files = { 'this handler': HANDLER, 'the two SDK clients alone': path.join(dir, 'sdk.js'), 'no SDK (floor)': path.join(dir, 'floor.js') };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(files).map((name) => [name, []]));
  for (let i = 0; i < COLD_RUNS; i++) {
    for (const [name, file] of Object.entries(files)) samples[name].push(loadTime(file));
  }
  const sdk = median(samples['the two SDK clients alone']);
  const rows = ['| module | bytes | gzip | load time (median of ' + COLD_RUNS + ') | vs SDK clients alone |', '|---|---|---|---|---|'];
  for (const [name, file] of Object.entries(files)) {
    const content = fs.readFileSync(file);
    rows.push(`| ${name} | ${kb(content.length)} | ${kb(zlib.gzipSync(content).length)} | ${median(samples[name]).toFixed(1)} ms | ${(median(samples[name]) / sdk).toFixed(2)} |`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return rows;
}

/** The handler before the ownership record (the baseline of the call counts), rebuilt from git. */
const RECORD_BASELINE_REV = 'fcf2229';

/** The synthesized stack with another handler bundle in place of its own. */
const withHandler = (synth: Synthesized, handlerFile?: string): Synthesized => (handlerFile ? { ...synth, handlerFile } : synth);

async function callsTable(): Promise<string[]> {
  const baseline = baselineHandler(RECORD_BASELINE_REV);
  const floor: Record<string, number> = { create: 2, reset: 2, status: 1, delete: 1 };
  const measured: Record<string, Record<string, string[]>> = {};
  for (const [variant, handler] of [[`before (${RECORD_BASELINE_REV})`, baseline], ['this', undefined]] as const) {
    const localAws = await startLocalAws();
    const cfn = await CloudFormation.start(localAws);
    const of = (synth: Synthesized) => withHandler(synth, handler);
    const record = (event: string, calls: string[]) => ((measured[event] ??= {})[variant] = calls);
    try {
      record('create', (await cfn.deploy(of(synthesize((app) => exampleStack(app))))).invocations[0].calls);
      record('reset', (await cfn.deploy(of(synthesize((app) => exampleStack(app, { resetSerial: 1 }))))).invocations[0].calls);
      const last = of(synthesize((app) => exampleStack(app, { resetSerial: 1, status: CredentialStatus.INACTIVE })));
      record('status', (await cfn.deploy(last)).invocations[0].calls);
      record('delete', (await cfn.destroy(last)).invocations[0].calls);
    } finally {
      await cfn.close();
      await localAws.close();
    }
  }
  const rows = [`| event | API calls before (${RECORD_BASELINE_REV}) | API calls, this | target (floor) | calls, this |`, '|---|---|---|---|---|'];
  for (const [event, byVariant] of Object.entries(measured)) {
    const now = byVariant.this;
    rows.push(`| ${event} | ${byVariant[`before (${RECORD_BASELINE_REV})`].length} | ${now.length} | ${floor[event]} | ${now.map((c) => c.replace(/ -> ok$/, '')).join(', ')} |`);
  }
  return rows;
}

/** IAM and Secrets Manager calls per rotation, all four steps, beside the handler before the record and the floor. */
async function rotationTable(): Promise<string[]> {
  const baseline = baselineHandler(RECORD_BASELINE_REV);
  const rows = [
    `| rotation | IAM calls before (${RECORD_BASELINE_REV}) | IAM calls, this (floor) | Secrets Manager calls before | Secrets Manager calls, this (floor) | IAM calls, this |`,
    '|---|---|---|---|---|---|',
  ];
  const measure = async (name: string, settings: ExampleSettings, rotations: number, floor: [number, number]) => {
    const counts: Array<{ iam: string[]; sm: number }> = [];
    for (const handler of [baseline, undefined]) {
      const localAws = await startLocalAws();
      const cfn = await CloudFormation.start(localAws);
      try {
        const synth = withHandler(synthesize((app) => exampleStack(app, settings)), handler);
        await cfn.deploy(synth);
        const arn = cfn.resourceOfType('Custom::ServiceSpecificCredential')!.attributes.SecretArn;
        for (let n = 1; n <= rotations; n++) {
          const calls = (await cfn.rotate(synth, arn)).invocations.flatMap((i) => i.calls);
          const iamCalls = calls.filter((c) => c.startsWith('iam:')).map((c) => c.replace(/^iam:|ServiceSpecificCredential(s)?| -> ok$/g, ''));
          if (n === rotations) counts.push({ iam: iamCalls, sm: calls.length - iamCalls.length });
        }
        await cfn.destroy(synth);
      } finally {
        await cfn.close();
        await localAws.close();
      }
    }
    const [before, now] = counts;
    rows.push(`| ${name} | ${before.iam.length} | ${now.iam.length} (${floor[0]}) | ${before.sm} | ${now.sm} (${floor[1]}) | ${now.iam.join(', ')} |`);
  };
  {
    // Floors: ALTERNATING must Create (and, with the pair full, Delete); RESET_IN_PLACE must Reset. Secrets Manager: each
    // of the 4 steps must describe the secret (is the token's version AWSPENDING?), then one read of the current value,
    // one write and two label moves (AWSCURRENT on, AWSPENDING off), or one read, one write (current at once) and one
    // label move (RESET_IN_PLACE). The List calls (the current credential exists; testSecret's check) are above the floor.
    await measure('ALTERNATING, 1st (one credential so far)', { rotation: { automaticallyAfter: Duration.days(30) } }, 1, [1, 8]);
    await measure('ALTERNATING, 2nd and later', { rotation: { automaticallyAfter: Duration.days(30) } }, 2, [2, 8]);
    await measure('RESET_IN_PLACE', { rotation: { automaticallyAfter: Duration.days(30), strategy: RotationStrategy.RESET_IN_PLACE } }, 1, [1, 7]);
  }
  return rows;
}

/** The handler before one retry layer and the pace: the baseline of the deploy benchmark, rebuilt from git. */
const BASELINE_REV = 'd5ba04e';

function baselineHandler(rev = BASELINE_REV): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-baseline-'));
  execFileSync('tar', ['-x', '-C', dir], { input: execFileSync('git', ['archive', rev, 'lambda', 'src'], { cwd: ROOT }) });
  const outfile = path.join(dir, 'index.js');
  buildSync({
    entryPoints: [path.join(dir, 'lambda', 'handler.ts')],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    outfile,
    nodePaths: [path.join(ROOT, 'node_modules')],
    tsconfigRaw: {},
    logLevel: 'error',
  });
  return outfile;
}


/**
 * N credentials created in one wave through warm Lambda environments (40, Lambda's concurrency here) against a local
 * IAM that allows the account `rate` calls a second, for each way of retrying, side by side.
 */
async function deployTable(): Promise<string[]> {
  const baseline = baselineHandler();
  const ENVIRONMENTS = 40;
  const variants: Array<{ name: string; handler?: string; timeoutMs?: number; env?: Record<string, string>; ignoreDependencies: boolean }> = [
    { name: `before (${BASELINE_REV}): SDK's 3 attempts inside the handler's backoff, all at once`, handler: baseline, timeoutMs: 300_000, ignoreDependencies: true },
    { name: 'before, with the SDK\'s adaptive retry mode (AWS_RETRY_MODE=adaptive)', handler: baseline, timeoutMs: 300_000, env: { AWS_RETRY_MODE: 'adaptive' }, ignoreDependencies: true },
    { name: 'one retry layer, paced per environment, all at once', ignoreDependencies: true },
    { name: '**this**: paced, and CloudFormation sends 10 at once', ignoreDependencies: false },
  ];
  const rows = [
    '| IAM rate, N | retry | wall / floor | IAM attempts per success | latency p50 / p95 / max | failed |',
    '|---|---|---|---|---|---|',
  ];
  for (const [rate, n] of [[10, 240], [2, 240], [0.5, 160]]) {
    // Real requests at most ~10 a second whatever the rate, so that the machine's speed does not decide.
    const warp = Math.max(1, 10 / rate);
    for (const variant of variants) {
      const localAws = await startLocalAws({ iamRate: { perSecond: rate }, now: warpedClock(warp) });
      const cfn = await CloudFormation.start(localAws);
      const synth = synthesize((app) => {
        const stack = credentialsStack(n)(app);
        for (let i = 0; i < n; i++) localAws.createUser(`developer-${String(i).padStart(4, '0')}`);
        return stack;
      });
      const lambda = new WarmLambda(variant.handler ?? synth.handlerFile, { ...cfn.lambdaEnvironment(synth), ...variant.env },
        ENVIRONMENTS, variant.timeoutMs ?? synth.handlerTimeoutMs, warp);
      try {
        const wave = await cfn.createWave(synth, lambda, { ignoreDependencies: variant.ignoreDependencies });
        const iamCalls = localAws.calls.filter((c) => c.service === 'iam');
        const ok = iamCalls.filter((c) => c.outcome === 'ok').length;
        const floorMs = (ok / rate) * 1000;
        const latency = wave.results.map((r) => r.latencyMs / 1000);
        const failed = wave.results.filter((r) => r.status !== 'SUCCESS');
        rows.push(`| ${rate}/s, ${n} | ${variant.name} | ${(wave.wallMs / floorMs).toFixed(2)} | ${(iamCalls.length / ok).toFixed(1)} `
          + `| ${pct(latency, 0.5).toFixed(0)} / ${pct(latency, 0.95).toFixed(0)} / ${Math.max(...latency).toFixed(0)} s `
          + `| ${failed.length}${failed[0] ? ` (${(failed[0].reason ?? failed[0].status).slice(0, 60)}…)` : ''} |`);
        console.error(rows[rows.length - 1]);
      } finally {
        lambda.close();
        await cfn.close();
        await localAws.close();
      }
    }
  }
  fs.rmSync(path.dirname(baseline), { recursive: true, force: true });
  return rows;
}

async function main() {
  if (!fs.existsSync(HANDLER)) throw new Error(`${HANDLER} is missing: run 'npx projen bundle' first`);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}`;
  const sections = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}.`,
    '',
    '### Synthesis: N CodeCommit credentials vs N × (`iam.AccessKey` + `secretsmanager.Secret`)',
    '',
    `Median of ${SYNTH_RUNS} interleaved runs after a warm-up; IAM policy sizes with tokens resolved to realistic ARNs, whitespace excluded.`,
    '',
    ...synthTable(),
    '',
    '### The handler asset and its cold start',
    '',
    ...coldStartTable(),
    '',
    '### API calls per CloudFormation event, through the local AWS',
    '',
    ...(await callsTable()),
    '',
    '### API calls per rotation (createSecret, setSecret, testSecret, finishSecret), through the local AWS',
    '',
    ...(await rotationTable()),
    '',
    '### Deploying many credentials on a rate-limited account',
    '',
    'One wave of CREATEs through 40 warm Lambda environments of the real bundled handler, against a local IAM whose '
      + 'account-wide token bucket (burst: one second of calls) answers `Throttling` "Rate exceeded" when empty. Floor: the '
      + 'IAM calls that succeeded ÷ the rate. Every clock (handler and bucket) runs 10 ÷ rate times faster, so that real '
      + 'requests stay near 10 a second; times are on that clock.',
    '',
    ...(process.argv.includes('--no-deploy') ? ['(skipped: --no-deploy)'] : await deployTable()),
  ];
  const report = sections.join('\n');
  console.log(report);
  if (process.argv.includes('--write')) {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'benchmarks.md'), 'utf8');
    const marker = '<!-- results -->';
    const [head] = doc.split(marker);
    fs.writeFileSync(path.join(ROOT, 'docs', 'benchmarks.md'), `${head}${marker}\n\n${report}\n`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
