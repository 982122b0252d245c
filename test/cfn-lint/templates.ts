import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { exampleStack } from '../../examples/app';
import { CredentialService, CredentialStatus, ServiceSpecificCredential } from '../../src';

// Writes a template for every shape the construct takes, for cfn-lint (`npx projen lint:cfn`).

const outdir = process.argv[2] ?? 'cdk.out.lint';
fs.rmSync(outdir, { recursive: true, force: true });
const app = new App({ outdir });
const env = { account: '123456789012', region: 'us-east-1' };

exampleStack(app);

const services = new Stack(app, 'EveryService', { env });
const user = new iam.User(services, 'User');
const key = new kms.Key(services, 'Key', { enableKeyRotation: true });
new ServiceSpecificCredential(services, 'Git', { user, service: CredentialService.CODECOMMIT, secretName: 'ci/git' });
new ServiceSpecificCredential(services, 'Keyspaces', { user, service: CredentialService.KEYSPACES, status: CredentialStatus.INACTIVE, resetSerial: 2 });
const bedrock = new ServiceSpecificCredential(services, 'Bedrock', { user, service: CredentialService.BEDROCK, expiresAfter: Duration.days(90), encryptionKey: key });
new ServiceSpecificCredential(services, 'Logs', { user, service: CredentialService.CLOUDWATCH_LOGS });
new ServiceSpecificCredential(services, 'Metrics', { user, service: CredentialService.CLOUDWATCH });
const alerts = new sns.Topic(services, 'Alerts');
new ServiceSpecificCredential(services, 'Traces', { user: new iam.User(services, 'Tracer'), service: CredentialService.XRAY, expiresAfter: Duration.days(30) })
  .onExpiring('ExpiresSoon', { before: Duration.days(7), target: new targets.SnsTopic(alerts) });
new ServiceSpecificCredential(services, 'Rotated', {
  user: new iam.User(services, 'Agent'), service: CredentialService.BEDROCK, expiresAfter: Duration.days(90), rotation: { automaticallyAfter: Duration.days(30) },
}).onRotationFailed('RotationFailed', { target: new targets.SnsTopic(alerts) });
const reader = new lambda.Function(services, 'Reader', {
  runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}'),
});
bedrock.grantRead(reader);
reader.addEnvironment('SECRET_ARN', bedrock.secretArn);

const scale = new Stack(app, 'TwoHundredForty', { env });
for (let i = 0; i < 240; i++) {
  new ServiceSpecificCredential(scale, `Git${i}`, { user: iam.User.fromUserName(scale, `User${i}`, `developer-${i}`), service: CredentialService.CODECOMMIT });
}

app.synth();
console.log(fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f)).join('\n'));
