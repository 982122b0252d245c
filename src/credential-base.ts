import { IResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

// What the credential this library manages and an imported one have in common: in a file of its own, so that the
// two classes need not import each other.

/**
 * A credential that exists already: made by hand, by another stack, or by another tool. Give its id and its secret
 * in exactly one of three ways (`secret`, `secretArn` or `secretName`).
 */
export interface ServiceSpecificCredentialAttributes {
  /**
   * The IAM id of the credential, e.g. `ACCAEXAMPLE123456789`.
   */
  readonly serviceSpecificCredentialId: string;

  /**
   * The secret that holds the credential.
   *
   * @default - the secret is given by `secretArn` or `secretName`
   */
  readonly secret?: secretsmanager.ISecret;

  /**
   * The complete ARN of the secret that holds the credential, with the 6 characters Secrets Manager appends to its
   * name (`...:secret:ci/git-AbCdEf`). For a name, use `secretName`.
   *
   * @default - the secret is given by `secret` or `secretName`
   */
  readonly secretArn?: string;

  /**
   * The name of the secret that holds the credential, in this stack's account and region.
   *
   * @default - the secret is given by `secret` or `secretArn`
   */
  readonly secretName?: string;

  /**
   * The customer managed KMS key that encrypts the secret, so that `grantRead` includes `kms:Decrypt` on it through
   * Secrets Manager: in the key's policy for a key of the reader's own stack, otherwise in the reader's own IAM policy
   * (a key imported by ARN, an alias by name, a key of another stack).
   *
   * @default - the key of `secret` when it has one; otherwise none, as for the AWS managed key `aws/secretsmanager`
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The user name to sign in with (`<iam-user>-at-<account-id>`), for password services.
   *
   * @default - not known: reading `serviceUserName` throws
   */
  readonly serviceUserName?: string;

  /**
   * The public alias of an API key.
   *
   * @default - not known: reading `serviceCredentialAlias` throws
   */
  readonly serviceCredentialAlias?: string;

  /**
   * When the API key expires, ISO 8601 (empty when it does not expire). As given: nothing at deploy time reads or
   * renews an imported key, so when it expires, renew it where it is managed.
   *
   * @default - not known: reading `expirationDate` throws
   */
  readonly expirationDate?: string;
}

/**
 * The attributes of a service-specific credential.
 */
export interface IServiceSpecificCredential extends IResource {
  /**
   * The IAM id of the credential, e.g. `ACCAEXAMPLE123456789`.
   * @attribute
   */
  readonly serviceSpecificCredentialId: string;

  /**
   * The user name to sign in with, `<iam-user>-at-<account-id>`, for password services (empty for API-key services).
   * @attribute
   */
  readonly serviceUserName: string;

  /**
   * The public alias of an API key, for API-key services (empty for password services).
   * @attribute
   */
  readonly serviceCredentialAlias: string;

  /**
   * When the API key expires, ISO 8601 (empty when it does not expire).
   * @attribute
   */
  readonly expirationDate: string;

  /**
   * The ARN of the secret that holds the credential.
   * @attribute
   */
  readonly secretArn: string;

  /**
   * The secret that holds the credential as JSON, with the keys of `CredentialSecretKey`.
   */
  readonly secret: secretsmanager.ISecret;

  /**
   * Grants reading the secret (and decrypting it, when it has a customer managed key).
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}
