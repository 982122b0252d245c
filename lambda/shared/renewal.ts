import type { ServiceSpecificCredential } from '@aws-sdk/client-iam';
import type { Context } from './context';
import type { Owned, Ownership } from './ownership';
import { LimitReached } from '../logic/errors';
import { secretOf } from '../logic/secret-value';

// An API key created with an age expires: IAM then reports the read-only status Expired, and refuses to reset it or
// set its status (the Bedrock guide: "The key must not have expired yet. If it's already expired, delete the key and
// create a new one"). Renewing it is issuing a new key of the same age for the same user and service, under the same
// resource, which then retires the expired one. What expired is decided by IAM's status, as List (or Reset) reports
// it: never by the wording of an error, nor by the handler's clock.

/** Whether IAM reports the key as expired. */
export function hasExpired(credential: { readonly Status?: string } | undefined): boolean {
  return credential?.Status === 'Expired';
}

/**
 * (I3, I5) A new key for the expired one's user and service, in IAM's second slot when it is free. When it is not, the
 * slot the resource's own keys hold is freed: they are retired (the expired one first among them), never another's.
 * @param days the expired key's age, which the new one keeps
 */
export async function createInPlaceOf(ctx: Context, record: Ownership, expired: Owned, days: number | undefined): Promise<ServiceSpecificCredential> {
  const create = () => ctx.iam.create(ctx.budget, expired.userName, expired.serviceName, days, false);
  let credential: ServiceSpecificCredential;
  try {
    credential = await create();
  } catch (err) {
    if (!(err instanceof LimitReached)) throw err;
    const slot = record.of(expired.resourceId).filter((o) => o.userName === expired.userName && o.serviceName === expired.serviceName);
    for (const owned of [expired, ...slot.filter((o) => o.label !== expired.label)]) await record.retire(owned);
    credential = await create();
  }
  ctx.remember(secretOf(credential));
  return credential;
}
