import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ServiceSpecificCredential, ServiceSpecificCredentialAttributes } from '../src';

// A credential that exists already: referenced, granted and wired, never created, reset or deleted.

const ID = 'ACCAEXAMPLE123456789';
const COMPLETE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci/git-AbCdEf';

function setup(attrs: Omit<ServiceSpecificCredentialAttributes, 'serviceSpecificCredentialId'> & { serviceSpecificCredentialId?: string }) {
  const stack = new Stack(new App(), 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const credential = ServiceSpecificCredential.fromServiceSpecificCredentialAttributes(stack, 'Git', { serviceSpecificCredentialId: ID, ...attrs });
  return { stack, reader, credential, template: () => Template.fromStack(stack) };
}

const readStatement = (resource: unknown) => Match.objectLike({
  Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
  Resource: resource,
});

describe.each([
  ['a complete ARN', { secretArn: COMPLETE_ARN }, COMPLETE_ARN],
  ['a name', { secretName: 'ci/git' }, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-west-1:123456789012:secret:ci/git-??????']] }],
  ['an ISecret', {}, COMPLETE_ARN],
])('imported by %s', (_, attrs, grantedArn) => {
  const make = () => {
    const given = 'secretArn' in attrs || 'secretName' in attrs ? attrs : {
      secret: secretsmanager.Secret.fromSecretCompleteArn(new Stack(), 'S', COMPLETE_ARN),
    };
    return setup(given);
  };

  test('grantRead gives read on its secret', () => {
    const { reader, credential, template } = make();

    credential.grantRead(reader);

    template().hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: [readStatement(grantedArn)] } });
  });

  test('adds no custom resource, no handler and no secret: nothing creates, resets or deletes it', () => {
    const { reader, credential, template } = make();
    credential.grantRead(reader);

    for (const type of ['Custom::ServiceSpecificCredential', 'AWS::Lambda::Function', 'AWS::SecretsManager::Secret', 'AWS::IAM::ManagedPolicy']) {
      template().resourceCountIs(type, 0);
    }
  });

  test('answers its id and the secret\'s ARN', () => {
    const { stack, credential } = make();

    expect(credential.serviceSpecificCredentialId).toBe(ID);
    expect(JSON.stringify(stack.resolve(credential.secretArn))).toEqual(JSON.stringify(grantedArn).replace('-??????', ''));
  });
});

test('grantRead with the secret\'s key gives decrypt on it, whichever way the secret is given', () => {
  for (const how of ['secretArn', 'secret'] as const) {
    const stack = new Stack(new App(), 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
    const key = new kms.Key(stack, 'Key');
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const secret = how === 'secret' ? { secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', COMPLETE_ARN) } : { secretArn: COMPLETE_ARN };
    const credential = ServiceSpecificCredential.fromServiceSpecificCredentialAttributes(stack, 'Git', {
      serviceSpecificCredentialId: ID, encryptionKey: key, ...secret,
    });

    credential.grantRead(reader);

    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'kms:Decrypt',
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
          Principal: { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Reader'), 'Arn'] } },
        })]),
      },
    });
  }
});

test('the attributes given are answered; one not given throws, naming it, when read', () => {
  const { credential } = setup({ secretArn: COMPLETE_ARN, serviceUserName: 'ci-bot-at-123456789012' });

  expect(credential.serviceUserName).toBe('ci-bot-at-123456789012');
  expect(() => credential.serviceCredentialAlias).toThrow(/serviceCredentialAlias of the imported credential Consumer\/Git is not known/);
  expect(() => credential.expirationDate).toThrow(/expirationDate .* is not known/);
});

test.each([
  [{ secretArn: COMPLETE_ARN, secretName: 'ci/git' }, /exactly one way .* got secretArn and secretName/],
  [{}, /exactly one way .* got none/],
  [{ secretArn: COMPLETE_ARN, serviceSpecificCredentialId: 'not an id' }, /Invalid serviceSpecificCredentialId 'not an id' for Consumer\/Git/],
])('bad attributes are named at synth: %j', (attrs, message) => {
  expect(() => setup(attrs)).toThrow(message);
});
