import { App, Fn, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { KeyedSecret } from '../src/keyed-secret';

// The credential's `secret` (src/keyed-secret.ts): what `secretsmanager.Secret.fromSecretAttributes` imports, but
// with grants that work for a key the secret's stack does not own.

const COMPLETE_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/git-AbCdEf';
const PARTIAL_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/git';

function stack() {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
}

describe.each([
  ['a complete ARN', COMPLETE_ARN, true],
  ['a partial ARN', PARTIAL_ARN, false],
  ['a token', Fn.importValue('SecretArn'), true],
])('GIVEN %s', (_, arn, complete) => {
  test('THEN it answers as the secret aws-cdk imports does', () => {
    const s = stack();
    const ours = new KeyedSecret(s, 'Ours', arn, complete);
    const theirs = secretsmanager.Secret.fromSecretAttributes(s, 'Theirs', complete ? { secretCompleteArn: arn } : { secretPartialArn: arn });

    for (const read of [
      (x: secretsmanager.ISecret) => x.secretArn,
      (x: secretsmanager.ISecret) => x.secretFullArn,
      (x: secretsmanager.ISecret) => x.secretName,
      (x: secretsmanager.ISecret) => x.secretValueFromJson('password').toString(),
      (x: secretsmanager.ISecret) => x.secretValue.toString(),
      (x: secretsmanager.ISecret) => x.secretRef,
      (x: secretsmanager.ISecret) => x.cfnDynamicReferenceKey({ jsonField: 'password', versionStage: 'AWSCURRENT' }),
      (x: secretsmanager.ISecret) => x.addToResourcePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: ['*'] })),
      (x: secretsmanager.ISecret) => x.env,
    ]) {
      expect(s.resolve(read(ours))).toEqual(s.resolve(read(theirs)));
    }
  });

  test('THEN grantRead and grantWrite give what aws-cdk\'s give on the secret, and it adds no resource', () => {
    const grants = (make: (s: Stack) => secretsmanager.ISecret) => {
      const s = stack();
      const secret = make(s);
      secret.grantRead(new iam.Role(s, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }), ['AWSCURRENT']);
      secret.grantWrite(new iam.Role(s, 'Writer', { assumedBy: new iam.AccountRootPrincipal() }));
      return Template.fromStack(s).toJSON();
    };

    const ours = grants((s) => new KeyedSecret(s, 'Secret', arn, complete));
    const theirs = grants((s) => secretsmanager.Secret.fromSecretAttributes(s, 'Secret', complete ? { secretCompleteArn: arn } : { secretPartialArn: arn }));

    expect(ours).toEqual(theirs);
  });
});

test('GIVEN a key of its stack THEN grantRead grants it in the key\'s policy, as aws-cdk does', () => {
  const grants = (make: (s: Stack, key: kms.IKey) => secretsmanager.ISecret) => {
    const s = stack();
    const secret = make(s, new kms.Key(s, 'Key'));
    secret.grantRead(new iam.Role(s, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
    return Template.fromStack(s).toJSON();
  };

  expect(grants((s, key) => new KeyedSecret(s, 'Secret', COMPLETE_ARN, true, key)))
    .toEqual(grants((s, key) => secretsmanager.Secret.fromSecretAttributes(s, 'Secret', { secretCompleteArn: COMPLETE_ARN, encryptionKey: key })));
});

test('GIVEN an imported key THEN grantWrite gives GenerateDataKey and Decrypt through Secrets Manager in the writer\'s policy', () => {
  const s = stack();
  const key = kms.Key.fromKeyArn(s, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555');
  new KeyedSecret(s, 'Secret', COMPLETE_ARN, true, key).grantWrite(new iam.Role(s, 'Writer', { assumedBy: new iam.AccountRootPrincipal() }));

  Template.fromStack(s).hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([{
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: key.keyArn,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
      }]),
    },
  });
});

test('GIVEN the secret WHEN a rotation schedule is added THEN the template has what aws-cdk\'s import adds', () => {
  const rendered = (make: (s: Stack) => secretsmanager.ISecret) => {
    const s = stack();
    const secret = make(s);
    secret.addRotationSchedule('Rotation', {
      rotationLambda: lambda.Function.fromFunctionArn(s, 'Fn', 'arn:aws:lambda:us-east-1:123456789012:function:rotate'),
    });
    secret.denyAccountRootDelete();
    return Template.fromStack(s).findResources('AWS::SecretsManager::RotationSchedule');
  };
  const ours = rendered((s) => new KeyedSecret(s, 'Secret', COMPLETE_ARN, true));
  const theirs = rendered((s) => secretsmanager.Secret.fromSecretAttributes(s, 'Secret', { secretCompleteArn: COMPLETE_ARN }));

  expect(Object.values(ours)).toEqual(Object.values(theirs));
  expect(Object.values(ours)).toHaveLength(1);
});
