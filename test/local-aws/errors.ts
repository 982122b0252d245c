/** An error as AWS answers it: the code and HTTP status the SDK turns into an exception class. */
export class AwsError extends Error {
  constructor(public readonly code: string, public readonly status: number, message: string) {
    super(message);
  }
}

export const notFound = (message: string) => new AwsError('NoSuchEntity', 404, message);
export const validation = (message: string) => new AwsError('ValidationError', 400, message);
