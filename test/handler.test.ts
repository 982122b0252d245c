import {
  CreateServiceSpecificCredentialCommand,
  DeleteServiceSpecificCredentialCommand,
  IAMClient,
  LimitExceededException,
  ListServiceSpecificCredentialsCommand,
  NoSuchEntityException,
  ResetServiceSpecificCredentialCommand,
  ServiceNotSupportedException,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  ACCOUNT, OWNED_SECRET_TAGS, SECRET_ARN, STACK_ID, ResponseCatcher, apiKeyCredential, createEvent, credentialId, deleteEvent, issuedSecrets,
  lambdaContext, passwordCredential, props, updateEvent,
} from './handler-harness';
import { abortableSleep } from '../lambda/aws/retry';
import { makeHandler } from '../lambda/handler';
import type { CredentialResourceProperties } from '../src/handler-contract';

const iam = mockClient(IAMClient);
const sm = mockClient(SecretsManagerClient);
let catcher: ResponseCatcher;
let logs: string[];
let sleeps: number[];

beforeAll(async () => {
  catcher = await ResponseCatcher.start();
});
afterAll(() => catcher.close());

beforeEach(() => {
  iam.reset();
  sm.reset();
  logs = [];
  sleeps = [];
  // Every SDK call that a test does not set up answers like an empty success.
  iam.onAnyCommand().resolves({});
  sm.onAnyCommand().resolves({});
  // The secret as the construct creates it: its generated first value, no credential recorded yet.
  describedWith({ [FIRST_VERSION]: ['AWSCURRENT'] });
});

// Invariant 2, checked after every test: no secret value reached a log line or an answer to CloudFormation.
afterEach(() => {
  const seen = [...logs, ...catcher.rawBodies].join('\n');
  for (const secret of issuedSecrets) {
    expect(seen).not.toContain(secret);
  }
});

const base = () => ({ ResponseURL: catcher.url });

const FIRST_VERSION = 'f0000000-0000-4000-8000-000000000000';
/** The label on the version this handler wrote last (lambda/ownership.ts). */
const KEPT = 'ssc-record';

/**
 * The staging label that records a credential as a resource's (lambda/ownership.ts): the days it was issued for, `-`
 * when it never expires, `?` when unknown (no creation date).
 */
type Labelled = { ServiceSpecificCredentialId?: string; UserName?: string; ServiceName?: string; CreateDate?: Date; ExpirationDate?: Date };
const daysOf = (c: Labelled) => (!c.CreateDate ? '?'
  : c.ExpirationDate ? String(Math.round((c.ExpirationDate.getTime() - c.CreateDate.getTime()) / 86_400_000)) : '-');
const label = (resourceId: string, c: Labelled) => `ssc:${resourceId}:${c.ServiceSpecificCredentialId}:${c.UserName}:${c.ServiceName}:${daysOf(c)}`;

/** DescribeSecret of one of this stack's secrets, with these staging labels by version id. */
function describedWith(stages: Record<string, string[]>, secretArn?: string) {
  const answer = { ARN: secretArn ?? SECRET_ARN, Tags: OWNED_SECRET_TAGS, VersionIdsToStages: stages };
  if (secretArn) sm.on(DescribeSecretCommand, { SecretId: secretArn }).resolves(answer);
  else sm.on(DescribeSecretCommand).resolves(answer);
}

async function run(event: CloudFormationCustomResourceEvent, remainingMs?: number) {
  const handler = makeHandler({
    stackId: STACK_ID,
    log: (line) => logs.push(line),
    sleep: async (ms) => { sleeps.push(ms); },
  });
  const before = catcher.responses.length;
  await expect(handler(event, lambdaContext(remainingMs))).resolves.toBeUndefined();
  expect(catcher.responses).toHaveLength(before + 1);
  return catcher.last;
}

/** Whether the handler only described and read secrets: which credential is current is read from the secret. */
function readsOnly(): boolean {
  return sm.calls().every((c) => c.args[0] instanceof DescribeSecretCommand || c.args[0] instanceof GetSecretValueCommand);
}

function putDocument(call = 0): Record<string, string> {
  return JSON.parse(sm.commandCalls(PutSecretValueCommand)[call].args[0].input.SecretString!);
}

const iamError = <T>(Type: new (o: any) => T, message: string, status = 404) =>
  new Type({ message, $metadata: { httpStatusCode: status } });

/** A secret version as the handler writes it, for the credential a fixture issued. */
const storedDocument = (c: ReturnType<typeof passwordCredential>, resetSerial = '0') => JSON.stringify({
  username: c.ServiceUserName,
  password: c.ServicePassword,
  serviceSpecificCredentialId: c.ServiceSpecificCredentialId,
  serviceName: c.ServiceName,
  iamUserName: c.UserName,
  resetSerial,
});

const awsError = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });

