import { randomBytes, randomUUID } from 'node:crypto';
import { CreateServiceSpecificCredentialCommand } from '@aws-sdk/client-iam';
import { Driver, baseProps } from './direct';
import { STACK_ID, World } from './interleavings';

// What the interleaving model does not generate: the previous handler version writing the secret (an upgrade, and a
// deployment that rolls back to it), events someone with lambda:InvokeFunction crafts, and Secrets Manager's limit of
// 20 staging labels per secret, which the local AWS does not enforce.

jest.setTimeout(300_000);

/** The bound lambda/shared/ownership.ts states: three records of a resource, three of one it replaces, the three stages, the marker. */
const LABEL_BOUND = 10;

let world: World;
let d: Driver;
beforeAll(async () => {
  world = await World.start();
  d = new Driver(world);
});
afterAll(() => world.close());

const mine = (user: string) => world.localAws.credentials({ userName: user }).map((c) => c.ServiceSpecificCredentialId);

describe('the previous handler version (documents only, no record)', () => {
  test('upgrade mid-rotation: an old ALTERNATING pair with createSecret done by the old handler is finished by the new one, and the DELETE deletes everything', async () => {
    const user = d.user();
    const secret = d.secret('ALTERNATING');
    const physicalId = await d.oldHandlerCreate(secret, user);
    await d.oldHandlerAlternatingRotation(secret); // pair: C1 previous, C2 current
    const { token } = await d.oldHandlerAlternatingRotation(secret, false); // C1 deleted, C3 staged
    for (const s of ['setSecret', 'testSecret', 'finishSecret']) {
      const r = await d.step(secret, token, s);
      expect({ s, threw: r.threw, out: r.threw ? r.output : '' }).toEqual({ s, threw: false, out: '' });
    }
    expect(d.currentAccepted(secret)).toBe(true);
    const again = await d.rotate(secret);
    expect(again.failed).toBeUndefined();
    const answer = await d.send('Delete', baseProps(user, secret, { RotationStrategy: 'ALTERNATING' }), physicalId);
    expect(answer.Status).toBe('SUCCESS');
    expect(mine(user)).toEqual([]);
  });

  test('downgrade after upgrade (the upgrading deployment rolls back, reverting the Lambda code): what the old handler wrote is recorded', async () => {
    const user = d.user();
    const secret = d.secret('ALTERNATING');
    const props = baseProps(user, secret, { RotationStrategy: 'ALTERNATING' });
    // The new handler creates the resource: labels and the ssc-record marker.
    const created = await d.send('Create', props);
    expect(created.Status).toBe('SUCCESS');
    const physicalId = created.PhysicalResourceId;
    // The Lambda code goes back to the previous version (rollback of the upgrading deployment, or a pinned older
    // library), which runs a scheduled rotation its way.
    const { id: byOld } = await d.oldHandlerAlternatingRotation(secret);
    expect(d.currentAccepted(secret)).toBe(true);
    // The new handler again. A scheduled rotation keeps the old handler's credential as the pair's previous one:
    const rotation = await d.rotate(secret);
    expect(rotation.failed).toBeUndefined();
    expect(d.currentAccepted(secret)).toBe(true);
    expect(d.exists(byOld)).toBe(true);
    // A resetSerial deploy, then the stack DELETE:
    const next = { ...props, ResetSerial: '1' };
    const updated = await d.send('Update', next, physicalId, props);
    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    expect(d.currentAccepted(secret)).toBe(true);
    const deleted = await d.send('Delete', next, physicalId);
    expect(deleted.Status).toBe('SUCCESS');
    expect(mine(user)).toEqual([]);
  });

  test('downgrade after upgrade, no rotation in between: the stack DELETE deletes the credential the old handler made current', async () => {
    const user = d.user();
    const secret = d.secret('ALTERNATING');
    const props = baseProps(user, secret, { RotationStrategy: 'ALTERNATING' });
    const created = await d.send('Create', props);
    const physicalId = created.PhysicalResourceId;
    const { id: byOld } = await d.oldHandlerAlternatingRotation(secret);
    const deleted = await d.send('Delete', props, physicalId);
    expect(deleted.Status).toBe('SUCCESS');
    expect({ left: mine(user), byOld }).toEqual({ left: [], byOld });
  });
});

