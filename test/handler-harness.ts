import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import type { ServiceSpecificCredential } from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse, Context } from 'aws-lambda';
import type { CredentialResourceProperties } from '../src/handler-contract';

export const ACCOUNT = '123456789012';
export const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:GitCredentialSecret-AbCdEf`;
/** The stack the handler serves; every event below comes from it unless a test says otherwise. */
export const STACK_ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/App/1c6a1e70-0000-4000-8000-000000000001`;
/** The tags CloudFormation and the construct give a credential secret of that stack. */
export const OWNED_SECRET_TAGS = [
  { Key: 'cdk-service-specific-credential', Value: STACK_ID },
  { Key: 'aws:cloudformation:stack-id', Value: STACK_ID },
];

/** A credential id of the shape real IAM issues: ACCA + 17 upper-case alphanumerics. */
export function credentialId(): string {
  return 'ACCA' + randomBytes(17).toString('hex').toUpperCase().slice(0, 17);
}

/** Every secret value the fixtures below issued: tests assert none of them escapes. */
export const issuedSecrets: string[] = [];

/** A Create/Reset answer shaped like the ones recorded on real AWS. */
export function passwordCredential(userName = 'alice', id = credentialId()): ServiceSpecificCredential {
  const password = randomBytes(33).toString('base64');
  issuedSecrets.push(password);
  return {
    CreateDate: new Date('2026-11-22T10:00:00Z'),
    ServiceName: 'codecommit.amazonaws.com',
    ServiceUserName: `${userName}-at-${ACCOUNT}`,
    ServicePassword: password,
    ServiceSpecificCredentialId: id,
    UserName: userName,
    Status: 'Active',
  };
}

export function apiKeyCredential(userName = 'alice', id = credentialId(), expires = true): ServiceSpecificCredential {
  const key = 'ABSK' + randomBytes(60).toString('base64');
  issuedSecrets.push(key);
  return {
    CreateDate: new Date('2026-11-22T10:00:00Z'),
    ServiceName: 'bedrock.amazonaws.com',
    ServiceCredentialAlias: `${userName}+1-at-${ACCOUNT}`,
    ServiceCredentialSecret: key,
    ServiceSpecificCredentialId: id,
    UserName: userName,
    Status: 'Active',
    ExpirationDate: expires ? new Date('2026-12-22T10:00:00Z') : undefined,
  };
}

export function props(overrides: Partial<CredentialResourceProperties> = {}): CredentialResourceProperties {
  return {
    UserName: 'alice',
    ServiceName: 'codecommit.amazonaws.com',
    Status: 'Active',
    SecretArn: SECRET_ARN,
    ResetSerial: '0',
    ...overrides,
  };
}

/** Catches the answers the handler PUTs to the ResponseURL, as CloudFormation's S3 bucket would. */
export class ResponseCatcher {
  public static async start(): Promise<ResponseCatcher> {
    const catcher = new ResponseCatcher();
    await new Promise<void>((resolve) => catcher.server.listen(0, '127.0.0.1', resolve));
    return catcher;
  }

  public readonly responses: CloudFormationCustomResourceResponse[] = [];
  public readonly rawBodies: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      this.rawBodies.push(body);
      this.responses.push(JSON.parse(body));
      res.end();
    });
  });

  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/response`;
  }

  public get last(): CloudFormationCustomResourceResponse {
    return this.responses[this.responses.length - 1];
  }

  public close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type Base = { ResponseURL: string; requestId?: string };

export function createEvent(p: CredentialResourceProperties, base: Base): CloudFormationCustomResourceEvent {
  return { ...common(base), RequestType: 'Create', ResourceProperties: withToken(p) };
}

export function updateEvent(
  id: string, oldProps: CredentialResourceProperties, p: CredentialResourceProperties, base: Base,
): CloudFormationCustomResourceEvent {
  return {
    ...common(base),
    RequestType: 'Update',
    PhysicalResourceId: id,
    ResourceProperties: withToken(p),
    OldResourceProperties: withToken(oldProps),
  };
}

export function deleteEvent(id: string, p: CredentialResourceProperties, base: Base): CloudFormationCustomResourceEvent {
  return { ...common(base), RequestType: 'Delete', PhysicalResourceId: id, ResourceProperties: withToken(p) };
}

export function lambdaContext(remainingMs = 300_000): Context {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now() } as Context;
}

const SERVICE_TOKEN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:handler`;

function withToken(p: CredentialResourceProperties) {
  return { ServiceToken: SERVICE_TOKEN, ...p } as unknown as { ServiceToken: string } & Record<string, string>;
}

function common(base: Base) {
  return {
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: base.ResponseURL,
    StackId: STACK_ID,
    RequestId: base.requestId ?? randomUUID(),
    LogicalResourceId: 'GitCredential',
    ResourceType: 'Custom::ServiceSpecificCredential',
  };
}
