import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CloudFormation, Deployment, Invocation, Rotation, Synthesized, synthesize } from './cloudformation';
import { leaks } from './world';
import { exampleStack } from '../../examples/app';
import { CredentialService, CredentialStatus, RotationStrategy, ServiceSpecificCredential } from '../../src';
import { LocalAws, startLocalAws } from '../local-aws';

// Rotation through the real bundled handler: Secrets Manager's four steps as it sends them, interleaved with the
// CloudFormation events of the same construct, against the local IAM + Secrets Manager. After each step: the secret's
// current value is one IAM accepts, every credential of the user is one the secret records, and nothing leaked.

jest.setTimeout(90_000);

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

const CR = 'Custom::ServiceSpecificCredential';
const ALTERNATING = { automaticallyAfter: Duration.days(30) };
const RESET_IN_PLACE = { automaticallyAfter: Duration.days(30), strategy: RotationStrategy.RESET_IN_PLACE };
const example = (settings: Parameters<typeof exampleStack>[1] = {}) => synthesize((app) => exampleStack(app, settings));

async function deploy(synth: Synthesized, options?: { failAfterResources?: boolean }): Promise<Deployment> {
  const deployment = await cfn.deploy(synth, options);
  for (const invocation of deployment.invocations) {
    expect(invocation.response).toBeDefined();
    expect(invocation.exitCode).toBe(0);
  }
  expectNoLeak(deployment.invocations, synth);
  return deployment;
}

async function rotate(synth: Synthesized, options: { token?: string; steps?: readonly string[]; resume?: boolean } = {}): Promise<Rotation> {
  const rotation = await cfn.rotate(synth, secretArn(), options);
  expectNoLeak(rotation.invocations);
  return rotation;
}

function expectNoLeak(invocations: Array<Invocation<unknown>>, synth?: Synthesized) {
  expect(leaks(localAws, issued, { status: 'COMPLETE', invocations: invocations as Invocation[] }, synth)).toEqual([]);
}

const secretArn = () => cfn.resourceOfType(CR)!.attributes.SecretArn;
const versions = () => localAws.secret(secretArn())!.versions;
const labelled = (stage: string) => {
  const version = versions().find((v) => v.stages.includes(stage));
  return version?.secretString ? JSON.parse(version.secretString) as Record<string, string> : undefined;
};
const valueOf = (doc?: Record<string, string>) => doc?.password ?? doc?.apiKey;
/** Whether IAM accepts the value a document holds: its credential exists, is active, and this is its current secret. */
const accepted = (doc?: Record<string, string>) => localAws.credentials().some((c) =>
  c.ServiceSpecificCredentialId === doc?.serviceSpecificCredentialId && c.Status === 'Active' && (c.ServicePassword ?? c.ServiceCredentialSecret) === valueOf(doc));
const ids = (userName = 'ci-bot') => localAws.credentials({ userName }).map((c) => c.ServiceSpecificCredentialId).sort();
const stepCalls = (rotation: Rotation) => rotation.invocations.map((i) => `${i.event.Step}: ${i.calls.map((c) => c.replace(/ -> ok$/, '')).join(', ')}`);

/** No credential of the user that the secret's labelled versions do not record; never more than IAM's 2. */
function expectNothingOrphaned(userName = 'ci-bot') {
  // A secret's generated first value (not JSON) records no credential.
  const recorded = new Set(versions().filter((v) => v.stages.length && v.secretString?.startsWith('{'))
    .map((v) => JSON.parse(v.secretString!).serviceSpecificCredentialId));
  expect(ids(userName).filter((id) => !recorded.has(id))).toEqual([]);
  expect(ids(userName).length).toBeLessThanOrEqual(2);
}

