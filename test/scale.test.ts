import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialService, ServiceSpecificCredential } from '../src';
import { policyDocuments } from './bench/policies';

// 240 credentials in one stack: what CloudFormation and IAM accept, with each grant still scoped.

const N = 240;
let template: any;

beforeAll(() => {
  const app = new App();
  const stack = new Stack(app, 'Credentials', { env: { account: '123456789012', region: 'us-east-1' } });
  for (let i = 0; i < N; i++) {
    const user = iam.User.fromUserName(stack, `User${i}`, `developer-${String(i).padStart(4, '0')}`);
    new ServiceSpecificCredential(stack, `Git${i}`, { user, service: CredentialService.CODECOMMIT });
  }
  template = app.synth().getStackByName('Credentials').template;
});

const resourcesOfType = (type: string) => Object.entries<any>(template.Resources).filter(([, r]) => r.Type === type);

test(`${N} credentials stay within CloudFormation's 500 resources`, () => {
  const count = Object.keys(template.Resources).length;
  console.log(`${N} credentials: ${count} resources, headroom ${500 - count}`);
  expect(count).toBeLessThanOrEqual(500);
});

test(`${N} credentials share one handler Lambda`, () => {
  expect(resourcesOfType('AWS::Lambda::Function')).toHaveLength(1);
});

test('every IAM policy fits its limit with tokens resolved to realistic ARNs, and the role its 10 managed policies', () => {
  const docs = policyDocuments(template);
  for (const doc of docs) {
    console.log(`${doc.name}: ${doc.size} of ${doc.limit} characters`);
    expect(doc.size).toBeLessThanOrEqual(doc.limit);
  }
  expect(docs.filter((d) => d.kind === 'managed').length).toBeLessThanOrEqual(10);
});

test("each user's ARN is granted exactly once for the actions that issue secrets", () => {
  const userResources = resourcesOfType('AWS::IAM::ManagedPolicy')
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
    .flatMap((s: any) => {
      expect(s.Action).toEqual(['iam:CreateServiceSpecificCredential', 'iam:ResetServiceSpecificCredential', 'iam:UpdateServiceSpecificCredential']);
      return s.Resource;
    })
    .map((r: any) => JSON.stringify(r));
  expect(userResources).toHaveLength(N);
  expect(new Set(userResources).size).toBe(N);
  expect(userResources.join()).toContain('user/developer-0239');
  expect(userResources.join()).not.toContain('*');
});

test('the handler writes only secrets tagged with this stack\'s id, and every credential secret carries the tag', () => {
  const [, policy] = resourcesOfType('AWS::IAM::Policy')[0];
  const secretStatements = policy.Properties.PolicyDocument.Statement.filter((s: any) => JSON.stringify(s.Action).includes('secretsmanager'));
  // One statement that reads and writes, one that describes: however many credentials.
  expect(secretStatements).toHaveLength(2);
  expect(secretStatements[0].Condition).toEqual({
    StringEquals: {
      'aws:ResourceTag/cdk-service-specific-credential': { Ref: 'AWS::StackId' },
      'aws:ResourceTag/aws:cloudformation:stack-id': { Ref: 'AWS::StackId' },
    },
  });
  expect(secretStatements[1]).toMatchObject({
    Action: 'secretsmanager:DescribeSecret',
    Condition: { StringEquals: { 'aws:ResourceTag/cdk-service-specific-credential': { Ref: 'AWS::StackId' } } },
  });
  for (const [, secret] of resourcesOfType('AWS::SecretsManager::Secret')) {
    expect(secret.Properties.Tags).toContainEqual({ Key: 'cdk-service-specific-credential', Value: { Ref: 'AWS::StackId' } });
  }
});
