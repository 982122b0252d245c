import {
  CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, InvalidInputException, ListServiceSpecificCredentialsCommand,
  NoSuchEntityException, ResetServiceSpecificCredentialCommand, UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import type { CredentialResourceProperties } from '../../src/handler-contract';
import {
  ACCOUNT, KEPT, SECRET_ARN, apiKeyCredential, codecommitLabel, issuedSecrets, label, mockAws, passwordCredential, props, says,
  sdkError, storedDocument, updateEvent,
} from '../handler-harness';

// UPDATE: a replacement for a new user, service or age; a reset for a new resetSerial or secret; a status change in
// place; and the rollback UPDATEs CloudFormation sends after a failed one.

const { iam, sm, given, base, run, sent, readsOnly, putDocument } = mockAws();

const id = 'ACCAOLDCREDENTIAL1234';
const CURRENT = 'c0000000-0000-4000-8000-000000000001';
/** The resource's first credential, as IAM issued it. */
const credential = passwordCredential('alice', id);

/** GIVEN the secret's record: its current version holds the resource's first credential, issued for these properties. */
const recorded = (serviceName = 'codecommit.amazonaws.com', userName = 'alice') =>
  given.secret({ [CURRENT]: ['AWSCURRENT', codecommitLabel(id, id, userName, serviceName), KEPT] });
/** GIVEN the secret's current value is the resource's credential, issued for this resetSerial. */
const currentValue = (c = credential, resetSerial = '0') =>
  given.version({ VersionStage: 'AWSCURRENT' }, { VersionId: CURRENT, SecretString: storedDocument(c, resetSerial), CreatedDate: new Date('2026-11-22T10:00:00Z') });

describe('a new user, service or age: a replacement', () => {
  beforeEach(() => recorded());

  test.each<[string, Partial<CredentialResourceProperties>]>([
    ['user', { UserName: 'bob' }],
    ['service', { ServiceName: 'cassandra.amazonaws.com' }],
    ['expiry', { CredentialAgeDays: '90' }],
  ])('GIVEN a %s change WHEN updated THEN a replacement gets a new physical id and the old one is left to CloudFormation', async (what, change) => {
    // GIVEN
    const replacement = passwordCredential(change.UserName ?? 'alice');
    const asked = props(change);
    // IAM shows the old credential only for the old user and service; for an age, it shows it without one.
    given.listed(asked.UserName, asked.ServiceName, what === 'expiry' ? [credential] : []);
    currentValue();
    given.issues(replacement);
    given.putsAccepted();

    // WHEN
    const response = await run(updateEvent(id, props(), asked, base()));

    // THEN
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

  test('GIVEN a failed replacement WHEN its rollback UPDATE comes THEN the credential that never went away is kept', async () => {
    // GIVEN
    given.listed('alice', 'codecommit.amazonaws.com', [credential]);

    // WHEN
    const response = await run(updateEvent(id, props({ UserName: 'bob' }), props(), base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(CreateServiceSpecificCredentialCommand);
    expect(readsOnly()).toBe(true);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceUserName: `alice-at-${ACCOUNT}` } });
  });

  test('GIVEN a credential of the right user and service but another age WHEN updated THEN it is still replaced', async () => {
    // GIVEN
    const bedrock = (age: string) => props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: age });
    const key = apiKeyCredential('alice', id);
    recorded('bedrock.amazonaws.com');
    given.listed('alice', 'bedrock.amazonaws.com', [key]);
    currentValue(key);
    given.issues(apiKeyCredential());
    given.putsAccepted();

    // WHEN
    const response = await run(updateEvent(id, bedrock('30'), bedrock('90'), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { CredentialAgeDays: 90 });
    expect(response.Status).toBe('SUCCESS');
    expect(response.PhysicalResourceId).not.toBe(id);
  });

  test('GIVEN a failed replacement whose original credential was deleted out of band WHEN its rollback UPDATE comes THEN it keeps its physical id', async () => {
    // GIVEN: the failed update asked for bob; the record holds only alice's credential, which IAM no longer has.
    recorded();
    given.listed('alice', 'codecommit.amazonaws.com', []);
    currentValue();
    const fresh = passwordCredential('alice');
    given.issues(fresh);
    given.putsAccepted();
    given.alreadyDeleted(id);
    given.labelMovesAccepted();

    // WHEN
    const response = await run(updateEvent(id, props({ UserName: 'bob' }), props(), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { UserName: 'alice' });
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { VersionStages: ['AWSCURRENT', label(id, fresh), KEPT] });
    // The record of the credential that is gone goes too.
    expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      VersionStage: codecommitLabel(id, id), RemoveFromVersionId: CURRENT,
    });
    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 1);
    expect(response).toMatchObject({
      Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceSpecificCredentialId: fresh.ServiceSpecificCredentialId },
    });
  });
});

