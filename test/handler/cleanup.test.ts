import {
  CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { PutSecretValueCommand, ResourceNotFoundException, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { abortableSleep } from '../../lambda/aws/retry';
import {
  KEPT, MARKED_FOR_DELETION, SECRET_ARN, SECRET_NOT_FOUND, awsError, codecommitLabel, createEvent, credentialId, mockAws, passwordCredential,
  props, sdkError, storedDocument, updateEvent,
} from '../handler-harness';

// Invariant 1: when the handler answers, either the credential does not exist or the secret holds its current value.
// IAM shows a secret only once, so a credential whose value could not be stored is deleted, and the answer says so.

const { iam, sm, given, base, run } = mockAws();

/** GIVEN IAM issues a credential into a new secret that then refuses the write with `error`. */
function issuedButNotStored(error: Error) {
  const credential = passwordCredential();
  given.newSecret();
  given.issues(credential);
  sm.on(PutSecretValueCommand, { SecretId: SECRET_ARN }).rejects(error);
  return credential;
}

describe('after Create', () => {
  test('GIVEN PutSecretValue fails after Create WHEN created THEN the new credential is deleted, then FAILED with the cause', async () => {
    // GIVEN
    const credential = issuedButNotStored(sdkError(ResourceNotFoundException, SECRET_NOT_FOUND, 400));
    given.deletes();
    const event = createEvent(props(), base());

    // WHEN
    const response = await run(event);

    // THEN
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
      UserName: 'alice', ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId,
    });
    expect(response).toMatchObject({
      Status: 'FAILED',
      // An id that names no credential, so that CloudFormation's DELETE touches nothing.
      PhysicalResourceId: `failed-create-${event.RequestId}`,
      Reason: `ResourceNotFound: ${SECRET_NOT_FOUND}`,
    });
  });

  test('GIVEN the deactivation fails after Create WHEN created Inactive THEN the new credential is deleted, then FAILED with the cause', async () => {
    // GIVEN
    const credential = passwordCredential();
    given.newSecret();
    given.issues(credential);
    iam.on(UpdateServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400, 'bad status'));
    given.deletes();

    // WHEN
    const response = await run(createEvent(props({ Status: 'Inactive' }), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
      UserName: 'alice', ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId,
    });
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(response).toMatchObject({ Status: 'FAILED', Reason: 'ValidationError: bad status' });
  });

  test('GIVEN a cleanup that IAM throttles WHEN the write failed THEN it keeps trying with the time the event has left, and answers with the cause', async () => {
    // GIVEN
    issuedButNotStored(awsError('InvalidRequestException', 400, 'marked for deletion'));
    const throttled = awsError('Throttling', 400, 'Rate exceeded');
    // Five throttles raise the pace's ceiling to 16 s, more than a cleanup of its own (5 s) could wait.
    iam.on(DeleteServiceSpecificCredentialCommand)
      .rejectsOnce(throttled).rejectsOnce(throttled).rejectsOnce(throttled).rejectsOnce(throttled).rejectsOnce(throttled)
      .resolves({});

    // WHEN
    const response = await run(createEvent(props(), base()));

    // THEN
    expect(iam).toHaveReceivedCommandTimes(DeleteServiceSpecificCredentialCommand, 6);
    expect(response).toMatchObject({ Status: 'FAILED', Reason: 'InvalidRequest: marked for deletion' });
  });

  test('GIVEN a cleanup that fails too WHEN the write failed THEN the answer names the credential to delete by hand', async () => {
    // GIVEN
    const credential = issuedButNotStored(awsError('InvalidRequestException', 400, 'marked for deletion'));
    iam.on(DeleteServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400));

    // WHEN
    const response = await run(createEvent(props(), base()));

    // THEN
    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: `marked for deletion; deleting credential ${credential.ServiceSpecificCredentialId} of IAM user 'alice' failed too (ValidationError): `
        + 'delete it with \'aws iam delete-service-specific-credential\'',
    });
  });

  test('GIVEN a cleanup that IAM fails until the deadline WHEN the write failed THEN the answer is the cause and the credential to delete, not a timeout to retry', async () => {
    // GIVEN
    const credential = issuedButNotStored(awsError('InvalidRequestException', 400, 'marked for deletion'));
    iam.on(DeleteServiceSpecificCredentialCommand).rejects(awsError('ServiceFailure', 500));

    // WHEN: 3 s until the deadline, all of it left to the cleanup.
    const response = await run(createEvent(props(), base()), 4_000, { sleep: (ms, signal) => abortableSleep(Math.min(ms, 50), signal) });

    // THEN
    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: `marked for deletion; deleting credential ${credential.ServiceSpecificCredentialId} of IAM user 'alice' failed too (OutOfTime): `
        + 'delete it with \'aws iam delete-service-specific-credential\'',
    });
  });
});

describe('after Reset', () => {
  test('GIVEN PutSecretValue fails after Reset WHEN updated THEN the credential whose new secret nobody holds is deleted, then FAILED', async () => {
    // GIVEN
    const id = credentialId();
    const reset = passwordCredential('alice', id);
    given.secret({ 'v-1': ['AWSCURRENT', codecommitLabel(id, id), KEPT] });
    given.version({ VersionStage: 'AWSCURRENT' }, { VersionId: 'v-1', SecretString: storedDocument(passwordCredential('alice', id)) });
    given.resets(reset);
    sm.on(PutSecretValueCommand, { SecretId: SECRET_ARN }).rejects(awsError('InvalidRequestException', 400, MARKED_FOR_DELETION));
    given.deletes();

    // WHEN
    const response = await run(updateEvent(id, props(), props({ ResetSerial: '1' }), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: id });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: id, Reason: `InvalidRequest: ${MARKED_FOR_DELETION}` });
  });
});

describe('after a replacement\'s Create', () => {
  test('GIVEN the replacement\'s deactivation fails WHEN updated THEN it is deleted and the secret keeps the old credential\'s value', async () => {
    // GIVEN
    const old = 'ACCAOLDCREDENTIAL1234';
    const replacement = passwordCredential('bob');
    given.secret({ 'v-1': ['AWSCURRENT', codecommitLabel(old, old), KEPT] });
    given.version({ VersionStage: 'AWSCURRENT' }, { VersionId: 'v-1', SecretString: storedDocument(passwordCredential('alice', old)) });
    given.listed('bob', 'codecommit.amazonaws.com', []);
    given.issues(replacement);
    iam.on(UpdateServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400));
    given.deletes();

    // WHEN
    const response = await run(updateEvent(old, props({ Status: 'Inactive' }), props({ UserName: 'bob', Status: 'Inactive' }), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { UserName: 'bob' });
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(sm).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'bob', ServiceSpecificCredentialId: replacement.ServiceSpecificCredentialId });
    expect(iam).not.toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { ServiceSpecificCredentialId: old });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: old, Reason: 'ValidationError: ValidationError' });
  });
});