describe('ALTERNATING', () => {
  test('each rotation issues a new credential; the previous value keeps working until the next rotation', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    const original = labelled('AWSCURRENT')!;
    expect(ids()).toHaveLength(1);
    expect(localAws.secret(secretArn())!.rotationEnabled).toBe(true);

    const first = await rotate(synth);
    expect(first.failedStep).toBeUndefined();
    const afterFirst = labelled('AWSCURRENT')!;
    expect(afterFirst.serviceSpecificCredentialId).not.toBe(original.serviceSpecificCredentialId);
    expect(accepted(afterFirst)).toBe(true);
    expect(labelled('AWSPREVIOUS')).toEqual(original);
    expect(accepted(original)).toBe(true);
    expect(ids()).toHaveLength(2);
    expect(afterFirst.resourceId).toBe(cfn.resourceOfType(CR)!.physicalId);
    // With one credential there is nothing older to delete: create and stage it, check it, promote it.
    expect(stepCalls(first)).toEqual([
      // The labels (DescribeSecret) say which credential is current and what else the resource owns. Is the token's
      // version written already (by a repeated call, or superseded by a stack update)? Does the current credential
      // exist? Which resetSerial does its value carry? Then the new credential and its value, written with its label
      // in one call.
      'createSecret: secretsmanager:DescribeSecret, secretsmanager:GetSecretValue -> ResourceNotFoundException, '
        + 'iam:ListServiceSpecificCredentials, secretsmanager:GetSecretValue, '
        + 'iam:CreateServiceSpecificCredential, secretsmanager:PutSecretValue',
      'setSecret: secretsmanager:DescribeSecret',
      // The staged version still holds its credential's newest value (the labels say so).
      'testSecret: secretsmanager:DescribeSecret',
      // Right before it becomes current, the staged credential still exists; then AWSCURRENT moves to the new version,
      // and AWSPENDING leaves it, so that no later write strands the label.
      'finishSecret: secretsmanager:DescribeSecret, iam:ListServiceSpecificCredentials, secretsmanager:UpdateSecretVersionStage, '
        + 'secretsmanager:UpdateSecretVersionStage',
    ]);

    const second = await rotate(synth);
    expect(second.failedStep).toBeUndefined();
    const afterSecond = labelled('AWSCURRENT')!;
    expect(accepted(afterSecond)).toBe(true);
    expect(labelled('AWSPREVIOUS')).toEqual(afterFirst);
    expect(accepted(afterFirst)).toBe(true);
    // The original, two rotations old, is gone; the pair is the last two values.
    expect(ids()).toEqual([afterFirst.serviceSpecificCredentialId, afterSecond.serviceSpecificCredentialId].sort());
    // The original is deleted and its label removed before the new credential takes its slot.
    expect(stepCalls(second)[0]).toContain(
      'iam:DeleteServiceSpecificCredential, secretsmanager:UpdateSecretVersionStage, iam:CreateServiceSpecificCredential');
    expectNothingOrphaned();

    // The stack's resource still answers with its first id; stack deletion removes the whole pair.
    const deletion = await cfn.destroy(synth);
    expect(deletion.invocations[0].response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: original.serviceSpecificCredentialId });
    expect(localAws.credentials()).toEqual([]);
  });

  test('a step delivered twice, and every step delivered again after the rotation finished, change nothing more', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    const created = await rotate(synth, { steps: ['createSecret'] });
    const again = await rotate(synth, { token: created.token, steps: ['createSecret'] });
    expect(again.failedStep).toBeUndefined();
    expect(ids()).toHaveLength(2);
    const done = await rotate(synth, { token: created.token });
    expect(done.failedStep).toBeUndefined();
    const current = labelled('AWSCURRENT')!;
    const repeated = await rotate(synth, { token: created.token, resume: true });
    expect(repeated.failedStep).toBeUndefined();
    expect(labelled('AWSCURRENT')).toEqual(current);
    expect(ids()).toHaveLength(2);
    expect(repeated.invocations.flatMap((i) => i.calls).filter((c) => c.startsWith('iam:') || c.includes('Put'))).toEqual([]);
    expectNothingOrphaned();
  });

  test('a rotation that fails half-way leaves the current value working, and its retry finishes within IAM\'s 2', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    await rotate(synth);
    const before = labelled('AWSCURRENT')!;
    // The new value cannot be stored: the credential made for it is deleted again.
    localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', times: 50, error: { code: 'KMSAccessDeniedException', status: 400, message: 'Access to KMS is not allowed' } });
    const failed = await rotate(synth);
    expect(failed.failedStep).toBe('createSecret');
    expect(failed.invocations[0].output.split('\n')).toContain('createSecret failed: KMSAccessDenied: Access to KMS is not allowed');
    expect(labelled('AWSCURRENT')).toEqual(before);
    expect(accepted(before)).toBe(true);
    expectNothingOrphaned();
    localAws.clearFaults();

    // Secrets Manager retries with the same token: the rotation completes, the quota is never exceeded.
    const retried = await rotate(synth, { token: failed.token });
    expect(retried.failedStep).toBeUndefined();
    expect(accepted(labelled('AWSCURRENT'))).toBe(true);
    expect(labelled('AWSPREVIOUS')).toEqual(before);
    expect(localAws.calls.filter((c) => c.outcome === 'LimitExceeded')).toEqual([]);
    expectNothingOrphaned();
  });

  test('an abandoned rotation is finished by the next attempt, which Secrets Manager makes with the same token', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    const before = labelled('AWSCURRENT')!;
    const abandoned = await rotate(synth, { steps: ['createSecret', 'setSecret'] });
    expect(labelled('AWSCURRENT')).toEqual(before);
    expect(accepted(before)).toBe(true);
    expect(() => localAws.startRotation(secretArn(), 'another-token-0000000000000000000000')).toThrow('Previous rotation request is still in progress');
    const finished = await rotate(synth, { token: abandoned.token });
    expect(finished.failedStep).toBeUndefined();
    expect(labelled('AWSCURRENT')!.serviceSpecificCredentialId).not.toBe(before.serviceSpecificCredentialId);
    expect(ids()).toHaveLength(2);
    expectNothingOrphaned();
  });

  test('a new resetSerial rotates at once, with the same guarantees, and its rollback repeats nothing that holds', async () => {
    await deploy(example({ rotation: ALTERNATING }));
    const before = labelled('AWSCURRENT')!;
    const physicalId = cfn.resourceOfType(CR)!.physicalId;
    const update = await deploy(example({ rotation: ALTERNATING, resetSerial: 1 }));
    expect(update.invocations[0].response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    const after = labelled('AWSCURRENT')!;
    expect(after.serviceSpecificCredentialId).not.toBe(before.serviceSpecificCredentialId);
    expect(after.resetSerial).toBe('1');
    expect(accepted(after)).toBe(true);
    expect(accepted(before)).toBe(true);
    expect(cfn.resourceOfType(CR)!.attributes.ServiceSpecificCredentialId).toBe(after.serviceSpecificCredentialId);
    expectNothingOrphaned();

    // A later resource fails: CloudFormation sends the update back. The value for serial 0 is gone (rotated away), so
    // the rollback rotates again, within the pair.
    const rolledBack = await deploy(example({ rotation: ALTERNATING, resetSerial: 2 }), { failAfterResources: true });
    expect(rolledBack.status).toBe('ROLLBACK_COMPLETE');
    expect(accepted(labelled('AWSCURRENT'))).toBe(true);
    expect(labelled('AWSCURRENT')!.resetSerial).toBe('1');
    expectNothingOrphaned();
  });

  test('a status change acts on both credentials of the pair', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    await rotate(synth);
    await deploy(example({ rotation: ALTERNATING, status: CredentialStatus.INACTIVE }));
    expect(localAws.credentials({ userName: 'ci-bot' }).map((c) => c.Status)).toEqual(['Inactive', 'Inactive']);
    // A rotation of an inactive credential issues an inactive one.
    await rotate(example({ rotation: ALTERNATING, status: CredentialStatus.INACTIVE }));
    expect(localAws.credentials({ userName: 'ci-bot' }).map((c) => c.Status)).toEqual(['Inactive', 'Inactive']);
    await deploy(example({ rotation: ALTERNATING }));
    expect(localAws.credentials({ userName: 'ci-bot' }).map((c) => c.Status)).toEqual(['Active', 'Active']);
    expect(accepted(labelled('AWSCURRENT'))).toBe(true);
    expect(accepted(labelled('AWSPREVIOUS'))).toBe(true);
  });

  test('a replacement after rotations deletes the old pair in its cleanup, and nothing of the new user', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    await rotate(synth);
    await rotate(synth);
    expect(ids()).toHaveLength(2);
    const replaced = await deploy(example({ rotation: ALTERNATING, userName: 'ci-bot-2' }));
    expect(replaced.invocations.map((i) => i.event.RequestType)).toEqual(['Update', 'Delete']);
    expect(ids('ci-bot')).toEqual([]);
    expect(ids('ci-bot-2')).toHaveLength(1);
    expect(accepted(labelled('AWSCURRENT'))).toBe(true);
    const synth2 = example({ rotation: ALTERNATING, userName: 'ci-bot-2' });
    await rotate(synth2);
    expect(ids('ci-bot-2')).toHaveLength(2);
    expectNothingOrphaned('ci-bot-2');
  });

  test('a replacement rolled back by a later resource leaves the old pair\'s current value current and working', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    await rotate(synth);
    const before = labelled('AWSCURRENT')!;
    const rolledBack = await deploy(example({ rotation: ALTERNATING, userName: 'ci-bot-2' }), { failAfterResources: true });
    expect(rolledBack.status).toBe('ROLLBACK_COMPLETE');
    expect(labelled('AWSCURRENT')).toMatchObject({ serviceSpecificCredentialId: before.serviceSpecificCredentialId });
    expect(accepted(labelled('AWSCURRENT'))).toBe(true);
    expect(localAws.credentials({ userName: 'ci-bot-2' })).toEqual([]);
    expectNothingOrphaned();
    // The pair fills up again at the next rotation.
    const next = await rotate(synth);
    expect(next.failedStep).toBeUndefined();
    expectNothingOrphaned();
  });

  test('stack deletion removes every credential the secret records, and no other credential of the user', async () => {
    const synth = synthesize((app) => {
      const stack = exampleStack(app, { rotation: ALTERNATING });
      new ServiceSpecificCredential(stack, 'Keyspaces', { user: stack.node.findChild('GitUser') as iam.User, service: CredentialService.KEYSPACES });
      return stack;
    });
    await deploy(synth);
    await rotate(synth);
    await rotate(synth);
    const keyspaces = localAws.credentials({ serviceName: 'cassandra.amazonaws.com' });
    expect(keyspaces).toHaveLength(1);
    // Delete only the rotating construct: the other credential of the same user stays.
    const withoutGit = synthesize((app) => {
      const stack = new Stack(app, 'GitCredentialExample', { env: { account: '123456789012', region: 'us-east-1' } });
      const user = new iam.User(stack, 'GitUser', { userName: 'ci-bot' });
      new ServiceSpecificCredential(stack, 'Keyspaces', { user, service: CredentialService.KEYSPACES });
      return stack;
    });
    await deploy(withoutGit);
    expect(localAws.credentials({ serviceName: 'codecommit.amazonaws.com' })).toEqual([]);
    expect(localAws.credentials({ serviceName: 'cassandra.amazonaws.com' })).toEqual(keyspaces);
  });

  test('turning rotation off keeps the current credential and deletes the other of the pair', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    await rotate(synth);
    const current = labelled('AWSCURRENT')!;
    await deploy(example());
    expect(ids()).toEqual([current.serviceSpecificCredentialId]);
    expect(accepted(labelled('AWSCURRENT'))).toBe(true);
    // Later updates find the rotated credential through the secret, not the resource's first id.
    await deploy(example({ resetSerial: 1 }));
    expect(ids()).toEqual([current.serviceSpecificCredentialId]);
    expect(labelled('AWSCURRENT')!.password).not.toBe(current.password);
    expect(accepted(labelled('AWSCURRENT'))).toBe(true);
    await cfn.destroy(example({ resetSerial: 1 }));
    expect(localAws.credentials()).toEqual([]);
  });

  test('an API key with an expiry gets a new key with the same age at each rotation', async () => {
    const bedrock = () => synthesize((app) => {
      const stack = new Stack(app, 'GitCredentialExample', { env: { account: '123456789012', region: 'us-east-1' } });
      const user = new iam.User(stack, 'GitUser', { userName: 'ci-bot' });
      new ServiceSpecificCredential(stack, 'Key', {
        user, service: CredentialService.BEDROCK, expiresAfter: Duration.days(90), rotation: ALTERNATING,
      });
      return stack;
    });
    const synth = bedrock();
    await deploy(synth);
    const first = labelled('AWSCURRENT')!;
    await new Promise((r) => setTimeout(r, 20));
    await rotate(synth);
    const second = labelled('AWSCURRENT')!;
    expect(second.apiKey).not.toBe(first.apiKey);
    expect(Date.parse(second.expirationDate)).toBeGreaterThan(Date.parse(first.expirationDate));
    const key = localAws.credentials().find((c) => c.ServiceSpecificCredentialId === second.serviceSpecificCredentialId)!;
    expect(Math.round((key.ExpirationDate!.getTime() - key.CreateDate.getTime()) / 86_400_000)).toBe(90);
  });
});

