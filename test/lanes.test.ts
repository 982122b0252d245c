import { App, CfnCondition, CfnResource, CustomResource, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CredentialService, ServiceSpecificCredential } from '../src';
import { RESOURCE_TYPE } from '../src/handler-contract';

// The lanes (src/lanes.ts): each credential's custom resource waits for the one 10 places before it, unless the app's
// own ordering makes that link close a cycle. Template.fromStack refuses a template with a cycle, as CloudFormation
// does, so every test that synthesizes also checks that there is none.

function stackOf(app = new App()) {
  return new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
}

function credential(scope: Construct, i: number): ServiceSpecificCredential {
  return new ServiceSpecificCredential(scope, `Git${i}`, {
    user: iam.User.fromUserName(scope, `U${i}`, `user-${i}`), service: CredentialService.CODECOMMIT,
  });
}

const customResource = (c: ServiceSpecificCredential) => c.node.findChild('Resource').node.defaultChild as CfnResource;

/** For each credential (by construct id), the credentials its custom resource waits for in the template. */
function credentialsWaitedFor(stack: Stack, template = Template.fromStack(stack)): Record<string, string[]> {
  const resources = template.findResources(RESOURCE_TYPE);
  const idOf = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');
  return Object.fromEntries(Object.entries<any>(resources).map(([logicalId, r]) =>
    [idOf(logicalId), (r.DependsOn ?? []).filter((d: string) => d in resources).map(idOf)]));
}

test('GIVEN 12 credentials WHEN synthesized THEN the 11th and 12th wait for the 1st and 2nd, and the construct tree is left as the app made it', () => {
  const stack = stackOf();
  const credentials = Array.from({ length: 12 }, (_, i) => credential(stack, i));

  const waited = credentialsWaitedFor(stack);

  expect(waited).toMatchObject({ Git0: [], Git9: [], Git10: ['Git0'], Git11: ['Git1'] });
  expect(customResource(credentials[10]).obtainResourceDependencies()).not.toContain(customResource(credentials[0]));
});

test('GIVEN an earlier credential\'s secret that names a later credential in Fn::Sub WHEN synthesized THEN that one link is left out', () => {
  const stack = stackOf();
  const credentials = Array.from({ length: 12 }, (_, i) => credential(stack, i));
  const secret = credentials[0].node.findChild('Secret').node.defaultChild as secretsmanager.CfnSecret;
  secret.description = Fn.sub(`built by \${${stack.getLogicalId(customResource(credentials[10]))}.ServiceUserName}`);

  const waited = credentialsWaitedFor(stack);

  expect(waited.Git10).toEqual([]);
  expect(waited.Git11).toEqual(['Git1']);
});

test('GIVEN an earlier credential that waits for an app resource referring to a later credential WHEN synthesized THEN no cycle', () => {
  const stack = stackOf();
  const credentials = Array.from({ length: 12 }, (_, i) => credential(stack, i));
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  credentials[10].grantRead(reader);
  customResource(credentials[0]).addDependency(reader.node.findChild('DefaultPolicy').node.defaultChild as CfnResource);

  expect(credentialsWaitedFor(stack).Git10).toEqual([]);
});

test('GIVEN construct-level dependencies that order an earlier credential after a later one WHEN synthesized THEN no cycle', () => {
  const stack = stackOf();
  const first = new Construct(stack, 'First');
  const second = new Construct(stack, 'Second');
  Array.from({ length: 5 }, (_, i) => credential(first, i));
  Array.from({ length: 10 }, (_, i) => credential(second, i + 5));
  first.node.addDependency(second);

  const waited = credentialsWaitedFor(stack);

  // Second's Git10 to Git14 would follow First's Git0 to Git4, which wait for all of Second: those links are left out.
  for (let i = 10; i < 15; i++) expect(waited[`SecondGit${i}`]).toEqual([]);
  expect(waited.FirstGit0).toEqual(expect.arrayContaining(['SecondGit5', 'SecondGit14']));
});

