import { randomBytes, randomUUID } from 'node:crypto';
import { CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, type ServiceSpecificCredential } from '@aws-sdk/client-iam';
import { PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceResponse } from 'aws-lambda';
import { STACK_ID, cfnEvent, type World } from './interleavings';
import { CLOUDFORMATION_STACK_TAG, ROTATION_TAG, SECRET_TAG, type CredentialResourceProperties as Props } from '../../src/handler-contract';

// A small driver for tests that step outside the interleaving model: events through the same bundled handler and
// local AWS (World), direct access to the secret's labels between steps, and the previous handler's writes.

export class Driver {
  public readonly outputs: string[] = [];
  public readonly sm: SecretsManagerClient;
  constructor(public readonly world: World) {
    this.sm = new SecretsManagerClient({
      endpoint: world.localAws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1,
    });
  }

  public user(): string {
    const name = `${this.world.prefix()}-u`;
    this.world.localAws.createUser(name);
    return name;
  }

  public secret(strategy?: 'ALTERNATING' | 'RESET_IN_PLACE', name = `${this.world.prefix()}-secret`): string {
    const arn = this.world.localAws.createSecret(name, {
      value: randomBytes(24).toString('base64'),
      tags: [{ Key: SECRET_TAG, Value: STACK_ID }, { Key: CLOUDFORMATION_STACK_TAG, Value: STACK_ID }],
    });
    const s = this.world.localAws.secret(arn)!;
    if (strategy) {
      s.tags.push({ Key: ROTATION_TAG, Value: strategy });
      s.rotationEnabled = true;
    }
    return arn;
  }

  public async send(type: 'Create' | 'Update' | 'Delete', props: Props, physicalId?: string, oldProps?: Props): Promise<CloudFormationCustomResourceResponse> {
    const event = cfnEvent(this.world, type, props, physicalId, oldProps);
    const before = this.world.catcher.responses.length;
    const outcome = await this.world.lambda.run(event);
    this.outputs.push(outcome.output);
    const answer = this.world.catcher.responses.slice(before).find((r) => r.RequestId === event.RequestId);
    if (!answer) throw new Error(`no answer to ${type}:\n${outcome.output}`);
    return answer;
  }

  /** One rotation step; returns the handler's output and whether it threw. */
  public async step(secretArn: string, token: string, step: string): Promise<{ threw: boolean; output: string }> {
    const outcome = await this.world.lambda.run({ SecretId: secretArn, ClientRequestToken: token, Step: step });
    this.outputs.push(outcome.output);
    return { threw: outcome.threw, output: outcome.output };
  }

  public async rotate(secretArn: string): Promise<{ token: string; failed?: string }> {
    const token = randomUUID();
    this.world.localAws.startRotation(secretArn, token);
    for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      const r = await this.step(secretArn, token, s);
      if (r.threw) return { token, failed: `${s}: ${r.output.split('\n').filter((l) => l.includes('failed')).join(' ')}` };
    }
    return { token };
  }

  public labels(secretArn: string): string[] {
    return this.world.localAws.secret(secretArn)!.versions.flatMap((v) => v.stages);
  }

  public current(secretArn: string): Record<string, string> {
    const v = this.world.localAws.secret(secretArn)!.versions.find((x) => x.stages.includes('AWSCURRENT'))!;
    return JSON.parse(v.secretString!);
  }

  public exists(id: string): boolean {
    return this.world.localAws.credentials().some((c) => c.ServiceSpecificCredentialId === id);
  }

  /** Whether the secret's AWSCURRENT value is one IAM accepts. */
  public currentAccepted(secretArn: string): boolean {
    const doc = this.current(secretArn);
    const c = this.world.localAws.credentials().find((x) => x.ServiceSpecificCredentialId === doc.serviceSpecificCredentialId);
    return !!c && (c.ServicePassword ?? c.ServiceCredentialSecret) === (doc.password ?? doc.apiKey);
  }

  /** What the previous handler's CREATE stored: the document only (resourceId = its own id), AWSCURRENT, no labels. */
  public async oldHandlerCreate(secretArn: string, userName: string, serviceName = 'codecommit.amazonaws.com'): Promise<string> {
    const out = await this.world.iam.send(new CreateServiceSpecificCredentialCommand({ UserName: userName, ServiceName: serviceName }));
    const c = out.ServiceSpecificCredential!;
    const doc = oldDocument(c, '0', c.ServiceSpecificCredentialId!);
    await this.sm.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: doc, ClientRequestToken: randomUUID() }));
    return c.ServiceSpecificCredentialId!;
  }

  public async deleteOutOfBand(userName: string, id: string): Promise<void> {
    await this.world.iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id }));
  }

  /**
   * What the previous handler version (fcf2229, lambda/rotation.ts) did for a whole ALTERNATING rotation: delete the older
   * credential of the pair, create one, PutSecretValue AWSPENDING under the token (no record labels), promote it.
   */
  public async oldHandlerAlternatingRotation(secretArn: string, finish = true): Promise<{ id: string; token: string }> {
    const secret = this.world.localAws.secret(secretArn)!;
    const cur = secret.versions.find((v) => v.stages.includes('AWSCURRENT'))!;
    const prev = secret.versions.find((v) => v.stages.includes('AWSPREVIOUS'));
    const doc = JSON.parse(cur.secretString!);
    const prevDoc = prev?.secretString ? (() => { try { return JSON.parse(prev.secretString!); } catch { return undefined; } })() : undefined;
    const older = prevDoc?.serviceSpecificCredentialId;
    if (older && older !== doc.serviceSpecificCredentialId && this.exists(older)) {
      await this.deleteOutOfBand(prevDoc.iamUserName, prevDoc.serviceSpecificCredentialId);
    }
    const token = randomUUID();
    this.world.localAws.startRotation(secretArn, token);
    const out = await this.world.iam.send(new CreateServiceSpecificCredentialCommand({ UserName: doc.iamUserName, ServiceName: doc.serviceName }));
    const c = out.ServiceSpecificCredential!;
    const newDoc = oldDocument(c, doc.resetSerial, doc.resourceId);
    await this.sm.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: newDoc, ClientRequestToken: token, VersionStages: ['AWSPENDING'] }));
    if (finish) {
      await this.sm.send(new UpdateSecretVersionStageCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: cur.id }));
      await this.sm.send(new UpdateSecretVersionStageCommand({ SecretId: secretArn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
    }
    return { id: c.ServiceSpecificCredentialId!, token };
  }
}

/** The document the previous handler version stored: the value and what it belongs to, no record. */
function oldDocument(c: ServiceSpecificCredential, resetSerial: string, resourceId: string): string {
  return JSON.stringify({
    ...(c.ServiceCredentialAlias ? { serviceCredentialAlias: c.ServiceCredentialAlias, apiKey: c.ServiceCredentialSecret }
      : { username: c.ServiceUserName, password: c.ServicePassword }),
    serviceSpecificCredentialId: c.ServiceSpecificCredentialId,
    serviceName: c.ServiceName,
    iamUserName: c.UserName,
    resetSerial,
    resourceId,
  });
}

export function baseProps(userName: string, secretArn: string, more: Partial<Props> = {}): Props {
  return { UserName: userName, ServiceName: 'codecommit.amazonaws.com', Status: 'Active', SecretArn: secretArn, ResetSerial: '0', ...more } as Props;
}
