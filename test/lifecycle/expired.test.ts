import { randomUUID } from 'node:crypto';
import { CreateServiceSpecificCredentialCommand, IAMClient } from '@aws-sdk/client-iam';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CloudFormation, Deployment, Invocation, Synthesized, synthesize } from './cloudformation';
import { Driver, baseProps } from './direct';
import { World, cfnEvent } from './interleavings';
import { currentDocument, leaks } from './world';
import { CredentialRotationOptions, CredentialService, CredentialStatus, ServiceSpecificCredential } from '../../src';
import { LocalAws, startLocalAws } from '../local-aws';
import { REFUSAL_WORDINGS } from '../local-aws/errors';

// IAM's third status. An API key created with expiresAfter reports Expired once its ExpirationDate has passed; it can
// no longer be reset or have its status set, only deleted. Through the real bundled handler and the local AWS, whose
// clock the tests move: every path meets an expired key, and none fails the stack or the rotation because of it.

jest.setTimeout(90_000);

const DAY = 86_400_000;
const CR = 'Custom::ServiceSpecificCredential';

let localAws: LocalAws;
let cfn: CloudFormation;
let issued: Set<string>;

beforeEach(async () => {
  localAws = await startLocalAws();
  cfn = await CloudFormation.start(localAws);
  issued = new Set();
});

afterEach(async () => {
  await cfn.close();
  await localAws.close();
});

interface KeySettings {
  readonly status?: CredentialStatus;
  readonly resetSerial?: number;
  readonly rotation?: CredentialRotationOptions;
  readonly userName?: string;
}

/** A Bedrock API key of 30 days for the IAM user ci-bot. */
const keyStack = (settings: KeySettings = {}) => synthesize((app: App) => {
  const stack = new Stack(app, 'KeyStack', { env: { account: '123456789012', region: 'us-east-1' } });
  const user = new iam.User(stack, 'User', { userName: settings.userName ?? 'ci-bot' });
  new ServiceSpecificCredential(stack, 'Key', {
    user,
    service: CredentialService.BEDROCK,
    expiresAfter: Duration.days(30),
    status: settings.status,
    resetSerial: settings.resetSerial,
    rotation: settings.rotation,
  });
  return stack;
});

async function deploy(synth: Synthesized): Promise<Deployment> {
  const deployment = await cfn.deploy(synth);
  for (const invocation of deployment.invocations) {
    expect(invocation.timedOut).toBe(false);
    expect(invocation.exitCode).toBe(0);
    expect({ status: invocation.response?.Status, reason: invocation.response?.Reason }).toEqual({ status: 'SUCCESS', reason: undefined });
  }
  expect(leaks(localAws, issued, deployment, synth)).toEqual([]);
  return deployment;
}

const resource = () => cfn.resourceOfType(CR)!;
const secretArn = () => resource().attributes.SecretArn;
const current = () => currentDocument(localAws, secretArn());
const keys = () => localAws.credentials({ userName: 'ci-bot' });
const keyOf = (id: string) => localAws.credentials().find((c) => c.ServiceSpecificCredentialId === id);
const callsOf = (invocation: Invocation<unknown>) => invocation.calls.map((c) => c.replace(/ -> ok$/, ''));
const iamCalls = (invocations: Array<Invocation<unknown>>) => invocations.flatMap(callsOf).filter((c) => c.startsWith('iam:'));
const ageOf = (key: { ExpirationDate?: Date; CreateDate: Date }) => Math.round((key.ExpirationDate!.getTime() - key.CreateDate.getTime()) / DAY);

/** The secret's current value is the key's current secret, and IAM reports the key with this status. */
function expectCurrentKey(status: 'Active' | 'Inactive' | 'Expired') {
  const doc = current();
  const key = keyOf(doc.serviceSpecificCredentialId);
  expect(key).toBeDefined();
  expect(doc.apiKey).toBe(key!.ServiceCredentialSecret);
  expect(key!.Status).toBe(status);
  return { doc, key: key! };
}

