import type { ServiceSpecificCredentialMetadata } from '@aws-sdk/client-iam';
import type { Outcome } from './common';
import { STATUS_TAG, type CredentialResourceProperties as Props } from '../../src/handler-contract';
import { SecretGone, UserError, errorCode } from '../logic/errors';
import { isCredentialId } from '../logic/physical-id';
import type { Context } from '../shared/context';
import { Owned, Ownership } from '../shared/ownership';
import { hasExpired } from '../shared/renewal';

/** DELETE: every credential the secret records for this physical id, and nothing else (I3). */
export async function onDelete(ctx: Context, id: string, props: Props): Promise<Outcome> {
  // A failed CREATE answered with an id that names no credential: there is nothing of ours to delete.
  if (!isCredentialId(id)) return { physicalId: id };
  let record: Ownership;
  try {
    record = await recorded(ctx, props.SecretArn, id);
    await record.reconcile();
  } catch (err) {
    // Without its record nothing shows the credential is this stack's; one that no longer exists needs nothing.
    if (!(await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, false))) return { physicalId: id };
    throw err;
  }
  const mine = record.of(id);
  if (!mine.length) {
    ctx.log(`credential ${id} left alone: secret ${props.SecretArn} does not record it as one of this stack's`);
    return { physicalId: id };
  }
  const wasCurrent = record.current?.resourceId === id;
  // The users the record names, not the event's: the record is what this stack wrote.
  for (const owned of mine) await record.retire(owned);
  if (wasCurrent) {
    try {
      // A rotation in progress was rotating the deleted resource's value: it can only fail now, and holds AWSPENDING.
      await record.endRotation(id);
      await reinstate(ctx, record);
    } catch (err) {
      // The credential is gone, which is what was asked; a DELETE that failed now would only strand the stack.
      ctx.log(`credential ${id} deleted; could not check secret ${props.SecretArn}: ${errorCode(err)}`);
    }
  }
  return { physicalId: id };
}

/** The secret's record, read only from a secret of this stack. */
async function recorded(ctx: Context, secretArn: string, id: string): Promise<Ownership> {
  try {
    return await Ownership.load(ctx, secretArn);
  } catch (err) {
    if (!(err instanceof SecretGone)) throw err;
    throw new UserError(`${err.message}, so nothing shows that credential ${id} belongs to this stack; if it does, delete it with `
      + `'aws iam delete-service-specific-credential --service-specific-credential-id ${id} --user-name <user>' and retry`, { cause: err });
  }
}

/**
 * (I1, I4) When a stack update that replaced a credential rolls back, CloudFormation keeps the old resource and deletes the new
 * one, whose value the secret holds by then (and a rotation may have moved every other label since). The record still
 * names the old resource's credentials: the newest value among them that IAM still has becomes current again.
 */
async function reinstate(ctx: Context, record: Ownership): Promise<void> {
  let best: { owned: Owned; found: ServiceSpecificCredentialMetadata; created: number } | undefined;
  for (const owned of record.all) {
    const found = await ctx.iam.find(ctx.budget, owned.userName, owned.serviceName, owned.credentialId, false);
    if (!found) continue;
    const version = await ctx.secrets.read(ctx.budget, record.secretArn, { VersionId: owned.versionId });
    if (version && (!best || version.created > best.created)) best = { owned, found, created: version.created };
  }
  if (!best) return;
  await record.promote(best.owned.versionId);
  await restoreStatus(ctx, record, best.found);
}

/**
 * A rotation during the update may have renewed an expired key of the old resource with the status the update's tag asked
 * for. This DELETE is the rollback's cleanup, after the secret's tags were rolled back: the key current again gets the
 * status they ask for (a secret without rotation has no tag, and no rotation renewed its key).
 */
async function restoreStatus(ctx: Context, record: Ownership, key: ServiceSpecificCredentialMetadata): Promise<void> {
  const status = record.tags[STATUS_TAG];
  if ((status !== 'Active' && status !== 'Inactive') || key.Status === status || hasExpired(key)) return;
  ctx.log(`credential ${key.ServiceSpecificCredentialId} is current again: setting the status ${status} that secret ${record.secretArn} asks for`);
  await ctx.iam.setStatus(ctx.budget, key.UserName!, key.ServiceSpecificCredentialId!, status);
}
