import {
  CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, ServiceNotSupportedException,
} from '@aws-sdk/client-iam';
import { GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import {
  KEPT, SECRET_ARN, awsError, createEvent, credentialId, deleteEvent, label, mockAws, passwordCredential, props, sdkError, storedDocument,
} from '../handler-harness';

// DELETE: every credential the secret records for the physical id, and nothing else; when the deleted credential's
// value was current (a rolled-back replacement), the newest recorded value IAM still has becomes current again.

const { iam, sm, logs, given, base, run, sent, readsOnly } = mockAws();

describe('DELETE', () => {
  test('GIVEN a credential its secret records WHEN deleted THEN it is deleted as the user the record names, and its label taken off', async () => {
    // GIVEN: the cleanup of a replacement: the current version records the new credential, the previous one the replaced one.
    const replaced = passwordCredential('alice');
    const replacement = passwordCredential('bob');
    given.secret({
      'v-new': ['AWSCURRENT', label(replacement.ServiceSpecificCredentialId!, replacement), KEPT],
      'v-old': ['AWSPREVIOUS', label(replaced.ServiceSpecificCredentialId!, replaced)],
    });
    given.deletes();
    given.labelMovesAccepted();

    // WHEN: the event names another user: the record, not the event, says whose credential it is.
    const response = await run(deleteEvent(replaced.ServiceSpecificCredentialId!, props({ UserName: 'carol' }), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: replaced.ServiceSpecificCredentialId });
    expect(iam.calls()).toHaveLength(1);
    // Then its record: the label comes off; nothing else in the secret changes.
    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([{
      SecretId: SECRET_ARN, VersionStage: label(replaced.ServiceSpecificCredentialId!, replaced), MoveToVersionId: undefined, RemoveFromVersionId: 'v-old',
    }]);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(sm).not.toHaveReceivedCommand(GetSecretValueCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: replaced.ServiceSpecificCredentialId });
  });

  test('GIVEN a credential its secret does not record WHEN deleted THEN it is left alone, and the answer is SUCCESS', async () => {
    // GIVEN
    const id = credentialId();
    const other = passwordCredential('alice');
    given.secret({ 'v-1': ['AWSCURRENT', label(other.ServiceSpecificCredentialId!, other), KEPT] });

    // WHEN
    const response = await run(deleteEvent(id, props(), base()));

    // THEN
    expect(iam.calls()).toHaveLength(0);
    expect(readsOnly()).toBe(true);
    expect(logs).toContain(`credential ${id} left alone: secret ${SECRET_ARN} does not record it as one of this stack's`);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('GIVEN a secret that is gone and a credential that exists WHEN deleted THEN nothing proves it is this stack\'s: FAILED, naming the credential to delete by hand', async () => {
    // GIVEN
    const id = credentialId();
    given.secretGone();
    given.listed('alice', 'codecommit.amazonaws.com', [passwordCredential('alice', id)]);

    // WHEN
    const response = await run(deleteEvent(id, props(), base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: id,
      Reason: `Secret ${SECRET_ARN} does not exist or is scheduled for deletion, so nothing shows that credential ${id} belongs to this stack; `
        + `if it does, delete it with 'aws iam delete-service-specific-credential --service-specific-credential-id ${id} --user-name <user>' and retry`,
    });
  });

  test('GIVEN a secret from before the record whose current value cannot be read WHEN deleted THEN nothing proves it: FAILED with the reason, nothing deleted', async () => {
    // GIVEN: no ssc-record label: the handler must read the current value to adopt it, and cannot.
    const id = credentialId();
    given.secret({ 'v-1': ['AWSCURRENT'] });
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: 'v-1' }).rejects(awsError('DecryptionFailure', 400, 'cannot decrypt'));
    given.listed('alice', 'codecommit.amazonaws.com', [passwordCredential('alice', id)]);

    // WHEN
    const response = await run(deleteEvent(id, props(), base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: id, Reason: 'DecryptionFailure: cannot decrypt' });
  });

  test('GIVEN a secret that is gone and a credential that no longer exists WHEN deleted THEN nothing is needed: SUCCESS', async () => {
    // GIVEN
    given.secretGone();
    given.listed('alice', 'codecommit.amazonaws.com', []);
    const id = credentialId();

    // WHEN
    const response = await run(deleteEvent(id, props(), base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(sent(iam)).toEqual(['ListServiceSpecificCredentials']);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('GIVEN a secret from before the record WHEN deleted THEN the record is adopted from its labelled versions\' documents, then the credential deleted', async () => {
    // GIVEN
    const replaced = passwordCredential('alice');
    const replacement = passwordCredential('bob');
    given.secret({ 'v-new': ['AWSCURRENT'], 'v-old': ['AWSPREVIOUS'] });
    given.version({ VersionId: 'v-new' }, { VersionId: 'v-new', SecretString: storedDocument(replacement) });
    given.version({ VersionId: 'v-old' }, { VersionId: 'v-old', SecretString: storedDocument(replaced) });
    given.deletes();
    given.labelMovesAccepted();
    // A document holds no creation date, so the days a credential was issued for are not known ('?').
    const replacedLabel = label(replaced.ServiceSpecificCredentialId!, { ...replaced, CreateDate: undefined });

    // WHEN
    const response = await run(deleteEvent(replaced.ServiceSpecificCredentialId!, props(), base()));

    // THEN
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

    /** GIVEN a replacement of alice's credential by bob's: the current version records bob's, the previous one alice's. */
    beforeEach(() => {
      given.secret({
        'v-new': ['AWSCURRENT', deletedLabel, KEPT],
        'v-old': ['AWSPREVIOUS', oldLabel],
      });
      given.version({ VersionId: 'v-old' }, { VersionId: 'v-old', SecretString: storedDocument(old), CreatedDate: new Date('2026-11-20T10:00:00Z') });
      given.labelMovesAccepted();
    });

    test('GIVEN a rolled-back replacement WHEN the new credential is deleted THEN the previous, still existing credential\'s version is current again', async () => {
      // GIVEN
      given.deletes();
      given.listed('alice', 'codecommit.amazonaws.com', [old]);

      // WHEN
      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      // THEN
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

    test('GIVEN other recorded credentials WHEN the current one is deleted THEN the newest value that still exists is made current', async () => {
      // GIVEN
      const older = passwordCredential('alice');
      const gone = passwordCredential('alice');
      given.secret({
        'v-new': ['AWSCURRENT', deletedLabel, KEPT],
        'v-old': ['AWSPREVIOUS', oldLabel],
        'v-older': [label(older.ServiceSpecificCredentialId!, older)],
        'v-gone': [label(gone.ServiceSpecificCredentialId!, gone)],
      });
      given.version({ VersionId: 'v-older' }, { VersionId: 'v-older', CreatedDate: new Date('2026-11-01T10:00:00Z') });
      // The newest of all, but IAM no longer has its credential.
      given.version({ VersionId: 'v-gone' }, { VersionId: 'v-gone', CreatedDate: new Date('2026-11-21T10:00:00Z') });
      given.listed('alice', 'codecommit.amazonaws.com', [older, old]);
      given.deletes();

      // WHEN
      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      // THEN
      expect(promoted().map((c) => c.args[0].input.MoveToVersionId)).toEqual(['v-old']);
      expect(sm).not.toHaveReceivedCommandWith(GetSecretValueCommand, { VersionId: 'v-gone' });
      expect(response.Status).toBe('SUCCESS');
    });

    test('GIVEN a stack deletion, whose previous version names no living credential WHEN deleted THEN nothing is written', async () => {
      // GIVEN
      given.listed('alice', 'codecommit.amazonaws.com', []);
      given.deletes();

      // WHEN
      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      // THEN
      expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
        ServiceSpecificCredentialId: deleted.ServiceSpecificCredentialId,
      });
      expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
      expect(promoted()).toHaveLength(0);
      expect(response.Status).toBe('SUCCESS');
    });

    test('GIVEN a previous version that cannot be read WHEN deleted THEN the deletion does not fail, and the log says why nothing was reinstated', async () => {
      // GIVEN
      given.listed('alice', 'codecommit.amazonaws.com', [old]);
      given.deletes();
      sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: 'v-old' }).rejects(awsError('DecryptionFailure', 400, 'cannot decrypt'));

      // WHEN
      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      // THEN
      expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
        ServiceSpecificCredentialId: deleted.ServiceSpecificCredentialId,
      });
      expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { VersionId: 'v-old' });
      expect(promoted()).toHaveLength(0);
      expect(response.Status).toBe('SUCCESS');
      expect(logs).toContain(`credential ${deleted.ServiceSpecificCredentialId} deleted; could not check secret ${SECRET_ARN}: DecryptionFailure`);
    });

    test('GIVEN a credential that is already gone WHEN deleted THEN it counts as deleted: its label comes off', async () => {
      // GIVEN
      given.alreadyDeleted(deleted.ServiceSpecificCredentialId!);
      given.listed('alice', 'codecommit.amazonaws.com', [old]);

      // WHEN
      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      // THEN
      expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, { VersionStage: deletedLabel, RemoveFromVersionId: 'v-new' });
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: deleted.ServiceSpecificCredentialId });
    });

    test('GIVEN IAM refuses the deletion WHEN deleted THEN FAILED with the same physical id and IAM\'s error, and the record is kept for the retry', async () => {
      // GIVEN
      iam.on(DeleteServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400, 'bad request'));

      // WHEN
      const response = await run(deleteEvent(deleted.ServiceSpecificCredentialId!, props({ UserName: 'bob' }), base()));

      // THEN
      expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'bob', ServiceSpecificCredentialId: deleted.ServiceSpecificCredentialId });
      expect(sm).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
      expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: deleted.ServiceSpecificCredentialId, Reason: 'ValidationError: bad request' });
    });
  });
});

describe('DELETE after a failed CREATE', () => {
  test('GIVEN a CREATE that failed WHEN CloudFormation deletes its physical id THEN no AWS call at all is made', async () => {
    // GIVEN
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejects(sdkError(ServiceNotSupportedException, 'not supported', 404));
    const create = createEvent(props(), base());
    const failed = await run(create);
    iam.resetHistory();
    sm.resetHistory();

    // WHEN
    const response = await run(deleteEvent(failed.PhysicalResourceId, props(), base()));

    // THEN
    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: `failed-create-${create.RequestId}` });
    expect(iam.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: failed.PhysicalResourceId });
  });
});
