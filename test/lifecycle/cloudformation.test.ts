import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudFormation, Synthesized } from './cloudformation';
import { RESOURCE_TYPE } from '../../src/handler-contract';
import { LocalAws, startLocalAws } from '../local-aws';

// The local CloudFormation itself, driving a scripted handler instead of the real one: which events it sends, in what
// order, with which properties, and how it rolls back, as the lifecycle tests rely on it.

jest.setTimeout(60_000);

/**
 * A handler that answers every event by its properties: its physical id follows `Name` (a new Name is a replacement),
 * it fails the request type `Fail` names, never answers when `Hang` is set, and fails the rotation step FAIL_STEP names.
 */
const SCRIPTED_HANDLER = `
const http = require('node:http');
exports.handler = async (event) => {
  console.log(JSON.stringify(event));
  if (event.Step) {
    if (process.env.FAIL_STEP === event.Step) throw new Error(event.Step + ' failed');
    return;
  }
  const p = event.ResourceProperties;
  if (p.Hang) await new Promise((resolve) => setTimeout(resolve, 600000));
  const old = event.OldResourceProperties;
  const physicalId = event.RequestType === 'Create' || (old && old.Name !== p.Name) ? 'pid-' + p.Name + '-' + event.RequestId.slice(0, 8) : event.PhysicalResourceId;
  const failed = p.Fail === event.RequestType;
  const body = JSON.stringify({
    Status: failed ? 'FAILED' : 'SUCCESS', Reason: failed ? 'scripted failure' : undefined, PhysicalResourceId: physicalId,
    StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, Data: { Echo: p.Name },
  });
  await new Promise((resolve, reject) => {
    const req = http.request(event.ResponseURL, { method: 'PUT', headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
};
`;

let dir: string;
let handlerFile: string;
let localAws: LocalAws;
let cfn: CloudFormation;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scripted-handler-'));
  handlerFile = path.join(dir, 'index.js');
  fs.writeFileSync(handlerFile, SCRIPTED_HANDLER);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  localAws = await startLocalAws();
  cfn = await CloudFormation.start(localAws);
});
afterEach(async () => {
  await cfn.close();
  await localAws.close();
});

/** A stack of a user, a secret, the function and one custom resource with these properties. */
function stack(props: Record<string, unknown>, options: { env?: Record<string, string>; userName?: string } = {}): Synthesized {
  return {
    handlerFile,
    handlerTimeoutMs: 30_000,
    template: {
      Resources: {
        Cred: { Type: RESOURCE_TYPE, Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, UserName: { Ref: 'User' }, SecretArn: { Ref: 'Secret' }, ...props } },
        Fn: {
          Type: 'AWS::Lambda::Function',
          Metadata: { 'aws:asset:path': 'asset.scripted' },
          Properties: { Timeout: 30, Environment: { Variables: { STACK_ID: { Ref: 'AWS::StackId' }, USER_ARN: { 'Fn::GetAtt': ['User', 'Arn'] }, ...options.env } } },
        },
        Secret: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'cred-secret' } },
        User: { Type: 'AWS::IAM::User', Properties: { UserName: options.userName ?? 'ci-bot' } },
      },
    },
  };
}

const typesOf = (deployment: { invocations: Array<{ event: { RequestType: string } }> }) => deployment.invocations.map((i) => i.event.RequestType);

