import { randomBytes, randomUUID } from 'node:crypto';
import { CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, DeleteUserCommand, IAMClient } from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import * as fc from 'fast-check';
import { synthesize } from './cloudformation';
import { WarmLambda } from './warm-lambda';
import { exampleStack } from '../../examples/app';
import {
  CLOUDFORMATION_STACK_TAG, RESOURCE_TYPE, ROTATION_TAG, SECRET_TAG, STACK_ID_VARIABLE, STATUS_TAG,
  type CredentialResourceProperties as Props, type RotationStrategyName,
} from '../../src/handler-contract';
import { ResponseCatcher } from '../handler-harness';
import { ConfigurationTestForm, LocalAws, StoredSecret, startLocalAws } from '../local-aws';

// A model-based test of the stack path and the rotation path in any order. fast-check draws bounded random sequences
// of what CloudFormation and Secrets Manager send (stack CREATE / UPDATE / rollback / cleanup DELETE / stack DELETE,
// rotation steps by token, each may fail, be delivered twice or be retried later with the same token), out-of-band
// deletes, another actor's credentials, throttling and faults, and IAM's clock moving on, which expires API keys. Every event runs through the real bundled handler
// against the local AWS, and the invariants I1-I7 are checked after every step. A failing sequence is shrunk to a
// minimal one and printed with its seed.

export const INVARIANTS = {
  I1: 'AWSCURRENT holds a value IAM accepts, for the deployed user, service and status (an API key may have expired since it was written)',
  I2: 'AWSPENDING only on a version whose token can still finish; rotation never stops for good; finishSecret never promotes an older value',
  I3: 'every credential is deleted by the DELETE of the physical id that owns it, and by nothing else',
  I4: 'a rollback UPDATE succeeds, keeps its physical id and leaves a working AWSCURRENT for the old properties',
  I5: 'never more than 2 credentials per user and service, counting ones made by others',
  I6: 'no secret value in any log, answer, error or rotation step result',
  I7: 'Secrets Manager\'s test of the rotation configuration (testSecret alone) succeeds and changes nothing',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export class Violation extends Error {
  constructor(public readonly invariant: InvariantName, public readonly detail: string) {
    super(`${invariant} (${INVARIANTS[invariant]}): ${detail}`);
  }
}

/** A property an UPDATE may change. */
export type Change =
  | { readonly reset: true } | { readonly status: 'Active' | 'Inactive' } | { readonly user: 'a' | 'b' }
  | { readonly strategy: RotationStrategyName | 'none' } | { readonly secret: 'one' | 'two' } | { readonly ageDays: 'none' | '30' | '90' };

/** One thing that happens to the stack, its secret or IAM. An action that does not apply in the current state is skipped. */
export type Action =
  | { readonly kind: 'update'; readonly changes: readonly Change[]; readonly failLater?: boolean }
  /** The next event of the stack operation in progress: the UPDATE, then its rollback or cleanup. */
  | { readonly kind: 'stackStep' }
  /** RotateSecret with a new token (refused while another rotation is in progress). */
  | { readonly kind: 'rotate' }
  /** The next step of the rotation in progress. `lost`: it does its work, but Secrets Manager sees a failure. */
  | { readonly kind: 'rotationStep'; readonly mode: StepMode }
  /** Secrets Manager retries a failed rotation with the same token, from createSecret. */
  | { readonly kind: 'retryRotation' }
  /** A RotationSchedule created or updated with RotateImmediatelyOnUpdate false: testSecret alone, on a version of this form. */
  | { readonly kind: 'configurationTest'; readonly form: ConfigurationTestForm }
  | { readonly kind: 'deleteOutOfBand'; readonly stage: 'AWSCURRENT' | 'AWSPREVIOUS' | 'AWSPENDING' }
  | { readonly kind: 'other'; readonly op: 'create' | 'delete' }
  | { readonly kind: 'throttle'; readonly times: number }
  /** IAM's clock moves on by this many days: API keys of that age or less expire. */
  | { readonly kind: 'clock'; readonly days: number }
  | { readonly kind: 'fault'; readonly service: 'iam' | 'secretsmanager'; readonly operation: string };

/**
 * How a rotation step is delivered: once; twice in a row; twice at the same time (two Lambda environments); `lost`: it
 * does its work, but Secrets Manager sees a failure; `notDelivered`: it fails before it starts.
 */
export type StepMode = 'ok' | 'twice' | 'concurrent' | 'lost' | 'notDelivered';

export interface Scenario {
  readonly service: 'codecommit.amazonaws.com' | 'bedrock.amazonaws.com';
  readonly strategy: RotationStrategyName | 'none';
  readonly status: 'Active' | 'Inactive';
  readonly ageDays: 'none' | '30' | '90';
  readonly actions: readonly Action[];
}

// ---------------------------------------------------------------------------------------------------------------
// The generator. fast-check draws the sequences: a seed replays one, and a failing one is shrunk to a minimal one.

const changeOf = (service: Scenario['service']): fc.Arbitrary<Change> => fc.oneof(
  { arbitrary: fc.constant({ reset: true } as const), weight: 4 },
  { arbitrary: fc.constantFrom('Active', 'Inactive').map((status) => ({ status } as const)), weight: 2 },
  { arbitrary: fc.constantFrom('a', 'b').map((user) => ({ user } as const)), weight: 2 },
  { arbitrary: fc.constantFrom('ALTERNATING', 'RESET_IN_PLACE', 'none').map((strategy) => ({ strategy } as const)), weight: 3 },
  { arbitrary: fc.constantFrom('one', 'two').map((secret) => ({ secret } as const)), weight: 1 },
  // Only API keys have an age.
  { arbitrary: fc.constantFrom('none', '30', '90').map((ageDays) => ({ ageDays } as const)), weight: service === 'bedrock.amazonaws.com' ? 1 : 0 },
);

const FAULTS = [
  { service: 'iam', operation: 'CreateServiceSpecificCredential' }, { service: 'iam', operation: 'ResetServiceSpecificCredential' },
  { service: 'iam', operation: 'DeleteServiceSpecificCredential' }, { service: 'iam', operation: 'UpdateServiceSpecificCredential' },
  { service: 'secretsmanager', operation: 'PutSecretValue' }, { service: 'secretsmanager', operation: 'UpdateSecretVersionStage' },
] as const;

const actionOf = (service: Scenario['service']): fc.Arbitrary<Action> => fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('update'), changes: fc.array(changeOf(service), { minLength: 1, maxLength: 2 }), failLater: fc.boolean() }),
    weight: 8,
  },
  { arbitrary: fc.constant({ kind: 'stackStep' } as const), weight: 10 },
  { arbitrary: fc.constant({ kind: 'rotate' } as const), weight: 6 },
  {
    arbitrary: fc.constantFrom<StepMode>('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'twice', 'concurrent', 'lost', 'notDelivered')
      .map((mode) => ({ kind: 'rotationStep', mode } as const)),
    weight: 16,
  },
  { arbitrary: fc.constant({ kind: 'retryRotation' } as const), weight: 4 },
  { arbitrary: fc.constantFrom<ConfigurationTestForm>('copy', 'empty', 'none').map((form) => ({ kind: 'configurationTest', form } as const)), weight: 2 },
  { arbitrary: fc.constantFrom('AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING').map((stage) => ({ kind: 'deleteOutOfBand', stage } as const)), weight: 1 },
  { arbitrary: fc.constantFrom('create', 'delete').map((op) => ({ kind: 'other', op } as const)), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 3 }).map((times) => ({ kind: 'throttle', times } as const)), weight: 1 },
  { arbitrary: fc.constantFrom(...FAULTS).map((f) => ({ kind: 'fault', ...f } as const)), weight: 1 },
  // Only API keys expire: the ages drawn are 30 and 90 days.
  { arbitrary: fc.constantFrom(16, 31, 91).map((days) => ({ kind: 'clock', days } as const)), weight: service === 'bedrock.amazonaws.com' ? 3 : 0 },
);

