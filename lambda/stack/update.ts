import type { ServiceSpecificCredential, ServiceSpecificCredentialMetadata } from '@aws-sdk/client-iam';
import { Outcome, ageDays, checkNotAnother, mayBeNew } from './common';
import { onCreate } from './create';
import type { CredentialResourceProperties as Props } from '../../src/handler-contract';
import { isNoSuchEntity } from '../aws/iam';
import { ExplicitlyDenied, NoSlot, OutOfTime, StillDenied } from '../logic/errors';
import { isCredentialId } from '../logic/physical-id';
import { UpdatePlan, planUpdate } from '../logic/plan';
import { StoredCredential, attributesOf, daysValid, readCredential, resourceOf, secretDocument, secretOf } from '../logic/secret-value';
import type { Context } from '../shared/context';
import { Owned, Ownership, ownershipIfOurs } from '../shared/ownership';
import { hasExpired } from '../shared/renewal';
import { discard, rotateNow } from '../shared/staging';

// An UPDATE converges on what its properties ask for and changes only what differs: CloudFormation's rollback UPDATE
// repeats whatever the failed update asked for, even what never happened, and a rollback that fails strands the stack.

/** The resource's credentials, as the record of the secret that holds them shows them. */
interface Resource {
  readonly physicalId: string;
  readonly record?: Ownership;
  readonly mine: Owned[];
  /** The credential in use: rotation issues new credentials under the same physical id. */
  readonly id: string;
}

/** A credential that is in use, or undefined when it was deleted outside CloudFormation. */
type Live = ServiceSpecificCredential | ServiceSpecificCredentialMetadata | StoredCredential | undefined;

export async function onUpdate(ctx: Context, physicalId: string, oldProps: Props, props: Props, requestId: string): Promise<Outcome> {
  // The id of a CREATE that failed names no credential: there is none to update.
  if (!isCredentialId(physicalId)) return onCreate(ctx, props, requestId);
  const plan = planUpdate(oldProps, props);
  const resource = await locate(ctx, physicalId, oldProps, props);
  await tidy(resource, plan, oldProps, props);
  // A credential deleted out of band (IAM's NoSuchEntity does not say what is missing; a List did) gets a new one in its
  // place, under the same physical id.
  const outcome = await converge(ctx, resource, plan, oldProps, props, requestId)
    ?? await onCreate(ctx, props, requestId, resource.id, physicalId, resource.record);
  if (outcome.physicalId === physicalId && oldProps.SecretArn !== props.SecretArn) await leave(ctx, physicalId, oldProps, props);
  return outcome;
}

/** @returns undefined when the credential in use no longer exists */
async function converge(
  ctx: Context, resource: Resource, plan: UpdatePlan, oldProps: Props, props: Props, requestId: string,
): Promise<Outcome | undefined> {
  const { physicalId, id } = resource;
  let credential: Live;
  if (plan.replace) {
    // The rollback UPDATE after a failed replacement names the credential that never went away, and it fits.
    credential = await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props));
    if (!credential || daysValid(credential) !== ageDays(props)) return replace(ctx, resource, oldProps, props, requestId);
    // No replacement after all: what a change of strategy ends (see tidy), it ends here.
    if (strategyChanged(oldProps, props)) await resource.record?.endRotation(physicalId);
  }
  if (plan.reset && !(await holdsValue(ctx, oldProps, props, id, physicalId))) {
    credential = await renew(ctx, resource, oldProps, props, requestId);
  } else {
    credential ??= await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props));
  }
  if (!credential || (plan.statusChange && !(await setStatus(ctx, resource, credential, props)))) return undefined;
  return { physicalId, data: attributesOf(credential, props.SecretArn) };
}

/** The record that holds the resource's credentials, and which one is in use. */
async function locate(ctx: Context, physicalId: string, oldProps: Props, props: Props): Promise<Resource> {
  let record = await ownershipIfOurs(ctx, oldProps.SecretArn);
  await record?.reconcile();
  // The rollback of a move to another secret that failed: the secret it comes back to is the one that records it.
  if (!record?.of(physicalId).length && props.SecretArn !== oldProps.SecretArn) {
    const back = await ownershipIfOurs(ctx, props.SecretArn);
    await back?.reconcile();
    if (back?.of(physicalId).length) record = back;
  }
  const mine = record?.of(physicalId) ?? [];
  const current = record?.current?.resourceId === physicalId ? record.current : undefined;
  const id = current?.credentialId ?? mine.find((o) => o.credentialId === physicalId)?.credentialId ?? mine[0]?.credentialId ?? physicalId;
  return { physicalId, record, mine, id };
}