describe('CREATE', () => {
  test('creates the credential, stores it in the secret, and answers with its id and public attributes', async () => {
    const credential = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });
    const event = createEvent(props(), base());

    const response = await run(event);

    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' });
    expect(iam.commandCalls(CreateServiceSpecificCredentialCommand)[0].args[0].input.CredentialAgeDays).toBeUndefined();
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: SECRET_ARN, ClientRequestToken: event.RequestId });
    // The value and its record in one call: current, labelled as the new resource's own credential, and the marker.
    const id = credential.ServiceSpecificCredentialId!;
    expect(sm.commandCalls(PutSecretValueCommand)[0].args[0].input.VersionStages)
      .toEqual(['AWSCURRENT', `ssc:${id}:${id}:alice:codecommit.amazonaws.com:-`, KEPT]);
    expect(putDocument()).toEqual({
      username: `alice-at-${ACCOUNT}`,
      password: credential.ServicePassword,
      serviceSpecificCredentialId: credential.ServiceSpecificCredentialId,
      serviceName: 'codecommit.amazonaws.com',
      iamUserName: 'alice',
      resetSerial: '0',
      resourceId: credential.ServiceSpecificCredentialId,
    });
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: credential.ServiceSpecificCredentialId,
      RequestId: event.RequestId,
      LogicalResourceId: 'GitCredential',
      Data: {
        ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId,
        ServiceUserName: `alice-at-${ACCOUNT}`,
        ServiceCredentialAlias: '',
        ExpirationDate: '',
        SecretArn: SECRET_ARN,
      },
    });
  });

  test('makes four API calls: DescribeSecret and GetSecretValue (the secret is this stack\'s and holds no other credential), Create, Put', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: passwordCredential() });

    await run(createEvent(props(), base()));

    expect(iam.calls()).toHaveLength(1);
    expect(sm.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeSecretCommand', 'GetSecretValueCommand', 'PutSecretValueCommand']);
  });

  test.each([
    ['no tags', undefined],
    ['only the stack\'s own tag, which anyone who can tag can set', [OWNED_SECRET_TAGS[0]]],
    ['CloudFormation\'s tag of another stack', [OWNED_SECRET_TAGS[0], { Key: 'aws:cloudformation:stack-id', Value: STACK_ID.replace('App', 'Other') }]],
  ])('a secret with %s is refused before IAM issues anything', async (_, tags) => {
    sm.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, Tags: tags });

    const response = await run(createEvent(props(), base()));

    expect(iam.calls()).toHaveLength(0);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`Secret ${SECRET_ARN} is not a credential secret of stack ${STACK_ID}`);
  });

  test('an INACTIVE credential is created, deactivated with its UserName, then stored', async () => {
    const credential = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });

    const response = await run(createEvent(props({ Status: 'Inactive' }), base()));

    expect(iam).toHaveReceivedCommandWith(UpdateServiceSpecificCredentialCommand, {
      UserName: 'alice', ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId, Status: 'Inactive',
    });
    expect(response.Status).toBe('SUCCESS');
  });

  test('an API key with an age stores alias, key and expiration date under the API-key keys', async () => {
    const credential = apiKeyCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });

    const response = await run(createEvent(props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30' }), base()));

    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: 30 });
    expect(putDocument()).toEqual({
      serviceCredentialAlias: credential.ServiceCredentialAlias,
      apiKey: credential.ServiceCredentialSecret,
      serviceSpecificCredentialId: credential.ServiceSpecificCredentialId,
      serviceName: 'bedrock.amazonaws.com',
      iamUserName: 'alice',
      resetSerial: '0',
      resourceId: credential.ServiceSpecificCredentialId,
      expirationDate: '2026-12-22T10:00:00.000Z',
    });
    expect(response.Data).toMatchObject({
      ServiceUserName: '',
      ServiceCredentialAlias: credential.ServiceCredentialAlias,
      ExpirationDate: '2026-12-22T10:00:00.000Z',
    });
  });
});

