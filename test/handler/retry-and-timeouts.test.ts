import { CreateServiceSpecificCredentialCommand, ListServiceSpecificCredentialsCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import 'aws-sdk-client-mock-jest';
import { DENIED_HINT, escape, RETRY } from '../expected-reasons';
import { awsError, createEvent, mockAws, passwordCredential, props, says, sdkError } from '../handler-harness';

// Invariant 5: what IAM's eventual consistency and rate limit cause is retried within the event's time; what lasts
// is answered with the operation, the attempts and the last error, before the deadline.

const { iam, sleeps, given, base, run } = mockAws();

/** A sleep that really waits, at most 50 ms, so that a short Lambda budget runs out within the test. */
const shortSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50)));

const TIMED_OUT = 'Timed out waiting for IAM or Secrets Manager for IAM user \'alice\' and codecommit.amazonaws.com: ';

afterEach(() => jest.restoreAllMocks());

describe('retried until it succeeds', () => {
  test('GIVEN a user created moments ago, whom IAM does not show yet WHEN created THEN it is waited for with growing backoff until it succeeds', async () => {
    // GIVEN
    const notYet = sdkError(NoSuchEntityException, says.user('alice'));
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejectsOnce(notYet).rejectsOnce(notYet).rejectsOnce(notYet)
      .resolves({ ServiceSpecificCredential: passwordCredential() });
    // What a NoSuchEntity means is asked of IAM: the user's credentials for no particular service.
    iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice' }, true).rejects(notYet);
    given.putsAccepted();

    // WHEN
    const response = await run(createEvent(props(), base()));

    // THEN
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
  ])('GIVEN %s WHEN created THEN it is retried with growing waits until it succeeds', async (_, error) => {
    // GIVEN
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejectsOnce(error).rejectsOnce(error).rejectsOnce(error)
      .resolves({ ServiceSpecificCredential: passwordCredential() });
    given.putsAccepted();

    // WHEN
    const response = await run(createEvent(props(), base()));

    // THEN
    expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 4);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[2]).toBeGreaterThan(sleeps[0]);
    expect(response.Status).toBe('SUCCESS');
  });

  test('GIVEN a budget shorter than the time kept for a last attempt WHEN an internal failure comes THEN it is still retried', async () => {
    // GIVEN
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejectsOnce(awsError('ServiceFailure', 500))
      .resolves({ ServiceSpecificCredential: passwordCredential() });
    given.putsAccepted();

    // WHEN
    const response = await run(createEvent(props(), base()), 1_200);

    // THEN
    expect(iam).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 2);
    expect(response.Status).toBe('SUCCESS');
  });
});

describe('what lasts is answered before the deadline', () => {
  test('GIVEN a user that never appears WHEN created THEN FAILED before the deadline: timed out waiting for the user, whom IAM does not show', async () => {
    // GIVEN: IAM answers NoSuchEntity for the user, for Create and for the List that tells what is missing.
    const notFound = sdkError(NoSuchEntityException, says.user('alice'));
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejects(notFound);
    iam.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice' }, true).rejects(notFound);

    // WHEN
    const response = await run(createEvent(props(), base()), 1_200, { sleep: shortSleep });

    // THEN
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(new RegExp(`^${escape(TIMED_OUT)}iam:CreateServiceSpecificCredential did not succeed before the deadline `
      + `\\(\\d+ attempts; last error UnknownUser: IAM user 'alice' does not exist\\)\\. ${escape(RETRY)}$`));
    expect(iam.commandCalls(CreateServiceSpecificCredentialCommand).length).toBeGreaterThan(1);
  });

  test('GIVEN a denial that outlasts the time IAM takes to apply a policy WHEN created THEN it fails then, naming the operation, its error and what to check', async () => {
    // GIVEN: every backoff at its ceiling (0.5 s, 1 s, 2 s ... 10 s).
    jest.spyOn(Math, 'random').mockReturnValue(1);
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejects(awsError('AccessDenied', 403, 'not authorized to perform: iam:CreateServiceSpecificCredential on resource: user alice'));

    // WHEN
    const response = await run(createEvent(props(), base()));

    // THEN
    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: 'iam:CreateServiceSpecificCredential was still denied after 66 s (11 attempts), longer than IAM takes to apply a new policy: '
        + `AccessDenied: not authorized to perform: iam:CreateServiceSpecificCredential on resource: user alice. ${DENIED_HINT}`,
    });
    // 60 s of backoff, not the 4 min 45 s until the deadline.
    const total = sleeps.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(60_000);
    expect(total).toBeLessThan(70_000);
  });

  test('GIVEN throttling between denials WHEN created THEN the window in which a denial is taken for a new policy is not restarted', async () => {
    // GIVEN
    jest.spyOn(Math, 'random').mockReturnValue(1);
    const denied = awsError('AccessDenied', 403, 'not authorized to perform: iam:CreateServiceSpecificCredential on resource: user alice');
    let call = 0;
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).callsFake(() => {
      throw call++ % 2 ? awsError('Throttling', 400, 'Rate exceeded') : denied;
    });
    let slept = 0;
    const sleep = (ms: number) => {
      slept += ms;
      if (slept > 300_000) throw new Error('still retrying after 5 minutes of waits');
      return new Promise<void>((r) => setImmediate(r));
    };

    // WHEN
    const response = await run(createEvent(props(), base()), 900_000, { sleep });

    // THEN: the pace's waits (1 s, 2 s, 4 s, 8 s, 16 s) count toward the window with the backoffs (0.5 s, 1 s, 2 s, 4 s, 8 s).
    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: 'iam:CreateServiceSpecificCredential was still denied after 62 s (11 attempts), longer than IAM takes to apply a new policy: '
        + `AccessDenied: not authorized to perform: iam:CreateServiceSpecificCredential on resource: user alice. ${DENIED_HINT}`,
    });
    expect(slept).toBe(61_500);
  });

  test('GIVEN throttling until the deadline WHEN created THEN FAILED names the operation, the attempts and the last error', async () => {
    // GIVEN
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejects(awsError('Throttling', 400, 'Rate exceeded'));

    // WHEN
    const response = await run(createEvent(props(), base()), 1_200, { sleep: shortSleep });

    // THEN
    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: `${TIMED_OUT}iam:CreateServiceSpecificCredential did not succeed before the deadline (2 attempts; last error Throttling: Rate exceeded). ${RETRY}`,
    });
  });

  test('GIVEN throttling that lasts into the last second of the budget WHEN created THEN one more attempt is made, not a burst of them', async () => {
    // GIVEN
    given.newSecret();
    iam.on(CreateServiceSpecificCredentialCommand).rejects(awsError('Throttling', 400, 'Rate exceeded'));

    // WHEN: 900 ms to the deadline: less than the time kept for a last attempt from the start.
    const response = await run(createEvent(props(), base()), 1_200, { sleep: shortSleep });

    // THEN
    expect(response.Status).toBe('FAILED');
    // The pace after 1 throttle is at least 0.5 s, far more than the budget left: every later attempt would be a burst.
    expect(iam.commandCalls(CreateServiceSpecificCredentialCommand).length).toBeLessThanOrEqual(2);
  });
});
