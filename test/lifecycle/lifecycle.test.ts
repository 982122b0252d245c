import { CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CloudFormation, Deployment, Invocation, Synthesized, synthesize } from './cloudformation';
import { currentDocument, leaks } from './world';
import { exampleStack } from '../../examples/app';
import { CredentialService, CredentialStatus, ServiceSpecificCredential } from '../../src';
import { DENIED_HINT, EXPLICIT_DENY_FIX, escape, SECRETS_HINT, RETRY } from '../expected-reasons';
import { LocalAws, startLocalAws } from '../local-aws';
import { NOT_FOUND_WORDINGS, REFUSAL_WORDINGS, defaultWordings } from '../local-aws/errors';

// The real bundled handler from cdk.out, run as Lambda would run it, through the event sequences CloudFormation
// sends, against a local IAM + Secrets Manager. After every step the state of the local AWS is asserted.

jest.setTimeout(60_000);

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
const example = (settings: Parameters<typeof exampleStack>[1] = {}) => synthesize((app) => exampleStack(app, settings));

/** Deploys and asserts what holds after every deployment: answered in time, nothing thrown, nothing leaked. */
async function deploy(synth: Synthesized): Promise<Deployment> {
  const deployment = await cfn.deploy(synth);
  expectWellBehaved(deployment, synth);
  return deployment;
}

function expectWellBehaved(deployment: Deployment, synth?: Synthesized) {
  for (const invocation of deployment.invocations) {
    expect(invocation.response).toBeDefined();
    expect(invocation.timedOut).toBe(false);
    expect(invocation.exitCode).toBe(0);
  }
  expect(leaks(localAws, issued, deployment, synth)).toEqual([]);
}

/**
 * Invariant 1: the secret holds the current secret value of the credential CloudFormation knows. A resource's first
 * credential gives it its physical id; a credential issued in place of one deleted outside CloudFormation keeps that
 * id, so the credential is the one the secret and the resource's attributes name, for the resource the secret names.
 */
function expectSecretMatchesIam(userName: string) {
  const credential = cfn.resourceOfType(CR)!;
  const doc = currentDocument(localAws, credential.attributes.SecretArn);
  expect(doc.resourceId).toBe(credential.physicalId);
  expect(credential.attributes.ServiceSpecificCredentialId).toBe(doc.serviceSpecificCredentialId);
  const stored = localAws.credentials({ userName }).find((c) => c.ServiceSpecificCredentialId === doc.serviceSpecificCredentialId);
  expect(stored).toBeDefined();
  expect(doc.password ?? doc.apiKey).toBe(stored!.ServicePassword ?? stored!.ServiceCredentialSecret);
  return { credential, stored: stored!, doc };
}

/** How the local IAM words NoSuchEntity in this run (LOCAL_AWS_WORDINGS). */
const says = NOT_FOUND_WORDINGS[defaultWordings()];
const TIMED_OUT = (operation: string) => 'Timed out waiting for IAM or Secrets Manager for IAM user \'ci-bot\' and codecommit.amazonaws.com: '
  + `${operation} did not succeed before the deadline`;

const callsOf = (invocation: Invocation) => invocation.calls.map((c) => c.replace(/ -> ok$/, ''));

test('create, status change, reset, replacement and delete, each with its API calls', async () => {
  const created = await deploy(example());
  const first = expectSecretMatchesIam('ci-bot');
  expect(first.credential.physicalId).toBe(first.doc.serviceSpecificCredentialId);
  // Before IAM issues anything, the secret is checked to be this stack's and to hold no other living credential.
  expect(created.invocations.map(callsOf)).toEqual([
    ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'iam:CreateServiceSpecificCredential', 'secretsmanager:PutSecretValue'],
  ]);
  expect(first.doc).toMatchObject({ username: 'ci-bot-at-123456789012', serviceName: 'codecommit.amazonaws.com', iamUserName: 'ci-bot' });
  expect(first.credential.attributes.ServiceUserName).toBe('ci-bot-at-123456789012');

  const deactivated = await deploy(example({ status: CredentialStatus.INACTIVE }));
  const afterStatus = expectSecretMatchesIam('ci-bot');
  expect(afterStatus.credential.physicalId).toBe(first.credential.physicalId);
  expect(afterStatus.stored.Status).toBe('Inactive');
  expect(afterStatus.doc.password).toBe(first.doc.password);
  // The secret's labels (DescribeSecret) say which credential is current (rotation moves it); its status is read, and
  // changed only because it differs.
  expect(deactivated.invocations.map(callsOf)).toEqual([
    ['secretsmanager:DescribeSecret', 'iam:ListServiceSpecificCredentials', 'iam:UpdateServiceSpecificCredential'],
  ]);

  const reset = await deploy(example({ status: CredentialStatus.INACTIVE, resetSerial: 1 }));
  const afterReset = expectSecretMatchesIam('ci-bot');
  expect(afterReset.credential.physicalId).toBe(first.credential.physicalId);
  expect(afterReset.doc.password).not.toBe(first.doc.password);
  expect(afterReset.stored.Status).toBe('Inactive');
  // The secret is checked to be this stack's, and read for the resetSerial its value was issued for.
  expect(reset.invocations.map(callsOf)).toEqual([
    ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'iam:ResetServiceSpecificCredential', 'secretsmanager:PutSecretValue'],
  ]);
  expect(afterReset.doc.resetSerial).toBe('1');

  const replaced = await deploy(example({ userName: 'ci-bot-2', status: CredentialStatus.INACTIVE, resetSerial: 1 }));
  const afterReplace = expectSecretMatchesIam('ci-bot-2');
  expect(afterReplace.credential.physicalId).not.toBe(first.credential.physicalId);
  expect(replaced.invocations.map((i) => i.event.RequestType)).toEqual(['Update', 'Delete']);
  expect(replaced.invocations[1].event).toMatchObject({ PhysicalResourceId: first.credential.physicalId });
  // Another user: the UPDATE deletes nothing of the old resource; its cleanup DELETE deletes the old credential and
  // takes its label off the secret.
  expect(callsOf(replaced.invocations[0]).filter((c) => c.startsWith('iam:Delete'))).toEqual([]);
  expect(callsOf(replaced.invocations[1])).toEqual([
    'secretsmanager:DescribeSecret', 'iam:DeleteServiceSpecificCredential', 'secretsmanager:UpdateSecretVersionStage',
  ]);
  expect(localAws.credentials()).toHaveLength(1);

  const deleted = await cfn.destroy(example({ userName: 'ci-bot-2' }));
  expectWellBehaved(deleted);
  // The stack's own secret records the credential in its labels, so it is deleted and its label removed. The secret
  // held it as current, but the record names no other credential to reinstate (the cleanup DELETE of the replaced one
  // removed its label), so nothing is read.
  expect(deleted.invocations.map(callsOf)).toEqual([[
    'secretsmanager:DescribeSecret', 'iam:DeleteServiceSpecificCredential', 'secretsmanager:UpdateSecretVersionStage',
  ]]);
  expect(localAws.credentials()).toHaveLength(0);
});

