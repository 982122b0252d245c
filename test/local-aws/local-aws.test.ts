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
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { LocalAws, startLocalAws } from '.';
import { DenyingPolicy, REFUSAL_WORDINGS, Wordings } from './errors';

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

// ---------------------------------------------------------------------------------------------------------------------
// The local AWS's errors against answers recorded on real AWS: every error the handler decides by (or that a test of it
// relies on), with its code, HTTP status and message as recorded. Unless a comment says otherwise, the IAM answers are
// LocalStack's tests/aws/services/iam/test_iam.snapshot.json (TestIAMServiceSpecificCredentials, recorded against AWS
// on 2025-03-06), and the Secrets Manager ones its tests/aws/services/secretsmanager/test_secretsmanager.snapshot.json
// (TestSecretsManager); each row names the test and the snapshot key.

/** An error as the recorded snapshots show it: the wire code, message and (IAM) type, and the HTTP status. */
interface Recorded {
  readonly Code: string;
  readonly Message: string;
  readonly Type?: 'Sender';
  readonly HTTPStatusCode: number;
}

/** What the SDK client made of a failed call, in the recorded answers' shape; a call that succeeds fails the test. */
async function answerOf(call: Promise<unknown>): Promise<Recorded> {
  const err = await call.then((out) => { throw new Error(`expected an error, got ${JSON.stringify(out)}`); }, (e) => e);
  // awsQuery (IAM) keeps the <Error> element; awsJson (Secrets Manager) the __type.
  const wire = err.Error as { Code: string; Message: string; Type: 'Sender' } | undefined;
  return {
    Code: wire?.Code ?? err.__type ?? err.name,
    Message: wire?.Message ?? err.message,
    ...(wire ? { Type: wire.Type } : {}),
    HTTPStatusCode: err.$metadata?.httpStatusCode,
  };
}

const NO_SUCH_USER = (name: string): Recorded => ({ Code: 'NoSuchEntity', Message: `The user with name ${name} cannot be found.`, Type: 'Sender', HTTPStatusCode: 404 });
const NO_SUCH_SERVICE = (name: string): Recorded => ({
  Code: 'NoSuchEntity', Message: `No such service ${name} is supported for Service Specific Credentials`, Type: 'Sender', HTTPStatusCode: 404,
});
const NO_SUCH_CREDENTIAL = (id: string): Recorded => ({ Code: 'NoSuchEntity', Message: `No such credential ${id} exists`, Type: 'Sender', HTTPStatusCode: 404 });
const MALFORMED_ID: Recorded = {
  Code: 'ValidationError',
  Message: '1 validation error detected: Value at \'serviceSpecificCredentialId\' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+',
  Type: 'Sender',
  HTTPStatusCode: 400,
};

/** Reset, Update and Delete of one credential id, for one user: each answers the same errors. */
const byId = (client: IAMClient, UserName: string, ServiceSpecificCredentialId: string) => ({
  update: () => client.send(new UpdateServiceSpecificCredentialCommand({ UserName, ServiceSpecificCredentialId, Status: 'Inactive' })),
  reset: () => client.send(new ResetServiceSpecificCredentialCommand({ UserName, ServiceSpecificCredentialId })),
  delete: () => client.send(new DeleteServiceSpecificCredentialCommand({ UserName, ServiceSpecificCredentialId })),
});

/**
 * Every IAM error row: what is asked of the local IAM (which has user alice with one CodeCommit credential, `id`), and
 * the answer recorded for it. `wordingOnly`: a NoSuchEntity whose message the local IAM can word otherwise.
 */