describe('RESET_IN_PLACE', () => {
  test('each rotation resets the one credential and makes the new value current in createSecret', async () => {
    const synth = example({ rotation: RESET_IN_PLACE });
    await deploy(synth);
    const before = labelled('AWSCURRENT')!;
    const rotation = await rotate(synth, { steps: ['createSecret'] });
    const after = labelled('AWSCURRENT')!;
    expect(after.serviceSpecificCredentialId).toBe(before.serviceSpecificCredentialId);
    expect(after.password).not.toBe(before.password);
    expect(accepted(after)).toBe(true);
    expect(accepted(before)).toBe(false);
    const rest = await rotate(synth, { token: rotation.token });
    expect(rest.failedStep).toBeUndefined();
    expect(labelled('AWSCURRENT')).toEqual(after);
    expect(ids()).toEqual([before.serviceSpecificCredentialId]);
    // The labels say what is current; the token's version is not written yet; IAM confirms the current credential
    // exists; its value is read for its resetSerial.
    expect(stepCalls(rotation)).toEqual([
      'createSecret: secretsmanager:DescribeSecret, secretsmanager:GetSecretValue -> ResourceNotFoundException, '
        + 'iam:ListServiceSpecificCredentials, secretsmanager:GetSecretValue, '
        + 'iam:ResetServiceSpecificCredential, secretsmanager:PutSecretValue',
    ]);
  });
});

