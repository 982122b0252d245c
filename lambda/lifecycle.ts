import type { ServiceSpecificCredential, ServiceSpecificCredentialMetadata } from '@aws-sdk/client-iam';
import type { Context } from './context';
import { LimitReached, UserError, isNoSuchEntity } from './iam';
import { Owned, Ownership, ownershipIfOurs } from './ownership';
import { isCredentialId, planUpdate } from './plan';
import { errorCode } from './retry';
import { NoSlot, rotateNow } from './rotation';
import { StoredCredential, attributesOf, credentialFromDocument, daysValid, readCredential, resourceOf, secretDocument, secretOf } from './secret-value';
import { AlreadyWritten } from './secrets';
import { SecretGone } from './stack-binding';
import type { CredentialAttributes, CredentialResourceProperties as Props } from '../src/handler-contract';

/** What CloudFormation is told on success. */
export interface Outcome {
  readonly physicalId: string;
  readonly data?: CredentialAttributes;
}


// Invariant for every path: when the handler answers, either the credential does not exist or the secret holds
// its current secret value. IAM shows a secret only once, so a credential whose secret could not be stored is deleted.
//
// An UPDATE converges on what its properties ask for and changes only what differs: CloudFormation's rollback UPDATE
// repeats whatever the failed update asked for, even what never happened, and a rollback that fails strands the stack.

/**
 * @param replacing the credential this one replaces, which the secret may hold until the new one is written
 * @param resourceId the physical id to answer: a resource whose credential is gone gets a new one under its own id
 */
export async function onCreate(ctx: Context, props: Props, requestId: string, replacing?: string, resourceId?: string): Promise<Outcome> {
  const record = await Ownership.load(ctx, props.SecretArn);
  const stored = await ctx.secrets.read(ctx.budget, props.SecretArn, { VersionStage: 'AWSCURRENT' });
  // A repeated delivery of this CREATE finds its own earlier write, and answers with it instead of creating again.
  if (stored?.versionId === requestId) return outcomeOf(stored.document!, props);
  await checkNotAnother(ctx, props.SecretArn, readCredential(stored?.document), replacing, resourceId);
  let credential: ServiceSpecificCredential;
  const create = () => ctx.iam.create(ctx.budget, props.UserName, props.ServiceName, ageDays(props), mayBeNew(props));
  try {
    credential = await create();
  } catch (err) {
    // A repeated delivery of this CREATE finds the limit filled by the credential its first delivery made.
    const earlier = err instanceof LimitReached ? await earlierDelivery(ctx, props, requestId) : undefined;
    if (earlier) return earlier;
    // A resource whose current credential is gone issues a new one in its place; the slot it needs may be held by its
    // own older credential (the previous one of a pair), which gives way.
    const older = resourceId ? record.of(resourceId).filter((o) => o.userName === props.UserName && o.serviceName === props.ServiceName) : [];
    if (!(err instanceof LimitReached) || !older.length) throw err;
    for (const owned of older) await record.retire(owned);
    credential = await create();
  }
  ctx.remember(secretOf(credential));
  const id = credential.ServiceSpecificCredentialId!;
  const owner = resourceId ?? id;
  try {
    if (props.Status === 'Inactive') {
      await ctx.iam.setStatus(ctx.budget, props.UserName, id, 'Inactive', true);
    }
    // The secret is written last: on a replacement it still holds the old credential's value until nothing can fail.
    // The request id as version token: a second delivery of this event cannot write a second credential unnoticed.
    await record.write(credential, secretDocument(credential, props.ResetSerial, owner), owner, requestId);
  } catch (err) {
    await discard(ctx, props.UserName, id, err);
    const earlier = err instanceof AlreadyWritten ? await earlierDelivery(ctx, props, requestId) : undefined;
    if (earlier) return earlier;
    throw err;
  }
  // A new credential in the place of one deleted out of band: the record lets go of the one that is gone.
  const lost = resourceId && replacing ? record.of(resourceId).find((o) => o.credentialId === replacing) : undefined;
  if (lost) await record.retire(lost);
  await record.endRotation(owner);
  return { physicalId: owner, data: attributesOf(credential, props.SecretArn) };
}

