import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AwsError, Wordings } from './errors';
import { CreatePolicy, Iam, StoredCredential } from './iam';
import { ConfigurationTestForm, SecretsManager, StoredSecret } from './secrets-manager';

export type { CreatePolicy, StoredCredential } from './iam';
export type { ConfigurationTestForm, StoredSecret } from './secrets-manager';

/**
 * A local IAM and Secrets Manager on one loopback port, speaking the real wire protocols (IAM: awsQuery with XML
 * answers; Secrets Manager: awsJson1_1), so the unmodified AWS SDK clients work against it through
 * AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SECRETS_MANAGER. Signatures are not checked.
 */
export interface LocalAws {
  readonly endpoint: string;
  readonly accountId: string;
  /** Every request, without any secret: service, operation, user name and outcome ('ok' or the error code). */
  readonly calls: Call[];
  close(): Promise<void>;
  createUser(userName: string): string;
  /** Copies of the stored credentials, secrets included, for assertions; Status as List reports it (`Expired` included). */
  credentials(filter?: { userName?: string; serviceName?: string }): Array<Omit<StoredCredential, 'Status'> & { Status: 'Active' | 'Inactive' | 'Expired' }>;
  /** Moves IAM's clock forward, as time passing would: API keys whose ExpirationDate it passes report `Expired`. */
  advanceClock(ms: number): void;
  /** IAM's clock now (ms). */
  iamNow(): number;
  /** Adds a service control policy or permissions boundary that IAM evaluates on every CreateServiceSpecificCredential. */
  restrictCreate(policy: CreatePolicy): void;
  clearPolicies(): void;
  /** Creates a secret as CloudFormation would: it may carry `aws:cloudformation:*` tags, which no API caller can set. */
  createSecret(name: string, options?: { kmsKeyId?: string; tags?: Array<{ Key: string; Value: string }>; value?: string }): string;
  secret(arnOrName: string): StoredSecret | undefined;
  /** Begins a rotation as RotateSecret does: an empty AWSPENDING version under the token. */
  startRotation(secretArn: string, token: string): void;
  /** Begins RotateSecret's test of the rotation configuration (`RotateImmediately: false`): see SecretsManager. */
  startConfigurationTest(secretArn: string, token: string, form: ConfigurationTestForm): void;
  endConfigurationTest(secretArn: string, token: string): void;
  /** The ARNs of the secrets whose current version names this credential id. */
  secretsHolding(credentialId: string): string[];
  inject(fault: Fault): void;
  clearFaults(): void;
  resetCalls(): void;
}

export interface Call {
  readonly service: 'iam' | 'secretsmanager';
  readonly operation: string;
  readonly userName?: string;
  readonly outcome: string;
  /** The answer was an injected fault, not the local AWS's own. */
  readonly injected?: boolean;
}

export interface Fault {
  readonly service: 'iam' | 'secretsmanager';
  /** An operation name, or '*' for any. */
  readonly operation: string;
  /** How many matching requests it affects. @default 1 */
  readonly times?: number;
  /** Answer this error instead of doing the work. */
  readonly error?: { code: string; status: number; message?: string };
  /** Latency before the answer. */
  readonly delayMs?: number;
  /** Close the connection without an answer. */
  readonly dropConnection?: boolean;
  /** Do the work, then fail the answer: the state changed but the client saw an error (a lost response). */
  readonly afterWork?: boolean;
  /** Only requests signed with this access key id (e.g. the handler's, not a test's own client). @default - any */
  readonly accessKeyId?: string;
}

