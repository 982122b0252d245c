import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CredentialService, CredentialStatus, ServiceSpecificCredential } from '../src';

// One snapshot of the public construct in its three shapes. The asset hash is masked: it changes with every
// handler edit, and the handler has tests of its own.

test('ServiceSpecificCredential', () => {
  const app = new App();
  const stack = new Stack(app, 'Snapshot', { env: { account: '123456789012', region: 'us-east-1' } });
  const user = new iam.User(stack, 'User');
  new ServiceSpecificCredential(stack, 'Git', { user, service: CredentialService.CODECOMMIT });
  new ServiceSpecificCredential(stack, 'Keyspaces', { user, service: CredentialService.KEYSPACES, status: CredentialStatus.INACTIVE });
  new ServiceSpecificCredential(stack, 'Bedrock', {
    user,
    service: CredentialService.BEDROCK,
    expiresAfter: Duration.days(30),
    encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
  });

  const template = JSON.stringify(Template.fromStack(stack).toJSON(), null, 1).replace(/[0-9a-f]{64}\.zip/g, '<asset hash>.zip');
  expect(JSON.parse(template)).toMatchSnapshot();
});
