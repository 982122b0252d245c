import type { ServiceSpecificCredential } from '@aws-sdk/client-iam';
import { LimitReached, UserError } from './iam';
import type { Context } from './lifecycle';
import { daysValid, discard } from './lifecycle';
import { current, prune } from './records';
import { StoredCredential, credentialFromDocument, readCredential, resourceOf, secretDocument, secretOf } from './secret-value';
import { AlreadyWritten } from './secrets';
import { checkSecretOwned } from './stack-binding';
import { ROTATION_TAG, type RotationStrategyName } from '../src/handler-contract';

// Secrets Manager's rotation protocol: it labels an empty version AWSPENDING under the rotation's token, then calls
// createSecret, setSecret, testSecret and finishSecret with that token, and calls again (same or new token) after
// a failure. Every step is idempotent per token, and the secret's labelled versions are the record of which
// credentials this resource owns: a credential is issued only into a version, and deleted only from one.

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
  const secret = await ctx.secrets.describe(ctx.budget, secretArn);
  await checkSecretOwned(ctx, secretArn, secret);
  if (!secret!.rotationEnabled) throw new UserError(`Secret ${secretArn} does not have rotation turned on; nothing was changed`);
  const stages = secret!.stages[token] ?? [];
  // Finished already (a repeated call), or promoted by createSecret itself (RESET_IN_PLACE).
  if (stages.includes('AWSCURRENT')) {
    if (step === 'finishSecret' && stages.includes('AWSPENDING')) await ctx.secrets.unstage(ctx.budget, secretArn, token);
    return;
  }
  if (!stages.includes('AWSPENDING')) {
    throw new UserError(`Version ${token} of secret ${secretArn} is not AWSPENDING: a later rotation or stack update took its place. Nothing was changed`);
  }
  switch (step) {
    case 'createSecret':
      await stage(ctx, secretArn, token, strategyOf(secret!.tags[ROTATION_TAG]));
      return;
    case 'setSecret':
      // IAM issued the credential in createSecret: it works from that moment, there is nothing to set.
      return;
    case 'testSecret':
      await test(ctx, secretArn, token);
      return;
    case 'finishSecret':
      await finish(ctx, secretArn, token, secret!.stages);
      return;
    default:
      throw new UserError(`Unknown rotation step '${step}'`);
  }
}

/**
 * A rotation requested by the stack (a new resetSerial with ALTERNATING rotation): the same steps, run at once under
 * the request's id. Staging its version AWSPENDING takes the label from any scheduled rotation in progress, which
 * then stops at its next step without changing anything.
 */
export async function rotateNow(ctx: Context, secretArn: string, token: string, resetSerial: string): Promise<StoredCredential> {
  await stage(ctx, secretArn, token, 'ALTERNATING', resetSerial);
  const staged = await test(ctx, secretArn, token);
  const secret = await ctx.secrets.describe(ctx.budget, secretArn);
  await finish(ctx, secretArn, token, secret?.stages ?? {});
  return staged;
}

/**
 * finishSecret: the staged version becomes current, and AWSPENDING leaves it. A version that kept AWSPENDING would
 * block every later rotation ("Previous rotation request is still in progress") once a stack update writes a value.
 */
async function finish(ctx: Context, secretArn: string, token: string, stages: Record<string, string[]>): Promise<void> {
  if (!stages[token]?.includes('AWSCURRENT')) await ctx.secrets.promote(ctx.budget, secretArn, token, versionWith(stages, 'AWSCURRENT'));
  if (stages[token]?.includes('AWSPENDING')) await ctx.secrets.unstage(ctx.budget, secretArn, token);
}