describe('a deployment', () => {
  test('GIVEN a new stack WHEN deployed THEN the user and secret come first, and the CREATE gets the properties resolved as CloudFormation resolves them', async () => {
    // GIVEN
    const synth = stack({ Name: 'a', Where: { 'Fn::Join': ['/', [{ Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { Ref: 'AWS::Partition' }]] } });

    // WHEN
    const deployment = await cfn.deploy(synth);

    // THEN
    expect(deployment.status).toBe('COMPLETE');
    expect(typesOf(deployment)).toEqual(['Create']);
    const secretArn = localAws.secret('cred-secret')!.arn;
    expect(deployment.invocations[0].event).toMatchObject({
      RequestType: 'Create',
      StackId: cfn.stackId,
      LogicalResourceId: 'Cred',
      ResourceType: RESOURCE_TYPE,
      ResourceProperties: {
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:ServiceSpecificCredentialHandler',
        UserName: 'ci-bot',
        SecretArn: secretArn,
        Name: 'a',
        Where: 'us-east-1/123456789012/aws',
      },
    });
    expect(cfn.resource('Cred')).toMatchObject({ physicalId: expect.stringMatching(/^pid-a-/), attributes: { Echo: 'a' } });
    // CloudFormation's own tags, which no API caller can set, and a generated first value.
    expect(localAws.secret(secretArn)!.tags).toEqual([
      { Key: 'aws:cloudformation:stack-name', Value: 'GitCredentialExample' },
      { Key: 'aws:cloudformation:stack-id', Value: cfn.stackId },
      { Key: 'aws:cloudformation:logical-id', Value: 'Secret' },
    ]);
    expect(localAws.secret(secretArn)!.versions.map((v) => v.stages)).toEqual([['AWSCURRENT']]);
    expect(deployment.invocations[0]).toMatchObject({ exitCode: 0, timedOut: false });
  });

  test('GIVEN the function\'s environment WHEN the handler runs THEN its variables are resolved, and the local AWS is its endpoint', () => {
    // GIVEN
    const synth = stack({ Name: 'a' }, { env: { EXTRA: 'x' } });

    // WHEN
    const env = cfn.lambdaEnvironment(synth);

    // THEN: the user is not deployed yet, so its Arn is unresolved, as it would fail to be on AWS.
    expect(env).toMatchObject({
      STACK_ID: cfn.stackId,
      USER_ARN: '<unresolved User.Arn>',
      EXTRA: 'x',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_IAM: localAws.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: localAws.endpoint,
    });
  });

  test('GIVEN a deployed stack WHEN deployed again unchanged THEN no event is sent', async () => {
    // GIVEN
    await cfn.deploy(stack({ Name: 'a' }));

    // WHEN
    const again = await cfn.deploy(stack({ Name: 'a' }));

    // THEN
    expect(again).toEqual({ status: 'COMPLETE', invocations: [] });
  });

  test('GIVEN a deployed stack WHEN a property changes in place THEN one UPDATE comes, with the old properties, and the physical id stays', async () => {
    // GIVEN
    await cfn.deploy(stack({ Name: 'a', Color: 'red' }));
    const before = cfn.resource('Cred')!.physicalId;

    // WHEN
    const deployment = await cfn.deploy(stack({ Name: 'a', Color: 'blue' }));

    // THEN
    expect(typesOf(deployment)).toEqual(['Update']);
    expect(deployment.invocations[0].event).toMatchObject({
      PhysicalResourceId: before,
      ResourceProperties: { Color: 'blue' },
      OldResourceProperties: { Color: 'red' },
    });
    expect(cfn.resource('Cred')!.physicalId).toBe(before);
  });

  test('GIVEN an UPDATE answered with a new physical id WHEN the deployment ends THEN a cleanup DELETE comes for the old id, with the old properties', async () => {
    // GIVEN
    await cfn.deploy(stack({ Name: 'a' }));
    const before = cfn.resource('Cred')!.physicalId;

    // WHEN
    const deployment = await cfn.deploy(stack({ Name: 'b' }));

    // THEN
    expect(typesOf(deployment)).toEqual(['Update', 'Delete']);
    expect(deployment.invocations[1].event).toMatchObject({ PhysicalResourceId: before, ResourceProperties: { Name: 'a' } });
    expect(cfn.resource('Cred')!.physicalId).toMatch(/^pid-b-/);
  });

  test('GIVEN a new user name WHEN deployed THEN the user is replaced: the new one exists, the old one is deleted after the cleanup', async () => {
    // GIVEN
    await cfn.deploy(stack({ Name: 'a' }));

    // WHEN
    const deployment = await cfn.deploy(stack({ Name: 'a' }, { userName: 'ci-bot-2' }));

    // THEN
    expect(typesOf(deployment)).toEqual(['Update']);
    expect(deployment.invocations[0].event.ResourceProperties).toMatchObject({ UserName: 'ci-bot-2' });
    const users = localAws.calls.filter((c) => c.operation.endsWith('User')).map((c) => `${c.operation} ${c.userName} ${c.outcome}`);
    expect(users).toEqual(['CreateUser ci-bot ok', 'CreateUser ci-bot-2 ok', 'DeleteUser ci-bot ok']);
    // The old user goes only once the custom resource has moved to the new one.
    const order = localAws.calls.map((c) => `${c.operation} ${c.userName ?? ''}`);
    expect(order.indexOf('DeleteUser ci-bot')).toBe(order.length - 1);
  });

  test('GIVEN a deployed stack WHEN destroyed THEN every custom resource gets a DELETE, then the user and the secret go', async () => {
    // GIVEN
    await cfn.deploy(stack({ Name: 'a' }));
    const physicalId = cfn.resource('Cred')!.physicalId;

    // WHEN
    const deployment = await cfn.destroy(stack({ Name: 'a' }));

    // THEN
    expect(typesOf(deployment)).toEqual(['Delete']);
    expect(deployment.invocations[0].event).toMatchObject({ PhysicalResourceId: physicalId });
    expect(localAws.secret('cred-secret')).toBeUndefined();
    expect(cfn.resource('Cred')).toBeUndefined();
  });
});

describe('a rollback', () => {
  test('GIVEN a CREATE that fails WHEN deployed THEN a DELETE comes for the id the failure answered, and the user and secret are removed', async () => {
    // WHEN
    const deployment = await cfn.deploy(stack({ Name: 'a', Fail: 'Create' }));

    // THEN
    expect(deployment.status).toBe('ROLLBACK_COMPLETE');
    expect(typesOf(deployment)).toEqual(['Create', 'Delete']);
    const [create, rollback] = deployment.invocations;
    expect(create.response).toMatchObject({ Status: 'FAILED', Reason: 'scripted failure' });
    expect(rollback.event).toMatchObject({ PhysicalResourceId: create.response!.PhysicalResourceId });
    expect(localAws.secret('cred-secret')).toBeUndefined();
    expect(cfn.resource('Cred')).toBeUndefined();
  });

  test('GIVEN an UPDATE that fails WHEN deployed THEN the rollback UPDATE asks for the old properties, with the failed ones as old', async () => {
    // GIVEN
    await cfn.deploy(stack({ Name: 'a', Color: 'red' }));
    const before = cfn.resource('Cred')!;

    // WHEN
    const deployment = await cfn.deploy(stack({ Name: 'a', Color: 'blue', Fail: 'Update' }));

    // THEN
    expect(deployment.status).toBe('ROLLBACK_COMPLETE');
    expect(typesOf(deployment)).toEqual(['Update', 'Update']);
    expect(deployment.invocations[1].event).toMatchObject({
      PhysicalResourceId: before.physicalId,
      ResourceProperties: { Color: 'red' },
      OldResourceProperties: { Color: 'blue', Fail: 'Update' },
    });
    expect(deployment.invocations[1].event.ResourceProperties).not.toHaveProperty('Fail');
    expect(cfn.resource('Cred')).toMatchObject({ physicalId: before.physicalId, properties: before.properties });
  });

  test('GIVEN a later resource that fails WHEN an in-place update succeeded THEN it gets an UPDATE back to its old properties', async () => {
    // GIVEN
    await cfn.deploy(stack({ Name: 'a', Color: 'red' }));

    // WHEN
    const deployment = await cfn.deploy(stack({ Name: 'a', Color: 'blue' }), { failAfterResources: true });

    // THEN
    expect(deployment.status).toBe('ROLLBACK_COMPLETE');
    expect(typesOf(deployment)).toEqual(['Update', 'Update']);
    expect(deployment.invocations[1].event).toMatchObject({ ResourceProperties: { Color: 'red' }, OldResourceProperties: { Color: 'blue' } });
  });

  test('GIVEN a later resource that fails WHEN a replacement succeeded THEN the new resource gets a DELETE and the old one is current again', async () => {
    // GIVEN
    await cfn.deploy(stack({ Name: 'a' }));
    const before = cfn.resource('Cred')!.physicalId;

    // WHEN
    const deployment = await cfn.deploy(stack({ Name: 'b' }), { failAfterResources: true });

    // THEN
    expect(typesOf(deployment)).toEqual(['Update', 'Delete']);
    expect(deployment.invocations[1].event).toMatchObject({ PhysicalResourceId: expect.stringMatching(/^pid-b-/) });
    expect(cfn.resource('Cred')!.physicalId).toBe(before);
  });
});

describe('the Lambda runtime', () => {
  test('GIVEN a handler that does not answer in time WHEN invoked THEN the process is ended at the timeout, and no answer is recorded', async () => {
    // GIVEN
    const short = await CloudFormation.start(localAws, { lambdaTimeoutMs: 1_000 });

    // WHEN
    const deployment = await short.deploy(stack({ Name: 'a', Hang: 'true' }));
    await short.close();

    // THEN
    const [create] = deployment.invocations;
    expect(create).toMatchObject({ timedOut: true, response: undefined });
    expect(create.durationMs).toBeLessThan(5_000);
  });

  test('GIVEN rotation WHEN the secret is rotated THEN the token\'s empty version is AWSPENDING and the four steps run in order, stopping at a failed one', async () => {
    // GIVEN
    const synth = stack({ Name: 'a' }, { env: { FAIL_STEP: 'testSecret' } });
    await cfn.deploy(synth);
    const secretArn = localAws.secret('cred-secret')!.arn;

    // WHEN
    const rotation = await cfn.rotate(synth, secretArn);

    // THEN
    expect(rotation.failedStep).toBe('testSecret');
    expect(rotation.invocations.map((i) => [i.event.Step, i.exitCode])).toEqual([['createSecret', 0], ['setSecret', 0], ['testSecret', 1]]);
    expect(rotation.invocations.every((i) => i.event.ClientRequestToken === rotation.token && i.event.SecretId === secretArn)).toBe(true);
    const pending = localAws.secret(secretArn)!.versions.find((v) => v.id === rotation.token)!;
    expect(pending.stages).toEqual(['AWSPENDING']);
    expect(pending.secretString).toBeUndefined();
  });
});
