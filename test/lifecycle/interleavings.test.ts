import * as fc from 'fast-check';
import { Action, Scenario, Totals, World, describeScenario, invariantsHold, run } from './interleavings';

// The stack path and the rotation path in any order, through the real bundled handler against the local AWS, with the
// invariants I1-I7 (test/lifecycle/interleavings.ts) checked after every step. First the sequences that broke them
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
    ['a rotation started during a replacement (ALTERNATING and an age) that failed for want of a slot: its rollback ends it (seed 34)',
      scenario('none', [{ kind: 'other', op: 'create' }, { kind: 'update', changes: [{ strategy: 'ALTERNATING' }, { ageDays: '30' }] },
        { kind: 'rotate' }, stackStep, stackStep, { kind: 'retryRotation' }, { kind: 'update', changes: [{ status: 'Active' }] }],
      { service: 'bedrock.amazonaws.com', status: 'Active', ageDays: 'none' })],
  ])('%s', (_, s) => expectHolds(s));
});

describe('expiry: IAM\'s clock passes an API key\'s ExpirationDate between stack events and rotation steps', () => {
  const key = (strategy: Scenario['strategy'], status: Scenario['status'], actions: Action[]): Scenario =>
    ({ service: 'bedrock.amazonaws.com', ageDays: '30', strategy, status, actions });
  const expire: Action = { kind: 'clock', days: 31 };

  test.each<[string, Scenario]>([
    ['no rotation: a status change leaves the expired key alone, a resetSerial renews it', key('none', 'Active',
      [expire, { kind: 'update', changes: [{ status: 'Inactive' }] }, stackStep, stackStep, { kind: 'update', changes: [{ reset: true }] }, stackStep, stackStep])],
    ['no rotation: a resetSerial renews an Inactive key Inactive, and its rollback resets the renewed key', key('none', 'Inactive',
      [expire, { kind: 'update', changes: [{ reset: true }], failLater: true }, stackStep, stackStep])],
    ['ALTERNATING: a rotation renews an expired Inactive pair with the status the secret\'s tag asks for', key('ALTERNATING', 'Inactive',
      [...fullRotation, expire, ...fullRotation])],
    ['RESET_IN_PLACE: a rotation renews the expired key instead of resetting it', key('RESET_IN_PLACE', 'Active', [expire, ...fullRotation])],
    ['RESET_IN_PLACE: renewed while another actor holds the second slot', key('RESET_IN_PLACE', 'Active',
      [{ kind: 'other', op: 'create' }, expire, ...fullRotation])],
    ['RESET_IN_PLACE: createSecret delivered twice at once renews twice; the second key goes, even when a reset of it is refused (seed 42)',
      key('RESET_IN_PLACE', 'Active', [{ kind: 'fault', service: 'iam', operation: 'ResetServiceSpecificCredential' }, { kind: 'rotate' },
        { kind: 'clock', days: 91 }, { kind: 'rotationStep', mode: 'concurrent' }, ok, { kind: 'update', changes: [{ status: 'Active' }] },
        { kind: 'retryRotation' }])],
    ['a pair moved to another secret, rotated there while its key expired, rolled back: the renewal frees the slot the staged key holds (seed 31337)',
      key('ALTERNATING', 'Active', [{ kind: 'update', changes: [{ secret: 'two' }], failLater: true }, stackStep, { kind: 'rotate' },
        { kind: 'clock', days: 16 }, { kind: 'clock', days: 16 }, ok, ok, { kind: 'update', changes: [{ reset: true }] }])],
    ['a renewal by a rotation between an update and its rollback, then deleted out of band: the rollback finds it gone (seed 3)',
      key('none', 'Active', [{ kind: 'clock', days: 91 }, { kind: 'update', changes: [{ strategy: 'RESET_IN_PLACE' }] }, stackStep, stackStep,
        { kind: 'update', changes: [{ ageDays: 'none' }], failLater: true }, { kind: 'rotate' }, ok, { kind: 'throttle', times: 1 }, stackStep,
        { kind: 'rotate' }, { kind: 'deleteOutOfBand', stage: 'AWSPREVIOUS' }])],
    ['RESET_IN_PLACE: a rotation whose reset came before the clock moved, finished after it (seeds 8 and 42)',
      key('RESET_IN_PLACE', 'Active', [{ kind: 'rotate' }, ok, ok, ok, { kind: 'retryRotation' }, { kind: 'clock', days: 31 }, ok])],
    ['RESET_IN_PLACE switched to ALTERNATING while its rotation, reset before the key expired, is in progress (seed 5)',
      key('RESET_IN_PLACE', 'Active', [{ kind: 'rotate' }, ok, { kind: 'clock', days: 91 }, { kind: 'update', changes: [{ strategy: 'ALTERNATING' }] },
        stackStep, ok, { kind: 'retryRotation' }, { kind: 'fault', service: 'iam', operation: 'CreateServiceSpecificCredential' }])],
    ['a replacement rolled back after the pair expired: the staged key is made current again, expired (seed 13)',
      key('ALTERNATING', 'Active', [{ kind: 'rotate' }, ok, { kind: 'clock', days: 91 }, { kind: 'update', changes: [{ user: 'b' }], failLater: true },
        ok, ok, { kind: 'rotate' }])],
    ['a key staged before the clock passed its expiry is let go at finishSecret; the next rotation renews (probe, sample seed 1)',
      key('ALTERNATING', 'Active', [{ kind: 'rotate' }, ok, expire])],
    ['a key renewed by a rotation during a replacement that changes its status, rolled back: the status the stack asks for again',
      key('ALTERNATING', 'Inactive', [{ kind: 'update', changes: [{ status: 'Active' }, { ageDays: 'none' }], failLater: true }, ...fullRotation.slice(0, 1),
        expire, ...fullRotation.slice(1), stackStep, stackStep])],
    ['a replacement of an expired key, rolled back: the expired key is current again', key('ALTERNATING', 'Active',
      [expire, { kind: 'update', changes: [{ user: 'b' }], failLater: true }, stackStep, stackStep])],
    ['Secrets Manager\'s test of the rotation configuration, on a copy of the current value, before any rotation (seed 20261207)',
      { ...base, strategy: 'RESET_IN_PLACE', actions: [{ kind: 'configurationTest', form: 'copy' }, ...fullRotation] }],
    ...(['copy', 'empty', 'none'] as const).map((form) => [
      `the same test (${form}) after a rotation and between an ALTERNATING replacement and its rollback`,
      {
        ...base,
        strategy: 'ALTERNATING',
        actions: [...fullRotation, { kind: 'update', changes: [{ user: 'b' }], failLater: true }, stackStep,
          { kind: 'configurationTest', form }, stackStep, { kind: 'configurationTest', form }, ...fullRotation],
      },
    ] as [string, Scenario]),
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
