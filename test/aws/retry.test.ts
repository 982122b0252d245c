import { Pace } from '../../lambda/aws/pace';
import { ACCESS_DENIED_WINDOW_MS, Budget, abortableSleep, isAccessDenied, isExplicitDeny, isTransient, withRetry } from '../../lambda/aws/retry';
import { ExplicitlyDenied, OutOfTime, StillDenied } from '../../lambda/logic/errors';

// withRetry on a budget whose sleep only records what it was asked to wait, and whose deadline the test sets. The
// backoff's jitter is Math.random; every test here pins it to 1, so each wait is the ceiling of its step.

const awsError = (name: string, status?: number, message = name, extra: object = {}) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, ...extra });

const denied = awsError('AccessDenied', 403, 'User: arn:aws:sts::123456789012:assumed-role/handler is not authorized');
const throttled = awsError('Throttling', 400, 'Rate exceeded');
const failure = awsError('ServiceFailure', 500, 'internal failure');

/** A budget of `ms` from now whose sleep records each wait and returns at once; `endAfter` ends it at that sleep. */
function fakeBudget(ms = 300_000, endAfter = Infinity) {
  const controller = new AbortController();
  const slept: number[] = [];
  const budget: Budget = {
    signal: controller.signal,
    deadline: Date.now() + ms,
    sleep: async (wait) => {
      slept.push(wait);
      if (slept.length >= endAfter) {
        controller.abort(new Error('the Lambda function is about to time out'));
        throw controller.signal.reason;
      }
    },
  };
  return { budget, slept, controller };
}

/** A call that answers with each of `outcomes` in turn (an Error is thrown), then with the last one for ever. */
function scripted(...outcomes: unknown[]) {
  const signals: AbortSignal[] = [];
  const call = jest.fn(async (signal: AbortSignal): Promise<unknown> => {
    signals.push(signal);
    const outcome = outcomes[Math.min(call.mock.calls.length - 1, outcomes.length - 1)];
    if (outcome instanceof Error) throw outcome;
    return outcome;
  });
  return { call, signals };
}

/** What `promise` rejects with; a promise that resolves fails the test. */
function rejection(promise: Promise<unknown>): Promise<any> {
  return promise.then((value) => { throw new Error(`expected a rejection, got ${JSON.stringify(value)}`); }, (err) => err);
}

/** A pace on a clock that stands still, whose delay is its whole ceiling. */
const fixedPace = () => new Pace(() => 0, () => 1);

beforeEach(() => {
  jest.spyOn(Math, 'random').mockReturnValue(1);
});
afterEach(() => {
  jest.restoreAllMocks();
});

describe('isTransient and isAccessDenied', () => {
  test.each<[string, boolean, unknown]>([
    ['Throttling', true, awsError('Throttling', 400)],
    ['ThrottlingException (the suffix is dropped)', true, awsError('ThrottlingException', 400)],
    ['RequestLimitExceeded', true, awsError('RequestLimitExceeded', 400)],
    ['TooManyRequestsException', true, awsError('TooManyRequestsException', 429)],
    ['ServiceFailure', true, awsError('ServiceFailure', 500)],
    ['InternalFailure', true, awsError('InternalFailure', 500)],
    ['InternalServiceError (Secrets Manager)', true, awsError('InternalServiceError', 500)],
    ['ServiceUnavailable', true, awsError('ServiceUnavailable', 503)],
    ['RequestTimeout', true, awsError('RequestTimeout', 408)],
    ['TimeoutError (the SDK\'s own)', true, awsError('TimeoutError')],
    ['any HTTP 5xx', true, awsError('SomethingNew', 502)],
    ['a server fault without a status', true, awsError('SomethingNew', 400, 'x', { $fault: 'server' })],
    ['a dropped connection (a code, no HTTP status)', true, awsError('Error', undefined, 'socket hang up', { code: 'ECONNRESET' })],
    ['AccessDenied', false, denied],
    ['NoSuchEntity', false, awsError('NoSuchEntity', 404)],
    ['LimitExceeded', false, awsError('LimitExceeded', 409)],
    ['ValidationError', false, awsError('ValidationError', 400)],
    ['a client error with a code and an HTTP status', false, awsError('InvalidRequestException', 400, 'x', { code: 'InvalidRequest' })],
    ['a plain Error', false, new Error('bug')],
  ])('GIVEN %s WHEN classified THEN isTransient is %s', (_, expected, err) => {
    expect(isTransient(err)).toBe(expected);
  });

  test.each<[string, boolean, unknown]>([
    ['AccessDenied', true, denied],
    ['AccessDeniedException (Secrets Manager)', true, awsError('AccessDeniedException', 400)],
    ['UnauthorizedOperation', false, awsError('UnauthorizedOperation', 403)],
    ['a 403 with another code', false, awsError('InvalidClientTokenId', 403)],
  ])('GIVEN %s WHEN classified THEN isAccessDenied is %s', (_, expected, err) => {
    expect(isAccessDenied(err)).toBe(expected);
  });
});

