import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialService, ServiceSpecificCredential } from '../src';

// Deploys a CodeCommit credential for real and checks it from outside: IAM lists exactly it for the user, and
// the secret holds a document for it. Run against an AWS account with `npx integ-runner --update-on-failed`;
// `npx projen test` checks the committed snapshot offline.

const app = new App();
const stack = new Stack(app, 'ServiceSpecificCredentialInteg');
const user = new iam.User(stack, 'GitUser');
const git = new ServiceSpecificCredential(stack, 'GitCredential', { user, service: CredentialService.CODECOMMIT });

const integ = new IntegTest(app, 'ServiceSpecificCredential', { testCases: [stack] });

integ.assertions
  .awsApiCall('IAM', 'listServiceSpecificCredentials', { UserName: user.userName, ServiceName: 'codecommit.amazonaws.com' })
  .expect(ExpectedResult.objectLike({
    ServiceSpecificCredentials: [{ ServiceSpecificCredentialId: git.serviceSpecificCredentialId, Status: 'Active' }],
  }));

// This reads the test's own short-lived password through the assertion provider: acceptable for a stack that
// exists only for the test, and the reason no assertion here prints the value.
integ.assertions
  .awsApiCall('SecretsManager', 'getSecretValue', { SecretId: git.secretArn })
  .expect(ExpectedResult.objectLike({
    SecretString: Match.stringLikeRegexp('"username":"[^"]+-at-\\d{12}","password":"[^"]{20,}"'),
  }));
