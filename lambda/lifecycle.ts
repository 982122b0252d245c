import type { ServiceSpecificCredential } from '@aws-sdk/client-iam';
import { Iam, LimitReached, UserError, isCredentialNotFound } from './iam';
import { isCredentialId, planUpdate } from './plan';
import { Budget, errorCode } from './retry';
import { attributesOf, credentialFromDocument, secretDocument, secretOf } from './secret-value';
import { AlreadyWritten, Secrets } from './secrets';
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
}

// Invariant for every path: when the handler answers, either the credential does not exist or the secret holds
// its current secret value. IAM shows a secret only once, so a credential whose secret could not be stored is deleted.

export async function onCreate(ctx: Context, props: Props, requestId: string): Promise<Outcome> {
  let credential: ServiceSpecificCredential;
  try {
    credential = await ctx.iam.create(ctx.budget, props.UserName, props.ServiceName, ageDays(props));
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
    await ctx.secrets.put(ctx.budget, props.SecretArn, secretDocument(credential), requestId);
  } catch (err) {
    await discard(ctx, props.UserName, id, err);
    const earlier = err instanceof AlreadyWritten ? await earlierDelivery(ctx, props, requestId) : undefined;
    if (earlier) return earlier;
    throw err;
  }
  return { physicalId: id, data: attributesOf(credential, props.SecretArn) };
}

export async function onUpdate(ctx: Context, id: string, oldProps: Props, props: Props, requestId: string): Promise<Outcome> {
  const plan = planUpdate(oldProps, props);
  if (!isCredentialId(id)) return onCreate(ctx, props, requestId);
  let credential: ServiceSpecificCredential | undefined;
  if (plan.replace) {
    // The rollback UPDATE after a failed replacement names the credential that never went away, and it fits.
    credential = await fitting(ctx, props, id);
    // A new physical id tells CloudFormation to DELETE the old one once the stack update succeeds.
    if (!credential) return onCreate(ctx, props, requestId);
  }
  try {
    if (plan.reset) {
      credential = await ctx.iam.reset(ctx.budget, props.UserName, id);
      ctx.remember(secretOf(credential));
      try {
        await ctx.secrets.put(ctx.budget, props.SecretArn, secretDocument(credential));
      } catch (err) {
        // The reset already made the old secret invalid and the new one was never stored.
        await discard(ctx, props.UserName, id, err);
        throw err;
      }
    }
    if (plan.statusChange) {
      await ctx.iam.setStatus(ctx.budget, props.UserName, id, props.Status);
    }
    credential ??= await describe(ctx, props, id);
    return { physicalId: id, data: attributesOf(credential, props.SecretArn) };
  } catch (err) {
    // Deleted out of band (or by a failed reset above): a new credential takes its place.
    if (isCredentialNotFound(err)) return onCreate(ctx, props, requestId);
    throw err;
  }
}

export async function onDelete(ctx: Context, id: string, props: Props): Promise<Outcome> {
  // A failed CREATE answered with an id that names no credential: there is nothing of ours to delete.
  if (isCredentialId(id)) {
    await ctx.iam.delete(ctx.budget, props.UserName, id);
    try {
      await reinstate(ctx, props.SecretArn, id);
    } catch (err) {
      // The credential is gone, which is what was asked; a DELETE that failed now would only strand the stack.
      ctx.log(`credential ${id} deleted; could not check secret ${props.SecretArn}: ${errorCode(err)}`);
    }
  }
  return { physicalId: id };
}

/**
 * When a stack update that replaced a credential rolls back, CloudFormation keeps the old credential and deletes
 * the new one, whose value the secret holds by then. The version before it is the old credential's: if that one
 * still exists, its value becomes current again.
 */
async function reinstate(ctx: Context, secretArn: string, deletedId: string): Promise<void> {
  const current = readDocument(await ctx.secrets.read(ctx.budget, secretArn, { VersionStage: 'AWSCURRENT' }));
  if (current?.ServiceSpecificCredentialId !== deletedId) return;
  const previousDocument = await ctx.secrets.read(ctx.budget, secretArn, { VersionStage: 'AWSPREVIOUS' });
  const previous = readDocument(previousDocument);
  if (!previous || previous.ServiceSpecificCredentialId === deletedId) return;
  if (await ctx.iam.exists(ctx.budget, previous.UserName!, previous.ServiceName!, previous.ServiceSpecificCredentialId!)) {
    await ctx.secrets.put(ctx.budget, secretArn, previousDocument!);
  }
}

/** The credential a secret version describes; undefined for anything else, e.g. the secret's generated first value. */
function readDocument(document: string | undefined): ServiceSpecificCredential | undefined {
  try {
    const credential = document ? credentialFromDocument(document) : undefined;
    return credential?.ServiceSpecificCredentialId ? credential : undefined;
  } catch {
    return undefined;
  }
}

function ageDays(props: Props): number | undefined {
  return props.CredentialAgeDays ? Number(props.CredentialAgeDays) : undefined;
}

/** The credential `id`, if it already is what the properties ask for: their user, service and age. */
async function fitting(ctx: Context, props: Props, id: string): Promise<ServiceSpecificCredential | undefined> {
  const found = (await ctx.iam.list(ctx.budget, props.UserName, props.ServiceName)).find((c) => c.ServiceSpecificCredentialId === id);
  if (!found) return undefined;
  const days = found.ExpirationDate && found.CreateDate
    ? Math.round((found.ExpirationDate.getTime() - found.CreateDate.getTime()) / 86_400_000)
    : undefined;
  return days === ageDays(props) ? found as ServiceSpecificCredential : undefined;
}

/** The attributes of an existing credential, for updates that did not reset it. */
async function describe(ctx: Context, props: Props, id: string): Promise<ServiceSpecificCredential> {
  const found = (await ctx.iam.list(ctx.budget, props.UserName, props.ServiceName))
    .find((c) => c.ServiceSpecificCredentialId === id);
  if (!found) {
    throw Object.assign(new Error(`The Service Specific Credential with id ${id} cannot be found.`), { name: 'NoSuchEntityException' });
  }
  return found as ServiceSpecificCredential;
}

/** The outcome an earlier delivery of the same CREATE stored in the secret, if there was one. */
async function earlierDelivery(ctx: Context, props: Props, requestId: string): Promise<Outcome | undefined> {
  const document = await ctx.secrets.read(ctx.cleanupBudget(), props.SecretArn, { VersionId: requestId });
  if (!document) return undefined;
  const credential = credentialFromDocument(document);
  return { physicalId: credential.ServiceSpecificCredentialId!, data: attributesOf(credential, props.SecretArn) };
}

/** Deletes a credential whose secret nobody holds; if even that fails, the error says what to delete by hand. */
async function discard(ctx: Context, userName: string, id: string, cause: unknown): Promise<void> {
  try {
    await ctx.iam.delete(ctx.cleanupBudget(), userName, id);
  } catch (err) {
    throw new UserError(`${(cause as Error).message}; deleting credential ${id} of IAM user '${userName}' `
      + `failed too (${errorCode(err)}): delete it with 'aws iam delete-service-specific-credential'`);
  }
}
