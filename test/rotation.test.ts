import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialService, CredentialStatus, RotationStrategy, ServiceSpecificCredential, ServiceSpecificCredentialProps } from '../src';

// What the construct synthesizes for rotation, and the rotation options it refuses, through real aws-cdk-lib synthesis.

function synth(props: Partial<ServiceSpecificCredentialProps>, count = 1) {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'us-east-1' } });
  for (let i = 0; i < count; i++) {
    new ServiceSpecificCredential(stack, `C${i}`, {
      user: new iam.User(stack, `U${i}`), service: CredentialService.CODECOMMIT, rotation: { automaticallyAfter: Duration.days(30) }, ...props,
    });
  }
  return { stack, template: Template.fromStack(stack) };
}

test('a schedule on the stack\'s one handler, after the first value is stored, with one invoke permission per stack', () => {
  const { template } = synth({}, 3);

  template.resourceCountIs('AWS::Lambda::Function', 1);
  template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
  template.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 'secretsmanager.amazonaws.com', SourceAccount: '123456789012' }, 1);
  const schedules = template.findResources('AWS::SecretsManager::RotationSchedule');
  const [id, schedule] = Object.entries<any>(schedules)[0];
  expect(schedule.Properties).toEqual({
    SecretId: { Ref: expect.stringMatching(/^C0Secret/) },
    RotationLambdaARN: { 'Fn::GetAtt': [expect.stringMatching(/^ServiceSpecificCredentialProviderHandler/), 'Arn'] },
    RotationRules: { ScheduleExpression: 'rate(30 days)' },
    RotateImmediatelyOnUpdate: false,
  });
  expect(schedule.DependsOn).toEqual(expect.arrayContaining([
    expect.stringMatching(/^C0[0-9A-F]{8}$/), // the custom resource
    expect.stringMatching(/^ServiceSpecificCredentialProviderHandlerRotationInvoke/),
  ]));
  expect(id).toMatch(/^C0Rotation/);
  template.hasResourceProperties('AWS::SecretsManager::Secret', {
    Tags: Match.arrayWith([
      { Key: 'cdk-service-specific-credential:rotation', Value: 'ALTERNATING' },
      { Key: 'cdk-service-specific-credential:status', Value: 'Active' },
    ]),
  });
  template.hasResourceProperties('Custom::ServiceSpecificCredential', { RotationStrategy: 'ALTERNATING' });
  // Rotation adds no grant of its own: the handler moves staging labels for the ownership record anyway.
  template.resourceCountIs('AWS::IAM::Policy', 1);
});

test('the secret tells a rotation the status asked for: the status of a key it issues in place of an expired one', () => {
  const { template } = synth({ status: CredentialStatus.INACTIVE });

  template.hasResourceProperties('AWS::SecretsManager::Secret', {
    Tags: Match.arrayWith([{ Key: 'cdk-service-specific-credential:status', Value: 'Inactive' }]),
  });
});

test('without rotation, nothing of it is in the template; the labels of the ownership record move all the same', () => {
  const { template } = synth({ rotation: undefined });
  template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  template.resourceCountIs('AWS::Lambda::Permission', 0);
  const tags = Object.values<any>(template.findResources('AWS::SecretsManager::Secret')).flatMap((r) => r.Properties.Tags ?? []);
  expect(tags.map((t: { Key: string }) => t.Key).filter((k: string) => k.startsWith('cdk-service-specific-credential:'))).toEqual([]);
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([{
        Action: ['secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Effect: 'Allow',
        Resource: Match.anyValue(),
        Condition: { StringEquals: { 'aws:ResourceTag/cdk-service-specific-credential': { Ref: 'AWS::StackId' }, 'aws:ResourceTag/aws:cloudformation:stack-id': { Ref: 'AWS::StackId' } } },
      }]),
    },
  });
});

test.each([
  [Duration.hours(4), 'rate(4 hours)'],
  [Duration.hours(36), 'rate(36 hours)'],
  [Duration.days(1), 'rate(1 day)'],
  [Duration.days(1000), 'rate(1000 days)'],
])('automaticallyAfter %s is the schedule %s', (automaticallyAfter, expression) => {
  synth({ rotation: { automaticallyAfter, strategy: RotationStrategy.RESET_IN_PLACE, rotateImmediatelyOnUpdate: true } }).template
    .hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: expression }, RotateImmediatelyOnUpdate: true });
});

test.each([
  [{ automaticallyAfter: Duration.hours(3) }, undefined, /whole hours from 4 hours to 1000 days, got 3 hours/],
  [{ automaticallyAfter: Duration.days(1001) }, undefined, /got 1001 days/],
  [{ automaticallyAfter: Duration.minutes(270) }, undefined, /got 4 hours 30 minutes/],
  [{ automaticallyAfter: Duration.days(30), strategy: 'alternating' }, undefined, /rotation.strategy must be .* got "alternating"/],
  [{ automaticallyAfter: 30 }, undefined, /automaticallyAfter must be a Duration, e.g. Duration.days\(30\); got 30/],
  [{ automaticallyAfter: Duration.days(30), strategy: RotationStrategy.RESET_IN_PLACE }, Duration.days(90), /RESET_IN_PLACE cannot renew .* Use RotationStrategy.ALTERNATING/],
  [{ automaticallyAfter: Duration.days(90) }, Duration.days(90), /automaticallyAfter \(90 days\) must be shorter than expiresAfter \(90 days\)/],
])('rotation %j with expiresAfter %s is refused at synth', (rotation, expiresAfter, message) => {
  expect(() => synth({ service: CredentialService.BEDROCK, rotation: rotation as any, expiresAfter })).toThrow(message);
  expect(() => synth({ service: CredentialService.BEDROCK, rotation: rotation as any, expiresAfter })).toThrow(/^S\/C0: /);
});

test('an expiring key without rotation gets a warning that says how to add it; with rotation, none', () => {
  const warned = synth({ service: CredentialService.BEDROCK, expiresAfter: Duration.days(90), rotation: undefined }).stack;
  Annotations.fromStack(warned).hasWarning('/S/C0', Match.stringLikeRegexp('stops working on its expiry .* Add rotation'));
  const rotating = synth({ service: CredentialService.BEDROCK, expiresAfter: Duration.days(90) }).stack;
  expect(Annotations.fromStack(rotating).findWarning('*', Match.anyValue())).toEqual([]);
});