describe('without rotation', () => {
  test('a status change on an expired key succeeds without trying to set its status, in either direction', async () => {
    await deploy(keyStack());
    const first = expectCurrentKey('Active');
    localAws.advanceClock(31 * DAY);

    const deactivated = await deploy(keyStack({ status: CredentialStatus.INACTIVE }));
    const reactivated = await deploy(keyStack({ status: CredentialStatus.ACTIVE }));

    // IAM refuses to set the status of an expired key: the handler never asks.
    expect(iamCalls([...deactivated.invocations, ...reactivated.invocations])).toEqual([
      'iam:ListServiceSpecificCredentials', 'iam:ListServiceSpecificCredentials',
    ]);
    expect(expectCurrentKey('Expired').key.ServiceSpecificCredentialId).toBe(first.key.ServiceSpecificCredentialId);
    expect(resource().physicalId).toBe(first.key.ServiceSpecificCredentialId);
  });

  test('a new resetSerial renews an expired key: a new key of the same age under the same physical id, the expired one deleted', async () => {
    await deploy(keyStack());
    const first = expectCurrentKey('Active');
    localAws.advanceClock(31 * DAY);

    const renewed = await deploy(keyStack({ resetSerial: 1 }));

    const { doc, key } = expectCurrentKey('Active');
    expect(key.ServiceSpecificCredentialId).not.toBe(first.key.ServiceSpecificCredentialId);
    expect(ageOf(key)).toBe(30);
    expect(key.ExpirationDate!.getTime()).toBeGreaterThan(localAws.iamNow() + 29 * DAY);
    expect(keys().map((c) => c.ServiceSpecificCredentialId)).toEqual([key.ServiceSpecificCredentialId]);
    expect(doc).toMatchObject({ resourceId: first.key.ServiceSpecificCredentialId, resetSerial: '1', expirationDate: key.ExpirationDate!.toISOString() });
    // The answer: the same physical id, the new key's id and expiry.
    expect(renewed.invocations.map((i) => i.event.RequestType)).toEqual(['Update']);
    expect(renewed.invocations[0].response).toMatchObject({
      PhysicalResourceId: first.key.ServiceSpecificCredentialId,
      Data: { ServiceSpecificCredentialId: key.ServiceSpecificCredentialId, ExpirationDate: key.ExpirationDate!.toISOString() },
    });
    expect(resource().attributes.ExpirationDate).toBe(key.ExpirationDate!.toISOString());

    // The renewed key is the resource's: a later reset resets it, and the stack's DELETE deletes it.
    await deploy(keyStack({ resetSerial: 2 }));
    expect(expectCurrentKey('Active').key.ServiceSpecificCredentialId).toBe(key.ServiceSpecificCredentialId);
    await cfn.destroy(keyStack({ resetSerial: 2 }));
    expect(localAws.credentials()).toEqual([]);
  });

  test('a new resetSerial renews an expired key even when a policy denies resetting keys: a renewal needs no reset', async () => {
    await deploy(keyStack());
    const first = expectCurrentKey('Active');
    localAws.advanceClock(31 * DAY);
    // A service control policy that denies resets (keys are to be renewed, never reset), in AWS's documented format.
    localAws.inject({
      service: 'iam',
      operation: 'ResetServiceSpecificCredential',
      times: 1_000,
      error: {
        code: 'AccessDenied',
        status: 403,
        message: REFUSAL_WORDINGS.aws.explicitDeny('arn:aws:sts::123456789012:assumed-role/Handler/fn', 'iam:ResetServiceSpecificCredential',
          'arn:aws:iam::123456789012:user/ci-bot', 'service control policy', 'arn:aws:organizations::111111111111:policy/o-example/service_control_policy/p-example'),
      },
    });

    await deploy(keyStack({ resetSerial: 1 }));

    const { key } = expectCurrentKey('Active');
    expect(key.ServiceSpecificCredentialId).not.toBe(first.key.ServiceSpecificCredentialId);
    expect(keys().map((c) => c.ServiceSpecificCredentialId)).toEqual([key.ServiceSpecificCredentialId]);
  });

  test('a renewal asked Inactive issues the new key Inactive', async () => {
    await deploy(keyStack({ status: CredentialStatus.INACTIVE }));
    localAws.advanceClock(31 * DAY);

    await deploy(keyStack({ status: CredentialStatus.INACTIVE, resetSerial: 1 }));

    expectCurrentKey('Inactive');
    expect(keys()).toHaveLength(1);
  });

  test('a renewal whose second slot another actor holds deletes the expired key first, never the other actor\'s', async () => {
    await deploy(keyStack());
    const first = expectCurrentKey('Active');
    const other = await createKey();
    localAws.advanceClock(31 * DAY);

    await deploy(keyStack({ resetSerial: 1 }));

    const { key } = expectCurrentKey('Active');
    expect(keys().map((c) => c.ServiceSpecificCredentialId).sort()).toEqual([key.ServiceSpecificCredentialId, other].sort());
    expect(keyOf(first.key.ServiceSpecificCredentialId)).toBeUndefined();
  });

  test('a stack with an expired key is deleted, the key with it', async () => {
    const synth = keyStack();
    await deploy(synth);
    localAws.advanceClock(31 * DAY);

    const deleted = await cfn.destroy(synth);

    expect(deleted.invocations[0].response).toMatchObject({ Status: 'SUCCESS' });
    expect(localAws.credentials()).toEqual([]);
  });

  test('a replacement (another user) of an expired key creates the new one and deletes the expired one', async () => {
    await deploy(keyStack());
    const first = expectCurrentKey('Active');
    localAws.advanceClock(31 * DAY);

    await deploy(keyStack({ userName: 'ci-bot-2' }));

    expect(expectCurrentKey('Active').key.UserName).toBe('ci-bot-2');
    expect(keyOf(first.key.ServiceSpecificCredentialId)).toBeUndefined();
  });
});