const IAM_ERRORS: Array<{ row: string; call: (client: IAMClient, id: string) => Promise<unknown>; recorded: Recorded; wordingOnly?: boolean }> = [
  // test_create_service_specific_credential_invalid_user: invalid-user-name-exception
  {
    row: 'Create for an unknown user',
    recorded: NO_SUCH_USER('non-existent-user'),
    wordingOnly: true,
    call: (c) => c.send(new CreateServiceSpecificCredentialCommand({ UserName: 'non-existent-user', ServiceName: 'codecommit.amazonaws.com' })),
  },
  // test_create_service_specific_credential_invalid_user: invalid-user-and-service-exception (the user is named, not the service)
  {
    row: 'Create for an unknown user and an unknown service',
    recorded: NO_SUCH_USER('non-existent-user'),
    wordingOnly: true,
    call: (c) => c.send(new CreateServiceSpecificCredentialCommand({ UserName: 'non-existent-user', ServiceName: 'nonexistentservice.amazonaws.com' })),
  },
  // test_create_service_specific_credential_invalid_service: invalid-service-exception
  {
    row: 'Create for a service that does not exist',
    recorded: NO_SUCH_SERVICE('nonexistentservice.amazonaws.com'),
    wordingOnly: true,
    call: (c) => c.send(new CreateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceName: 'nonexistentservice.amazonaws.com' })),
  },
  // test_create_service_specific_credential_invalid_service: invalid-service-completely-malformed-exception
  {
    row: 'Create for a malformed service name',
    recorded: NO_SUCH_SERVICE('o3on3n3onosneo'),
    wordingOnly: true,
    call: (c) => c.send(new CreateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceName: 'o3on3n3onosneo' })),
  },
  // test_create_service_specific_credential_invalid_service: invalid-service-existing-but-unsupported-exception
  {
    row: 'Create for a service that exists but issues no credentials',
    recorded: NO_SUCH_SERVICE('lambda.amazonaws.com'),
    wordingOnly: true,
    call: (c) => c.send(new CreateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceName: 'lambda.amazonaws.com' })),
  },
  // test_list_service_specific_credential_different_service: list-service-specific-credentials-invalid-service
  {
    row: 'List for a service that does not exist',
    recorded: NO_SUCH_SERVICE('nonexistentservice.amazonaws.com'),
    wordingOnly: true,
    call: (c) => c.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice', ServiceName: 'nonexistentservice.amazonaws.com' })),
  },
  // test_user_match_id_mismatch[totally-wrong-credential-id-with-hyphens]: update-wrong-id, reset-wrong-id, delete-wrong-id
  ...(['update', 'reset', 'delete'] as const).map((op) => ({
    row: `${op} of a malformed credential id`,
    recorded: MALFORMED_ID,
    call: (c: IAMClient) => byId(c, 'alice', 'totally-wrong-credential-id-with-hyphens')[op](),
  })),
  // test_user_match_id_mismatch[satisfiesregexbutstillinvalid]: update-wrong-id, reset-wrong-id, delete-wrong-id
  ...(['update', 'reset', 'delete'] as const).map((op) => ({
    row: `${op} of a well-formed unknown credential id`,
    recorded: NO_SUCH_CREDENTIAL('satisfiesregexbutstillinvalid'),
    wordingOnly: true,
    call: (c: IAMClient) => byId(c, 'alice', 'satisfiesregexbutstillinvalid')[op](),
  })),
  // test_id_match_user_mismatch: update-wrong-user-name, reset-wrong-user-name, delete-wrong-user-name
  ...(['update', 'reset', 'delete'] as const).map((op) => ({
    row: `${op} of a credential for an unknown user`,
    recorded: NO_SUCH_USER('wrong-user-name'),
    wordingOnly: true,
    call: (c: IAMClient, id: string) => byId(c, 'wrong-user-name', id)[op](),
  })),
  // test_invalid_update_parameters: update-invalid-status (asked without UserName: the status is checked first)
  {
    row: 'Update to a status that is not Active or Inactive',
    recorded: {
      Code: 'ValidationError',
      Message: '1 validation error detected: Value at \'status\' failed to satisfy constraint: Member must satisfy enum value set',
      Type: 'Sender',
      HTTPStatusCode: 400,
    },
    call: (c, id) => c.send(new UpdateServiceSpecificCredentialCommand({ ServiceSpecificCredentialId: id, Status: 'Invalid' as any })),
  },
  // test_delete_user_after_service_credential_created: delete-user-existing-credential
  {
    row: 'DeleteUser of a user who still has a credential',
    recorded: { Code: 'DeleteConflict', Message: 'Cannot delete entity, must remove referenced objects first.', Type: 'Sender', HTTPStatusCode: 409 },
    call: (c) => c.send(new DeleteUserCommand({ UserName: 'alice' })),
  },
];