describe('UPDATE', () => {
  const id = 'ACCAOLDCREDENTIAL1234';
  const CURRENT = 'c0000000-0000-4000-8000-000000000001';
  /** The secret's record: its current version holds the resource's first credential, issued for these properties. */
  const recorded = (serviceName = 'codecommit.amazonaws.com', userName = 'alice') =>
    describedWith({ [CURRENT]: ['AWSCURRENT', label(id, { ServiceSpecificCredentialId: id, UserName: userName, ServiceName: serviceName }), KEPT] });
  beforeEach(() => recorded());

  test.each<[string, Partial<CredentialResourceProperties>]>([
    ['user', { UserName: 'bob' }],
    ['service', { ServiceName: 'cassandra.amazonaws.com' }],
    ['expiry', { CredentialAgeDays: '90' }],
  ])('a %s change creates a replacement with a new physical id and leaves the old one to CloudFormation', async (_, change) => {
    const replacement = passwordCredential(change.UserName ?? 'alice');
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: replacement });

    const response = await run(updateEvent(id, props(), props(change), base()));

    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { UserName: change.UserName ?? 'alice' });
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    // The replacement is a resource of its own: recorded under its own id, the old one's record left for its DELETE.
    expect(sm.commandCalls(PutSecretValueCommand)[0].args[0].input.VersionStages)
      .toEqual(['AWSCURRENT', label(replacement.ServiceSpecificCredentialId!, replacement), KEPT]);
    expect(sm).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(iam).not.toHaveReceivedCommand(ResetServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: replacement.ServiceSpecificCredentialId });
  });

  test('the rollback UPDATE after a failed replacement keeps the credential that never went away', async () => {
    const metadata = { ...passwordCredential('alice', id), ServicePassword: undefined };
    iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice' }).resolves({ ServiceSpecificCredentials: [metadata as any] });

    const response = await run(updateEvent(id, props({ UserName: 'bob' }), props(), base()));

    expect(iam).not.toHaveReceivedCommand(CreateServiceSpecificCredentialCommand);
    expect(readsOnly()).toBe(true);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceUserName: `alice-at-${ACCOUNT}` } });
  });

  test('a credential of the right user and service but another age is still replaced', async () => {
    const metadata = { ...apiKeyCredential('alice', id), ServiceCredentialSecret: undefined };
    iam.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [metadata as any] });
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: apiKeyCredential() });
    const bedrock = (age: string) => props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: age });
    recorded('bedrock.amazonaws.com');

    const response = await run(updateEvent(id, bedrock('30'), bedrock('90'), base()));

    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { CredentialAgeDays: 90 });
    expect(response.PhysicalResourceId).not.toBe(id);
  });

  test('a new resetSerial resets in place: same id, new secret version, UserName passed', async () => {
    const reset = passwordCredential('alice', id);
    iam.on(ResetServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: reset });

    const response = await run(updateEvent(id, props(), props({ ResetSerial: '1' }), base()));

    expect(iam).toHaveReceivedCommandWith(ResetServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: id });
    expect(iam).not.toHaveReceivedCommand(CreateServiceSpecificCredentialCommand);
    expect(putDocument()).toMatchObject({ password: reset.ServicePassword, resetSerial: '1', resourceId: id });
    // The new value is current and carries the credential's record: the label moves to the version with its newest value.
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { VersionStages: ['AWSCURRENT', label(id, reset), KEPT] });
    // DescribeSecret (the secret is this stack's), GetSecretValue (its value is not yet for serial 1), Reset, Put.
    expect(iam.calls().length + sm.calls().length).toBe(4);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceUserName: `alice-at-${ACCOUNT}` } });
  });

  test('a new resetSerial with ALTERNATING rotation stages a new credential AWSPENDING, then makes its version current', async () => {
    const next = passwordCredential('alice');
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: next });
    iam.on(ListServiceSpecificCredentialsCommand).resolves({
      ServiceSpecificCredentials: [passwordCredential('alice', id), next].map((c) => ({ ...c, ServicePassword: undefined } as any)),
    });
    sm.on(PutSecretValueCommand).callsFake(async (input) => ({ VersionId: input.ClientRequestToken }));
    const alternating = (serial: string) => props({ RotationStrategy: 'ALTERNATING', ResetSerial: serial });
    const event = updateEvent(id, alternating('0'), alternating('1'), base());

    const response = await run(event);

    expect(iam).not.toHaveReceivedCommand(ResetServiceSpecificCredentialCommand);
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, {
      ClientRequestToken: event.RequestId, VersionStages: ['AWSPENDING', label(id, next), KEPT],
    });
    expect(putDocument()).toMatchObject({ serviceSpecificCredentialId: next.ServiceSpecificCredentialId, resetSerial: '1', resourceId: id });
    expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      VersionStage: 'AWSCURRENT', MoveToVersionId: event.RequestId, RemoveFromVersionId: CURRENT,
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('a new target secret gets the value through a reset', async () => {
    const newArn = SECRET_ARN.replace('AbCdEf', 'XyZxYz');
    const reset = passwordCredential('alice', id);
    iam.on(ResetServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: reset });
    describedWith({ [FIRST_VERSION]: ['AWSCURRENT'] }, newArn);

    const response = await run(updateEvent(id, props(), props({ SecretArn: newArn }), base()));

    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: newArn, VersionStages: ['AWSCURRENT', label(id, reset), KEPT] });
    // The new secret records the credential now; the old one drops its record without deleting it.
    expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      SecretId: SECRET_ARN,
      VersionStage: label(id, { ServiceSpecificCredentialId: id, UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' }),
      RemoveFromVersionId: CURRENT,
    });
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { SecretArn: newArn } });
  });

  test('a reset API key whose answer carries only ServicePassword still stores the new key', async () => {
    const reset = { ...apiKeyCredential('alice', id), ServiceCredentialSecret: undefined, ServicePassword: 'ABSK-from-password-field-0123456789' };
    issuedSecrets.push(reset.ServicePassword);
    iam.on(ResetServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: reset });
    recorded('bedrock.amazonaws.com');

    await run(updateEvent(id, props({ ServiceName: 'bedrock.amazonaws.com' }), props({ ServiceName: 'bedrock.amazonaws.com', ResetSerial: '2' }), base()));

    expect(putDocument().apiKey).toBe(reset.ServicePassword);
  });

  test('a status change updates in place with UserName and writes no secret', async () => {
    const metadata = { ...passwordCredential('alice', id), ServicePassword: undefined };
    iam.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [metadata as any] });

    const response = await run(updateEvent(id, props(), props({ Status: 'Inactive' }), base()));

    expect(iam).toHaveReceivedCommandWith(UpdateServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: id, Status: 'Inactive' });
    expect(iam).not.toHaveReceivedCommand(ResetServiceSpecificCredentialCommand);
    expect(readsOnly()).toBe(true);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceUserName: `alice-at-${ACCOUNT}` } });
  });

  test('a rollback UPDATE whose secret already holds this credential\'s value for the old serial resets nothing', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: storedDocument(passwordCredential('alice', id), '0') });
    iam.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [{ ...passwordCredential('alice', id), ServicePassword: undefined } as any] });

    const response = await run(updateEvent(id, props({ ResetSerial: '1' }), props({ ResetSerial: '0' }), base()));

    expect(iam).not.toHaveReceivedCommand(ResetServiceSpecificCredentialCommand);
    expect(iam).not.toHaveReceivedCommand(UpdateServiceSpecificCredentialCommand);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('a status that is already what the properties ask for is not changed again', async () => {
    iam.on(ListServiceSpecificCredentialsCommand).resolves({
      ServiceSpecificCredentials: [{ ...passwordCredential('alice', id), ServicePassword: undefined, Status: 'Active' } as any],
    });

    const response = await run(updateEvent(id, props({ Status: 'Inactive' }), props({ Status: 'Active' }), base()));

    expect(iam).not.toHaveReceivedCommand(UpdateServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('an expired API key is not re-activated by an update that does not change the status', async () => {
    const bedrock = props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30' });
    iam.on(ListServiceSpecificCredentialsCommand).resolves({
      ServiceSpecificCredentials: [{ ...apiKeyCredential('alice', id), ServiceCredentialSecret: undefined, Status: 'Expired' } as any],
    });

    const response = await run(updateEvent(id, bedrock, bedrock, base()));

    expect(iam).not.toHaveReceivedCommand(UpdateServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('a NoSuchEntity whose credential still exists is not taken for an out-of-band delete', async () => {
    iam.on(ResetServiceSpecificCredentialCommand).rejects(iamError(NoSuchEntityException, `No such credential ${id} exists`));
    iam.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [{ ...passwordCredential('alice', id), ServicePassword: undefined } as any] });

    const response = await run(updateEvent(id, props(), props({ ResetSerial: '1' }), base()));

    expect(iam).not.toHaveReceivedCommand(CreateServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: id });
  });

  test('a credential deleted out of band is replaced under the same physical id instead of failing the update', async () => {
    iam.on(ResetServiceSpecificCredentialCommand).rejects(iamError(NoSuchEntityException, `No such credential ${id} exists`));
    iam.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [] });
    const replacement = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: replacement });

    const response = await run(updateEvent(id, props(), props({ ResetSerial: '1' }), base()));

    // The resource stays the same (no DELETE will come for it): its new credential is recorded under its own id.
    expect(response).toMatchObject({
      Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceSpecificCredentialId: replacement.ServiceSpecificCredentialId },
    });
    expect(putDocument()).toMatchObject({ password: replacement.ServicePassword, resetSerial: '1', resourceId: id });
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { VersionStages: ['AWSCURRENT', label(id, replacement), KEPT] });
  });

  test('the rollback of a failed replacement whose original credential was deleted out of band keeps its physical id', async () => {
    // The failed update asked for bob; the record holds only alice's credential, which IAM no longer has.
    iam.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [] });
    const fresh = passwordCredential('alice');
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: fresh });

    const response = await run(updateEvent(id, props({ UserName: 'bob' }), props(), base()));

    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { UserName: 'alice' });
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { VersionStages: ['AWSCURRENT', label(id, fresh), KEPT] });
    // The record of the credential that is gone goes too.
    expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      VersionStage: label(id, { ServiceSpecificCredentialId: id, UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' }), RemoveFromVersionId: CURRENT,
    });
    expect(response).toMatchObject({
      Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceSpecificCredentialId: fresh.ServiceSpecificCredentialId },
    });
  });
});

