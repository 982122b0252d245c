import { isConfigurationTest } from './configuration-test';
import { ROTATION_TAG, STATUS_TAG, type RotationStrategyName } from '../../src/handler-contract';
import { UserError } from '../logic/errors';
import type { Context } from '../shared/context';
import { Ownership } from '../shared/ownership';
import { finish, stage, test } from '../shared/staging';

// Secrets Manager's rotation protocol: it labels an empty version AWSPENDING under the rotation's token, then calls
// createSecret, setSecret, testSecret and finishSecret with that token, and calls again (same or new token) after
// a failure. Every step is idempotent per token.

/** The event Secrets Manager sends to a rotation function. */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: string;
}

export function isRotationEvent(event: unknown): event is RotationEvent {
  const e = event as Partial<RotationEvent> | undefined;
  return typeof e?.Step === 'string' && typeof e.SecretId === 'string' && typeof e.ClientRequestToken === 'string';
}

export async function onRotation(ctx: Context, event: RotationEvent): Promise<void> {
  const { SecretId: secretArn, ClientRequestToken: token, Step: step } = event;
  const record = await Ownership.load(ctx, secretArn);
  if (!record.rotationEnabled) throw new UserError(`Secret ${secretArn} does not have rotation turned on; nothing was changed`);
  await record.reconcile();
  const stages = record.stagesOf(token);
  // Finished already (a repeated call), or promoted by createSecret itself (RESET_IN_PLACE).
  if (stages.includes('AWSCURRENT')) {
    if (step === 'finishSecret') await record.unstage(token);
    return;
  }
  if (step === 'testSecret' && await isConfigurationTest(ctx, record, token)) {
    ctx.log(`version ${token} of secret ${secretArn} holds nothing staged: Secrets Manager's test of the rotation configuration; nothing to do`);
    return;
  }
  if (!stages.includes('AWSPENDING')) {
    throw new UserError(`Version ${token} of secret ${secretArn} is not AWSPENDING: a later rotation or stack update took its place. Nothing was changed`);
  }
  switch (step) {
    case 'createSecret':
      await stage(ctx, record, token, strategyOf(record.tags[ROTATION_TAG]), statusOf(record.tags[STATUS_TAG]));
      return;
    case 'setSecret':
      // IAM issued the credential in createSecret: it works from that moment, there is nothing to set.
      return;
    case 'testSecret':
      // The record only: finishSecret asks IAM, right before the value becomes current, where it matters.
      await test(ctx, record, token, false);
      return;
    case 'finishSecret':
      await finish(ctx, record, token);
      return;
    default:
      throw new UserError(`Unknown rotation step '${step}'`);
  }
}

function strategyOf(tag: string | undefined): RotationStrategyName {
  return tag === 'RESET_IN_PLACE' ? 'RESET_IN_PLACE' : 'ALTERNATING';
}

/** A secret deployed before the tag existed asks for what a new credential is: Active. */
function statusOf(tag: string | undefined): 'Active' | 'Inactive' {
  return tag === 'Inactive' ? 'Inactive' : 'Active';
}