export async function onUpdate(ctx: Context, physicalId: string, oldProps: Props, props: Props, requestId: string): Promise<Outcome> {
  if (!isCredentialId(physicalId)) return onCreate(ctx, props, requestId);
  const outcome = await update(ctx, physicalId, oldProps, props, requestId);
  // Moved to another secret under the same physical id: the new secret's record is the resource's now. What the old one
  // keeps alone (the older credential of a pair) is deleted, since no DELETE will come for it; what both record is
  // dropped from the old one, whose rotation must not reset a credential that has moved on.
  if (outcome.physicalId === physicalId && oldProps.SecretArn !== props.SecretArn) {
    const left = await ownershipIfOurs(ctx, oldProps.SecretArn);
    const kept = new Set((await Ownership.load(ctx, props.SecretArn)).of(physicalId).map((o) => o.credentialId));
    for (const owned of left?.of(physicalId) ?? []) await (kept.has(owned.credentialId) ? left!.forget(owned) : left!.retire(owned));
  }
  return outcome;
}

async function update(ctx: Context, physicalId: string, oldProps: Props, props: Props, requestId: string): Promise<Outcome> {
  const plan = planUpdate(oldProps, props);
  let record = await ownershipIfOurs(ctx, oldProps.SecretArn);
  await record?.reconcile();
  // The rollback of a move to another secret that failed: the secret it comes back to is the one that records it.
  if (!record?.of(physicalId).length && props.SecretArn !== oldProps.SecretArn) {
    const back = await ownershipIfOurs(ctx, props.SecretArn);
    await back?.reconcile();
    if (back?.of(physicalId).length) record = back;
  }
  // Rotation issues new credentials under the same physical id: the record says which one is current.
  const mine = record?.of(physicalId) ?? [];
  const current = record?.current?.resourceId === physicalId ? record.current : undefined;
  const id = current?.credentialId ?? mine.find((o) => o.credentialId === physicalId)?.credentialId ?? mine[0]?.credentialId ?? physicalId;
  const alternating = props.RotationStrategy === 'ALTERNATING';
  // A rotation in progress for another strategy, or for none, would finish with a credential no one asks for. (A
  // replacement ends it when it writes the new credential; the old resource keeps what it staged until its DELETE.)
  if (record && !plan.replace && (oldProps.RotationStrategy ?? '') !== (props.RotationStrategy ?? '')) await record.endRotation(physicalId);
  // The pair's older credential has no use once the pair ends, and a replacement for the same user and service needs
  // its slot. A replacement for another user keeps it: the old resource stays whole until its own DELETE.
  const sameSlot = oldProps.UserName === props.UserName && oldProps.ServiceName === props.ServiceName;
  if (record && (plan.replace ? sameSlot : oldProps.RotationStrategy === 'ALTERNATING' && !alternating)) {
    for (const owned of record.of(physicalId)) if (owned.credentialId !== id) await record.retire(owned);
  }
  let listed: ServiceSpecificCredentialMetadata | undefined;
  if (plan.replace) {
    // The rollback UPDATE after a failed replacement names the credential that never went away, and it fits.
    listed = await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props));
    if (!listed || daysValid(listed) !== ageDays(props)) {
      // (I3, I4) A new physical id tells CloudFormation to DELETE the old one once the stack update succeeds. A resource that
      // records no credential for the old properties (the rollback of a replacement that failed, whose own credential
      // was discarded, after the original one was deleted out of band) has nothing to clean up: it keeps its id, and
      // a rollback never gets a new one.
      if (mine.some((o) => recordedFor(o, oldProps))) return onCreate(ctx, props, requestId, id);
      const outcome = await onCreate(ctx, props, requestId, id, physicalId);
      for (const owned of mine) await record!.retire(owned);
      return outcome;
    }
  }
  let credential: ServiceSpecificCredentialMetadata | undefined;
  if (plan.reset && !(await holdsValue(ctx, oldProps, props, id, physicalId))) {
    // A move to another secret is a reset into it, for a pair too: the pair forms again at the next rotation.
    credential = alternating && oldProps.SecretArn === props.SecretArn
      // Without a free slot for the pair's new credential, the current one gets a new value (a rollback must succeed).
      ? await rotateNow(ctx, props.SecretArn, requestId, props.ResetSerial, physicalId).catch((err) => {
        if (!(err instanceof NoSlot)) throw err;
        ctx.log(`${err.message}; resetting the current credential in place instead`);
        return reset(ctx, props, id, physicalId);
      })
      : await reset(ctx, props, id, physicalId);
    if (!credential) return onCreate(ctx, props, requestId, id, physicalId);
  }
  credential ??= listed ?? await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props));
  // Deleted out of band (IAM's NoSuchEntity does not say what is missing; the List above did): a new one takes its
  // place, under the same physical id.
  if (!credential) return onCreate(ctx, props, requestId, id, physicalId);
  // Only a status the properties changed: an expired API key (status Expired) cannot be activated, and is left alone.
  if (plan.statusChange) {
    // Every credential of the resource: the previous one of an ALTERNATING pair still works until the next rotation.
    const currentId = credential.ServiceSpecificCredentialId;
    const others = (await ownershipIfOurs(ctx, props.SecretArn))?.of(physicalId).filter((o) => o.credentialId !== currentId) ?? [];
    for (const c of [credential, ...others]) {
      const found = c === credential ? credential
        : await ctx.iam.find(ctx.budget, (c as Owned).userName, (c as Owned).serviceName, (c as Owned).credentialId, false);
      if (!found || found.Status === props.Status) continue;
      try {
        await ctx.iam.setStatus(ctx.budget, found.UserName ?? props.UserName, found.ServiceSpecificCredentialId!, props.Status);
      } catch (err) {
        if (c === credential && await gone(ctx, props, id, err)) return onCreate(ctx, props, requestId, id, physicalId);
        if (c !== credential && isNoSuchEntity(err)) continue;
        throw err;
      }
    }
  }
  return { physicalId, data: attributesOf(credential, props.SecretArn) };
}

