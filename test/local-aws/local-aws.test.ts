import {
  CreateServiceSpecificCredentialCommand,
  CreateUserCommand,
  DeleteServiceSpecificCredentialCommand,
  DeleteUserCommand,
  IAMClient,
  LimitExceededException,
  ListServiceSpecificCredentialsCommand,
  NoSuchEntityException,
  ResetServiceSpecificCredentialCommand,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LocalAws, startLocalAws } from '.';

// The local AWS against the real SDK clients: what the lifecycle tests and the demo rely on.

let aws: LocalAws;
let iam: IAMClient;
let sm: SecretsManagerClient;

beforeEach(async () => {
  aws = await startLocalAws({ wordings: 'aws' });
  const config = { endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  iam = new IAMClient(config);
  sm = new SecretsManagerClient(config);
  aws.createUser('alice');
});

afterEach(async () => {
  iam.destroy();
  sm.destroy();
  await aws.close();
});

const create = (ServiceName: string, extra: { CredentialAgeDays?: number; UserName?: string } = {}) =>
  iam.send(new CreateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceName, ...extra })).then((o) => o.ServiceSpecificCredential!);

describe('IAM', () => {
  test('a CodeCommit credential has a user name <user>-at-<account> and a password', async () => {
    const c = await create('codecommit.amazonaws.com');

    expect(c.ServiceSpecificCredentialId).toMatch(/^ACCA[A-Z0-9]{17}$/);
    expect(c.ServiceUserName).toBe('alice-at-123456789012');
    expect(c.ServicePassword!.length).toBeGreaterThanOrEqual(40);
    expect(c.ServiceCredentialSecret).toBeUndefined();
    expect(c.CreateDate).toBeInstanceOf(Date);
    expect(c.Status).toBe('Active');
  });

  test('a Bedrock key with an age has an alias, a secret and an expiration date', async () => {
    const c = await create('bedrock.amazonaws.com', { CredentialAgeDays: 30 });

    expect(c.ServiceCredentialAlias).toContain('alice');
    expect(c.ServiceCredentialSecret).toMatch(/^ABSK/);
    expect(c.ServicePassword).toBeUndefined();
    expect(c.ExpirationDate!.getTime() - c.CreateDate!.getTime()).toBe(30 * 86_400_000);
  });

  test('CredentialAgeDays on a password service is a ValidationError', async () => {
    await expect(create('codecommit.amazonaws.com', { CredentialAgeDays: 30 })).rejects.toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
  });

  test('a third credential for the same user and service is LimitExceeded', async () => {
    await create('codecommit.amazonaws.com');
    await create('codecommit.amazonaws.com');

    await expect(create('codecommit.amazonaws.com')).rejects.toBeInstanceOf(LimitExceededException);
    await expect(create('cassandra.amazonaws.com')).resolves.toBeDefined();
  });

  test('an unsupported service is NoSuchEntity with the message real AWS gives', async () => {
    const err = await create('foo.amazonaws.com').catch((e) => e);

    expect(err).toBeInstanceOf(NoSuchEntityException);
    expect(err.message).toBe('No such service foo.amazonaws.com is supported for Service Specific Credentials');
    expect(err.$metadata.httpStatusCode).toBe(404);
  });

  test('an unknown user is NoSuchEntity naming the user', async () => {
    await expect(create('codecommit.amazonaws.com', { UserName: 'bob' })).rejects.toThrow('The user with name bob cannot be found.');
  });

  test('reset keeps the id and an Inactive status, and issues a new secret', async () => {
    const c = await create('codecommit.amazonaws.com');
    await iam.send(new UpdateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId, Status: 'Inactive' }));

    const out = await iam.send(new ResetServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId }));

    expect(out.ServiceSpecificCredential).toMatchObject({ ServiceSpecificCredentialId: c.ServiceSpecificCredentialId, Status: 'Inactive' });
    expect(out.ServiceSpecificCredential!.ServicePassword).not.toBe(c.ServicePassword);
    expect(aws.credentials()[0].ServicePassword).toBe(out.ServiceSpecificCredential!.ServicePassword);
  });

  test('list returns metadata without secrets', async () => {
    await create('codecommit.amazonaws.com');
    await create('bedrock.amazonaws.com');

    const out = await iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' }));

    expect(out.ServiceSpecificCredentials).toHaveLength(2);
    expect(JSON.stringify(out)).not.toMatch(/ServicePassword|ServiceCredentialSecret/);
  });

  test('without UserName, IAM acts on the caller, who has no such credential', async () => {
    const c = await create('codecommit.amazonaws.com');

    await expect(iam.send(new DeleteServiceSpecificCredentialCommand({ ServiceSpecificCredentialId: c.ServiceSpecificCredentialId })))
      .rejects.toBeInstanceOf(NoSuchEntityException);
    expect(aws.credentials()).toHaveLength(1);
  });

  test('a malformed id is a ValidationError, a deleted one NoSuchEntity', async () => {
    const c = await create('codecommit.amazonaws.com');
    await iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId }));

    await expect(iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: 'failed-create-1234' })))
      .rejects.toMatchObject({ name: 'ValidationError' });
    await expect(iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId })))
      .rejects.toBeInstanceOf(NoSuchEntityException);
  });

  test('a user with credentials cannot be deleted', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'carol' }));
    await create('codecommit.amazonaws.com', { UserName: 'carol' });

    await expect(iam.send(new DeleteUserCommand({ UserName: 'carol' }))).rejects.toMatchObject({ name: 'DeleteConflictException' });
  });
});

