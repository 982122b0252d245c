import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CredentialService, ServiceSpecificCredential, ServiceSpecificCredentialProps } from '../src';
import { EXPIRY_ALERT_RESOURCE_TYPE } from '../src/handler-contract';

// What onRotationFailed and onExpiring add to a template, and what they refuse at synth.

const CR = 'Custom::ServiceSpecificCredential';

function setup(props: Partial<ServiceSpecificCredentialProps> = {}) {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const credential = new ServiceSpecificCredential(stack, 'Key', {
    user: new iam.User(stack, 'User'), service: CredentialService.BEDROCK, ...props,
  });
  const topic = new sns.Topic(stack, 'Alerts');
  const logicalId = (type: string, path: RegExp) => Object.entries(Template.fromStack(stack).findResources(type))
    .map(([id]) => id).find((id) => path.test(id))!;
  return { stack, credential, topic, logicalId, template: () => Template.fromStack(stack) };
}

const DEFAULT_BUS = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:123456789012:event-bus/default']] };
const secretArnOf = (t: Template) => ({ 'Fn::GetAtt': [Object.keys(t.findResources(CR))[0], 'SecretArn'] });
const rotation = { automaticallyAfter: Duration.days(30) };

describe('onRotationFailed', () => {
  test('GIVEN a rotated credential THEN the rule matches RotationFailed for its secret only, with the options\' target, name and description', () => {
    const { credential, topic, template } = setup({ rotation, expiresAfter: Duration.days(90) });

    const rule = credential.onRotationFailed('RotationFailed', {
      target: new targets.SnsTopic(topic), ruleName: 'key-rotation-failed', description: 'the Bedrock key did not rotate',
    });

    expect(rule).toBeInstanceOf(events.Rule);
    expect(rule.node.path).toBe('Stack/Key/RotationFailed');
    template().hasResourceProperties('AWS::Events::Rule', {
      Name: 'key-rotation-failed',
      Description: 'the Bedrock key did not rotate',
      EventPattern: {
        'source': ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        'detail': {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed'],
          additionalEventData: { SecretId: [secretArnOf(template())] },
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Alerts') } })],
    });
  });

  test('GIVEN an event pattern in the options THEN it is merged into the rule\'s own', () => {
    const { credential, template } = setup({ rotation });

    credential.onRotationFailed('RotationFailed', { eventPattern: { region: ['eu-west-1'], detail: { errorMessage: [{ prefix: 'Error' }] } } });

    template().hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.secretsmanager'],
        'region': ['eu-west-1'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        'detail': { eventName: ['RotationFailed'], errorMessage: [{ prefix: 'Error' }], additionalEventData: Match.anyValue() },
      },
    });
  });

  test('GIVEN two rotated credentials THEN each rule names its own secret', () => {
    const { stack, credential } = setup({ rotation });
    const other = new ServiceSpecificCredential(stack, 'Other', { user: new iam.User(stack, 'Second'), service: CredentialService.CODECOMMIT, rotation });

    credential.onRotationFailed('Failed');
    other.onRotationFailed('Failed');

    const secretIds = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'))
      .map((r) => r.Properties.EventPattern.detail.additionalEventData.SecretId[0]['Fn::GetAtt'][0]);
    expect(secretIds).toHaveLength(2);
    expect(new Set(secretIds).size).toBe(2);
  });

  test('GIVEN a credential without rotation THEN it is an error naming the construct and what to do', () => {
    const { credential } = setup({ expiresAfter: Duration.days(90) });

    expect(() => credential.onRotationFailed('Failed')).toThrow(
      /^Stack\/Key: onRotationFailed\('Failed'\) needs rotation: this credential has none.*Set rotation: .*, or watch the expiry with onExpiring$/);
  });
});