describe('isExplicitDeny: the documented wording of an explicit denial (IAM User Guide, "Troubleshoot access denied error messages")', () => {
  const user = 'User: arn:aws:sts::123456789012:assumed-role/handler/fn is not authorized to perform: iam:CreateServiceSpecificCredential on resource: arn:aws:iam::123456789012:user/alice';
  test.each([
    ['a service control policy, with its ARN', true, awsError('AccessDenied', 403, `${user} with an explicit deny in a service control policy: arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-x`)],
    ['a permissions boundary', true, awsError('AccessDenied', 403, `${user} with an explicit deny in a permissions boundary`)],
    ['an identity-based policy', true, awsError('AccessDenied', 403, `${user} with an explicit deny in an identity-based policy`)],
    ['an SCP in its older wording', true, awsError('AccessDenied', 403, `${user} due to an explicit deny in a Service Control Policy`)],
    ['Secrets Manager\'s AccessDeniedException', true, awsError('AccessDeniedException', 400, `${user} with an explicit deny in a resource-based policy`)],
    ['an implicit denial', false, awsError('AccessDenied', 403, `${user} because no identity-based policy allows the iam:CreateServiceSpecificCredential action`)],
    ['a denial in no documented wording', false, awsError('AccessDenied', 403, 'Access to iam:CreateServiceSpecificCredential is refused by a service control policy.')],
    ['another code that says explicit deny', false, awsError('ValidationError', 400, 'explicit deny')],
    ['no message', false, Object.assign(new Error(), { name: 'AccessDenied', message: undefined })],
  ])('GIVEN %s WHEN classified THEN isExplicitDeny is %s', (_, expected, err) => {
    expect(isExplicitDeny(err)).toBe(expected);
  });
});

