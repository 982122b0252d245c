import { CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand } from '@aws-sdk/client-iam';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { SECRET_ARN, awsError, createEvent, mockAws, passwordCredential, props } from '../handler-harness';

// What CloudFormation is told and what the log holds: always an answer, before the deadline, within CloudFormation's
// 4,096 bytes, and never a secret value (invariant 2; mockAws checks every answer and log line after each test).

const { iam, sm, logs, given, base, run, lastBody } = mockAws();

describe('redaction', () => {
  test('GIVEN an error message that echoes the password WHEN answered THEN the password is redacted from the answer and the logs', async () => {
    // GIVEN
    const credential = passwordCredential();
    given.newSecret();
    given.issues(credential);
    sm.on(PutSecretValueCommand, { SecretId: SECRET_ARN }).rejects(awsError('ValidationException', 400, `value ${credential.ServicePassword} rejected`));
    given.deletes();

    // WHEN
    const response = await run(createEvent(props(), base()));

    // THEN
    expect(response).toMatchObject({ Status: 'FAILED', Reason: 'Validation: value ***** rejected' });
    expect(logs).toContain('Create failed: Validation: value ***** rejected');
    expect(iam).toHaveReceivedCommandWith(DeleteServiceSpecificCredentialCommand, {
      ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId,
    });
    // mockAws asserts, after the test, that the password itself is absent.
  });

  test('GIVEN a CREATE WHEN it is logged THEN the event carries neither the ResponseURL nor anything but ids and names', async () => {
    // GIVEN
    const credential = passwordCredential();
    given.newSecret();
    given.issues(credential);
    given.putsAccepted();
    const event = createEvent(props(), base());

    // WHEN
    await run(event);

    // THEN
    expect(logs.join('\n')).not.toContain(event.ResponseURL);
    expect(JSON.parse(logs[0])).toEqual({
      RequestType: 'Create',
      RequestId: event.RequestId,
      LogicalResourceId: 'GitCredential',
      ResourceProperties: event.ResourceProperties,
    });
    expect(logs[logs.length - 1]).toMatch(new RegExp(`^Create succeeded: physical id ${credential.ServiceSpecificCredentialId} \\(\\d+ ms\\)$`));
  });
});

describe('size', () => {
  test.each([
    ['4-byte characters', '\u{1F511}'.repeat(3_000)],
    ['characters JSON escapes', '"\\\n'.repeat(3_000)],
  ])('GIVEN a reason of %s WHEN answered THEN it is cut to what fits 4,096 bytes, keeping as much as fits', async (_, tail) => {
    // GIVEN
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejects(awsError('ValidationError', 400, `bad request: ${tail}`));

    // WHEN
    const response = await run(createEvent(props(), base()));

    // THEN
    const body = Buffer.byteLength(lastBody());
    expect(body).toBeLessThanOrEqual(4_096);
    expect(body).toBeGreaterThan(4_000);
    expect(response.Reason).toMatch(/^ValidationError: bad request: .* \(truncated\)$/s);
    // A prefix of the whole reason, cut between characters.
    const kept = response.Reason!.slice(0, -' (truncated)'.length);
    expect(`ValidationError: bad request: ${tail}`.startsWith(kept)).toBe(true);
    expect(kept).not.toMatch(/[\uD800-\uDBFF]$/);
  });
});

describe('always answered, before the deadline', () => {
  test('GIVEN an unexpected error (IAM answers Create without a credential) WHEN created THEN it still gets a FAILED answer naming it', async () => {
    // GIVEN
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).resolves({});
    const event = createEvent(props(), base());

    // WHEN
    const response = await run(event);

    // THEN
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: `failed-create-${event.RequestId}`,
      Reason: 'TypeError: Cannot read properties of undefined (reading \'ServiceCredentialSecret\')',
    });
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('GIVEN an IAM that never answers WHEN created THEN FAILED comes before the Lambda times out, naming the user, service and operation', async () => {
    // GIVEN
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();

    // WHEN
    const response = await run(createEvent(props(), base()), 2_000);

    // THEN
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: 'Timed out waiting for IAM or Secrets Manager for IAM user \'alice\' and codecommit.amazonaws.com: '
        + 'iam:CreateServiceSpecificCredential did not succeed before the deadline (1 attempt). '
        + 'Retry the deployment; \'aws iam list-service-specific-credentials\' shows any credential left behind',
    });
  });
});
