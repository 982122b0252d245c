import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CredentialService, ServiceSpecificCredential } from '../src';

// A key the credential's stack does not own: a key of another stack of the app, a key imported by ARN, an alias
// imported by name. The handler's role and every reader get the key's use through Secrets Manager in their own
// policies, which is all the template can grant: the key's policy is another stack's, or not in the app at all.

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/git-AbCdEf';
const VIA = { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } };

type Shape = 'a key of another stack' | 'kms.Key.fromKeyArn' | 'kms.Alias.fromAliasName';
const SHAPES: Shape[] = ['a key of another stack', 'kms.Key.fromKeyArn', 'kms.Alias.fromAliasName'];

/** An app as an organisation has it: the key in a stack of its own (or not in the app), the credential in another. */
function setup(shape: Shape) {
  const app = new App();
  const keyStack = new Stack(app, 'KeyStack');
  const stack = new Stack(app, 'Mistake');
  const key = shape === 'a key of another stack' ? new kms.Key(keyStack, 'Key')
    : shape === 'kms.Key.fromKeyArn' ? kms.Key.fromKeyArn(stack, 'Key', KEY_ARN)
      : kms.Alias.fromAliasName(stack, 'Key', 'alias/org-secrets');
  const credential = new ServiceSpecificCredential(stack, 'Git', { user: new iam.User(stack, 'User'), service: CredentialService.CODECOMMIT, encryptionKey: key });
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { app, keyStack, stack, key, credential, role };
}

/** The key's use through Secrets Manager in the stack's region, as each shape must be named in an IAM policy. */
function keyStatement(shape: Shape, actions: string | string[]) {
  switch (shape) {
    case 'a key of another stack':
      return { Effect: 'Allow', Action: actions, Resource: { 'Fn::ImportValue': Match.stringLikeRegexp('^KeyStack:ExportsOutputFnGetAttKey') }, Condition: { StringEquals: VIA } };
    case 'kms.Key.fromKeyArn':
      return { Effect: 'Allow', Action: actions, Resource: KEY_ARN, Condition: { StringEquals: VIA } };
    case 'kms.Alias.fromAliasName':
      // An alias ARN authorizes nothing in an IAM policy: KMS authorizes on the key, so any key of the account and
      // region that carries the alias.
      return {
        Effect: 'Allow',
        Action: actions,
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':key/*']] },
        Condition: { 'StringEquals': VIA, 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/org-secrets' } },
      };
  }
}

/** The KMS statements of the policies attached to a role. */
function kmsStatements(stack: Stack, role: iam.IRole) {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) }] },
  });
  return Object.values(policies)
    .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement)
    .filter((statement: any) => [statement.Action].flat().some((action: string) => action.startsWith('kms:')));
}

const handlerRole = (stack: Stack) => stack.node.findChild('ServiceSpecificCredentialProvider').node.findChild('Role') as iam.Role;

describe.each(SHAPES)('GIVEN %s', (shape) => {
  test('THEN the app synthesizes, and the key\'s stack gains no reference to the credential\'s', () => {
    const { app, keyStack, stack, credential, role } = setup(shape);
    credential.grantRead(role('Reader'));

    const assembly = app.synth();

    expect(JSON.stringify(assembly.getStackByName(keyStack.stackName).template)).not.toContain('Fn::ImportValue');
    expect(stack.dependencies.map((s) => s.stackName)).toEqual(shape === 'a key of another stack' ? ['KeyStack'] : []);
  });

  test('THEN the handler\'s role may generate data keys and decrypt with it, through Secrets Manager only', () => {
    const { stack } = setup(shape);

    expect(kmsStatements(stack, handlerRole(stack))).toHaveLength(1);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(handlerRole(stack).node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([keyStatement(shape, ['kms:GenerateDataKey', 'kms:Decrypt'])]) },
    });
  });

  test('THEN grantRead gives the reader decrypt through Secrets Manager in its own policy', () => {
    const { stack, credential, role } = setup(shape);
    const reader = role('Reader');

    credential.grantRead(reader);

    expect(kmsStatements(stack, reader)).toHaveLength(1);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([keyStatement(shape, 'kms:Decrypt')]) },
    });
  });

  test('THEN an integration that grants on credential.secret (an ECS task\'s secrets) gets decrypt too', () => {
    const { stack, credential } = setup(shape);
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    task.addContainer('App', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/alpine:3'),
      secrets: { GIT_PASSWORD: ecs.Secret.fromSecretsManager(credential.secret, 'password') },
    });

    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(task.obtainExecutionRole().node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([keyStatement(shape, 'kms:Decrypt')]) },
    });
  });

  test.each(['secretArn', 'secret'] as const)('THEN an imported credential\'s grantRead, its secret given by %s, gives decrypt too', (how) => {
    const { stack, key, role } = setup(shape);
    const reader = role('Reader');
    const secret = how === 'secret' ? { secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', SECRET_ARN) } : { secretArn: SECRET_ARN };
    const imported = ServiceSpecificCredential.fromServiceSpecificCredentialAttributes(stack, 'Shared', {
      serviceSpecificCredentialId: 'ACCAEXAMPLE123456789', encryptionKey: key, ...secret,
    });

    imported.grantRead(reader);

    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([keyStatement(shape, 'kms:Decrypt')]) },
    });
  });
});

test('GIVEN a key and a credential in one stack and a reader in another THEN the reader gets decrypt in its own policy, '
  + 'and the key\'s policy does not name it', () => {
  const app = new App();
  const stack = new Stack(app, 'Credentials');
  const key = new kms.Key(stack, 'Key');
  const credential = new ServiceSpecificCredential(stack, 'Git', { user: new iam.User(stack, 'User'), service: CredentialService.CODECOMMIT, encryptionKey: key });
  const consumer = new Stack(app, 'Consumer');
  const reader = new iam.Role(consumer, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  credential.grantRead(reader);

  expect(() => app.synth()).not.toThrow();
  Template.fromStack(consumer).hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([{
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::ImportValue': Match.stringLikeRegexp('^Credentials:ExportsOutputFnGetAttKey') },
        Condition: { StringEquals: VIA },
      }]),
    },
  });
  expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::KMS::Key'))).not.toContain('Reader');
});

test('GIVEN a key of the same stack THEN the handler\'s role and readers are granted in the key\'s policy, as before', () => {
  const app = new App();
  const stack = new Stack(app, 'Stack');
  const key = new kms.Key(stack, 'Key');
  const credential = new ServiceSpecificCredential(stack, 'Git', { user: new iam.User(stack, 'User'), service: CredentialService.CODECOMMIT, encryptionKey: key });
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  credential.grantRead(reader);

  expect(kmsStatements(stack, handlerRole(stack))).toEqual([]);
  expect(kmsStatements(stack, reader)).toEqual([]);
  const principals = Template.fromStack(stack).findResources('AWS::KMS::Key')[stack.getLogicalId(key.node.defaultChild as kms.CfnKey)]
    .Properties.KeyPolicy.Statement.map((s: any) => JSON.stringify(s.Principal));
  expect(principals).toEqual(expect.arrayContaining([expect.stringContaining('ServiceSpecificCredentialProviderRole'), expect.stringContaining('Reader')]));
});
