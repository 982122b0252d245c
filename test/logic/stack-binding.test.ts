import { SecretGone, UserError } from '../../lambda/logic/errors';
import { checkEventStack, checkSecretOwned } from '../../lambda/logic/stack-binding';

const STACK = 'arn:aws:cloudformation:us-east-1:123456789012:stack/App/1c6a1e70-0000-4000-8000-000000000001';
const OTHER = STACK.replace('App', 'Other');
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:GitCredentialSecret-AbCdEf';

/** What `check` throws, or undefined when it passes. */
function thrownBy(check: () => void): unknown {
  try {
    check();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('checkEventStack', () => {
  test('GIVEN an event from the handler\'s own stack WHEN checked THEN it passes', () => {
    expect(thrownBy(() => checkEventStack(STACK, STACK))).toBeUndefined();
  });

  test.each<[string, string, string | undefined, string]>([
    ['another stack', OTHER, STACK,
      `This handler serves CloudFormation stack ${STACK} only; it refused an event from ${OTHER} and touched nothing`],
    ['any stack, when STACK_ID is not set', STACK, undefined,
      `This handler serves CloudFormation stack (none: STACK_ID is not set) only; it refused an event from ${STACK} and touched nothing`],
  ])('GIVEN an event from %s WHEN checked THEN it is refused as the user\'s error, with an exact message', (_, from, own, message) => {
    const thrown = thrownBy(() => checkEventStack(from, own));
    expect(thrown).toBeInstanceOf(UserError);
    expect((thrown as Error).message).toBe(message);
  });
});

describe('checkSecretOwned', () => {
  const owned = { 'cdk-service-specific-credential': STACK, 'aws:cloudformation:stack-id': STACK };
  const notOurs = `Secret ${SECRET} is not a credential secret of stack ${STACK}: such a secret carries the tags `
    + 'aws:cloudformation:stack-id (set by CloudFormation only) and cdk-service-specific-credential, both with the stack\'s id. Nothing was changed';

  test.each<[string, Record<string, string>]>([
    ['both tags with the stack\'s id', owned],
    ['both tags and others', { ...owned, team: 'platform' }],
  ])('GIVEN a secret with %s WHEN checked THEN it passes', (_, tags) => {
    expect(thrownBy(() => checkSecretOwned(STACK, SECRET, tags))).toBeUndefined();
  });

  test.each<[string, Record<string, string>]>([
    ['no tags', {}],
    ['only the construct\'s tag, which anyone who can tag can set', { 'cdk-service-specific-credential': STACK }],
    ['only CloudFormation\'s tag', { 'aws:cloudformation:stack-id': STACK }],
    ['CloudFormation\'s tag of another stack', { ...owned, 'aws:cloudformation:stack-id': OTHER }],
    ['the construct\'s tag of another stack', { ...owned, 'cdk-service-specific-credential': OTHER }],
  ])('GIVEN a secret with %s WHEN checked THEN it is refused with an exact message', (_, tags) => {
    const thrown = thrownBy(() => checkSecretOwned(STACK, SECRET, tags));
    expect(thrown).toBeInstanceOf(UserError);
    expect(thrown).not.toBeInstanceOf(SecretGone);
    expect((thrown as Error).message).toBe(notOurs);
  });

  test('GIVEN a secret that does not exist or is scheduled for deletion WHEN checked THEN it is SecretGone', () => {
    const thrown = thrownBy(() => checkSecretOwned(STACK, SECRET, undefined));
    expect(thrown).toBeInstanceOf(SecretGone);
    expect((thrown as Error).message).toBe(`Secret ${SECRET} does not exist or is scheduled for deletion`);
  });
});
