import type { Context } from '../shared/context';
import type { Ownership } from '../shared/ownership';

// RotateSecret with RotateImmediately false (a RotationSchedule's RotateImmediatelyOnUpdate: false, the construct's
// default) "tests the rotation configuration by running the testSecret step of the Lambda rotation function. The test
// creates an AWSPENDING version of the secret and then removes it" (RotateSecret, API reference). No createSecret ran
// under that token, so nothing was staged and there is nothing to test. Failing the step would be a failed rotation,
// and an onRotationFailed alert, at every deployment that turns rotation on or changes its schedule.

/**
 * Whether a testSecret is that test: its token names no version (as some emulators send it), or an AWSPENDING one
 * that holds no credential's value of its own (none at all, or a copy of a value another version records). A
 * rotation's own testSecret always follows its createSecret, which records what it staged under the token.
 */
export async function isConfigurationTest(ctx: Context, record: Ownership, token: string): Promise<boolean> {
  if (record.at(token)) return false;
  const stages = record.stagesOf(token);
  if (stages.length && !stages.includes('AWSPENDING')) return false;
  const written = (await ctx.secrets.read(ctx.budget, record.secretArn, { VersionId: token }))?.document;
  // A version a stack update took AWSPENDING from keeps its value: its token lets go with the usual error.
  if (!stages.length) return written === undefined;
  return written === undefined || !record.isAdoptable(written);
}