/** Bounded random scenarios: the first CREATE's properties, then up to `maxActions` actions. */
export function scenarios(maxActions = 24): fc.Arbitrary<Scenario> {
  return fc.constantFrom('codecommit.amazonaws.com', 'bedrock.amazonaws.com').chain((service) => fc.record({
    service: fc.constant(service),
    strategy: fc.constantFrom('none', 'ALTERNATING', 'RESET_IN_PLACE'),
    status: fc.constantFrom('Active', 'Active', 'Active', 'Inactive'),
    ageDays: service === 'bedrock.amazonaws.com' ? fc.constantFrom('none', '30') : fc.constant('none'),
    actions: fc.array(actionOf(service), { minLength: 4, maxLength: maxActions }),
  } as const)) as fc.Arbitrary<Scenario>;
}

// ---------------------------------------------------------------------------------------------------------------
// The world the sequences run in: one local AWS and one warm Lambda environment running the real bundled handler.

export const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/InterleavingStack/5b1cd0f0-0000-4000-8000-000000000000';
const HANDLER_KEY = 'lambda-role';
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:ServiceSpecificCredentialHandler';

export class World {
  public static async start(options: { warp?: number } = {}): Promise<World> {
    const synth = synthesize((app) => exampleStack(app));
    const localAws = await startLocalAws();
    const catcher = await ResponseCatcher.start();
    const env = {
      [STACK_ID_VARIABLE]: STACK_ID,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: HANDLER_KEY,
      AWS_SECRET_ACCESS_KEY: 'lambda-role',
      AWS_SESSION_TOKEN: 'lambda-session',
      AWS_LAMBDA_FUNCTION_NAME: 'ServiceSpecificCredentialHandler',
      AWS_ENDPOINT_URL_IAM: localAws.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: localAws.endpoint,
    };
    // Warped clocks: a throttled call's pace of seconds takes milliseconds; the Lambda timeout is the template's.
    // Two environments, for a step delivered twice at the same time; otherwise one at a time.
    const lambda = new WarmLambda(synth.handlerFile, env, 2, synth.handlerTimeoutMs, options.warp ?? 50);
    return new World(localAws, catcher, lambda);
  }

  public readonly iam: IAMClient;
  private sequence = 0;

