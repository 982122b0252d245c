import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse, Context as LambdaContext } from 'aws-lambda';
import { Iam } from './aws/iam';
import { respond } from './aws/respond';
import { abortableSleep } from './aws/retry';
import { Secrets } from './aws/secrets';
import { OutOfTime, StillDenied, UserError, errorCode } from './logic/errors';
import { failedCreateId } from './logic/physical-id';
import { checkEventStack } from './logic/stack-binding';
import { RotationEvent, isRotationEvent, onRotation } from './rotation/steps';
import type { Context } from './shared/context';
import type { Outcome } from './stack/common';
import { onCreate } from './stack/create';
import { onDelete } from './stack/delete';
import { onUpdate } from './stack/update';
import { STACK_ID_VARIABLE, type CredentialResourceProperties as Props } from '../src/handler-contract';

/** Time kept back from the Lambda timeout to undo half-done work and answer CloudFormation. */
const RESERVE_MS = 15_000;

export interface HandlerOptions {
  readonly iam?: IAMClient;
  readonly secretsManager?: SecretsManagerClient;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly log?: (line: string) => void;
  /** The handler's own stack. @default - the STACK_ID environment variable the construct sets */
  readonly stackId?: string;
}

/** CloudFormation rejects a response body over 4,096 bytes; the reason is cut to fit. */
const MAX_RESPONSE_BYTES = 4_096;

/**
 * The custom resource handler. It answers CloudFormation itself, on every path: a handler that throws or times out
 * leaves the stack waiting an hour, and Lambda retries the event.
 */
export function makeHandler(options: HandlerOptions = {}) {
  const sleep = options.sleep ?? abortableSleep;
  const log = options.log ?? ((line: string) => console.log(line));
  const stackId = options.stackId ?? process.env[STACK_ID_VARIABLE];
  // Default client config, so that AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SECRETS_MANAGER can redirect them; one
  // attempt per call, since withRetry is the one retry layer (a second one inside it multiplies the attempts).
  let clients: { iam: Iam; secrets: Secrets } | undefined;

  return async (event: CloudFormationCustomResourceEvent | RotationEvent, context: LambdaContext): Promise<void> => {
    clients ??= {
      iam: new Iam(options.iam ?? new IAMClient({ maxAttempts: 1 })),
      secrets: new Secrets(options.secretsManager ?? new SecretsManagerClient({ maxAttempts: 1 })),
    };
    const started = Date.now();
    const remaining = context.getRemainingTimeInMillis();
    const reserve = Math.min(RESERVE_MS, remaining / 4);
    const deadline = started + remaining - reserve;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('the Lambda function is about to time out')), deadline - started);
    const secrets = new Set<string>();
    const redact = (text: string) => [...secrets].reduce((t, s) => t.split(s).join('*****'), text);
    const ctx: Context = {
      ...clients,
      budget: { signal: abort.signal, deadline, sleep },
      cleanupBudget: () => {
        // The time the event has left, or a third of the reserve once that is spent: a cleanup that IAM throttles
        // must not give up with minutes to go. AbortSignal.timeout takes whole milliseconds only.
        const ms = Math.max(1, Math.floor(Math.max(deadline - Date.now(), reserve / 3)));
        return { signal: AbortSignal.timeout(ms), deadline: Date.now() + ms, sleep };
      },
      remember: (secret) => secret && secrets.add(secret),
      log: (line) => log(redact(line)),
      stackId: stackId!,
    };

    if (isRotationEvent(event)) {
      // Secrets Manager reads a rotation step's outcome from the invocation itself: a failed step throws.
      log(JSON.stringify(event));
      try {
        await onRotation(ctx, event);
        log(`${event.Step} succeeded for version ${event.ClientRequestToken} (${Date.now() - started} ms)`);
      } catch (err) {
        const reason = redact(reasonOf(err, abort.signal, `secret ${event.SecretId}`));
        log(`${event.Step} failed: ${reason}`);
        throw new Error(reason);
      } finally {
        clearTimeout(timer);
      }
      return;
    }

    log(JSON.stringify(describeEvent(event)));
    let response: CloudFormationCustomResourceResponse;
    try {
      checkEventStack(event.StackId, stackId);
      const outcome = await route(ctx, event);
      response = answer(event, 'SUCCESS', outcome.physicalId, { Data: outcome.data });
      log(`${event.RequestType} succeeded: physical id ${outcome.physicalId} (${Date.now() - started} ms)`);
    } catch (err) {
      // Anyone allowed to invoke the function can send an event without properties: it is answered all the same.
      const props = (event.ResourceProperties ?? {}) as unknown as Partial<Props>;
      const reason = redact(reasonOf(err, abort.signal, `IAM user '${props.UserName}' and ${props.ServiceName}`));
      response = answer(event, 'FAILED', failedPhysicalId(event), { Reason: reason });
      log(`${event.RequestType} failed: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
    try {
      await respond(event, fit(response), Math.max(1000, context.getRemainingTimeInMillis() - 1000));
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
  return event.RequestType === 'Create' ? failedCreateId(event.RequestId) : event.PhysicalResourceId;
}

/** @param subject what the work was for, named when it ran out of time */
function reasonOf(err: unknown, signal: AbortSignal, subject: string): string {
  // Says what failed and what is left to do, even when a cleanup that ran to the deadline made it late.
  if (err instanceof UserError) return err.message;
  if (err instanceof OutOfTime || signal.aborted) {
    // An aborted Create may still have made a credential; only its id is unknown, so name where to look.
    const last = err instanceof OutOfTime ? err.lastError : undefined;
    return `Timed out waiting for IAM or Secrets Manager for ${subject}: `
      + `${(err as Error).message}. ${hint(last)}Retry the deployment; 'aws iam list-service-specific-credentials' shows any credential left behind`;
  }
  if (err instanceof StillDenied) return `${err.message}. ${hint(err.lastError)}`.trim();
  const message = (err as Error).message ?? '';
  return `${errorCode(err)}: ${message}`;
}

/** What an error that lasted until the deadline most likely means. */
function hint(err: unknown): string {
  if (errorCode(err) !== 'AccessDenied') return '';
  return 'IAM kept denying access: check service control policies, permissions boundaries and KMS key policies '
    + '(a customer managed key\'s policy must let the handler\'s role use it through Secrets Manager). '
    + 'An IAM user with a path must be given as iam.User.fromUserArn: User.fromUserName assumes the path /, '
    + 'so the handler\'s policy names the wrong ARN. ';
}

/** The response, its reason cut (after redaction, so never into a secret) to what fits CloudFormation's limit. */
function fit(response: CloudFormationCustomResourceResponse): CloudFormationCustomResourceResponse {
  if (Buffer.byteLength(JSON.stringify(response)) <= MAX_RESPONSE_BYTES || !response.Reason) return response;
  const suffix = ' (truncated)';
  const budget = MAX_RESPONSE_BYTES - Buffer.byteLength(JSON.stringify({ ...response, Reason: suffix }));
  let reason = '';
  let used = 0;
  // Whole characters, each counted as the bytes JSON makes of it (escapes, multi-byte UTF-8).
  for (const char of response.Reason) {
    used += Buffer.byteLength(JSON.stringify(char)) - 2;
    if (used > budget) break;
    reason += char;
  }
  return { ...response, Reason: reason + suffix };
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
