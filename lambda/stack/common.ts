import type { CredentialAttributes, CredentialResourceProperties as Props } from '../../src/handler-contract';
import { UserError } from '../logic/errors';
import { StoredCredential, attributesOf, credentialFromDocument, resourceOf } from '../logic/secret-value';
import type { Context } from '../shared/context';

// What the three request types share. The rule for every one of them: when the handler answers, either the credential
// does not exist or the secret holds its current secret value. IAM shows a secret only once, so a credential whose
// secret could not be stored is deleted.

/** What CloudFormation is told on success. */
export interface Outcome {
  readonly physicalId: string;
  readonly data?: CredentialAttributes;
}

/**
 * The outcome a stored document records: under the resource's physical id, which for a key issued in place of one gone or
 * expired is not the key's own id (answering that would tell CloudFormation the resource was replaced).
 */
export function outcomeOf(document: string, props: Props): Outcome {
  const credential = credentialFromDocument(document);
  return { physicalId: resourceOf(credential), data: attributesOf(credential, props.SecretArn) };
}

export function ageDays(props: Props): number | undefined {
  return props.CredentialAgeDays ? Number(props.CredentialAgeDays) : undefined;
}

/** Whether the user may be one this deployment made, which IAM may not show for a while: not when the stack imports it. */
export function mayBeNew(props: Props): boolean {
  return props.UserExists !== 'true';
}

/**
 * A secret holds one credential. An event that would write another into a secret that holds a credential which still
 * exists (and is not the one being replaced) did not come from this construct's CloudFormation: whoever reads that
 * secret would get a credential that is not theirs.
 * @param allowed the credential being replaced or reset
 * @param resourceId the resource's own credentials are not another's: the previous one of a pair, when a move between
 * secrets rolls back
 */
export async function checkNotAnother(
  ctx: Context, secretArn: string, stored: StoredCredential | undefined, allowed?: string, resourceId?: string,
): Promise<void> {
  if (!stored || stored.ServiceSpecificCredentialId === allowed || (resourceId && resourceOf(stored) === resourceId)) return;
  const { UserName, ServiceName, ServiceSpecificCredentialId: other } = stored;
  if (await ctx.iam.find(ctx.budget, UserName!, ServiceName!, other!, false)) {
    throw new UserError(`Secret ${secretArn} holds credential ${other} of IAM user '${UserName}', which still exists: `
      + 'the handler writes no other credential into it. Nothing was changed');
  }
}
