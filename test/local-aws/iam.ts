import { randomBytes } from 'node:crypto';
import { AwsError, DenyingPolicy, NOT_FOUND_WORDINGS, REFUSAL_WORDINGS, Wordings, defaultWordings, invalidInput, notFound, validation } from './errors';

// IAM's users and service-specific credentials, with the behaviour recorded against real AWS
// (see shared/reference/iam-service-specific-credentials.md), on a clock of its own that tests can move: an API key
// created with CredentialAgeDays reports the read-only status Expired once its ExpirationDate has passed.

export interface StoredCredential {
  UserName: string;
  ServiceName: string;
  ServiceSpecificCredentialId: string;
  /** The status last set; List reports `Expired` instead once ExpirationDate has passed. */
  Status: 'Active' | 'Inactive';
  CreateDate: Date;
  ServiceUserName?: string;
  ServicePassword?: string;
  ServiceCredentialAlias?: string;
  ServiceCredentialSecret?: string;
  ExpirationDate?: Date;
}

const PASSWORD_SERVICES = new Set(['codecommit.amazonaws.com', 'cassandra.amazonaws.com']);
const API_KEY_SERVICES = new Set(['bedrock.amazonaws.com', 'logs.amazonaws.com', 'cloudwatch.amazonaws.com', 'aws-external-anthropic.amazonaws.com']);
const LIMIT_PER_SERVICE = 2;

/**
 * A service control policy or permissions boundary with Deny statements on CreateServiceSpecificCredential, as
 * deny-list organisations write them: `NumericGreaterThan` on `iam:ServiceSpecificCredentialAgeDays` together with
 * `Null` (a request without CredentialAgeDays, which the numeric operator does not match), and `StringNotEquals` on
 * `iam:ServiceSpecificCredentialServiceName`. A request they match is denied explicitly, as AWS words it.
 */
export interface CreatePolicy {
  readonly type: DenyingPolicy;
  /** The longest CredentialAgeDays allowed; a key without one (which never expires) is denied. @default - any age, or none */
  readonly maxAgeDays?: number;
  /** The services allowed. @default - any */
  readonly services?: readonly string[];
  /** Only requests signed with this access key id (e.g. the handler's, not a test's own client). @default - any */
  readonly accessKeyId?: string;
}
/** Requests without UserName act on the caller: a user of its own, which has no credentials. */
export const CALLER = 'local-caller';

const alnum = (n: number) => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(n), (b) => chars[b % chars.length]).join('');
};

export class Iam {
  public readonly users = new Map<string, { UserName: string; UserId: string; Arn: string; Path: string; CreateDate: Date }>();
  public readonly credentials: StoredCredential[] = [];

  public readonly policies: CreatePolicy[] = [];
  private readonly says: (typeof NOT_FOUND_WORDINGS)[Wordings];
  private readonly refuses: (typeof REFUSAL_WORDINGS)[Wordings];

  /** @param now IAM's clock (ms): creation and expiration dates, and whether a key has expired */
  constructor(public readonly accountId: string, wordings: Wordings = defaultWordings(), public now: () => number = Date.now) {
    this.says = NOT_FOUND_WORDINGS[wordings];
    this.refuses = REFUSAL_WORDINGS[wordings];
    this.createUser(CALLER);
  }

  /** The status List reports. */
  public statusOf(c: Pick<StoredCredential, 'Status' | 'ExpirationDate'>): 'Active' | 'Inactive' | 'Expired' {
    return this.expired(c) ? 'Expired' : c.Status;
  }

  public createUser(name: string) {
    checkUserName(name);
    if (this.users.has(name)) throw new AwsError('EntityAlreadyExists', 409, `User with name ${name} already exists.`);
    const user = { UserName: name, UserId: 'AIDA' + alnum(17), Arn: `arn:aws:iam::${this.accountId}:user/${name}`, Path: '/', CreateDate: new Date() };
    this.users.set(name, user);
    return user;
  }

  /** Runs one awsQuery action; returns the Result element's content, or undefined for an empty result. */
  /** @param signer the access key id the request was signed with */
  public handle(action: string, p: Record<string, string>, signer?: string): object | undefined {
    switch (action) {
      case 'CreateUser': return { User: this.createUser(p.UserName) };
      case 'GetUser': return { User: this.user(p.UserName ?? CALLER) };
      case 'DeleteUser':
        this.user(p.UserName);
        if (this.credentials.some((c) => c.UserName === p.UserName)) {
          throw new AwsError('DeleteConflict', 409, 'Cannot delete entity, must remove referenced objects first.');
        }
        this.users.delete(p.UserName);
        return undefined;
      case 'CreateServiceSpecificCredential':
        this.authorize(p, signer);
        return { ServiceSpecificCredential: this.create(p) };
      case 'ResetServiceSpecificCredential': {
        // The Bedrock guide: "The key must not have expired yet. If it's already expired, delete the key and create a new one."
        const c = this.find(p);
        if (this.expired(c)) throw invalidInput(this.refuses.expired(c.ServiceSpecificCredentialId));
        if (c.ServiceCredentialAlias) c.ServiceCredentialSecret = apiKey();
        else c.ServicePassword = password();
        return { ServiceSpecificCredential: { ...c, Status: this.statusOf(c) } };
      }
      case 'UpdateServiceSpecificCredential': {
        if (p.Status === 'Expired') throw invalidInput(this.refuses.readOnlyStatus());
        if (p.Status !== 'Active' && p.Status !== 'Inactive') {
          throw validation('1 validation error detected: Value at \'status\' failed to satisfy constraint: Member must satisfy enum value set');
        }
        const c = this.find(p);
        if (this.expired(c)) throw invalidInput(this.refuses.expired(c.ServiceSpecificCredentialId));
        c.Status = p.Status;
        return undefined;
      }
      case 'DeleteServiceSpecificCredential': {
        const c = this.find(p);
        this.credentials.splice(this.credentials.indexOf(c), 1);
        return undefined;
      }
      case 'ListServiceSpecificCredentials': {
        const userName = p.UserName ?? CALLER;
        this.user(userName);
        // Real IAM answers NoSuchEntity for a service it does not issue credentials for, as Create does.
        if (p.ServiceName !== undefined) this.supported(p.ServiceName);
        const found = this.credentials.filter((c) => c.UserName === userName && (!p.ServiceName || c.ServiceName === p.ServiceName));
        // Metadata only: List never returns a secret.
        return {
          ServiceSpecificCredentials: found.map(({ ServicePassword: _p, ServiceCredentialSecret: _s, ...metadata }) =>
            ({ ...metadata, Status: this.statusOf(metadata) })),
          IsTruncated: false,
        };
      }
      default: throw new AwsError('InvalidAction', 400, `Could not find operation ${action} for version 2010-05-08`);
    }
  }