test('a failed CREATE is followed by a rollback DELETE that touches nothing', async () => {
  localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', error: { code: 'InvalidRequestException', status: 400, message: 'You can\'t perform this operation on the secret because it was marked for deletion.' } });
  const synth = example();

  const deployment = await cfn.deploy(synth);

  expectWellBehaved(deployment, synth);
  expect(deployment.status).toBe('ROLLBACK_COMPLETE');
  const [create, rollback] = deployment.invocations;
  expect(create.response).toMatchObject({ Status: 'FAILED' });
  expect(create.response!.Reason).toBe('InvalidRequest: You can\'t perform this operation on the secret because it was marked for deletion.');
  // PutSecretValue failing after Create: the new credential is deleted before the FAILED answer.
  expect(callsOf(create)).toEqual([
    'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'iam:CreateServiceSpecificCredential',
    'secretsmanager:PutSecretValue -> InvalidRequestException',
    'iam:DeleteServiceSpecificCredential',
  ]);
  expect(rollback.event).toMatchObject({ RequestType: 'Delete', PhysicalResourceId: create.response!.PhysicalResourceId });
  expect(rollback.calls).toEqual([]);
  expect(rollback.response).toMatchObject({ Status: 'SUCCESS' });
  expect(localAws.credentials()).toHaveLength(0);
});

test('a failed reset deletes the credential nobody holds a password for; the rollback UPDATE issues a new one under the same id', async () => {
  await deploy(example());
  const before = cfn.resourceOfType(CR)!.physicalId;
  expect(localAws.credentials().map((c) => c.ServiceSpecificCredentialId)).toEqual([before]);
  localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', error: { code: 'InvalidRequestException', status: 400, message: 'secret is being rotated' } });

  const synth = example({ resetSerial: 1 });
  const deployment = await cfn.deploy(synth);

  expectWellBehaved(deployment, synth);
  expect(deployment.status).toBe('ROLLBACK_COMPLETE');
  const [update, rollback] = deployment.invocations;
  expect(update.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: before });
  expect(rollback.event).toMatchObject({ RequestType: 'Update', ResourceProperties: { ResetSerial: '0' }, OldResourceProperties: { ResetSerial: '1' } });
  // The failed reset discarded the credential; a rollback never answers a new physical id.
  expect(callsOf(update)).toContain('iam:DeleteServiceSpecificCredential');
  expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: before });
  expect(callsOf(rollback)).toContain('iam:CreateServiceSpecificCredential');
  expect(localAws.credentials()).toHaveLength(1);
  expect(localAws.credentials()[0].ServiceSpecificCredentialId).not.toBe(before);
  const after = expectSecretMatchesIam('ci-bot');
  expect(after.credential.physicalId).toBe(before);
  expect(after.doc.serviceSpecificCredentialId).toBe(localAws.credentials()[0].ServiceSpecificCredentialId);
});

test('a failed replacement is rolled back to the credential that never went away', async () => {
  await deploy(example());
  const before = expectSecretMatchesIam('ci-bot');
  localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', error: { code: 'InvalidRequestException', status: 400, message: 'secret is being rotated' } });

  const synth = example({ userName: 'ci-bot-2' });
  const deployment = await cfn.deploy(synth);

  expectWellBehaved(deployment, synth);
  const [update, rollback] = deployment.invocations;
  expect(update.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: before.credential.physicalId });
  expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: before.credential.physicalId });
  // The secret's labels name the current credential; IAM confirms it still exists with the asked age.
  expect(callsOf(rollback)).toEqual(['secretsmanager:DescribeSecret', 'iam:ListServiceSpecificCredentials']);
  expect(localAws.credentials().map((c) => c.ServiceSpecificCredentialId)).toEqual([before.credential.physicalId]);
  expect(expectSecretMatchesIam('ci-bot').doc.password).toBe(before.doc.password);
});

