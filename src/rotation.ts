import { Duration } from 'aws-cdk-lib';

/**
 * How a rotation renews the credential.
 */
export enum RotationStrategy {
  /**
   * Zero downtime: the construct owns both credentials IAM allows for the user and service. Each rotation deletes
   * the older one and creates a new one; the value that was current stays in the secret as AWSPREVIOUS and keeps
   * working until the next rotation. API keys get a new expiry with each new key.
   */
  ALTERNATING = 'ALTERNATING',
  /**
   * One credential, reset at each rotation: the old value stops working at once, before apps have read the new one.
   * For users that must keep the second credential slot free; not for API keys with `expiresAfter` (a reset does not
   * renew an expiry).
   */
  RESET_IN_PLACE = 'RESET_IN_PLACE',
}

/**
 * When and how Secrets Manager rotates the credential.
 */
export interface CredentialRotationOptions {
  /**
   * The time between rotations: 4 hours to 1,000 days, in whole hours. Secrets Manager rotates within a window
   * around this schedule, not at an exact time. With `expiresAfter`, it must be shorter than the expiry.
   */
  readonly automaticallyAfter: Duration;

  /**
   * How a rotation renews the credential.
   *
   * @default RotationStrategy.ALTERNATING
   */
  readonly strategy?: RotationStrategy;

  /**
   * Whether to rotate as soon as the schedule is created or changed. aws-cdk's `RotationSchedule` defaults to
   * `true`; this library does not, because the credential was issued moments earlier by the same deployment: an
   * immediate rotation would only spend IAM calls (and, with ALTERNATING, take the second credential slot at once).
   *
   * @default false
   */
  readonly rotateImmediatelyOnUpdate?: boolean;
}