describe.each<Wordings>(['aws', 'reworded'])('IAM\'s errors, with the local IAM\'s %s wordings', (wordings) => {
  let local: LocalAws;
  let client: IAMClient;
  let id: string;

  beforeEach(async () => {
    local = await startLocalAws({ wordings });
    client = new IAMClient({ endpoint: local.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    local.createUser('alice');
    id = (await client.send(new CreateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' })))
      .ServiceSpecificCredential!.ServiceSpecificCredentialId!;
  });

  afterEach(async () => {
    client.destroy();
    await local.close();
  });

  test.each(IAM_ERRORS.map((e) => [e.row, e] as const))('GIVEN %s WHEN asked THEN the answer is the one recorded on AWS', async (_, { call, recorded, wordingOnly }) => {
    // WHEN
    const answer = await answerOf(call(client, id));

    // THEN: AWS's own answer; reworded, the same code, type and status in other words (the handler decides by none of them).
    if (wordings === 'aws' || !wordingOnly) {
      expect(answer).toEqual(recorded);
    } else {
      expect(answer).toEqual({ ...recorded, Message: expect.any(String) });
      expect(answer.Message).not.toBe(recorded.Message);
    }
  });
});

describe('IAM answers recorded on AWS that the handler relies on', () => {
  test('GIVEN a service without credentials for the user WHEN listed THEN the list is empty (test_list_service_specific_credential_different_service: list-service-specific-credentials-response-wrong-service)', async () => {
    // GIVEN
    await create('codecommit.amazonaws.com');

    // WHEN
    const out = await iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice', ServiceName: 'cassandra.amazonaws.com' }));

    // THEN
    expect(out.ServiceSpecificCredentials).toEqual([]);
  });

  test('GIVEN a credential WHEN created, listed, deactivated, reset and deleted THEN each answer has the fields recorded (test_service_specific_credential_lifecycle[codecommit.amazonaws.com])', async () => {
    // WHEN
    const created = await create('codecommit.amazonaws.com');
    const listed = await iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' }));
    const updated = await iam.send(new UpdateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: created.ServiceSpecificCredentialId, Status: 'Inactive' }));
    const reset = await iam.send(new ResetServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: created.ServiceSpecificCredentialId }));
    const deleted = await iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: created.ServiceSpecificCredentialId }));

    // THEN: create-service-specific-credential-response, list-...-before-update, reset-...-response; update and delete answer nothing.
    const fields = ['CreateDate', 'ServiceName', 'ServicePassword', 'ServiceSpecificCredentialId', 'ServiceUserName', 'Status', 'UserName'];
    expect(Object.keys(created).sort()).toEqual(fields);
    expect(created).toMatchObject({ ServiceName: 'codecommit.amazonaws.com', ServiceUserName: 'alice-at-123456789012', Status: 'Active', UserName: 'alice' });
    expect(listed.ServiceSpecificCredentials!.map((c) => Object.keys(c).sort())).toEqual([fields.filter((f) => f !== 'ServicePassword')]);
    expect(Object.keys(reset.ServiceSpecificCredential!).sort()).toEqual(fields);
    expect(reset.ServiceSpecificCredential).toMatchObject({ ServiceSpecificCredentialId: created.ServiceSpecificCredentialId, Status: 'Inactive' });
    for (const empty of [updated, deleted]) expect(Object.keys(empty)).toEqual(['$metadata']);
  });

  test('GIVEN 2 credentials for a user and service WHEN a third is created THEN LimitExceeded, HTTP 409', async () => {
    // GIVEN
    await create('codecommit.amazonaws.com');
    await create('codecommit.amazonaws.com');

    // WHEN
    const answer = await answerOf(create('codecommit.amazonaws.com'));

    // THEN: code and status as shared/reference/iam-service-specific-credentials.md records them (Operations, and "At most 2
    // credentials per service per user"); no recorded message exists, and the handler reads none.
    expect(answer).toEqual({ Code: 'LimitExceeded', Message: expect.any(String), Type: 'Sender', HTTPStatusCode: 409 });
  });
});