describe('onExpiring', () => {
  test('GIVEN a key with expiresAfter THEN an alert resource, a one-time UTC schedule to the default bus and a rule for its event', () => {
    const { stack, credential, topic, template, logicalId } = setup({ expiresAfter: Duration.days(90) });

    const rule = credential.onExpiring('Expiring', { before: Duration.days(14), target: new targets.SnsTopic(topic) });

    expect(rule.node.path).toBe('Stack/Key/Expiring');
    const t = template();
    const credentialId = Object.keys(t.findResources(CR))[0];
    const handlerArn = { 'Fn::GetAtt': [stack.getLogicalId(findHandler(stack)), 'Arn'] };
    t.resourceCountIs(EXPIRY_ALERT_RESOURCE_TYPE, 1);
    t.hasResourceProperties(EXPIRY_ALERT_RESOURCE_TYPE, {
      ServiceToken: handlerArn,
      ExpirationDate: { 'Fn::GetAtt': [credentialId, 'ExpirationDate'] },
      LeadSeconds: String(14 * 86_400),
    });
    const alertId = logicalId(EXPIRY_ALERT_RESOURCE_TYPE, /^KeyExpiringAlert/);
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: { 'Fn::GetAtt': [alertId, 'ScheduleExpression'] },
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: DEFAULT_BUS,
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServiceSpecificCredentialProviderExpiryAlertRole'), 'Arn'] },
        EventBridgeParameters: { Source: 'cdk-service-specific-credential', DetailType: 'Service-Specific Credential Expiring' },
        Input: Match.anyValue(),
      },
    });
    // Created after the role's policy: an overdue alert fires minutes after its schedule.
    t.hasResource('AWS::Scheduler::Schedule', {
      DependsOn: Match.arrayWith([
        Match.stringLikeRegexp('^ServiceSpecificCredentialProviderExpiryAlertRoleDefaultPolicy'),
        Match.stringLikeRegexp('^ServiceSpecificCredentialProviderExpiryAlertRole[0-9A-F]{8}$'),
      ]),
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['cdk-service-specific-credential'],
        'detail-type': ['Service-Specific Credential Expiring'],
        'detail': { alert: ['Stack/Key/Expiring'], secretArn: [{ 'Fn::GetAtt': [credentialId, 'SecretArn'] }] },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Alerts') } })],
    });
  });

  test('GIVEN the schedule\'s input THEN it is the JSON detail the rule matches, with the credential\'s id, secret and expiry', () => {
    const { stack, credential } = setup({ expiresAfter: Duration.days(90) });
    credential.onExpiring('Expiring', { before: Duration.days(14) });

    const input = Object.values(Template.fromStack(stack).findResources('AWS::Scheduler::Schedule'))[0].Properties.Target.Input;
    // As CloudFormation would resolve it: every reference replaced by a plain value.
    const resolved = JSON.parse(input['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : 'X')).join(''));
    expect(resolved).toEqual({
      alert: 'Stack/Key/Expiring',
      credential: 'Stack/Key',
      serviceName: 'bedrock.amazonaws.com',
      serviceSpecificCredentialId: 'X',
      secretArn: 'X',
      expirationDate: 'X',
    });
  });

  test('GIVEN the scheduler\'s role THEN only this account\'s schedules may assume it, and it may only put events on the default bus', () => {
    const { credential, template } = setup({ expiresAfter: Duration.days(90) });
    credential.onExpiring('Expiring', { before: Duration.days(14) });

    template().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
        }],
      },
    });
    const policies = Object.values(template().findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('ExpiryAlertRole'));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: DEFAULT_BUS },
    ]);
  });

  test('GIVEN two alerts in a stack THEN they share one role, and each rule matches its own alert', () => {
    const { stack, credential } = setup({ expiresAfter: Duration.days(90) });
    const other = new ServiceSpecificCredential(stack, 'Other', {
      user: new iam.User(stack, 'Second'), service: CredentialService.XRAY, expiresAfter: Duration.days(30),
    });

    credential.onExpiring('Soon', { before: Duration.days(14) });
    credential.onExpiring('VerySoon', { before: Duration.days(1) });
    other.onExpiring('Soon', { before: Duration.hours(12) });

    const t = Template.fromStack(stack);
    t.resourceCountIs(EXPIRY_ALERT_RESOURCE_TYPE, 3);
    t.resourceCountIs('AWS::Scheduler::Schedule', 3);
    t.resourcePropertiesCountIs('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] } }, 1);
    const alerts = Object.values(t.findResources('AWS::Events::Rule')).map((r) => r.Properties.EventPattern.detail.alert[0]);
    expect(alerts.sort()).toEqual(['Stack/Key/Soon', 'Stack/Key/VerySoon', 'Stack/Other/Soon']);
  });

  test('GIVEN an alert THEN the key gets no warning that nothing renews it: the alert is the choice the warning asks for', () => {
    const warnings = (withAlert: boolean) => {
      const { stack, credential } = setup({ expiresAfter: Duration.days(90) });
      if (withAlert) credential.onExpiring('Expiring', { before: Duration.days(14) });
      return Annotations.fromStack(stack).findWarning('/Stack/Key', Match.stringLikeRegexp('nothing renews it'));
    };

    expect(warnings(false)).toHaveLength(1);
    expect(warnings(true)).toHaveLength(0);
  });

  test('GIVEN an alert THEN the handler\'s own permissions do not grow', () => {
    const handlerPolicy = (withAlert: boolean) => {
      const { stack, credential } = setup({ expiresAfter: Duration.days(90) });
      if (withAlert) credential.onExpiring('Expiring', { before: Duration.days(14) });
      return Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith('ServiceSpecificCredentialProviderRole'))
        .map(([, p]) => p.Properties.PolicyDocument);
    };

    expect(handlerPolicy(true)).toEqual(handlerPolicy(false));
  });

  describe('refuses', () => {
    test('a rotated credential, saying what replaces the alert', () => {
      const { credential } = setup({ expiresAfter: Duration.days(90), rotation });

      expect(() => credential.onExpiring('Expiring', { before: Duration.days(7) })).toThrow(
        /^Stack\/Key: onExpiring\('Expiring'\) has nothing to watch on a rotated credential: each rotation issues a new key .* fires onRotationFailed: watch that instead$/);
    });

    test('a credential that never expires', () => {
      const { credential } = setup();

      expect(() => credential.onExpiring('Expiring', { before: Duration.days(7) })).toThrow(
        /^Stack\/Key: onExpiring\('Expiring'\) needs expiresAfter: this bedrock.amazonaws.com credential never expires/);
    });

    test.each([
      [Duration.days(90), /before \(90 days\) must be shorter than expiresAfter \(90 days\)/],
      [Duration.days(91), /before \(91 days\) must be shorter than expiresAfter \(90 days\)/],
      [Duration.seconds(59), /at least 1 minute .* got 59 seconds/],
      [Duration.millis(90_500), /whole seconds .* got 90.5 seconds/],
    ])('before = %s', (before, message) => {
      const { credential } = setup({ expiresAfter: Duration.days(90) });

      expect(() => credential.onExpiring('Expiring', { before })).toThrow(message);
    });

    test('a before that is not a Duration, as from JavaScript', () => {
      const { credential } = setup({ expiresAfter: Duration.days(90) });

      expect(() => credential.onExpiring('Expiring', { before: 7 as any })).toThrow(/^Stack\/Key: onExpiring's before must be a Duration.*got 7$/);
    });
  });
});

function findHandler(stack: Stack) {
  return stack.node.findChild('ServiceSpecificCredentialProvider').node.findChild('Handler').node.defaultChild as any;
}
