import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CredentialService, CredentialStatus, ServiceSpecificCredential } from '../src';

// cdk-nag's AwsSolutions pack finds nothing on the library's resources: what is deliberate is suppressed in the
// library, per rule and per finding, with its reason.

function nagged(extra?: (stack: Stack) => void) {
  const app = new App();
  const stack = new Stack(app, 'Nag');
  const user = new iam.User(stack, 'User');
  new ServiceSpecificCredential(stack, 'Git', { user, service: CredentialService.CODECOMMIT, status: CredentialStatus.INACTIVE });
  new ServiceSpecificCredential(stack, 'Bedrock', {
    user,
    service: CredentialService.BEDROCK,
    expiresAfter: Duration.days(30),
    encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
  });
  extra?.(stack);
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  app.synth();
  const annotations = Annotations.fromStack(stack);
  return [
    ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ].map((f) => `${f.id}: ${String(f.entry.data).split(':')[0]}`);
}

test('no unsuppressed AwsSolutions finding, error or warning', () => {
  expect(nagged()).toEqual([]);
});

test('the alerts add no finding: onExpiring\'s schedule, role and rule, and onRotationFailed\'s rule', () => {
  const findings = nagged((stack) => {
    const user = new iam.User(stack, 'AlertUser');
    new ServiceSpecificCredential(stack, 'Expiring', { user, service: CredentialService.XRAY, expiresAfter: Duration.days(30) })
      .onExpiring('Alert', { before: Duration.days(7) });
    new ServiceSpecificCredential(stack, 'Rotated', { user, service: CredentialService.CLOUDWATCH, rotation: { automaticallyAfter: Duration.days(30) } })
      .onRotationFailed('Failed');
  });

  expect(findings).toEqual([]);
});

test('a shared key adds no finding: an imported key, and an alias by name, whose key/* statement carries its reason', () => {
  const findings = nagged((stack) => {
    const user = new iam.User(stack, 'SharedKeyUser');
    const imported = kms.Key.fromKeyArn(stack, 'OrgKey', 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555');
    new ServiceSpecificCredential(stack, 'ByArn', { user, service: CredentialService.CODECOMMIT, encryptionKey: imported });
    new ServiceSpecificCredential(stack, 'ByAlias', { user, service: CredentialService.KEYSPACES, encryptionKey: kms.Alias.fromAliasName(stack, 'OrgAlias', 'alias/org-secrets') });
  });

  expect(findings).toEqual([]);
});

test('the suppressions are granular: a wildcard of the app\'s own is still reported', () => {
  const findings = nagged((stack) => {
    const role = new iam.Role(stack, 'AppRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: ['*'] }));
  });

  expect(findings).toEqual([expect.stringMatching(/^\/Nag\/AppRole\/DefaultPolicy\/Resource: AwsSolutions-IAM5/)]);
});

test('every suppression the library adds gives its reason', () => {
  const app = new App();
  const stack = new Stack(app, 'Reasons');
  new ServiceSpecificCredential(stack, 'Git', { user: new iam.User(stack, 'User'), service: CredentialService.CODECOMMIT });
  const template = app.synth().getStackByName('Reasons').template;
  const rules = Object.values<any>(template.Resources).flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);

  expect(rules.map((r: any) => r.id).sort()).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-L1', 'AwsSolutions-SMG4']);
  for (const rule of rules) expect(rule.reason.length).toBeGreaterThan(40);
});

test('a rotating credential passes SMG4 on its own merits: its secret has a schedule and no suppression', () => {
  const app = new App();
  const stack = new Stack(app, 'Rotating');
  const user = new iam.User(stack, 'User');
  new ServiceSpecificCredential(stack, 'Git', { user, service: CredentialService.CODECOMMIT, rotation: { automaticallyAfter: Duration.days(30) } });
  new ServiceSpecificCredential(stack, 'Key', {
    user, service: CredentialService.BEDROCK, expiresAfter: Duration.days(90), rotation: { automaticallyAfter: Duration.days(30) },
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  const template = app.synth().getStackByName('Rotating').template;
  const annotations = Annotations.fromStack(stack);

  expect([...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')), ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))])
    .toEqual([]);
  const suppressed = Object.values<any>(template.Resources).flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((r: any) => r.id);
  expect(suppressed).not.toContain('AwsSolutions-SMG4');
});
