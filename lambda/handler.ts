import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse, Context as LambdaContext } from 'aws-lambda';
import { Iam } from './aws/iam';
import { respond } from './aws/respond';
import { abortableSleep } from './aws/retry';
import { Secrets } from './aws/secrets';
import { answer, describeEvent, failedPhysicalId, fit, reasonOf } from './logic/answers';
import { errorCode } from './logic/errors';
import { checkEventStack } from './logic/stack-binding';
import { RotationEvent, isRotationEvent, onRotation } from './rotation/steps';
import { Invocation, startInvocation } from './shared/context';
import type { Outcome } from './stack/common';
import { onCreate } from './stack/create';
import { onDelete } from './stack/delete';
import { isExpiryAlertEvent, onExpiryAlert } from './stack/expiry-alert';
import { onUpdate } from './stack/update';
import { STACK_ID_VARIABLE, type CredentialResourceProperties as Props } from '../src/handler-contract';

export interface HandlerOptions {
  readonly iam?: IAMClient;
  readonly secretsManager?: SecretsManagerClient;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly log?: (line: string) => void;
  /** The handler's own stack. @default - the STACK_ID environment variable the construct sets */
  readonly stackId?: string;
}

/**
 * The custom resource's and the rotation's handler. It answers CloudFormation itself, on every path: a handler that
 * throws or times out leaves the stack waiting an hour, and Lambda retries the event.
 */
export function makeHandler(options: HandlerOptions = {}) {
  const sleep = options.sleep ?? abortableSleep;
  const log = options.log ?? ((line: string) => console.log(line));
  const stackId = options.stackId ?? process.env[STACK_ID_VARIABLE];
  // Default client config, so that AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SECRETS_MANAGER can redirect them; one
  // attempt per call, since withRetry is the one retry layer (a second one inside it multiplies the attempts).
  let clients: { iam: Iam; secrets: Secrets } | undefined;

  const reply = async (event: CloudFormationCustomResourceEvent, response: CloudFormationCustomResourceResponse, context: LambdaContext) => {
    try {
      await respond(event, fit(response), Math.max(1000, context.getRemainingTimeInMillis() - 1000));
    } catch (err) {
      log(`could not answer CloudFormation: ${errorCode(err)}`);
    }
  };

  return async (event: CloudFormationCustomResourceEvent | RotationEvent, context: LambdaContext): Promise<void> => {
    // The expiry alert makes no AWS call: it needs neither the clients nor the invocation's deadline.
    if (isExpiryAlertEvent(event)) return reply(event, onExpiryAlert(event, { stackId, now: Date.now(), log }), context);
    clients ??= {
      iam: new Iam(options.iam ?? new IAMClient({ maxAttempts: 1 })),
      secrets: new Secrets(options.secretsManager ?? new SecretsManagerClient({ maxAttempts: 1 })),
    };
    const invocation = startInvocation(clients, context.getRemainingTimeInMillis(), { sleep, log, stackId: stackId! });
    if (isRotationEvent(event)) return rotationStep(invocation, event);
    return reply(event, await stackEvent(invocation, event, stackId), context);
  };
}

export const handler = makeHandler();

/** A CloudFormation event: its answer, SUCCESS or FAILED, whatever happens. */
async function stackEvent(
  { ctx, redact, elapsed, end }: Invocation, event: CloudFormationCustomResourceEvent, stackId: string | undefined,
): Promise<CloudFormationCustomResourceResponse> {
  ctx.log(JSON.stringify(describeEvent(event)));
  try {
    checkEventStack(event.StackId, stackId);
    const outcome = await route(ctx, event);
    ctx.log(`${event.RequestType} succeeded: physical id ${outcome.physicalId} (${elapsed()} ms)`);
    return answer(event, 'SUCCESS', outcome.physicalId, { Data: outcome.data });
  } catch (err) {
    // Anyone allowed to invoke the function can send an event without properties: it is answered all the same.
    const props = (event.ResourceProperties ?? {}) as unknown as Partial<Props>;
    const reason = redact(reasonOf(err, ctx.budget.signal.aborted, `IAM user '${props.UserName}' and ${props.ServiceName}`));
    ctx.log(`${event.RequestType} failed: ${reason}`);
    return answer(event, 'FAILED', failedPhysicalId(event), { Reason: reason });
  } finally {
    end();
  }
}

function route(ctx: Invocation['ctx'], event: CloudFormationCustomResourceEvent): Promise<Outcome> {
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

/** A rotation step: Secrets Manager reads its outcome from the invocation itself, so a failed step throws. */
async function rotationStep({ ctx, redact, elapsed, end }: Invocation, event: RotationEvent): Promise<void> {
  ctx.log(JSON.stringify(event));
  try {
    await onRotation(ctx, event);
    ctx.log(`${event.Step} succeeded for version ${event.ClientRequestToken} (${elapsed()} ms)`);
  } catch (err) {
    const reason = redact(reasonOf(err, ctx.budget.signal.aborted, `secret ${event.SecretId}`));
    ctx.log(`${event.Step} failed: ${reason}`);
    throw new Error(reason);
  } finally {
    end();
  }
}
