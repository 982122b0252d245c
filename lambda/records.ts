import type { Context } from './lifecycle';
import { errorCode } from './retry';
import { StoredCredential, readCredential, resourceOf } from './secret-value';

// Which credentials a resource owns is what its secret's labelled versions record: the current value, the previous
// one (the other credential of an ALTERNATING pair, or the credential a replacement took over from until the
// replacement's cleanup), and a rotation's pending one. Nothing else is ever deleted.

export type Stage = 'AWSCURRENT' | 'AWSPREVIOUS' | 'AWSPENDING';

export interface Recorded {
  readonly stage: Stage;
  readonly credential: StoredCredential;
  readonly document: string;
  readonly created: number;
}

/** The credential a labelled version records, if it records one. */
export async function recordAt(ctx: Context, secretArn: string, stage: Stage): Promise<Recorded | undefined> {
  const version = await ctx.secrets.read(ctx.budget, secretArn, { VersionStage: stage });
  const credential = readCredential(version?.document);
  return credential ? { stage, credential, document: version!.document!, created: version!.created } : undefined;
}

export const current = (ctx: Context, secretArn: string) => recordAt(ctx, secretArn, 'AWSCURRENT');

/**
 * What each label of the secret records; an older version that cannot be read counts as recording nothing.
 * @param known the current version, when the caller has just read it
 */
export async function labelled(ctx: Context, secretArn: string, known?: Recorded): Promise<Recorded[]> {
  const found: Recorded[] = known ? [known] : [];
  for (const stage of ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'] as const) {
    if (stage === 'AWSCURRENT' && known) continue;
    try {
      const record = await recordAt(ctx, secretArn, stage);
      if (record) found.push(record);
    } catch (err) {
      // Only the current value must be readable: an older one that cannot be (e.g. a retired KMS key) records nothing usable.
      if (stage === 'AWSCURRENT') throw err;
      ctx.log(`could not read the ${stage} version of secret ${secretArn} (${errorCode(err)}); any credential it records is left alone`);
    }
  }
  return found;
}

/** The credentials among `records` that belong to the resource with this physical id, each once. */
export function ofResource(records: Recorded[], resourceId: string): Recorded[] {
  const ids = new Set<string>();
  return records.filter((r) => {
    const id = r.credential.ServiceSpecificCredentialId!;
    if (resourceOf(r.credential) !== resourceId || ids.has(id)) return false;
    ids.add(id);
    return true;
  });
}

/**
 * Deletes the resource's recorded credentials other than `keep`: they hold only an older value.
 * @param known the secret's current version, when the caller has just read it
 */
export async function prune(ctx: Context, secretArn: string, resourceId: string, keep: string, known?: Recorded): Promise<void> {
  for (const record of ofResource(await labelled(ctx, secretArn, known), resourceId)) {
    const { UserName, ServiceSpecificCredentialId: id } = record.credential;
    if (id === keep) continue;
    ctx.log(`deleting credential ${id} of IAM user '${UserName}': secret ${secretArn} holds it as ${record.stage}, an older value`);
    await ctx.iam.delete(ctx.budget, UserName!, id!);
  }
}