describe('a rotation and a stack update of the same construct', () => {
  test('a new resetSerial deployed between createSecret and finishSecret wins; the rotation stops, nothing is orphaned', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    await rotate(synth);
    const staged = await rotate(synth, { steps: ['createSecret', 'setSecret'] });
    await deploy(example({ rotation: ALTERNATING, resetSerial: 1 }));
    const afterUpdate = labelled('AWSCURRENT')!;
    expect(afterUpdate.resetSerial).toBe('1');
    const rest = await rotate(synth, { token: staged.token, steps: ['testSecret', 'finishSecret'], resume: true });
    expect(rest.failedStep).toBe('testSecret');
    expect(rest.invocations[0].output.split('\n')).toContain(`testSecret failed: Version ${staged.token} of secret ${secretArn()} is not AWSPENDING: `
      + 'a later rotation or stack update took its place. Nothing was changed');
    expect(labelled('AWSCURRENT')).toEqual(afterUpdate);
    expect(accepted(afterUpdate)).toBe(true);
    expectNothingOrphaned();
    // The next scheduled rotation starts cleanly.
    expect((await rotate(synth)).failedStep).toBeUndefined();
    expectNothingOrphaned();
  });

  test('a status change deployed in the middle of a rotation ends with both credentials in the asked status', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    const staged = await rotate(synth, { steps: ['createSecret'] });
    await deploy(example({ rotation: ALTERNATING, status: CredentialStatus.INACTIVE }));
    const rest = await rotate(synth, { token: staged.token, steps: ['setSecret', 'testSecret', 'finishSecret'], resume: true });
    expect(rest.failedStep).toBeUndefined();
    expect(accepted(labelled('AWSCURRENT'))).toBe(false); // inactive, as asked
    expect(localAws.credentials({ userName: 'ci-bot' }).map((c) => c.Status)).toEqual(['Inactive', 'Inactive']);
    expectNothingOrphaned();
  });
});

