import { App, RemovalPolicy, Resource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialService, IServiceSpecificCredential, ServiceSpecificCredential } from '../src';

// The credential has aws-cdk's shape of a resource (as iam.AccessKey): a Resource, and an IResource when imported.

const COMPLETE_ARN = 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:ci/git-AbCdEf';

function setup() {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  const credential = new ServiceSpecificCredential(stack, 'Git', { user: new iam.User(stack, 'User'), service: CredentialService.CODECOMMIT });
  const deletionPolicies = () => ['Custom::ServiceSpecificCredential', 'AWS::SecretsManager::Secret']
    .map((type) => Object.values<any>(Template.fromStack(stack).findResources(type))[0])
    .map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy]);
  return { stack, credential, deletionPolicies };
}

test('GIVEN a credential THEN it is a Resource of its stack, in its environment', () => {
  const { stack, credential } = setup();

  expect(credential).toBeInstanceOf(Resource);
  expect(credential.stack).toBe(stack);
  expect(credential.env).toEqual({ account: '123456789012', region: 'us-east-1' });
});

test('GIVEN a credential WHEN applyRemovalPolicy(RETAIN) THEN the credential and its secret are kept on delete, and a replacement still deletes', () => {
  const { credential, deletionPolicies } = setup();

  credential.applyRemovalPolicy(RemovalPolicy.RETAIN);

  expect(deletionPolicies()).toEqual([['Retain', 'Delete'], ['Retain', 'Delete']]);
});

test('GIVEN a retained credential WHEN applyRemovalPolicy(DESTROY) THEN both are deleted again', () => {
  const { credential, deletionPolicies } = setup();
  credential.applyRemovalPolicy(RemovalPolicy.RETAIN);

  credential.applyRemovalPolicy(RemovalPolicy.DESTROY);

  expect(deletionPolicies()).toEqual([['Delete', 'Delete'], ['Delete', 'Delete']]);
});

test.each([RemovalPolicy.SNAPSHOT, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE])('GIVEN a credential WHEN applyRemovalPolicy(%s) THEN it is refused, naming the construct and the policy', (policy) => {
  const { credential, deletionPolicies } = setup();

  expect(() => credential.applyRemovalPolicy(policy)).toThrow(new RegExp(`^Stack/Git: .*RemovalPolicy.DESTROY or RemovalPolicy.RETAIN .*got "${policy}"$`));
  expect(deletionPolicies()).toEqual([['Delete', 'Delete'], ['Delete', 'Delete']]);
});

test('GIVEN a credential THEN its secret exists from the constructor on: reading it adds nothing to the tree', () => {
  const { credential } = setup();
  const children = credential.node.children.length;

  const secret = credential.secret;

  expect(credential.node.children).toHaveLength(children);
  expect(credential.node.children).toContain(secret);
});

test('GIVEN an imported credential THEN it is an IResource in its secret\'s account and region, with no removal policy to apply', () => {
  const stack = new Stack(new App(), 'Consumer', { env: { account: '123456789012', region: 'us-east-1' } });

  const imported: IServiceSpecificCredential = ServiceSpecificCredential.fromServiceSpecificCredentialAttributes(stack, 'Shared', {
    serviceSpecificCredentialId: 'ACCAEXAMPLE123456789', secretArn: COMPLETE_ARN,
  });

  expect(imported).toBeInstanceOf(Resource);
  expect(imported.stack).toBe(stack);
  expect(imported.env).toEqual({ account: '210987654321', region: 'eu-west-1' });
  expect(() => imported.applyRemovalPolicy(RemovalPolicy.RETAIN)).toThrow(/Consumer\/Shared is an imported credential/);
});

test('GIVEN a credential refused by validation THEN the stack holds no handler for it', () => {
  const stack = new Stack(new App(), 'Stack');

  expect(() => new ServiceSpecificCredential(stack, 'Bad', {
    user: iam.User.fromUserName(stack, 'User', 'ci'), service: CredentialService.CODECOMMIT, secretName: 'bad name',
  })).toThrow(/bad name/);

  Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 0);
});

test.each([
  [{ secretArn: 'ci/git', secretName: 'ci/git' }, 'Give the secret of Stack/Imported in exactly one way (secret, secretArn or secretName); got secretArn and secretName'],
  [{ serviceSpecificCredentialId: 'x', secretArn: 'ci/git' }, "Invalid serviceSpecificCredentialId 'x' for Stack/Imported"],
  [{ secretArn: 'ci/git' }, "Invalid secretArn 'ci/git' for Stack/Imported: expected a secret's ARN"],
])('GIVEN imported attributes %j THEN the library\'s own check names the construct', (attrs, message) => {
  const stack = new Stack(new App(), 'Stack');

  expect(() => ServiceSpecificCredential.fromServiceSpecificCredentialAttributes(stack, 'Imported', {
    serviceSpecificCredentialId: 'ACCAEXAMPLE123456789', ...attrs,
  })).toThrow(message);
});
