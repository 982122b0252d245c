import { DeleteServiceSpecificCredentialCommand, IAMClient } from '@aws-sdk/client-iam';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CloudFormation, Deployment, Invocation, Synthesized, synthesize } from './cloudformation';
import { leaks } from './world';
import { CredentialService, ServiceSpecificCredential } from '../../src';
import { EXPIRY_ALERT_RESOURCE_TYPE, RESOURCE_TYPE } from '../../src/handler-contract';
import { LocalAws, startLocalAws } from '../local-aws';

// onExpiring through the real bundled handler and the local CloudFormation: the alert's time comes from the expiry IAM
// returned, follows a replacement and a reissue, and reaches the rule as the event the schedule would put on the bus.

jest.setTimeout(120_000);

let localAws: LocalAws;
let cfn: CloudFormation;
let issued: Set<string>;

beforeEach(async () => {
  localAws = await startLocalAws();
  cfn = await CloudFormation.start(localAws);
  issued = new Set();
});
afterEach(async () => {
  await cfn.close();
  await localAws.close();
});

interface Settings {
  readonly expiresAfter?: Duration;
  readonly before?: Duration;
  readonly resetSerial?: number;
  readonly secretName?: string;
}

function alertStack({ expiresAfter = Duration.days(30), before = Duration.days(7), resetSerial, secretName }: Settings = {}): Synthesized {
  return synthesize((app: App) => {
    const stack = new Stack(app, 'AlertExample');
    const credential = new ServiceSpecificCredential(stack, 'BedrockKey', {
      user: new iam.User(stack, 'User', { userName: 'ci-bot' }),
      service: CredentialService.BEDROCK,
      expiresAfter,
      resetSerial,
      secretName,
    });
    credential.onExpiring('Expiring', { before, target: new targets.SnsTopic(new sns.Topic(stack, 'Alerts')) });
    return stack;
  });
}

async function deploy(synth: Synthesized): Promise<Deployment> {
  const deployment = await cfn.deploy(synth);
  expect(deployment.status).toBe('COMPLETE');
  for (const invocation of deployment.invocations) {
    expect(invocation.response?.Status).toBe('SUCCESS');
    expect(invocation.exitCode).toBe(0);
  }
  expect(leaks(localAws, issued, deployment, synth)).toEqual([]);
  return deployment;
}

const alertEvents = (deployment: Deployment) => deployment.invocations.filter((i) => i.event.ResourceType === EXPIRY_ALERT_RESOURCE_TYPE);
const atOf = (ms: number) => `at(${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)})`;

/** The one key of ci-bot, as IAM holds it. */
function issuedKey() {
  const keys = localAws.credentials({ userName: 'ci-bot' });
  expect(keys).toHaveLength(1);
  return keys[0];
}

/**
 * What the stack holds after a deployment: the schedule's expression, and whether the event it puts on the bus matches
 * the rule. The event is the one EventBridge Scheduler sends for an EventBridge PutEvents target: its source and
 * detail-type from EventBridgeParameters, its detail the target's Input.
 */
function deployed() {
  const credential = cfn.resourceOfType(RESOURCE_TYPE)!;
  const alert = cfn.resourceOfType(EXPIRY_ALERT_RESOURCE_TYPE)!;
  const schedule = cfn.resourceOfType('AWS::Scheduler::Schedule')!.properties as any;
  const rule = cfn.resourceOfType('AWS::Events::Rule')!.properties as any;
  const event = {
    'source': schedule.Target.EventBridgeParameters.Source,
    'detail-type': schedule.Target.EventBridgeParameters.DetailType,
    'detail': JSON.parse(schedule.Target.Input),
  };
  return { credential, alert, schedule, event, matches: matches(event, rule.EventPattern) };
}

