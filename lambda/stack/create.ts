import type { ServiceSpecificCredential } from '@aws-sdk/client-iam';
import { Outcome, ageDays, checkNotAnother, mayBeNew, outcomeOf } from './common';
import type { CredentialResourceProperties as Props } from '../../src/handler-contract';
import { AlreadyWritten, LimitReached } from '../logic/errors';
import { attributesOf, readCredential, secretDocument, secretOf } from '../logic/secret-value';
import type { Context } from '../shared/context';
import { Ownership } from '../shared/ownership';
import { discard } from '../shared/staging';

/**
 * CREATE, and any UPDATE that needs a new credential: IAM issues it, and the secret stores its value before anything
 * else can fail.
 * @param replacing the credential this one replaces, which the secret may hold until the new one is written
 * @param resourceId the physical id to answer: a resource whose credential is gone gets a new one under its own id
 * @param elsewhere another secret's record of the resource (the one it moves back from, in the rollback of a move)
 */
export async function onCreate(
  ctx: Context, props: Props, requestId: string, replacing?: string, resourceId?: string, elsewhere?: Ownership,
): Promise<Outcome> {
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
    // A resource whose current credential is gone (or expired) issues a new one in its place; the slot it needs may be
    // held by its own older credential (the previous one of a pair, or one a rotation staged), which gives way.
    const records = elsewhere && elsewhere !== record ? [record, elsewhere] : [record];
    const older = records.flatMap((r) => (resourceId ? r.of(resourceId) : [])
      .filter((o) => o.userName === props.UserName && o.serviceName === props.ServiceName).map((owned) => ({ r, owned })));
    if (!(err instanceof LimitReached) || !older.length) throw err;
    for (const { r, owned } of older) await r.retire(owned);
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

/** The outcome an earlier delivery of the same CREATE stored in the secret, if there was one. */
async function earlierDelivery(ctx: Context, props: Props, requestId: string): Promise<Outcome | undefined> {
  const version = await ctx.secrets.read(ctx.cleanupBudget(), props.SecretArn, { VersionId: requestId });
  return version?.document ? outcomeOf(version.document, props) : undefined;
}