test('a replacement rolled back because another resource failed leaves the old credential and its secret', async () => {
  await deploy(example());
  const before = expectSecretMatchesIam('ci-bot');

  const synth = example({ userName: 'ci-bot-2' });
  const deployment = await cfn.deploy(synth, { failAfterResources: true });

  expectWellBehaved(deployment, synth);
  const [update, cleanup] = deployment.invocations;
  expect(update.response).toMatchObject({ Status: 'SUCCESS' });
  expect(cleanup.event).toMatchObject({ RequestType: 'Delete', PhysicalResourceId: update.response!.PhysicalResourceId });
  expect(localAws.credentials().map((c) => c.ServiceSpecificCredentialId)).toEqual([before.credential.physicalId]);
  // The secret was written for the new credential; the cleanup makes the old credential's version current again by
  // moving AWSCURRENT back to it, not by writing a copy.
  expect(callsOf(cleanup)).toContain('secretsmanager:UpdateSecretVersionStage');
  expect(callsOf(cleanup).filter((c) => c.startsWith('secretsmanager:Put'))).toEqual([]);
  expect(localAws.secret(before.credential.attributes.SecretArn)!.versions
    .filter((v) => v.secretString?.includes(before.doc.password))).toHaveLength(1);
  expect(expectSecretMatchesIam('ci-bot').doc.password).toBe(before.doc.password);
});

test('the same CREATE delivered twice leaves exactly one credential', async () => {
  const synth = example();
  await deploy(synth);
  const first = cfn.resourceOfType(CR)!;
  const replay = await cfn.invoke(synth, {
    ...(cfn.lastInvocation!.event as any),
  });

  expect(replay.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: first.physicalId });
  expect(localAws.credentials()).toHaveLength(1);
  expectSecretMatchesIam('ci-bot');
  expect(leaks(localAws, issued, { status: 'COMPLETE', invocations: [replay] })).toEqual([]);
});

