export { CredentialKind, CredentialService, CredentialStatus } from './credential-service';
export * from './credential-secret';
export * from './credential-base';
export * from './service-specific-credential';
export * from './rotation';
