/**
 * The keys of the JSON document the credential's secret holds. They are stable: renaming one is a breaking change.
 *
 * A password service (CodeCommit, Keyspaces) stores `username`, `password`, `serviceSpecificCredentialId`,
 * `serviceName`, `iamUserName`, `resetSerial` and `resourceId`. An API-key service (Bedrock, CloudWatch Logs,
 * CloudWatch, X-Ray) stores `serviceCredentialAlias`, `apiKey`, `serviceSpecificCredentialId`, `serviceName`, `iamUserName`,
 * `resetSerial`, `resourceId` and, when the key expires, `expirationDate`.
 */
export class CredentialSecretKey {
  /** The user name to sign in with (`<iam-user>-at-<account-id>`): password services only. */
  public static readonly USERNAME = 'username';
  /** The password: password services only. */
  public static readonly PASSWORD = 'password';
  /** The public alias of an API key: API-key services only. */
  public static readonly SERVICE_CREDENTIAL_ALIAS = 'serviceCredentialAlias';
  /** The API key (the bearer token, e.g. for `AWS_BEARER_TOKEN_BEDROCK`): API-key services only. */
  public static readonly API_KEY = 'apiKey';
  /** The IAM id of the credential, e.g. `ACCAEXAMPLE123456789`. */
  public static readonly SERVICE_SPECIFIC_CREDENTIAL_ID = 'serviceSpecificCredentialId';
  /** The IAM service name, e.g. `codecommit.amazonaws.com`. */
  public static readonly SERVICE_NAME = 'serviceName';
  /** The name of the IAM user the credential belongs to. */
  public static readonly IAM_USER_NAME = 'iamUserName';
  /** When the API key expires (ISO 8601): only for keys created with `expiresAfter`. */
  public static readonly EXPIRATION_DATE = 'expirationDate';
  /**
   * The `resetSerial` the value was issued for. An update resets the credential only when this differs from the
   * `resetSerial` it asks for, so a rollback never repeats a reset that did not happen.
   */
  public static readonly RESET_SERIAL = 'resetSerial';
  /**
   * The physical id of the ServiceSpecificCredential resource the value belongs to: the id of the first credential
   * it created. Rotation issues new credentials under the same resource, so this tells them from the credentials of
   * a resource that replaced it.
   */
  public static readonly RESOURCE_ID = 'resourceId';

  private constructor() {}
}