describe('DELETE', () => {
  test('deletes a credential its secret records, as the user the record names', async () => {
    const replaced = passwordCredential('alice');
    const replacement = passwordCredential('bob');
    // The cleanup of a replacement: the current version records the new credential, the previous one the replaced one.
    describedWith({
      'v-new': ['AWSCURRENT', label(replacement.ServiceSpecificCredentialId!, replacement), KEPT],
      'v-old': ['AWSPREVIOUS', label(replaced.ServiceSpecificCredentialId!, replaced)],
    });

    // The event names another user: the record, not the event, says whose credential it is.
    const response = await run(deleteEvent(replaced.ServiceSpecificCredentialId!, props({ UserName: 'carol' }), base()));

    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: replaced.ServiceSpecificCredentialId });
    expect(iam.calls()).toHaveLength(1);
    // Then its record: the label comes off; nothing else in the secret changes.
    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 1);
    expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      SecretId: SECRET_ARN, VersionStage: label(replaced.ServiceSpecificCredentialId!, replaced), RemoveFromVersionId: 'v-old',
    });
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)[0].args[0].input.MoveToVersionId).toBeUndefined();
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(sm).not.toHaveReceivedCommand(GetSecretValueCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: replaced.ServiceSpecificCredentialId });
  });

  test('a credential its secret does not record is left alone, and the answer is SUCCESS', async () => {
    const id = credentialId();
    const other = passwordCredential('alice');
    describedWith({ 'v-1': ['AWSCURRENT', label(other.ServiceSpecificCredentialId!, other), KEPT] });

    const response = await run(deleteEvent(id, props(), base()));

    expect(iam.calls()).toHaveLength(0);
    expect(readsOnly()).toBe(true);
    expect(logs.join('\n')).toContain(`credential ${id} left alone`);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  const listed = (id: string) => iam.on(ListServiceSpecificCredentialsCommand).resolves({
    ServiceSpecificCredentials: [{ ...passwordCredential('alice', id), ServicePassword: undefined } as any],
  });

  test('a secret that is gone proves nothing: FAILED, naming the credential to delete by hand', async () => {
    const id = credentialId();
    listed(id);
    sm.on(DescribeSecretCommand).rejects(iamError(ResourceNotFoundException, "Secrets Manager can't find the specified secret.", 400));

    const response = await run(deleteEvent(id, props(), base()));

    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: id });
    expect(response.Reason).toContain(`--service-specific-credential-id ${id}`);
  });

  test('a secret from before the record whose current value cannot be read proves nothing: FAILED with the reason, nothing deleted', async () => {
    const id = credentialId();
    listed(id);
    // No ssc-record label: the handler must read the current value to adopt it, and cannot.
    describedWith({ 'v-1': ['AWSCURRENT'] });
    sm.on(GetSecretValueCommand).rejects(awsError('DecryptionFailure', 400, 'cannot decrypt'));

    const response = await run(deleteEvent(id, props(), base()));

    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('DecryptionFailure');
  });

  test('without its record, a credential that no longer exists needs nothing: SUCCESS', async () => {
    sm.on(DescribeSecretCommand).rejects(iamError(ResourceNotFoundException, "Secrets Manager can't find the specified secret.", 400));
    iam.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [] });

    const response = await run(deleteEvent(credentialId(), props(), base()));

    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(response.Status).toBe('SUCCESS');
  });

  test('a secret from before the record is adopted from its labelled versions\' documents, then the credential deleted', async () => {
    const replaced = passwordCredential('alice');
    const replacement = passwordCredential('bob');
    describedWith({ 'v-new': ['AWSCURRENT'], 'v-old': ['AWSPREVIOUS'] });
    sm.on(GetSecretValueCommand, { VersionId: 'v-new' }).resolves({ VersionId: 'v-new', SecretString: storedDocument(replacement) });
    sm.on(GetSecretValueCommand, { VersionId: 'v-old' }).resolves({ VersionId: 'v-old', SecretString: storedDocument(replaced) });
    // A document holds no creation date, so the days a credential was issued for are not known ('?').
    const replacedLabel = label(replaced.ServiceSpecificCredentialId!, { ...replaced, CreateDate: undefined });

    const response = await run(deleteEvent(replaced.ServiceSpecificCredentialId!, props(), base()));

    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      // Documents from before resourceId name their own credential as the resource.
      {
        SecretId: SECRET_ARN, VersionStage: label(replacement.ServiceSpecificCredentialId!, { ...replacement, CreateDate: undefined }), MoveToVersionId: 'v-new',
      },
      { SecretId: SECRET_ARN, VersionStage: replacedLabel, MoveToVersionId: 'v-old' },
      { SecretId: SECRET_ARN, VersionStage: KEPT, MoveToVersionId: 'v-new' },
      { SecretId: SECRET_ARN, VersionStage: replacedLabel, RemoveFromVersionId: 'v-old' },
    ].map((input) => ({ MoveToVersionId: undefined, RemoveFromVersionId: undefined, ...input })));
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: replaced.ServiceSpecificCredentialId });
    expect(iam.calls()).toHaveLength(1);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: replaced.ServiceSpecificCredentialId });
  });

  describe('of a credential whose value the secret holds', () => {
    const deleted = passwordCredential('bob');
    const old = passwordCredential('alice');
    const deletedLabel = label(deleted.ServiceSpecificCredentialId!, deleted);
    const oldLabel = label(old.ServiceSpecificCredentialId!, old);
    const promoted = () => sm.commandCalls(UpdateSecretVersionStageCommand).filter((c) => c.args[0].input.VersionStage === 'AWSCURRENT');
    beforeEach(() => {
      // A replacement of alice's credential by bob's: the current version records bob's, the previous one alice's.
      describedWith({
        'v-new': ['AWSCURRENT', deletedLabel, KEPT],
        'v-old': ['AWSPREVIOUS', oldLabel],
      });
      sm.on(GetSecretValueCommand, { VersionId: 'v-old' }).resolves({
        VersionId: 'v-old', SecretString: storedDocument(old), CreatedDate: new Date('2026-11-20T10:00:00Z'),
      });
    });

    test('a rolled-back replacement makes the previous, still existing credential\'s version current again', async () => {
      iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice' }).resolves({ ServiceSpecificCredentials: [{ ...old, ServicePassword: undefined } as any] });

      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'bob', ServiceSpecificCredentialId: deleted.ServiceSpecificCredentialId });
      expect(iam).not.toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
        ServiceSpecificCredentialId: old.ServiceSpecificCredentialId,
      });
      expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, { VersionStage: deletedLabel, RemoveFromVersionId: 'v-new' });
      // The version itself becomes current again: no copy of its value.
      expect(promoted().map((c) => c.args[0].input)).toEqual([
        { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v-old', RemoveFromVersionId: 'v-new' },
      ]);
      expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
      expect(response.Status).toBe('SUCCESS');
    });

    test('of the other recorded credentials, the newest value that still exists is made current', async () => {
      const older = passwordCredential('alice');
      const gone = passwordCredential('alice');
      describedWith({
        'v-new': ['AWSCURRENT', deletedLabel, KEPT],
        'v-old': ['AWSPREVIOUS', oldLabel],
        'v-older': [label(older.ServiceSpecificCredentialId!, older)],
        'v-gone': [label(gone.ServiceSpecificCredentialId!, gone)],
      });
      sm.on(GetSecretValueCommand, { VersionId: 'v-older' }).resolves({ VersionId: 'v-older', CreatedDate: new Date('2026-11-01T10:00:00Z') });
      // The newest of all, but IAM no longer has its credential.
      sm.on(GetSecretValueCommand, { VersionId: 'v-gone' }).resolves({ VersionId: 'v-gone', CreatedDate: new Date('2026-11-21T10:00:00Z') });
      iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice' }).resolves({
        ServiceSpecificCredentials: [older, old].map((c) => ({ ...c, ServicePassword: undefined } as any)),
      });

      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      expect(promoted().map((c) => c.args[0].input.MoveToVersionId)).toEqual(['v-old']);
      expect(response.Status).toBe('SUCCESS');
    });

    test('a stack deletion, whose previous version names no living credential, writes nothing', async () => {
      iam.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [] });

      await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
        ServiceSpecificCredentialId: deleted.ServiceSpecificCredentialId,
      });
      expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
      expect(promoted()).toHaveLength(0);
    });

    test('a previous version that cannot be read does not fail the deletion', async () => {
      iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice' }).resolves({ ServiceSpecificCredentials: [{ ...old, ServicePassword: undefined } as any] });
      sm.on(GetSecretValueCommand, { VersionId: 'v-old' }).rejects(awsError('DecryptionFailure', 400, 'cannot decrypt'));

      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
        ServiceSpecificCredentialId: deleted.ServiceSpecificCredentialId,
      });
      expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { VersionId: 'v-old' });
      expect(promoted()).toHaveLength(0);
      expect(response.Status).toBe('SUCCESS');
      expect(logs.join('\n')).toContain('DecryptionFailure');
    });

    test('a credential that is already gone counts as deleted', async () => {
      iam.on(DeleteServiceSpecificCredentialCommand).rejects(iamError(NoSuchEntityException, `No such credential ${deleted.ServiceSpecificCredentialId} exists`));

      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, { VersionStage: deletedLabel, RemoveFromVersionId: 'v-new' });
      expect(response.Status).toBe('SUCCESS');
    });

    test('a failure to delete is answered FAILED with the same physical id, and keeps the record for the retry', async () => {
      iam.on(DeleteServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400, 'bad request'));

      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'bob', ServiceSpecificCredentialId: deleted.ServiceSpecificCredentialId });
      expect(sm).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
      expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: deleted.ServiceSpecificCredentialId });
      expect(response.Reason).toContain('ValidationError');
    });
  });
});

