import * as fc from 'fast-check';
import { Action, Scenario, Totals, World, describeScenario, invariantsHold, run } from './interleavings';

// The stack path and the rotation path in any order, through the real bundled handler against the local AWS, with the
// invariants I1-I6 (test/lifecycle/interleavings.ts) checked after every step. First the sequences that broke them
// before the two paths shared one record of ownership, then what the random sequences found (shrunk), then a fixed
// budget of random sequences (INTERLEAVINGS=<n>, INTERLEAVINGS_SEED=<seed>; `npx projen soak` runs for as long as asked).

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

describe('seeds the generator found, shrunk', () => {
  const scenario = (strategy: Scenario['strategy'], actions: Action[], more: Partial<Scenario> = {}): Scenario => ({ ...base, strategy, actions, ...more });
  const bedrock = { service: 'bedrock.amazonaws.com', status: 'Inactive', ageDays: '30' } as const;

  test.each<[string, Scenario]>([
    ['a pair moved to another secret after its current credential was deleted, then rolled back', scenario('ALTERNATING',
      [{ kind: 'deleteOutOfBand', stage: 'AWSCURRENT' }, { kind: 'update', changes: [{ secret: 'two' }], failLater: true }], bedrock)],
    ['a staged credential whose AWSPENDING could not be taken off when the strategy changed', scenario('ALTERNATING',
      [{ kind: 'rotate' }, ok, { kind: 'update', changes: [{ strategy: 'RESET_IN_PLACE' }], failLater: true },
        { kind: 'fault', service: 'secretsmanager', operation: 'UpdateSecretVersionStage' }, stackStep])],
    ['a staged credential deleted out of band after a step whose answer was lost', scenario('ALTERNATING',
      [{ kind: 'rotate' }, { kind: 'rotationStep', mode: 'lost' }, { kind: 'deleteOutOfBand', stage: 'AWSPENDING' }])],
    ['RESET_IN_PLACE: the old secret\'s rotation after the credential moved to a new secret', scenario('RESET_IN_PLACE',
      [{ kind: 'update', changes: [{ secret: 'two' }] }, { kind: 'rotate' }, stackStep, ok])],
    ['RESET_IN_PLACE: a replacement whose end of the rotation in progress was refused', scenario('RESET_IN_PLACE',
      [{ kind: 'fault', service: 'secretsmanager', operation: 'UpdateSecretVersionStage' }, { kind: 'update', changes: [{ user: 'b' }] },
        { kind: 'rotate' }, stackStep, ok])],
    ['RESET_IN_PLACE: a value that could not be stored after the reset', scenario('RESET_IN_PLACE',
      [{ kind: 'rotate' }, { kind: 'fault', service: 'secretsmanager', operation: 'PutSecretValue' }, ok], { ...bedrock, status: 'Active' })],
    ['a replacement for another user whose cleanup IAM first refused', scenario('ALTERNATING',
      [{ kind: 'fault', service: 'iam', operation: 'DeleteServiceSpecificCredential' },
        { kind: 'update', changes: [{ strategy: 'ALTERNATING' }, { user: 'b' }] }, stackStep, stackStep], { status: 'Inactive' })],
    ['a rollback to ALTERNATING with a new resetSerial while another actor holds the second slot', scenario('ALTERNATING',
      [{ kind: 'other', op: 'create' }, { kind: 'update', changes: [{ reset: true }, { strategy: 'RESET_IN_PLACE' }], failLater: true }], bedrock)],
    ['RESET_IN_PLACE: the old secret\'s rotation after the move, with its record let go (soak seed 20261208)', scenario('RESET_IN_PLACE',
      [{ kind: 'update', changes: [{ secret: 'two' }] }, { kind: 'rotate' }, stackStep, ok, ok, ok, ok], { ...bedrock, status: 'Active', ageDays: 'none' })],
    ['a pair that rotated in its new secret, rolled back to the old one, which holds the pair\'s previous credential (soak seed 20261209)',
      scenario('ALTERNATING', [{ kind: 'update', changes: [{ secret: 'two' }], failLater: true }, stackStep, ...fullRotation, stackStep, ok])],
    ['a pair re-created after its current credential was deleted, while another actor holds a slot', scenario('ALTERNATING',
      [{ kind: 'update', changes: [{ reset: true }] }, stackStep, { kind: 'deleteOutOfBand', stage: 'AWSCURRENT' }, stackStep,
        { kind: 'update', changes: [{ reset: true }] }, { kind: 'other', op: 'create' }])],
  ])('%s', (_, s) => expectHolds(s));
});

describe('random interleavings', () => {
  const count = Number(process.env.INTERLEAVINGS ?? 600);
  const seed = Number(process.env.INTERLEAVINGS_SEED ?? 20_261_207);

  test(`${count} sequences from seed ${seed}`, async () => {
    const totals: Totals = { sequences: 0, steps: 0, invocations: 0 };
    const started = Date.now();
    await fc.assert(invariantsHold(world, totals), { seed, numRuns: count });
    console.log(`${totals.sequences} sequences, ${totals.steps} steps, ${totals.invocations} handler invocations in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