test('the 2-credential limit fails fast with the existing ids, and the rollback leaves them alone', async () => {
  const iamClient = new IAMClient({ endpoint: localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  localAws.createUser('ci-bot');
  const existing = [];
  for (let i = 0; i < 2; i++) {
    const out = await iamClient.send(new CreateServiceSpecificCredentialCommand({ UserName: 'ci-bot', ServiceName: 'codecommit.amazonaws.com' }));
    existing.push(out.ServiceSpecificCredential!.ServiceSpecificCredentialId!);
  }
  iamClient.destroy();

  const synth = synthesize((app) => {
    const stack = new Stack(app, 'Limit');
    const user = iam.User.fromUserName(stack, 'Existing', 'ci-bot');
    new ServiceSpecificCredential(stack, 'Third', { user, service: CredentialService.CODECOMMIT });
    return stack;
  });
  const deployment = await cfn.deploy(synth);

  expectWellBehaved(deployment, synth);
  const [create, rollback] = deployment.invocations;
  expect(create.response).toMatchObject({
    Status: 'FAILED',
    Reason: `IAM user 'ci-bot' already has the maximum of 2 credentials for codecommit.amazonaws.com (${existing.join(', ')}): delete one of them, `
      + 'or remove a ServiceSpecificCredential for this user and service. A replacement (a new user, service or expiresAfter) needs a free slot: '
      + 'the new credential is created before the old one is deleted',
  });
  expect(rollback.calls).toEqual([]);
  expect(localAws.credentials({ userName: 'ci-bot' }).map((c) => c.ServiceSpecificCredentialId).sort()).toEqual([...existing].sort());
});

test('a just-created user that IAM does not show yet is waited for until the credential is created', async () => {
  // Not visible to any call yet: Create, and the List that asks IAM what Create's NoSuchEntity meant.
  const error = { code: 'NoSuchEntity', status: 404, message: NOT_FOUND_WORDINGS[defaultWordings()].user('ci-bot') };
  localAws.inject({ service: 'iam', operation: 'CreateServiceSpecificCredential', times: 4, error });
  localAws.inject({ service: 'iam', operation: 'ListServiceSpecificCredentials', times: 4, error });

  const deployment = await deploy(example());

  const calls = deployment.invocations[0].calls.filter((c) => c.startsWith('iam:'));
  expect(calls).toEqual([
    ...Array(4).fill(['iam:CreateServiceSpecificCredential -> NoSuchEntity', 'iam:ListServiceSpecificCredentials -> NoSuchEntity']).flat(),
    'iam:CreateServiceSpecificCredential -> ok',
  ]);
  expect(deployment.invocations[0].response).toMatchObject({ Status: 'SUCCESS' });
  expectSecretMatchesIam('ci-bot');
});

test('a just-created user that List already shows but Create does not yet is waited for', async () => {
  const error = { code: 'NoSuchEntity', status: 404, message: NOT_FOUND_WORDINGS[defaultWordings()].user('ci-bot') };
  localAws.inject({ service: 'iam', operation: 'CreateServiceSpecificCredential', times: 2, error });

  const deployment = await deploy(example());

  expect(deployment.invocations[0].response).toMatchObject({ Status: 'SUCCESS' });
  expectSecretMatchesIam('ci-bot');
});

test('a service IAM does not support fails the CREATE for an existing user at once, decided by a call, whatever IAM\'s wording', async () => {
  localAws.createUser('ci-bot');
  const synth = synthesize((app) => {
    const stack = new Stack(app, 'Unsupported');
    const user = iam.User.fromUserName(stack, 'GitUser', 'ci-bot');
    new ServiceSpecificCredential(stack, 'Key', { user, service: CredentialService.of('nosuch.amazonaws.com'), expiresAfter: Duration.days(30) });
    return stack;
  });
  const deployment = await cfn.deploy(synth);

  expectWellBehaved(deployment, synth);

  const [create] = deployment.invocations;
  expect(create.response!.Status).toBe('FAILED');
  expect(create.response!.Reason).toBe(`IAM does not support service-specific credentials for 'nosuch.amazonaws.com' (user 'ci-bot'): ${says.service('nosuch.amazonaws.com')}`);
  expect(create.calls.filter((c) => c.startsWith('iam:'))).toEqual([
    'iam:CreateServiceSpecificCredential -> NoSuchEntity', 'iam:ListServiceSpecificCredentials -> ok',
  ]);
});

test.each([
  ['throttling', { code: 'Throttling', status: 400, message: 'Rate exceeded' }],
  ['a 5xx', { code: 'ServiceUnavailable', status: 503, message: 'Service unavailable' }],
])('%s is retried until the credential is created', async (_, error) => {
  localAws.inject({ service: 'iam', operation: 'CreateServiceSpecificCredential', times: 4, error });

  const deployment = await deploy(example());

  const attempts = deployment.invocations[0].calls.filter((c) => c.startsWith('iam:CreateServiceSpecificCredential'));
  expect(attempts).toHaveLength(5);
  expect(deployment.invocations[0].response).toMatchObject({ Status: 'SUCCESS' });
  expectSecretMatchesIam('ci-bot');
});

test('an imported user that does not exist fails within seconds, saying so; a user of the stack is waited for', async () => {
  const synth = synthesize((app) => {
    const stack = new Stack(app, 'Imported');
    new ServiceSpecificCredential(stack, 'Git', { user: iam.User.fromUserName(stack, 'Missing', 'no-such-user'), service: CredentialService.CODECOMMIT });
    return stack;
  });
  const deployment = await cfn.deploy(synth);

  expectWellBehaved(deployment, synth);
  const [create] = deployment.invocations;
  expect(create.event.ResourceProperties).toMatchObject({ UserExists: 'true' });
  expect(create.response!.Status).toBe('FAILED');
  expect(create.response!.Reason).toBe('IAM user \'no-such-user\' does not exist. The stack imports it (iam.User.fromUserName or fromUserArn), so it '
    + 'must exist before the deployment: check its name, and for a user with a path, use fromUserArn with the full ARN');
  expect(create.calls.filter((c) => c.startsWith('iam:'))).toEqual([
    'iam:CreateServiceSpecificCredential -> NoSuchEntity', 'iam:ListServiceSpecificCredentials -> NoSuchEntity',
  ]);
  expect(create.durationMs).toBeLessThan(5_000);
  // The example's own user (an iam.User of the stack) is not marked, so a NoSuchEntity from it is waited out (above).
  const own = Object.values(example().template.Resources).filter((r) => r.Type === CR);
  expect(own).toHaveLength(1);
  expect(own[0].Properties).not.toHaveProperty('UserExists');
});

test('an IAM slower than the Lambda timeout still gets a FAILED answer before the timeout', async () => {
  const slow = await CloudFormation.start(localAws, { lambdaTimeoutMs: 6_000 });
  try {
    localAws.inject({ service: 'iam', operation: 'CreateServiceSpecificCredential', delayMs: 20_000, error: { code: 'ServiceUnavailable', status: 503 } });

    const synth = example();
    const deployment = await slow.deploy(synth);

    expect(leaks(localAws, issued, deployment, synth)).toEqual([]);
    const [create] = deployment.invocations;
    expect(create.timedOut).toBe(false);
    expect(create.durationMs).toBeLessThan(6_000);
    expect(create.response).toMatchObject({ Status: 'FAILED' });
    expect(create.response!.Reason).toBe(`${TIMED_OUT('iam:CreateServiceSpecificCredential')} (1 attempt). ${RETRY}`);
  } finally {
    await slow.close();
  }
});

describe.each([
  ['CodeCommit', CredentialService.CODECOMMIT, undefined, { username: 'ci-bot-at-123456789012' }],
  ['Keyspaces', CredentialService.KEYSPACES, undefined, { username: 'ci-bot-at-123456789012', serviceName: 'cassandra.amazonaws.com' }],
  ['Bedrock', CredentialService.BEDROCK, Duration.days(30), { serviceName: 'bedrock.amazonaws.com' }],
])('%s', (_, service, expiresAfter, expected) => {
  test('is created, stored in its shape, and deleted', async () => {
    const synth = synthesize((app: App) => {
      const stack = new Stack(app, 'Services');
      const user = new iam.User(stack, 'User', { userName: 'ci-bot' });
      new ServiceSpecificCredential(stack, 'Credential', { user, service, expiresAfter });
      return stack;
    });

    const created = await deploy(synth);
    const { doc, credential } = expectSecretMatchesIam('ci-bot');
    expect(doc).toMatchObject(expected);
    if (service.supportsExpiry) {
      expect(doc.apiKey).toBeDefined();
      expect(doc.username).toBeUndefined();
      expect(doc.serviceCredentialAlias).toBe(credential.attributes.ServiceCredentialAlias);
      expect(Date.parse(doc.expirationDate) - Date.now()).toBeGreaterThan(29 * 86_400_000);
      expect(credential.attributes.ExpirationDate).toBe(doc.expirationDate);
    } else {
      expect(doc.apiKey).toBeUndefined();
      expect(credential.attributes.ServiceUserName).toBe(doc.username);
    }
    expect(created.invocations.map(callsOf)).toEqual([[
      'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'iam:CreateServiceSpecificCredential', 'secretsmanager:PutSecretValue',
    ]]);

    expectWellBehaved(await cfn.destroy(synth));
    expect(localAws.credentials()).toHaveLength(0);
  });
});

/** A driver whose Lambda times out after `ms`, so that a call retried until the deadline fails in seconds. */
async function withLambdaTimeout<T>(ms: number, body: (driver: CloudFormation) => Promise<T>): Promise<T> {
  const driver = await CloudFormation.start(localAws, { lambdaTimeoutMs: ms });
  try {
    return await body(driver);
  } finally {
    await driver.close();
  }
}

/** A service control policy's deny, as IAM words it in this run (LOCAL_AWS_WORDINGS): AWS's documented format, or another. */
const denied = (action: string) => ({
  code: 'AccessDenied',
  status: 403,
  message: REFUSAL_WORDINGS[defaultWordings()].explicitDeny('arn:aws:sts::123456789012:assumed-role/Handler/fn', `iam:${action}`,
    'arn:aws:iam::123456789012:user/ci-bot', 'service control policy', 'arn:aws:organizations::111111111111:policy/o-exampleorgid/service_control_policy/p-examplepolicy'),
});

describe('a rollback never gets stuck', () => {
  test('a denied reset fails the update; the rollback UPDATE changes nothing and succeeds', async () => {
    await withLambdaTimeout(5_000, async (driver) => {
      await driver.deploy(example());
      const before = localAws.credentials()[0];
      localAws.inject({ service: 'iam', operation: 'ResetServiceSpecificCredential', times: 1_000, error: denied('ResetServiceSpecificCredential') });

      const synth = example({ resetSerial: 1 });
      const deployment = await driver.deploy(synth);

      expectWellBehaved(deployment, synth);
      const [update, rollback] = deployment.invocations;
      expect(update.response).toMatchObject({ Status: 'FAILED' });
      // AWS's documented wording of an explicit deny fails at once; any other is retried until the deadline.
      const reason = update.response!.Reason!;
      if (defaultWordings() === 'aws') {
        expect(reason).toBe('iam:ResetServiceSpecificCredential was denied by an explicit deny, which waiting does not lift: '
          + `AccessDenied: ${denied('ResetServiceSpecificCredential').message}. ${EXPLICIT_DENY_FIX}`);
        expect(update.durationMs).toBeLessThan(3_000);
      } else {
        expect(reason).toMatch(new RegExp(`^${escape(TIMED_OUT('iam:ResetServiceSpecificCredential'))} \\(\\d+ attempts; last error `
          + `AccessDenied: ${escape(denied('ResetServiceSpecificCredential').message)}\\)\\. ${escape(DENIED_HINT)} ${escape(RETRY)}$`));
      }
      expect(rollback.event).toMatchObject({ RequestType: 'Update', ResourceProperties: { ResetSerial: '0' } });
      expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: before.ServiceSpecificCredentialId });
      expect(callsOf(rollback).filter((c) => c.startsWith('iam:Reset'))).toEqual([]);
      expect(localAws.credentials()).toEqual([before]);
      expect(currentDocument(localAws, driver.resourceOfType(CR)!.attributes.SecretArn).password).toBe(before.ServicePassword);
    });
  });

  test('a denied status change fails the update; the rollback UPDATE changes nothing and succeeds', async () => {
    await withLambdaTimeout(5_000, async (driver) => {
      await driver.deploy(example());
      const before = localAws.credentials()[0];
      localAws.inject({ service: 'iam', operation: 'UpdateServiceSpecificCredential', times: 1_000, error: denied('UpdateServiceSpecificCredential') });

      const synth = example({ status: CredentialStatus.INACTIVE });
      const deployment = await driver.deploy(synth);

      expectWellBehaved(deployment, synth);
      const [update, rollback] = deployment.invocations;
      expect(update.response).toMatchObject({ Status: 'FAILED' });
      expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: before.ServiceSpecificCredentialId });
      expect(callsOf(rollback).filter((c) => c.startsWith('iam:Update'))).toEqual([]);
      expect(localAws.credentials()).toEqual([before]);
    });
  });

  test('a rolled-back replacement that also changed resetSerial leaves the old password valid', async () => {
    await deploy(example());
    const before = expectSecretMatchesIam('ci-bot');
    localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', error: { code: 'InvalidRequestException', status: 400, message: 'secret is being rotated' } });

    const synth = example({ userName: 'ci-bot-2', resetSerial: 1 });
    const deployment = await cfn.deploy(synth);

    expectWellBehaved(deployment, synth);
    const [update, rollback] = deployment.invocations;
    expect(update.response).toMatchObject({ Status: 'FAILED' });
    expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: before.credential.physicalId });
    expect(callsOf(rollback).filter((c) => c.startsWith('iam:Reset'))).toEqual([]);
    const after = expectSecretMatchesIam('ci-bot');
    expect(after.stored.ServicePassword).toBe(before.stored.ServicePassword);
    expect(after.doc.password).toBe(before.doc.password);
  });

  test('a reset that succeeded is not repeated when a later update changes only the status', async () => {
    await deploy(example());
    await deploy(example({ resetSerial: 1 }));
    const reset = expectSecretMatchesIam('ci-bot');

    const deployment = await deploy(example({ resetSerial: 1, status: CredentialStatus.INACTIVE }));

    expect(deployment.invocations.map(callsOf)).toEqual([[
      'secretsmanager:DescribeSecret', 'iam:ListServiceSpecificCredentials', 'iam:UpdateServiceSpecificCredential',
    ]]);
    expect(expectSecretMatchesIam('ci-bot').doc.password).toBe(reset.doc.password);
  });
});

