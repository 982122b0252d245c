import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { answer, describeEvent, failedPhysicalId, fit, reasonOf } from '../../lambda/logic/answers';
import { CreateDenied, ExplicitlyDenied, LimitReached, OutOfTime, StillDenied, UnknownUser, UserError } from '../../lambda/logic/errors';
import { DENIED_HINT, EXPLICIT_DENY_FIX, SECRETS_HINT, RETRY } from '../expected-reasons';

// What CloudFormation (or Secrets Manager) is told: the answer's shape, and the reason each kind of error gives.

const SUBJECT = 'IAM user \'alice\' and codecommit.amazonaws.com';

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });
const denied = awsError('AccessDenied', 'not authorized');
const throttled = awsError('Throttling', 'Rate exceeded');

const common = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:handler',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/presigned?X-Amz-Signature=secret',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/App/1c6a1e70-0000-4000-8000-000000000001',
  RequestId: '6f9619ff-8b86-d011-b42d-00cf4fc964ff',
  LogicalResourceId: 'GitCredential',
  ResourceType: 'Custom::ServiceSpecificCredential',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:handler', UserName: 'alice' },
};
const create: CloudFormationCustomResourceEvent = { ...common, RequestType: 'Create' };
const update: CloudFormationCustomResourceEvent = {
  ...common, RequestType: 'Update', PhysicalResourceId: 'ACCAQYJ5EXAMPLE7ZKWQ2', OldResourceProperties: { ...common.ResourceProperties, UserName: 'bob' },
};
const del: CloudFormationCustomResourceEvent = { ...common, RequestType: 'Delete', PhysicalResourceId: 'ACCAQYJ5EXAMPLE7ZKWQ2' };

describe('reasonOf', () => {
  test.each<[string, unknown, boolean, string]>([
    ['a UserError: its message as it is', new LimitReached('IAM user \'alice\' already has the maximum of 2 credentials'), false,
      'IAM user \'alice\' already has the maximum of 2 credentials'],
    ['a UserError after the deadline: still its message', new UserError('Nothing was changed'), true, 'Nothing was changed'],
    ['an SDK error: its code, then its message', awsError('ValidationException', 'bad request'), false, 'Validation: bad request'],
    ['an error without a message', Object.assign(new Error(), { name: 'ServiceFailure' }), false, 'ServiceFailure: '],
    ['OutOfTime after throttling', new OutOfTime('iam:CreateServiceSpecificCredential', 3, throttled), false,
      `Timed out waiting for IAM or Secrets Manager for ${SUBJECT}: iam:CreateServiceSpecificCredential did not succeed before the deadline `
      + `(3 attempts; last error Throttling: Rate exceeded). ${RETRY}`],
    ['OutOfTime after denials: with what to check', new OutOfTime('iam:ResetServiceSpecificCredential', 2, denied), false,
      `Timed out waiting for IAM or Secrets Manager for ${SUBJECT}: iam:ResetServiceSpecificCredential did not succeed before the deadline `
      + `(2 attempts; last error AccessDenied: not authorized). ${DENIED_HINT} ${RETRY}`],
    ['OutOfTime waiting for a user: the error class names itself', new OutOfTime('iam:CreateServiceSpecificCredential', 5, new UnknownUser('IAM user \'alice\' does not exist')), false,
      `Timed out waiting for IAM or Secrets Manager for ${SUBJECT}: iam:CreateServiceSpecificCredential did not succeed before the deadline `
      + `(5 attempts; last error UnknownUser: IAM user 'alice' does not exist). ${RETRY}`],
    ['any other error once the deadline passed: a timeout, with that error\'s message', awsError('ServiceFailure', 'cleanup cut short'), true,
      `Timed out waiting for IAM or Secrets Manager for ${SUBJECT}: cleanup cut short. ${RETRY}`],
    ['StillDenied: its message and what to check', new StillDenied('iam:CreateServiceSpecificCredential', 11, 65_500, denied), false,
      'iam:CreateServiceSpecificCredential was still denied after 66 s (11 attempts), longer than IAM takes to apply a new policy: '
      + `AccessDenied: not authorized. ${DENIED_HINT}`],
    ['StillDenied by KMS: what the key\'s policy must allow', new StillDenied('secretsmanager:PutSecretValue', 11, 65_500, awsError('AccessDeniedException', 'Access to KMS is not allowed')), false,
      'secretsmanager:PutSecretValue was still denied after 66 s (11 attempts), longer than IAM takes to apply a new policy: '
      + `AccessDenied: Access to KMS is not allowed. ${SECRETS_HINT}`],
    ['StillDenied by KMS in its own words: the same, told by the service that denied', new StillDenied('secretsmanager:PutSecretValue', 11, 65_500,
      awsError('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/h/fn is not authorized to perform: kms:GenerateDataKey')), false,
    'secretsmanager:PutSecretValue was still denied after 66 s (11 attempts), longer than IAM takes to apply a new policy: '
      + `AccessDenied: User: arn:aws:sts::123456789012:assumed-role/h/fn is not authorized to perform: kms:GenerateDataKey. ${SECRETS_HINT}`],
    ['ExplicitlyDenied: its message and what to change', new ExplicitlyDenied('iam:ResetServiceSpecificCredential', awsError('AccessDenied', 'with an explicit deny in a permissions boundary')), false,
      'iam:ResetServiceSpecificCredential was denied by an explicit deny, which waiting does not lift: AccessDenied: with an explicit deny in a '
      + `permissions boundary. ${EXPLICIT_DENY_FIX}`],
    ['CreateDenied: a UserError, its message as it is', new CreateDenied('iam:CreateServiceSpecificCredential for IAM user \'alice\' was denied'), false,
      'iam:CreateServiceSpecificCredential for IAM user \'alice\' was denied'],
  ])('GIVEN %s WHEN answered THEN the reason is exact', (_, err, aborted, reason) => {
    expect(reasonOf(err, aborted, SUBJECT)).toBe(reason);
  });
});