describe('withRetry', () => {
  test('GIVEN a call that succeeds WHEN run THEN its result comes back after one attempt, with no wait, and the budget\'s signal passed on', async () => {
    // GIVEN
    const { budget, slept } = fakeBudget();
    const { call, signals } = scripted('done');

    // WHEN
    const result = await withRetry(budget, 'iam:ListServiceSpecificCredentials', isTransient, call);

    // THEN
    expect(result).toBe('done');
    expect(call).toHaveBeenCalledTimes(1);
    expect(slept).toEqual([]);
    expect(signals).toEqual([budget.signal]);
  });

  test.each([
    ['an internal failure', failure],
    ['throttling, without a pace', throttled],
    ['a dropped connection', awsError('Error', undefined, 'socket hang up', { code: 'ECONNRESET' })],
  ])('GIVEN %s twice WHEN run THEN it is retried after 0.5 s and 1 s of backoff, and the third attempt\'s result comes back', async (_, error) => {
    // GIVEN
    const { budget, slept } = fakeBudget();
    const { call } = scripted(error, error, 'done');

    // WHEN
    const result = await withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call);

    // THEN
    expect(result).toBe('done');
    expect(call).toHaveBeenCalledTimes(3);
    expect(slept).toEqual([500, 1_000]);
  });

  test('GIVEN a transient error that lasts WHEN run THEN the backoff doubles from 0.5 s up to 10 s', async () => {
    // GIVEN
    const { budget, slept } = fakeBudget(300_000, 9);
    const { call } = scripted(failure);

    // WHEN
    await withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call).catch(() => undefined);

    // THEN
    expect(slept).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000]);
  });

  test('GIVEN jitter WHEN backing off THEN each wait is between half its ceiling and the ceiling', async () => {
    // GIVEN
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const { budget, slept } = fakeBudget(300_000, 4);
    const { call } = scripted(failure);

    // WHEN
    await withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call).catch(() => undefined);

    // THEN
    expect(slept).toEqual([250, 500, 1_000, 2_000]);
  });

  test('GIVEN an error the caller does not retry WHEN run THEN that very error is thrown after one attempt, with no wait', async () => {
    // GIVEN
    const { budget, slept } = fakeBudget();
    const validation = awsError('ValidationError', 400, 'bad request');
    const { call } = scripted(validation);

    // WHEN
    const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call));

    // THEN
    expect(thrown).toBe(validation);
    expect(call).toHaveBeenCalledTimes(1);
    expect(slept).toEqual([]);
  });

  test('GIVEN a transient error WHEN a later attempt fails with an error the caller does not retry THEN that error is thrown', async () => {
    // GIVEN
    const { budget } = fakeBudget();
    const gone = awsError('NoSuchEntity', 404, 'No such credential ACCA0000000000000000A exists');
    const { call } = scripted(failure, gone);

    // WHEN
    const thrown = await rejection(withRetry(budget, 'iam:DeleteServiceSpecificCredential', isTransient, call));

    // THEN
    expect(thrown).toBe(gone);
    expect(call).toHaveBeenCalledTimes(2);
  });

  describe('AccessDenied', () => {
    const retryable = (err: unknown) => isTransient(err) || isAccessDenied(err);

    test('GIVEN a denial that lasts WHEN run THEN it is retried for the window only, then thrown as StillDenied naming the operation, attempts and error', async () => {
      // GIVEN
      const { budget, slept } = fakeBudget();
      const { call } = scripted(denied);

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', retryable, call));

      // THEN
      // 0.5 + 1 + 2 + 4 + 8 + 10 × 5 = 65.5 s slept; the window (60 s) was reached before the 11th attempt's wait.
      expect(slept).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
      expect(slept.slice(0, -1).reduce((a, b) => a + b)).toBeLessThan(ACCESS_DENIED_WINDOW_MS);
      expect(thrown).toBeInstanceOf(StillDenied);
      expect(thrown).toMatchObject({ operation: 'iam:CreateServiceSpecificCredential', attempts: 11, lastError: denied, cause: denied });
      expect(thrown.message).toBe('iam:CreateServiceSpecificCredential was still denied after 66 s (11 attempts), longer than IAM takes to apply '
        + 'a new policy: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/handler is not authorized');
    });

    test('GIVEN an explicit deny WHEN run THEN it is thrown at once as ExplicitlyDenied: waiting never turns it into an allow', async () => {
      // GIVEN
      const { budget, slept } = fakeBudget();
      const explicit = awsError('AccessDenied', 403, 'User: arn:aws:sts::123456789012:assumed-role/handler is not authorized to perform: '
        + 'iam:CreateServiceSpecificCredential on resource: arn:aws:iam::123456789012:user/alice with an explicit deny in a permissions boundary');
      const { call } = scripted(explicit, 'never');

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', retryable, call));

      // THEN
      expect(call).toHaveBeenCalledTimes(1);
      expect(slept).toEqual([]);
      expect(thrown).toBeInstanceOf(ExplicitlyDenied);
      expect(thrown).toMatchObject({ operation: 'iam:CreateServiceSpecificCredential', lastError: explicit, cause: explicit });
      expect(thrown.message).toBe('iam:CreateServiceSpecificCredential was denied by an explicit deny, which waiting does not lift: '
        + `AccessDenied: ${explicit.message}`);
    });

    test('GIVEN an explicit deny from a call that does not retry denials WHEN run THEN AWS\'s own error is thrown', async () => {
      const { budget } = fakeBudget();
      const explicit = awsError('AccessDenied', 403, 'with an explicit deny in a service control policy');
      const { call } = scripted(explicit);

      await expect(withRetry(budget, 'iam:ListServiceSpecificCredentials', isTransient, call)).rejects.toBe(explicit);
    });

    test('GIVEN a denial that ends within the window WHEN run THEN the call\'s result comes back', async () => {
      // GIVEN
      const { budget } = fakeBudget();
      const { call } = scripted(denied, denied, denied, denied, denied, 'done');

      // WHEN
      const result = await withRetry(budget, 'iam:CreateServiceSpecificCredential', retryable, call);

      // THEN
      expect(result).toBe('done');
      expect(call).toHaveBeenCalledTimes(6);
    });

    test('GIVEN denials with another error between them WHEN run THEN the other error starts the window afresh', async () => {
      // GIVEN: 9 denials (55.5 s of waits), an internal failure, then denials again.
      const { budget, slept } = fakeBudget();
      const { call } = scripted(...Array(9).fill(denied), failure, denied);

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', retryable, call));

      // THEN: a whole window of denials after the failure (6 waits of 10 s), not the 4.5 s the first ones left.
      expect(thrown).toBeInstanceOf(StillDenied);
      expect(slept.slice(10)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
      expect(thrown.attempts).toBe(17);
    });

    test('GIVEN denials with throttles between them WHEN run with a pace THEN the pace\'s waits count toward the window, which throttles do not restart', async () => {
      // GIVEN: denied and throttled by turns; a window that restarted would end only with the budget's 200th wait.
      const { budget, slept } = fakeBudget(300_000, 200);
      let n = 0;
      const call = jest.fn(async () => { throw n++ % 2 ? throttled : denied; });

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', retryable, call, fixedPace()));

      // THEN
      expect(thrown).toBeInstanceOf(StillDenied);
      expect(thrown.lastError).toBe(denied);
      expect(slept.reduce((a, b) => a + b)).toBeLessThan(ACCESS_DENIED_WINDOW_MS + 30_000);
      expect(thrown.message).toMatch(/^iam:CreateServiceSpecificCredential was still denied after (6\d|7\d|8\d) s \(\d+ attempts\)/);
    });
  });

  describe('an error retried briefly', () => {
    // What eventual consistency explains at first and a real cause once it lasts (a new user's Create that looks like
    // an unsupported service): retried within the same window as a denial, then thrown as itself.
    const unsupported = awsError('NoSuchEntity', 404, 'No such service nosuch.amazonaws.com is supported for Service Specific Credentials');
    const briefly = (err: unknown) => (err === unsupported ? 'briefly' as const : isTransient(err));

    test('GIVEN a brief error that lasts WHEN run THEN it is retried for the window, then thrown as itself (not as StillDenied)', async () => {
      // GIVEN
      const { budget, slept } = fakeBudget();
      const { call } = scripted(unsupported);

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', briefly, call));

      // THEN
      expect(thrown).toBe(unsupported);
      expect(slept).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
      expect(call).toHaveBeenCalledTimes(11);
    });

    test('GIVEN a brief error that ends within the window WHEN run THEN the call\'s result comes back', async () => {
      // GIVEN
      const { budget } = fakeBudget();
      const { call } = scripted(unsupported, unsupported, 'done');

      // WHEN / THEN
      await expect(withRetry(budget, 'iam:CreateServiceSpecificCredential', briefly, call)).resolves.toBe('done');
    });

    test('GIVEN brief errors with a transient one between them WHEN run THEN the transient error starts the window afresh', async () => {
      // GIVEN
      const { budget, slept } = fakeBudget();
      const { call } = scripted(...Array(9).fill(unsupported), failure, unsupported);

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', briefly, call));

      // THEN
      expect(thrown).toBe(unsupported);
      expect(slept.slice(10)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
    });
  });

  describe('the deadline', () => {
    test('GIVEN an error that lasts until the budget ends WHEN run THEN OutOfTime names the operation, the attempts made and the last error', async () => {
      // GIVEN: the budget ends during the third wait.
      const { budget } = fakeBudget(300_000, 3);
      const { call } = scripted(failure);

      // WHEN
      const thrown = await rejection(withRetry(budget, 'secretsmanager:PutSecretValue', isTransient, call));

      // THEN
      expect(call).toHaveBeenCalledTimes(3);
      expect(thrown).toBeInstanceOf(OutOfTime);
      expect(thrown).toMatchObject({ operation: 'secretsmanager:PutSecretValue', attempts: 3, lastError: failure, cause: failure });
      expect(thrown.message).toBe('secretsmanager:PutSecretValue did not succeed before the deadline (3 attempts; last error ServiceFailure: internal failure)');
    });

    test('GIVEN a call that never settles WHEN the budget\'s signal aborts THEN OutOfTime comes at once, after that one attempt and with no last error', async () => {
      // GIVEN
      const { budget, controller } = fakeBudget();
      const call = jest.fn(() => new Promise<never>(() => undefined));

      // WHEN
      const pending = withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call);
      controller.abort(new Error('the Lambda function is about to time out'));
      const thrown = await rejection(pending);

      // THEN
      expect(thrown).toBeInstanceOf(OutOfTime);
      expect(thrown.message).toBe('iam:CreateServiceSpecificCredential did not succeed before the deadline (1 attempt)');
      expect(thrown.lastError).toBeUndefined();
    });

    test('GIVEN a call that fails after the signal aborted WHEN run THEN OutOfTime, not the call\'s own error, is thrown', async () => {
      // GIVEN
      const { budget, controller } = fakeBudget();
      const call = jest.fn(async () => {
        controller.abort(new Error('the Lambda function is about to time out'));
        throw failure;
      });

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call));

      // THEN
      expect(thrown).toBeInstanceOf(OutOfTime);
      expect(thrown.attempts).toBe(1);
    });

    // OutOfTime counts the calls made, not the loops: a user reads it to tell how long IAM was tried.
    test('GIVEN a budget already spent WHEN run THEN no call is made, and OutOfTime says 0 attempts', async () => {
      // GIVEN
      const { budget, controller } = fakeBudget();
      controller.abort(new Error('the Lambda function is about to time out'));
      const { call } = scripted('done');

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call));

      // THEN
      expect(call).not.toHaveBeenCalled();
      expect(thrown).toBeInstanceOf(OutOfTime);
      expect(thrown.attempts).toBe(0);
    });

    test('GIVEN two throttled attempts WHEN the pace\'s wait before the third is cut short by the deadline THEN OutOfTime says 2 attempts', async () => {
      // GIVEN
      const { budget } = fakeBudget(300_000, 2);
      const { call } = scripted(throttled);

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call, fixedPace()));

      // THEN
      expect(call).toHaveBeenCalledTimes(2);
      expect(thrown).toBeInstanceOf(OutOfTime);
      expect(thrown.attempts).toBe(2);
    });
  });

  describe('throttling goes through the pace', () => {
    test('GIVEN throttling twice WHEN run with a pace THEN no backoff is slept: each attempt waits the pace, which doubles, and a success shortens it', async () => {
      // GIVEN
      const { budget, slept } = fakeBudget();
      const pace = fixedPace();
      const { call } = scripted(throttled, throttled, 'done');

      // WHEN
      const result = await withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call, pace);

      // THEN
      expect(result).toBe('done');
      expect(slept).toEqual([1_000, 2_000]);
      expect(pace.delay()).toBeCloseTo(1_400, 6);
    });

    test('GIVEN a pace another call slowed WHEN a new operation starts THEN its first attempt waits the pace', async () => {
      // GIVEN
      const { budget, slept } = fakeBudget();
      const pace = fixedPace();
      pace.throttled();
      pace.throttled();
      const { call } = scripted('done');

      // WHEN
      await withRetry(budget, 'secretsmanager:DescribeSecret', isTransient, call, pace);

      // THEN
      expect(slept).toEqual([2_000]);
    });

    test('GIVEN a pace longer than the budget has left WHEN run THEN one last attempt is made at once, and the next throttle ends it as OutOfTime', async () => {
      // GIVEN: 20 s of pace, 1.5 s of budget (0.5 s after the second kept for the last attempt).
      const { budget, slept } = fakeBudget(1_500);
      const pace = fixedPace();
      for (let i = 0; i < 6; i++) pace.throttled();
      const { call } = scripted(throttled);

      // WHEN
      const thrown = await rejection(withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call, pace));

      // THEN
      expect(call).toHaveBeenCalledTimes(1);
      expect(slept).toHaveLength(1);
      expect(slept[0]).toBeLessThanOrEqual(500);
      expect(thrown).toBeInstanceOf(OutOfTime);
      expect(thrown.message).toBe('iam:CreateServiceSpecificCredential did not succeed before the deadline (1 attempt; last error Throttling: Rate exceeded)');
    });

    test('GIVEN a pace longer than the budget has left WHEN the last attempt succeeds THEN its result comes back', async () => {
      // GIVEN
      const { budget } = fakeBudget(1_500);
      const pace = fixedPace();
      for (let i = 0; i < 6; i++) pace.throttled();
      const { call } = scripted('done');

      // WHEN
      const result = await withRetry(budget, 'iam:CreateServiceSpecificCredential', isTransient, call, pace);

      // THEN
      expect(result).toBe('done');
    });
  });
});

describe('abortableSleep', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('GIVEN a signal that stays WHEN the time passes THEN it resolves', async () => {
    // GIVEN
    const sleeping = abortableSleep(1_000, new AbortController().signal);

    // WHEN
    jest.advanceTimersByTime(1_000);

    // THEN
    await expect(sleeping).resolves.toBeUndefined();
  });

  test('GIVEN a sleep under way WHEN the signal aborts THEN it rejects at once with the signal\'s reason', async () => {
    // GIVEN
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    const reason = new Error('the Lambda function is about to time out');

    // WHEN
    controller.abort(reason);

    // THEN
    await expect(sleeping).rejects.toBe(reason);
  });

  test('GIVEN a signal already aborted WHEN asked to sleep THEN it rejects at once', async () => {
    // GIVEN
    const controller = new AbortController();
    const reason = new Error('over');
    controller.abort(reason);

    // WHEN / THEN
    await expect(abortableSleep(1_000, controller.signal)).rejects.toBe(reason);
  });
});
