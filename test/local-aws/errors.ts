/** An error as AWS answers it: the code and HTTP status the SDK turns into an exception class. */
export class AwsError extends Error {
  constructor(public readonly code: string, public readonly status: number, message: string) {
    super(message);
  }
}

export const notFound = (message: string) => new AwsError('NoSuchEntity', 404, message);

/**
 * What IAM says with NoSuchEntity: its wordings as recorded against real AWS, or other ones, as another partition or a
 * future IAM may word them. The handler must decide nothing by them; the suite passes under either
 * (`LOCAL_AWS_WORDINGS=reworded`).
 */
export type Wordings = 'aws' | 'reworded';

export const NOT_FOUND_WORDINGS: Record<Wordings, { user(name: string): string; service(name: string): string; credential(id: string): string }> = {
  aws: {
    user: (name) => `The user with name ${name} cannot be found.`,
    service: (name) => `No such service ${name} is supported for Service Specific Credentials`,
    credential: (id) => `No such credential ${id} exists`,
  },
  reworded: {
    user: (name) => `Entity of type User named ${name} was not found in this account.`,
    service: (name) => `Service-specific credentials are not available for ${name}.`,
    credential: (id) => `Entity of type ServiceSpecificCredential named ${id} was not found in this account.`,
  },
};

/** The kind of policy that denies a request, as AWS names it in an access denied message. */
export type DenyingPolicy = 'service control policy' | 'permissions boundary';

/**
 * What IAM says when it refuses to act on an expired API key, and when a policy denies a request.
 *
 * Expired keys: IAM's model declares no error for them, and what AWS answers to a Reset or an Update of an expired key
 * is not recorded anywhere we could find (not in botocore, the API reference, the IAM or Bedrock guides, nor
 * LocalStack's validated tests, which have no API keys). The codes are IAM's documented `InvalidInput` (400); the
 * wordings are ours. The handler decides by a List (Status `Expired`), never by this code or wording.
 *
 * Explicit denials: AWS documents the format of access denied messages (IAM User Guide, "Troubleshoot access denied
 * error messages": `User: <arn> is not authorized to perform: <action> on resource: <arn> with an explicit deny in a
 * <policy type>`, and since 2025 `: <policy ARN>` after it, AWS Security Blog, "Enhanced access denied error messages
 * with policy ARNs"). The reworded set says the same without the documented phrase, as a service that does not
 * support the format would: the handler may then only wait out its 60-second window.
 */
export const REFUSAL_WORDINGS: Record<Wordings, {
  expired(id: string): string;
  readOnlyStatus(): string;
  explicitDeny(caller: string, action: string, resource: string, policy: DenyingPolicy, policyArn: string): string;
}> = {
  aws: {
    expired: (id) => `The service-specific credential ${id} has expired. Delete it and create a new one.`,
    readOnlyStatus: () => 'The status Expired cannot be set.',
    explicitDeny: (caller, action, resource, policy, policyArn) =>
      `User: ${caller} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny in a ${policy}: ${policyArn}`,
  },
  reworded: {
    expired: (id) => `Credential ${id} is past its expiration date.`,
    readOnlyStatus: () => 'Expired is a read-only status.',
    explicitDeny: (caller, action, resource, policy, policyArn) =>
      `${caller} may not call ${action} for ${resource}: the ${policy} ${policyArn} refuses it.`,
  },
};

/** The wordings a local AWS answers with when its options do not say. */
export function defaultWordings(): Wordings {
  return process.env.LOCAL_AWS_WORDINGS === 'reworded' ? 'reworded' : 'aws';
}

export const validation = (message: string) => new AwsError('ValidationError', 400, message);
export const invalidInput = (message: string) => new AwsError('InvalidInput', 400, message);