describe('answer and failedPhysicalId', () => {
  test('GIVEN an event WHEN answered THEN the answer carries its ids and what is given, and nothing of its properties', () => {
    // WHEN
    const response = answer(update, 'SUCCESS', 'ACCAQYJ5EXAMPLE7ZKWQ2', { Data: { SecretArn: 'arn' } });

    // THEN
    expect(response).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'ACCAQYJ5EXAMPLE7ZKWQ2',
      StackId: common.StackId,
      RequestId: common.RequestId,
      LogicalResourceId: 'GitCredential',
      Data: { SecretArn: 'arn' },
    });
  });

  test.each<[string, string, CloudFormationCustomResourceEvent, string]>([
    ['a CREATE', 'one that names no credential', create, `failed-create-${common.RequestId}`],
    ['an UPDATE', 'its own', update, 'ACCAQYJ5EXAMPLE7ZKWQ2'],
    ['a DELETE', 'its own', del, 'ACCAQYJ5EXAMPLE7ZKWQ2'],
  ])('GIVEN %s that failed WHEN answered THEN the physical id is %s', (_, __, event, id) => {
    expect(failedPhysicalId(event)).toBe(id);
  });
});

describe('fit', () => {
  const failed = (Reason: string): CloudFormationCustomResourceResponse => answer(create, 'FAILED', `failed-create-${common.RequestId}`, { Reason });
  const bytes = (response: CloudFormationCustomResourceResponse) => Buffer.byteLength(JSON.stringify(response));

  test('GIVEN an answer within 4,096 bytes WHEN fitted THEN it is the same answer', () => {
    const response = failed('ValidationError: bad request');
    expect(fit(response)).toBe(response);
  });

  test('GIVEN an answer of exactly 4,096 bytes WHEN fitted THEN it is kept whole', () => {
    const empty = bytes(failed(''));
    const response = failed('x'.repeat(4_096 - empty));
    expect(bytes(response)).toBe(4_096);
    expect(fit(response)).toBe(response);
  });

  test('GIVEN an answer too large without a reason WHEN fitted THEN it is left as it is (nothing else may be cut)', () => {
    const response = answer(create, 'SUCCESS', 'id', { Data: { Big: 'x'.repeat(5_000) } });
    expect(fit(response)).toBe(response);
  });

  test.each([
    ['ASCII', 'x'],
    ['2-byte characters', 'é'],
    ['4-byte characters', '\u{1F511}'],
    ['characters JSON escapes', '"'],
    ['control characters JSON escapes at 6 bytes', '\u0001'],
  ])('GIVEN a reason of %s too large WHEN fitted THEN it is cut between characters to fill 4,096 bytes as nearly as they allow, marked as cut', (_, char) => {
    // GIVEN
    const response = failed(`ValidationError: ${char.repeat(5_000)}`);

    // WHEN
    const fitted = fit(response);

    // THEN
    expect(bytes(fitted)).toBeLessThanOrEqual(4_096);
    // One character more would not have fitted.
    expect(bytes(fitted) + Buffer.byteLength(JSON.stringify(char)) - 2).toBeGreaterThan(4_096);
    expect(fitted.Reason).toMatch(/ \(truncated\)$/);
    expect(response.Reason!.startsWith(fitted.Reason!.slice(0, -' (truncated)'.length))).toBe(true);
    expect({ ...fitted, Reason: undefined }).toEqual({ ...response, Reason: undefined });
  });
});

describe('describeEvent', () => {
  test.each<[string, CloudFormationCustomResourceEvent]>([['CREATE', create], ['UPDATE', update], ['DELETE', del]])(
    'GIVEN a %s WHEN logged THEN the pre-signed ResponseURL is left out, and ids and properties kept', (_, event) => {
      // WHEN
      const described = describeEvent(event);

      // THEN
      expect(JSON.stringify(described)).not.toContain('X-Amz-Signature');
      expect(described).toEqual({
        RequestType: event.RequestType,
        RequestId: common.RequestId,
        LogicalResourceId: 'GitCredential',
        PhysicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : undefined,
        ResourceProperties: common.ResourceProperties,
        OldResourceProperties: 'OldResourceProperties' in event ? event.OldResourceProperties : undefined,
      });
    });
});
