import { Pace, isThrottling } from '../../lambda/aws/pace';

// The environment's pace, on a clock and a random source the test moves by hand.

/** A pace whose clock reads `clock.now`, and whose random share is `share` (1: the whole ceiling). */
function paceAt(clock: { now: number }, share = 1) {
  return new Pace(() => clock.now, () => share);
}

/** The pace's ceiling: its delay when the random share is the whole of it. */
const ceilingOf = (pace: Pace) => pace.delay();

describe('Pace', () => {
  test('GIVEN no throttle yet WHEN asked for a delay THEN it is 0', () => {
    // GIVEN
    const pace = paceAt({ now: 0 });

    // WHEN / THEN
    expect(pace.delay()).toBe(0);
  });

  test.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [4, 8_000],
    [5, 16_000],
    [6, 20_000],
    [10, 20_000],
  ])('GIVEN a fresh pace WHEN throttled %i times THEN the ceiling is %i ms (doubling from the 1 s floor, up to 20 s)', (throttles, ceiling) => {
    // GIVEN
    const pace = paceAt({ now: 0 });

    // WHEN
    for (let i = 0; i < throttles; i++) pace.throttled();

    // THEN
    expect(ceilingOf(pace)).toBe(ceiling);
  });

  test.each([
    // throttles, then successes: the ceiling after them (0.7 each, 0 once below a quarter of the 1 s floor)
    [5, 1, 11_200],
    [5, 2, 7_840],
    [1, 1, 700],
    [1, 2, 490],
    [1, 3, 343],
    [1, 4, 0],
    [0, 1, 0],
  ])('GIVEN %i throttles WHEN %i successes follow THEN the ceiling is %d ms', (throttles, successes, ceiling) => {
    // GIVEN
    const pace = paceAt({ now: 0 });
    for (let i = 0; i < throttles; i++) pace.throttled();

    // WHEN
    for (let i = 0; i < successes; i++) pace.succeeded();

    // THEN
    expect(ceilingOf(pace)).toBeCloseTo(ceiling, 6);
  });

  test.each([
    // successes after one throttle, then the ceiling the next throttle sets
    [1, 1_400],
    [2, 1_000],
    [3, 1_000],
    [4, 1_000],
  ])('GIVEN a throttle decayed by %i successes WHEN throttled again THEN the ceiling is %i ms (never below the 1 s floor)', (successes, ceiling) => {
    // GIVEN
    const pace = paceAt({ now: 0 });
    pace.throttled();
    for (let i = 0; i < successes; i++) pace.succeeded();

    // WHEN
    pace.throttled();

    // THEN
    expect(ceilingOf(pace)).toBeCloseTo(ceiling, 6);
  });

  test.each([
    [0, 500],
    [0.5, 750],
    [0.999, 999.5],
  ])('GIVEN a 1 s ceiling WHEN the random source gives %d THEN the delay is %d ms (half the ceiling plus a random share of the other half)', (share, delay) => {
    // GIVEN
    const pace = paceAt({ now: 0 }, share);

    // WHEN
    pace.throttled();

    // THEN
    expect(pace.delay()).toBeCloseTo(delay, 6);
  });

  test.each([
    [60_000, 8_000],
    [120_000, 8_000],
    [120_001, 0],
    [600_000, 0],
  ])('GIVEN an 8 s ceiling from a throttle WHEN asked %i ms later THEN the delay is %i ms (forgotten after 2 minutes)', (later, delay) => {
    // GIVEN
    const clock = { now: 1_000_000 };
    const pace = paceAt(clock);
    for (let i = 0; i < 4; i++) pace.throttled();

    // WHEN
    clock.now += later;

    // THEN
    expect(pace.delay()).toBe(delay);
  });

  test('GIVEN a forgotten ceiling WHEN throttled again THEN it starts over at the 1 s floor', () => {
    // GIVEN
    const clock = { now: 0 };
    const pace = paceAt(clock);
    for (let i = 0; i < 5; i++) pace.throttled();
    clock.now += 120_001;
    expect(pace.delay()).toBe(0);

    // WHEN
    pace.throttled();

    // THEN
    expect(ceilingOf(pace)).toBe(1_000);
  });

  test('GIVEN throttles a minute apart WHEN asked 2 minutes after the first THEN the ceiling counts from the last throttle and stays', () => {
    // GIVEN
    const clock = { now: 0 };
    const pace = paceAt(clock);
    pace.throttled();
    clock.now = 60_000;
    pace.throttled();

    // WHEN
    clock.now = 150_000;

    // THEN
    expect(pace.delay()).toBe(2_000);
  });

  test('GIVEN a throttle followed by successes WHEN asked 2 minutes after the throttle THEN successes did not renew it: forgotten', () => {
    // GIVEN
    const clock = { now: 0 };
    const pace = paceAt(clock);
    for (let i = 0; i < 5; i++) pace.throttled();
    clock.now = 100_000;
    pace.succeeded();

    // WHEN
    clock.now = 120_001;

    // THEN
    expect(pace.delay()).toBe(0);
  });
});

describe('isThrottling', () => {
  const error = (name: string, status?: number) => Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status } });

  test.each<[string, boolean, unknown]>([
    ['IAM\'s Throttling (HTTP 400)', true, error('Throttling', 400)],
    ['Secrets Manager\'s ThrottlingException', true, error('ThrottlingException', 400)],
    ['TooManyRequestsException', true, error('TooManyRequestsException', 429)],
    ['RequestLimitExceeded', true, error('RequestLimitExceeded', 400)],
    ['any error with HTTP 429', true, error('SlowDown', 429)],
    ['a name that only starts like a throttle', false, error('ThrottlingExceptionX', 400)],
    ['ServiceFailure (HTTP 500)', false, error('ServiceFailure', 500)],
    ['AccessDenied', false, error('AccessDenied', 403)],
    ['LimitExceeded, IAM\'s quota (not a rate)', false, error('LimitExceeded', 409)],
    ['an error without a name or status', false, {}],
    ['undefined', false, undefined],
    ['null', false, null],
  ])('GIVEN %s WHEN classified THEN isThrottling is %s', (_, expected, err) => {
    expect(isThrottling(err)).toBe(expected);
  });
});