/** What the new properties leave without a use, before anything new is issued. */
async function tidy({ physicalId, record, id }: Resource, plan: UpdatePlan, oldProps: Props, props: Props): Promise<void> {
  if (!record) return;
  // A rotation in progress for another strategy, or for none, would finish with a credential no one asks for. (A
  // replacement ends it when it writes the new credential; the old resource keeps what it staged until its DELETE.)
  if (!plan.replace && strategyChanged(oldProps, props)) await record.endRotation(physicalId);
  // The pair's older credential has no use once the pair ends, and a replacement for the same user and service needs
  // its slot. A replacement for another user keeps it: the old resource stays whole until its own DELETE.
  const sameSlot = oldProps.UserName === props.UserName && oldProps.ServiceName === props.ServiceName;
  const pairEnds = oldProps.RotationStrategy === 'ALTERNATING' && props.RotationStrategy !== 'ALTERNATING';
  if (plan.replace ? sameSlot : pairEnds) {
    for (const owned of record.of(physicalId)) if (owned.credentialId !== id) await record.retire(owned);
  }
}

/**
 * (I3, I4) A new credential for a new user, service or age. A new physical id tells CloudFormation to DELETE the old one
 * once the stack update succeeds. A resource that records no credential for the old properties (the rollback of a
 * replacement that failed, whose own credential was discarded, after the original one was deleted out of band) has
 * nothing to clean up: it keeps its id, and a rollback never gets a new one.
 */
async function replace(ctx: Context, { physicalId, record, mine, id }: Resource, oldProps: Props, props: Props, requestId: string): Promise<Outcome> {
  if (mine.some((o) => recordedFor(o, oldProps))) return onCreate(ctx, props, requestId, id);
  const outcome = await onCreate(ctx, props, requestId, id, physicalId);
  for (const owned of mine) await record?.retire(owned);
  return outcome;
}

/** A new secret value, for a new resetSerial or a move to another secret; undefined when the credential is gone. */
async function renew(ctx: Context, { physicalId, id }: Resource, oldProps: Props, props: Props, requestId: string): Promise<Live> {
  // A move to another secret is a reset into it, for a pair too: the pair forms again at the next rotation.
  if (props.RotationStrategy !== 'ALTERNATING' || oldProps.SecretArn !== props.SecretArn) return reset(ctx, props, id, physicalId);
  try {
    return await rotateNow(ctx, props.SecretArn, requestId, props.ResetSerial, physicalId, props.Status);
  } catch (err) {
    // Without a free slot for the pair's new credential, the current one gets a new value (a rollback must succeed).
    if (!(err instanceof NoSlot)) throw err;
    ctx.log(`${err.message}; resetting the current credential in place instead`);
    return reset(ctx, props, id, physicalId);
  }
}

/**
 * A new secret value for the credential, stored before anything else can fail; undefined when the credential is gone or
 * has expired (an expired key cannot be reset): the caller issues a new one in its place.
 */
