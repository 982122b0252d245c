import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { ExplicitlyDenied, OutOfTime, StillDenied, UserError, errorCode } from './errors';
import { failedCreateId } from './physical-id';

// What CloudFormation (or Secrets Manager) is told: the answer's shape, and the reason an error gives the user.

/** CloudFormation rejects a response body over 4,096 bytes; the reason is cut to fit. */
const MAX_RESPONSE_BYTES = 4_096;

export function answer(
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
export function failedPhysicalId(event: CloudFormationCustomResourceEvent): string {
  return event.RequestType === 'Create' ? failedCreateId(event.RequestId) : event.PhysicalResourceId;
}

/**
 * Says what failed and what is left to do, even when a cleanup that ran to the deadline made it late.
 * @param subject what the work was for, named when it ran out of time
 */
export function reasonOf(err: unknown, aborted: boolean, subject: string): string {
  if (err instanceof UserError) return err.message;
  if (err instanceof OutOfTime || aborted) {
    // An aborted Create may still have made a credential; only its id is unknown, so name where to look.
    const hinted = err instanceof OutOfTime ? hint(err.operation, err.lastError) : '';
    return `Timed out waiting for IAM or Secrets Manager for ${subject}: `
      + `${(err as Error).message}. ${hinted}Retry the deployment; 'aws iam list-service-specific-credentials' shows any credential left behind`;
  }
  if (err instanceof StillDenied) return `${err.message}. ${hint(err.operation, err.lastError)}`.trim();
  if (err instanceof ExplicitlyDenied) return `${err.message}. Change the policy AWS names, or what the handler asks of it, then retry`;
  const message = (err as Error).message ?? '';
  return `${errorCode(err)}: ${message}`;
}

/**
 * What to fix when Secrets Manager keeps refusing the handler's role its own secret. The role's policy allows that
 * secret, so the refusal is most often KMS refusing the secret's key ("Access to KMS is not allowed"), else a policy
 * above the role. Told by the service that refused, not by its words, which differ between KMS's own and Secrets Manager's.
 */
const SECRETS_HINT = 'Secrets Manager denied the handler\'s role its own secret, most often because KMS denied the secret\'s key: '
  + 'its key policy must allow the handler\'s role kms:GenerateDataKey and kms:Decrypt, by naming the role or by letting this '
  + 'account\'s IAM policies allow them (as a key\'s default policy does). A key of another account must name the role or '
  + 'this account. A key given as an alias must carry that alias (a new alias takes up to 5 minutes to count). Otherwise a '
  + 'service control policy or permissions boundary denies the secretsmanager: or kms: action. ';

/** What an operation denied until the deadline most likely means. */
function hint(operation: string, err: unknown): string {
  if (errorCode(err) !== 'AccessDenied') return '';
  if (operation.startsWith('secretsmanager:')) return SECRETS_HINT;
  return 'IAM kept denying access: check service control policies, permissions boundaries and KMS key policies '
    + '(a customer managed key\'s policy must let the handler\'s role use it through Secrets Manager). '
    + 'An IAM user with a path must be given as iam.User.fromUserArn: User.fromUserName assumes the path /, '
    + 'so the handler\'s policy names the wrong ARN. ';
}

/** The response, its reason cut (after redaction, so never into a secret) to what fits CloudFormation's limit. */
export function fit(response: CloudFormationCustomResourceResponse): CloudFormationCustomResourceResponse {
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
export function describeEvent(event: CloudFormationCustomResourceEvent) {
  return {
    RequestType: event.RequestType,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    PhysicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : undefined,
    ResourceProperties: event.ResourceProperties,
    OldResourceProperties: 'OldResourceProperties' in event ? event.OldResourceProperties : undefined,
  };
}