describe('Secrets Manager\'s answers, recorded on AWS', () => {
  const NOT_FOUND = "Secrets Manager can't find the specified secret.";
  const MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion.";
  const notFound = (Message: string): Recorded => ({ Code: 'ResourceNotFoundException', Message, HTTPStatusCode: 400 });
  const VERSION = '11111111-2222-3333-4444-555555555555';

  test.each<[string, (arn: string) => Promise<unknown>]>([
    // test_secret_not_found: get_secret_value_not_found_ex
    ['GetSecretValue', () => sm.send(new GetSecretValueCommand({ SecretId: 's-unknown' }))],
    // test_secret_not_found: list_secret_version_ids_not_found_ex
    ['ListSecretVersionIds', () => sm.send(new ListSecretVersionIdsCommand({ SecretId: 's-unknown' }))],
    // Not recorded for DescribeSecret itself: the same lookup answers it as it answers GetSecretValue above.
    ['DescribeSecret', () => sm.send(new DescribeSecretCommand({ SecretId: 's-unknown' }))],
  ])('GIVEN no such secret WHEN %s asks for it THEN ResourceNotFoundException, 400, as recorded', async (_, call) => {
    expect(await answerOf(call('s-unknown'))).toEqual(notFound(NOT_FOUND));
  });

  test.each<[string, object, string]>([
    // test_secret_version_not_found: get_secret_value_version_not_found_ex
    ['a version id no version has', { VersionId: VERSION }, `Secrets Manager can't find the specified secret value for VersionId: ${VERSION}`],
    // test_get_secret_value_errors: error_get_secret_value_non_existing
    ['a stage no version has', { VersionStage: 'AWSPREVIOUS' }, 'Secrets Manager can\'t find the specified secret value for staging label: AWSPREVIOUS'],
    // test_secret_version_not_found: get_secret_value_stage_not_found_ex
    ['AWSPENDING, which no version has', { VersionStage: 'AWSPENDING' }, 'Secrets Manager can\'t find the specified secret value for staging label: AWSPENDING'],
  ])('GIVEN a secret with one value WHEN GetSecretValue asks for %s THEN ResourceNotFoundException, 400, as recorded', async (_, version, message) => {
    // GIVEN
    const arn = aws.createSecret('s', { value: 'one' });

    // WHEN
    const answer = await answerOf(sm.send(new GetSecretValueCommand({ SecretId: arn, ...version })));

    // THEN
    expect(answer).toEqual(notFound(message));
  });

  test('GIVEN a secret without a value WHEN GetSecretValue asks for AWSCURRENT THEN ResourceNotFoundException, 400 (test_secret_version_not_found: get_secret_value_no_version_ex)', async () => {
    // GIVEN
    const arn = aws.createSecret('s');

    // WHEN / THEN
    expect(await answerOf(sm.send(new GetSecretValueCommand({ SecretId: arn }))))
      .toEqual(notFound('Secrets Manager can\'t find the specified secret value for staging label: AWSCURRENT'));
  });

  test('GIVEN a secret WHEN CreateSecret names it again THEN ResourceExistsException, 400, as recorded (test_secret_exists_snapshots: ex_log)', async () => {
    // GIVEN
    aws.createSecret('taken');

    // WHEN
    const answer = await answerOf(sm.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'x' })));

    // THEN
    expect(answer).toEqual({ Code: 'ResourceExistsException', Message: 'The operation failed because the secret taken already exists.', HTTPStatusCode: 400 });
  });

  test('GIVEN a version written under a token WHEN another value is put under it THEN ResourceExistsException, 400: what the handler takes for an earlier delivery', async () => {
    // GIVEN
    const arn = aws.createSecret('s');
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'one', ClientRequestToken: VERSION }));

    // WHEN
    const answer = await answerOf(sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'two', ClientRequestToken: VERSION })));

    // THEN: no recorded answer exists for this; the handler decides by the code alone.
    expect(answer).toEqual({ Code: 'ResourceExistsException', Message: expect.any(String), HTTPStatusCode: 400 });
  });

  describe('a secret marked for deletion', () => {
    let arn: string;
    let current: string;
    beforeEach(async () => {
      arn = aws.createSecret('s', { value: 'one' });
      current = aws.secret(arn)!.versions[0].id;
      await sm.send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));
    });

    // test_tag_untag_resource_on_deleted_secret: tag_deleted_secret_error, recorded for TagResource; LocalStack's provider
    // answers every other operation on such a secret the same, and so does the local one.
    test.each<[string, () => Promise<unknown>]>([
      ['TagResource', () => sm.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'new-tag', Value: 'new-value' }] }))],
      ['PutSecretValue', () => sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'two' }))],
      ['GetSecretValue', () => sm.send(new GetSecretValueCommand({ SecretId: arn }))],
      ['UpdateSecretVersionStage (a label move)', () => sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'ssc-record', MoveToVersionId: current }))],
    ])('WHEN %s is asked THEN InvalidRequestException, 400, as recorded', async (_, call) => {
      expect(await answerOf(call())).toEqual({ Code: 'InvalidRequestException', Message: MARKED_FOR_DELETION, HTTPStatusCode: 400 });
    });

    test('WHEN DescribeSecret is asked THEN it answers, with a DeletedDate and its labels (test_force_delete_deleted_secret: describe_secret_response)', async () => {
      // WHEN
      const out = await sm.send(new DescribeSecretCommand({ SecretId: arn }));

      // THEN
      expect(out.DeletedDate).toBeInstanceOf(Date);
      expect(out.VersionIdsToStages).toEqual({ [current]: ['AWSCURRENT'] });
    });
  });

  test('GIVEN rotations WHEN AWSCURRENT moves THEN the version it leaves is AWSPREVIOUS, AWSPENDING stays where it is, and unlabelled versions are not listed (test_update_secret_version_stages_current_pending_cycle)', async () => {
    // GIVEN: S1 current (create_secret_rs_0), S2 staged AWSPENDING (put_secret_value_res_0).
    const arn = aws.createSecret('s', { value: 'S1' });
    const v0 = aws.secret(arn)!.versions[0].id;
    const v1 = (await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'S2', VersionStages: ['AWSPENDING'] }))).VersionId!;
    // Each version's labels as a set: the handler never reads their order.
    const listing = async () => (await sm.send(new ListSecretVersionIdsCommand({ SecretId: arn }))).Versions!
      .map((v) => [v.VersionId, [...v.VersionStages!].sort()]);
    expect(await listing()).toEqual([[v0, ['AWSCURRENT']], [v1, ['AWSPENDING']]]);

    // WHEN: update_secret_version_stage_res_0
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v0 }));

    // THEN: list_secret_version_ids_res_1
    expect(await listing()).toEqual([[v0, ['AWSPREVIOUS']], [v1, ['AWSCURRENT', 'AWSPENDING']]]);

    // WHEN: put_secret_value_res_1 (S3 AWSPENDING), then put_secret_value_res_2 (AWSCURRENT to it)
    const v2 = (await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'S3', VersionStages: ['AWSPENDING'] }))).VersionId!;
    expect(await listing()).toEqual([[v0, ['AWSPREVIOUS']], [v1, ['AWSCURRENT']], [v2, ['AWSPENDING']]]);
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: v2, RemoveFromVersionId: v1 }));

    // THEN: list_secret_version_ids_res_3: the first version has no label left, and is not listed.
    expect(await listing()).toEqual([[v1, ['AWSPREVIOUS']], [v2, ['AWSCURRENT', 'AWSPENDING']]]);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe('S3');
  });

  test('GIVEN a label on one version WHEN it is moved to another without naming the first THEN InvalidParameterException, 400', async () => {
    // GIVEN
    const arn = aws.createSecret('s', { value: 'one' });
    const v0 = aws.secret(arn)!.versions[0].id;
    const v1 = (await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'two', VersionStages: ['AWSPENDING'] }))).VersionId!;

    // WHEN
    const answer = await answerOf(sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: v1 })));

    // THEN: not in LocalStack's recordings; AWS's wording as users quote it (hashicorp/terraform-provider-aws CHANGELOG.md,
    // 5.33.0, issue #19943).
    expect(answer).toEqual({
      Code: 'InvalidParameterException',
      Message: `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${v0}, `
        + 'so you must explicitly reference that version in RemoveFromVersionId.',
      HTTPStatusCode: 400,
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// IAM's clock: API keys with CredentialAgeDays expire. What AWS answers to a Reset or an Update of an expired key is not
// recorded (see REFUSAL_WORDINGS in errors.ts): the codes below are IAM's documented InvalidInput, the wordings ours.

describe.each<Wordings>(['aws', 'reworded'])('expiry on IAM\'s clock, with the %s wordings', (wordings) => {
  let local: LocalAws;
  let client: IAMClient;
  const DAY = 86_400_000;

  beforeEach(async () => {
    local = await startLocalAws({ wordings });
    client = new IAMClient({ endpoint: local.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    local.createUser('alice');
  });

  afterEach(async () => {
    client.destroy();
    await local.close();
  });

  const key = async (days?: number) => (await client.send(new CreateServiceSpecificCredentialCommand({
    UserName: 'alice', ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: days,
  }))).ServiceSpecificCredential!;
  const listed = async () => (await client.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice', ServiceName: 'bedrock.amazonaws.com' })))
    .ServiceSpecificCredentials!.map((c) => [c.ServiceSpecificCredentialId, c.Status]);

  test('GIVEN a 30-day key WHEN the clock passes its ExpirationDate THEN List reports Expired, and a key without an age stays Active', async () => {
    // GIVEN
    const expiring = await key(30);
    const forever = await key();
    local.advanceClock(30 * DAY - 60_000);
    expect(await listed()).toEqual([[expiring.ServiceSpecificCredentialId, 'Active'], [forever.ServiceSpecificCredentialId, 'Active']]);

    // WHEN
    local.advanceClock(60_000);

    // THEN
    expect(await listed()).toEqual([[expiring.ServiceSpecificCredentialId, 'Expired'], [forever.ServiceSpecificCredentialId, 'Active']]);
    expect(local.credentials().map((c) => c.Status)).toEqual(['Expired', 'Active']);
  });

  test('GIVEN an Inactive key WHEN it expires THEN it reports Expired too', async () => {
    const c = await key(1);
    await client.send(new UpdateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId, Status: 'Inactive' }));

    local.advanceClock(DAY);

    expect(await listed()).toEqual([[c.ServiceSpecificCredentialId, 'Expired']]);
  });

  test('GIVEN an expired key WHEN reset THEN InvalidInput, and its secret is unchanged', async () => {
    const c = await key(1);
    local.advanceClock(DAY);

    const answer = await answerOf(client.send(new ResetServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId })));

    expect(answer).toEqual({ Code: 'InvalidInput', Message: REFUSAL_WORDINGS[wordings].expired(c.ServiceSpecificCredentialId!), Type: 'Sender', HTTPStatusCode: 400 });
    expect(local.credentials()[0].ServiceCredentialSecret).toBe(c.ServiceCredentialSecret);
  });

  test.each(['Active', 'Inactive'] as const)('GIVEN an expired key WHEN its status is set %s THEN InvalidInput, and it stays Expired', async (status) => {
    const c = await key(1);
    local.advanceClock(DAY);

    const answer = await answerOf(client.send(new UpdateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId, Status: status })));

    expect(answer).toEqual({ Code: 'InvalidInput', Message: REFUSAL_WORDINGS[wordings].expired(c.ServiceSpecificCredentialId!), Type: 'Sender', HTTPStatusCode: 400 });
    expect(await listed()).toEqual([[c.ServiceSpecificCredentialId, 'Expired']]);
  });

  test('GIVEN a key WHEN its status is set Expired (read-only) THEN InvalidInput', async () => {
    const c = await key(1);

    const answer = await answerOf(client.send(new UpdateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId, Status: 'Expired' })));

    expect(answer).toEqual({ Code: 'InvalidInput', Message: REFUSAL_WORDINGS[wordings].readOnlyStatus(), Type: 'Sender', HTTPStatusCode: 400 });
  });

  test('GIVEN an expired key WHEN deleted THEN it is gone, and its slot is free', async () => {
    const c = await key(1);
    await key(1);
    local.advanceClock(DAY);

    await client.send(new DeleteServiceSpecificCredentialCommand({ UserName: 'alice', ServiceSpecificCredentialId: c.ServiceSpecificCredentialId }));
    const renewed = await key(1);

    expect(renewed.CreateDate!.getTime()).toBeGreaterThanOrEqual(local.iamNow() - 1_000);
    expect(renewed.ExpirationDate!.getTime() - renewed.CreateDate!.getTime()).toBe(DAY);
    expect(await listed()).toHaveLength(2);
  });
});

