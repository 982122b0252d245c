import {
  CreateServiceSpecificCredentialCommand,
  IAMClient,
  ListServiceSpecificCredentialsCommand,
  NoSuchEntityException,
  ServiceNotSupportedException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Iam } from '../../lambda/aws/iam';
import { ACCESS_DENIED_WINDOW_MS, Budget } from '../../lambda/aws/retry';
import { UnknownUser, UnsupportedService } from '../../lambda/logic/errors';
import { passwordCredential } from '../handler-harness';

// What a NoSuchEntity from Create or List means is asked of IAM (the user's credentials for no service), never read
// from its wording: every NoSuchEntity below says the same meaningless words.

const client = mockClient(IAMClient);
let slept: number[];
const budget = (): Budget => ({
  signal: new AbortController().signal,
  deadline: Date.now() + 15 * 60_000,
  sleep: async (ms) => { slept.push(ms); },
});
const noSuchEntity = () => new NoSuchEntityException({ message: 'words nobody decides by', $metadata: { httpStatusCode: 404 } });
const denied = () => Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
const explaining = { UserName: 'alice' };

beforeEach(() => {
  client.reset();
  slept = [];
  client.onAnyCommand().rejects(new Error('a call the test did not expect'));
});

describe('Create for a user the stack makes (it may not be visible yet)', () => {
  test('GIVEN no call sees the user yet WHEN creating THEN it waits until IAM shows the user', async () => {
    client.on(CreateServiceSpecificCredentialCommand).rejectsOnce(noSuchEntity()).rejectsOnce(noSuchEntity())
      .resolves({ ServiceSpecificCredential: passwordCredential() });
    client.on(ListServiceSpecificCredentialsCommand, explaining, true).rejectsOnce(noSuchEntity()).rejectsOnce(noSuchEntity());

    const created = await new Iam(new IAMClient({})).create(budget(), 'alice', 'codecommit.amazonaws.com');

    expect(created.UserName).toBe('alice');
    expect(client).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 3);
    expect(client).toHaveReceivedCommandTimes(ListServiceSpecificCredentialsCommand, 2);
  });

  test('GIVEN List already sees the user but Create not yet WHEN creating THEN it waits, within the settling window', async () => {
    client.on(CreateServiceSpecificCredentialCommand).rejectsOnce(noSuchEntity()).rejectsOnce(noSuchEntity())
      .resolves({ ServiceSpecificCredential: passwordCredential() });
    client.on(ListServiceSpecificCredentialsCommand, explaining, true).resolves({ ServiceSpecificCredentials: [] });

    await new Iam(new IAMClient({})).create(budget(), 'alice', 'codecommit.amazonaws.com');

    expect(client).toHaveReceivedCommandTimes(CreateServiceSpecificCredentialCommand, 3);
  });

  test('GIVEN a service IAM does not support WHEN creating THEN it gives up after the settling window, naming the service', async () => {
    client.on(CreateServiceSpecificCredentialCommand).rejects(noSuchEntity());
    client.on(ListServiceSpecificCredentialsCommand, explaining, true).resolves({ ServiceSpecificCredentials: [] });

    const err = await new Iam(new IAMClient({})).create(budget(), 'alice', 'nosuch.amazonaws.com').catch((e) => e);

    expect(err).toBeInstanceOf(UnsupportedService);
    expect(err.message).toBe("IAM does not support service-specific credentials for 'nosuch.amazonaws.com' (user 'alice'): words nobody decides by");
    const waited = slept.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThanOrEqual(ACCESS_DENIED_WINDOW_MS);
    expect(waited).toBeLessThan(ACCESS_DENIED_WINDOW_MS + 10_000);
  });
});

describe('Create for an imported user (it exists before the deployment)', () => {
  test('GIVEN the user does not exist WHEN creating THEN it fails at once, saying so', async () => {
    client.on(CreateServiceSpecificCredentialCommand).rejects(noSuchEntity());
    client.on(ListServiceSpecificCredentialsCommand, explaining, true).rejects(noSuchEntity());

    const err = await new Iam(new IAMClient({})).create(budget(), 'alice', 'codecommit.amazonaws.com', undefined, false).catch((e) => e);

    expect(err).toBeInstanceOf(UnknownUser);
    expect(err.message).toBe("IAM user 'alice' does not exist. The stack imports it (iam.User.fromUserName or fromUserArn), so it must "
      + 'exist before the deployment: check its name, and for a user with a path, use fromUserArn with the full ARN');
    expect(client.calls()).toHaveLength(2);
    expect(slept).toEqual([]);
  });

  test.each([
    ['NoSuchEntity, as real IAM answers', noSuchEntity],
    ['NotSupportedService, as its model declares', () => new ServiceNotSupportedException({ message: 'words', $metadata: { httpStatusCode: 404 } })],
  ])('GIVEN a service IAM does not support, answered with %s WHEN creating THEN it fails at once', async (_, error) => {
    client.on(CreateServiceSpecificCredentialCommand).rejects(error());
    client.on(ListServiceSpecificCredentialsCommand, explaining, true).resolves({ ServiceSpecificCredentials: [] });

    const err = await new Iam(new IAMClient({})).create(budget(), 'alice', 'nosuch.amazonaws.com', undefined, false).catch((e) => e);

    expect(err).toBeInstanceOf(UnsupportedService);
    expect(err.message).toMatch(/^IAM does not support service-specific credentials for 'nosuch.amazonaws.com' \(user 'alice'\): /);
    expect(slept).toEqual([]);
  });

  test('GIVEN the explaining List is denied WHEN creating THEN IAM\'s own NoSuchEntity is what fails, at once', async () => {
    client.on(CreateServiceSpecificCredentialCommand).rejects(noSuchEntity());
    client.on(ListServiceSpecificCredentialsCommand, explaining, true).rejects(denied());

    const err = await new Iam(new IAMClient({})).create(budget(), 'alice', 'codecommit.amazonaws.com', undefined, false).catch((e) => e);

    expect(err).toBeInstanceOf(NoSuchEntityException);
    expect(slept).toEqual([]);
  });
});

describe('find: a credential that cannot exist is not there', () => {
  test.each([
    ['the user is gone', () => client.on(ListServiceSpecificCredentialsCommand, explaining, true).rejects(noSuchEntity())],
    ['IAM does not know the service', () => client.on(ListServiceSpecificCredentialsCommand, explaining, true).resolves({})],
  ])('GIVEN %s WHEN finding a credential THEN there is none, without waiting', async (_, given) => {
    client.on(ListServiceSpecificCredentialsCommand, { UserName: 'alice', ServiceName: 'codecommit.amazonaws.com' }).rejects(noSuchEntity());
    given();

    await expect(new Iam(new IAMClient({})).find(budget(), 'alice', 'codecommit.amazonaws.com', 'ACCAEXAMPLE123456789', false)).resolves.toBeUndefined();
    expect(slept).toEqual([]);
  });

  test('GIVEN List answers NotSupportedService WHEN finding a credential THEN there is none', async () => {
    client.on(ListServiceSpecificCredentialsCommand).rejects(new ServiceNotSupportedException({ message: 'words', $metadata: { httpStatusCode: 404 } }));

    await expect(new Iam(new IAMClient({})).find(budget(), 'alice', 'nosuch.amazonaws.com', 'ACCAEXAMPLE123456789', false)).resolves.toBeUndefined();
  });
});