export interface LocalAwsOptions {
  readonly accountId?: string;
  /**
   * IAM's account-wide rate limit: one token bucket over every IAM request, answered as real IAM does when it is
   * empty (HTTP 400 `Throttling`, "Rate exceeded"). @default - no limit
   */
  readonly iamRate?: { readonly perSecond: number; readonly burst?: number };
  /** The bucket's clock, in ms. @default Date.now */
  readonly now?: () => number;
  /** How IAM words NoSuchEntity. @default - `reworded` when LOCAL_AWS_WORDINGS says so, else AWS's recorded wordings */
  readonly wordings?: Wordings;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const accountId = options.accountId ?? '123456789012';
  const rate = options.iamRate;
  const bucket = rate && new TokenBucket(rate.perSecond, rate.burst ?? Math.max(1, rate.perSecond), options.now);
  let offset = 0;
  const iam = new Iam(accountId, options.wordings, () => Date.now() + offset);
  const sm = new SecretsManager(accountId);
  const faults: Array<Fault & { left: number }> = [];
  const calls: Call[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(() => { timers.delete(t); resolve(); }, ms);
    timers.add(t);
  });

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    const target = req.headers['x-amz-target'];
    const service: Call['service'] = typeof target === 'string' && target.startsWith('secretsmanager.') ? 'secretsmanager' : 'iam';
    const params = service === 'iam' ? Object.fromEntries(new URLSearchParams(body)) : {};
    const input = service === 'secretsmanager' && body ? JSON.parse(body) : {};
    const operation = service === 'iam' ? params.Action : String(target).split('.')[1];
    const signer = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    const work = () => (service === 'iam' ? iam.handle(operation, params, signer) : sm.handle(operation, input));

    const fault = faults.find((f) => f.left > 0 && f.service === service && (f.operation === operation || f.operation === '*')
      && (!f.accessKeyId || f.accessKeyId === signer));
    if (fault) fault.left--;
    const log = (outcome: string, injected?: boolean) =>
      calls.push({ service, operation, userName: params.UserName, outcome, ...(injected ? { injected } : {}) });

    if (fault?.delayMs) await sleep(fault.delayMs);
    try {
      if (service === 'iam' && bucket && !bucket.take()) throw new AwsError('Throttling', 400, 'Rate exceeded');
      if (fault?.afterWork) work();
      if (fault?.dropConnection) {
        log('dropped', true);
        req.socket.destroy();
        return;
      }
      if (fault?.error) {
        const err = new AwsError(fault.error.code, fault.error.status, fault.error.message ?? fault.error.code);
        log(err.code, true);
        return answerError(err);
      }
      const result = work();
      log('ok');
      if (service === 'iam') send(res, 200, 'text/xml', iamResult(operation, result));
      else send(res, 200, 'application/x-amz-json-1.1', JSON.stringify(result));
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      log(err.code);
      answerError(err);
    }

    function answerError(err: AwsError) {
      if (service === 'iam') send(res, err.status, 'text/xml', iamError(err));
      else send(res, err.status, 'application/x-amz-json-1.1', JSON.stringify({ __type: err.code, message: err.message }));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accountId,
    calls,
    close: () => new Promise((resolve) => {
      timers.forEach(clearTimeout);
      sockets.forEach((s) => s.destroy());
      server.close(() => resolve());
    }),
    createUser: (userName) => iam.createUser(userName).Arn,
    credentials: (filter = {}) => iam.credentials
      .filter((c) => (!filter.userName || c.UserName === filter.userName) && (!filter.serviceName || c.ServiceName === filter.serviceName))
      .map((c) => ({ ...c, Status: iam.statusOf(c) })),
    advanceClock: (ms) => {
      offset += ms;
    },
    iamNow: () => iam.now(),
    restrictCreate: (policy) => iam.policies.push(policy),
    clearPolicies: () => iam.policies.splice(0),
    createSecret: (name, opts = {}) => {
      const secret = sm.create(name, opts.kmsKeyId, opts.tags);
      if (opts.value !== undefined) sm.handle('PutSecretValue', { SecretId: secret.arn, SecretString: opts.value });
      return secret.arn;
    },
    secret: (arnOrName) => sm.secrets.find((s) => s.arn === arnOrName || s.name === arnOrName),
    startRotation: (secretArn, token) => sm.startRotation(secretArn, token),
    startConfigurationTest: (secretArn, token, form) => sm.startConfigurationTest(secretArn, token, form),
    endConfigurationTest: (secretArn, token) => sm.endConfigurationTest(secretArn, token),
    secretsHolding: (credentialId) => sm.secrets
      .filter((s) => s.versions.some((v) => v.stages.includes('AWSCURRENT') && v.secretString?.includes(`"${credentialId}"`)))
      .map((s) => s.arn),
    inject: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
    clearFaults: () => faults.splice(0),
    resetCalls: () => calls.splice(0),
  };
}

/** Tokens refill at `perSecond` up to `burst`; each request takes one or is refused. */
class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.last = now();
  }

  public take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, contentType: string, body: string) {
  res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

function iamResult(operation: string, result: object | undefined): string {
  const inner = result ? `<${operation}Result>${xml(result)}</${operation}Result>` : '';
  return `<${operation}Response xmlns="${NS}">${inner}<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${operation}Response>`;
}

function iamError(err: AwsError): string {
  const type = err.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${escape(err.code)}</Code><Message>${escape(err.message)}</Message></Error>`
    + `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

/** awsQuery's XML: one element per field, lists as <member> elements, dates in ISO 8601. */
function xml(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => `<member>${xml(v)}</member>`).join('');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `<${k}>${xml(v)}</${k}>`).join('');
  }
  return escape(String(value));
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
