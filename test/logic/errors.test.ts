import {
  AlreadyWritten, LimitReached, NoSlot, OutOfTime, SecretGone, StillDenied, UnknownUser, UnsupportedService, UserError, errorCode,
} from '../../lambda/logic/errors';

describe('errorCode', () => {
  test.each<[string, string, unknown]>([
    ['IAM\'s code as it is', 'NoSuchEntity', { name: 'NoSuchEntity' }],
    ['an SDK class name without its Exception suffix', 'AccessDenied', { name: 'AccessDeniedException' }],
    ['Secrets Manager\'s code without the suffix', 'ResourceNotFound', { name: 'ResourceNotFoundException' }],
    ['the suffix only at the end', 'ExceptionalCase', { name: 'ExceptionalCase' }],
    ['the suffix once', 'ThrottlingException', { name: 'ThrottlingExceptionException' }],
    ['a plain Error', 'Error', new Error('bug')],
    ['a TypeError', 'TypeError', new TypeError('x is undefined')],
    ['an object without a name', 'Error', {}],
    ['undefined', 'Error', undefined],
    ['null', 'Error', null],
  ])('GIVEN %s WHEN its code is read THEN it is %s', (_, code, err) => {
    expect(errorCode(err)).toBe(code);
  });
});

describe('the error classes', () => {
  test.each<[string, Error, boolean]>([
    ['LimitReached', new LimitReached('m'), true],
    ['UnsupportedService', new UnsupportedService('m'), true],
    ['UnknownUser', new UnknownUser('m'), true],
    ['NoSlot', new NoSlot('m'), true],
    ['SecretGone', new SecretGone('m'), true],
    ['UserError', new UserError('m'), true],
    ['AlreadyWritten', new AlreadyWritten('m'), false],
    ['OutOfTime', new OutOfTime('iam:X', 1, undefined), false],
    ['StillDenied', new StillDenied('iam:X', 1, 0, new Error('denied')), false],
  ])('GIVEN a %s WHEN the handler answers with it THEN it is a UserError (answered as its message alone): %s', (_, err, isUserError) => {
    expect(err instanceof UserError).toBe(isUserError);
  });

  test.each<[string, Error]>([
    ['LimitReached', new LimitReached('m')],
    ['UnsupportedService', new UnsupportedService('m')],
    ['UnknownUser', new UnknownUser('m')],
    ['NoSlot', new NoSlot('m')],
    ['SecretGone', new SecretGone('m')],
    ['UserError', new UserError('m')],
    ['AlreadyWritten', new AlreadyWritten('m')],
    ['OutOfTime', new OutOfTime('iam:X', 1, undefined)],
    ['StillDenied', new StillDenied('iam:X', 1, 0, new Error('denied'))],
  ])('GIVEN a %s WHEN its code is read THEN it is its class\'s name, as a timeout\'s "last error" shows it', (name, err) => {
    expect(errorCode(err)).toBe(name);
  });

  test('GIVEN a UserError with a cause WHEN made THEN it keeps the cause', () => {
    const cause = new Error('NoSuchEntity');
    expect(new UnknownUser('IAM user \'alice\' does not exist', { cause }).cause).toBe(cause);
  });

  test.each<[string, OutOfTime, string]>([
    ['one attempt, no error', new OutOfTime('iam:CreateServiceSpecificCredential', 1, undefined),
      'iam:CreateServiceSpecificCredential did not succeed before the deadline (1 attempt)'],
    ['attempts and the last error', new OutOfTime('secretsmanager:PutSecretValue', 4, Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
      'secretsmanager:PutSecretValue did not succeed before the deadline (4 attempts; last error Throttling: Rate exceeded)'],
    ['no attempt', new OutOfTime('iam:DeleteServiceSpecificCredential', 0, undefined),
      'iam:DeleteServiceSpecificCredential did not succeed before the deadline (0 attempts)'],
  ])('GIVEN an OutOfTime with %s WHEN read THEN its message is exact', (_, err, message) => {
    expect(err.message).toBe(message);
    expect(err.name).toBe('OutOfTime');
    expect(err.cause).toBe(err.lastError);
  });

  test('GIVEN a StillDenied WHEN read THEN its message names the operation, whole seconds, attempts and the error', () => {
    // GIVEN
    const denied = Object.assign(new Error('not authorized to perform: iam:CreateServiceSpecificCredential'), { name: 'AccessDenied' });

    // WHEN
    const err = new StillDenied('iam:CreateServiceSpecificCredential', 11, 65_500, denied);

    // THEN
    expect(err.message).toBe('iam:CreateServiceSpecificCredential was still denied after 66 s (11 attempts), longer than IAM takes to apply '
      + 'a new policy: AccessDenied: not authorized to perform: iam:CreateServiceSpecificCredential');
    expect(err).toMatchObject({ name: 'StillDenied', operation: 'iam:CreateServiceSpecificCredential', attempts: 11, lastError: denied, cause: denied });
  });
});
