import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialService, ServiceSpecificCredential } from '../../src';
import { RESOURCE_TYPE } from '../../src/handler-contract';
import { LocalAws, startLocalAws } from '../local-aws';
import { CloudFormation, Synthesized, synthesize } from './cloudformation';
import { WarmLambda, warpedClock } from './warm-lambda';

// A slow account: IAM grants 0.25 calls a second to the whole account, so that 240 credentials need 16 minutes, longer
// than the handler's 15-minute timeout. The real template (its timeout, its ordering of the custom resources) and the
// real bundled handler in warm Lambda environments; every clock, the local IAM's rate limit included, runs WARP times
// faster so that the wave takes seconds.

const N = 240;
const RATE = 0.25;
const WARP = 40;

let localAws: LocalAws;
let cfn: CloudFormation;
let synth: Synthesized;

beforeAll(async () => {
  localAws = await startLocalAws({ iamRate: { perSecond: RATE }, now: warpedClock(WARP) });
  cfn = await CloudFormation.start(localAws);
  synth = synthesize((app: App) => {
    const stack = new Stack(app, 'Credentials', { env: { account: '123456789012', region: 'us-east-1' } });
    for (let i = 0; i < N; i++) {
      const userName = `developer-${i}`;
      localAws.createUser(userName);
      new ServiceSpecificCredential(stack, `Git${i}`, { user: iam.User.fromUserName(stack, `User${i}`, userName), service: CredentialService.CODECOMMIT });
    }
    return stack;
  });
});

afterAll(async () => {
  await cfn.close();
  await localAws.close();
});

test(`${N} credentials on an account that allows ${RATE} IAM calls a second: a wave longer than the handler's timeout, none failed`, async () => {
  const lambda = new WarmLambda(synth.handlerFile, cfn.lambdaEnvironment(synth), 40, synth.handlerTimeoutMs, WARP);
  try {
    const wave = await cfn.createWave(synth, lambda);

    expect(wave.results.filter((r) => r.status !== 'SUCCESS')).toEqual([]);
    expect(wave.results).toHaveLength(N);
    expect(wave.wallMs).toBeGreaterThan(synth.handlerTimeoutMs);
    const throttled = localAws.calls.filter((c) => c.service === 'iam' && c.outcome === 'Throttling').length;
    expect(throttled).toBeGreaterThan(0);
    // Each credential exists once, in its own secret.
    const ids = cfn.resourcesOfType(RESOURCE_TYPE).map((r) => r.physicalId);
    expect(new Set(ids).size).toBe(N);
    expect(localAws.credentials()).toHaveLength(N);
    for (const id of ids) expect(localAws.secretsHolding(id)).toHaveLength(1);
    console.log(`wave ${(wave.wallMs / 60_000).toFixed(1)} min (on the warped clock), ${throttled} throttled IAM calls for ${N} credentials`);
  } finally {
    lambda.close();
  }
}, 600_000);
