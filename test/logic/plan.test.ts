import { planUpdate } from '../../lambda/logic/plan';
import type { CredentialResourceProperties as Props } from '../../src/handler-contract';

const OLD: Props = {
  UserName: 'alice',
  ServiceName: 'codecommit.amazonaws.com',
  Status: 'Active',
  SecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:GitCredentialSecret-AbCdEf',
  ResetSerial: '0',
};
const bedrock: Props = { ...OLD, ServiceName: 'bedrock.amazonaws.com', CredentialAgeDays: '30' };

describe('planUpdate', () => {
  test.each<[string, Props, Props, { replace: boolean; reset: boolean; statusChange: boolean }]>([
    ['nothing', OLD, OLD, { replace: false, reset: false, statusChange: false }],
    ['the user', OLD, { ...OLD, UserName: 'bob' }, { replace: true, reset: false, statusChange: false }],
    ['the service', OLD, { ...OLD, ServiceName: 'cassandra.amazonaws.com' }, { replace: true, reset: false, statusChange: false }],
    ['the age', bedrock, { ...bedrock, CredentialAgeDays: '90' }, { replace: true, reset: false, statusChange: false }],
    ['an age given', { ...bedrock, CredentialAgeDays: undefined }, bedrock, { replace: true, reset: false, statusChange: false }],
    ['an age taken away', bedrock, { ...bedrock, CredentialAgeDays: undefined }, { replace: true, reset: false, statusChange: false }],
    ['no age to an empty one', { ...bedrock, CredentialAgeDays: undefined }, { ...bedrock, CredentialAgeDays: '' }, { replace: false, reset: false, statusChange: false }],
    ['the resetSerial', OLD, { ...OLD, ResetSerial: '1' }, { replace: false, reset: true, statusChange: false }],
    ['the resetSerial back (a rollback)', { ...OLD, ResetSerial: '1' }, OLD, { replace: false, reset: true, statusChange: false }],
    ['the secret', OLD, { ...OLD, SecretArn: OLD.SecretArn.replace('AbCdEf', 'XyZxYz') }, { replace: false, reset: true, statusChange: false }],
    ['the status', OLD, { ...OLD, Status: 'Inactive' }, { replace: false, reset: false, statusChange: true }],
    ['the rotation strategy', OLD, { ...OLD, RotationStrategy: 'ALTERNATING' }, { replace: false, reset: false, statusChange: false }],
    ['whether the user is imported', OLD, { ...OLD, UserExists: 'true' }, { replace: false, reset: false, statusChange: false }],
    ['the user, the resetSerial and the status at once', OLD, { ...OLD, UserName: 'bob', ResetSerial: '1', Status: 'Inactive' },
      { replace: true, reset: true, statusChange: true }],
  ])('GIVEN an UPDATE that changes %s WHEN planned THEN the plan is %j', (_, oldProps, newProps, plan) => {
    expect(planUpdate(oldProps, newProps)).toEqual(plan);
  });
});
