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
  /**
   * AWS CodeCommit: a Git user name and password for HTTPS.
   *
   * Service name confirmed in the IAM User Guide ("Use IAM with CodeCommit: Git credentials, SSH keys, and AWS access
   * keys") and in the AWS CLI's own examples for `aws iam create-service-specific-credential` and
   * `list-service-specific-credentials`.
   */
  public static readonly CODECOMMIT = new CredentialService('codecommit.amazonaws.com', CredentialKind.PASSWORD);
  /**
   * Amazon Keyspaces (for Apache Cassandra): a user name and password for the Cassandra driver.
   *
   * Service name confirmed in the Amazon Keyspaces Developer Guide ("Create service-specific credentials for
   * programmatic access to Amazon Keyspaces": `--service-name cassandra.amazonaws.com`).
   */
  public static readonly KEYSPACES = new CredentialService('cassandra.amazonaws.com', CredentialKind.PASSWORD);
  /**
   * Amazon Bedrock: an API key for `AWS_BEARER_TOKEN_BEDROCK`.
   *
   * Service name confirmed in the IAM User Guide ("API keys for AWS services", AWS CLI section:
   * `--service-name bedrock.amazonaws.com`).
   */
  public static readonly BEDROCK = new CredentialService('bedrock.amazonaws.com', CredentialKind.API_KEY);
  /**
   * Amazon CloudWatch Logs: an API key for the HTTP log ingestion endpoints. Bearer-token ingestion must also be enabled
   * on the log group.
   *
   * Service name confirmed in the IAM User Guide ("API keys for AWS services", AWS CLI section:
   * `--service-name logs.amazonaws.com`).
   */
  public static readonly CLOUDWATCH_LOGS = new CredentialService('logs.amazonaws.com', CredentialKind.API_KEY);
  /**
   * Amazon CloudWatch (metrics over OTLP, `https://monitoring.<region>.amazonaws.com/v1/metrics`): an API key.
   *
   * Service name confirmed in the IAM User Guide ("API keys for AWS services", AWS CLI section, "For Amazon
   * CloudWatch": `--service-name cloudwatch.amazonaws.com`, with the managed policy CloudWatchAPIKeyAccess), and in
   * the CloudWatch User Guide's bearer-token setups for coding agents. The endpoint's SigV4 signing name is `monitoring`;
   * the IAM service name is not.
   */
  public static readonly CLOUDWATCH = new CredentialService('cloudwatch.amazonaws.com', CredentialKind.API_KEY);
  /**
   * AWS X-Ray (traces over OTLP, `https://xray.<region>.amazonaws.com/v1/traces`): an API key. It authorizes sending
   * spans only, with what the user's policies allow (the managed policy AWSXRayAPIKeyAccess holds what that needs),
   * not the X-Ray APIs that need SigV4.
   *
   * Service name confirmed in the X-Ray Developer Guide ("Setting up bearer token authentication for traces": "An
   * X-Ray API key is an IAM service-specific credential for xray.amazonaws.com").
   */
  public static readonly XRAY = new CredentialService('xray.amazonaws.com', CredentialKind.API_KEY);

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

/** The name of the constant that holds a known service, e.g. `CODECOMMIT`. Not exported from index.ts. */
export function constantNameOf(service: CredentialService): string | undefined {
  return Object.keys(CredentialService).find((key) => (CredentialService as unknown as Record<string, unknown>)[key] === service);
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
