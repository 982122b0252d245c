import {
  CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, ResetServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import {
  KEPT, OWNED_SECRET_TAGS, SECRET_ARN, STACK_ID, awsError, label, mockAws, passwordCredential, storedDocument,
} from '../handler-harness';

// One rotation step at a time, as Secrets Manager invokes the handler: RotateSecret has labelled an empty version
// AWSPENDING under the token, and the handler is called with createSecret, setSecret, testSecret and finishSecret.
// A step answers Secrets Manager by returning or throwing; CloudFormation is never answered. The whole protocol, with
// retries and stack updates in between, runs against the local AWS in test/lifecycle/rotation.test.ts.

const { iam, sm, logs, given, step, sent } = mockAws();

const TOKEN = 'a0000000-0000-4000-8000-00000000000a';
const CURRENT = 'c0000000-0000-4000-8000-000000000001';
const current = passwordCredential('alice');
const id = current.ServiceSpecificCredentialId!;

/** GIVEN the resource's credential is current and recorded, and a rotation has labelled the token's empty version AWSPENDING. */
function rotating(strategy: 'ALTERNATING' | 'RESET_IN_PLACE', tokenStages = ['AWSPENDING']) {
  given.secret({ [CURRENT]: ['AWSCURRENT', label(id, current), KEPT], [TOKEN]: tokenStages }, SECRET_ARN, strategy);
}

describe('refused', () => {
  test('GIVEN a secret with rotation off WHEN a step comes THEN it throws, and nothing but DescribeSecret is called', async () => {
    // GIVEN
    given.secret({ [CURRENT]: ['AWSCURRENT', label(id, current), KEPT], [TOKEN]: ['AWSPENDING'] });

    // WHEN
    const thrown = await step('createSecret', TOKEN);

    // THEN
    expect(thrown?.message).toBe(`Secret ${SECRET_ARN} does not have rotation turned on; nothing was changed`);
    expect(iam.calls()).toHaveLength(0);
    expect(sent(sm)).toEqual(['DescribeSecret']);
    expect(logs).toContain(`createSecret failed: Secret ${SECRET_ARN} does not have rotation turned on; nothing was changed`);
  });

  test('GIVEN a secret of another stack WHEN a step comes THEN it throws, and nothing is changed', async () => {
    // GIVEN
    given.taggedSecret([OWNED_SECRET_TAGS[0]]);

    // WHEN
    const thrown = await step('createSecret', TOKEN);

    // THEN
    expect(thrown?.message).toBe(`Secret ${SECRET_ARN} is not a credential secret of stack ${STACK_ID}: such a secret carries the tags `
      + 'aws:cloudformation:stack-id (set by CloudFormation only) and cdk-service-specific-credential, both with the stack\'s id. Nothing was changed');
    expect(iam.calls()).toHaveLength(0);
    expect(sent(sm)).toEqual(['DescribeSecret']);
  });

  test('GIVEN a token whose version is no longer AWSPENDING WHEN a step comes THEN it throws: a later rotation or stack update took its place', async () => {
    // GIVEN
    rotating('ALTERNATING', []);

    // WHEN
    const thrown = await step('createSecret', TOKEN);

    // THEN
    expect(thrown?.message).toBe(`Version ${TOKEN} of secret ${SECRET_ARN} is not AWSPENDING: a later rotation or stack update took its place. Nothing was changed`);
    expect(iam.calls()).toHaveLength(0);
  });

  test('GIVEN an AWSPENDING token WHEN an unknown step comes THEN it throws, naming the step', async () => {
    // GIVEN
    rotating('ALTERNATING');

    // WHEN
    const thrown = await step('rotateEverything', TOKEN);

    // THEN
    expect(thrown?.message).toBe('Unknown rotation step \'rotateEverything\'');
    expect(iam.calls()).toHaveLength(0);
  });
});

describe('the steps', () => {
  test('GIVEN ALTERNATING WHEN createSecret comes THEN a new credential of the same user and service is staged AWSPENDING under the token, and the current one stays', async () => {
    // GIVEN
    const next = passwordCredential('alice');
    rotating('ALTERNATING');
    given.noVersion(TOKEN);
    given.listed('alice', 'codecommit.amazonaws.com', [current]);
    given.version({ VersionId: CURRENT }, { VersionId: CURRENT, SecretString: storedDocument(current, '4', id) });
    given.issues(next);
    given.putsAccepted();

    // WHEN
    const thrown = await step('createSecret', TOKEN);

    // THEN
    expect(thrown).toBeUndefined();
    expect(iam).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, { UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' });
    expect(sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input)).toEqual([{
      SecretId: SECRET_ARN,
      ClientRequestToken: TOKEN,
      VersionStages: ['AWSPENDING', label(id, next), KEPT],
      SecretString: expect.any(String),
    }]);
    // The resource's id and the resetSerial its current value was issued for carry over.
    expect(JSON.parse(sm.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString!)).toMatchObject({
      serviceSpecificCredentialId: next.ServiceSpecificCredentialId, resourceId: id, resetSerial: '4',
    });
    expect(sm).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(iam).not.toHaveReceivedCommand(DeleteServiceSpecificCredentialCommand);
    expect(logs[0]).toBe(JSON.stringify({ SecretId: SECRET_ARN, ClientRequestToken: TOKEN, Step: 'createSecret' }));
    expect(logs[logs.length - 1]).toMatch(new RegExp(`^createSecret succeeded for version ${TOKEN} \\(\\d+ ms\\)$`));
  });

  test('GIVEN RESET_IN_PLACE WHEN createSecret comes THEN the one credential is reset and its new value is current at once, under the token', async () => {
    // GIVEN
    const reset = passwordCredential('alice', id);
    rotating('RESET_IN_PLACE');
    given.noVersion(TOKEN);
    given.listed('alice', 'codecommit.amazonaws.com', [current]);
    given.version({ VersionId: CURRENT }, { VersionId: CURRENT, SecretString: storedDocument(current, '0', id) });
    given.resets(reset);
    given.putsAccepted();

    // WHEN
    const thrown = await step('createSecret', TOKEN);

    // THEN
    expect(thrown).toBeUndefined();
    expect(iam).toHaveReceivedCommandWith(ResetServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: id });
    expect(iam).not.toHaveReceivedCommand(CreateServiceSpecificCredentialCommand);
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { ClientRequestToken: TOKEN, VersionStages: ['AWSCURRENT', label(id, reset), KEPT] });
  });

  test('GIVEN an AWSPENDING token WHEN setSecret comes THEN nothing is called but DescribeSecret: IAM issued the credential in createSecret', async () => {
    // GIVEN
    rotating('ALTERNATING');

    // WHEN
    const thrown = await step('setSecret', TOKEN);

    // THEN
    expect(thrown).toBeUndefined();
    expect(iam.calls()).toHaveLength(0);
    expect(sent(sm)).toEqual(['DescribeSecret']);
  });

  describe('with a staged credential', () => {
    const next = passwordCredential('alice');
    /** GIVEN createSecret staged `next` under the token. */
    beforeEach(() => {
      given.secret({
        [CURRENT]: ['AWSCURRENT', label(id, current)],
        [TOKEN]: ['AWSPENDING', label(id, next), KEPT],
      }, SECRET_ARN, 'ALTERNATING');
    });

    test('WHEN testSecret comes THEN the record alone is checked: no call to IAM', async () => {
      // WHEN
      const thrown = await step('testSecret', TOKEN);

      // THEN
      expect(thrown).toBeUndefined();
      expect(iam.calls()).toHaveLength(0);
      expect(sent(sm)).toEqual(['DescribeSecret']);
    });

    test('WHEN finishSecret comes THEN the staged credential is checked in IAM, its version made current, and AWSPENDING taken off it', async () => {
      // GIVEN
      given.listed('alice', 'codecommit.amazonaws.com', [current, next]);
      given.labelMovesAccepted();

      // WHEN
      const thrown = await step('finishSecret', TOKEN);

      // THEN
      expect(thrown).toBeUndefined();
      expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
        { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: CURRENT },
        { SecretId: SECRET_ARN, VersionStage: 'AWSPENDING', MoveToVersionId: undefined, RemoveFromVersionId: TOKEN },
      ]);
    });

    test('GIVEN the staged credential was deleted outside the rotation WHEN finishSecret comes THEN it throws, and the token lets go of AWSPENDING', async () => {
      // GIVEN
      given.listed('alice', 'codecommit.amazonaws.com', [current]);
      given.alreadyDeleted(next.ServiceSpecificCredentialId!);
      given.labelMovesAccepted();

      // WHEN
      const thrown = await step('finishSecret', TOKEN);

      // THEN
      expect(thrown?.message).toBe(`Credential ${next.ServiceSpecificCredentialId} staged in version ${TOKEN} of secret ${SECRET_ARN} no longer exists; `
        + 'the next rotation issues a new one');
      expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
        { SecretId: SECRET_ARN, VersionStage: 'AWSPENDING', MoveToVersionId: undefined, RemoveFromVersionId: TOKEN },
        { SecretId: SECRET_ARN, VersionStage: label(id, next), MoveToVersionId: undefined, RemoveFromVersionId: TOKEN },
      ]);
      expect(sm).not.toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, { VersionStage: 'AWSCURRENT' });
    });
  });

  test('GIVEN a token whose version is current already WHEN finishSecret comes again THEN it only takes AWSPENDING off', async () => {
    // GIVEN
    const next = passwordCredential('alice');
    given.secret({
      [CURRENT]: ['AWSPREVIOUS', label(id, current)],
      [TOKEN]: ['AWSCURRENT', 'AWSPENDING', label(id, next), KEPT],
    }, SECRET_ARN, 'ALTERNATING');
    given.labelMovesAccepted();

    // WHEN
    const thrown = await step('finishSecret', TOKEN);

    // THEN
    expect(thrown).toBeUndefined();
    expect(iam.calls()).toHaveLength(0);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: SECRET_ARN, VersionStage: 'AWSPENDING', MoveToVersionId: undefined, RemoveFromVersionId: TOKEN },
    ]);
  });

  test('GIVEN a value that cannot be stored WHEN createSecret fails THEN the step throws with the secret redacted, and the credential is deleted', async () => {
    // GIVEN
    const reset = passwordCredential('alice', id);
    rotating('RESET_IN_PLACE');
    given.noVersion(TOKEN);
    given.listed('alice', 'codecommit.amazonaws.com', [current]);
    given.version({ VersionId: CURRENT }, { VersionId: CURRENT, SecretString: storedDocument(current, '0', id) });
    given.resets(reset);
    sm.on(PutSecretValueCommand, { SecretId: SECRET_ARN }).rejects(awsError('ValidationException', 400, `value ${reset.ServicePassword} rejected`));
    given.deletes();

    // WHEN
    const thrown = await step('createSecret', TOKEN);

    // THEN
    expect(thrown?.message).toBe('Validation: value ***** rejected');
    expect(logs).toContain('createSecret failed: Validation: value ***** rejected');
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, { UserName: 'alice', ServiceSpecificCredentialId: id });
  });
});