test('the alert is `before` ahead of the expiry IAM returned, and its event is the one the rule matches', async () => {
  const created = await deploy(alertStack());

  const key = issuedKey();
  const { credential, alert, schedule, event, matches: ruleMatches } = deployed();
  expect(schedule.ScheduleExpression).toBe(atOf(key.ExpirationDate!.getTime() - 7 * 86_400_000));
  expect(alert.attributes.ScheduleExpression).toBe(schedule.ScheduleExpression);
  expect(schedule.ScheduleExpressionTimezone).toBe('UTC');
  expect(event.detail).toEqual({
    alert: 'AlertExample/BedrockKey/Expiring',
    credential: 'AlertExample/BedrockKey',
    serviceName: 'bedrock.amazonaws.com',
    serviceSpecificCredentialId: key.ServiceSpecificCredentialId,
    secretArn: credential.attributes.SecretArn,
    expirationDate: key.ExpirationDate!.toISOString(),
  });
  expect(ruleMatches).toBe(true);
  // The alert's CREATE, after the credential's, made no AWS call.
  expect(alertEvents(created).map((i) => [i.event.RequestType, i.calls])).toEqual([['Create', []]]);
});

test('a replacement (a new expiresAfter) issues a key with a later expiry: CloudFormation updates the alert, and the schedule moves', async () => {
  await deploy(alertStack({ expiresAfter: Duration.days(30) }));
  const first = deployed();

  const replaced = await deploy(alertStack({ expiresAfter: Duration.days(60) }));

  const key = issuedKey();
  const second = deployed();
  expect(key.ServiceSpecificCredentialId).not.toBe(first.event.detail.serviceSpecificCredentialId);
  expect(second.schedule.ScheduleExpression).toBe(atOf(key.ExpirationDate!.getTime() - 7 * 86_400_000));
  expect(second.schedule.ScheduleExpression > first.schedule.ScheduleExpression).toBe(true);
  expect(second.event.detail.expirationDate).toBe(key.ExpirationDate!.toISOString());
  expect(second.matches).toBe(true);
  // Updated in place: the same alert, no DELETE.
  expect(alertEvents(replaced).map((i) => [i.event.RequestType, i.calls])).toEqual([['Update', []]]);
  expect(second.alert.physicalId).toBe(first.alert.physicalId);
});

test('a reset follows the expiry IAM answers: kept by the reset, the alert stays; a key reissued in its place moves it', async () => {
  await deploy(alertStack());
  const first = deployed();

  // The local IAM keeps a key's expiry on a reset (AWS does not document either way): the answer carries the same
  // ExpirationDate, the alert's properties do not change, and CloudFormation sends it nothing.
  const reset = await deploy(alertStack({ resetSerial: 1 }));
  expect(reset.invocations.map((i) => i.event.ResourceType)).toEqual([RESOURCE_TYPE]);
  expect(deployed().schedule.ScheduleExpression).toBe(first.schedule.ScheduleExpression);
  expect(issuedKey().ExpirationDate!.toISOString()).toBe(first.event.detail.expirationDate);

  // A key deleted outside CloudFormation: the next reset issues a new one under the same resource, with a new expiry.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const iamClient = new IAMClient({ endpoint: localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await iamClient.send(new DeleteServiceSpecificCredentialCommand({ UserName: 'ci-bot', ServiceSpecificCredentialId: issuedKey().ServiceSpecificCredentialId }));
  iamClient.destroy();
  const reissued = await deploy(alertStack({ resetSerial: 2 }));

  const key = issuedKey();
  const moved = deployed();
  expect(moved.credential.physicalId).toBe(first.credential.physicalId);
  expect(moved.schedule.ScheduleExpression).toBe(atOf(key.ExpirationDate!.getTime() - 7 * 86_400_000));
  expect(moved.schedule.ScheduleExpression > first.schedule.ScheduleExpression).toBe(true);
  expect(moved.matches).toBe(true);
  expect(alertEvents(reissued).map((i) => i.event.RequestType)).toEqual(['Update']);
});

test('a new `before` updates the alert alone; deleting the stack deletes it without a call', async () => {
  await deploy(alertStack({ before: Duration.days(7) }));

  const changed = await deploy(alertStack({ before: Duration.days(1) }));
  expect(changed.invocations.map((i) => [i.event.ResourceType, i.event.RequestType, i.calls])).toEqual([[EXPIRY_ALERT_RESOURCE_TYPE, 'Update', []]]);
  expect(deployed().schedule.ScheduleExpression).toBe(atOf(issuedKey().ExpirationDate!.getTime() - 86_400_000));

  const destroyed = await cfn.destroy(alertStack({ before: Duration.days(1) }));
  const alertDelete = destroyed.invocations.find((i) => i.event.ResourceType === EXPIRY_ALERT_RESOURCE_TYPE)!;
  expect(alertDelete.response?.Status).toBe('SUCCESS');
  expect(alertDelete.calls).toEqual([]);
  expect(localAws.credentials({ userName: 'ci-bot' })).toEqual([]);
});