describe('Secrets Manager', () => {
  test('each put becomes AWSCURRENT and the one before AWSPREVIOUS', async () => {
    const arn = aws.createSecret('s');
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'one' }));
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'two' }));

    const current = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPREVIOUS' }));

    expect(current.SecretString).toBe('two');
    expect(previous.SecretString).toBe('one');
  });

  test('a repeated token with the same value is a no-op; with another value it is ResourceExists', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 's' }));
    const token = '11111111-2222-3333-4444-555555555555';
    const first = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'one', ClientRequestToken: token }));
    const again = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'one', ClientRequestToken: token }));

    expect(again.VersionId).toBe(first.VersionId);
    await expect(sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'two', ClientRequestToken: token })))
      .rejects.toBeInstanceOf(ResourceExistsException);
    expect(aws.secret('s')!.versions).toHaveLength(1);
  });

  test('an unknown secret or version is ResourceNotFound', async () => {
    const arn = aws.createSecret('s');

    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: '11111111-2222-3333-4444-555555555555' })))
      .rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('faults', () => {
  test('throttling twice is absorbed by the SDK\'s own retries, and the call log shows every attempt', async () => {
    aws.inject({ service: 'iam', operation: 'CreateServiceSpecificCredential', times: 2, error: { code: 'Throttling', status: 400, message: 'Rate exceeded' } });

    await create('codecommit.amazonaws.com');

    expect(aws.calls.map((c) => c.outcome)).toEqual(['Throttling', 'Throttling', 'ok']);
  });

  test('an error after the work models a lost response: the state changed, the client saw an error', async () => {
    aws.inject({ service: 'iam', operation: 'CreateServiceSpecificCredential', afterWork: true, error: { code: 'ValidationError', status: 400 } });

    await expect(create('codecommit.amazonaws.com')).rejects.toMatchObject({ name: 'ValidationError' });
    expect(aws.credentials()).toHaveLength(1);
  });

  test('latency delays the answer', async () => {
    aws.inject({ service: 'secretsmanager', operation: '*', delayMs: 300 });
    const arn = aws.createSecret('s');
    const started = Date.now();

    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'x' }));

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test('a dropped connection is a network error to the client', async () => {
    const once = new IAMClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' }, maxAttempts: 1 });
    aws.inject({ service: 'iam', operation: '*', dropConnection: true });

    const err = await once.send(new CreateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' })).catch((e) => e);
    once.destroy();

    expect(err.$metadata?.httpStatusCode).toBeUndefined();
    expect(aws.calls.map((c) => c.outcome)).toEqual(['dropped']);
  });

  test('the call log never holds a secret value', async () => {
    const c = await create('codecommit.amazonaws.com');
    const arn = aws.createSecret('s');
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: c.ServicePassword }));

    expect(JSON.stringify(aws.calls)).not.toContain(c.ServicePassword);
  });
});
