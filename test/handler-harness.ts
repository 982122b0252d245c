import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  CreateServiceSpecificCredentialCommand, DeleteServiceSpecificCredentialCommand, IAMClient, ListServiceSpecificCredentialsCommand,
  NoSuchEntityException, ResetServiceSpecificCredentialCommand, ServiceSpecificCredential, ServiceSpecificCredentialMetadata,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { HandlerOptions, makeHandler } from '../lambda/handler';
import { ROTATION_TAG, type CredentialResourceProperties, type RotationStrategyName } from '../src/handler-contract';
import { NOT_FOUND_WORDINGS, defaultWordings } from './local-aws/errors';

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

// ---------------------------------------------------------------------------------------------------------------------
// The handler against mocked IAM and Secrets Manager clients (aws-sdk-client-mock), for the tests under test/handler/.
//
// No command is answered by default: every test states, through the GIVEN helpers below, exactly the commands its
// scenario answers. Any other command the handler sends is refused with an error naming it, and fails the test after
// it ends even when the handler turned that error into a FAILED answer.

/** The version CloudFormation's GenerateSecretString gives a new secret: a random value, not a credential. */
export const FIRST_VERSION = 'f0000000-0000-4000-8000-000000000000';
/** The label on the version this handler wrote last (lambda/shared/ownership.ts). */
export const KEPT = 'ssc-record';

/** How IAM words NoSuchEntity in this run: AWS's recorded wordings, or others under LOCAL_AWS_WORDINGS=reworded. */
export const says = NOT_FOUND_WORDINGS[defaultWordings()];
/**
 * Secrets Manager's answers, as recorded against AWS (LocalStack's tests/aws/services/secretsmanager/
 * test_secretsmanager.snapshot.json: test_secret_not_found, test_tag_untag_resource_on_deleted_secret).
 */
export const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret.";
export const MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion.";
/** IAM's LimitExceeded (409), with the local IAM's message: real AWS's wording is not recorded. */
export const LIMIT_EXCEEDED = 'Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2';

/**
 * The staging label that records a credential as a resource's (lambda/shared/ownership.ts): the days it was issued
 * for, `-` when it never expires, `?` when unknown (no creation date).
 */
export type Labelled = { ServiceSpecificCredentialId?: string; UserName?: string; ServiceName?: string; CreateDate?: Date; ExpirationDate?: Date };
const daysOf = (c: Labelled) => (!c.CreateDate ? '?'
  : c.ExpirationDate ? String(Math.round((c.ExpirationDate.getTime() - c.CreateDate.getTime()) / 86_400_000)) : '-');
export const label = (resourceId: string, c: Labelled) => `ssc:${resourceId}:${c.ServiceSpecificCredentialId}:${c.UserName}:${c.ServiceName}:${daysOf(c)}`;
/** The label of a credential of alice's for CodeCommit whose age is not known. */
export const codecommitLabel = (resourceId: string, id: string, userName = 'alice', serviceName = 'codecommit.amazonaws.com') =>
  label(resourceId, { ServiceSpecificCredentialId: id, UserName: userName, ServiceName: serviceName });

/** What List shows of a credential: everything but its secret. */
export function metadataOf(c: ServiceSpecificCredential): ServiceSpecificCredentialMetadata {
  const { ServicePassword: _p, ServiceCredentialSecret: _s, ...metadata } = c;
  return metadata as ServiceSpecificCredentialMetadata;
}

/**
 * A secret version as the handler writes it, for the credential a fixture issued; without `resourceId`, as the handler
 * wrote it before that key existed (the credential is then its own resource).
 */
export const storedDocument = (c: ServiceSpecificCredential, resetSerial = '0', resourceId?: string) => JSON.stringify({
  ...(c.ServiceCredentialAlias
    ? { serviceCredentialAlias: c.ServiceCredentialAlias, apiKey: c.ServiceCredentialSecret ?? c.ServicePassword }
    : { username: c.ServiceUserName, password: c.ServicePassword }),
  serviceSpecificCredentialId: c.ServiceSpecificCredentialId,
  serviceName: c.ServiceName,
  iamUserName: c.UserName,
  resetSerial,
  ...(resourceId ? { resourceId } : {}),
  ...(c.ExpirationDate ? { expirationDate: c.ExpirationDate.toISOString() } : {}),
});

/** An error as the SDK throws it for an answer with this code and HTTP status. */
export const awsError = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });

/** An error of one of the SDK's own exception classes. */
export const sdkError = <T>(Type: new (o: any) => T, message: string, status = 404) =>
  new Type({ message, $metadata: { httpStatusCode: status } });

/**
 * Mocked IAM and Secrets Manager clients for one test file, reset before each test, with a catcher for the answers to
 * CloudFormation. After each test it checks that no command went unanswered and that no issued secret was logged or
 * answered.
 */
