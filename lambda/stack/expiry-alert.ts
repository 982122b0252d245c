import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { EXPIRY_ALERT_RESOURCE_TYPE, type ExpiryAlertProperties } from '../../src/handler-contract';
import { answer, describeEvent, failedPhysicalId, reasonOf } from '../logic/answers';
import { alertTimeOf } from '../logic/expiry-alert';
import { checkEventStack } from '../logic/stack-binding';

// The expiry alert of onExpiring: it answers the time of the alert, computed from its properties, and makes no AWS call.
// A reset or replacement changes the credential's ExpirationDate, so CloudFormation sends an UPDATE and the schedule
// follows the new answer. DELETE has nothing to undo.

export function isExpiryAlertEvent(event: object): event is CloudFormationCustomResourceEvent {
  return (event as Partial<CloudFormationCustomResourceEvent>).ResourceType === EXPIRY_ALERT_RESOURCE_TYPE;
}

/** The answer to CloudFormation, SUCCESS or FAILED, whatever the event holds. */
export function onExpiryAlert(
  event: CloudFormationCustomResourceEvent, options: { stackId?: string; now: number; log: (line: string) => void },
): CloudFormationCustomResourceResponse {
  options.log(JSON.stringify(describeEvent(event)));
  const physicalId = event.RequestType === 'Create' ? `expiry-alert-${event.RequestId}` : event.PhysicalResourceId;
  try {
    checkEventStack(event.StackId, options.stackId);
    if (event.RequestType === 'Delete') return answer(event, 'SUCCESS', physicalId, {});
    const data = alertTimeOf((event.ResourceProperties ?? {}) as Partial<ExpiryAlertProperties>, options.now);
    options.log(`${event.RequestType} succeeded: alert at ${data.AlertTime}`);
    return answer(event, 'SUCCESS', physicalId, { Data: data });
  } catch (err) {
    const reason = reasonOf(err, false, 'the expiry alert');
    options.log(`${event.RequestType} failed: ${reason}`);
    return answer(event, 'FAILED', failedPhysicalId(event), { Reason: reason });
  }
}
