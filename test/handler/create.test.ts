import {
  CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, LimitExceededException, UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceExistsException } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import {
  ACCOUNT, KEPT, LIMIT_EXCEEDED, SECRET_ARN, apiKeyCredential, createEvent, label, mockAws, passwordCredential, props, sdkError,
} from '../handler-harness';

// CREATE: IAM issues the credential, the secret stores its value, CloudFormation gets its id and public attributes.

const { iam, sm, given, base, run, sent, putDocument } = mockAws();

describe('CREATE', () => {
  test('GIVEN a new secret WHEN a password credential is created THEN it is stored in the secret and answered with its id and public attributes', async () => {
    // GIVEN
    const credential = passwordCredential();
    given.newSecret();
    given.issues(credential);
    given.putsAccepted();
    const event = createEvent(props(), base());

    // WHEN
    const response = await run(event);

    // THEN
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
    expect(response).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: credential.ServiceSpecificCredentialId,
      StackId: event.StackId,
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

  test('GIVEN a new secret WHEN a credential is created THEN four API calls are made: DescribeSecret and GetSecretValue (the secret is this stack\'s and holds no other credential), Create, Put', async () => {
    // GIVEN
    given.newSecret();
    given.issues(passwordCredential());
    given.putsAccepted();

    // WHEN
    await run(createEvent(props(), base()));

    // THEN
    expect(sent(iam)).toEqual(['CreateServiceSpecificCredential']);
    expect(sent(sm)).toEqual(['DescribeSecret', 'GetSecretValue', 'PutSecretValue']);
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' });
  });

  test('GIVEN status Inactive WHEN created THEN the credential is deactivated with its UserName, then stored', async () => {
    // GIVEN
    const credential = passwordCredential();
    given.newSecret();
    given.issues(credential);
    given.statusChanges();
    given.putsAccepted();

    // WHEN
    const response = await run(createEvent(props({ Status: 'Inactive' }), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(UpdateServiceSpecificCredentialCommand, {
      UserName: 'alice', ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId, Status: 'Inactive',
    });
    expect(sent(iam)).toEqual(['CreateServiceSpecificCredential', 'UpdateServiceSpecificCredential']);
    // Stored only once deactivated: nothing can fail between the secret's write and the answer.
    expect(iam.call(1).calledBefore(sm.commandCalls(PutSecretValueCommand)[0])).toBe(true);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: credential.ServiceSpecificCredentialId });
  });

  test('GIVEN an API-key service and an age WHEN created THEN alias, key and expiration date are stored under the API-key keys', async () => {
    // GIVEN
    const credential = apiKeyCredential();
    given.newSecret();
    given.issues(credential);
    given.putsAccepted();

    // WHEN
    const response = await run(createEvent(props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30' }), base()));

    // THEN
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
    // The record names the days the key was issued for.
    expect(sm.commandCalls(PutSecretValueCommand)[0].args[0].input.VersionStages)
      .toEqual(['AWSCURRENT', label(credential.ServiceSpecificCredentialId!, credential), KEPT]);
    expect(label(credential.ServiceSpecificCredentialId!, credential)).toMatch(/:30$/);
    expect(response.Data).toEqual({
      ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId,
      ServiceUserName: '',
      ServiceCredentialAlias: credential.ServiceCredentialAlias,
      ExpirationDate: '2026-12-22T10:00:00.000Z',
      SecretArn: SECRET_ARN,
    });
  });
});

describe('a CREATE delivered twice leaves one credential', () => {
  test('GIVEN a CREATE that succeeded WHEN it is delivered again THEN the second delivery deletes its own duplicate and answers with the first credential', async () => {
    // GIVEN: the first delivery stored its credential under the request id.
    const first = passwordCredential();
    const second = passwordCredential();
    const event = createEvent(props(), base());
    given.newSecret();
    given.issues(first, second);
    given.putsAccepted();
    given.deletes();
    await run(event);
    const firstDocument = sm.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString;
    sm.on(PutSecretValueCommand, { SecretId: SECRET_ARN }).rejects(sdkError(ResourceExistsException,
      `You can't use ClientRequestToken ${event.RequestId} because that value is already in use for a version of secret ${SECRET_ARN}`, 400));
    given.version({ VersionId: event.RequestId }, { VersionId: event.RequestId, SecretString: firstDocument });

    // WHEN
    const response = await run(event);

    // THEN
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: second.ServiceSpecificCredentialId });
    expect(iam).not.toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
      ServiceSpecificCredentialId: first.ServiceSpecificCredentialId,
    });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: first.ServiceSpecificCredentialId, Data: { ServiceUserName: `alice-at-${ACCOUNT}` } });
  });

  test('GIVEN the first delivery\'s credential fills IAM\'s limit WHEN the CREATE is delivered again THEN it finds the first credential instead of failing', async () => {
    // GIVEN
    const first = passwordCredential();
    const event = createEvent(props(), base());
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejects(sdkError(LimitExceededException, LIMIT_EXCEEDED, 409));
    given.listed('alice', 'codecommit.amazonaws.com', [first, passwordCredential()]);
    given.version({ VersionId: event.RequestId }, {
      VersionId: event.RequestId,
      SecretString: JSON.stringify({ username: first.ServiceUserName, password: first.ServicePassword, serviceSpecificCredentialId: first.ServiceSpecificCredentialId, serviceName: 'codecommit.amazonaws.com', iamUserName: 'alice' }),
    });

    // WHEN
    const response = await run(event);

    // THEN
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: first.ServiceSpecificCredentialId });
    expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 1);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('GIVEN the secret\'s current version is this very request\'s WHEN the CREATE is delivered again THEN it answers with it and issues nothing', async () => {
    // GIVEN
    const first = passwordCredential();
    const event = createEvent(props(), base());
    const id = first.ServiceSpecificCredentialId!;
    given.secret({ [event.RequestId]: ['AWSCURRENT', label(id, first), KEPT] });
    given.version({ VersionStage: 'AWSCURRENT' }, { VersionId: event.RequestId, SecretString: JSON.stringify({ ...JSON.parse(putDocumentOf(first)), resourceId: id }) });

    // WHEN
    const response = await run(event);

    // THEN
    expect(iam.calls()).toHaveLength(0);
    expect(sent(sm)).toEqual(['DescribeSecret', 'GetSecretValue']);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceSpecificCredentialId: id, ServiceUserName: `alice-at-${ACCOUNT}` } });
  });
});

/** The document a CREATE of this credential stores. */
function putDocumentOf(c: ReturnType<typeof passwordCredential>): string {
  return JSON.stringify({ username: c.ServiceUserName, password: c.ServicePassword, serviceSpecificCredentialId: c.ServiceSpecificCredentialId, serviceName: c.ServiceName, iamUserName: c.UserName, resetSerial: '0' });
}
