import { Driver, baseProps } from './direct';
import { World } from './interleavings';
import type { CredentialResourceProperties as Props } from '../../src/handler-contract';
import { CREATE_DENIED_FIX, DENIED_HINT, escape } from '../expected-reasons';
import { DenyingPolicy, REFUSAL_WORDINGS, defaultWordings } from '../local-aws/errors';

// A Create that a service control policy or permissions boundary denies, through the real bundled handler against a
// local IAM that evaluates such a policy on iam:ServiceSpecificCredentialAgeDays and ...ServiceName. An explicit deny
// never turns into an allow by waiting: in AWS's documented wording it fails at once, with a reason that names the
// call, the condition keys and the fix. In any other wording (LOCAL_AWS_WORDINGS=reworded) the handler cannot tell it
// from a policy still propagating: it waits its 60-second window (on the warped clock of the World's Lambda), and
// fails with the same denial, later. Never another outcome.

jest.setTimeout(120_000);

let world: World;
let d: Driver;
beforeAll(async () => {
  world = await World.start();
  d = new Driver(world);
});
afterAll(() => world.close());
afterEach(() => world.localAws.clearPolicies());

const wordings = defaultWordings();
const SCP = 'arn:aws:organizations::111111111111:policy/o-exampleorgid/service_control_policy/p-examplepolicy';
const BOUNDARY = 'arn:aws:iam::123456789012:policy/CredentialBoundary';

/** AWS's access denied message for the handler's Create, in this run's wordings. */
const awsMessage = (user: string, policy: DenyingPolicy, policyArn: string) => REFUSAL_WORDINGS[wordings].explicitDeny(
  'arn:aws:sts::123456789012:assumed-role/lambda-role/session', 'iam:CreateServiceSpecificCredential', `arn:aws:iam::123456789012:user/${user}`, policy, policyArn);

/** The reason: at once in AWS's wording; after the window in any other. */
function expectDenied(reason: string | undefined, user: string, asked: string, policy: DenyingPolicy, policyArn: string) {
  const message = awsMessage(user, policy, policyArn);
  if (wordings === 'aws') {
    expect(reason).toBe(`iam:CreateServiceSpecificCredential for IAM user '${user}' and ${asked} was denied by an explicit deny, which waiting `
      + `does not lift: AccessDenied: ${message}. ${CREATE_DENIED_FIX}`);
  } else {
    expect(reason).toMatch(new RegExp(`^${escape('iam:CreateServiceSpecificCredential was still denied after ')}\\d+ s \\(\\d+ attempts\\), `
      + `${escape(`longer than IAM takes to apply a new policy: AccessDenied: ${message}. ${DENIED_HINT}`)}$`));
  }
}

const creates = (before: number) => world.localAws.calls.slice(before).filter((c) => c.operation === 'CreateServiceSpecificCredential');
const keyProps = (user: string, secret: string, more: Partial<Props> = {}) =>
  baseProps(user, secret, { ServiceName: 'bedrock.amazonaws.com', ...more });

describe('an SCP that allows API keys of at most 90 days', () => {
  beforeEach(() => world.localAws.restrictCreate({ type: 'service control policy', maxAgeDays: 90 }));

  test.each([
    ['365 days', { CredentialAgeDays: '365' }, 'bedrock.amazonaws.com with CredentialAgeDays 365'],
    ['no expiry', {}, 'bedrock.amazonaws.com without CredentialAgeDays (a credential that never expires)'],
  ])('a key of %s fails the CREATE, naming the call, the condition keys and the fix; nothing is created', async (_, more, asked) => {
    const user = d.user();
    const secret = d.secret();
    const calls = world.localAws.calls.length;

    const answer = await d.send('Create', keyProps(user, secret, more));

    expect(answer.Status).toBe('FAILED');
    expectDenied(answer.Reason, user, asked, 'service control policy', SCP);
    expect(answer.PhysicalResourceId).toMatch(/^failed-create-/);
    expect(world.localAws.credentials({ userName: user })).toEqual([]);
    // One attempt: waiting does not lift an explicit deny. Reworded, the window's attempts.
    expect(creates(calls).length === 1).toBe(wordings === 'aws');
    // The CREATE's DELETE touches nothing.
    expect((await d.send('Delete', keyProps(user, secret, more), answer.PhysicalResourceId)).Status).toBe('SUCCESS');
  });

  test('a key of 90 days is created', async () => {
    const answer = await d.send('Create', keyProps(d.user(), d.secret(), { CredentialAgeDays: '90' }));

    expect(answer.Status).toBe('SUCCESS');
  });

  test('an ALTERNATING rotation whose Create the SCP denies fails its createSecret, and the current key keeps working', async () => {
    world.localAws.clearPolicies();
    const user = d.user();
    const secret = d.secret('ALTERNATING');
    // Deployed before the organisation narrowed its SCP: a key of a year.
    const props = keyProps(user, secret, { CredentialAgeDays: '365', RotationStrategy: 'ALTERNATING' });
    expect((await d.send('Create', props)).Status).toBe('SUCCESS');
    const current = d.current(secret);
    world.localAws.restrictCreate({ type: 'service control policy', maxAgeDays: 90 });

    const rotation = await d.rotate(secret);

    expect(rotation.failed).toMatch(/^createSecret: createSecret failed: /);
    expectDenied(rotation.failed!.replace(/^createSecret: createSecret failed: /, ''), user, 'bedrock.amazonaws.com with CredentialAgeDays 365',
      'service control policy', SCP);
    expect(d.current(secret)).toEqual(current);
    expect(d.currentAccepted(secret)).toBe(true);
    world.localAws.clearPolicies();
    expect((await d.send('Delete', props, current.resourceId)).Status).toBe('SUCCESS');
  });
});

test('a permissions boundary that allows only CodeCommit fails a Bedrock key\'s CREATE, naming the call and the keys', async () => {
  world.localAws.restrictCreate({ type: 'permissions boundary', services: ['codecommit.amazonaws.com'] });
  const user = d.user();

  const answer = await d.send('Create', keyProps(user, d.secret(), { CredentialAgeDays: '30' }));

  expect(answer.Status).toBe('FAILED');
  expectDenied(answer.Reason, user, 'bedrock.amazonaws.com with CredentialAgeDays 30', 'permissions boundary', BOUNDARY);
  expect(world.localAws.credentials({ userName: user })).toEqual([]);
});