describe('ALTERNATING rotation', () => {
  const rotation: CredentialRotationOptions = { automaticallyAfter: Duration.days(20) };

  test.each([CredentialStatus.ACTIVE, CredentialStatus.INACTIVE])('a rotation renews an expired %s key with a new key of the same age and status', async (status) => {
    const synth = keyStack({ rotation, status });
    await deploy(synth);
    const first = expectCurrentKey(status);
    localAws.advanceClock(31 * DAY);

    const renewal = await cfn.rotate(synth, secretArn());

    expect(renewal.failedStep).toBeUndefined();
    const { key } = expectCurrentKey(status);
    expect(ageOf(key)).toBe(30);
    expect(key.ServiceSpecificCredentialId).not.toBe(first.key.ServiceSpecificCredentialId);
    // The expired key is the pair's previous one until the next rotation deletes it.
    const next = await cfn.rotate(synth, secretArn());
    expect(next.failedStep).toBeUndefined();
    expect(keyOf(first.key.ServiceSpecificCredentialId)).toBeUndefined();
    expect(keys()).toHaveLength(2);
  });

  test('a key staged by createSecret that expires before finishSecret is never made current; the next rotation renews', async () => {
    const synth = keyStack({ rotation });
    await deploy(synth);
    const first = expectCurrentKey('Active');
    const stalled = await cfn.rotate(synth, secretArn(), { steps: ['createSecret', 'setSecret', 'testSecret'] });
    expect(stalled.failedStep).toBeUndefined();
    localAws.advanceClock(31 * DAY);

    const finish = await cfn.rotate(synth, secretArn(), { token: stalled.token, steps: ['finishSecret'], resume: true });

    expect(finish.failedStep).toBe('finishSecret');
    expect(expectCurrentKey('Expired').key.ServiceSpecificCredentialId).toBe(first.key.ServiceSpecificCredentialId);
    expect(localAws.secret(secretArn())!.versions.some((v) => v.stages.includes('AWSPENDING'))).toBe(false);
    const next = await cfn.rotate(synth, secretArn());
    expect(next.failedStep).toBeUndefined();
    expectCurrentKey('Active');
    expect(keys().length).toBeLessThanOrEqual(2);
  });

  test('a new resetSerial renews an expired pair at once', async () => {
    await deploy(keyStack({ rotation }));
    await cfn.rotate(keyStack({ rotation }), secretArn());
    localAws.advanceClock(31 * DAY);

    await deploy(keyStack({ rotation, resetSerial: 1 }));

    const { key } = expectCurrentKey('Active');
    expect(ageOf(key)).toBe(30);
    expect(keys().filter((c) => c.Status !== 'Expired').map((c) => c.ServiceSpecificCredentialId)).toEqual([key.ServiceSpecificCredentialId]);
  });
});

