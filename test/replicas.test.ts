import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CredentialService, ServiceSpecificCredential } from '../src';

// Replica regions (src/replicas.ts): the secret replicated as secretsmanager.Secret replicates it, readable in each.

const REPLICA_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

function setup(replicaRegions?: (stack: Stack) => secretsmanager.ReplicaRegion[]) {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  const credential = new ServiceSpecificCredential(stack, 'Git', {
    user: new iam.User(stack, 'User'), service: CredentialService.CODECOMMIT, replicaRegions: replicaRegions?.(stack),
  });
  return { stack, credential };
}

const withKey = (stack: Stack): secretsmanager.ReplicaRegion[] => [
  { region: 'eu-west-1', encryptionKey: kms.Key.fromKeyArn(stack, 'ReplicaKey', REPLICA_KEY_ARN) },
  { region: 'ap-southeast-2' },
];

/** The secret's ARN, field by field, as the replicas' ARNs are made of it. */
const arnField = (i: number) => ({ 'Fn::Select': [i, { 'Fn::Split': [':', { 'Fn::GetAtt': [Match.stringLikeRegexp('^Git'), 'SecretArn'] }] }] });
const replicaArn = (region: string) => ({ 'Fn::Join': [':', [arnField(0), arnField(1), arnField(2), region, arnField(4), arnField(5), arnField(6)]] });

test('GIVEN replica regions THEN the secret is replicated to each, with its key where one is given', () => {
  const { stack } = setup(withKey);

  Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
    ReplicaRegions: [{ Region: 'eu-west-1', KmsKeyId: REPLICA_KEY_ARN }, { Region: 'ap-southeast-2' }],
  });
});

test('GIVEN no replica regions THEN the secret has no ReplicaRegions', () => {
  const { stack } = setup();

  Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', { ReplicaRegions: Match.absent() });
});

test('GIVEN a replica with a key of its own THEN the handler may encrypt with it through Secrets Manager in that region only', () => {
  const { stack } = setup(withKey);

  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^ServiceSpecificCredentialProviderRole') }],
    PolicyDocument: {
      Statement: Match.arrayWith([Match.objectLike({
        Action: ['kms:Encrypt', 'kms:GenerateDataKey*'],
        Resource: REPLICA_KEY_ARN,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      })]),
    },
  });
});

test('GIVEN replica regions WHEN grantRead THEN the reader may read the secret and each replica, and decrypt each replica\'s key there', () => {
  const { stack, credential } = setup(withKey);
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  credential.grantRead(reader);

  const statements = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }] },
  });
  const [policy] = Object.values<any>(statements);
  expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
    expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Git/), 'SecretArn'] } }),
    expect.objectContaining({ Action: 'kms:Decrypt', Resource: REPLICA_KEY_ARN, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } } }),
  ]));
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }],
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: [replicaArn('eu-west-1'), replicaArn('ap-southeast-2')] })]) },
  });
});

test.each([
  [[{ region: 'EU-WEST-1' }], "Stack/Git: Invalid replica region 'EU-WEST-1': expected a region name such as 'eu-west-1'"],
  [[{ region: 'us-east-1' }], "Stack/Git: Replica region 'us-east-1' is the secret's own region: a replica must be in another region"],
  [[{ region: 'eu-west-1' }, { region: 'eu-west-1' }], "Stack/Git: Replica region 'eu-west-1' is given twice"],
])('GIVEN replica regions %j THEN synth fails naming the region', (regions, message) => {
  expect(() => setup(() => regions)).toThrow(message);
});

test.each([
  ['a key of another region', (stack: Stack) => kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555'),
    "Stack/Git: The key of replica region 'eu-west-1' is a key of us-east-1, but its secret is in eu-west-1: Secrets Manager encrypts with a key of the secret's own region"],
  ['an alias by name', (stack: Stack) => kms.Alias.fromAliasName(stack, 'A', 'alias/replica'),
    "Stack/Git: The key of replica region 'eu-west-1' is an alias by name, which names a key of the stack's own region: give the replica's key by its ARN (kms.Key.fromKeyArn)"],
])('GIVEN a replica whose key is %s THEN synth fails naming the replica', (_, key, message) => {
  expect(() => setup((stack) => [{ region: 'eu-west-1', encryptionKey: key(stack) }])).toThrow(message);
});

test('GIVEN a region of a partition whose prefix is longer than two letters THEN it is accepted', () => {
  expect(() => setup(() => [{ region: 'eusc-de-east-1' }])).not.toThrow();
});

test('GIVEN a secret key of another region THEN synth fails naming encryptionKey', () => {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });

  expect(() => new ServiceSpecificCredential(stack, 'Git', {
    user: new iam.User(stack, 'User'),
    service: CredentialService.CODECOMMIT,
    encryptionKey: kms.Key.fromKeyArn(stack, 'K', REPLICA_KEY_ARN),
  })).toThrow("Stack/Git: encryptionKey is a key of eu-west-1, but its secret is in us-east-1: Secrets Manager encrypts with a key of the secret's own region");
});