  private constructor(public readonly localAws: LocalAws, public readonly catcher: ResponseCatcher, public readonly lambda: WarmLambda) {
    this.iam = new IAMClient({ endpoint: localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  }

  /** Names unique to one run of a sequence, so that runs share the local AWS without meeting. */
  public prefix(): string {
    return `s${++this.sequence}x${randomBytes(3).toString('hex')}`;
  }

  public async close(): Promise<void> {
    this.lambda.close();
    this.iam.destroy();
    await this.catcher.close();
    await this.localAws.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One run of a scenario.

interface Resource { readonly physicalId: string; readonly props: Props }

interface StackOperation {
  readonly before: Resource;
  readonly props: Props;
  readonly failLater: boolean;
  /** The secrets this operation created (a new secretName), deleted again on rollback. */
  readonly newSecrets: string[];
  readonly secretsBefore: Map<string, { tags: StoredSecret['tags']; rotationEnabled?: boolean }>;
  phase: 'event' | 'rollbackUpdate' | 'rollbackSucceeded' | 'cleanup';
  answered?: string;
  /** Credentials of the old resource that must stay whole until its own DELETE (a replacement for another user or service). */
  keep?: Set<string>;
  readonly damagedBefore: boolean;
  damagedWhile?: boolean;
  /** What the handler had made for the old properties' user and service when the operation began. */
  readonly oldCredentials: Set<string>;
}

interface InFlightRotation { readonly secretArn: string; readonly token: string; next: number; failed: boolean }

const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

export interface RunResult {
  readonly violation?: Violation;
  /** Index of the action at which the violation was found; the actions' count for the final phase. */
  readonly at?: number;
  readonly invocations: number;
  readonly steps: number;
  readonly trace: string[];
}

export async function run(world: World, scenario: Scenario): Promise<RunResult> {
  const runner = new Runner(world, scenario);
  try {
    await runner.execute();
    return { invocations: runner.invocations, steps: runner.steps, trace: runner.trace };
  } catch (err) {
    if (!(err instanceof Violation)) throw err;
    return { violation: err, at: runner.actionIndex, invocations: runner.invocations, steps: runner.steps, trace: runner.trace };
  } finally {
    world.localAws.clearFaults();
    await runner.tidy();
  }
}

class Runner {
  public invocations = 0;
  public steps = 0;
  public actionIndex = -1;
  public readonly trace: string[] = [];
  private readonly localAws: LocalAws;
  private readonly users: Record<'a' | 'b', string>;
  private readonly secretNames: Record<'one' | 'two', string>;
  private readonly secrets = new Map<string, string>();
  private deployed?: Resource;
  private op?: StackOperation;
  private rotation?: InFlightRotation;
  /** The current credential was deleted out of band; only a stack update that writes a new value repairs it. */
  private damaged = false;
  /**
   * A stack update that asked for a new value succeeded since IAM's clock last moved: the current key must not have
   * expired (see `mustBeLive`).
   */
  private fresh = true;
  /** The versions that held a value when IAM's clock last moved. */
  private valuesAtClock = new Set<string>();
  /** Every credential the handler made, and every one another actor made. */
  private readonly made = new Set<string>();
  private readonly others = new Set<string>();
  private readonly deletedByTest = new Set<string>();
  private readonly issued = new Set<string>();
  private readonly refusedPending = new Set<string>();
  private serial = 0;
  private secretsMade = 0;
  /** When each version's value was first seen (in invocations): the order of values, which version dates do not give. */
  private readonly valueSeen = new Map<string, number>();
  private lastOutput = '';

  constructor(private readonly world: World, private readonly scenario: Scenario) {
    this.localAws = world.localAws;
    const prefix = world.prefix();
    this.users = { a: `${prefix}-alice`, b: `${prefix}-bob` };
    this.secretNames = { one: `${prefix}-secret-one`, two: `${prefix}-secret-two` };
    for (const user of Object.values(this.users)) this.localAws.createUser(user);
  }

  public async execute(): Promise<void> {
    const props: Props = {
      UserName: this.users.a,
      ServiceName: this.scenario.service,
      Status: this.scenario.status,
      SecretArn: this.secret('one', this.scenario.strategy, this.scenario.status),
      ResetSerial: '0',
      ...(this.scenario.ageDays !== 'none' ? { CredentialAgeDays: this.scenario.ageDays } : {}),
      ...(this.scenario.strategy !== 'none' ? { RotationStrategy: this.scenario.strategy } : {}),
    };
    const created = await this.send(this.event('Create', props));
    if (created?.Status !== 'SUCCESS') throw new Violation('I1', `the first CREATE failed: ${created?.Reason}`);
    this.deployed = { physicalId: created.PhysicalResourceId, props };
    this.check();

    for (const [i, action] of this.scenario.actions.entries()) {
      this.actionIndex = i;
      const applied = await this.apply(action);
      if (process.env.INTERLEAVINGS_DEBUG) this.trace.push(`(${i} ${action.kind}: ${applied ? 'applied' : 'skipped'})`);
      if (applied) {
        this.steps++;
        this.check();
      }
    }
    this.actionIndex = this.scenario.actions.length;
    await this.finish();
  }

  /** Runs one action; false when it did not apply. */
  private async apply(action: Action): Promise<boolean> {
    switch (action.kind) {
      case 'update': return this.startUpdate(action.changes, action.failLater ?? false);
      case 'stackStep': return this.stackStep();
      case 'rotate': return this.rotate();
      case 'rotationStep': return this.rotationStep(action.mode);
      case 'retryRotation':
        if (!this.rotation?.failed) return false;
        this.rotation.failed = false;
        this.rotation.next = 0;
        this.trace.push(`retry rotation ${short(this.rotation.token)}`);
        return true;
      case 'configurationTest': return this.configurationTest(action.form);
      case 'deleteOutOfBand': return this.deleteOutOfBand(action.stage);
      case 'other': return this.otherActor(action.op);
      case 'throttle':
        this.localAws.inject({
          service: 'iam', operation: '*', times: action.times, error: { code: 'Throttling', status: 400, message: 'Rate exceeded' }, accessKeyId: HANDLER_KEY,
        });
        this.trace.push(`throttle ${action.times}`);
        return true;
      case 'clock':
        this.localAws.advanceClock(action.days * 86_400_000);
        this.fresh = false;
        this.valuesAtClock = new Set([...this.secrets.values()].flatMap((arn) =>
          (this.localAws.secret(arn)?.versions ?? []).filter((v) => v.secretString).map((v) => v.id)));
        this.trace.push(`clock +${action.days} days`);
        return true;
      case 'fault':
        // One refusal at a time: two in a row (a value that cannot be stored, then a credential that cannot be deleted)
        // leave a credential whose value no one knows, which the handler reports for a person to delete.
        this.localAws.clearFaults();
        this.localAws.inject({ service: action.service, operation: action.operation, error: faultOf(action.service), accessKeyId: HANDLER_KEY });
        this.trace.push(`fault ${action.operation}`);
        return true;
    }
  }

  // ----- the stack -----

  private startUpdate(changes: readonly Change[], failLater: boolean): boolean {
    if (this.op || !this.deployed) return false;
    const old = this.deployed.props;
    let props: Props = { ...old };
    const secretsBefore = new Map([...this.secrets.values()].map((arn) => {
      const s = this.localAws.secret(arn)!;
      return [arn, { tags: [...s.tags], rotationEnabled: s.rotationEnabled }];
    }));
    const newSecrets: string[] = [];
    for (const change of changes) {
      if ('reset' in change) props = { ...props, ResetSerial: String(++this.serial) };
      if ('status' in change) props = { ...props, Status: change.status };
      if ('user' in change) props = { ...props, UserName: this.users[change.user] };
      if ('ageDays' in change) {
        const { CredentialAgeDays: _, ...rest } = props;
        props = change.ageDays === 'none' ? rest : { ...rest, CredentialAgeDays: change.ageDays };
      }
      if ('strategy' in change) {
        const { RotationStrategy: _, ...rest } = props;
        props = change.strategy === 'none' ? rest : { ...rest, RotationStrategy: change.strategy };
      }
      if ('secret' in change) {
        const known = this.secrets.has(change.secret);
        props = { ...props, SecretArn: this.secret(change.secret, props.RotationStrategy ?? 'none', props.Status) };
        if (!known) newSecrets.push(props.SecretArn);
      }
    }
    // The Secret resource is updated before the custom resource: its rotation tag, and rotation on or off.
    this.configureSecret(props.SecretArn, props.RotationStrategy ?? 'none', props.Status);
    if (JSON.stringify(props) === JSON.stringify(old)) {
      for (const [arn, s] of secretsBefore) Object.assign(this.localAws.secret(arn)!, s);
      return false;
    }
    this.op = {
      before: this.deployed,
      props,
      failLater,
      newSecrets,
      secretsBefore,
      phase: 'event',
      damagedBefore: this.damaged,
      oldCredentials: this.existing(old.UserName, old.ServiceName),
    };
    this.trace.push(`update ${describeChanges(old, props)}${failLater ? ' (a later resource fails)' : ''}`);
    return true;
  }

  private async stackStep(): Promise<boolean> {
    const op = this.op;
    if (!op) return false;
    const { before } = op;
    switch (op.phase) {
      case 'event': {
        op.keep = replacedElsewhere(before.props, op.props) ? this.existing(before.props.UserName, before.props.ServiceName) : undefined;
        const answer = await this.send(this.event('Update', op.props, before.physicalId, before.props));
        if (answer?.Status !== 'SUCCESS') {
          this.trace.push(`  UPDATE failed: ${answer?.Reason}`);
          op.phase = 'rollbackUpdate';
          return true;
        }
        op.answered = answer.PhysicalResourceId;
        // Every successful UPDATE makes sure the credential exists (a new one takes the place of one deleted out of band).
        this.damaged = false;
        // One that asked for a new value (a resetSerial, a new user, service or age) wrote a live key.
        if (asksNewValue(before.props, op.props)) this.fresh = true;
        op.phase = op.failLater ? 'rollbackSucceeded' : 'cleanup';
        return true;
      }
      case 'rollbackUpdate':
      case 'rollbackSucceeded': {
        // Errors AWS would not repeat are not the rollback's: injected faults end with the forward update.
        this.localAws.clearFaults();
        if (op.phase === 'rollbackSucceeded' && op.answered !== before.physicalId) {
          // The DELETE of the new resource is the rollback's cleanup, after every other resource was rolled back: the
          // secrets have their old tags and rotation again.
          for (const [arn, s] of op.secretsBefore) Object.assign(this.localAws.secret(arn)!, s);
          const answer = await this.send(this.event('Delete', op.props, op.answered));
          if (answer?.Status !== 'SUCCESS') throw new Violation('I3', `the rollback's DELETE of ${op.answered} failed: ${answer?.Reason}`);
          // The old credential is current again, as it was before the update, whatever happened to it meanwhile.
          this.damaged = op.damagedBefore || op.damagedWhile || this.damaged || [...op.oldCredentials].some((id) => this.deletedByTest.has(id));
        } else {
          const answer = await this.send(this.event('Update', before.props, before.physicalId, op.props));
          if (answer?.Status !== 'SUCCESS') throw new Violation('I4', `the rollback UPDATE failed: ${answer?.Reason}`);
          if (answer.PhysicalResourceId !== before.physicalId) {
            throw new Violation('I4', `the rollback UPDATE answered a new physical id ${answer.PhysicalResourceId} for ${before.physicalId}`);
          }
          this.damaged = false;
        }
        for (const arn of op.newSecrets) this.deleteSecret(arn);
        for (const [arn, s] of op.secretsBefore) Object.assign(this.localAws.secret(arn)!, s);
        // The old key is current again, as it was: it may have expired meanwhile.
        this.fresh = false;
        this.op = undefined;
        this.trace.push('  rolled back');
        return true;
      }
      case 'cleanup': {
        // As for rollbacks: a refusal that AWS would repeat for ever is not the cleanup's to survive.
        this.localAws.clearFaults();
        if (op.answered !== before.physicalId) {
          const answer = await this.send(this.event('Delete', before.props, before.physicalId));
          if (answer?.Status !== 'SUCCESS') throw new Violation('I3', `the cleanup DELETE of ${before.physicalId} failed: ${answer?.Reason}`);
        }
        if (before.props.SecretArn !== op.props.SecretArn) this.deleteSecret(before.props.SecretArn);
        this.deployed = { physicalId: op.answered!, props: op.props };
        this.op = undefined;
        this.trace.push('  cleanup done');
        return true;
      }
    }
  }

  // ----- Secrets Manager's rotation -----

  /** The secret Secrets Manager rotates: the one the stack's current properties name. */
  private rotatedSecret(): string | undefined {
    const props = this.op?.answered ? this.op.props : this.deployed?.props;
    return props && this.localAws.secret(props.SecretArn)?.rotationEnabled ? props.SecretArn : undefined;
  }

  private rotate(): boolean {
    const secretArn = this.rotatedSecret();
    if (!secretArn) return false;
    const token = randomUUID();
    try {
      this.localAws.startRotation(secretArn, token);
    } catch (err) {
      this.trace.push(`rotate: refused (${(err as Error).message})`);
      return true;
    }
    this.rotation = { secretArn, token, next: 0, failed: false };
    this.trace.push(`rotate ${short(token)}`);
    return true;
  }

  private async rotationStep(mode: StepMode): Promise<boolean> {
    const rotation = this.rotation;
    if (!rotation || rotation.failed) return false;
    // Secrets Manager does not call a function for a secret whose rotation is off; the rotation stays in progress.
    if (!this.localAws.secret(rotation.secretArn)?.rotationEnabled) return false;
    const step = STEPS[rotation.next];
    const event = { SecretId: rotation.secretArn, ClientRequestToken: rotation.token, Step: step };
    this.stampValues();
    const currentBefore = this.versionWith(rotation.secretArn, 'AWSCURRENT')?.id;
    let threw = mode === 'notDelivered';
    if (mode === 'concurrent') threw = (await Promise.all([this.invoke(event), this.invoke(event)])).some(Boolean);
    else if (mode !== 'notDelivered') threw = await this.invoke(event);
    if (mode === 'twice') threw = await this.invoke(event);
    if (mode === 'lost') threw = true;
    this.trace.push(`  ${step} ${short(rotation.token)} (${mode}): ${threw ? 'failed' : 'ok'}`);
    this.stampValues();
    const currentAfter = this.versionWith(rotation.secretArn, 'AWSCURRENT')?.id;
    if (currentBefore && currentAfter && currentAfter !== currentBefore && this.valueSeen.get(currentAfter)! < this.valueSeen.get(currentBefore)!) {
      throw new Violation('I2', `${step} made an older value current: version ${currentAfter} in place of ${currentBefore}`);
    }
    if (threw) rotation.failed = true;
    else if (++rotation.next === STEPS.length) this.rotation = undefined;
    return true;
  }

  /** Runs while the rotation is on and none is in progress (RotateSecret refuses otherwise), at any point of a stack operation. */
  private async configurationTest(form: ConfigurationTestForm): Promise<boolean> {
    const secretArn = this.rotatedSecret();
    if (!secretArn || this.rotation) return false;
    const token = randomUUID();
    try {
      this.localAws.startConfigurationTest(secretArn, token, form);
    } catch (err) {
      this.trace.push(`configuration test: refused (${(err as Error).message})`);
      return true;
    }
    const state = () => JSON.stringify({
      secrets: this.localAws.secret(secretArn)!.versions.filter((v) => v.id !== token), iam: this.localAws.credentials(),
    });
    const before = state();
    let threw: boolean;
    try {
      threw = await this.invoke({ SecretId: secretArn, ClientRequestToken: token, Step: 'testSecret' });
    } finally {
      this.localAws.endConfigurationTest(secretArn, token);
    }
    this.trace.push(`configuration test ${short(token)} (${form}): ${threw ? 'failed' : 'ok'}`);
    if (threw) throw new Violation('I7', `testSecret failed: ${this.lastOutput.split('\n').find((l) => l.includes('failed')) ?? ''}`);
    if (state() !== before) throw new Violation('I7', 'the secret\'s versions or IAM\'s credentials changed');
    return true;
  }

  // ----- others -----

  private async deleteOutOfBand(stage: string): Promise<boolean> {
    const secretArn = (this.op?.answered ? this.op.props : this.deployed?.props)?.SecretArn;
    const doc = secretArn ? this.documentAt(secretArn, stage) : undefined;
    const id = doc?.serviceSpecificCredentialId;
    if (!id || !this.localAws.credentials().some((c) => c.ServiceSpecificCredentialId === id)) return false;
    await this.world.iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: doc.iamUserName, ServiceSpecificCredentialId: id }));
    this.deletedByTest.add(id);
    const live = [...this.secrets.values()].some((arn) => this.documentAt(arn, 'AWSCURRENT')?.serviceSpecificCredentialId === id);
    if (live) this.damage();
    this.trace.push(`delete out of band: ${stage} ${id}`);
    return true;
  }

  private async otherActor(op: 'create' | 'delete'): Promise<boolean> {
    const props = this.deployed?.props;
    if (!props) return false;
    if (op === 'delete') {
      const id = [...this.others].find((o) => !this.deletedByTest.has(o));
      const c = this.localAws.credentials().find((x) => x.ServiceSpecificCredentialId === id);
      if (!c) return false;
      await this.deleteCredential(c.UserName, c.ServiceSpecificCredentialId);
      this.deletedByTest.add(c.ServiceSpecificCredentialId);
      this.trace.push(`another actor deletes its credential ${c.ServiceSpecificCredentialId}`);
      return true;
    }
    // One at most per user and service: an actor holding both of IAM's slots leaves the stack no way to repair anything.
    const slot = this.localAws.credentials({ userName: props.UserName, serviceName: props.ServiceName });
    if (slot.some((c) => this.others.has(c.ServiceSpecificCredentialId))) return false;
    try {
      const out = await this.world.iam.send(new CreateServiceSpecificCredentialCommand({ UserName: props.UserName, ServiceName: props.ServiceName }));
      this.others.add(out.ServiceSpecificCredential!.ServiceSpecificCredentialId!);
      this.trace.push(`another actor creates ${out.ServiceSpecificCredential!.ServiceSpecificCredentialId} for ${props.UserName}`);
      return true;
    } catch {
      return false;
    }
  }

  // ----- the end: finish what is in flight, show that rotation still works, delete the stack -----

  private async finish(): Promise<void> {
    this.localAws.clearFaults();
    while (this.op) {
      await this.stackStep();
      this.steps++;
      this.check();
    }
    for (const id of this.others) {
      const c = this.localAws.credentials().find((x) => x.ServiceSpecificCredentialId === id);
      if (c) await this.world.iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: c.UserName, ServiceSpecificCredentialId: id }));
      this.deletedByTest.add(id);
    }
    if (this.damaged) {
      // The repair docs/updates.md gives for a credential deleted outside CloudFormation: a new resetSerial.
      this.trace.push('final: repair with a new resetSerial');
      this.startUpdate([{ reset: true }], false);
      while (this.op) {
        await this.stackStep();
        this.steps++;
        this.check();
      }
      if (this.damaged) throw new Violation('I1', 'a new resetSerial did not repair a credential deleted out of band');
    }
    const secretArn = this.rotatedSecret();
    if (secretArn) {
      // Rotation never stops for good: the rotation in progress finishes when retried, or a new one can start.
      if (this.rotation && this.rotation.secretArn === secretArn) {
        this.trace.push('final: retry the rotation in progress');
        await this.completeRotation(this.rotation.token, true);
      }
      const token = randomUUID();
      try {
        this.localAws.startRotation(secretArn, token);
      } catch (err) {
        throw new Violation('I2', `no new rotation can start: ${(err as Error).message}`);
      }
      this.rotation = { secretArn, token, next: 0, failed: false };
      this.trace.push('final: a new rotation');
      await this.completeRotation(token, false);
    }
    // The stack DELETE: the custom resource, then the secrets and the users.
    const deployed = this.deployed!;
    const answer = await this.send(this.event('Delete', deployed.props, deployed.physicalId));
    if (answer?.Status !== 'SUCCESS') throw new Violation('I3', `the stack DELETE failed: ${answer?.Reason}`);
    this.deployed = undefined;
    for (const arn of this.secrets.values()) this.deleteSecret(arn);
    const left = this.localAws.credentials().filter((c) => this.made.has(c.ServiceSpecificCredentialId));
    if (left.length) {
      throw new Violation('I3', `after the stack DELETE, credentials the handler made still exist: ${left.map((c) => `${c.ServiceSpecificCredentialId} of ${c.UserName}`).join(', ')}`);
    }
    for (const user of Object.values(this.users)) {
      try {
        await this.world.iam.send(new DeleteUserCommand({ UserName: user }));
      } catch (err) {
        throw new Violation('I3', `deleting user ${user} after the stack DELETE failed: ${(err as Error).name} ${(err as Error).message}`);
      }
    }
    this.trace.push('stack deleted');
  }

  /** All four steps with this token; `retried` allows a token the stack made obsolete to fail, since a new one follows. */
  private async completeRotation(token: string, retried: boolean): Promise<void> {
    for (const step of STEPS) {
      const threw = await this.invoke({ SecretId: this.rotation!.secretArn, ClientRequestToken: token, Step: step });
      this.steps++;
      this.check();
      if (threw) {
        const pending = this.versionWith(this.rotation!.secretArn, 'AWSPENDING');
        // A retried token may be refused only when it no longer holds AWSPENDING: nothing then blocks a new rotation.
        if (retried && pending?.id !== token) break;
        throw new Violation('I2', `rotation ${short(token)} could not finish: ${step} failed\n${this.lastOutput}`);
      }
    }
    this.rotation = undefined;
  }

  // ----- invariants -----

  private check(): void {
    const credentials = this.localAws.credentials();
    const exists = (id?: string) => credentials.find((c) => c.ServiceSpecificCredentialId === id);
    const valueOf = (c: { ServicePassword?: string; ServiceCredentialSecret?: string }) => c.ServicePassword ?? c.ServiceCredentialSecret;
    const accepted = (doc?: Record<string, string>) => {
      const c = exists(doc?.serviceSpecificCredentialId);
      return c !== undefined && valueOf(c) === (doc!.password ?? doc!.apiKey);
    };

    // I5
    const perSlot = new Map<string, number>();
    for (const c of credentials) perSlot.set(`${c.UserName} ${c.ServiceName}`, (perSlot.get(`${c.UserName} ${c.ServiceName}`) ?? 0) + 1);
    for (const [slot, n] of perSlot) if (n > 2) throw new Violation('I5', `${n} credentials for ${slot}`);

    // I3: another actor's credentials are never deleted by the handler; the old resource stays whole until its DELETE.
    for (const id of this.others) {
      if (!exists(id) && !this.deletedByTest.has(id)) throw new Violation('I3', `the handler deleted credential ${id}, which another actor made`);
    }
    if (this.op?.keep && (this.op.phase === 'rollbackSucceeded' || this.op.phase === 'cleanup')) {
      for (const id of this.op.keep) {
        if (!exists(id) && !this.deletedByTest.has(id)) {
          throw new Violation('I3', `credential ${id} of the replaced resource ${this.op.before.physicalId} was deleted before its own DELETE`);
        }
      }
    }

    for (const arn of this.secrets.values()) {
      const secret = this.localAws.secret(arn);
      if (!secret) continue;
      // I2: a version that is pending and not current is empty (createSecret has not run) or holds an accepted value.
      const pending = secret.versions.find((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'));
      if (pending?.secretString) {
        const doc = JSON.parse(pending.secretString);
        // A credential deleted out of band is the world's doing: the handler lets go of it at the token's next step.
        if (!accepted(doc) && !this.deletedByTest.has(doc.serviceSpecificCredentialId) && !this.refusedPending.has(pending.id)) {
          throw new Violation('I2', `AWSPENDING of ${secret.name} is on version ${pending.id}, whose credential ${doc.serviceSpecificCredentialId} `
            + `${exists(doc.serviceSpecificCredentialId) ? 'has another value now' : 'no longer exists'}`);
        }
      }
      // (A refused label move may leave it; the next update that turns rotation on takes it off.)
      const rotationOff = !this.op && this.deployed?.props.SecretArn === arn && !this.deployed.props.RotationStrategy;
      if (pending && rotationOff && !this.refusedPending.has(pending.id)) {
        throw new Violation('I2', `AWSPENDING stays on version ${pending.id} of ${secret.name} after rotation was turned off`);
      }
    }

    // I1, between stack operations.
    if (!this.op && this.deployed && !this.damaged) {
      const props = this.deployed.props;
      const doc = this.documentAt(props.SecretArn, 'AWSCURRENT');
      const c = exists(doc?.serviceSpecificCredentialId);
      if (!doc?.serviceSpecificCredentialId) throw new Violation('I1', `${props.SecretArn} holds no credential`);
      if (!c) throw new Violation('I1', `AWSCURRENT names credential ${doc.serviceSpecificCredentialId}, which no longer exists`);
      if (!accepted(doc)) throw new Violation('I1', `AWSCURRENT holds a value of credential ${c.ServiceSpecificCredentialId} that IAM no longer accepts`);
      if (c.UserName !== props.UserName || c.ServiceName !== props.ServiceName) {
        throw new Violation('I1', `AWSCURRENT holds a credential of ${c.UserName} for ${c.ServiceName}; the stack asks for ${props.UserName}, ${props.ServiceName}`);
      }
      if (c.Status === 'Expired' && this.mustBeLive(props.SecretArn)) {
        throw new Violation('I1', `AWSCURRENT's credential ${c.ServiceSpecificCredentialId} has expired, though a new value was asked for or written since IAM's clock last moved`);
      }
      if (c.Status !== 'Expired' && c.Status !== props.Status) throw new Violation('I1', `AWSCURRENT's credential is ${c.Status}; the stack asks for ${props.Status}`);
    }
  }

  /**
   * Whether the current key must be live: its value was written since IAM's clock last moved (no one writes a value of
   * an expired key: IAM refuses to reset one, and a new key is live), or a stack update asked for a new value since.
   * A key written before may have expired since: nothing renews a key between a rotation and the next.
   */
  private mustBeLive(secretArn: string): boolean {
    const current = this.versionWith(secretArn, 'AWSCURRENT');
    return this.fresh || (current !== undefined && !this.valuesAtClock.has(current.id));
  }

  // ----- plumbing -----

  /** Out-of-band damage: to the resource deployed now, and to the old one if a stack operation may roll back to it. */
  private damage(): void {
    this.damaged = true;
    if (this.op) this.op.damagedWhile = true;
  }


  private stampValues(): void {
    for (const arn of this.secrets.values()) {
      for (const v of this.localAws.secret(arn)?.versions ?? []) {
        if (v.secretString && !this.valueSeen.has(v.id)) this.valueSeen.set(v.id, this.invocations);
      }
    }
  }


  private secret(name: 'one' | 'two', strategy: RotationStrategyName | 'none', status: Props['Status']): string {
    let arn = this.secrets.get(name);
    if (!arn) {
      // A new name each time, as CloudFormation generates one: a deleted secret's name stays taken while it is recoverable.
      arn = this.localAws.createSecret(`${this.secretNames[name]}-${++this.secretsMade}`, {
        value: randomBytes(24).toString('base64'),
        tags: [
          { Key: SECRET_TAG, Value: STACK_ID },
          { Key: CLOUDFORMATION_STACK_TAG, Value: STACK_ID },
          { Key: 'aws:cloudformation:logical-id', Value: `Secret${name}` },
        ],
      });
      this.secrets.set(name, arn);
      this.configureSecret(arn, strategy, status);
    }
    return arn;
  }

  /** As the construct tags the secret: the strategy and the status, with rotation only. */
  private configureSecret(arn: string, strategy: RotationStrategyName | 'none', status: Props['Status']): void {
    const secret = this.localAws.secret(arn)!;
    secret.tags = secret.tags.filter((t) => t.Key !== ROTATION_TAG && t.Key !== STATUS_TAG);
    if (strategy !== 'none') secret.tags.push({ Key: ROTATION_TAG, Value: strategy }, { Key: STATUS_TAG, Value: status });
    secret.rotationEnabled = strategy !== 'none';
  }

  private deleteSecret(arn: string): void {
    const secret = this.localAws.secret(arn);
    if (secret) secret.deleted = true;
    for (const [name, a] of this.secrets) if (a === arn) this.secrets.delete(name);
    if (this.rotation?.secretArn === arn) this.rotation = undefined;
  }

  private documentAt(secretArn: string, stage: string): Record<string, string> | undefined {
    const v = this.localAws.secret(secretArn)?.versions.find((x) => x.stages.includes(stage));
    try {
      return v?.secretString ? JSON.parse(v.secretString) : undefined;
    } catch {
      return undefined;
    }
  }

  private versionWith(secretArn: string, stage: string) {
    return this.localAws.secret(secretArn)?.versions.find((v) => v.stages.includes(stage));
  }

  private existing(userName: string, serviceName: string): Set<string> {
    return new Set(this.localAws.credentials({ userName, serviceName }).map((c) => c.ServiceSpecificCredentialId).filter((id) => this.made.has(id)));
  }

  private event(type: 'Create' | 'Update' | 'Delete', props: Props, physicalId?: string, oldProps?: Props): CloudFormationCustomResourceEvent {
    return cfnEvent(this.world, type, props, physicalId, oldProps);
  }

  /** Sends a CloudFormation event and returns the handler's answer. */
  private async send(event: CloudFormationCustomResourceEvent): Promise<CloudFormationCustomResourceResponse | undefined> {
    const before = this.world.catcher.responses.length;
    await this.invoke(event);
    const answer = this.world.catcher.responses.slice(before).find((r) => r.RequestId === event.RequestId);
    const raw = this.world.catcher.rawBodies.slice(before).join('\n');
    this.checkLeak(raw, 'an answer to CloudFormation');
    const id = 'PhysicalResourceId' in event ? ` ${event.PhysicalResourceId}` : '';
    this.trace.push(`  ${event.RequestType}${id}: ${answer?.Status ?? 'NO ANSWER'} ${answer?.PhysicalResourceId ?? ''}`);
    if (!answer) throw new Violation('I4', `the handler never answered the ${event.RequestType}:\n${this.lastOutput}`);
    return answer;
  }

  /** Runs one event through the bundled handler; true when it threw (a failed rotation step). */
  private async invoke(event: object): Promise<boolean> {
    const before = new Set(this.localAws.credentials().map((c) => c.ServiceSpecificCredentialId));
    const callsBefore = this.localAws.calls.length;
    const outcome = await this.world.lambda.run(event);
    this.invocations++;
    // A call AWS refused for good (an injected fault) after a reset: the old value is dead and the new one could not be
    // stored, so the credential is deleted and the secret names a credential that is gone, until a stack update
    // repairs it (I1 is checked again after it).
    if (this.localAws.calls.slice(callsBefore).some((c) => c.injected && FAULT_CODES.includes(c.outcome))) {
      this.damage();
      // A label move that was refused may leave AWSPENDING on a superseded value: its token lets go at its next step.
      for (const arn of this.secrets.values()) {
        const pending = this.versionWith(arn, 'AWSPENDING');
        if (pending) this.refusedPending.add(pending.id);
      }
    }
    this.lastOutput = outcome.output;
    for (const c of this.localAws.credentials()) if (!before.has(c.ServiceSpecificCredentialId)) this.made.add(c.ServiceSpecificCredentialId);
    // A rotation before the UPDATE is answered rotates the old resource: what it issues (a new key in place of an expired
    // one, a pair's new credential) is the old resource's too, which a rollback comes back to.
    if ('Step' in event && this.op && !this.op.answered) {
      for (const c of this.localAws.credentials()) {
        if (!before.has(c.ServiceSpecificCredentialId)) this.op.oldCredentials.add(c.ServiceSpecificCredentialId);
      }
    }
    this.checkLeak(outcome.output, 'the handler\'s log');
    if (!outcome.finished) throw new Violation('I4', `the handler ran into the Lambda timeout on ${JSON.stringify(event).slice(0, 200)}`);
    return outcome.threw;
  }

  private checkLeak(text: string, where: string): void {
    for (const c of this.localAws.credentials()) {
      const value = c.ServicePassword ?? c.ServiceCredentialSecret;
      if (value) this.issued.add(value);
    }
    for (const value of this.issued) if (text.includes(value)) throw new Violation('I6', `a secret value appeared in ${where}`);
  }

  private async deleteCredential(userName: string, id: string): Promise<void> {
    await this.world.iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id }));
  }

  /** Deletes what a sequence that stopped early left behind, so that later sequences start clean. */
  public async tidy(): Promise<void> {
    for (const c of this.localAws.credentials()) {
      if (Object.values(this.users).includes(c.UserName)) {
        await this.deleteCredential(c.UserName, c.ServiceSpecificCredentialId);
      }
    }
    for (const arn of this.secrets.values()) this.deleteSecret(arn);
  }
}