describe('refused', () => {
  test('a rotation event for a secret of another stack, or with rotation off, changes nothing', async () => {
    const synth = example();
    await deploy(synth);
    const rotation = await rotate(synth);
    expect(rotation.failedStep).toBe('createSecret');
    expect(rotation.invocations[0].output.split('\n')).toContain(`createSecret failed: Secret ${secretArn()} does not have rotation turned on; nothing was changed`);
    const foreign = localAws.createSecret('someone-else', { value: '{}' });
    const event = { SecretId: foreign, ClientRequestToken: 'f0000000-0000-4000-8000-000000000000', Step: 'createSecret' };
    localAws.startRotation(foreign, event.ClientRequestToken);
    const refused = await cfn.invoke(synth, event);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.output.split('\n')).toContain(`createSecret failed: Secret ${foreign} is not a credential secret of stack ${cfn.stackId}: such a `
      + 'secret carries the tags aws:cloudformation:stack-id (set by CloudFormation only) and cdk-service-specific-credential, both with the stack\'s id. '
      + 'Nothing was changed');
    expect(refused.calls).toEqual(['secretsmanager:DescribeSecret -> ok']);
    expect(ids()).toHaveLength(1);
  });
});

test('ALTERNATING takes both of the user\'s slots at synth time', () => {
  const stack = new Stack(new App());
  const user = new iam.User(stack, 'U', { userName: 'bot' });
  new ServiceSpecificCredential(stack, 'A', { user, service: CredentialService.CODECOMMIT, rotation: ALTERNATING });
  expect(() => new ServiceSpecificCredential(stack, 'B', { user, service: CredentialService.CODECOMMIT }))
    .toThrow(/Default\/A \(ALTERNATING rotation: counts as 2\)/);
});

