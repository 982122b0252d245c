import type { ServiceSpecificCredential, ServiceSpecificCredentialMetadata } from '@aws-sdk/client-iam';
import { Iam, LimitReached, UserError, isNoSuchEntity } from './iam';
import { isCredentialId, planUpdate } from './plan';
import { Recorded, current, labelled, ofResource, prune } from './records';
import { Budget, errorCode } from './retry';
import { rotateNow } from './rotation';
import { StoredCredential, attributesOf, credentialFromDocument, readCredential, resourceOf, secretDocument, secretOf } from './secret-value';
import { AlreadyWritten, Secrets } from './secrets';
import { SecretGone, checkSecretOwned } from './stack-binding';
import type { CredentialAttributes, CredentialResourceProperties as Props } from '../src/handler-contract';

/** What CloudFormation is told on success. */
export interface Outcome {
  readonly physicalId: string;
  readonly data?: CredentialAttributes;
}

export interface Context {
  readonly iam: Iam;
  readonly secrets: Secrets;
  /** Until CloudFormation must be answered. */
  readonly budget: Budget;
  /** A short budget of its own, for undoing work after the main one ran out. */
  readonly cleanupBudget: () => Budget;
  /** Registers a secret value so that no message can carry it. */
  readonly remember: (secret: string | undefined) => void;
  readonly log: (line: string) => void;
  /** The handler's own stack: only its secrets are written, only the credentials they record are deleted. */
  readonly stackId: string;
  /** The secrets found to be this stack's during this invocation. */
  readonly ownedSecrets: Set<string>;
}

// Invariant for every path: when the handler answers, either the credential does not exist or the secret holds
// its current secret value. IAM shows a secret only once, so a credential whose secret could not be stored is deleted.
//
// An UPDATE converges on what its properties ask for and changes only what differs: CloudFormation's rollback UPDATE
// repeats whatever the failed update asked for, even what never happened, and a rollback that fails strands the stack.

/** @param replacing the credential this one replaces, which the secret may hold until the new one is written */
export async function onCreate(ctx: Context, props: Props, requestId: string, replacing?: string): Promise<Outcome> {
  await checkSecretOwned(ctx, props.SecretArn);
  const stored = await ctx.secrets.read(ctx.budget, props.SecretArn, { VersionStage: 'AWSCURRENT' });
  // A repeated delivery of this CREATE finds its own earlier write, and answers with it instead of creating again.
  if (stored?.versionId === requestId) return outcomeOf(stored.document!, props);
  await checkNotAnother(ctx, props.SecretArn, readCredential(stored?.document), replacing);
  let credential: ServiceSpecificCredential;
  try {
    credential = await ctx.iam.create(ctx.budget, props.UserName, props.ServiceName, ageDays(props), mayBeNew(props));
  } catch (err) {
    // A repeated delivery of this CREATE finds the limit filled by the credential its first delivery made.
    const earlier = err instanceof LimitReached ? await earlierDelivery(ctx, props, requestId) : undefined;
    if (earlier) return earlier;
    throw err;
  }
  ctx.remember(secretOf(credential));
  const id = credential.ServiceSpecificCredentialId!;
  try {
    if (props.Status === 'Inactive') {
      await ctx.iam.setStatus(ctx.budget, props.UserName, id, 'Inactive', true);
    }
    // The secret is written last: on a replacement it still holds the old credential's value until nothing can fail.
    // The request id as version token: a second delivery of this event cannot write a second credential unnoticed.
    await ctx.secrets.put(ctx.budget, props.SecretArn, secretDocument(credential, props.ResetSerial), requestId);
  } catch (err) {
    await discard(ctx, props.UserName, id, err);
    const earlier = err instanceof AlreadyWritten ? await earlierDelivery(ctx, props, requestId) : undefined;
    if (earlier) return earlier;
    throw err;
  }
  return { physicalId: id, data: attributesOf(credential, props.SecretArn) };
}

