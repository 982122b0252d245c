import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateUserCommand, DeleteUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App, Stack } from 'aws-cdk-lib';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { EXPIRY_ALERT_RESOURCE_TYPE, RESOURCE_TYPE } from '../../src/handler-contract';
import { ResponseCatcher } from '../handler-harness';
import type { ConfigurationTestForm, LocalAws } from '../local-aws';
import type { WarmLambda } from './warm-lambda';

/**
 * A small CloudFormation for one stack: it deploys synthesized templates the way CloudFormation would, as far as
 * this construct can tell. IAM users and secrets are created in the local AWS; each custom resource event runs the
 * real bundled handler from cdk.out in a child Node process with a Lambda-like environment and context, and its
 * answer is caught on a local ResponseURL. Replacement cleanup, rollbacks and the Lambda timeout behave as on AWS.
 */

const STACK_NAME = 'GitCredentialExample';

/** The custom resource types the handler serves: each event of theirs runs the handler. */
const isCustom = (type: string) => type === RESOURCE_TYPE || type === EXPIRY_ALERT_RESOURCE_TYPE;

/**
 * The order resources are created in (the template's references, simplified): users and secrets before the credential
 * that references both; a RotationSchedule after the first value is stored; an expiry alert after the credential whose
 * expiry it reads, its schedule after it; rules last, as they read the credential's attributes.
 */
const CREATION_ORDER: Record<string, number> = {
  'AWS::IAM::User': 0,
  'AWS::SecretsManager::Secret': 1,
  [RESOURCE_TYPE]: 3,
  'AWS::SecretsManager::RotationSchedule': 4,
  [EXPIRY_ALERT_RESOURCE_TYPE]: 5,
  'AWS::Scheduler::Schedule': 6,
  'AWS::Events::Rule': 7,
};

type Template = { Resources: Record<string, { Type: string; Properties?: any; Metadata?: Record<string, string>; DeletionPolicy?: string }> };

/** One synthesized stack: its template and the bundled handler CDK staged for it. */
export interface Synthesized {
  readonly template: Template;
  /** The handler file inside cdk.out, i.e. exactly what `cdk deploy` uploads. */
  readonly handlerFile: string;
  readonly handlerTimeoutMs: number;
}

/** Synthesizes a stack with real aws-cdk-lib, writing its assets into a fresh cdk.out. */
export function synthesize(build: (app: App) => Stack): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk.out-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = build(app);
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as Template;
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path']);
  if (!fn) throw new Error('no Lambda function with an asset in the template');
  return {
    template,
    handlerFile: path.join(outdir, fn.Metadata!['aws:asset:path'], 'index.js'),
    handlerTimeoutMs: fn.Properties.Timeout * 1000,
  };
}

/** One custom resource event, as the handler saw it and answered it. */
/** What Secrets Manager sends for each rotation step. */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: string;
}

export interface Invocation<E = CloudFormationCustomResourceEvent> {
  readonly event: E;
  /** Undefined when the handler never answered (CloudFormation would wait an hour). */
  readonly response?: CloudFormationCustomResourceResponse;
  /** The raw body the handler PUT to the ResponseURL. */
  readonly responseBody?: string;
  /** The handler's stdout and stderr: what CloudWatch Logs would hold. */
  readonly output: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** The API calls the handler made, e.g. `iam:CreateServiceSpecificCredential -> ok`. */
  readonly calls: string[];
}

/** One rotation as Secrets Manager runs it: its steps in order, stopping at the first that fails. */
export interface Rotation {
  readonly token: string;
  readonly invocations: Array<Invocation<RotationEvent>>;
  /** The step that failed; undefined when all four succeeded. */
  readonly failedStep?: string;
}

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

/** A wave of CREATEs: each custom resource's outcome and time from dispatch to answer, and the wave's duration. */
export interface Wave {
  readonly results: Array<{ logicalId: string; status: string; reason?: string; latencyMs: number }>;
  readonly wallMs: number;
}

export interface Deployment {
  readonly status: 'COMPLETE' | 'ROLLBACK_COMPLETE';
  readonly invocations: Invocation[];
}

