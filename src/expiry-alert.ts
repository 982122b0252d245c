import { ArnFormat, CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { EXPIRY_ALERT_RESOURCE_TYPE, ExpiryAlertProperties } from './handler-contract';
import type { CredentialProvider } from './provider';

// Not exported from index.ts: what ServiceSpecificCredential.onExpiring adds to the stack.
//
// IAM returns a key's expiry when it issues the key; a template cannot subtract `before` from it. So a custom resource
// served by the credential handler (no AWS call, no new permission) turns the credential's ExpirationDate attribute into
// an EventBridge Scheduler `at()` expression, and a one-time schedule puts one event on the account's default bus at
// that time. A reset or replacement that changes ExpirationDate changes the alert resource's properties: CloudFormation
// updates it, then the schedule.

/** The event the schedule puts on the default bus. */
export const EXPIRING_EVENT_SOURCE = 'cdk-service-specific-credential';
export const EXPIRING_EVENT_DETAIL_TYPE = 'Service-Specific Credential Expiring';

/** What the alert needs to know of its credential. */
export interface ExpiringCredential {
  readonly construct: Construct;
  readonly serviceName: string;
  readonly serviceSpecificCredentialId: string;
  readonly secretArn: string;
  readonly expirationDate: string;
  readonly provider: CredentialProvider;
}

/**
 * Checks `before` against the credential's expiry; returns the lead in seconds. The error names both values.
 * @param expiresAfter the credential's, known to be set
 */
export function leadSecondsOf(before: unknown, expiresAfter: Duration): number {
  if (!(before instanceof Duration)) throw new Error(`onExpiring's before must be a Duration, e.g. Duration.days(7); got ${JSON.stringify(before)}`);
  if (before.isUnresolved()) throw new Error('onExpiring\'s before must be known at synth time, not a token');
  const seconds = before.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 60) {
    throw new Error(`onExpiring's before must be whole seconds of at least 1 minute (EventBridge Scheduler's precision), got ${seconds} seconds`);
  }
  if (!expiresAfter.isUnresolved() && seconds >= expiresAfter.toSeconds({ integral: false })) {
    throw new Error(`onExpiring's before (${before.toHumanString()}) must be shorter than expiresAfter (${expiresAfter.toHumanString()}): `
      + 'an alert that long ahead would come before the key exists');
  }
  return seconds;
}

/**
 * The alert's custom resource and schedule, as children of the rule that matches its event: the three come and go
 * together. Returns the event pattern the rule must match, which only this alert's schedule sends.
 */
export function scheduleExpiryAlert(rule: events.Rule, credential: ExpiringCredential, leadSeconds: number): events.EventPattern {
  const alertId = rule.node.path;
  const stack = Stack.of(rule);
  const detail = stack.toJsonString({
    alert: alertId,
    credential: credential.construct.node.path,
    serviceName: credential.serviceName,
    serviceSpecificCredentialId: credential.serviceSpecificCredentialId,
    secretArn: credential.secretArn,
    expirationDate: credential.expirationDate,
  });
  const properties: ExpiryAlertProperties = { ExpirationDate: credential.expirationDate, LeadSeconds: String(leadSeconds), EventDetail: detail };
  const alert = new CfnResource(rule, 'Alert', {
    type: EXPIRY_ALERT_RESOURCE_TYPE,
    properties: { ServiceToken: credential.provider.function.functionArn, ...properties },
  });
  alert.applyRemovalPolicy(RemovalPolicy.DESTROY);

  const bus = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const role = schedulerRole(credential.provider, bus);
  const schedule = new scheduler.CfnSchedule(rule, 'Schedule', {
    description: `Expiry alert ${alertId}`.slice(0, 512),
    // at(yyyy-mm-ddThh:mm:ss) in ScheduleExpressionTimezone (Scheduler User Guide, "Schedule types", one-time
    // schedules); the handler answers UTC, and a time ahead of now even when the alert is overdue. CloudFormation's
    // AWS::Scheduler::Schedule has no ActionAfterCompletion: the schedule stays after it fires (Scheduler's default,
    // NONE), so nothing is deleted behind CloudFormation's back.
    scheduleExpression: alert.getAtt('ScheduleExpression').toString(),
    scheduleExpressionTimezone: 'UTC',
    flexibleTimeWindow: { mode: 'OFF' },
    target: {
      arn: bus,
      roleArn: role.roleArn,
      eventBridgeParameters: { source: EXPIRING_EVENT_SOURCE, detailType: EXPIRING_EVENT_DETAIL_TYPE },
      input: detail,
    },
  });
  // The role's policy too, not only the role: an overdue alert fires minutes after the schedule is created.
  schedule.node.addDependency(role);
  return {
    source: [EXPIRING_EVENT_SOURCE],
    detailType: [EXPIRING_EVENT_DETAIL_TYPE],
    detail: { alert: [alertId], secretArn: [credential.secretArn] },
  };
}

/** One role per stack for every alert's schedule: it may put events on the default bus, nothing else. */
function schedulerRole(provider: CredentialProvider, bus: string): iam.IRole {
  const existing = provider.node.tryFindChild(ROLE_ID) as iam.Role | undefined;
  if (existing) return existing;
  const role = new iam.Role(provider, ROLE_ID, {
    // Only this account's schedules may assume it (Scheduler User Guide, "Set up the execution role": confused deputy).
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({
      StringEquals: { 'aws:SourceAccount': Stack.of(provider).account },
    }),
    description: 'Lets the expiry alerts of service-specific credentials put their event on the default event bus',
  });
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [bus] }));
  return role;
}

const ROLE_ID = 'ExpiryAlertRole';