/** The refusals `faultOf` injects (the local IAM also answers InvalidInput itself, for an expired key: not a fault). */
const FAULT_CODES = ['InvalidInput', 'InvalidRequestException'];

/** A CloudFormation event for the one custom resource of the stack the world's handler serves. */
export function cfnEvent(
  world: World, type: 'Create' | 'Update' | 'Delete', props: Props, physicalId?: string, oldProps?: Props,
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: `${world.catcher.url}?X-Amz-Signature=${randomBytes(8).toString('hex')}`,
    StackId: STACK_ID,
    RequestId: randomUUID(),
    LogicalResourceId: 'Credential',
    ResourceType: RESOURCE_TYPE,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...props },
  };
  if (type === 'Create') return { ...common, RequestType: 'Create' };
  if (type === 'Delete') return { ...common, RequestType: 'Delete', PhysicalResourceId: physicalId! };
  return { ...common, RequestType: 'Update', PhysicalResourceId: physicalId!, OldResourceProperties: { ServiceToken: SERVICE_TOKEN, ...oldProps } };
}

function faultOf(service: 'iam' | 'secretsmanager') {
  // Errors the handler cannot retry: the step or event fails, and must leave the world consistent.
  return service === 'iam'
    ? { code: 'InvalidInput', status: 400, message: 'injected fault' }
    : { code: 'InvalidRequestException', status: 400, message: 'injected fault' };
}

