import { Token } from 'aws-cdk-lib';

/**
 * What a service-specific credential's secret is made of.
 */
export enum CredentialKind {
  /** A user name (`<user>-at-<account>`) and a password, e.g. CodeCommit Git over HTTPS or Amazon Keyspaces. */
  PASSWORD = 'PASSWORD',
  /** An API key (a bearer token) with a public alias, which may expire, e.g. Amazon Bedrock. */
  API_KEY = 'API_KEY',
}

/**
 * The AWS service a service-specific credential is for.
 */
export class CredentialService {
  /** AWS CodeCommit: a Git user name and password for HTTPS. */
  public static readonly CODECOMMIT = new CredentialService('codecommit.amazonaws.com', CredentialKind.PASSWORD);
  /** Amazon Keyspaces (for Apache Cassandra): a user name and password for the Cassandra driver. */
  public static readonly KEYSPACES = new CredentialService('cassandra.amazonaws.com', CredentialKind.PASSWORD);
  /** Amazon Bedrock: an API key for `AWS_BEARER_TOKEN_BEDROCK`. */
  public static readonly BEDROCK = new CredentialService('bedrock.amazonaws.com', CredentialKind.API_KEY);
  /** Amazon CloudWatch Logs: an API key. */
  public static readonly CLOUDWATCH_LOGS = new CredentialService('logs.amazonaws.com', CredentialKind.API_KEY);
  /** Amazon CloudWatch (metrics over OTLP): an API key. */
  public static readonly CLOUDWATCH = new CredentialService('cloudwatch.amazonaws.com', CredentialKind.API_KEY);

  /**
   * A service by its IAM service name, for services IAM supports after this library was released.
   *
   * A name that matches one of the constants returns that constant; giving it another kind is an error.
   *
   * @param serviceName the IAM service name, e.g. `bedrock.amazonaws.com`
   * @param kind what the credential is made of, which decides whether `expiresAfter` is accepted; when omitted,
   * `CredentialKind.API_KEY`, since every service IAM has added after CodeCommit and Keyspaces issues API keys
   */
  public static of(serviceName: string, kind?: CredentialKind): CredentialService {
    const known = knownServices().find((s) => s.serviceName === serviceName);
    if (known) {
      // A known service's kind is a fact of IAM's: a wrong kind would let an expiry onto a password.
      if (kind !== undefined && kind !== known.kind) {
        throw new Error(`${serviceName} issues ${known.kind === CredentialKind.PASSWORD ? 'passwords' : 'API keys'} `
          + `(CredentialKind.${known.kind}), not CredentialKind.${kind}`);
      }
      return known;
    }
    if (!Token.isUnresolved(serviceName) && !/^[\w+=,.@-]{1,128}$/.test(serviceName)) {
      throw new Error(`Invalid service name '${serviceName}': expected an IAM service name such as 'bedrock.amazonaws.com'`);
    }
    return new CredentialService(serviceName, kind ?? CredentialKind.API_KEY);
  }

  private constructor(
    /** The IAM service name, e.g. `codecommit.amazonaws.com`. */
    public readonly serviceName: string,
    /** What the credential's secret is made of. */
    public readonly kind: CredentialKind,
  ) {}

  /** Whether IAM lets credentials for this service expire (`CredentialAgeDays`). */
  public get supportsExpiry(): boolean {
    return this.kind === CredentialKind.API_KEY;
  }
}

/**
 * The services this library knows: every constant of CredentialService. Read from the class, so that a new constant
 * is known to `of()` and to the construct's "unknown service" warning without a second list to keep in step.
 * Not exported from index.ts.
 */
export function knownServices(): CredentialService[] {
  return Object.values(CredentialService).filter((value): value is CredentialService => value instanceof CredentialService);
}

/**
 * Whether the credential can be used.
 */
export enum CredentialStatus {
  /** The credential can be used. */
  ACTIVE = 'Active',
  /** The credential exists but IAM rejects it. */
  INACTIVE = 'Inactive',
}
