import type { ServiceSpecificCredential, ServiceSpecificCredentialMetadata } from '@aws-sdk/client-iam';
import type { Context } from './context';
import { Owned, Ownership } from './ownership';
import { createInPlaceOf, hasExpired } from './renewal';
import type { RotationStrategyName } from '../../src/handler-contract';
import { AlreadyWritten, LimitReached, NoSlot, UserError, errorCode } from '../logic/errors';
import { StoredCredential, credentialFromDocument, daysValid, readCredential, resourceOf, secretDocument, secretOf } from '../logic/secret-value';

// Issuing a new value into a version of the secret, as Secrets Manager's rotation protocol does it: createSecret stages
// it (stage), testSecret and finishSecret check it (test) and make it current (finish). The rotation path runs these for
// Secrets Manager's steps; the stack path runs them at once for a new resetSerial with ALTERNATING rotation (rotateNow).
// A credential is issued only into a version of the secret together with its record (ownership.ts), and a token whose
// version no longer holds its credential's newest value never finishes: a stack update wrote a newer one.

/**
 * A rotation requested by the stack (a new resetSerial with ALTERNATING rotation): the same steps, run at once under
 * the request's id. Staging its version AWSPENDING takes the label from any scheduled rotation in progress, whose
 * staged credential it deletes first; that rotation then stops at its next step without changing anything.
 * @returns undefined when the current credential no longer exists: the stack issues a new one in its place
 */
export async function rotateNow(
  ctx: Context, secretArn: string, token: string, resetSerial: string, resourceId: string, status: Status,
): Promise<StoredCredential | undefined> {
  const record = await Ownership.load(ctx, secretArn);
  const issued = await stage(ctx, record, token, 'ALTERNATING', status, resetSerial, resourceId);
  if (!issued) return undefined;
  try {
    await finish(ctx, record, token);
  } catch (err) {
    // No Secrets Manager rotation will ever retry the stack's token: what it staged goes, or AWSPENDING would block every
    // later rotation.
    const staged = record.at(token);
    if (staged && !record.stagesOf(token).includes('AWSCURRENT')) {
      await record.retire(staged).catch((e) => ctx.log(`could not delete credential ${staged.credentialId} staged in version ${token}: ${errorCode(e)}`));
    }
    throw err;
  }
  return issued;
}

/**
 * (I1, I2) finishSecret: the staged version becomes current, and AWSPENDING leaves it. Only a version that still holds its
 * credential's newest value, for the resource whose value is current: anything else was superseded by a stack
 * update, and promoting it would make a value current that IAM no longer accepts or that the stack replaced.
 */
export async function finish(ctx: Context, record: Ownership, token: string): Promise<void> {
  const staged = await test(ctx, record, token);
  const current = record.current;
  if (current && resourceOf(staged) !== current.resourceId) {
    throw new UserError(`Version ${token} of secret ${record.secretArn} was staged for ${resourceOf(staged)}, which a stack update has `
      + `replaced with ${current.resourceId}. Nothing was changed`);
  }
  await record.promote(token);
  await record.unstage(token);
}

/** The status a new credential gets. */
export type Status = 'Active' | 'Inactive';

/**
 * createSecret: a new value for the token's version, unless a repeated call finds it written.
 * @param status what the stack asks for: the status of a key issued in place of an expired one, whose own status IAM no
 * longer shows
 * @param resourceId the resource the stack says is rotating; a scheduled rotation rotates whichever holds AWSCURRENT
 * @returns the credential the token's version holds; undefined when the current credential no longer exists
 */
