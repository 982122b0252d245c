import type { ServiceSpecificCredential } from '@aws-sdk/client-iam';
import type { Context } from './context';
import type { SecretDescription } from '../aws/secrets';
import { UserError, errorCode } from '../logic/errors';
import { StoredCredential, daysValid, readCredential, resourceOf } from '../logic/secret-value';
import { checkSecretOwned } from '../logic/stack-binding';

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
//
// What the two paths keep true together, named as test/lifecycle/interleavings.ts checks them after every step:
// I1 AWSCURRENT holds a value IAM accepts (unless the user chose Inactive, or a key expired unrotated);
// I2 AWSPENDING is only on a version whose token can still finish: a stack write of AWSCURRENT ends a rotation in
//    progress, and finishSecret promotes only a version that still holds its credential's newest value;
// I3 every credential a resource created is deleted by the DELETE of the physical id that owns it, and by nothing else;
// I4 a rollback UPDATE succeeds, keeps its physical id and leaves a working AWSCURRENT for the old properties;
// I5 never more than 2 credentials per user and service, counting ones made by others;
// I6 no secret value in any log, answer, error or rotation step result.

const PREFIX = 'ssc:';
/**
 * On the version this handler wrote last, so that a secret whose record is empty (everything retired or moved on) is
 * told from one written before the record existed.
 */
const KEPT = 'ssc-record';
const STAGES = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'] as const;

/** Each invocation's records, by secret: kept up to date with its own changes, gone with the invocation. */
const loaded = new WeakMap<Context, Map<string, Ownership>>();

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
  /** The secret's record; refuses a secret that is not one of this stack's. Described once per event. */
  public static async load(ctx: Context, secretArn: string): Promise<Ownership> {
    const records = loaded.get(ctx) ?? loaded.set(ctx, new Map()).get(ctx)!;
    const known = records.get(secretArn);
    if (known) return known;
    const described = await ctx.secrets.describe(ctx.budget, secretArn);
    checkSecretOwned(ctx.stackId, secretArn, described?.tags);
    const record = new Ownership(ctx, secretArn, { ...described!, stages: structuredClone(described!.stages) });
    records.set(secretArn, record);
    return record;
  }

  private constructor(private readonly ctx: Context, public readonly secretArn: string, private readonly described: SecretDescription) {}

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
   * (I2) A stack write of AWSCURRENT makes any rotation in progress stale: its token could only promote a value older than
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
   * (I2, I3) Deletes a credential the record holds. In this order, so that a failure at any point leaves nothing that points
   * at a deleted credential except a record, which the next attempt deletes again: the AWSPENDING of a rotation that
   * staged it goes first (a token must never finish with a deleted credential), then the credential, then its record.
   */
  public async retire(owned: Owned): Promise<void> {
    // Retired already in this event (a caller's list from before): nothing is left to do, not even in IAM.
    if (!this.all.some((o) => o.label === owned.label)) return;
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
   * Brings into the record what a writer that does not know it stored: every credential of a secret written before the
   * record existed (no marker yet), and, on a secret with a record, a current value that the previous handler version
   * wrote (a deployment that rolled back to it, or a pinned older library). An unlabelled AWSCURRENT other than the
   * version this handler wrote last, holding a credential IAM still has, is that credential's newest value: this
   * handler labels every value it writes, and makes current only labelled versions.
   */
  public async reconcile(): Promise<void> {
    const lastWritten = this.versionWith(KEPT);
    const recorded = lastWritten !== undefined;
    for (const stage of recorded ? ['AWSCURRENT'] as const : STAGES) {
      const versionId = this.versionWith(stage);
      // A value this handler wrote last and then let go of (moved to another secret, or deleted) stays unrecorded.
      if (!versionId || this.at(versionId) || versionId === lastWritten) continue;
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
      if (!credential) continue;
      const known = this.all.find((o) => o.credentialId === credential.ServiceSpecificCredentialId);
      if (!recorded && known) continue;
      const { UserName, ServiceName, ServiceSpecificCredentialId: id } = credential;
      if (recorded && !(await this.ctx.iam.find(this.ctx.budget, UserName!, ServiceName!, id!, false))) continue;
      await this.adopt(credential, versionId, known);
    }
    const current = this.versionWith('AWSCURRENT');
    if (!recorded && current) await this.move(KEPT, current, undefined);
  }

  /**
   * Records a value the previous handler version wrote under a rotation's token, unless its credential is recorded
   * with a newer value elsewhere (a stack update superseded it). Returns the record, or undefined when superseded.
   */
  public async adoptStaged(versionId: string, document: string): Promise<Owned | undefined> {
    if (!this.isAdoptable(document)) return undefined;
    await this.adopt(readCredential(document)!, versionId);
    return this.at(versionId);
  }

  /** Whether a document holds a credential the record does not hold elsewhere, i.e. a value of its own. */
  public isAdoptable(document: string): boolean {
    const credential = readCredential(document);
    return !!credential && !this.all.some((o) => o.credentialId === credential.ServiceSpecificCredentialId);
  }

  private async adopt(credential: StoredCredential, versionId: string, known?: Owned): Promise<void> {
    this.ctx.log(`recording credential ${credential.ServiceSpecificCredentialId} of version ${versionId} of secret ${this.secretArn}, `
      + 'written by a handler without the record');
    await this.move(known?.label ?? labelOf(resourceOf(credential), credential), versionId, known?.versionId);
  }

  private async move(label: string, to: string | undefined, from: string | undefined): Promise<void> {
    // Taking off a label the version no longer carries (retired twice in one event) would change nothing: no call.
    if (!to && (!from || !this.stagesOf(from).includes(label))) return;
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
