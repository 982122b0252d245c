import { App, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Fact, FactName } from 'aws-cdk-lib/region-info';
import { CredentialService, ServiceSpecificCredential } from '../src';

// CloudFormation refuses to change a custom resource's ServiceToken ("Modifying service token is not allowed"), so
// nothing that moves between aws-cdk-lib releases may reach the handler's logical ids. The newest Node.js runtime
// is such a thing: aws-cdk-lib keeps it in its region facts, and a release that moves it is simulated here by
// registering another value, exactly where determineLatestNodeRuntime reads it.

type Template = { Resources: Record<string, { Type: string; Properties?: any }> };

function withLatestRuntime<T>(runtime: string | undefined, body: () => T): T {
  const saved = Fact.regions.map((region) => [region, Fact.find(region, FactName.LATEST_NODE_RUNTIME)] as const);
  try {
    if (runtime) for (const region of Fact.regions) Fact.register({ region, name: FactName.LATEST_NODE_RUNTIME, value: runtime }, true);
    return body();
  } finally {
    for (const [region, value] of saved) {
      if (value === undefined) Fact.unregister(region, FactName.LATEST_NODE_RUNTIME);
      else Fact.register({ region, name: FactName.LATEST_NODE_RUNTIME, value }, true);
    }
  }
}

/** The same app as a user would write it; `tokensBefore` stands for whatever else the app resolved first. */
function synth(options: { runtime?: string; agnostic?: boolean; tokensBefore?: number } = {}): Template {
  return withLatestRuntime(options.runtime, () => {
    const app = new App();
    for (let i = 0; i < (options.tokensBefore ?? 0); i++) Token.asString({ toString: () => `t${i}` });
    const stack = new Stack(app, 'App', options.agnostic ? {} : { env: { account: '123456789012', region: 'eu-west-1' } });
    const user = new iam.User(stack, 'GitUser');
    new ServiceSpecificCredential(stack, 'Git', { user, service: CredentialService.CODECOMMIT });
    new ServiceSpecificCredential(stack, 'Bedrock', { user, service: CredentialService.BEDROCK });
    return app.synth().getStackByName('App').template as Template;
  });
}

const logicalIds = (t: Template) => Object.keys(t.Resources).sort();
const serviceTokens = (t: Template) => Object.values(t.Resources)
  .filter((r) => r.Type === 'Custom::ServiceSpecificCredential')
  .map((r) => r.Properties.ServiceToken);
const runtimeOf = (t: Template) => Object.values(t.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!.Properties.Runtime;

test.each([
  ['an environment', {}],
  ['no environment (the runtime is a token)', { agnostic: true }],
])('with %s, a new latest Node.js runtime changes no logical id and no ServiceToken', (_, where) => {
  const before = synth({ ...where, runtime: 'nodejs22.x' });
  const after = synth({ ...where, runtime: 'nodejs24.x', tokensBefore: 7 });

  expect(logicalIds(after)).toEqual(logicalIds(before));
  expect(serviceTokens(after)).toEqual(serviceTokens(before));
  // The function itself is updated in place: same logical id, new runtime.
  expect(JSON.stringify(runtimeOf(after))).not.toEqual(JSON.stringify(runtimeOf(before)));
});

test('the handler\'s logical ids and ServiceToken are pinned: a change here breaks every deployed stack', () => {
  const template = synth();

  const handlerIds = Object.entries(template.Resources)
    .filter(([, r]) => !['Custom::ServiceSpecificCredential', 'AWS::SecretsManager::Secret', 'AWS::IAM::User'].includes(r.Type))
    .map(([id, r]) => `${r.Type} ${id}`)
    .sort();
  expect(handlerIds).toEqual([
    'AWS::IAM::ManagedPolicy ServiceSpecificCredentialProviderUsers160C958B4',
    'AWS::IAM::Policy ServiceSpecificCredentialProviderRoleDefaultPolicyA71DB991',
    'AWS::IAM::Role ServiceSpecificCredentialProviderRoleED74E64D',
    'AWS::Lambda::Function ServiceSpecificCredentialProviderHandler10F2678A',
    'AWS::Logs::LogGroup ServiceSpecificCredentialProviderLogs7F87E581',
  ]);
  expect(new Set(serviceTokens(template).map((t) => JSON.stringify(t)))).toEqual(new Set([
    JSON.stringify({ 'Fn::GetAtt': ['ServiceSpecificCredentialProviderHandler10F2678A', 'Arn'] }),
  ]));
});

test('the handler\'s log group keeps a year of logs and outlives the stack', () => {
  const template = synth() as any;

  const [logGroup] = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
  expect(logGroup.Properties.RetentionInDays).toBe(365);
  expect(logGroup.DeletionPolicy).toBe('Retain');
  expect(logGroup.UpdateReplacePolicy).toBe('Retain');
});
