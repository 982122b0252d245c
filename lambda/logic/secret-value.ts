import type { ServiceSpecificCredential, ServiceSpecificCredentialMetadata } from '@aws-sdk/client-iam';
import { CredentialSecretKey as Key } from '../../src/credential-secret';
import type { CredentialAttributes } from '../../src/handler-contract';

/** The one-time secret IAM returned, or undefined when the response carried none. */
export function secretOf(credential: ServiceSpecificCredential): string | undefined {
  // Which field carries a reset API key is not documented: prefer the API-key field, fall back to the password.
  return credential.ServiceCredentialSecret ?? credential.ServicePassword;
}

/**
 * The JSON document stored in Secrets Manager, with the keys documented on CredentialSecretKey.
 * @param resetSerial the resetSerial the value was issued for, so that no later update repeats its reset
 * @param resourceId the custom resource's physical id; a resource's first credential gives it its own id
 */
export function secretDocument(credential: ServiceSpecificCredential, resetSerial: string, resourceId?: string): string {
  const secret = secretOf(credential);
  if (!secret) {
    throw new Error(`IAM returned no secret value for credential ${credential.ServiceSpecificCredentialId}`);
  }
  // API keys always come with an alias; that is how a key is told from a password, even for services added later.
  const doc: Record<string, string> = credential.ServiceCredentialAlias
    ? {
      [Key.SERVICE_CREDENTIAL_ALIAS]: credential.ServiceCredentialAlias,
      [Key.API_KEY]: secret,
    }
    : {
      [Key.USERNAME]: credential.ServiceUserName ?? '',
      [Key.PASSWORD]: secret,
    };
  doc[Key.SERVICE_SPECIFIC_CREDENTIAL_ID] = credential.ServiceSpecificCredentialId!;
  doc[Key.SERVICE_NAME] = credential.ServiceName!;
  doc[Key.IAM_USER_NAME] = credential.UserName!;
  doc[Key.RESET_SERIAL] = resetSerial;
  doc[Key.RESOURCE_ID] = resourceId ?? credential.ServiceSpecificCredentialId!;
  if (credential.ExpirationDate) {
    doc[Key.EXPIRATION_DATE] = credential.ExpirationDate.toISOString();
  }
  return JSON.stringify(doc);
}

/** The attributes CloudFormation gets: ids and public names only, never the secret. */
export function attributesOf(
  credential: Pick<ServiceSpecificCredential, 'ServiceSpecificCredentialId' | 'ServiceUserName' | 'ServiceCredentialAlias' | 'ExpirationDate'>,
  secretArn: string,
): CredentialAttributes {
  return {
    ServiceSpecificCredentialId: credential.ServiceSpecificCredentialId!,
    ServiceUserName: credential.ServiceUserName ?? '',
    ServiceCredentialAlias: credential.ServiceCredentialAlias ?? '',
    ExpirationDate: credential.ExpirationDate?.toISOString() ?? '',
    SecretArn: secretArn,
  };
}

/** What a stored document records about the credential it holds: never its secret. */
export type StoredCredential = ServiceSpecificCredential & { readonly ResetSerial?: string; readonly ResourceId?: string };

/** The resource a stored credential belongs to; documents from before `resourceId` existed name their own credential. */
export function resourceOf(credential: StoredCredential): string {
  return credential.ResourceId ?? credential.ServiceSpecificCredentialId!;
}

/** The credential a secret version describes; undefined for anything else, e.g. the secret's generated first value. */
export function readCredential(document: string | undefined): StoredCredential | undefined {
  try {
    const credential = document ? credentialFromDocument(document) : undefined;
    return credential?.ServiceSpecificCredentialId ? credential : undefined;
  } catch {
    return undefined;
  }
}

/** Reads back the credential a stored document describes, without its secret. */
export function credentialFromDocument(document: string): StoredCredential {
  const doc = JSON.parse(document) as Record<string, string | undefined>;
  return {
    ResetSerial: doc[Key.RESET_SERIAL],
    ResourceId: doc[Key.RESOURCE_ID],
    ServiceSpecificCredentialId: doc[Key.SERVICE_SPECIFIC_CREDENTIAL_ID],
    ServiceName: doc[Key.SERVICE_NAME],
    UserName: doc[Key.IAM_USER_NAME],
    ServiceUserName: doc[Key.USERNAME],
    ServiceCredentialAlias: doc[Key.SERVICE_CREDENTIAL_ALIAS],
    ExpirationDate: doc[Key.EXPIRATION_DATE] ? new Date(doc[Key.EXPIRATION_DATE]!) : undefined,
  } as StoredCredential;
}

/** How many days the credential was issued for (IAM cannot change it, so a different age means a replacement). */
export function daysValid(found: Pick<ServiceSpecificCredentialMetadata, 'ExpirationDate' | 'CreateDate'>): number | undefined {
  return found.ExpirationDate && found.CreateDate
    ? Math.round((found.ExpirationDate.getTime() - found.CreateDate.getTime()) / 86_400_000)
    : undefined;
}