describe('only this stack drives the handler', () => {
  test.each(['Create', 'Update', 'Delete'])('a %s from another stack is refused before any call', async (type) => {
    const id = credentialId();
    const event = type === 'Create' ? createEvent(props(), base()) : type === 'Update'
      ? updateEvent(id, props(), props({ ResetSerial: '1' }), base())
      : deleteEvent(id, props(), base());
    const foreign = { ...event, StackId: STACK_ID.replace('App', 'Other') } as CloudFormationCustomResourceEvent;

    const response = await run(foreign);

    expect(iam.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`serves CloudFormation stack ${STACK_ID} only`);
  });
});

describe('invariant 1: either the credential does not exist or the secret holds its current value', () => {
  test('PutSecretValue failing after Create deletes the new credential, then answers FAILED', async () => {
    const credential = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });
    sm.on(PutSecretValueCommand).rejects(iamError(ResourceNotFoundException, "Secrets Manager can't find the specified secret.", 400));

    const response = await run(createEvent(props(), base()));

    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
      UserName: 'alice', ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId,
    });
    expect(response.Status).toBe('FAILED');
    expect(response.PhysicalResourceId).not.toBe(credential.ServiceSpecificCredentialId);
    expect(response.Reason).toContain("can't find the specified secret");
  });

  test('a failed deactivation after Create deletes the new credential', async () => {
    const credential = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });
    iam.on(UpdateServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400));

    const response = await run(createEvent(props({ Status: 'Inactive' }), base()));

    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
      ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId,
    });
    expect(response.Status).toBe('FAILED');
  });

  test('PutSecretValue failing after Reset deletes the credential whose new secret nobody holds', async () => {
    const id = credentialId();
    describedWith({ 'v-1': ['AWSCURRENT', label(id, { ServiceSpecificCredentialId: id, UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' }), KEPT] });
    iam.on(ResetServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: passwordCredential('alice', id) });
    sm.on(PutSecretValueCommand).rejects(awsError('InvalidRequestException', 400, 'You can\'t perform this operation on the secret because it was marked for deletion.'));

    const response = await run(updateEvent(id, props(), props({ ResetSerial: '1' }), base()));

    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: id });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: id });
    expect(response.Reason).toContain('marked for deletion');
  });

  test('a cleanup that IAM throttles keeps trying with the time the event has left', async () => {
    const credential = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });
    sm.on(PutSecretValueCommand).rejects(awsError('InvalidRequestException', 400, 'marked for deletion'));
    const throttled = awsError('Throttling', 400, 'Rate exceeded');
    // Five throttles raise the pace's ceiling to 16 s, more than a cleanup of its own (5 s) could wait.
    iam.on(DeleteServiceSpecificCredentialCommand)
      .rejectsOnce(throttled).rejectsOnce(throttled).rejectsOnce(throttled).rejectsOnce(throttled).rejectsOnce(throttled)
      .resolves({});

    const response = await run(createEvent(props(), base()));

    expect(iam).toHaveReceivedCommandTimes(DeleteServiceSpecificCredentialCommand, 6);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('marked for deletion');
    expect(response.Reason).not.toContain('failed too');
  });

  test('a replacement whose deactivation fails leaves the secret with the old credential\'s value', async () => {
    const replacement = passwordCredential('bob');
    const old = 'ACCAOLDCREDENTIAL1234';
    describedWith({ 'v-1': ['AWSCURRENT', label(old, { ServiceSpecificCredentialId: old, UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' }), KEPT] });
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: replacement });
    iam.on(UpdateServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400));

    const response = await run(updateEvent('ACCAOLDCREDENTIAL1234', props({ Status: 'Inactive' }), props({ UserName: 'bob', Status: 'Inactive' }), base()));

    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(sm).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'bob', ServiceSpecificCredentialId: replacement.ServiceSpecificCredentialId });
    expect(iam).not.toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { ServiceSpecificCredentialId: old });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'ACCAOLDCREDENTIAL1234' });
  });

  test('when even the cleanup fails, the answer names the credential to delete by hand', async () => {
    const credential = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });
    sm.on(PutSecretValueCommand).rejects(awsError('InvalidRequestException', 400, 'marked for deletion'));
    iam.on(DeleteServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400));

    const response = await run(createEvent(props(), base()));

    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(credential.ServiceSpecificCredentialId);
    expect(response.Reason).toContain('delete-service-specific-credential');
  });

  test('a cleanup that IAM fails until the deadline still answers with the cause, not as a timeout to retry', async () => {
    const credential = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });
    sm.on(PutSecretValueCommand).rejects(awsError('InvalidRequestException', 400, 'marked for deletion'));
    iam.on(DeleteServiceSpecificCredentialCommand).rejects(awsError('ServiceFailure', 500));
    const handler = makeHandler({ stackId: STACK_ID, log: (l) => logs.push(l), sleep: (ms, signal) => abortableSleep(Math.min(ms, 50), signal) });

    // 3 s until the deadline, all of it left to the cleanup.
    await handler(createEvent(props(), base()), lambdaContext(4_000));

    expect(catcher.last.Status).toBe('FAILED');
    expect(catcher.last.Reason).toMatch(/^marked for deletion; deleting credential \w+ of IAM user 'alice' failed too/);
    expect(catcher.last.Reason).toContain('delete-service-specific-credential');
  });
});

