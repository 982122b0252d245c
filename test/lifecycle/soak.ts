import * as fc from 'fast-check';
import { Totals, World, invariantsHold } from './interleavings';

// `npx projen soak -- [minutes] [seed]`: random interleavings for as long as asked (default 10 minutes), every invariant
// checked after every step. A failure is shrunk and printed with its seed; add the shrunk sequence to
// interleavings.test.ts as a fixed regression test.

async function main() {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const [minutes, seed] = [Number(args[0] ?? 10), Number(args[1] ?? Date.now() % 2_147_483_647)];
  if (!(minutes > 0) || !Number.isInteger(seed)) throw new Error(`usage: npx projen soak -- [minutes] [seed]; got ${args.join(' ')}`);
  const world = await World.start();
  const totals: Totals = { sequences: 0, steps: 0, invocations: 0 };
  const started = Date.now();
  let failed = false;
  try {
    const details = await fc.check(invariantsHold(world, totals), {
      seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: minutes * 60_000, markInterruptAsFailure: false,
    });
    if (details.counterexample) {
      failed = true;
      console.log(fc.defaultReportMessage(details));
      console.log(String(details.errorInstance));
    }
  } finally {
    await world.close();
  }
  console.log(`seed ${seed}: ${totals.sequences} sequences (shrinking included), ${totals.steps} steps, ${totals.invocations} handler `
    + `invocations in ${((Date.now() - started) / 1000).toFixed(0)} s; ${failed ? 'an invariant broke (above)' : 'no invariant broke'}`);
  process.exitCode = failed ? 1 : 0;
}

void main();