test('a change to what the alert\'s event carries (a new secret) updates the alert too, so the schedule\'s time is answered anew', async () => {
  await deploy(alertStack({ secretName: 'bedrock/a' }));

  const moved = await deploy(alertStack({ secretName: 'bedrock/b' }));

  // Written again with the at() of its first deployment, a schedule whose alert has fired would hold a time past.
  expect(alertEvents(moved).map((i) => i.event.RequestType)).toEqual(['Update']);
  expect(JSON.parse(deployed().schedule.Target.Input).secretArn).toContain(':secret:bedrock/b-');
});

describe('events the alert answers on its own, through the bundled handler', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = alertStack();
  });

  const send = (type: 'Create' | 'Update' | 'Delete', props: Record<string, unknown>, more: Record<string, unknown> = {}): Promise<Invocation> =>
    cfn.invoke(synth, { ...cfn.event(type, 'Alert', props, type === 'Create' ? undefined : { type: EXPIRY_ALERT_RESOURCE_TYPE, physicalId: 'expiry-alert-1', attributes: {}, properties: props }, EXPIRY_ALERT_RESOURCE_TYPE), ...more } as any);

  test('an alert already due fires a few minutes after now, never in the past', async () => {
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const before = Date.now();

    const { response, calls } = await send('Update', { ExpirationDate: inAnHour, LeadSeconds: String(7 * 86_400) });

    expect(response?.Status).toBe('SUCCESS');
    expect(response?.PhysicalResourceId).toBe('expiry-alert-1');
    const at = Date.parse(`${(response?.Data as any).ScheduleExpression.slice(3, -1)}Z`);
    expect(at).toBeGreaterThanOrEqual(Math.floor((before + 5 * 60_000) / 1000) * 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 5 * 60_000);
    expect(calls).toEqual([]);
  });

  test.each([
    ['', /^The credential has no expiration date/],
    ['next tuesday', /^ExpirationDate 'next tuesday' is not an ISO 8601 date in UTC/],
    ['2026-02-30T00:00:00Z', /^ExpirationDate '2026-02-30T00:00:00Z' is not an ISO 8601 date in UTC/],
  ])('a bad ExpirationDate %j fails the CREATE with its reason, and an id the DELETE that follows can ignore', async (date, reason) => {
    const created = await send('Create', { ExpirationDate: date, LeadSeconds: '600' });

    expect(created.response?.Status).toBe('FAILED');
    expect(created.response?.Reason).toMatch(reason);
    expect(created.response?.PhysicalResourceId).toMatch(/^failed-create-/);
    const deleted = await send('Delete', { ExpirationDate: date, LeadSeconds: '600' }, { PhysicalResourceId: created.response?.PhysicalResourceId });
    expect(deleted.response?.Status).toBe('SUCCESS');
  });

  test('a bad LeadSeconds fails with its reason', async () => {
    const { response } = await send('Update', { ExpirationDate: '2030-01-01T00:00:00.000Z', LeadSeconds: '-5' });

    expect(response?.Status).toBe('FAILED');
    expect(response?.Reason).toBe("LeadSeconds '-5' is not a whole number of seconds of at least 60");
  });

  test('an event from another stack is refused', async () => {
    const { response } = await send('Create', { ExpirationDate: '2030-01-01T00:00:00.000Z', LeadSeconds: '600' }, { StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Other/1' });

    expect(response?.Status).toBe('FAILED');
    expect(response?.Reason).toMatch(/refused an event from arn:aws:cloudformation:us-east-1:123456789012:stack\/Other\/1/);
  });
});

/** EventBridge's matching for what these patterns use: exact values in arrays, nested objects. */
function matches(event: Record<string, any>, pattern: Record<string, any>): boolean {
  return Object.entries(pattern).every(([key, want]) => (Array.isArray(want)
    ? want.includes(event?.[key])
    : typeof event?.[key] === 'object' && matches(event[key], want)));
}