describe('invariant 2: the secret value never leaves Secrets Manager', () => {
  test('an error message that echoes the password is redacted from the answer and the logs', async () => {
    const credential = passwordCredential();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: credential });
    sm.on(PutSecretValueCommand).rejects(awsError('ValidationException', 400, `value ${credential.ServicePassword} rejected`));

    const response = await run(createEvent(props(), base()));

    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('*****');
    // The afterEach check asserts the password itself is absent.
  });

  test.each([
    ['4-byte characters', '\u{1F511}'.repeat(3_000)],
    ['characters JSON escapes', '"\\\n'.repeat(3_000)],
  ])('a reason of %s is cut to what fits 4,096 bytes, keeping as much as fits', async (_, tail) => {
    iam.on(CreateServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400, `bad request: ${tail}`));

    const response = await run(createEvent(props(), base()));

    const body = Buffer.byteLength(catcher.rawBodies[catcher.rawBodies.length - 1]);
    expect(body).toBeLessThanOrEqual(4_096);
    expect(body).toBeGreaterThan(4_000);
    expect(response.Reason).toMatch(/^ValidationError: bad request: .* \(truncated\)$/s);
  });

  test('the logged event carries neither the ResponseURL nor anything but ids and names', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).resolves({ ServiceSpecificCredential: passwordCredential() });
    const event = createEvent(props(), base());

    await run(event);

    expect(logs.join('\n')).not.toContain(event.ResponseURL);
    expect(logs.join('\n')).toContain(event.RequestId);
  });
});