async function reset(ctx: Context, props: Props, id: string, resourceId: string): Promise<ServiceSpecificCredential | undefined> {
  let credential: ServiceSpecificCredential;
  try {
    credential = await ctx.iam.reset(ctx.budget, props.UserName, id);
  } catch (err) {
    if (await goneOrExpired(ctx, props, id, err)) return undefined;
    throw err;
  }
  ctx.remember(secretOf(credential));
  // Should IAM ever reset an expired key, its new value would be of no use.
  if (hasExpired(credential)) return undefined;
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

/**
 * The status the properties ask for, on every credential of the resource: the previous one of an ALTERNATING pair still
 * works until the next rotation. Only a status the properties changed. An expired API key is left alone: IAM cannot set
 * its status, and activating it would not make it work; a new resetSerial (or a rotation) renews it.
 * @returns false when the credential in use no longer exists
 */
async function setStatus(ctx: Context, { physicalId, id }: Resource, credential: NonNullable<Live>, props: Props): Promise<boolean> {
  const currentId = credential.ServiceSpecificCredentialId;
  const others = (await ownershipIfOurs(ctx, props.SecretArn))?.of(physicalId).filter((o) => o.credentialId !== currentId) ?? [];
  for (const c of [credential, ...others]) {
    const found = c === credential ? credential
      : await ctx.iam.find(ctx.budget, (c as Owned).userName, (c as Owned).serviceName, (c as Owned).credentialId, false);
    if (!found || found.Status === props.Status) continue;
    if (hasExpired(found)) {
      ctx.log(`credential ${found.ServiceSpecificCredentialId} has expired: its status is left as it is`);
      continue;
    }
    try {
      await ctx.iam.setStatus(ctx.budget, found.UserName ?? props.UserName, found.ServiceSpecificCredentialId!, props.Status);
    } catch (err) {
      if (c === credential && await gone(ctx, props, id, err)) return false;
      if (c !== credential && isNoSuchEntity(err)) continue;
      // It expired after it was listed.
      if (answered(err) && hasExpired(await ctx.iam.find(ctx.budget, found.UserName ?? props.UserName, found.ServiceName ?? props.ServiceName,
        found.ServiceSpecificCredentialId!, false))) continue;
      throw err;
    }
  }
  return true;
}

/**
 * Moved to another secret under the same physical id: the new secret's record is the resource's now. What the old one
 * keeps alone (the older credential of a pair) is deleted, since no DELETE will come for it; what both record is dropped
 * from the old one, whose rotation must not reset a credential that has moved on.
 */
async function leave(ctx: Context, physicalId: string, oldProps: Props, props: Props): Promise<void> {
  const left = await ownershipIfOurs(ctx, oldProps.SecretArn);
  const kept = new Set((await Ownership.load(ctx, props.SecretArn)).of(physicalId).map((o) => o.credentialId));
  for (const owned of left?.of(physicalId) ?? []) await (kept.has(owned.credentialId) ? left!.forget(owned) : left!.retire(owned));
}

function strategyChanged(oldProps: Props, props: Props): boolean {
  return (oldProps.RotationStrategy ?? '') !== (props.RotationStrategy ?? '');
}

/** Whether a recorded credential was issued for these properties' user, service and age (an unknown age matches any). */
function recordedFor(owned: Owned, props: Props): boolean {
  return owned.userName === props.UserName && owned.serviceName === props.ServiceName
    && (owned.ageDays === undefined || owned.ageDays === (ageDays(props) ?? null));
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

/** What one of this stack's secrets holds as current; undefined if it holds no credential, is gone or is not the stack's. */
async function currentOwned(ctx: Context, secretArn: string): Promise<{ credential: StoredCredential; created: number } | undefined> {
  if (!(await ownershipIfOurs(ctx, secretArn))) return undefined;
  const version = await ctx.secrets.read(ctx.budget, secretArn, { VersionStage: 'AWSCURRENT' });
  const credential = readCredential(version?.document);
  return credential ? { credential, created: version!.created } : undefined;
}

/** Whether `err` means the credential no longer exists: asked of IAM, since its NoSuchEntity wordings are not documented. */
async function gone(ctx: Context, props: Props, id: string, err: unknown): Promise<boolean> {
  return isNoSuchEntity(err) && !(await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props)));
}

/**
 * Whether a reset IAM refused was of a credential that no longer exists, or of a key that has expired: asked of IAM,
 * since neither its code nor its wording for an expired key is documented. An expired key needs no reset, so a denied
 * reset (a policy that forbids resets) of one is renewed too; only a call that ran out of time leaves no time to ask.
 */
async function goneOrExpired(ctx: Context, props: Props, id: string, err: unknown): Promise<boolean> {
  if (err instanceof OutOfTime) return false;
  const found = await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props));
  return found ? hasExpired(found) : answered(err) && isNoSuchEntity(err);
}

/** Whether IAM answered about the credential: a call that ran out of time or was denied says nothing about it. */
function answered(err: unknown): boolean {
  return !(err instanceof OutOfTime || err instanceof StillDenied || err instanceof ExplicitlyDenied);
}