describe('a new secretName for an ALTERNATING pair', () => {
  test('resets the current credential into the new secret under the same id, deleting the older one; a rollback moves it back', async () => {
    const synth = example({ rotation: ALTERNATING });
    await deploy(synth);
    await rotate(synth);
    const physicalId = cfn.resourceOfType(CR)!.physicalId;
    const old = labelled('AWSCURRENT')!;
    const older = labelled('AWSPREVIOUS')!;
    expect(ids()).toEqual([old.serviceSpecificCredentialId, older.serviceSpecificCredentialId].sort());
    const oldSecret = secretArn();
    const movedStack = () => synthesize((app) => {
      const stack = exampleStack(app, { rotation: ALTERNATING });
      (stack.node.findChild('GitCredential').node.findChild('Secret').node.defaultChild as any).name = 'ci/git-moved';
      return stack;
    });

    // Rolled back by a later resource: the current credential is reset into the new secret, then back into the old
    // one, under the same physical id both ways (no cleanup DELETE). The pair's older credential, recorded only in
    // the old secret, went with the first UPDATE.
    const rolledBack = await deploy(movedStack(), { failAfterResources: true });
    expect(rolledBack.status).toBe('ROLLBACK_COMPLETE');
    expect(rolledBack.invocations.map((i) => `${i.event.RequestType} ${i.response?.Status} ${i.response?.PhysicalResourceId}`))
      .toEqual([`Update SUCCESS ${physicalId}`, `Update SUCCESS ${physicalId}`]);
    expect(rolledBack.invocations.map((i) => i.calls.filter((c) => c.startsWith('iam:Reset')).length)).toEqual([1, 1]);
    expect(secretArn()).toBe(oldSecret);
    const back = labelled('AWSCURRENT')!;
    expect(back).toMatchObject({ serviceSpecificCredentialId: old.serviceSpecificCredentialId, resourceId: physicalId });
    expect(back.password).not.toBe(old.password);
    expect(accepted(back)).toBe(true);
    expect(ids()).toEqual([old.serviceSpecificCredentialId]);
    expectNothingOrphaned();

    const moved = await deploy(movedStack());
    expect(moved.invocations.map((i) => `${i.event.RequestType} ${i.response?.Status} ${i.response?.PhysicalResourceId}`))
      .toEqual([`Update SUCCESS ${physicalId}`]);
    expect(secretArn()).not.toBe(oldSecret);
    const now = labelled('AWSCURRENT')!;
    expect(now).toMatchObject({ serviceSpecificCredentialId: old.serviceSpecificCredentialId, resourceId: physicalId });
    expect(now.password).not.toBe(back.password);
    expect(accepted(now)).toBe(true);
    expect(ids()).toEqual([now.serviceSpecificCredentialId]);
    expectNothingOrphaned();

    // The pair forms again at the next rotation, in the new secret. (CloudFormation updates the RotationSchedule to the
    // new secret; the local CloudFormation does not model that update, so rotation is turned on here as it would.)
    localAws.secret(secretArn())!.rotationEnabled = true;
    const next = await rotate(movedStack());
    expect(next.failedStep).toBeUndefined();
    expect(labelled('AWSPREVIOUS')).toEqual(now);
    expect(accepted(labelled('AWSCURRENT'))).toBe(true);
    expect(ids()).toHaveLength(2);
    expectNothingOrphaned();
  });
});