describe('invariant 3: always answered, before the deadline; a repeated CREATE leaves one credential', () => {
  test('an unexpected error still gets a FAILED answer', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).resolves({});

    const response = await run(createEvent(props(), base()));

    expect(response.Status).toBe('FAILED');
  });

  test('an IAM that never answers gets a FAILED answer before the Lambda times out', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();

    const response = await run(createEvent(props(), base()), 2_000);

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/Timed out .* 'alice' .*codecommit/);
  });

  test('a second delivery of a CREATE that succeeded deletes its own duplicate and answers with the first credential', async () => {
    const first = passwordCredential();
    const second = passwordCredential();
    const event = createEvent(props(), base());
    iam.on(CreateServiceSpecificCredentialCommand)
      .resolvesOnce({ ServiceSpecificCredential: first })
      .resolvesOnce({ ServiceSpecificCredential: second });
    await run(event);
    const firstDocument = sm.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString;
    sm.on(PutSecretValueCommand).rejects(iamError(ResourceExistsException,
      `You can't use ClientRequestToken ${event.RequestId} because that value is already in use for a version of secret ${SECRET_ARN}`, 400));
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: event.RequestId }).resolves({ SecretString: firstDocument });

    const response = await run(event);

    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: second.ServiceSpecificCredentialId });
    expect(iam).not.toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
      ServiceSpecificCredentialId: first.ServiceSpecificCredentialId,
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: first.ServiceSpecificCredentialId, Data: { ServiceUserName: `alice-at-${ACCOUNT}` } });
  });

  test('a second delivery that hits the limit finds the first credential instead of failing', async () => {
    const first = passwordCredential();
    const event = createEvent(props(), base());
    iam.on(CreateServiceSpecificCredentialCommand).rejects(iamError(LimitExceededException, 'Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2', 409));
    sm.on(GetSecretValueCommand, { VersionId: event.RequestId }).resolves({
      SecretString: JSON.stringify({ username: first.ServiceUserName, password: first.ServicePassword, serviceSpecificCredentialId: first.ServiceSpecificCredentialId, serviceName: 'codecommit.amazonaws.com', iamUserName: 'alice' }),
    });

    const response = await run(event);

    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: first.ServiceSpecificCredentialId });
  });
});

describe('invariant 4: after a failed CREATE, the DELETE for its physical id touches nothing', () => {
  test('the rollback DELETE makes no AWS call at all', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).rejects(iamError(ServiceNotSupportedException, 'not supported', 404));
    const failed = await run(createEvent(props(), base()));
    iam.resetHistory();
    sm.resetHistory();

    const response = await run(deleteEvent(failed.PhysicalResourceId, props(), base()));

    expect(failed.Status).toBe('FAILED');
    expect(iam.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: failed.PhysicalResourceId });
  });
});