/** An UPDATE that asks for a new secret value: a new resetSerial or secret, or a replacement (a new key). */
function asksNewValue(old: Props, props: Props): boolean {
  return old.ResetSerial !== props.ResetSerial || old.SecretArn !== props.SecretArn
    || old.UserName !== props.UserName || old.ServiceName !== props.ServiceName
    || (old.CredentialAgeDays ?? '') !== (props.CredentialAgeDays ?? '');
}

/** A replacement whose new credential takes no slot of the old one: the old resource needs none of its credentials gone. */
function replacedElsewhere(old: Props, props: Props): boolean {
  return old.UserName !== props.UserName || old.ServiceName !== props.ServiceName;
}

function describeChanges(old: Props, props: Props): string {
  return (Object.keys(props) as Array<keyof Props>).concat(Object.keys(old).filter((k) => !(k in props)) as Array<keyof Props>)
    .filter((k) => old[k] !== props[k])
    .map((k) => `${k}: ${k === 'SecretArn' || k === 'UserName' ? tail(old[k]) : old[k] ?? '-'} -> ${k === 'SecretArn' || k === 'UserName' ? tail(props[k]) : props[k] ?? '-'}`)
    .join(', ');
}

const tail = (s?: string) => (s ? s.split(/[-:]/).slice(-2).join('-') : '-');
const short = (token: string) => token.slice(0, 8);

export function describeScenario(scenario: Scenario): string {
  return JSON.stringify({ ...scenario, actions: undefined }) + '\n' + scenario.actions.map((a, i) => `  ${i}: ${JSON.stringify(a)}`).join('\n');
}

/** What a run of many scenarios did, for the summary line. */
export interface Totals { sequences: number; steps: number; invocations: number }

/** The property the random scenarios must keep: I1-I7 after every step. A failure names the invariant, the actions and the trace. */
export function invariantsHold(world: World, totals: Totals): fc.IAsyncPropertyWithHooks<[Scenario]> {
  return fc.asyncProperty(scenarios(), async (scenario) => {
    const result = await run(world, scenario);
    totals.sequences++;
    totals.steps += result.steps;
    totals.invocations += result.invocations;
    if (result.violation) {
      throw new Error(`${result.violation.message}\nat action ${result.at} of\n${describeScenario(scenario)}\ntrace:\n${result.trace.join('\n')}`);
    }
  });
}
