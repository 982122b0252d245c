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

// Keys the credentials' stack does not own: another stack's, one imported by ARN, an alias imported by name.
const keys = new Stack(app, 'OrgKeys', { env });
const shared = new Stack(app, 'SharedKeys', { env });
const sharedReader = new iam.Role(shared, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
for (const [id, encryptionKey] of [
  ['OtherStack', new kms.Key(keys, 'Key', { enableKeyRotation: true })],
  ['ByArn', kms.Key.fromKeyArn(shared, 'OrgKey', 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555')],
  ['ByAlias', kms.Alias.fromAliasName(shared, 'OrgAlias', 'alias/org-secrets')],
] as const) {
  new ServiceSpecificCredential(shared, id, { user: new iam.User(shared, `${id}User`), service: CredentialService.CODECOMMIT, encryptionKey }).grantRead(sharedReader);
}

const scale = new Stack(app, 'TwoHundredForty', { env });
for (let i = 0; i < 240; i++) {
  new ServiceSpecificCredential(scale, `Git${i}`, { user: iam.User.fromUserName(scale, `User${i}`, `developer-${i}`), service: CredentialService.CODECOMMIT });
}

app.synth();
console.log(fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f)).join('\n'));
