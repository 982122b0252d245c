import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

// Not exported from index.ts: the rule behind ServiceSpecificCredential.onRotationFailed.

/**
 * What Secrets Manager sends when a rotation fails, as CloudTrail delivers it to the account's default event bus.
 *
 * Secrets Manager logs `RotationFailed` as a CloudTrail event of type `AwsServiceEvent`, with the secret's complete ARN in
 * `additionalEventData.SecretId` (Secrets Manager User Guide, "AWS CloudTrail entries for Secrets Manager", log entries
 * for rotation, with an example entry). EventBridge gives such events the detail-type `AWS Service Event via CloudTrail`
 * and the source `aws.secretsmanager` (EventBridge User Guide, "AWS service events delivered via AWS CloudTrail"), on a
 * best-effort basis. Secrets Manager's native events (`Secret Label Updated`) say nothing of failures.
 */
export function rotationFailedPattern(secretArn: string): events.EventPattern {
  return {
    source: ['aws.secretsmanager'],
    detailType: ['AWS Service Event via CloudTrail'],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: ['RotationFailed'],
      additionalEventData: { SecretId: [secretArn] },
    },
  };
}

/**
 * A rule as aws-cdk's `onXxx` methods make one: the options' own pattern narrows the method's, and its target is added.
 * @param pattern the method's pattern, given the rule (which may own what sends the events)
 */
export function onEventRule(
  scope: Construct, id: string, options: events.OnEventOptions, pattern: (rule: events.Rule) => events.EventPattern,
): events.Rule {
  const rule = new events.Rule(scope, id, options);
  rule.addEventPattern(pattern(rule));
  rule.addTarget(options.target);
  return rule;
}