describe('a renewal UPDATE delivered twice (events straight to the handler)', () => {
  let world: World;
  let d: Driver;
  beforeAll(async () => {
    world = await World.start();
    d = new Driver(world);
  });
  afterAll(() => world.close());

  test('at the same time: both answers keep the physical id, and the renewed key is the one left, current and recorded', async () => {
    const user = d.user();
    const secret = d.secret();
    const props = baseProps(user, secret, { ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30' });
    const created = await d.send('Create', props);
    const physicalId = created.PhysicalResourceId;
    world.localAws.advanceClock(31 * DAY);
    // One event, delivered twice; the first delivery's value reaches Secrets Manager last.
    const event = cfnEvent(world, 'Update', { ...props, ResetSerial: '1' }, physicalId, props);
    world.localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', delayMs: 1_500 });
    const before = world.catcher.responses.length;

    await Promise.all([world.lambda.run(event), world.lambda.run(event)]);
    world.localAws.clearFaults();

    const answers = world.catcher.responses.slice(before).filter((r) => r.RequestId === event.RequestId);
    expect(answers.map((a) => [a.Status, a.PhysicalResourceId])).toEqual([['SUCCESS', physicalId], ['SUCCESS', physicalId]]);
    const keysLeft = world.localAws.credentials({ userName: user });
    expect(keysLeft.map((c) => c.ServiceSpecificCredentialId)).toEqual([d.current(secret).serviceSpecificCredentialId]);
    expect(d.currentAccepted(secret)).toBe(true);
    // The DELETE of the physical id deletes the renewed key.
    expect((await d.send('Delete', { ...props, ResetSerial: '1' }, physicalId)).Status).toBe('SUCCESS');
    expect(world.localAws.credentials({ userName: user })).toEqual([]);
  });
});

describe('RESET_IN_PLACE rotation (the construct refuses it with expiresAfter; events straight to the handler)', () => {
  let world: World;
  let d: Driver;
  beforeAll(async () => {
    world = await World.start();
    d = new Driver(world);
  });
  afterAll(() => world.close());

  const keyProps = (user: string, secret: string) =>
    baseProps(user, secret, { ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30', RotationStrategy: 'RESET_IN_PLACE' });
  const mine = (user: string) => world.localAws.credentials({ userName: user });

  test.each([false, true])('a rotation renews an expired key instead of resetting it (another actor holds the second slot: %s)', async (crowded) => {
    const user = d.user();
    const secret = d.secret('RESET_IN_PLACE');
    const created = await d.send('Create', keyProps(user, secret));
    expect(created.Status).toBe('SUCCESS');
    const other = crowded ? await createKey(world.localAws, user) : undefined;
    world.localAws.advanceClock(31 * DAY);

    const rotation = await d.rotate(secret);

    expect(rotation.failed).toBeUndefined();
    expect(d.currentAccepted(secret)).toBe(true);
    const doc = d.current(secret);
    expect(doc.serviceSpecificCredentialId).not.toBe(created.PhysicalResourceId);
    expect(doc.resourceId).toBe(created.PhysicalResourceId);
    const key = mine(user).find((c) => c.ServiceSpecificCredentialId === doc.serviceSpecificCredentialId)!;
    expect(key.Status).toBe('Active');
    expect(ageOf(key)).toBe(30);
    expect(mine(user).map((c) => c.ServiceSpecificCredentialId).sort()).toEqual([doc.serviceSpecificCredentialId, ...other ? [other] : []].sort());

    const deleted = await d.send('Delete', keyProps(user, secret), created.PhysicalResourceId);
    expect(deleted.Status).toBe('SUCCESS');
    expect(mine(user).map((c) => c.ServiceSpecificCredentialId)).toEqual(other ? [other] : []);
  });

  test('createSecret delivered twice at once: each renews, and the key whose value came second goes, even when IAM would refuse to reset it', async () => {
    const user = d.user();
    const secret = d.secret('RESET_IN_PLACE');
    const created = await d.send('Create', keyProps(user, secret));
    world.localAws.advanceClock(31 * DAY);
    const token = randomUUID();
    world.localAws.startRotation(secret, token);
    // The first delivery's value reaches Secrets Manager last; a reset, were one tried, is refused.
    world.localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', delayMs: 1_500 });
    world.localAws.inject({ service: 'iam', operation: 'ResetServiceSpecificCredential', error: { code: 'InvalidInput', status: 400, message: 'refused' } });

    const steps = await Promise.all([d.step(secret, token, 'createSecret'), d.step(secret, token, 'createSecret')]);
    world.localAws.clearFaults();

    expect(steps.map((s) => s.threw)).toEqual([false, false]);
    expect(world.localAws.calls.filter((c) => c.operation === 'ResetServiceSpecificCredential')).toEqual([]);
    expect(d.currentAccepted(secret)).toBe(true);
    expect(mine(user).map((c) => c.ServiceSpecificCredentialId)).toEqual([d.current(secret).serviceSpecificCredentialId]);
    for (const step of ['setSecret', 'testSecret', 'finishSecret']) expect((await d.step(secret, token, step)).threw).toBe(false);
    expect((await d.send('Delete', keyProps(user, secret), created.PhysicalResourceId)).Status).toBe('SUCCESS');
    expect(mine(user)).toEqual([]);
  });
});

async function createKey(aws: LocalAws = localAws, userName = 'ci-bot'): Promise<string> {
  const client = new IAMClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'other', secretAccessKey: 'x' }, maxAttempts: 1 });
  try {
    const out = await client.send(new CreateServiceSpecificCredentialCommand({ UserName: userName, ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: 365 }));
    return out.ServiceSpecificCredential!.ServiceSpecificCredentialId!;
  } finally {
    client.destroy();
  }
}
