import type { ServiceSpecificCredential } from '@aws-sdk/client-iam';
import { UserError } from './iam';
import type { Context } from './lifecycle';
import { errorCode } from './retry';
import { StoredCredential, daysValid, readCredential, resourceOf } from './secret-value';
import type { SecretDescription } from './secrets';
import { checkSecretOwned } from './stack-binding';

// The one record of which credentials each credential resource owns, read and written through this module by the stack
// path and the rotation path alike.
//
// It lives in the secret's own staging labels: every credential a resource issued and has not yet deleted has a label
// `ssc:<resource id>:<credential id>:<user>:<service>:<days valid or ->` on the version that holds its newest value
// (`?` for the days of a credential recorded from a secret written before the record). Why labels:
// - the label is written in the same PutSecretValue as the value (VersionStages), so a credential is never recorded
//   without its value nor stored without its record, and a plain create or reset costs no call at all;
// - a label moves only when it is named, so AWSCURRENT, AWSPREVIOUS and AWSPENDING can move by any rule (a rotation,
//   a rollback, Secrets Manager's own AWSPREVIOUS) without losing a credential;
// - DescribeSecret, which both paths call first anyway (to check the secret is this stack's), returns every label;
// - the version a credential's label is on is its newest value: a value that no longer carries the label was replaced
//   by a reset and IAM no longer accepts it.
// Secrets Manager allows 20 labels per secret; a resource holds at most 3 (a pair and a staged one), plus the 3 of a
// resource it replaces until its cleanup, plus AWSCURRENT, AWSPREVIOUS, AWSPENDING and the marker KEPT.

const PREFIX = 'ssc:';
/**
 * On the version this handler wrote last, so that a secret whose record is empty (everything retired or moved on) is
 * told from one written before the record existed.
 */
const KEPT = 'ssc-record';
const STAGES = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'] as const;

/** A credential the record says a resource owns. */
export interface Owned {
  readonly resourceId: string;
  readonly credentialId: string;
  readonly userName: string;
  readonly serviceName: string;
  /** The days it was issued for; `null` when it never expires, undefined when not known. */
  readonly ageDays?: number | null;
  /** The version that holds the credential's newest value. */
  readonly versionId: string;
  readonly label: string;
}

export function labelOf(resourceId: string, credential: ServiceSpecificCredential | StoredCredential): string {
  const days = credential.CreateDate ? daysValid(credential) ?? '-' : '?';
  return `${PREFIX}${resourceId}:${credential.ServiceSpecificCredentialId}:${credential.UserName}:${credential.ServiceName}:${days}`;
}

function parse(label: string, versionId: string): Owned | undefined {
  if (!label.startsWith(PREFIX)) return undefined;
  const [resourceId, credentialId, userName, serviceName, days] = label.slice(PREFIX.length).split(':');
  if (!serviceName) return undefined;
  const ageDays = days === '-' ? null : days === '?' || days === undefined ? undefined : Number(days);
  return { resourceId, credentialId, userName, serviceName, ageDays, versionId, label };
}

/**
 * The record of one of this stack's secrets: its labels as DescribeSecret showed them, kept up to date with every change
 * made through it, so that one event describes a secret once.
 */
export class Ownership {
  private constructor(private readonly ctx: Context, public readonly secretArn: string, private readonly described: SecretDescription) {}

  /** The secret's record; refuses a secret that is not one of this stack's. Described once per event. */
  public static async load(ctx: Context, secretArn: string): Promise<Ownership> {
    const known = ctx.records.get(secretArn);
    if (known) return known;
    const described = await ctx.secrets.describe(ctx.budget, secretArn);
    await checkSecretOwned(ctx, secretArn, described);
    const record = new Ownership(ctx, secretArn, { ...described!, stages: structuredClone(described!.stages) });
    ctx.records.set(secretArn, record);
    return record;
  }

  public get rotationEnabled(): boolean {
    return this.described.rotationEnabled;
  }

  public get tags(): Record<string, string> {
    return this.described.tags;
  }

  public stagesOf(versionId: string): string[] {
    return this.described.stages[versionId] ?? [];
  }

  public versionWith(stage: string): string | undefined {
    return Object.keys(this.described.stages).find((v) => this.described.stages[v].includes(stage));
  }

  /** Every credential the record holds. */
  public get all(): Owned[] {
    return Object.entries(this.described.stages).flatMap(([v, labels]) => labels.map((l) => parse(l, v)).filter((o): o is Owned => !!o));
  }

  /** The credentials a resource owns. */
  public of(resourceId: string): Owned[] {
    return this.all.filter((o) => o.resourceId === resourceId);
  }

  /** The credential whose value a version holds, if the record has that version as its newest value. */
  public at(versionId: string | undefined): Owned | undefined {
    return versionId === undefined ? undefined : this.all.find((o) => o.versionId === versionId);
  }

  public get current(): Owned | undefined {
    return this.at(this.versionWith('AWSCURRENT'));
  }

  /**
   * Stores a credential's value and records it, in one call. A stack write of AWSCURRENT ends any rotation in progress:
   * see `endRotation`.
   * @param token the version id (a CREATE's request id, a rotation's token)
   * @param stage AWSCURRENT, or AWSPENDING for a rotation's new credential
   */
  public async write(
    credential: ServiceSpecificCredential, document: string, resourceId: string, token?: string, stage: 'AWSCURRENT' | 'AWSPENDING' = 'AWSCURRENT',
  ): Promise<string> {
    const label = labelOf(resourceId, credential);
    const versionId = await this.ctx.secrets.put(this.ctx.budget, this.secretArn, document, token, [stage, label, KEPT]);
    for (const l of [stage, label, KEPT]) this.attach(versionId, l);
    return versionId;
  }

