import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import {
  OWNED_SECRET_TAGS, SECRET_ARN, STACK_ID, createEvent, credentialId, deleteEvent, mockAws, props, updateEvent,
} from '../handler-harness';

// Only this stack drives the handler: events from another stack, and secrets CloudFormation did not create for this
// one, are refused before IAM issues, resets or deletes anything.

const { iam, sm, given, base, run, sent } = mockAws();

const OTHER_STACK = STACK_ID.replace('App', 'Other');

describe('events', () => {
  test.each(['Create', 'Update', 'Delete'])('GIVEN a %s from another stack WHEN handled THEN it is refused before any call', async (type) => {
    // GIVEN: no AWS call is answered.
    const id = credentialId();
    const event = type === 'Create' ? createEvent(props(), base()) : type === 'Update'
      ? updateEvent(id, props(), props({ ResetSerial: '1' }), base())
      : deleteEvent(id, props(), base());
    const foreign = { ...event, StackId: OTHER_STACK } as CloudFormationCustomResourceEvent;

    // WHEN
    const response = await run(foreign);

    // THEN
    expect(iam.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
    expect(response).toMatchObject({
      Status: 'FAILED',
      StackId: OTHER_STACK,
      Reason: `This handler serves CloudFormation stack ${STACK_ID} only; it refused an event from ${OTHER_STACK} and touched nothing`,
    });
  });

  test('GIVEN a handler whose STACK_ID is not set WHEN an event comes THEN it is refused before any call, saying so', async () => {
    // GIVEN
    const event = createEvent(props(), base());

    // WHEN
    const response = await run(event, undefined, { stackId: undefined });

    // THEN
    expect(iam.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: `failed-create-${event.RequestId}`,
      Reason: `This handler serves CloudFormation stack (none: STACK_ID is not set) only; it refused an event from ${STACK_ID} and touched nothing`,
    });
  });
});

describe('secrets', () => {
  test.each([
    ['no tags', undefined],
    ['only the stack\'s own tag, which anyone who can tag can set', [OWNED_SECRET_TAGS[0]]],
    ['CloudFormation\'s tag of another stack', [OWNED_SECRET_TAGS[0], { Key: 'aws:cloudformation:stack-id', Value: OTHER_STACK }]],
  ])('GIVEN a secret with %s WHEN a CREATE names it THEN it is refused before IAM issues anything', async (_, tags) => {
    // GIVEN
    given.taggedSecret(tags);

    // WHEN
    const response = await run(createEvent(props(), base()));

    // THEN
    expect(iam.calls()).toHaveLength(0);
    expect(sent(sm)).toEqual(['DescribeSecret']);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: `Secret ${SECRET_ARN} is not a credential secret of stack ${STACK_ID}: such a secret carries the tags aws:cloudformation:stack-id `
        + '(set by CloudFormation only) and cdk-service-specific-credential, both with the stack\'s id. Nothing was changed',
    });
  });
});