describe('a new resetSerial or secret: a new value', () => {
  beforeEach(() => recorded());

  test('GIVEN a new resetSerial WHEN updated THEN the credential is reset in place: same id, new secret version, UserName passed', async () => {
    // GIVEN
    const reset = passwordCredential('alice', id);
    currentValue();
    given.resets(reset);
    given.putsAccepted();

    // WHEN
    const response = await run(updateEvent(id, props(), props({ ResetSerial: '1' }), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(ResetServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: id });
    expect(iam).not.toHaveReceivedCommand(CreateServiceSpecificCredentialCommand);
    expect(putDocument()).toMatchObject({ password: reset.ServicePassword, resetSerial: '1', resourceId: id });
    // The new value is current and carries the credential's record: the label moves to the version with its newest value.
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { VersionStages: ['AWSCURRENT', label(id, reset), KEPT] });
    // DescribeSecret (the secret is this stack's), GetSecretValue (its value is not yet for serial 1), Reset, Put.
    expect([...sent(sm), ...sent(iam)]).toEqual(['DescribeSecret', 'GetSecretValue', 'PutSecretValue', 'ResetServiceSpecificCredential']);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceUserName: `alice-at-${ACCOUNT}` } });
  });

  test('GIVEN ALTERNATING rotation WHEN the resetSerial changes THEN a new credential is staged AWSPENDING, then its version made current', async () => {
    // GIVEN
    const next = passwordCredential('alice');
    const alternating = (serial: string) => props({ RotationStrategy: 'ALTERNATING', ResetSerial: serial });
    const event = updateEvent(id, alternating('0'), alternating('1'), base());
    currentValue();
    given.noVersion(event.RequestId);
    given.version({ VersionId: CURRENT }, { VersionId: CURRENT, SecretString: storedDocument(credential) });
    given.listed('alice', 'codecommit.amazonaws.com', [credential, next]);
    given.issues(next);
    given.putsAccepted();
    given.labelMovesAccepted();

    // WHEN
    const response = await run(event);

    // THEN
    expect(iam).not.toHaveReceivedCommand(ResetServiceSpecificCredentialCommand);
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, {
      ClientRequestToken: event.RequestId, VersionStages: ['AWSPENDING', label(id, next), KEPT],
    });
    expect(putDocument()).toMatchObject({ serviceSpecificCredentialId: next.ServiceSpecificCredentialId, resetSerial: '1', resourceId: id });
    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: event.RequestId, RemoveFromVersionId: CURRENT },
      { SecretId: SECRET_ARN, VersionStage: 'AWSPENDING', MoveToVersionId: undefined, RemoveFromVersionId: event.RequestId },
    ]);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceSpecificCredentialId: next.ServiceSpecificCredentialId } });
  });

  test('GIVEN a new target secret WHEN updated THEN it gets the value through a reset, and the old secret drops its record', async () => {
    // GIVEN
    const newArn = SECRET_ARN.replace('AbCdEf', 'XyZxYz');
    const reset = passwordCredential('alice', id);
    given.newSecret(newArn);
    given.resets(reset);
    given.putsAccepted(newArn);
    given.labelMovesAccepted();

    // WHEN
    const response = await run(updateEvent(id, props(), props({ SecretArn: newArn }), base()));

    // THEN
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: newArn, VersionStages: ['AWSCURRENT', label(id, reset), KEPT] });
    // The new secret records the credential now; the old one drops its record without deleting it.
    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([{
      SecretId: SECRET_ARN, VersionStage: codecommitLabel(id, id), MoveToVersionId: undefined, RemoveFromVersionId: CURRENT,
    }]);
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { SecretArn: newArn } });
  });

  test('GIVEN a reset API key whose answer carries only ServicePassword WHEN stored THEN the new key is stored all the same', async () => {
    // GIVEN
    const key = apiKeyCredential('alice', id);
    const reset = { ...key, ServiceCredentialSecret: undefined, ServicePassword: 'ABSK-from-password-field-0123456789' };
    issuedSecrets.push(reset.ServicePassword);
    recorded('bedrock.amazonaws.com');
    currentValue(key);
    given.resets(reset);
    given.putsAccepted();
    const bedrock = (serial: string) => props({ ServiceName: 'bedrock.amazonaws.com', ResetSerial: serial });

    // WHEN
    const response = await run(updateEvent(id, bedrock('0'), bedrock('2'), base()));

    // THEN
    expect(putDocument().apiKey).toBe(reset.ServicePassword);
    expect(putDocument().password).toBeUndefined();
    expect(response.Status).toBe('SUCCESS');
  });

  test('GIVEN a rollback UPDATE whose secret already holds this credential\'s value for the old serial WHEN updated THEN nothing is reset', async () => {
    // GIVEN
    currentValue(credential, '0');
    given.listed('alice', 'codecommit.amazonaws.com', [credential]);

    // WHEN
    const response = await run(updateEvent(id, props({ ResetSerial: '1' }), props({ ResetSerial: '0' }), base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(ResetServiceSpecificCredentialCommand);
    expect(iam).not.toHaveReceivedCommand(UpdateServiceSpecificCredentialCommand);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('GIVEN a NoSuchEntity for a credential that still exists WHEN reset THEN it is not taken for an out-of-band delete: FAILED with IAM\'s error', async () => {
    // GIVEN
    currentValue();
    iam.on(ResetServiceSpecificCredentialCommand).rejects(sdkError(NoSuchEntityException, says.credential(id)));
    given.listed('alice', 'codecommit.amazonaws.com', [credential]);

    // WHEN
    const response = await run(updateEvent(id, props(), props({ ResetSerial: '1' }), base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(CreateServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: id, Reason: `NoSuchEntity: ${says.credential(id)}` });
  });

  test('GIVEN a credential deleted out of band WHEN reset THEN a new one replaces it under the same physical id instead of failing the update', async () => {
    // GIVEN
    currentValue();
    iam.on(ResetServiceSpecificCredentialCommand).rejects(sdkError(NoSuchEntityException, says.credential(id)));
    given.listed('alice', 'codecommit.amazonaws.com', []);
    const replacement = passwordCredential();
    given.issues(replacement);
    given.putsAccepted();
    given.alreadyDeleted(id);
    given.labelMovesAccepted();

    // WHEN
    const response = await run(updateEvent(id, props(), props({ ResetSerial: '1' }), base()));

    // THEN
    // The resource stays the same (no DELETE will come for it): its new credential is recorded under its own id.
    expect(response).toMatchObject({
      Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceSpecificCredentialId: replacement.ServiceSpecificCredentialId },
    });
    expect(putDocument()).toMatchObject({ password: replacement.ServicePassword, resetSerial: '1', resourceId: id });
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { VersionStages: ['AWSCURRENT', label(id, replacement), KEPT] });
    // The record lets go of the credential that is gone.
    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([{
      SecretId: SECRET_ARN, VersionStage: codecommitLabel(id, id), MoveToVersionId: undefined, RemoveFromVersionId: CURRENT,
    }]);
  });
});

describe('a new status: changed in place', () => {
  beforeEach(() => recorded());

  test('GIVEN a status change WHEN updated THEN the credential is updated in place with UserName and no secret is written', async () => {
    // GIVEN
    given.listed('alice', 'codecommit.amazonaws.com', [credential]);
    given.statusChanges();

    // WHEN
    const response = await run(updateEvent(id, props(), props({ Status: 'Inactive' }), base()));

    // THEN
    expect(iam).toHaveReceivedCommandWith(UpdateServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: id, Status: 'Inactive' });
    expect(iam).not.toHaveReceivedCommand(ResetServiceSpecificCredentialCommand);
    expect(readsOnly()).toBe(true);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id, Data: { ServiceUserName: `alice-at-${ACCOUNT}` } });
  });

  test('GIVEN a status that is already what the properties ask for WHEN updated THEN it is not changed again', async () => {
    // GIVEN
    given.listed('alice', 'codecommit.amazonaws.com', [{ ...credential, Status: 'Active' }]);

    // WHEN
    const response = await run(updateEvent(id, props({ Status: 'Inactive' }), props({ Status: 'Active' }), base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(UpdateServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test.each(['Active', 'Inactive'] as const)('GIVEN an expired API key WHEN the status changes to %s THEN IAM is not asked to set it, and the update succeeds', async (status) => {
    // GIVEN
    const bedrock = (Status: 'Active' | 'Inactive') => props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30', Status });
    recorded('bedrock.amazonaws.com');
    given.listed('alice', 'bedrock.amazonaws.com', [{ ...apiKeyCredential('alice', id), Status: 'Expired' }]);

    // WHEN
    const response = await run(updateEvent(id, bedrock(status === 'Active' ? 'Inactive' : 'Active'), bedrock(status), base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(UpdateServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('GIVEN a key that expires between List and Update WHEN its status changes THEN IAM\'s refusal (whatever its code) is followed by a List, and the update succeeds', async () => {
    // GIVEN
    const bedrock = (Status: 'Active' | 'Inactive') => props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30', Status });
    recorded('bedrock.amazonaws.com');
    const key = apiKeyCredential('alice', id);
    iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice', ServiceName: 'bedrock.amazonaws.com' })
      .resolvesOnce({ ServiceSpecificCredentials: [{ ...key, Status: 'Active' }], IsTruncated: false })
      .resolves({ ServiceSpecificCredentials: [{ ...key, Status: 'Expired' }], IsTruncated: false });
    iam.on(UpdateServiceSpecificCredentialCommand).rejects(sdkError(InvalidInputException, 'words nobody decides by', 400));

    // WHEN
    const response = await run(updateEvent(id, bedrock('Active'), bedrock('Inactive'), base()));

    // THEN
    expect(iam).toHaveReceivedCommandTimes(UpdateServiceSpecificCredentialCommand, 1);
    expect(iam).toHaveReceivedCommandTimes(ListServiceSpecificCredentialsCommand, 2);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });

  test('GIVEN a key that is not expired WHEN IAM refuses its status change THEN the update fails with IAM\'s error', async () => {
    // GIVEN
    const bedrock = (Status: 'Active' | 'Inactive') => props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30', Status });
    recorded('bedrock.amazonaws.com');
    given.listed('alice', 'bedrock.amazonaws.com', [{ ...apiKeyCredential('alice', id), Status: 'Active' }]);
    iam.on(UpdateServiceSpecificCredentialCommand).rejects(sdkError(InvalidInputException, 'refused', 400));

    // WHEN
    const response = await run(updateEvent(id, bedrock('Active'), bedrock('Inactive'), base()));

    // THEN
    expect(response).toMatchObject({ Status: 'FAILED', Reason: 'InvalidInput: refused' });
  });

  test('GIVEN an expired API key WHEN an update does not change the status THEN it is not re-activated', async () => {
    // GIVEN
    const bedrock = props({ ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30' });
    recorded('bedrock.amazonaws.com');
    given.listed('alice', 'bedrock.amazonaws.com', [{ ...apiKeyCredential('alice', id), Status: 'Expired' }]);

    // WHEN
    const response = await run(updateEvent(id, bedrock, bedrock, base()));

    // THEN
    expect(iam).not.toHaveReceivedCommand(UpdateServiceSpecificCredentialCommand);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
  });
});