describe('crafted events', () => {
  test('an event from another stack without ResourceProperties is answered (FAILED), not thrown', async () => {
    const before = world.catcher.responses.length;
    const requestId = randomUUID();
    const outcome = await world.lambda.run({
      RequestType: 'Delete',
      RequestId: requestId,
      StackId: `${STACK_ID}-other`,
      LogicalResourceId: 'X',
      PhysicalResourceId: 'ACCAXXXXXXXXXXXXXXXXX',
      ResponseURL: `${world.catcher.url}?X-Amz-Signature=${randomBytes(8).toString('hex')}`,
    });
    const answer = world.catcher.responses.slice(before).find((r) => r.RequestId === requestId);
    expect({ threw: outcome.threw, answered: answer?.Status }).toEqual({ threw: false, answered: 'FAILED' });
  });

  test('a crafted DELETE naming another actor\'s credential with one of this stack\'s secrets deletes nothing', async () => {
    const user = d.user();
    const secret = d.secret();
    const created = await d.send('Create', baseProps(user, secret));
    expect(created.Status).toBe('SUCCESS');
    const other = await world.iam.send(new CreateServiceSpecificCredentialCommand({ UserName: user, ServiceName: 'codecommit.amazonaws.com' }));
    const otherId = other.ServiceSpecificCredential!.ServiceSpecificCredentialId!;
    const answer = await d.send('Delete', baseProps(user, secret), otherId);
    expect(answer.Status).toBe('SUCCESS');
    expect(d.exists(otherId)).toBe(true);
    expect(d.exists(created.PhysicalResourceId)).toBe(true);
  });
});

describe('two deliveries of one step at the same time', () => {
  test('RESET_IN_PLACE createSecret: whichever reset came last, the current value is live and the credential stays', async () => {
    const user = d.user();
    const secret = d.secret('RESET_IN_PLACE');
    const created = await d.send('Create', baseProps(user, secret, { RotationStrategy: 'RESET_IN_PLACE' }));
    expect(created.Status).toBe('SUCCESS');
    const token = randomUUID();
    world.localAws.startRotation(secret, token);
    // The first delivery's write waits until the second has reset the credential again and written its own value.
    world.localAws.inject({ service: 'secretsmanager', operation: 'PutSecretValue', delayMs: 500, accessKeyId: 'lambda-role' });
    const event = { SecretId: secret, ClientRequestToken: token, Step: 'createSecret' };
    await Promise.all([world.lambda.run(event), new Promise((r) => setTimeout(r, 100)).then(() => world.lambda.run(event))]);
    world.localAws.clearFaults();
    expect(mine(user)).toEqual([created.PhysicalResourceId]);
    expect(d.currentAccepted(secret)).toBe(true);
    // The rotation then ends either way, and the next one runs.
    const next = await d.rotate(secret);
    expect(next.failed).toBeUndefined();
    expect(d.currentAccepted(secret)).toBe(true);
  });
});

describe('the staging label budget', () => {
  test.each([['no rotation', undefined], ['RESET_IN_PLACE', 'RESET_IN_PLACE'], ['ALTERNATING', 'ALTERNATING']] as const)(
    'with %s, out-of-band deletes each repaired by a resetSerial stay within the record\'s bound of staging labels', async (_, strategy) => {
      const user = d.user();
      const secret = d.secret(strategy);
      let props = baseProps(user, secret, strategy ? { RotationStrategy: strategy } : {});
      const created = await d.send('Create', props);
      expect(created.Status).toBe('SUCCESS');
      const physicalId = created.PhysicalResourceId;
      const counts: number[] = [];
      for (let i = 1; i <= 19; i++) {
        const cur = d.current(secret);
        await d.deleteOutOfBand(user, cur.serviceSpecificCredentialId);
        const next = { ...props, ResetSerial: String(i) };
        const answer = await d.send('Update', next, physicalId, props);
        expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
        expect(d.currentAccepted(secret)).toBe(true);
        props = next;
        counts.push(d.labels(secret).length);
      }
      expect(Math.max(...counts)).toBeLessThanOrEqual(LABEL_BOUND);
    });
});