export function mockAws() {
  const iam = mockClient(IAMClient);
  const sm = mockClient(SecretsManagerClient);
  const logs: string[] = [];
  const sleeps: number[] = [];
  const unexpected: string[] = [];
  let catcher: ResponseCatcher;

  beforeAll(async () => {
    catcher = await ResponseCatcher.start();
  });
  afterAll(() => catcher.close());

  beforeEach(() => {
    iam.reset();
    sm.reset();
    logs.length = 0;
    sleeps.length = 0;
    unexpected.length = 0;
    refuseUnanswered(iam, 'IAM', unexpected);
    refuseUnanswered(sm, 'Secrets Manager', unexpected);
  });

  afterEach(() => {
    // Every command the handler sent was one the test's GIVEN answers.
    expect(unexpected).toEqual([]);
    // Invariant 2, checked after every test: no secret value reached a log line or an answer to CloudFormation.
    const seen = [...logs, ...catcher.rawBodies].join('\n');
    for (const secret of issuedSecrets) {
      expect(seen).not.toContain(secret);
    }
  });

  const base = () => ({ ResponseURL: catcher.url });

  /** The handler as the construct deploys it, logging into `logs`; `sleep` records each wait into `sleeps`. */
  function handler(options: Partial<HandlerOptions> = {}) {
    return makeHandler({
      stackId: STACK_ID,
      log: (line) => logs.push(line),
      sleep: async (ms) => { sleeps.push(ms); },
      ...options,
    });
  }

  /** One event through the handler: it must return (never throw) and answer CloudFormation exactly once. */
  async function run(event: CloudFormationCustomResourceEvent, remainingMs?: number, options: Partial<HandlerOptions> = {}) {
    const before = catcher.responses.length;
    await expect(handler(options)(event, lambdaContext(remainingMs))).resolves.toBeUndefined();
    expect(catcher.responses).toHaveLength(before + 1);
    return catcher.last;
  }

  /**
   * One rotation step through the handler, as Secrets Manager invokes it: a failed step throws, and CloudFormation is
   * never answered. Returns what it threw, if anything.
   */
  async function step(name: string, token: string, secretArn = SECRET_ARN): Promise<Error | undefined> {
    const before = catcher.responses.length;
    let thrown: Error | undefined;
    try {
      await handler()({ SecretId: secretArn, ClientRequestToken: token, Step: name }, lambdaContext());
    } catch (err) {
      thrown = err as Error;
    }
    expect(catcher.responses).toHaveLength(before);
    return thrown;
  }

  /** The raw body of the last answer, as CloudFormation's bucket got it. */
  const lastBody = () => catcher.rawBodies[catcher.rawBodies.length - 1];

  /** Whether the handler only described and read secrets. */
  const readsOnly = () => sm.calls().every((c) => c.args[0] instanceof DescribeSecretCommand || c.args[0] instanceof GetSecretValueCommand);

  /** The document the handler wrote in its `call`-th PutSecretValue. */
  const putDocument = (call = 0): Record<string, string> => JSON.parse(sm.commandCalls(PutSecretValueCommand)[call].args[0].input.SecretString!);

  /** The names of the commands sent to a client, in order. */
  const sent = (client: typeof iam | typeof sm) => client.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));

  const given = {
    // --- Secrets Manager -------------------------------------------------------------------------------------------
    /** One of this stack's secrets (both tags), with these staging labels by version id; `rotation` turns rotation on. */
    secret(stages: Record<string, string[]>, secretArn = SECRET_ARN, rotation?: RotationStrategyName) {
      sm.on(DescribeSecretCommand, { SecretId: secretArn }).resolves({
        ARN: secretArn,
        Name: secretArn.split(':').pop(),
        Tags: rotation ? [...OWNED_SECRET_TAGS, { Key: ROTATION_TAG, Value: rotation }] : OWNED_SECRET_TAGS,
        RotationEnabled: rotation !== undefined,
        VersionIdsToStages: stages,
      });
    },
    /** A secret with these tags (none: undefined). */
    taggedSecret(tags: Array<{ Key: string; Value: string }> | undefined, secretArn = SECRET_ARN) {
      sm.on(DescribeSecretCommand, { SecretId: secretArn }).resolves({ ARN: secretArn, Tags: tags, VersionIdsToStages: { [FIRST_VERSION]: ['AWSCURRENT'] } });
    },
    /** The secret as the construct creates it: CloudFormation's generated first value, no credential recorded yet. */
    newSecret(secretArn = SECRET_ARN) {
      given.secret({ [FIRST_VERSION]: ['AWSCURRENT'] }, secretArn);
      const first = { ARN: secretArn, VersionId: FIRST_VERSION, SecretString: 'k8#Qz!v2R@x9Lm$wT4pYb7Nc', VersionStages: ['AWSCURRENT'], CreatedDate: new Date('2026-11-01T10:00:00Z') };
      sm.on(GetSecretValueCommand, { SecretId: secretArn, VersionStage: 'AWSCURRENT' }).resolves(first);
      sm.on(GetSecretValueCommand, { SecretId: secretArn, VersionId: FIRST_VERSION }).resolves(first);
    },
    /** A secret that does not exist (or is not visible to the handler). */
    secretGone(secretArn = SECRET_ARN) {
      sm.on(DescribeSecretCommand, { SecretId: secretArn }).rejects(sdkError(ResourceNotFoundException, SECRET_NOT_FOUND, 400));
    },
    /** One version's value, asked by id or by stage. */
    version(
      version: { VersionId: string } | { VersionStage: string }, answer: { VersionId?: string; SecretString?: string; CreatedDate?: Date },
      secretArn = SECRET_ARN,
    ) {
      sm.on(GetSecretValueCommand, { SecretId: secretArn, ...version }).resolves({ ARN: secretArn, ...answer });
    },
    /** No version has this id (Secrets Manager's recorded answer: test_secret_version_not_found). */
    noVersion(versionId: string, secretArn = SECRET_ARN) {
      sm.on(GetSecretValueCommand, { SecretId: secretArn, VersionId: versionId })
        .rejects(sdkError(ResourceNotFoundException, `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`, 400));
    },
    /** PutSecretValue succeeds, as Secrets Manager answers it: the version id is the token, or a new one. */
    putsAccepted(secretArn = SECRET_ARN) {
      sm.on(PutSecretValueCommand, { SecretId: secretArn }).callsFake(async (input) => ({
        ARN: secretArn, VersionId: input.ClientRequestToken ?? randomUUID(), VersionStages: input.VersionStages ?? ['AWSCURRENT'],
      }));
    },
    /** UpdateSecretVersionStage succeeds. */
    labelMovesAccepted(secretArn = SECRET_ARN) {
      sm.on(UpdateSecretVersionStageCommand, { SecretId: secretArn }).resolves({ ARN: secretArn });
    },

    // --- IAM ---------------------------------------------------------------------------------------------------------
    /** CreateServiceSpecificCredential issues these credentials, one per call, the last one for every later call. */
    issues(...credentials: ServiceSpecificCredential[]) {
      let behavior = iam.on(CreateServiceSpecificCredentialCommand);
      credentials.slice(0, -1).forEach((c) => (behavior = behavior.resolvesOnce({ ServiceSpecificCredential: c })));
      behavior.resolves({ ServiceSpecificCredential: credentials[credentials.length - 1] });
    },
    /** ResetServiceSpecificCredential answers with this credential and its new secret. */
    resets(credential: ServiceSpecificCredential) {
      const { UserName, ServiceSpecificCredentialId } = credential;
      iam.on(ResetServiceSpecificCredentialCommand, { UserName, ServiceSpecificCredentialId })
        .resolves({ ServiceSpecificCredential: credential });
    },
    /** The user's credentials for the service, as List shows them (metadata only); none when `credentials` is empty. */
    listed(userName: string, serviceName: string, credentials: Array<ServiceSpecificCredential | ServiceSpecificCredentialMetadata> = []) {
      iam.on(ListServiceSpecificCredentialsCommand, { UserName: userName, ServiceName: serviceName }).resolves({
        ServiceSpecificCredentials: credentials.map((c) => metadataOf(c as ServiceSpecificCredential)), IsTruncated: false,
      });
    },
    /** The user exists: List of the user's credentials for no service in particular succeeds (what the handler asks to explain a NoSuchEntity). */
    userExists(userName: string) {
      iam.on(ListServiceSpecificCredentialsCommand, { UserName: userName }, true).resolves({ ServiceSpecificCredentials: [], IsTruncated: false });
    },
    /** DeleteServiceSpecificCredential succeeds. */
    deletes() {
      iam.on(DeleteServiceSpecificCredentialCommand).resolves({});
    },
    /** The credential is gone: DeleteServiceSpecificCredential answers NoSuchEntity. */
    alreadyDeleted(id: string) {
      iam.on(DeleteServiceSpecificCredentialCommand, { ServiceSpecificCredentialId: id })
        .rejects(sdkError(NoSuchEntityException, says.credential(id)));
    },
    /** UpdateServiceSpecificCredential succeeds. */
    statusChanges() {
      iam.on(UpdateServiceSpecificCredentialCommand).resolves({});
    },
  };

  return {
    iam,
    sm,
    logs,
    sleeps,
    given,
    base,
    handler,
    run,
    step,
    lastBody,
    readsOnly,
    putDocument,
    sent,
    get catcher() { return catcher; },
  };
}

type AnyStub = { onAnyCommand(): { callsFake(fn: (input: any) => any): unknown }; calls(): Array<{ args: unknown[] }> };

/** Every command no GIVEN answers is refused, by name, and recorded so that the test fails even if the handler coped. */
function refuseUnanswered(client: AnyStub, service: string, unexpected: string[]) {
  client.onAnyCommand().callsFake((input) => {
    const command = client.calls().map((c) => c.args[0] as { input: unknown }).find((c) => c.input === input);
    const text = `${service} ${command?.constructor.name ?? 'command'} ${JSON.stringify(input)}: no GIVEN of this test answers it`;
    unexpected.push(text);
    throw new Error(`unexpected ${text}`);
  });
}