describe('a credential deleted outside CloudFormation is re-created by the next update that touches it', () => {
  async function deleteOutOfBand(): Promise<string> {
    const id = cfn.resourceOfType(CR)!.physicalId;
    const client = new IAMClient({ endpoint: localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await client.send(new DeleteServiceSpecificCredentialCommand({ UserName: 'ci-bot', ServiceSpecificCredentialId: id }));
    client.destroy();
    expect(localAws.credentials()).toEqual([]);
    return id;
  }

  // A reset or status change issues the new credential under the same physical id; a replacement answers a new one.
  test.each([
    ['a reset', { resetSerial: 1 }, 'ci-bot', true],
    ['a status change', { status: CredentialStatus.INACTIVE }, 'ci-bot', true],
    ['a replacement', { userName: 'ci-bot-2' }, 'ci-bot-2', false],
  ])('%s', async (_, settings, userName, samePhysicalId) => {
    await deploy(example());
    const gone = await deleteOutOfBand();

    const deployment = await deploy(example(settings));

    expect(deployment.status).toBe('COMPLETE');
    expect(deployment.invocations.map((i) => i.event.RequestType)).toEqual(samePhysicalId ? ['Update'] : ['Update', 'Delete']);
    const { credential, stored, doc } = expectSecretMatchesIam(userName);
    expect(doc.serviceSpecificCredentialId).not.toBe(gone);
    if (samePhysicalId) expect(credential.physicalId).toBe(gone);
    else expect(credential.physicalId).not.toBe(gone);
    // The record (labels ssc:<resource>:<credential>:...) lets go of the credential that is gone and holds the new one.
    const recorded = localAws.secret(credential.attributes.SecretArn)!.versions.flatMap((v) => v.stages)
      .filter((l) => l.startsWith('ssc:')).map((l) => l.split(':').slice(1, 3).join(':'));
    expect(recorded).toEqual([`${credential.physicalId}:${doc.serviceSpecificCredentialId}`]);
    expect(stored.Status).toBe((settings as { status?: string }).status ?? 'Active');
    expect(localAws.credentials()).toHaveLength(1);
    expect(deployment.invocations.every((i) => i.response?.Status === 'SUCCESS')).toBe(true);
  });
});

describe('only this stack\'s CloudFormation can drive the handler', () => {
  const otherStack = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Other/6a1f0c1e-0000-4000-8000-000000000000';

  test('an event from another stack is refused before any call', async () => {
    const synth = example();
    await deploy(synth);
    const credential = cfn.resourceOfType(CR)!;
    const event = { ...cfn.lastInvocation!.event, RequestType: 'Delete', PhysicalResourceId: credential.physicalId, StackId: otherStack } as any;

    const invocation = await cfn.invoke(synth, event);

    expect(invocation.response).toMatchObject({ Status: 'FAILED' });
    expect(invocation.response!.Reason).toBe(`This handler serves CloudFormation stack ${cfn.stackId} only; it refused an event from ${otherStack} and touched nothing`);
    expect(invocation.calls).toEqual([]);
    expect(localAws.credentials()).toHaveLength(1);
  });

  test('a DELETE naming another user\'s credential deletes nothing', async () => {
    const synth = example();
    await deploy(synth);
    localAws.createUser('victim');
    const client = new IAMClient({ endpoint: localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const victim = (await client.send(new CreateServiceSpecificCredentialCommand({ UserName: 'victim', ServiceName: 'codecommit.amazonaws.com' })))
      .ServiceSpecificCredential!.ServiceSpecificCredentialId!;
    client.destroy();
    const create = cfn.lastInvocation!.event;
    const event = {
      ...create,
      RequestType: 'Delete',
      PhysicalResourceId: victim,
      ResourceProperties: { ...create.ResourceProperties, UserName: 'victim' },
    } as any;

    const invocation = await cfn.invoke(synth, event);

    expect(invocation.calls.filter((c) => c.startsWith('iam:Delete'))).toEqual([]);
    expect(localAws.credentials({ userName: 'victim' }).map((c) => c.ServiceSpecificCredentialId)).toEqual([victim]);
    expect(leaks(localAws, issued, { status: 'COMPLETE', invocations: [invocation] })).toEqual([]);
  });

  test('an UPDATE pointing at an outsider\'s secret that carries the stack\'s tag captures no password', async () => {
    const synth = example();
    await deploy(synth);
    const before = expectSecretMatchesIam('ci-bot');
    const secrets = new SecretsManagerClient({ endpoint: localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const trap = (await secrets.send(new CreateSecretCommand({
      Name: 'outsider', SecretString: 'empty', Tags: [{ Key: 'cdk-service-specific-credential', Value: cfn.stackId }],
    }))).ARN!;
    secrets.destroy();
    const update = cfn.lastInvocation!.event;
    const event = {
      ...update,
      RequestType: 'Update',
      PhysicalResourceId: before.credential.physicalId,
      ResourceProperties: { ...update.ResourceProperties, SecretArn: trap, ResetSerial: '7' },
      OldResourceProperties: update.ResourceProperties,
    } as any;

    const invocation = await cfn.invoke(synth, event);

    expect(invocation.response).toMatchObject({ Status: 'FAILED' });
    expect(invocation.response!.Reason).toBe(`Secret ${trap} is not a credential secret of stack ${cfn.stackId}: such a secret carries the tags `
      + 'aws:cloudformation:stack-id (set by CloudFormation only) and cdk-service-specific-credential, both with the stack\'s id. Nothing was changed');
    expect(invocation.calls.filter((c) => c.startsWith('iam:Reset') || c.startsWith('secretsmanager:Put'))).toEqual([]);
    expect(localAws.secret(trap)!.versions.map((v) => v.secretString)).toEqual(['empty']);
    expect(expectSecretMatchesIam('ci-bot').stored.ServicePassword).toBe(before.stored.ServicePassword);
  });
});

describe('smaller defects', () => {
  test('with any Lambda timeout, a credential whose secret could not be written is deleted', async () => {
    // 6,001 ms leaves a fractional cleanup budget, which AbortSignal.timeout rejects.
    await withLambdaTimeout(6_001, async (driver) => {
      localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', error: { code: 'InvalidRequestException', status: 400, message: 'secret is being rotated' } });

      const synth = example();
      const deployment = await driver.deploy(synth);

      expectWellBehaved(deployment, synth);
      expect(deployment.invocations[0].response).toMatchObject({ Status: 'FAILED' });
      expect(callsOf(deployment.invocations[0])).toContain('iam:DeleteServiceSpecificCredential');
      expect(localAws.credentials()).toEqual([]);
    });
  });

  test('a shared key whose policy denies the handler: the answer says what the key\'s policy must allow, and no credential is left', async () => {
    await withLambdaTimeout(5_000, async (driver) => {
      // As Secrets Manager answers PutSecretValue when KMS denies the caller the secret's key.
      localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', times: 1_000, error: { code: 'AccessDeniedException', status: 400, message: 'Access to KMS is not allowed' } });
      const synth = synthesize((app) => {
        const stack = new Stack(app, 'GitCredentialExample', { env: { account: '123456789012', region: 'us-east-1' } });
        new ServiceSpecificCredential(stack, 'GitCredential', {
          user: new iam.User(stack, 'GitUser', { userName: 'ci-bot' }),
          service: CredentialService.CODECOMMIT,
          encryptionKey: kms.Key.fromKeyArn(stack, 'OrgKey', 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555'),
        });
        return stack;
      });

      const deployment = await driver.deploy(synth);

      expectWellBehaved(deployment, synth);
      expect(deployment.invocations[0].response!.Reason).toMatch(new RegExp(`^${escape(TIMED_OUT('secretsmanager:PutSecretValue'))} `
        + `\\(\\d+ attempts; last error AccessDenied: Access to KMS is not allowed\\)\\. ${escape(SECRETS_HINT)} ${escape(RETRY)}$`));
      expect(localAws.credentials()).toEqual([]);
    });
  });

  test('an answer with a long error message still fits CloudFormation\'s 4,096 bytes', async () => {
    const message = 'Service control policy denies this request: ' + 'ünïcödé '.repeat(700);
    localAws.inject({ service: 'iam', operation: 'CreateServiceSpecificCredential', error: { code: 'ValidationError', status: 400, message } });

    const synth = example();
    const deployment = await cfn.deploy(synth);

    expectWellBehaved(deployment, synth);
    const [create] = deployment.invocations;
    expect(Buffer.byteLength(create.responseBody!)).toBeLessThanOrEqual(4_096);
    expect(create.response).toMatchObject({ Status: 'FAILED', RequestId: create.event.RequestId, StackId: cfn.stackId });
    // A prefix of the whole reason, cut between characters, and marked as cut.
    expect(create.response!.Reason).toMatch(/^ValidationError: Service control policy denies this request: ünïcödé .* \(truncated\)$/);
    expect(`ValidationError: ${message}`.startsWith(create.response!.Reason!.slice(0, -' (truncated)'.length))).toBe(true);
  });
});

describe('a secret changed, deleted by hand, or pointed at by another credential', () => {
  const named = (secretName: string) => synthesize((app) => {
    const stack = new Stack(app, 'GitCredentialExample', { env: { account: '123456789012', region: 'us-east-1' } });
    const user = new iam.User(stack, 'GitUser', { userName: 'ci-bot' });
    new ServiceSpecificCredential(stack, 'GitCredential', { user, service: CredentialService.CODECOMMIT, secretName });
    return stack;
  });

  test('a new secretName rolled back after the reset into the new secret: the old secret gets a working value again', async () => {
    await deploy(named('git-a'));
    const synth = named('git-b');

    const deployment = await cfn.deploy(synth, { failAfterResources: true });

    expectWellBehaved(deployment, synth);
    expect(deployment.invocations.map((i) => `${i.event.RequestType} ${i.response?.Status}`)).toEqual(['Update SUCCESS', 'Update SUCCESS']);
    // The old secret's value died with the reset into the new one: the rollback resets again, into the old secret.
    expect(callsOf(deployment.invocations[1])).toContain('iam:ResetServiceSpecificCredential');
    expectSecretMatchesIam('ci-bot');
  });

  test('a denied reset into a new secret: the rollback to the old secret changes nothing and succeeds', async () => {
    await withLambdaTimeout(5_000, async (driver) => {
      await driver.deploy(named('git-a'));
      const before = localAws.credentials()[0];
      localAws.inject({ service: 'iam', operation: 'ResetServiceSpecificCredential', times: 1_000, error: denied('ResetServiceSpecificCredential') });

      const deployment = await driver.deploy(named('git-b'));

      expect(deployment.invocations.map((i) => `${i.event.RequestType} ${i.response?.Status}`)).toEqual(['Update FAILED', 'Update SUCCESS']);
      expect(callsOf(deployment.invocations[1]).filter((c) => c.startsWith('iam:Reset'))).toEqual([]);
      expect(localAws.credentials()).toEqual([before]);
    });
  });

  test('a secret deleted by hand: the DELETE names what to do, and once that is done, the retried DELETE succeeds', async () => {
    const synth = example();
    await deploy(synth);
    const credential = cfn.resourceOfType(CR)!;
    const config = { endpoint: localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
    const secrets = new SecretsManagerClient(config);
    await secrets.send(new DeleteSecretCommand({ SecretId: credential.attributes.SecretArn, RecoveryWindowInDays: 7 }));
    secrets.destroy();
    const { OldResourceProperties: _, ...create } = cfn.lastInvocation!.event as any;
    const event = { ...create, RequestType: 'Delete', PhysicalResourceId: credential.physicalId };

    const first = await cfn.invoke(synth, event);
    const client = new IAMClient(config);
    await client.send(new DeleteServiceSpecificCredentialCommand({ UserName: 'ci-bot', ServiceSpecificCredentialId: credential.physicalId }));
    client.destroy();
    const retried = await cfn.invoke(synth, { ...event, RequestId: 'retried' });

    expect(first.response).toMatchObject({ Status: 'FAILED' });
    expect(first.response!.Reason).toBe(`Secret ${credential.attributes.SecretArn} does not exist or is scheduled for deletion, so nothing shows `
      + `that credential ${credential.physicalId} belongs to this stack; if it does, delete it with 'aws iam delete-service-specific-credential `
      + `--service-specific-credential-id ${credential.physicalId} --user-name <user>' and retry`);
    expect(retried.response).toMatchObject({ Status: 'SUCCESS' });
  });

  describe('events with the real StackId that point one credential at another credential\'s secret', () => {
    const two = () => synthesize((app) => {
      const stack = new Stack(app, 'GitCredentialExample', { env: { account: '123456789012', region: 'us-east-1' } });
      for (const name of ['alice', 'bob']) {
        new ServiceSpecificCredential(stack, `Cred-${name}`, { user: new iam.User(stack, name, { userName: name }), service: CredentialService.CODECOMMIT });
      }
      return stack;
    });
    const resources = () => localAws.credentials().map((c) => [c.ServiceSpecificCredentialId, c.UserName, c.ServicePassword]);

    test('an UPDATE that would reset bob into alice\'s secret is refused', async () => {
      const synth = two();
      await deploy(synth);
      const [alice, bob] = ['alice', 'bob'].map((u) => localAws.credentials({ userName: u })[0]);
      const aliceSecret = localAws.secretsHolding(alice.ServiceSpecificCredentialId)[0];
      const base = cfn.lastInvocation!.event as any;
      const props = { ...base.ResourceProperties, UserName: 'bob', SecretArn: localAws.secretsHolding(bob.ServiceSpecificCredentialId)[0] };
      const before = resources();

      const invocation = await cfn.invoke(synth, {
        ...base,
        RequestType: 'Update',
        PhysicalResourceId: bob.ServiceSpecificCredentialId,
        OldResourceProperties: props,
        ResourceProperties: { ...props, SecretArn: aliceSecret, ResetSerial: '99' },
      });

      expect(invocation.response).toMatchObject({ Status: 'FAILED' });
      expect(invocation.response!.Reason).toBe(`Secret ${aliceSecret} holds credential ${alice.ServiceSpecificCredentialId} of IAM user 'alice', `
        + 'which still exists: the handler writes no other credential into it. Nothing was changed');
      expect(resources()).toEqual(before);
      expect(currentDocument(localAws, aliceSecret).iamUserName).toBe('alice');
    });

    test('a CREATE of a credential for bob into alice\'s secret is refused', async () => {
      const synth = two();
      await deploy(synth);
      const alice = localAws.credentials({ userName: 'alice' })[0];
      const aliceSecret = localAws.secretsHolding(alice.ServiceSpecificCredentialId)[0];
      const { OldResourceProperties: _, PhysicalResourceId: __, ...base } = cfn.lastInvocation!.event as any;
      const before = resources();

      const invocation = await cfn.invoke(synth, {
        ...base, RequestType: 'Create', RequestId: 'forged', ResourceProperties: { ...base.ResourceProperties, UserName: 'bob', SecretArn: aliceSecret },
      });

      expect(invocation.response).toMatchObject({
        Status: 'FAILED',
        Reason: `Secret ${aliceSecret} holds credential ${alice.ServiceSpecificCredentialId} of IAM user 'alice', which still exists: the handler `
          + 'writes no other credential into it. Nothing was changed',
      });
      expect(invocation.calls.filter((c) => c.startsWith('iam:Create'))).toEqual([]);
      expect(resources()).toEqual(before);
    });
  });
});

describe('removalPolicy', () => {
  const stackWith = (credential: boolean, removalPolicy?: RemovalPolicy) => synthesize((app) => {
    const stack = new Stack(app, 'GitCredentialExample', { env: { account: '123456789012', region: 'us-east-1' } });
    const user = new iam.User(stack, 'GitUser', { userName: 'ci-bot' });
    // Another credential keeps the stack's handler in the template once the Git one is gone.
    new ServiceSpecificCredential(stack, 'Keyspaces', { user, service: CredentialService.KEYSPACES });
    if (credential) new ServiceSpecificCredential(stack, 'GitCredential', { user, service: CredentialService.CODECOMMIT, removalPolicy });
    return stack;
  });
  const git = () => localAws.credentials({ serviceName: 'codecommit.amazonaws.com' }).map((c) => c.ServiceSpecificCredentialId);
  const gitResource = () => cfn.resourcesOfType(CR).find((r) => r.properties.ServiceName === 'codecommit.amazonaws.com')!;

  test('RETAIN keeps the credential and its secret together when the construct leaves the stack', async () => {
    await deploy(stackWith(true, RemovalPolicy.RETAIN));
    const credential = gitResource();
    const doc = currentDocument(localAws, credential.attributes.SecretArn);

    const removed = await deploy(stackWith(false));

    expect(removed.invocations).toEqual([]);
    expect(git()).toEqual([credential.physicalId]);
    expect(currentDocument(localAws, credential.attributes.SecretArn)).toEqual(doc);
    expect(doc.password).toBe(localAws.credentials({ serviceName: 'codecommit.amazonaws.com' })[0].ServicePassword);
  });

  test('DESTROY (the default) deletes both', async () => {
    await deploy(stackWith(true));
    const credential = gitResource();

    const removed = await deploy(stackWith(false));

    expect(removed.invocations.map((i) => i.event.RequestType)).toEqual(['Delete']);
    expect(git()).toEqual([]);
    expect(localAws.secret(credential.attributes.SecretArn)).toBeUndefined();
  });
});
