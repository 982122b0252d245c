import type { CredentialResourceProperties as Props } from '../../src/handler-contract';

/** What an UPDATE has to do, decided from the old and new properties alone. */
export interface UpdatePlan {
  /** IAM cannot change a credential's user, service or age: a new credential replaces the old one. */
  readonly replace: boolean;
  /** Without a replacement: a new secret value, written into the (possibly new) secret. */
  readonly reset: boolean;
  /** Without a replacement: activate or deactivate in place. */
  readonly statusChange: boolean;
}

export function planUpdate(oldProps: Props, newProps: Props): UpdatePlan {
  const changed = (key: keyof Props) => (oldProps[key] ?? '') !== (newProps[key] ?? '');
  return {
    replace: changed('UserName') || changed('ServiceName') || changed('CredentialAgeDays'),
    reset: changed('ResetSerial') || changed('SecretArn'),
    statusChange: changed('Status'),
  };
}
