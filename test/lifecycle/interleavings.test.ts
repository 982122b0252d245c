import { Action, Scenario, World, describeScenario, generate, run, shrink } from './interleavings';

// The stack path and the rotation path in any order, through the real bundled handler against the local AWS, with the
// invariants I1-I6 (test/lifecycle/interleavings.ts) checked after every step. First the sequences that broke them
// before the two paths shared one record of ownership, then the seeds the generator found, then a fixed budget of
// random sequences (INTERLEAVINGS=<n> to change it; `npx projen soak` runs for as long as asked).

jest.setTimeout(600_000);

let world: World;
beforeAll(async () => {
  world = await World.start();
});
afterAll(() => world.close());

const ok: Action = { kind: 'rotationStep', mode: 'ok' };
const stackStep: Action = { kind: 'stackStep' };
const fullRotation: Action[] = [{ kind: 'rotate' }, ok, ok, ok, ok];

async function expectHolds(scenario: Scenario) {
  const result = await run(world, scenario);
  if (result.violation) {
    throw new Error(`${result.violation.message}\nat action ${result.at} of\n${describeScenario(scenario)}\ntrace:\n${result.trace.join('\n')}`);
  }
}

const base = { service: 'codecommit.amazonaws.com', status: 'Active', ageDays: 'none' } as const;

describe('the overlaps that broke the invariants', () => {
  test('1. RESET_IN_PLACE: finishSecret fails once, a resetSerial deploy, the retried token does not make the killed password current', () =>
    expectHolds({
      ...base,
      strategy: 'RESET_IN_PLACE',
      actions: [{ kind: 'rotate' }, ok, ok, ok, { kind: 'rotationStep', mode: 'notDelivered' },
        { kind: 'update', changes: [{ reset: true }] }, stackStep, stackStep, { kind: 'retryRotation' }, ok, ok, ok, ok],
    }));

  test('1b. the same with a replacement (another user) instead of the reset', () =>
    expectHolds({
      ...base,
      strategy: 'RESET_IN_PLACE',
      actions: [{ kind: 'rotate' }, ok, ok, ok, { kind: 'rotationStep', mode: 'notDelivered' },
        { kind: 'update', changes: [{ user: 'b' }] }, stackStep, stackStep, { kind: 'retryRotation' }, ok, ok, ok, ok],
    }));

  test('2. ALTERNATING: a rotation between a replacement UPDATE and its rollback leaves the old credential current', () =>
    expectHolds({
      ...base,
      strategy: 'ALTERNATING',
      actions: [{ kind: 'update', changes: [{ user: 'b' }], failLater: true }, stackStep, ...fullRotation, stackStep],
    }));

  test('3. the same when the update succeeds: the cleanup DELETE deletes the old credential', () =>
    expectHolds({
      ...base,
      strategy: 'ALTERNATING',
      actions: [{ kind: 'update', changes: [{ user: 'b' }] }, stackStep, ...fullRotation, stackStep],
    }));

  test.each([
    ['a replacement', { user: 'b' }],
    ['ALTERNATING to RESET_IN_PLACE', { strategy: 'RESET_IN_PLACE' }],
    ['rotation turned off', { strategy: 'none' }],
  ] as const)('4. AWSPENDING is not left behind when %s deletes the staged credential', (_, change) =>
    expectHolds({
      ...base,
      strategy: 'ALTERNATING',
      actions: [{ kind: 'rotate' }, ok, { kind: 'update', changes: [change] }, stackStep, stackStep],
    }));

  test('5. resetSerial repairs an ALTERNATING pair whose current credential was deleted outside CloudFormation', () =>
    expectHolds({
      ...base,
      strategy: 'ALTERNATING',
      actions: [...fullRotation, { kind: 'deleteOutOfBand', stage: 'AWSCURRENT' }, { kind: 'update', changes: [{ reset: true }] }, stackStep, stackStep],
    }));

  test('6. a replacement for another user keeps the old user\'s previous credential until the old resource\'s DELETE', () =>
    expectHolds({
      ...base,
      strategy: 'ALTERNATING',
      actions: [...fullRotation, { kind: 'update', changes: [{ user: 'b' }], failLater: true }, stackStep, stackStep],
    }));
});

describe('random interleavings', () => {
  const count = Number(process.env.INTERLEAVINGS ?? 200);
  const firstSeed = Number(process.env.INTERLEAVINGS_SEED ?? 1);

  test(`${count} sequences from seed ${firstSeed}`, async () => {
    let steps = 0;
    let invocations = 0;
    const started = Date.now();
    for (let seed = firstSeed; seed < firstSeed + count; seed++) {
      const scenario = generate(seed);
      const result = await run(world, scenario);
      steps += result.steps;
      invocations += result.invocations;
      if (result.violation) {
        const minimal = await shrink(world, scenario, result.violation.invariant);
        const again = await run(world, minimal);
        throw new Error(`seed ${seed}: ${result.violation.message}\nshrunk to:\n${describeScenario(minimal)}\n`
          + `trace:\n${again.trace.join('\n')}\n${again.violation?.message ?? ''}`);
      }
    }
    console.log(`${count} sequences, ${steps} steps, ${invocations} handler invocations in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