test('GIVEN a synthesized app WHEN it adds a dependency and a credential, then synthesizes again THEN the links are formed afresh', () => {
  const app = new App();
  const stack = stackOf(app);
  const credentials = Array.from({ length: 12 }, (_, i) => credential(stack, i));
  expect(credentialsWaitedFor(stack).Git11).toEqual(['Git1']);

  customResource(credentials[1]).addDependency(customResource(credentials[11]));
  // A user already granted: a new user's grant is refused after synthesis (aws-cdk-lib freezes policy statements).
  new ServiceSpecificCredential(stack, 'Git12', { user: iam.User.fromUserName(stack, 'U12', 'user-2'), service: CredentialService.KEYSPACES });
  const waited = credentialsWaitedFor(stack, Template.fromJSON(app.synth({ force: true }).getStackByName('Stack').template));

  expect(waited.Git11).toEqual([]);
  expect(waited.Git12).toEqual(['Git2']);
});

test('GIVEN a raw override that names a later credential, which lanes cannot see, WHEN the app states that order THEN no cycle', () => {
  const stack = stackOf();
  const credentials = Array.from({ length: 12 }, (_, i) => credential(stack, i));
  const secret = credentials[0].node.findChild('Secret').node.defaultChild as CfnResource;
  secret.addPropertyOverride('Description', Fn.sub(`built by \${${stack.getLogicalId(customResource(credentials[10]))}.ServiceUserName}`));

  // What docs/scale.md advises: the dependency a raw override brings, stated where the lanes can see it.
  credentials[0].node.addDependency(credentials[10]);

  expect(credentialsWaitedFor(stack).Git10).toEqual([]);
});

test('GIVEN two stacks WHEN synthesized THEN each forms its own lanes', () => {
  const app = new App();
  const [a, b] = ['A', 'B'].map((id) => new Stack(app, id));
  Array.from({ length: 11 }, (_, i) => credential(a, i));
  Array.from({ length: 3 }, (_, i) => credential(b, i));

  expect(credentialsWaitedFor(a).Git10).toEqual(['Git0']);
  expect(Object.values(credentialsWaitedFor(b)).flat()).toEqual([]);
});

test('GIVEN an earlier credential that waits for a CustomResource reading a later one WHEN synthesized THEN no lane link closes a cycle', () => {
  // A plain CfnResource (aws-cdk-lib's CustomResource, AwsCustomResource) shows its properties to no public API: the
  // lanes must assume it may wait for any credential.
  const stack = stackOf();
  const credentials = Array.from({ length: 12 }, (_, i) => credential(stack, i));
  const notify = new CustomResource(stack, 'Notify', {
    serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:notify',
    properties: { Login: credentials[10].serviceUserName },
  });
  credentials[0].node.addDependency(notify);

  const waited = credentialsWaitedFor(stack);

  expect(waited).toMatchObject({ Git10: [], Git11: ['Git1'] });
});

test('GIVEN a credential removed from the tree after the lanes took it WHEN synthesized THEN no DependsOn names it', () => {
  const stack = stackOf();
  Array.from({ length: 12 }, (_, i) => credential(stack, i));
  stack.node.tryRemoveChild('Git0');

  const template = Template.fromStack(stack).toJSON();

  const ids = Object.keys(template.Resources);
  for (const resource of Object.values<any>(template.Resources)) for (const d of resource.DependsOn ?? []) expect(ids).toContain(d);
});

test('GIVEN a credential under a condition WHEN synthesized THEN no unconditional credential waits for it', () => {
  const stack = stackOf();
  const credentials = Array.from({ length: 12 }, (_, i) => credential(stack, i));
  const condition = new CfnCondition(stack, 'Enabled', { expression: Fn.conditionEquals('a', 'b') });
  customResource(credentials[0]).cfnOptions.condition = condition;

  const waited = credentialsWaitedFor(stack);

  expect(waited).toMatchObject({ Git10: [], Git11: ['Git1'] });
});