describe('Secrets Manager\'s test of the rotation configuration', () => {
  // CloudFormation creates or updates a RotationSchedule with RotateImmediatelyOnUpdate false (the construct's
  // default), so Secrets Manager runs testSecret alone, on an AWSPENDING version it creates and then removes. A failed
  // test would be a failed rotation (onRotationFailed fires) at every deployment that turns rotation on.
  const forms = ['copy', 'empty', 'none'] as const;
  test.each(['ALTERNATING', 'RESET_IN_PLACE'].flatMap((strategy) => forms.map((form) => [strategy, form] as const)))(
    'GIVEN %s rotation WHEN testSecret runs alone on a version of the %s form THEN it succeeds, changes nothing and calls no IAM', async (strategy, form) => {
      const synth = example({ rotation: strategy === 'ALTERNATING' ? ALTERNATING : RESET_IN_PLACE });
      await deploy(synth);
      await rotate(synth); // a secret whose record spans versions
      const before = JSON.stringify(versions());
      const credentials = ids();

      const test = await cfn.testRotationConfiguration(synth, secretArn(), form);

      expect(test.output).not.toMatch(/failed/);
      expect(test.exitCode).toBe(0);
      // Only reads: the record, then the version the token names (none, or holding no value, is AWS's not-found).
      expect(test.calls).toEqual(['secretsmanager:DescribeSecret -> ok',
        `secretsmanager:GetSecretValue -> ${form === 'copy' ? 'ok' : 'ResourceNotFoundException'}`]);
      expectNoLeak([test]);
      expect(JSON.stringify(versions())).toBe(before);
      expect(ids()).toEqual(credentials);
      const next = await rotate(synth);
      expect(next.failedStep).toBeUndefined();
      expect(accepted(labelled('AWSCURRENT'))).toBe(true);
      expectNothingOrphaned();
    });
});
