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

/** The wordings a local AWS answers with when its options do not say. */
export function defaultWordings(): Wordings {
  return process.env.LOCAL_AWS_WORDINGS === 'reworded' ? 'reworded' : 'aws';
}
export const validation = (message: string) => new AwsError('ValidationError', 400, message);