export async function onUpdate(ctx: Context, physicalId: string, oldProps: Props, props: Props, requestId: string): Promise<Outcome> {
  if (!isCredentialId(physicalId)) return onCreate(ctx, props, requestId);
  const plan = planUpdate(oldProps, props);
  // Rotation issues new credentials under the same physical id: the secret says which one is current.
  const now = await currentOwned(ctx, oldProps.SecretArn);
  const id = now && resourceOf(now.credential) === physicalId ? now.credential.ServiceSpecificCredentialId! : physicalId;
  const alternating = props.RotationStrategy === 'ALTERNATING';
  // The pair's older credential has no use once the pair ends, and a replacement needs its slot.
  if (oldProps.RotationStrategy === 'ALTERNATING' && (plan.replace || !alternating)) await prune(ctx, oldProps.SecretArn, physicalId, id, now);
  let listed: ServiceSpecificCredentialMetadata | undefined;
  if (plan.replace) {
    // The rollback UPDATE after a failed replacement names the credential that never went away, and it fits.
    listed = await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props));
    // ...and, when the pair moved between secrets, the secret asked for holds it.
    const inPlace = oldProps.SecretArn === props.SecretArn
      || (await currentOwned(ctx, props.SecretArn))?.credential.ServiceSpecificCredentialId === id;
    // A new physical id tells CloudFormation to DELETE the old one once the stack update succeeds.
    if (!listed || daysValid(listed) !== ageDays(props) || !inPlace) return onCreate(ctx, props, requestId, id);
  }
  let credential: ServiceSpecificCredentialMetadata | undefined;
  if (plan.reset && !(await holdsValue(ctx, oldProps, props, id, now))) {
    credential = alternating ? await rotateNow(ctx, props.SecretArn, requestId, props.ResetSerial) : await reset(ctx, props, id, physicalId);
    if (!credential) return onCreate(ctx, props, requestId, id);
  }
  credential ??= listed ?? await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, mayBeNew(props));
  // Deleted out of band (IAM's NoSuchEntity does not say what is missing; the List above did): a new one takes its place.
  if (!credential) return onCreate(ctx, props, requestId, id);
  // Only a status the properties changed: an expired API key (status Expired) cannot be activated, and is left alone.
  if (plan.statusChange) {
    // Both credentials of an ALTERNATING pair: the previous one still works until the next rotation.
    const known = oldProps.SecretArn === props.SecretArn && !plan.reset ? now : undefined;
    const pair = alternating ? ofResource(await labelled(ctx, props.SecretArn, known), physicalId).map((r) => r.credential) : [];
    for (const c of [credential, ...pair.filter((p) => p.ServiceSpecificCredentialId !== credential!.ServiceSpecificCredentialId)]) {
      const found = c === credential ? credential
        : await ctx.iam.find(ctx.budget, c.UserName!, c.ServiceName!, c.ServiceSpecificCredentialId!, false);
      if (!found || found.Status === props.Status) continue;
      try {
        await ctx.iam.setStatus(ctx.budget, props.UserName, found.ServiceSpecificCredentialId!, props.Status);
      } catch (err) {
        if (c === credential && await gone(ctx, props, id, err)) return onCreate(ctx, props, requestId, id);
        if (c !== credential && isNoSuchEntity(err)) continue;
        throw err;
      }
    }
  }
  return { physicalId, data: attributesOf(credential, props.SecretArn) };
}