/** createSecret: a new value for the token's version, unless a repeated call finds it written. */
async function stage(ctx: Context, secretArn: string, token: string, strategy: RotationStrategyName, resetSerial?: string): Promise<void> {
  if ((await ctx.secrets.read(ctx.budget, secretArn, { VersionId: token }))?.document) return;
  const record = await current(ctx, secretArn);
  const now = record?.credential;
  if (!now) throw new UserError(`Secret ${secretArn} holds no credential yet: its stack creates the first one. Nothing was changed`);
  const live = await ctx.iam.find(ctx.budget, now.UserName!, now.ServiceName!, now.ServiceSpecificCredentialId!, false);
  if (!live) {
    throw new UserError(`Credential ${now.ServiceSpecificCredentialId} that secret ${secretArn} holds no longer exists (deleted outside `
      + 'CloudFormation); the next stack update creates a new one. Nothing was changed');
  }
  const serial = resetSerial ?? now.ResetSerial ?? '0';
  const resourceId = resourceOf(now);

  if (strategy === 'RESET_IN_PLACE') {
    const credential = await ctx.iam.reset(ctx.budget, now.UserName!, now.ServiceSpecificCredentialId!);
    ctx.remember(secretOf(credential));
    // Current at once, not after testSecret: the reset has already ended the old value.
    await write(ctx, secretArn, credential, secretDocument(credential, serial, resourceId), token);
    return;
  }

  // ALTERNATING: the older of the two credentials goes, and a new one takes its slot. The current one stays
  // current (and working) until finishSecret, and previous (still working) until the next rotation.
  await prune(ctx, secretArn, resourceId, now.ServiceSpecificCredentialId!, record);
  let credential: ServiceSpecificCredential;
  try {
    credential = await ctx.iam.create(ctx.budget, now.UserName!, now.ServiceName!, daysValid(live));
  } catch (err) {
    if (!(err instanceof LimitReached)) throw err;
    throw new UserError('ALTERNATING rotation keeps two credentials, IAM\'s limit for one user and service, so no other credential '
      + `of IAM user '${now.UserName}' for ${now.ServiceName} may exist: ${err.message}`);
  }
  ctx.remember(secretOf(credential));
  const id = credential.ServiceSpecificCredentialId!;
  if (live.Status === 'Inactive') {
    try {
      await ctx.iam.setStatus(ctx.budget, now.UserName!, id, 'Inactive', true);
    } catch (err) {
      await discard(ctx, now.UserName!, id, err);
      throw err;
    }
  }
  await write(ctx, secretArn, credential, secretDocument(credential, serial, resourceId), token, ['AWSPENDING']);
}

/** Stores a value under the token; a credential whose value cannot be stored is deleted. */
async function write(
  ctx: Context, secretArn: string, credential: ServiceSpecificCredential, document: string, token: string, stages?: string[],
): Promise<void> {
  try {
    await ctx.secrets.put(ctx.budget, secretArn, document, token, stages);
  } catch (err) {
    await discard(ctx, credential.UserName!, credential.ServiceSpecificCredentialId!, err);
    // Another call of this step wrote the version first: its credential is the one recorded.
    if (err instanceof AlreadyWritten) return;
    throw err;
  }
}

/** testSecret: the staged credential exists in IAM. (Its value cannot be tried without the service it is for.) */
async function test(ctx: Context, secretArn: string, token: string): Promise<StoredCredential> {
  const document = (await ctx.secrets.read(ctx.budget, secretArn, { VersionId: token }))?.document;
  const staged = readCredential(document);
  if (!staged) throw new UserError(`Version ${token} of secret ${secretArn} holds no credential: createSecret has not finished`);
  const { UserName, ServiceName, ServiceSpecificCredentialId: id } = staged;
  if (!(await ctx.iam.find(ctx.budget, UserName!, ServiceName!, id!, false))) {
    throw new UserError(`Credential ${id} staged in version ${token} of secret ${secretArn} no longer exists`);
  }
  return credentialFromDocument(document!);
}

function versionWith(stages: Record<string, string[]>, label: string): string | undefined {
  return Object.keys(stages).find((v) => stages[v].includes(label));
}

function strategyOf(tag: string | undefined): RotationStrategyName {
  return tag === 'RESET_IN_PLACE' ? 'RESET_IN_PLACE' : 'ALTERNATING';
}