/** Whether a recorded credential was issued for these properties' user, service and age (an unknown age matches any). */
function recordedFor(owned: Owned, props: Props): boolean {
  return owned.userName === props.UserName && owned.serviceName === props.ServiceName
    && (owned.ageDays === undefined || owned.ageDays === (ageDays(props) ?? null));
}

/** What one of this stack's secrets holds as current; undefined if it holds no credential, is gone or is not the stack's. */
async function currentOwned(ctx: Context, secretArn: string): Promise<{ credential: StoredCredential; created: number } | undefined> {
  if (!(await ownershipIfOurs(ctx, secretArn))) return undefined;
  const version = await ctx.secrets.read(ctx.budget, secretArn, { VersionStage: 'AWSCURRENT' });
  const credential = readCredential(version?.document);
  return credential ? { credential, created: version!.created } : undefined;
}

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

/**
 * Whether the secret already holds this credential's current value, issued for the resetSerial asked for. When the
 * update also moves the credential to another secret (a new secretName), a rollback comes back to a secret whose
 * value a reset into the other one may have killed: the newer value of the two is the current one.
 */
async function holdsValue(ctx: Context, oldProps: Props, props: Props, id: string, resourceId: string): Promise<boolean> {
  const moved = oldProps.SecretArn !== props.SecretArn;
  await Ownership.load(ctx, props.SecretArn);
  const now = await currentOwned(ctx, props.SecretArn);
  await checkNotAnother(ctx, props.SecretArn, now?.credential, id, resourceId);
  if (now?.credential.ServiceSpecificCredentialId !== id || now.credential.ResetSerial !== props.ResetSerial) return false;
  if (resourceOf(now.credential) !== resourceId && now.credential.ServiceSpecificCredentialId !== resourceId) return false;
  if (!moved) return true;
  const old = await currentOwned(ctx, oldProps.SecretArn);
  return !(old?.credential.ServiceSpecificCredentialId === id && old.created > now.created);
}

/**
 * A secret holds one credential. An event that would write another into a secret that holds a credential which still
 * exists (and is not the one being replaced) did not come from this construct's CloudFormation: whoever reads that
 * secret would get a credential that is not theirs.
 */
async function checkNotAnother(
  ctx: Context, secretArn: string, stored: StoredCredential | undefined, allowed?: string, resourceId?: string,
): Promise<void> {
  // The resource's own credentials are not another's: the previous one of a pair, when a move between secrets rolls back.
  if (!stored || stored.ServiceSpecificCredentialId === allowed || (resourceId && resourceOf(stored) === resourceId)) return;
  const { UserName, ServiceName, ServiceSpecificCredentialId: other } = stored;
  if (await ctx.iam.find(ctx.budget, UserName!, ServiceName!, other!, false)) {
    throw new UserError(`Secret ${secretArn} holds credential ${other} of IAM user '${UserName}', which still exists: `
      + 'the handler writes no other credential into it. Nothing was changed');
  }
}