  /**
   * A stack write of AWSCURRENT makes any rotation in progress stale: its token could only promote a value older than
   * the one just written. AWSPENDING leaves its version, so that Secrets Manager can start the next rotation, and the
   * credential the rotation staged, never current and so used by no one, is deleted if `resourceId` owns it.
   */
  public async endRotation(resourceId: string): Promise<void> {
    const pending = this.versionWith('AWSPENDING');
    if (!pending || this.stagesOf(pending).includes('AWSCURRENT')) return;
    try {
      const staged = this.at(pending);
      if (staged?.resourceId === resourceId) await this.retire(staged);
      if (this.versionWith('AWSPENDING') === pending) await this.move('AWSPENDING', undefined, pending);
    } catch (err) {
      // The value is written, which is what was asked: the stale token cannot finish (its version no longer holds its
      // credential's newest value) and lets go of AWSPENDING at its next step.
      this.ctx.log(`could not end the rotation staged in version ${pending} of secret ${this.secretArn}: ${errorCode(err)}`);
    }
  }

  /**
   * Deletes a credential the record holds. In this order, so that a failure at any point leaves nothing that points
   * at a deleted credential except a record, which the next attempt deletes again: the AWSPENDING of a rotation that
   * staged it goes first (a token must never finish with a deleted credential), then the credential, then its record.
   */
  public async retire(owned: Owned): Promise<void> {
    await this.unstage(owned.versionId);
    this.ctx.log(`deleting credential ${owned.credentialId} of IAM user '${owned.userName}' (recorded in secret ${this.secretArn} for ${owned.resourceId})`);
    await this.ctx.iam.delete(this.ctx.budget, owned.userName, owned.credentialId);
    await this.move(owned.label, undefined, owned.versionId);
  }

  /** Drops a credential from this secret's record without deleting it: another secret of the resource records it now. */
  public async forget(owned: Owned): Promise<void> {
    await this.move(owned.label, undefined, owned.versionId);
  }

  /** Makes a version current (Secrets Manager moves AWSPREVIOUS to the one it leaves). */
  public async promote(versionId: string): Promise<void> {
    await this.move('AWSCURRENT', versionId, this.versionWith('AWSCURRENT'));
  }

  public async unstage(versionId: string): Promise<void> {
    if (this.stagesOf(versionId).includes('AWSPENDING')) await this.move('AWSPENDING', undefined, versionId);
  }

  /**
   * Secrets written before the record existed: their labelled versions' documents say which credentials each resource
   * owns. Recorded once, by labelling those versions; a secret with any record is not read again.
   */
  public async adoptEarlier(): Promise<void> {
    if (this.versionWith(KEPT)) return;
    for (const stage of STAGES) {
      const versionId = this.versionWith(stage);
      if (!versionId || this.at(versionId)) continue;
      let document: string | undefined;
      try {
        document = (await this.ctx.secrets.read(this.ctx.budget, this.secretArn, { VersionId: versionId }))?.document;
      } catch (err) {
        // An older value that cannot be read (e.g. a retired KMS key) records nothing usable.
        if (stage === 'AWSCURRENT') throw err;
        this.ctx.log(`could not read the ${stage} version of secret ${this.secretArn} (${errorCode(err)}); any credential it records is left alone`);
        continue;
      }
      const credential = readCredential(document);
      if (!credential || this.all.some((o) => o.credentialId === credential.ServiceSpecificCredentialId)) continue;
      await this.move(labelOf(resourceOf(credential), credential), versionId, undefined);
    }
    const current = this.versionWith('AWSCURRENT');
    if (current) await this.move(KEPT, current, undefined);
  }

  private async move(label: string, to: string | undefined, from: string | undefined): Promise<void> {
    await this.ctx.secrets.moveLabel(this.ctx.budget, this.secretArn, label, to, from);
    if (from) this.detach(from, label);
    if (to) this.attach(to, label);
  }

  /** Secrets Manager's rules, mirrored: a label is on one version at a time; AWSCURRENT leaves AWSPREVIOUS behind. */
  private attach(versionId: string, label: string): void {
    const stages = this.described.stages;
    const holder = Object.keys(stages).find((v) => v !== versionId && stages[v].includes(label));
    if (holder) this.detach(holder, label);
    if (label === 'AWSCURRENT' && holder) this.attach(holder, 'AWSPREVIOUS');
    stages[versionId] = [...(stages[versionId] ?? []).filter((l) => l !== label), label];
  }

  private detach(versionId: string, label: string): void {
    const stages = this.described.stages;
    stages[versionId] = (stages[versionId] ?? []).filter((l) => l !== label);
    if (!stages[versionId].length) delete stages[versionId];
  }
}

/** The record of a secret, or undefined when it is gone or is not this stack's (an UPDATE then acts on IAM alone). */
export async function ownershipIfOurs(ctx: Context, secretArn: string): Promise<Ownership | undefined> {
  try {
    return await Ownership.load(ctx, secretArn);
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
}