describe('invariant 5: eventual consistency is retried, user errors fail fast', () => {
  test('a user created moments ago, whom IAM does not show yet, is waited for with growing backoff until it succeeds', async () => {
    const notYet = iamError(NoSuchEntityException, 'The user with name alice cannot be found.');
    iam.on(CreateServiceSpecificCredentialCommand).rejectsOnce(notYet).rejectsOnce(notYet).rejectsOnce(notYet)
      .resolves({ ServiceSpecificCredential: passwordCredential() });
    // What a NoSuchEntity means is asked of IAM: the user's credentials for no particular service.
    iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice' }, true).rejectsOnce(notYet).rejectsOnce(notYet).rejectsOnce(notYet);

    const response = await run(createEvent(props(), base()));

    expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 4);
    expect(iam).toHaveReceivedCommandTimes(ListServiceSpecificCredentialsCommand, 3);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[2]).toBeGreaterThan(sleeps[0]);
    expect(response.Status).toBe('SUCCESS');
  });

  test.each([
    ['a policy still propagating', awsError('AccessDenied', 403, 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized')],
    ['throttling', awsError('Throttling', 400, 'Rate exceeded')],
    ['an internal failure', awsError('ServiceFailure', 500)],
  ])('%s is retried with growing backoff until it succeeds', async (_, error) => {
    iam.on(CreateServiceSpecificCredentialCommand).rejectsOnce(error).rejectsOnce(error).rejectsOnce(error)
      .resolves({ ServiceSpecificCredential: passwordCredential() });

    const response = await run(createEvent(props(), base()));

    expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 4);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[2]).toBeGreaterThan(sleeps[0]);
    expect(response.Status).toBe('SUCCESS');
  });

  test('a user that never appears fails before the deadline with a message naming the user', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).rejects(iamError(NoSuchEntityException, 'The user with name alice cannot be found.'));
    const handler = makeHandler({ stackId: STACK_ID, log: (l) => logs.push(l), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) });

    await handler(createEvent(props(), base()), lambdaContext(1_200));

    expect(catcher.last.Status).toBe('FAILED');
    expect(catcher.last.Reason).toContain("'alice'");
  });

  test('a denial that outlasts the time IAM takes to apply a policy fails then, naming the operation, its error and what to check', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).rejects(awsError('AccessDenied', 403, 'not authorized to perform: iam:CreateServiceSpecificCredential on resource: user alice'));
    const slept: number[] = [];
    const handler = makeHandler({ stackId: STACK_ID, log: (l) => logs.push(l), sleep: async (ms) => { slept.push(ms); } });

    await handler(createEvent(props(), base()), lambdaContext());

    expect(catcher.last.Status).toBe('FAILED');
    expect(catcher.last.Reason).toMatch(/^iam:CreateServiceSpecificCredential was still denied after 6\d s \(\d+ attempts\), longer than IAM takes to apply a new policy: AccessDenied: not authorized/);
    expect(catcher.last.Reason).toContain('User.fromUserArn');
    // 60 s of backoff, not the 4 min 45 s until the deadline.
    const total = slept.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(60_000);
    expect(total).toBeLessThan(70_000);
  });

  test('throttling between denials does not restart the window in which a denial is taken for a new policy', async () => {
    const denied = awsError('AccessDenied', 403, 'not authorized to perform: iam:CreateServiceSpecificCredential on resource: user alice');
    let call = 0;
    iam.on(CreateServiceSpecificCredentialCommand).callsFake(() => {
      throw call++ % 2 ? awsError('Throttling', 400, 'Rate exceeded') : denied;
    });
    let slept = 0;
    const sleep = (ms: number) => {
      slept += ms;
      if (slept > 300_000) throw new Error('still retrying after 5 minutes of waits');
      return new Promise<void>((r) => setImmediate(r));
    };
    const handler = makeHandler({ stackId: STACK_ID, log: (l) => logs.push(l), sleep });

    await handler(createEvent(props(), base()), lambdaContext(900_000));

    expect(catcher.last.Status).toBe('FAILED');
    expect(catcher.last.Reason).toMatch(/^iam:CreateServiceSpecificCredential was still denied after \d+ s/);
  });

  test('a budget shorter than the time kept for a last attempt still retries an internal failure', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).rejectsOnce(awsError('ServiceFailure', 500))
      .resolves({ ServiceSpecificCredential: passwordCredential() });

    const response = await run(createEvent(props(), base()), 1_200);

    expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 2);
    expect(response.Status).toBe('SUCCESS');
  });

  test('another error that lasts until the deadline is reported with the operation, attempts and last error', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).rejects(awsError('Throttling', 400, 'Rate exceeded'));
    const handler = makeHandler({ stackId: STACK_ID, log: (l) => logs.push(l), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) });

    await handler(createEvent(props(), base()), lambdaContext(1_200));

    expect(catcher.last.Status).toBe('FAILED');
    expect(catcher.last.Reason).toMatch(/iam:CreateServiceSpecificCredential did not succeed before the deadline \(\d+ attempts?; last error Throttling: Rate exceeded/);
  });

  test('throttling that lasts into the last second of the budget gets one more attempt, not a burst of them', async () => {
    iam.on(CreateServiceSpecificCredentialCommand).rejects(awsError('Throttling', 400, 'Rate exceeded'));
    const handler = makeHandler({ stackId: STACK_ID, log: (l) => logs.push(l), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) });

    // 900 ms to the deadline: less than the time kept for a last attempt from the start.
    await handler(createEvent(props(), base()), lambdaContext(1_200));

    expect(catcher.last.Status).toBe('FAILED');
    // The pace after 1 throttle is at least 0.5 s, far more than the budget left: every later attempt would be a burst.
    expect(iam.commandCalls(CreateServiceSpecificCredentialCommand).length).toBeLessThanOrEqual(2);
  });

  test('LimitExceeded fails fast, naming the user, the service and the existing credential ids', async () => {
    const existing = [credentialId(), credentialId()];
    iam.on(CreateServiceSpecificCredentialCommand).rejects(iamError(LimitExceededException, 'Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2', 409));
    iam.on(ListServiceSpecificCredentialsCommand).resolves({
      ServiceSpecificCredentials: existing.map((id) => ({ ServiceSpecificCredentialId: id, UserName: 'alice', ServiceName: 'codecommit.amazonaws.com', Status: 'Active', CreateDate: new Date() } as any)),
    });
    sm.on(GetSecretValueCommand).rejects(iamError(ResourceNotFoundException, 'no such version', 400));

    const response = await run(createEvent(props(), base()));

    expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 1);
    expect(iam).toHaveReceivedCommandWith(ListServiceSpecificCredentialsCommand, { UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain("'alice'");
    expect(response.Reason).toContain('codecommit.amazonaws.com');
    for (const id of existing) expect(response.Reason).toContain(id);
  });

  test.each([
    ['NoSuchEntity, as real AWS answers', iamError(NoSuchEntityException, 'No such service foo.amazonaws.com is supported for Service Specific Credentials')],
    ['NotSupportedService, as the model says', iamError(ServiceNotSupportedException, 'Service foo.amazonaws.com is not supported')],
  ])('an unsupported service answered with %s fails fast for an existing user, naming the service and the user', async (_, error) => {
    iam.on(CreateServiceSpecificCredentialCommand).rejects(error);

    // An imported user exists before the deployment: nothing can be explained by IAM not showing it yet.
    const response = await run(createEvent(props({ ServiceName: 'foo.amazonaws.com', UserExists: 'true' }), base()));

    expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 1);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('foo.amazonaws.com');
    expect(response.Reason).toContain("'alice'");
  });
});