describe.each<Wordings>(['aws', 'reworded'])('a policy on CreateServiceSpecificCredential, with the %s wordings', (wordings) => {
  let local: LocalAws;
  let client: IAMClient;

  beforeEach(async () => {
    local = await startLocalAws({ wordings });
    client = new IAMClient({ endpoint: local.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'deployer', secretAccessKey: 'test' }, maxAttempts: 1 });
    local.createUser('alice');
  });

  afterEach(async () => {
    client.destroy();
    await local.close();
  });

  const createAs = (ServiceName: string, CredentialAgeDays?: number) =>
    client.send(new CreateServiceSpecificCredentialCommand({ UserName: 'alice', ServiceName, CredentialAgeDays }));
  const deny = (policy: DenyingPolicy, policyArn: string) => ({
    Code: 'AccessDenied',
    Message: REFUSAL_WORDINGS[wordings].explicitDeny('arn:aws:sts::123456789012:assumed-role/deployer/session', 'iam:CreateServiceSpecificCredential',
      'arn:aws:iam::123456789012:user/alice', policy, policyArn),
    Type: 'Sender',
    HTTPStatusCode: 403,
  });
  const SCP = 'arn:aws:organizations::111111111111:policy/o-exampleorgid/service_control_policy/p-examplepolicy';

  test('GIVEN an SCP allowing keys of at most 90 days WHEN a key asks 365 days, or none THEN an explicit deny naming the SCP; 90 days is allowed', async () => {
    local.restrictCreate({ type: 'service control policy', maxAgeDays: 90 });

    expect(await answerOf(createAs('bedrock.amazonaws.com', 365))).toEqual(deny('service control policy', SCP));
    expect(await answerOf(createAs('bedrock.amazonaws.com'))).toEqual(deny('service control policy', SCP));
    await expect(createAs('bedrock.amazonaws.com', 90)).resolves.toBeDefined();
    expect(local.credentials()).toHaveLength(1);
  });

  test('GIVEN a permissions boundary allowing only CodeCommit WHEN a Bedrock key is asked THEN an explicit deny naming the boundary', async () => {
    local.restrictCreate({ type: 'permissions boundary', services: ['codecommit.amazonaws.com'] });

    expect(await answerOf(createAs('bedrock.amazonaws.com', 30))).toEqual(deny('permissions boundary', 'arn:aws:iam::123456789012:policy/CredentialBoundary'));
    await expect(createAs('codecommit.amazonaws.com')).resolves.toBeDefined();
  });

  test('GIVEN a policy for another signer WHEN this one creates THEN it is not evaluated', async () => {
    local.restrictCreate({ type: 'service control policy', maxAgeDays: 90, accessKeyId: 'someone-else' });

    await expect(createAs('bedrock.amazonaws.com')).resolves.toBeDefined();
  });

  test('the explicit-deny phrase AWS documents is in the aws wordings only', () => {
    const message = REFUSAL_WORDINGS[wordings].explicitDeny('u', 'a', 'r', 'permissions boundary', 'p');
    expect(message.includes('with an explicit deny in a permissions boundary')).toBe(wordings === 'aws');
  });
});
