import { CreateServiceSpecificCredentialCommand, IAMClient } from '@aws-sdk/client-iam';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CloudFormation, Deployment, Invocation, Synthesized, synthesize } from './cloudformation';
import { currentDocument, leaks } from './world';
import { exampleStack } from '../../examples/app';
import { CredentialService, CredentialStatus, ServiceSpecificCredential } from '../../src';
import { LocalAws, startLocalAws } from '../local-aws';

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

/** Invariant 1: the secret holds the current secret value of the credential CloudFormation knows. */
function expectSecretMatchesIam(userName: string) {
  const credential = cfn.resourceOfType(CR)!;
  const stored = localAws.credentials({ userName }).find((c) => c.ServiceSpecificCredentialId === credential.physicalId);
  expect(stored).toBeDefined();
  const doc = currentDocument(localAws, credential.attributes.SecretArn);
  expect(doc.serviceSpecificCredentialId).toBe(credential.physicalId);
  expect(doc.password ?? doc.apiKey).toBe(stored!.ServicePassword ?? stored!.ServiceCredentialSecret);
  return { credential, stored: stored!, doc };
}

const callsOf = (invocation: Invocation) => invocation.calls.map((c) => c.replace(/ -> ok$/, ''));

test('create, status change, reset, replacement and delete, each with its API calls', async () => {
  const created = await deploy(example());
  const first = expectSecretMatchesIam('ci-bot');
  expect(created.invocations.map(callsOf)).toEqual([
    ['iam:CreateServiceSpecificCredential', 'secretsmanager:PutSecretValue'],
  ]);
  expect(first.doc).toMatchObject({ username: 'ci-bot-at-123456789012', serviceName: 'codecommit.amazonaws.com', iamUserName: 'ci-bot' });
  expect(first.credential.attributes.ServiceUserName).toBe('ci-bot-at-123456789012');

  const deactivated = await deploy(example({ status: CredentialStatus.INACTIVE }));
  const afterStatus = expectSecretMatchesIam('ci-bot');
  expect(afterStatus.credential.physicalId).toBe(first.credential.physicalId);
  expect(afterStatus.stored.Status).toBe('Inactive');
  expect(afterStatus.doc.password).toBe(first.doc.password);
  expect(deactivated.invocations.map(callsOf)).toEqual([
    ['iam:UpdateServiceSpecificCredential', 'iam:ListServiceSpecificCredentials'],
  ]);

  const reset = await deploy(example({ status: CredentialStatus.INACTIVE, resetSerial: 1 }));
  const afterReset = expectSecretMatchesIam('ci-bot');
  expect(afterReset.credential.physicalId).toBe(first.credential.physicalId);
  expect(afterReset.doc.password).not.toBe(first.doc.password);
  expect(afterReset.stored.Status).toBe('Inactive');
  expect(reset.invocations.map(callsOf)).toEqual([
    ['iam:ResetServiceSpecificCredential', 'secretsmanager:PutSecretValue'],
  ]);

  const replaced = await deploy(example({ userName: 'ci-bot-2', status: CredentialStatus.INACTIVE, resetSerial: 1 }));
  const afterReplace = expectSecretMatchesIam('ci-bot-2');
  expect(afterReplace.credential.physicalId).not.toBe(first.credential.physicalId);
  expect(replaced.invocations.map((i) => i.event.RequestType)).toEqual(['Update', 'Delete']);
  expect(replaced.invocations[1].event).toMatchObject({ PhysicalResourceId: first.credential.physicalId });
  expect(localAws.credentials()).toHaveLength(1);

  const deleted = await cfn.destroy(example({ userName: 'ci-bot-2' }));
  expectWellBehaved(deleted);
  // The secret held this credential, so its previous version is checked for a credential to reinstate (as after a
  // rolled-back replacement): here it names the one replaced earlier, whose user is gone.
  expect(deleted.invocations.map(callsOf)).toEqual([[
    'iam:DeleteServiceSpecificCredential', 'secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue',
    'iam:ListServiceSpecificCredentials -> NoSuchEntity',
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
  expect(create.response!.Reason).toContain('marked for deletion');
  // PutSecretValue failing after Create: the new credential is deleted before the FAILED answer.
  expect(callsOf(create)).toEqual(['iam:CreateServiceSpecificCredential', 'secretsmanager:PutSecretValue -> InvalidRequestException', 'iam:DeleteServiceSpecificCredential']);
  expect(rollback.event).toMatchObject({ RequestType: 'Delete', PhysicalResourceId: create.response!.PhysicalResourceId });
  expect(rollback.calls).toEqual([]);
  expect(rollback.response).toMatchObject({ Status: 'SUCCESS' });
  expect(localAws.credentials()).toHaveLength(0);
});

test('a failed reset deletes the credential nobody holds a password for; the rollback UPDATE replaces it', async () => {
  await deploy(example());
  const before = cfn.resourceOfType(CR)!.physicalId;
  localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', error: { code: 'InvalidRequestException', status: 400, message: 'secret is being rotated' } });

  const synth = example({ resetSerial: 1 });
  const deployment = await cfn.deploy(synth);

  expectWellBehaved(deployment, synth);
  expect(deployment.status).toBe('ROLLBACK_COMPLETE');
  const [update, rollback] = deployment.invocations;
  expect(update.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: before });
  expect(rollback.event).toMatchObject({ RequestType: 'Update', ResourceProperties: { ResetSerial: '0' }, OldResourceProperties: { ResetSerial: '1' } });
  expect(rollback.response).toMatchObject({ Status: 'SUCCESS' });
  expect(localAws.credentials()).toHaveLength(1);
  expectSecretMatchesIam('ci-bot');
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
  expect(callsOf(rollback)).toEqual(['iam:ListServiceSpecificCredentials']);
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
  // The secret was written for the new credential; the cleanup makes the old credential's version current again.
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
  expect(create.response!.Status).toBe('FAILED');
  expect(create.response!.Reason).toContain("'ci-bot'");
  for (const id of existing) expect(create.response!.Reason).toContain(id);
  expect(rollback.calls).toEqual([]);
  expect(localAws.credentials({ userName: 'ci-bot' }).map((c) => c.ServiceSpecificCredentialId).sort()).toEqual([...existing].sort());
});

test.each([
  ['a just-created user answering NoSuchEntity', { code: 'NoSuchEntity', status: 404, message: 'The user with name ci-bot cannot be found.' }],
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
    expect(create.response!.Reason).toMatch(/Timed out .*'ci-bot'.*codecommit/);
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
    expect(created.invocations.map(callsOf)).toEqual([['iam:CreateServiceSpecificCredential', 'secretsmanager:PutSecretValue']]);

    expectWellBehaved(await cfn.destroy(synth));
    expect(localAws.credentials()).toHaveLength(0);
  });
});
