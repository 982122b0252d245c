import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialRotationOptions, CredentialService, CredentialStatus, ServiceSpecificCredential } from '../src';

/** What the demo changes between deployments, as a user would edit their app. */
export interface ExampleSettings {
  /** @default 'ci-bot' */
  readonly userName?: string;
  /** @default CredentialStatus.ACTIVE */
  readonly status?: CredentialStatus;
  /** @default 0 */
  readonly resetSerial?: number;
  /** @default - no rotation */
  readonly rotation?: CredentialRotationOptions;
}

/** A CI bot's IAM user with a CodeCommit Git password for HTTPS, stored in Secrets Manager. */
export function exampleStack(app: App, settings: ExampleSettings = {}): Stack {
  const stack = new Stack(app, 'GitCredentialExample', { env: { account: '123456789012', region: 'us-east-1' } });
  const user = new iam.User(stack, 'GitUser', { userName: settings.userName ?? 'ci-bot' });
  const git = new ServiceSpecificCredential(stack, 'GitCredential', {
    user,
    service: CredentialService.CODECOMMIT,
    status: settings.status,
    resetSerial: settings.resetSerial,
    rotation: settings.rotation,
  });
  new CfnOutput(stack, 'GitUserName', { value: git.serviceUserName });
  new CfnOutput(stack, 'GitSecretArn', { value: git.secretArn });
  return stack;
}

/** A model-calling bot's IAM user with an Amazon Bedrock API key that expires after 90 days and rotates every 30. */
export function apiKeyStack(app: App): Stack {
  const stack = new Stack(app, 'ApiKeyExample', { env: { account: '123456789012', region: 'us-east-1' } });
  const user = new iam.User(stack, 'ModelUser', { userName: 'model-bot' });
  const bedrock = new ServiceSpecificCredential(stack, 'BedrockKey', {
    user,
    service: CredentialService.BEDROCK,
    expiresAfter: Duration.days(90),
    rotation: { automaticallyAfter: Duration.days(30) },
  });
  new CfnOutput(stack, 'BedrockKeyAlias', { value: bedrock.serviceCredentialAlias });
  new CfnOutput(stack, 'BedrockKeySecretArn', { value: bedrock.secretArn });
  return stack;
}

if (require.main === module) {
  const app = new App();
  exampleStack(app);
  apiKeyStack(app);
  app.synth();
}