/** What one of this stack's secrets holds as current; undefined if it holds no credential, is gone or is not the stack's. */
async function currentOwned(ctx: Context, secretArn: string): Promise<Recorded | undefined> {
  try {
    await checkSecretOwned(ctx, secretArn);
    return await current(ctx, secretArn);
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
}

export async function onDelete(ctx: Context, id: string, props: Props): Promise<Outcome> {
  // A failed CREATE answered with an id that names no credential: there is nothing of ours to delete.
  if (!isCredentialId(id)) return { physicalId: id };
  let all: Recorded[];
  try {
    all = await recorded(ctx, props.SecretArn, id);
  } catch (err) {
    // Without its record nothing shows the credential is this stack's; one that no longer exists needs nothing.
    if (!(await ctx.iam.find(ctx.budget, props.UserName, props.ServiceName, id, false))) return { physicalId: id };
    throw err;
  }
  const records = ofResource(all, id);
  if (!records.length) {
    ctx.log(`credential ${id} left alone: secret ${props.SecretArn} does not record it as one of this stack's`);
    return { physicalId: id };
  }
  // The users the records name, not the event's: the records are what this stack wrote.
  for (const { credential } of records) await ctx.iam.delete(ctx.budget, credential.UserName!, credential.ServiceSpecificCredentialId!);
  if (records.some((r) => r.stage === 'AWSCURRENT')) {
    try {
      await reinstate(ctx, props.SecretArn, id, all.find((r) => r.stage === 'AWSPREVIOUS'));
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
async function holdsValue(ctx: Context, oldProps: Props, props: Props, id: string, old: Recorded | undefined): Promise<boolean> {
  const moved = oldProps.SecretArn !== props.SecretArn;
  await checkSecretOwned(ctx, props.SecretArn);
  const now = moved ? await current(ctx, props.SecretArn) : old;
  await checkNotAnother(ctx, props.SecretArn, now?.credential, id);
  if (now?.credential.ServiceSpecificCredentialId !== id || now.credential.ResetSerial !== props.ResetSerial) return false;
  return !(moved && old?.credential.ServiceSpecificCredentialId === id && old.created > now.created);
}

/**
 * A secret holds one credential. An event that would write another into a secret that holds a credential which still
 * exists (and is not the one being replaced) did not come from this construct's CloudFormation: whoever reads that
 * secret would get a credential that is not theirs.
 */
async function checkNotAnother(ctx: Context, secretArn: string, stored: StoredCredential | undefined, allowed?: string): Promise<void> {
  if (!stored || stored.ServiceSpecificCredentialId === allowed) return;
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
  try {
    await ctx.secrets.put(ctx.budget, props.SecretArn, secretDocument(credential, props.ResetSerial, resourceId));
  } catch (err) {
    // The reset already made the old secret invalid and the new one was never stored.
    await discard(ctx, props.UserName, id, err);
    throw err;
  }
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

/**
 * The secret's record of credentials, read only from a secret of this stack. A credential a stack replaced is in the
 * previous value until the replacement's cleanup has deleted it.
 */
async function recorded(ctx: Context, secretArn: string, id: string): Promise<Recorded[]> {
  try {
    await checkSecretOwned(ctx, secretArn);
  } catch (err) {
    if (!(err instanceof SecretGone)) throw err;
    throw new UserError(`${err.message}, so nothing shows that credential ${id} belongs to this stack; if it does, delete it with `
      + `'aws iam delete-service-specific-credential --service-specific-credential-id ${id} --user-name <user>' and retry`);
  }
  return labelled(ctx, secretArn);
}

/**
 * When a stack update that replaced a credential rolls back, CloudFormation keeps the old credential and deletes
 * the new one, whose value the secret holds by then. The version before it is the old credential's: if that one
 * still exists, its value becomes current again.
 */
async function reinstate(ctx: Context, secretArn: string, deletedResource: string, previous: Recorded | undefined): Promise<void> {
  if (!previous || resourceOf(previous.credential) === deletedResource) return;
  const { UserName, ServiceName, ServiceSpecificCredentialId } = previous.credential;
  if (await ctx.iam.find(ctx.budget, UserName!, ServiceName!, ServiceSpecificCredentialId!, false)) {
    await ctx.secrets.put(ctx.budget, secretArn, previous.document);
  }
}

export function ageDays(props: Props): number | undefined {
  return props.CredentialAgeDays ? Number(props.CredentialAgeDays) : undefined;
}

/** How many days the credential was issued for (IAM cannot change it, so a different age means a replacement). */
export function daysValid(found: ServiceSpecificCredentialMetadata): number | undefined {
  return found.ExpirationDate && found.CreateDate
    ? Math.round((found.ExpirationDate.getTime() - found.CreateDate.getTime()) / 86_400_000)
    : undefined;
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