/** A new secret value for the credential, stored before anything else can fail; undefined when the credential is gone. */
async function reset(ctx: Context, props: Props, id: string, resourceId: string): Promise<ServiceSpecificCredential | undefined> {
  let credential: ServiceSpecificCredential;
  try {
    credential = await ctx.iam.reset(ctx.budget, props.UserName, id);
  } catch (err) {
    if (await gone(ctx, props, id, err)) return undefined;
    throw err;
  }
  ctx.remember(secretOf(credential));
  const record = await Ownership.load(ctx, props.SecretArn);
  try {
    await record.write(credential, secretDocument(credential, props.ResetSerial, resourceId), resourceId);
  } catch (err) {
    // The reset already made the old secret invalid and the new one was never stored.
    await discard(ctx, props.UserName, id, err);
    throw err;
  }
  await record.endRotation(resourceId);
  return credential;
}

/** Whether `err` means the credential no longer exists: asked of IAM, since its NoSuchEntity wordings are not documented. */
async function gone(ctx: Context, props: Props, id: string, err: unknown): Promise<boolean> {
  return isNoSuchEntity(err) && !(await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props)));
}

/** Whether the user may be one this deployment made, which IAM may not show for a while: not when the stack imports it. */
function mayBeNew(props: Props): boolean {
  return props.UserExists !== 'true';
}

/** The secret's record, read only from a secret of this stack. */
async function recorded(ctx: Context, secretArn: string, id: string): Promise<Ownership> {
  try {
    return await Ownership.load(ctx, secretArn);
  } catch (err) {
    if (!(err instanceof SecretGone)) throw err;
    throw new UserError(`${err.message}, so nothing shows that credential ${id} belongs to this stack; if it does, delete it with `
      + `'aws iam delete-service-specific-credential --service-specific-credential-id ${id} --user-name <user>' and retry`);
  }
}

/**
 * (I1, I4) When a stack update that replaced a credential rolls back, CloudFormation keeps the old resource and deletes the new
 * one, whose value the secret holds by then (and a rotation may have moved every other label since). The record still
 * names the old resource's credentials: the newest value among them that IAM still has becomes current again.
 */
async function reinstate(ctx: Context, record: Ownership): Promise<void> {
  let best: { versionId: string; created: number } | undefined;
  for (const owned of record.all) {
    if (!(await ctx.iam.find(ctx.budget, owned.userName, owned.serviceName, owned.credentialId, false))) continue;
    const version = await ctx.secrets.read(ctx.budget, record.secretArn, { VersionId: owned.versionId });
    if (version && (!best || version.created > best.created)) best = { versionId: owned.versionId, created: version.created };
  }
  if (best) await record.promote(best.versionId);
}

export function ageDays(props: Props): number | undefined {
  return props.CredentialAgeDays ? Number(props.CredentialAgeDays) : undefined;
}

/** The outcome an earlier delivery of the same CREATE stored in the secret, if there was one. */
async function earlierDelivery(ctx: Context, props: Props, requestId: string): Promise<Outcome | undefined> {
  const version = await ctx.secrets.read(ctx.cleanupBudget(), props.SecretArn, { VersionId: requestId });
  return version?.document ? outcomeOf(version.document, props) : undefined;
}

function outcomeOf(document: string, props: Props): Outcome {
  const credential = credentialFromDocument(document);
  return { physicalId: credential.ServiceSpecificCredentialId!, data: attributesOf(credential, props.SecretArn) };
}

/** Deletes a credential whose secret nobody holds; if even that fails, the error says what to delete by hand. */
export async function discard(ctx: Context, userName: string, id: string, cause: unknown): Promise<void> {
  try {
    await ctx.iam.delete(ctx.cleanupBudget(), userName, id);
  } catch (err) {
    throw new UserError(`${(cause as Error).message}; deleting credential ${id} of IAM user '${userName}' `
      + `failed too (${errorCode(err)}): delete it with 'aws iam delete-service-specific-credential'`);
  }
}
