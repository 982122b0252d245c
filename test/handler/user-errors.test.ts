import {
  CreateServiceSpecificCredentialCommand, LimitExceededException, ListServiceSpecificCredentialsCommand, NoSuchEntityException,
  ServiceNotSupportedException,
} from '@aws-sdk/client-iam';
import 'aws-sdk-client-mock-jest';
import { LIMIT_EXCEEDED, createEvent, credentialId, mockAws, passwordCredential, props, says, sdkError } from '../handler-harness';

// What only the user can fix fails at once, with a message that says what to do: IAM's limit of 2 credentials, a
// service IAM does not issue credentials for, an imported user that does not exist. What IAM's NoSuchEntity means is
// asked of IAM (a List), never read from its wording: these pass under LOCAL_AWS_WORDINGS=reworded too.

const { iam, sleeps, given, base, run } = mockAws();

afterEach(() => jest.restoreAllMocks());

test('GIVEN the user already has 2 credentials for the service WHEN created THEN LimitExceeded fails at once, naming the user, the service and both ids', async () => {
  // GIVEN
  const existing = [passwordCredential('alice', credentialId()), passwordCredential('alice', credentialId())];
  const event = createEvent(props(), base());
  given.newSecret();
  iam.on(CreateServiceSpecificCredentialCommand).rejects(sdkError(LimitExceededException, LIMIT_EXCEEDED, 409));
  given.listed('alice', 'codecommit.amazonaws.com', existing);
  // No earlier delivery of this CREATE stored anything.
  given.noVersion(event.RequestId);

  // WHEN
  const response = await run(event);

  // THEN
  expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 1);
  expect(iam).toHaveReceivedCommandWith(ListServiceSpecificCredentialsCommand, { UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' });
  expect(sleeps).toEqual([]);
  expect(response).toMatchObject({
    Status: 'FAILED',
    Reason: 'IAM user \'alice\' already has the maximum of 2 credentials for codecommit.amazonaws.com '
      + `(${existing[0].ServiceSpecificCredentialId}, ${existing[1].ServiceSpecificCredentialId}): delete one of them, or remove a `
      + 'ServiceSpecificCredential for this user and service. A replacement (a new user, service or expiresAfter) needs a free slot: '
      + 'the new credential is created before the old one is deleted',
  });
});

test('GIVEN IAM answers NoSuchEntity, as real AWS does for an unsupported service, and the imported user exists WHEN created THEN it fails at once, naming the service and the user', async () => {
  // GIVEN: an imported user exists before the deployment: nothing can be explained by IAM not showing it yet.
  given.newSecret();
  iam.on(CreateServiceSpecificCredentialCommand).rejects(sdkError(NoSuchEntityException, says.service('foo.amazonaws.com')));
  given.userExists('alice');

  // WHEN
  const response = await run(createEvent(props({ ServiceName: 'foo.amazonaws.com', UserExists: 'true' }), base()));

  // THEN
  expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 1);
  // The user's credentials for no service in particular: the user exists, so the service is what IAM lacks.
  expect(iam.commandCalls(ListServiceSpecificCredentialsCommand).map((c) => c.args[0].input)).toEqual([{ UserName: 'alice' }]);
  expect(sleeps).toEqual([]);
  expect(response).toMatchObject({
    Status: 'FAILED',
    Reason: `IAM does not support service-specific credentials for 'foo.amazonaws.com' (user 'alice'): ${says.service('foo.amazonaws.com')}`,
  });
});

test('GIVEN a user of the stack and a service IAM does not support WHEN created THEN Create is retried for the window IAM takes to show a new user, then fails naming the service', async () => {
  // GIVEN: List shows the user, Create keeps answering NoSuchEntity: an unsupported service, or a user Create does not see yet.
  jest.spyOn(Math, 'random').mockReturnValue(1);
  given.newSecret();
  iam.on(CreateServiceSpecificCredentialCommand).rejects(sdkError(NoSuchEntityException, says.service('foo.amazonaws.com')));
  given.userExists('alice');

  // WHEN
  const response = await run(createEvent(props({ ServiceName: 'foo.amazonaws.com' }), base()));

  // THEN: the backoffs of the settling window (60 s), not the event's whole budget.
  expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 11);
  expect(sleeps.reduce((a, b) => a + b, 0)).toBe(65_500);
  expect(response).toMatchObject({
    Status: 'FAILED',
    Reason: `IAM does not support service-specific credentials for 'foo.amazonaws.com' (user 'alice'): ${says.service('foo.amazonaws.com')}`,
  });
});

test('GIVEN IAM answers NotSupportedService, as its model says WHEN created THEN it fails at once, naming the service and the user, without asking more', async () => {
  // GIVEN
  given.newSecret();
  iam.on(CreateServiceSpecificCredentialCommand).rejects(sdkError(ServiceNotSupportedException, 'Service foo.amazonaws.com is not supported'));

  // WHEN
  const response = await run(createEvent(props({ ServiceName: 'foo.amazonaws.com', UserExists: 'true' }), base()));

  // THEN
  expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 1);
  expect(iam).not.toHaveReceivedCommand(ListServiceSpecificCredentialsCommand);
  expect(response).toMatchObject({
    Status: 'FAILED',
    Reason: 'IAM does not support service-specific credentials for \'foo.amazonaws.com\' (user \'alice\'): Service foo.amazonaws.com is not supported',
  });
});

test('GIVEN an imported user that does not exist WHEN created THEN it fails at once, saying the user must exist before the deployment', async () => {
  // GIVEN
  const notFound = sdkError(NoSuchEntityException, says.user('alice'));
  given.newSecret();
  iam.on(CreateServiceSpecificCredentialCommand).rejects(notFound);
  iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice' }, true).rejects(notFound);

  // WHEN
  const response = await run(createEvent(props({ UserExists: 'true' }), base()));

  // THEN
  expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 1);
  expect(sleeps).toEqual([]);
  expect(response).toMatchObject({
    Status: 'FAILED',
    Reason: 'IAM user \'alice\' does not exist. The stack imports it (iam.User.fromUserName or fromUserArn), so it must exist before the '
      + 'deployment: check its name, and for a user with a path, use fromUserArn with the full ARN',
  });
});
