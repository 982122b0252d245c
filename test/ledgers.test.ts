import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialService, ServiceSpecificCredential } from '../src';

// The ledgers (src/ledgers.ts): secret names per stack, IAM's 2 credentials per user and service per app.

const git = (stack: Stack, id: string, userName: string, secretName?: string) => new ServiceSpecificCredential(stack, id, {
  user: iam.User.fromUserName(stack, `${id}User`, userName), service: CredentialService.CODECOMMIT, secretName,
});

test('GIVEN two stacks of one app with the same user WHEN a third credential is added in either THEN it is refused, naming the two', () => {
  const app = new App();
  const [a, b] = [new Stack(app, 'A'), new Stack(app, 'B')];
  git(a, 'First', 'alice');
  git(b, 'Second', 'alice');

  expect(() => git(b, 'Third', 'alice')).toThrow(/^B\/Third: IAM allows at most 2 .* user 'alice' already has A\/First and B\/Second/);
});

test('GIVEN two apps with the same user WHEN each adds two credentials THEN neither is refused: each app is a deployment of its own', () => {
  for (const app of [new App(), new App()]) {
    const stack = new Stack(app, 'Stack');
    expect(() => [git(stack, 'First', 'alice'), git(stack, 'Second', 'alice')]).not.toThrow();
  }
});

test('GIVEN a secret name in one stack WHEN another stack of the app uses it THEN it is accepted; in the same stack it is refused', () => {
  const app = new App();
  const [a, b] = [new Stack(app, 'A'), new Stack(app, 'B')];
  git(a, 'First', 'alice', 'ci/git');

  expect(() => git(b, 'Second', 'bob', 'ci/git')).not.toThrow();
  expect(() => git(a, 'Third', 'carol', 'ci/git')).toThrow("A/Third: secretName 'ci/git' is already the secret of A/First");
});

test('GIVEN the same user name in stages of two accounts WHEN each rotates ALTERNATING THEN neither is refused: they are two IAM users', () => {
  const app = new App();
  for (const [stage, account] of [['Dev', '111111111111'], ['Prod', '222222222222']]) {
    const stack = new Stack(new Stage(app, stage, { env: { account, region: 'eu-west-1' } }), 'Stack');
    expect(() => new ServiceSpecificCredential(stack, 'Git', {
      user: iam.User.fromUserName(stack, 'User', 'ci'),
      service: CredentialService.CODECOMMIT,
      rotation: { automaticallyAfter: Duration.days(30) },
    })).not.toThrow();
  }
});

test('GIVEN the same user name in two stacks of one account WHEN a third credential is added THEN it is refused', () => {
  const app = new App();
  const env = { account: '111111111111', region: 'eu-west-1' };
  const [a, b] = [new Stack(app, 'A', { env }), new Stack(app, 'B', { env: { ...env, region: 'us-east-1' } })];
  git(a, 'First', 'alice');
  git(b, 'Second', 'alice');

  expect(() => git(b, 'Third', 'alice')).toThrow(/^B\/Third: IAM allows at most 2 .* user 'alice' already has A\/First and B\/Second/);
});
