// The custom resource's contract, shared by the construct (jsii) and the handler (esbuild). Not exported
// from index.ts: it is not public API.

/** The custom resource's properties. CloudFormation delivers every value as a string. */
export interface CredentialResourceProperties {
  readonly UserName: string;
  readonly ServiceName: string;
  readonly Status: 'Active' | 'Inactive';
  /** The secret the handler writes the credential into. Owned by CloudFormation, not by the handler. */
  readonly SecretArn: string;
  readonly CredentialAgeDays?: string;
  /** Changing it resets the credential's secret value in place (or, with ALTERNATING rotation, rotates at once). */
  readonly ResetSerial: string;
  /**
   * `'true'` when the user is imported (not created by this app): it exists before the deployment, so an unknown user
   * is an error at once, not a user IAM does not show yet. Absent for a user the app creates.
   */
  readonly UserExists?: 'true';
  /** How rotation renews the credential; absent without rotation. */
  readonly RotationStrategy?: RotationStrategyName;
}

export type RotationStrategyName = 'ALTERNATING' | 'RESET_IN_PLACE';

/** The attributes the handler answers with. None of them is secret. */
export interface CredentialAttributes {
  readonly ServiceSpecificCredentialId: string;
  /** `<user>-at-<account>` for password services; empty for API-key services. */
  readonly ServiceUserName: string;
  /** The public alias of an API key; empty for password services. */
  readonly ServiceCredentialAlias: string;
  /** ISO 8601; empty when the credential does not expire. */
  readonly ExpirationDate: string;
  readonly SecretArn: string;
}

export const RESOURCE_TYPE = 'Custom::ServiceSpecificCredential';

/** The tag that marks the secrets a stack's handler may write; its value is the stack's id. */
export const SECRET_TAG = 'cdk-service-specific-credential';

/**
 * The tag that tells a rotation (whose event carries no resource properties) which strategy the secret's construct
 * asks for: `ALTERNATING` or `RESET_IN_PLACE`.
 */
export const ROTATION_TAG = 'cdk-service-specific-credential:rotation';

/**
 * The tag that tells a rotation the status the construct asks for (`Active` or `Inactive`), set with the rotation tag:
 * the status of a key issued in place of an expired one, whose own status IAM no longer shows.
 */
export const STATUS_TAG = 'cdk-service-specific-credential:status';

/**
 * The tag CloudFormation itself puts on the resources it creates. Tags with the `aws:` prefix cannot be set by
 * anyone else, so a secret that carries it with the stack's id was created by that stack.
 */
export const CLOUDFORMATION_STACK_TAG = 'aws:cloudformation:stack-id';

/** The handler's environment variable that holds its own stack's id: events from any other stack are refused. */
export const STACK_ID_VARIABLE = 'STACK_ID';

/**
 * The custom resource behind `onExpiring`, served by the same handler: it turns the credential's expiry into the time
 * of its alert. It makes no AWS call.
 */
export const EXPIRY_ALERT_RESOURCE_TYPE = 'Custom::ServiceSpecificCredentialExpiryAlert';

/** The expiry alert's properties. */
export interface ExpiryAlertProperties {
  /** The credential's `ExpirationDate` attribute: ISO 8601, as IAM returned it. */
  readonly ExpirationDate: string;
  /** How long before the expiry the alert fires, in whole seconds. */
  readonly LeadSeconds: string;
  /**
   * What the schedule's event carries besides, unread by the handler: when any of it changes, CloudFormation updates
   * the alert before the schedule, so the schedule is never written again with the `at()` of an alert that has fired.
   */
  readonly EventDetail?: string;
}

/** What the expiry alert answers. */
export interface ExpiryAlertAttributes {
  /** EventBridge Scheduler's `at(yyyy-mm-ddThh:mm:ss)`, in UTC. */
  readonly ScheduleExpression: string;
  /** The same time, ISO 8601. */
  readonly AlertTime: string;
}
