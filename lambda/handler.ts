import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse, Context as LambdaContext } from 'aws-lambda';
import { Iam, UserError } from './iam';
import { Context, Outcome, onCreate, onDelete, onUpdate } from './lifecycle';
import { respond } from './respond';
import { abortableSleep, errorCode } from './retry';
import { Secrets } from './secrets';
import type { CredentialResourceProperties as Props } from '../src/handler-contract';

/** Time kept back from the Lambda timeout to undo half-done work and answer CloudFormation. */
const RESERVE_MS = 15_000;

export interface HandlerOptions {
  readonly iam?: IAMClient;
  readonly secretsManager?: SecretsManagerClient;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly log?: (line: string) => void;
}

/**
 * The custom resource handler. It answers CloudFormation itself, on every path: a handler that throws or times out
 * leaves the stack waiting an hour, and Lambda retries the event.
 */
export function makeHandler(options: HandlerOptions = {}) {
  const sleep = options.sleep ?? abortableSleep;
  const log = options.log ?? ((line: string) => console.log(line));
  // Default client config, so that AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SECRETS_MANAGER can redirect them.
  let clients: { iam: Iam; secrets: Secrets } | undefined;

  return async (event: CloudFormationCustomResourceEvent, context: LambdaContext): Promise<void> => {
    clients ??= {
      iam: new Iam(options.iam ?? new IAMClient({})),
      secrets: new Secrets(options.secretsManager ?? new SecretsManagerClient({})),
    };
    const started = Date.now();
    const remaining = context.getRemainingTimeInMillis();
    const reserve = Math.min(RESERVE_MS, remaining / 4);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('the Lambda function is about to time out')), remaining - reserve);
    const secrets = new Set<string>();
    const redact = (text: string) => [...secrets].reduce((t, s) => t.split(s).join('*****'), text);
    const ctx: Context = {
      ...clients,
      budget: { signal: abort.signal, sleep },
      cleanupBudget: () => ({ signal: AbortSignal.timeout(reserve / 3), sleep }),
      remember: (secret) => secret && secrets.add(secret),
      log: (line) => log(redact(line)),
    };

    log(JSON.stringify(describeEvent(event)));
    let response: CloudFormationCustomResourceResponse;
    try {
      const outcome = await route(ctx, event);
      response = answer(event, 'SUCCESS', outcome.physicalId, { Data: outcome.data });
      log(`${event.RequestType} succeeded: physical id ${outcome.physicalId} (${Date.now() - started} ms)`);
    } catch (err) {
      const reason = redact(reasonOf(err, abort.signal, event.ResourceProperties as unknown as Props));
      response = answer(event, 'FAILED', failedPhysicalId(event), { Reason: reason });
      log(`${event.RequestType} failed: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
    try {
      await respond(event, response, Math.max(1000, context.getRemainingTimeInMillis() - 1000));
    } catch (err) {
      log(`could not answer CloudFormation: ${errorCode(err)}`);
    }
  };
}

export const handler = makeHandler();

function route(ctx: Context, event: CloudFormationCustomResourceEvent): Promise<Outcome> {
  const props = event.ResourceProperties as unknown as Props;
  switch (event.RequestType) {
    case 'Create':
      return onCreate(ctx, props, event.RequestId);
    case 'Update':
      return onUpdate(ctx, event.PhysicalResourceId, event.OldResourceProperties as unknown as Props, props, event.RequestId);
    case 'Delete':
      return onDelete(ctx, event.PhysicalResourceId, props);
  }
}

function answer(
  event: CloudFormationCustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  physicalId: string,
  extra: { Data?: object; Reason?: string },
): CloudFormationCustomResourceResponse {
  return {
    Status: status,
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    ...extra,
  } as CloudFormationCustomResourceResponse;
}

/** A failed CREATE gets an id that names no credential, so the DELETE CloudFormation sends next touches nothing. */
function failedPhysicalId(event: CloudFormationCustomResourceEvent): string {
  return event.RequestType === 'Create' ? `failed-create-${event.RequestId}` : event.PhysicalResourceId;
}

function reasonOf(err: unknown, signal: AbortSignal, props: Props): string {
  if (signal.aborted) {
    // An aborted Create may still have made a credential; only its id is unknown, so name where to look.
    return `Timed out waiting for IAM or Secrets Manager (${errorCode(err)}) for IAM user '${props.UserName}' and `
      + `${props.ServiceName}: retry the deployment; 'aws iam list-service-specific-credentials' shows any credential left behind`;
  }
  if (err instanceof UserError) return err.message;
  const message = (err as Error).message ?? '';
  return `${errorCode(err)}: ${message}`;
}

/** The event without the pre-signed ResponseURL, which would let anyone answer for this resource. */
function describeEvent(event: CloudFormationCustomResourceEvent) {
  return {
    RequestType: event.RequestType,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    PhysicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : undefined,
    ResourceProperties: event.ResourceProperties,
    OldResourceProperties: 'OldResourceProperties' in event ? event.OldResourceProperties : undefined,
  };
}