export interface DriverOptions {
  /** Overrides the function's timeout, to test the deadline without waiting minutes. */
  readonly lambdaTimeoutMs?: number;
}

export interface Deployed {
  readonly type: string;
  /** DeletionPolicy Retain: CloudFormation leaves it in place when it leaves the stack. */
  retain?: boolean;
  physicalId: string;
  attributes: Record<string, string>;
  properties: Record<string, unknown>;
}

export class CloudFormation {
  public static async start(localAws: LocalAws, options: DriverOptions = {}): Promise<CloudFormation> {
    return new CloudFormation(localAws, await ResponseCatcher.start(), options);
  }

  /** The most recent event's invocation, e.g. to deliver the same event again. */
  public lastInvocation?: Invocation;
  public readonly stackId = `arn:aws:cloudformation:us-east-1:123456789012:stack/${STACK_NAME}/${randomUUID()}`;
  private deployed = new Map<string, Deployed>();
  private readonly iam: IAMClient;
  private readonly secretsManager: SecretsManagerClient;

  private constructor(private readonly localAws: LocalAws, private readonly catcher: ResponseCatcher, private readonly options: DriverOptions) {
    const config = { endpoint: localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'cfn', secretAccessKey: 'cfn' } };
    this.iam = new IAMClient(config);
    this.secretsManager = new SecretsManagerClient(config);
  }

  /** The physical id and attributes of a deployed resource, by logical id. */
  public resource(logicalId: string): Deployed | undefined {
    return this.deployed.get(logicalId);
  }

  /** Every deployed resource of a type. */
  public resourcesOfType(type: string): Deployed[] {
    return [...this.deployed.values()].filter((r) => r.type === type);
  }

  /** The first deployed resource of a type (e.g. the one custom resource of an example stack). */
  public resourceOfType(type: string): Deployed | undefined {
    return [...this.deployed.values()].find((r) => r.type === type);
  }

  /**
   * Creates or updates the stack to this template; on a failed custom resource, rolls back like CloudFormation.
   * `failAfterResources` makes another resource of the stack fail once the custom resources have succeeded.
   */
  public async deploy(synth: Synthesized, options: { failAfterResources?: boolean } = {}): Promise<Deployment> {
    const invocations: Invocation[] = [];
    const before = new Map([...this.deployed].map(([id, r]) => [id, { ...r }]));
    const replaced: Array<[string, Deployed]> = [];
    const changed: string[] = [];
    const resources = Object.entries(synth.template.Resources);
    const order = (type: string) => CREATION_ORDER[type] ?? 2;
    resources.sort(([, a], [, b]) => order(a.Type) - order(b.Type));

    for (const [logicalId, resource] of resources) {
      const properties = this.resolve(resource.Properties ?? {});
      const current = this.deployed.get(logicalId);
      if (isCustom(resource.Type)) {
        const { ServiceToken: _, ...props } = properties;
        const event = current
          ? (JSON.stringify(current.properties) === JSON.stringify(props) ? undefined : this.event('Update', logicalId, props, current))
          : this.event('Create', logicalId, props, undefined, resource.Type);
        if (!event) continue;
        const invocation = await this.invoke(synth, event);
        invocations.push(invocation);
        if (invocation.response?.Status !== 'SUCCESS') {
          await this.rollback(synth, before, invocations, logicalId, invocation);
          return { status: 'ROLLBACK_COMPLETE', invocations };
        }
        const answer = invocation.response;
        changed.push(logicalId);
        if (current && answer.PhysicalResourceId !== current.physicalId) replaced.push([logicalId, { ...current }]);
        this.deployed.set(logicalId, {
          type: resource.Type, physicalId: answer.PhysicalResourceId, attributes: (answer.Data ?? {}) as Record<string, string>, properties: props,
        });
      } else if (!current || this.needsReplacement(resource.Type, current, properties)) {
        if (current) replaced.push([logicalId, { ...current }]);
        this.deployed.set(logicalId, await this.createPlain(logicalId, resource.Type, properties));
      } else {
        // Updated in place: what it holds now is what the template says (e.g. a schedule's expression).
        this.deployed.set(logicalId, { ...current, properties });
      }
      this.deployed.get(logicalId)!.retain = resource.DeletionPolicy === 'Retain';
    }

    if (options.failAfterResources) {
      await this.rollbackSucceeded(synth, before, changed, invocations);
      return { status: 'ROLLBACK_COMPLETE', invocations };
    }

    // Cleanup phase: replaced custom resources get a DELETE for their old physical id, then removed resources go.
    for (const [logicalId, old] of replaced.filter(([, r]) => isCustom(r.type))) {
      invocations.push(await this.invoke(synth, this.event('Delete', logicalId, old.properties, old)));
    }
    const removed = [...this.deployed].filter(([id]) => !synth.template.Resources[id]);
    for (const [logicalId, old] of removed) {
      if (isCustom(old.type) && !old.retain) invocations.push(await this.invoke(synth, this.event('Delete', logicalId, old.properties, old)));
      this.deployed.delete(logicalId);
    }
    for (const [, old] of [...replaced, ...removed.filter(([, r]) => !r.retain)]) {
      await this.deletePlain(old);
    }
    return { status: 'COMPLETE', invocations };
  }

  /**
   * Creates a new stack as CloudFormation does when it has many credentials: every custom resource whose dependencies
   * are done is sent at once, to warm environments of the function (`lambda`). `ignoreDependencies` sends all
   * of them at once, as for a template without the construct's ordering. A failure is recorded, not rolled back;
   * what depends on it is not started. Times are on the lambda's (warped) clock.
   */
  public async createWave(synth: Synthesized, lambda: WarmLambda, options: { ignoreDependencies?: boolean } = {}): Promise<Wave> {
    const resources = Object.entries(synth.template.Resources);
    for (const [logicalId, r] of resources.filter(([, x]) => x.Type !== RESOURCE_TYPE && x.Type !== 'AWS::SecretsManager::RotationSchedule')) {
      this.deployed.set(logicalId, await this.createPlain(logicalId, r.Type, this.resolve(r.Properties ?? {})));
    }
    const custom = new Map(resources.filter(([, r]) => r.Type === RESOURCE_TYPE));
    const done = new Map<string, Promise<boolean>>();
    const results: Wave['results'] = [];
    const started = lambda.now();
    const create = async (logicalId: string): Promise<boolean> => {
      await null; // every resource's promise is registered before any looks up its dependencies
      const before = options.ignoreDependencies ? [] : ((custom.get(logicalId) as any).DependsOn ?? []).filter((d: string) => custom.has(d));
      const ready = (await Promise.all(before.map((d: string) => done.get(d)!))).every(Boolean);
      if (!ready) return false;
      const { ServiceToken: _, ...props } = this.resolve(custom.get(logicalId)!.Properties);
      const event = this.event('Create', logicalId, props);
      const dispatched = lambda.now();
      await lambda.invoke(event);
      const response = this.catcher.responses.find((r) => r.RequestId === event.RequestId);
      results.push({ logicalId, status: response?.Status ?? 'NO ANSWER', reason: response?.Reason, latencyMs: lambda.now() - dispatched });
      if (response?.Status !== 'SUCCESS') return false;
      this.deployed.set(logicalId, {
        type: RESOURCE_TYPE, physicalId: response.PhysicalResourceId, attributes: (response.Data ?? {}) as Record<string, string>, properties: props,
      });
      return true;
    };
    for (const logicalId of custom.keys()) done.set(logicalId, create(logicalId));
    await Promise.all(done.values());
    return { results, wallMs: lambda.now() - started };
  }

  /**
   * Rotates a secret as Secrets Manager would: RotateSecret labels an empty version AWSPENDING under the token, then
   * the function is invoked for each step. `steps` limits the steps run (an abandoned rotation); the same token may
   * be given again, as Secrets Manager retries a failed rotation; `resume` continues a rotation without starting it again.
   */
  public async rotate(
    synth: Synthesized, secretArn: string, options: { token?: string; steps?: readonly string[]; resume?: boolean } = {},
  ): Promise<Rotation> {
    const token = options.token ?? randomUUID();
    if (!options.resume) this.localAws.startRotation(secretArn, token);
    const invocations: Array<Invocation<RotationEvent>> = [];
    for (const step of options.steps ?? ROTATION_STEPS) {
      const invocation = await this.invoke(synth, { SecretId: secretArn, ClientRequestToken: token, Step: step });
      invocations.push(invocation);
      // A step that throws is a failed invocation: Lambda reports a function error.
      if (invocation.exitCode !== 0) return { token, invocations, failedStep: step };
    }
    return { token, invocations };
  }

  /**
   * What Secrets Manager does when CloudFormation creates or updates a RotationSchedule with
   * `RotateImmediatelyOnUpdate: false` (the construct's default): it tests the rotation configuration by invoking
   * testSecret alone, on an AWSPENDING version it creates and then removes (see `startConfigurationTest`).
   */
  public async testRotationConfiguration(synth: Synthesized, secretArn: string, form: ConfigurationTestForm): Promise<Invocation<RotationEvent>> {
    const token = randomUUID();
    this.localAws.startConfigurationTest(secretArn, token, form);
    try {
      return await this.invoke(synth, { SecretId: secretArn, ClientRequestToken: token, Step: 'testSecret' });
    } finally {
      this.localAws.endConfigurationTest(secretArn, token);
    }
  }

  /** Deletes the stack: custom resources first (they depend on the users and secrets), then the rest. */
  public async destroy(synth: Synthesized): Promise<Deployment> {
    const invocations: Invocation[] = [];
    for (const [logicalId, r] of this.deployed) {
      if (isCustom(r.type) && !r.retain) invocations.push(await this.invoke(synth, this.event('Delete', logicalId, r.properties, r)));
    }
    for (const r of this.deployed.values()) if (!r.retain) await this.deletePlain(r);
    this.deployed.clear();
    return { status: 'COMPLETE', invocations };
  }

  public close(): Promise<void> {
    this.iam.destroy();
    this.secretsManager.destroy();
    return this.catcher.close();
  }

  private async rollback(synth: Synthesized, before: Map<string, Deployed>, invocations: Invocation[], logicalId: string, failed: Invocation) {
    const previous = before.get(logicalId);
    if (failed.event.RequestType === 'Create') {
      // CloudFormation deletes what the failed CREATE answered, whatever id that is.
      const physicalId = failed.response?.PhysicalResourceId ?? failed.event.RequestId;
      invocations.push(await this.invoke(synth, this.event('Delete', logicalId, (failed.event.ResourceProperties as any), { physicalId, type: failed.event.ResourceType } as Deployed)));
    } else if (previous && failed.event.RequestType === 'Update') {
      // The rollback UPDATE goes back to the old properties, with the failed ones as "old".
      const { ServiceToken: _, ...attempted } = failed.event.ResourceProperties;
      invocations.push(await this.invoke(synth, this.event('Update', logicalId, previous.properties, { ...previous, properties: attempted })));
      const answer = invocations[invocations.length - 1].response;
      if (answer?.Status === 'SUCCESS') {
        const attributes = (answer.Data ?? {}) as Record<string, string>;
        this.deployed.set(logicalId, { ...previous, physicalId: answer.PhysicalResourceId, attributes });
      }
    }
    await this.restorePlain(before);
  }

  /**
   * A later resource failed after these custom resources succeeded. A replaced one is not called back: the old
   * credential is current again and the new one is deleted in the cleanup. One updated in place gets an UPDATE
   * back to its old properties; one created gets a DELETE.
   */
  private async rollbackSucceeded(synth: Synthesized, before: Map<string, Deployed>, changed: string[], invocations: Invocation[]) {
    for (const logicalId of [...changed].reverse()) {
      const now = this.deployed.get(logicalId)!;
      const previous = before.get(logicalId);
      if (previous && previous.physicalId === now.physicalId) {
        invocations.push(await this.invoke(synth, this.event('Update', logicalId, previous.properties, now)));
        this.deployed.set(logicalId, { ...previous, attributes: (this.lastInvocation?.response?.Data ?? {}) as Record<string, string> });
      } else {
        invocations.push(await this.invoke(synth, this.event('Delete', logicalId, now.properties, now)));
        if (previous) this.deployed.set(logicalId, previous);
      }
    }
    await this.restorePlain(before);
  }

  /** Users and secrets this deployment created or replaced go away; the ones from before are current again. */
  private async restorePlain(before: Map<string, Deployed>) {
    for (const [id, r] of [...this.deployed]) {
      const old = before.get(id);
      if (isCustom(r.type)) {
        if (!old) this.deployed.delete(id);
        continue;
      }
      if (old?.physicalId !== r.physicalId) await this.deletePlain(r);
      if (old) this.deployed.set(id, old);
      else this.deployed.delete(id);
    }
  }

  /** The event CloudFormation would send for a custom resource, answered to this CloudFormation's ResponseURL. */
  public event(
    type: 'Create' | 'Update' | 'Delete', logicalId: string, props: Record<string, unknown>, current?: Deployed, resourceType = current?.type,
  ): CloudFormationCustomResourceEvent {
    const serviceToken = 'arn:aws:lambda:us-east-1:123456789012:function:ServiceSpecificCredentialHandler';
    const common = {
      ServiceToken: serviceToken,
      ResponseURL: this.catcher.url + '?X-Amz-Signature=' + randomBytes(16).toString('hex'),
      StackId: this.stackId,
      RequestId: randomUUID(),
      LogicalResourceId: logicalId,
      ResourceType: resourceType && isCustom(resourceType) ? resourceType : RESOURCE_TYPE,
      ResourceProperties: { ServiceToken: serviceToken, ...props },
    };
    if (type === 'Create') return { ...common, RequestType: 'Create' };
    if (type === 'Delete') return { ...common, RequestType: 'Delete', PhysicalResourceId: current!.physicalId };
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: current!.physicalId,
      OldResourceProperties: { ServiceToken: serviceToken, ...current!.properties },
    };
  }

  /** Runs the bundled handler for one event in a fresh Node process, as Lambda would, and waits for its answer. */
  public async invoke<E extends CloudFormationCustomResourceEvent | RotationEvent>(synth: Synthesized, event: E): Promise<Invocation<E>> {
    const timeoutMs = this.options.lambdaTimeoutMs ?? synth.handlerTimeoutMs;
    const answersBefore = this.catcher.responses.length;
    const callsBefore = this.localAws.calls.length;
    const started = Date.now();
    const child = spawn(process.execPath, ['-e', LAMBDA_RUNTIME, synth.handlerFile], {
      env: {
        ...this.lambdaEnvironment(synth),
        PATH: process.env.PATH,
        HOME: os.tmpdir(),
        LAMBDA_EVENT: JSON.stringify(event),
        LAMBDA_TIMEOUT_MS: String(timeoutMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    // Lambda ends the process at its timeout, whatever it is doing.
    const killer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    const answered = this.catcher.responses.length > answersBefore;
    const invocation: Invocation<E> = {
      event,
      response: answered ? this.catcher.last : undefined,
      responseBody: answered ? this.catcher.rawBodies[this.catcher.rawBodies.length - 1] : undefined,
      output,
      exitCode,
      timedOut,
      durationMs: Date.now() - started,
      calls: this.localAws.calls.slice(callsBefore).map((c) => `${c.service}:${c.operation} -> ${c.outcome}`),
    };
    if (!('Step' in event)) this.lastInvocation = invocation as Invocation<any>;
    return invocation;
  }

  /** The environment Lambda gives the function: its template's variables, resolved as CloudFormation would, and the local AWS. */
  public lambdaEnvironment(synth: Synthesized): Record<string, string> {
    const fn = Object.values(synth.template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path']);
    return {
      ...this.resolve(fn?.Properties?.Environment?.Variables ?? {}),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'lambda-role',
      AWS_SECRET_ACCESS_KEY: 'lambda-role',
      AWS_SESSION_TOKEN: 'lambda-session',
      AWS_LAMBDA_FUNCTION_NAME: 'ServiceSpecificCredentialHandler',
      AWS_ENDPOINT_URL_IAM: this.localAws.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.localAws.endpoint,
    };
  }

  private needsReplacement(type: string, current: Deployed, properties: Record<string, any>): boolean {
    if (type === 'AWS::IAM::User') return (properties.UserName ?? current.physicalId) !== current.physicalId;
    if (type === 'AWS::SecretsManager::Secret') return (properties.Name ?? current.properties.Name) !== current.properties.Name;
    return false;
  }

  private async createPlain(logicalId: string, type: string, properties: Record<string, any>): Promise<Deployed> {
    const generated = `${STACK_NAME}-${logicalId}-${randomBytes(6).toString('hex').toUpperCase()}`.slice(0, 64);
    if (type === 'AWS::IAM::User') {
      const out = await this.iam.send(new CreateUserCommand({ UserName: properties.UserName ?? generated }));
      return { type, physicalId: out.User!.UserName!, attributes: { Arn: out.User!.Arn! }, properties };
    }
    if (type === 'AWS::SecretsManager::Secret') {
      // CloudFormation's GenerateSecretString: a random initial value the handler later replaces. CloudFormation
      // adds its own aws:cloudformation:* tags, which no API caller can set.
      const arn = this.localAws.createSecret(properties.Name ?? generated, {
        kmsKeyId: properties.KmsKeyId,
        value: randomBytes(24).toString('base64'),
        tags: [
          ...(properties.Tags ?? []),
          { Key: 'aws:cloudformation:stack-name', Value: STACK_NAME },
          { Key: 'aws:cloudformation:stack-id', Value: this.stackId },
          { Key: 'aws:cloudformation:logical-id', Value: logicalId },
        ],
      });
      return { type, physicalId: arn, attributes: {}, properties };
    }
    if (type === 'AWS::SecretsManager::RotationSchedule') {
      this.localAws.secret(properties.SecretId)!.rotationEnabled = true;
      return { type, physicalId: properties.SecretId, attributes: {}, properties };
    }
    // Roles, policies, the function and its log group are not modelled: only their names are referenced.
    return { type, physicalId: `${logicalId}-physical`, attributes: { Arn: `arn:aws:local:::${logicalId}` }, properties };
  }

  private async deletePlain(resource: Deployed): Promise<void> {
    if (resource.type === 'AWS::IAM::User') await this.iam.send(new DeleteUserCommand({ UserName: resource.physicalId }));
    if (resource.type === 'AWS::SecretsManager::Secret') {
      await this.secretsManager.send(new DeleteSecretCommand({ SecretId: resource.physicalId, ForceDeleteWithoutRecovery: true }));
    }
  }

  /** Ref, Fn::GetAtt and Fn::Join against what is deployed, as CloudFormation resolves properties. */
  private resolve(value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    if ('Ref' in value) {
      if (value.Ref === 'AWS::Region') return 'us-east-1';
      if (value.Ref === 'AWS::AccountId') return this.localAws.accountId;
      if (value.Ref === 'AWS::Partition') return 'aws';
      if (value.Ref === 'AWS::StackId') return this.stackId;
      if (value.Ref === 'AWS::StackName') return STACK_NAME;
      return this.deployed.get(value.Ref)?.physicalId ?? `<unresolved ${value.Ref}>`;
    }
    if ('Fn::GetAtt' in value) {
      const [id, attr] = value['Fn::GetAtt'];
      return this.deployed.get(id)?.attributes[attr] ?? `<unresolved ${id}.${attr}>`;
    }
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'];
      return this.resolve(parts).join(sep);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }
}

/**
 * The Lambda runtime's part, run with `node -e`: load the handler module, call it with the event and a context
 * whose getRemainingTimeInMillis counts down to the timeout, and end the process when it returns, as Lambda
 * freezes it. A handler that throws is what the async invoke would retry: its exit code tells.
 */
const LAMBDA_RUNTIME = `
const deadline = Date.now() + Number(process.env.LAMBDA_TIMEOUT_MS);
const { handler } = require(process.argv[1]);
const context = { getRemainingTimeInMillis: () => deadline - Date.now(), functionName: process.env.AWS_LAMBDA_FUNCTION_NAME };
handler(JSON.parse(process.env.LAMBDA_EVENT), context).then(
  () => process.exit(0),
  (err) => { console.error('handler threw ' + (err && err.name)); process.exit(1); },
);
`;