export async function stage(
  ctx: Context, record: Ownership, token: string, strategy: RotationStrategyName, status: Status, resetSerial?: string, resourceId?: string,
): Promise<StoredCredential | undefined> {
  // A repeated call finds its value written. A value whose record has moved on was superseded by a stack update: the
  // token lets go of AWSPENDING and fails, and the next rotation starts afresh; running again would issue a second value
  // under a token that names one version for ever.
  const written = (await ctx.secrets.read(ctx.budget, record.secretArn, { VersionId: token }))?.document;
  if (written && (record.at(token) || await record.adoptStaged(token, written))) return credentialFromDocument(written);
  if (written) {
    await record.unstage(token);
    throw new UserError(`Version ${token} of secret ${record.secretArn} was superseded by a stack update; nothing was changed, `
      + 'and the next rotation starts afresh');
  }
  const now = record.current;
  if (!now || (resourceId && now.resourceId !== resourceId)) {
    if (resourceId) return undefined;
    throw new UserError(`Secret ${record.secretArn} holds no credential yet: its stack creates the first one. Nothing was changed`);
  }
  const live = await ctx.iam.find(ctx.budget, now.userName, now.serviceName, now.credentialId, false);
  if (!live) {
    if (resourceId) return undefined;
    throw new UserError(`Credential ${now.credentialId} that secret ${record.secretArn} holds no longer exists (deleted outside `
      + 'CloudFormation); a stack update with a new resetSerial creates a new one. Nothing was changed');
  }
  const document = (await ctx.secrets.read(ctx.budget, record.secretArn, { VersionId: now.versionId }))?.document;
  const serial = resetSerial ?? readCredential(document)?.ResetSerial ?? '0';
  const documentOf = (c: ServiceSpecificCredential) => secretDocument(c, serial, now.resourceId);
  if (strategy === 'RESET_IN_PLACE' && hasExpired(live)) return renewInPlace(ctx, record, now, live, status, documentOf, token);
  if (strategy === 'RESET_IN_PLACE') {
    const credential = await ctx.iam.reset(ctx.budget, now.userName, now.credentialId);
    ctx.remember(secretOf(credential));
    // Current at once, not after testSecret: the reset has already ended the old value.
    return write(ctx, record, credential, documentOf, now.resourceId, token, 'AWSCURRENT', true);
  }
  const credential = await issueSecond(ctx, record, now, live, status);
  return write(ctx, record, credential, documentOf, now.resourceId, token, 'AWSPENDING');
}

/**
 * RESET_IN_PLACE of an expired key, which IAM cannot reset: a new key of the same age is current at once, as a reset's
 * value would be, and the expired one goes. The resource keeps one key, as RESET_IN_PLACE promises.
 */
async function renewInPlace(
  ctx: Context, record: Ownership, now: Owned, live: ServiceSpecificCredentialMetadata, status: Status,
  documentOf: (c: ServiceSpecificCredential) => string, token: string,
): Promise<StoredCredential> {
  ctx.log(`credential ${now.credentialId} of IAM user '${now.userName}' has expired and cannot be reset: a new key of the same age replaces it`);
  const credential = await withStatus(ctx, await createInPlaceOf(ctx, record, now, daysValid(live)), status);
  const written = await write(ctx, record, credential, documentOf, now.resourceId, token, 'AWSCURRENT');
  // Another delivery's key won: it retires the expired one.
  if (written.ServiceSpecificCredentialId === credential.ServiceSpecificCredentialId) await record.retire(now);
  return written;
}

/**
 * ALTERNATING: the resource's older credential goes (and any a rotation staged), and a new one takes its slot. The
 * current one stays current (and working) until finishSecret, and previous (still working) until the next rotation.
 */
async function issueSecond(
  ctx: Context, record: Ownership, now: Owned, live: ServiceSpecificCredentialMetadata, status: Status,
): Promise<ServiceSpecificCredential> {
  for (const owned of record.of(now.resourceId)) if (owned.credentialId !== now.credentialId) await record.retire(owned);
  let credential: ServiceSpecificCredential;
  try {
    credential = await ctx.iam.create(ctx.budget, now.userName, now.serviceName, daysValid(live));
  } catch (err) {
    if (!(err instanceof LimitReached)) throw err;
    throw new NoSlot('ALTERNATING rotation keeps two credentials, IAM\'s limit for one user and service, so no other credential '
      + `of IAM user '${now.userName}' for ${now.serviceName} may exist: ${err.message}`, { cause: err });
  }
  ctx.remember(secretOf(credential));
  // An expired key's own status is gone (IAM shows Expired): the new one gets the status the stack asks for.
  return withStatus(ctx, credential, hasExpired(live) ? status : live.Status as Status);
}

/** A credential IAM just issued (Active), deactivated when asked; one that cannot be is deleted, since no one holds its secret. */
async function withStatus(ctx: Context, credential: ServiceSpecificCredential, status: Status): Promise<ServiceSpecificCredential> {
  if (status !== 'Inactive') return credential;
  const id = credential.ServiceSpecificCredentialId!;
  try {
    await ctx.iam.setStatus(ctx.budget, credential.UserName!, id, 'Inactive', true);
  } catch (err) {
    await discard(ctx, credential.UserName!, id, err);
    throw err;
  }
  // What the stack compares with the status it asks for: Create answered Active.
  return { ...credential, Status: 'Inactive' };
}