  private user(name: string) {
    checkUserName(name);
    const user = this.users.get(name);
    if (!user) throw notFound(this.says.user(name));
    return user;
  }

  private create(p: Record<string, string>): StoredCredential {
    const user = this.user(p.UserName);
    const service = p.ServiceName;
    this.supported(service);
    const isKey = API_KEY_SERVICES.has(service);
    // One clock reading: an expiry is a whole number of days after the creation date.
    const now = this.now();
    let expires: Date | undefined;
    if (p.CredentialAgeDays !== undefined) {
      const days = Number(p.CredentialAgeDays);
      if (!isKey) throw validation(`CredentialAgeDays is only supported for API key credentials, not for ${service}`);
      if (!Number.isInteger(days) || days < 1 || days > 36600) {
        throw validation(`1 validation error detected: Value '${p.CredentialAgeDays}' at 'credentialAgeDays' failed to satisfy constraint: Member must have value between 1 and 36600`);
      }
      expires = new Date(now + days * 86_400_000);
    }
    if (this.credentials.filter((c) => c.UserName === user.UserName && c.ServiceName === service).length >= LIMIT_PER_SERVICE) {
      throw new AwsError('LimitExceeded', 409, 'Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2');
    }
    const credential: StoredCredential = {
      UserName: user.UserName,
      ServiceName: service,
      ServiceSpecificCredentialId: 'ACCA' + alnum(17),
      Status: 'Active',
      CreateDate: new Date(now),
      ...(isKey
        ? { ServiceCredentialAlias: `${user.UserName}+${alnum(4).toLowerCase()}-at-${this.accountId}`, ServiceCredentialSecret: apiKey(), ExpirationDate: expires }
        : { ServiceUserName: `${user.UserName}-at-${this.accountId}`, ServicePassword: password() }),
    };
    this.credentials.push(credential);
    return { ...credential };
  }

  private expired(c: Pick<StoredCredential, 'ExpirationDate'>): boolean {
    return c.ExpirationDate !== undefined && c.ExpirationDate.getTime() <= this.now();
  }

  /** The policies on Create, evaluated as IAM does before anything else: an explicit deny names the policy's type and ARN. */
  private authorize(p: Record<string, string>, signer: string | undefined): void {
    for (const policy of this.policies) {
      if (policy.accessKeyId && policy.accessKeyId !== signer) continue;
      const age = p.CredentialAgeDays === undefined ? undefined : Number(p.CredentialAgeDays);
      const ageDenied = policy.maxAgeDays !== undefined && (age === undefined || age > policy.maxAgeDays);
      const serviceDenied = policy.services !== undefined && !policy.services.includes(p.ServiceName);
      if (!ageDenied && !serviceDenied) continue;
      const policyArn = policy.type === 'service control policy'
        ? 'arn:aws:organizations::111111111111:policy/o-exampleorgid/service_control_policy/p-examplepolicy'
        : `arn:aws:iam::${this.accountId}:policy/CredentialBoundary`;
      throw new AwsError('AccessDenied', 403, this.refuses.explicitDeny(`arn:aws:sts::${this.accountId}:assumed-role/${signer ?? 'caller'}/session`,
        'iam:CreateServiceSpecificCredential', `arn:aws:iam::${this.accountId}:user/${p.UserName}`, policy.type, policyArn));
    }
  }

  /** Real IAM answers NoSuchEntity for a service it does not issue credentials for, not the NotSupportedService its model declares. */
  private supported(service: string): void {
    if (!API_KEY_SERVICES.has(service) && !PASSWORD_SERVICES.has(service)) throw notFound(this.says.service(service));
  }

  /** The credential a Reset/Update/Delete names, looked up for UserName, or for the caller when it is omitted. */
  private find(p: Record<string, string>): StoredCredential {
    const id = p.ServiceSpecificCredentialId ?? '';
    if (!/^\w{20,128}$/.test(id)) {
      throw validation("1 validation error detected: Value at 'serviceSpecificCredentialId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+");
    }
    const userName = p.UserName ?? CALLER;
    this.user(userName);
    const found = this.credentials.find((c) => c.ServiceSpecificCredentialId === id && c.UserName === userName);
    // Real IAM does not say whether the id or the user was wrong.
    if (!found) throw notFound(this.says.credential(id));
    return found;
  }
}

function checkUserName(name: string | undefined): void {
  if (name === undefined || !/^[\w+=,.@-]{1,64}$/.test(name)) {
    throw validation(`1 validation error detected: Value '${name}' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
  }
}

const password = () => randomBytes(33).toString('base64');
const apiKey = () => 'ABSK' + randomBytes(96).toString('base64');