/**
 * Stores a value under the token; a credential whose value cannot be stored is deleted.
 * @param reset the value is a reset of the resource's credential; otherwise IAM issued a new credential for it
 * @returns the credential the token's version holds: this one, or the one another call of this step wrote first
 */
async function write(
  ctx: Context, record: Ownership, credential: ServiceSpecificCredential, documentOf: (c: ServiceSpecificCredential) => string, owner: string,
  token: string, label: 'AWSCURRENT' | 'AWSPENDING', reset = false,
): Promise<StoredCredential> {
  try {
    await record.write(credential, documentOf(credential), owner, token, label);
    return credential;
  } catch (err) {
    if (err instanceof AlreadyWritten && reset) {
      // RESET_IN_PLACE delivered twice at once: the other delivery stored its value first, and which of the two resets
      // came last is unknown, so either value may be dead. The credential is the resource's only one and stays: one
      // more reset gives a value known to be live, current under a version of its own; the token lets go.
      const again = await ctx.iam.reset(ctx.budget, credential.UserName!, credential.ServiceSpecificCredentialId!);
      ctx.remember(secretOf(again));
      await record.write(again, documentOf(again), owner);
      await record.unstage(token);
      throw new UserError(`Another delivery of this step wrote version ${token} of secret ${record.secretArn} at the same time; the `
        + 'credential was reset once more and its value is current under a new version. The next rotation starts afresh');
    }
    // A new credential whose version another delivery wrote first: no one will ever hold its value.
    await discard(ctx, credential.UserName!, credential.ServiceSpecificCredentialId!, err);
    if (!(err instanceof AlreadyWritten)) throw err;
    return credentialFromDocument((await ctx.secrets.read(ctx.budget, record.secretArn, { VersionId: token }))!.document!);
  }
}

/**
 * testSecret (and finishSecret, first): the staged version still holds its credential's newest value, and (`askIam`) the
 * credential exists in IAM. (The value cannot be tried without the service it is for.)
 */
export async function test(ctx: Context, record: Ownership, token: string, askIam = true): Promise<StoredCredential> {
  let staged = record.at(token);
  if (!staged) {
    // A value the previous handler version staged is recorded now; one whose record moved on was superseded by a stack
    // update: the token lets go, so the next rotation can start.
    const written = (await ctx.secrets.read(ctx.budget, record.secretArn, { VersionId: token }))?.document;
    staged = written ? await record.adoptStaged(token, written) : undefined;
    if (written && !staged) await record.unstage(token);
  }
  if (!staged) {
    throw new UserError(`Version ${token} of secret ${record.secretArn} holds no credential's newest value: createSecret has not `
      + 'finished, or a stack update has issued a newer value since');
  }
  const found = askIam ? await ctx.iam.find(ctx.budget, staged.userName, staged.serviceName, staged.credentialId, false) : undefined;
  if (askIam && (!found || hasExpired(found))) {
    // Deleted outside the rotation, or expired before it became current (a rotation left unfinished for longer than the
    // key's age): this token can never finish, and would block every later rotation while it holds AWSPENDING. It lets
    // go, so that the next rotation starts afresh.
    await record.retire(staged);
    throw new UserError(`Credential ${staged.credentialId} staged in version ${token} of secret ${record.secretArn} `
      + `${found ? 'expired before it became current' : 'no longer exists'}; the next rotation issues a new one`);
  }
  return {
    ServiceSpecificCredentialId: staged.credentialId, UserName: staged.userName, ServiceName: staged.serviceName, ResourceId: staged.resourceId,
  } as StoredCredential;
}

/** Deletes a credential whose secret nobody holds; if even that fails, the error says what to delete by hand. */
export async function discard(ctx: Context, userName: string, id: string, cause: unknown): Promise<void> {
  try {
    await ctx.iam.delete(ctx.cleanupBudget(), userName, id);
  } catch (err) {
    throw new UserError(`${(cause as Error).message}; deleting credential ${id} of IAM user '${userName}' `
      + `failed too (${errorCode(err)}): delete it with 'aws iam delete-service-specific-credential'`, { cause });
  }
}
