import type { ServiceSpecificCredential } from '@aws-sdk/client-iam';
import {
  attributesOf, credentialFromDocument, daysValid, readCredential, resourceOf, secretDocument, secretOf,
} from '../../lambda/logic/secret-value';

// The secret's document and the attributes CloudFormation gets, from credentials shaped like the ones recorded on
// real AWS (shared/reference/iam-service-specific-credentials.md, "The credential shape").

const ID = 'ACCAQYJ5EXAMPLE7ZKWQ2';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:GitCredentialSecret-AbCdEf';
const CREATED = new Date('2026-11-22T10:00:00Z');
const EXPIRES = new Date('2026-12-22T10:00:00Z');

const password: ServiceSpecificCredential = {
  CreateDate: CREATED,
  ServiceName: 'codecommit.amazonaws.com',
  ServiceUserName: 'alice-at-123456789012',
  ServicePassword: 'pw-0123456789abcdefghijklmnopqrstuvwxyz=',
  ServiceSpecificCredentialId: ID,
  UserName: 'alice',
  Status: 'Active',
};
const apiKey: ServiceSpecificCredential = {
  CreateDate: CREATED,
  ServiceName: 'bedrock.amazonaws.com',
  ServiceCredentialAlias: 'alice+1-at-123456789012',
  ServiceCredentialSecret: 'ABSK-key-0123456789',
  ServiceSpecificCredentialId: ID,
  UserName: 'alice',
  Status: 'Active',
  ExpirationDate: EXPIRES,
};

describe('secretOf', () => {
  test.each<[string, Partial<ServiceSpecificCredential>, string | undefined]>([
    ['a password', { ServicePassword: 'pw' }, 'pw'],
    ['an API key', { ServiceCredentialSecret: 'key' }, 'key'],
    ['a reset API key with both fields: the API-key field', { ServiceCredentialSecret: 'key', ServicePassword: 'pw' }, 'key'],
    ['a reset API key in the password field only', { ServiceCredentialAlias: 'alias', ServicePassword: 'pw' }, 'pw'],
    ['metadata (List never returns a secret)', { ServiceSpecificCredentialId: ID }, undefined],
  ])('GIVEN %s WHEN its secret is read THEN it is %s', (_, credential, secret) => {
    expect(secretOf(credential as ServiceSpecificCredential)).toBe(secret);
  });
});

describe('secretDocument', () => {
  test.each<[string, ServiceSpecificCredential, string, string | undefined, string]>([
    ['a password, the resource\'s first credential', password, '0', undefined,
      `{"username":"alice-at-123456789012","password":"${password.ServicePassword}","serviceSpecificCredentialId":"${ID}",`
      + '"serviceName":"codecommit.amazonaws.com","iamUserName":"alice","resetSerial":"0",'
      + `"resourceId":"${ID}"}`],
    ['a password issued under another resource', password, '3', 'ACCARESOURCE000000001', '{"username":"alice-at-123456789012",'
      + `"password":"${password.ServicePassword}","serviceSpecificCredentialId":"${ID}","serviceName":"codecommit.amazonaws.com",`
      + '"iamUserName":"alice","resetSerial":"3","resourceId":"ACCARESOURCE000000001"}'],
    ['an API key that expires', apiKey, '0', undefined,
      '{"serviceCredentialAlias":"alice+1-at-123456789012","apiKey":"ABSK-key-0123456789",'
      + `"serviceSpecificCredentialId":"${ID}","serviceName":"bedrock.amazonaws.com","iamUserName":"alice","resetSerial":"0",`
      + `"resourceId":"${ID}","expirationDate":"2026-12-22T10:00:00.000Z"}`],
    ['an API key that never expires', { ...apiKey, ExpirationDate: undefined }, '0', undefined,
      '{"serviceCredentialAlias":"alice+1-at-123456789012","apiKey":"ABSK-key-0123456789",'
      + `"serviceSpecificCredentialId":"${ID}","serviceName":"bedrock.amazonaws.com","iamUserName":"alice","resetSerial":"0",`
      + `"resourceId":"${ID}"}`],
    ['a reset API key in the password field: still an API key, told by its alias', { ...apiKey, ServiceCredentialSecret: undefined, ServicePassword: 'ABSK-pw' },
      '1', undefined, '{"serviceCredentialAlias":"alice+1-at-123456789012","apiKey":"ABSK-pw",'
      + `"serviceSpecificCredentialId":"${ID}","serviceName":"bedrock.amazonaws.com","iamUserName":"alice","resetSerial":"1",`
      + `"resourceId":"${ID}","expirationDate":"2026-12-22T10:00:00.000Z"}`],
    ['a password without a service user name', { ...password, ServiceUserName: undefined }, '0', undefined,
      `{"username":"","password":"${password.ServicePassword}","serviceSpecificCredentialId":"${ID}",`
      + '"serviceName":"codecommit.amazonaws.com","iamUserName":"alice","resetSerial":"0",'
      + `"resourceId":"${ID}"}`],
  ])('GIVEN %s WHEN its document is made THEN it is exactly the documented keys, in order', (_, credential, serial, resourceId, document) => {
    expect(secretDocument(credential, serial, resourceId)).toBe(document);
  });

  test('GIVEN an answer without a secret value WHEN its document is made THEN it fails, naming the credential', () => {
    // GIVEN
    const metadata = { ...password, ServicePassword: undefined };

    // WHEN / THEN
    expect(() => secretDocument(metadata, '0')).toThrow(new Error(`IAM returned no secret value for credential ${ID}`));
  });
});

describe('attributesOf', () => {
  test.each<[string, ServiceSpecificCredential, object]>([
    ['a password', password,
      { ServiceSpecificCredentialId: ID, ServiceUserName: 'alice-at-123456789012', ServiceCredentialAlias: '', ExpirationDate: '', SecretArn: SECRET_ARN }],
    ['an API key that expires', apiKey,
      { ServiceSpecificCredentialId: ID, ServiceUserName: '', ServiceCredentialAlias: 'alice+1-at-123456789012', ExpirationDate: '2026-12-22T10:00:00.000Z', SecretArn: SECRET_ARN }],
    ['an API key that never expires', { ...apiKey, ExpirationDate: undefined },
      { ServiceSpecificCredentialId: ID, ServiceUserName: '', ServiceCredentialAlias: 'alice+1-at-123456789012', ExpirationDate: '', SecretArn: SECRET_ARN }],
  ])('GIVEN %s WHEN its attributes are made THEN they are ids and public names only', (_, credential, attributes) => {
    const made = attributesOf(credential, SECRET_ARN);

    expect(made).toEqual(attributes);
    expect(JSON.stringify(made)).not.toContain(secretOf(credential));
  });
});

describe('readCredential', () => {
  test.each<[string, string | undefined]>([
    ['no document', undefined],
    ['an empty document', ''],
    ['the secret\'s generated first value', 'k8#Qz!v2R@x9Lm$wT4pYb7Nc'],
    ['JSON null', 'null'],
    ['a JSON string', '"serviceSpecificCredentialId"'],
    ['a JSON number', '42'],
    ['a JSON array', `["${ID}"]`],
    ['an empty object', '{}'],
    ['a document without a credential id', '{"username":"alice-at-123456789012","password":"pw"}'],
    ['an empty credential id', '{"serviceSpecificCredentialId":""}'],
    ['JSON cut short', `{"serviceSpecificCredentialId":"${ID}"`],
  ])('GIVEN %s WHEN read THEN it describes no credential', (_, document) => {
    expect(readCredential(document)).toBeUndefined();
  });

  test.each<[string, ServiceSpecificCredential, string | undefined]>([
    ['a password', password, undefined],
    ['an API key', apiKey, undefined],
    ['a credential of another resource', password, 'ACCARESOURCE000000001'],
  ])('GIVEN the document of %s WHEN read THEN it gives back the credential without its secret', (_, credential, resourceId) => {
    // GIVEN
    const document = secretDocument(credential, '2', resourceId);

    // WHEN
    const read = readCredential(document);

    // THEN
    expect(read).toEqual({
      ResetSerial: '2',
      ResourceId: resourceId ?? ID,
      ServiceSpecificCredentialId: ID,
      ServiceName: credential.ServiceName,
      UserName: 'alice',
      ServiceUserName: credential.ServiceUserName,
      ServiceCredentialAlias: credential.ServiceCredentialAlias,
      ExpirationDate: credential.ExpirationDate,
    });
    expect(JSON.stringify(read)).not.toContain(secretOf(credential));
    expect(credentialFromDocument(document)).toEqual(read);
  });

  test('GIVEN a document the previous handler wrote, without resourceId WHEN its resource is asked THEN it is its own credential', () => {
    // GIVEN
    const document = JSON.stringify({ username: 'alice-at-123456789012', password: 'pw', serviceSpecificCredentialId: ID, serviceName: 'codecommit.amazonaws.com', iamUserName: 'alice', resetSerial: '0' });

    // WHEN
    const read = readCredential(document)!;

    // THEN
    expect(read.ResourceId).toBeUndefined();
    expect(resourceOf(read)).toBe(ID);
  });

  test('GIVEN a credential of another resource WHEN its resource is asked THEN it is that resource', () => {
    expect(resourceOf({ ...password, ServicePassword: undefined, ResourceId: 'ACCARESOURCE000000001' })).toBe('ACCARESOURCE000000001');
  });
});

describe('daysValid', () => {
  const day = 86_400_000;
  test.each<[string, Date | undefined, Date | undefined, number | undefined]>([
    ['30 days', CREATED, EXPIRES, 30],
    ['1 day', CREATED, new Date(CREATED.getTime() + day), 1],
    ['the longest IAM allows (36,600 days)', CREATED, new Date(CREATED.getTime() + 36_600 * day), 36_600],
    ['30 days less a second (IAM\'s clock readings)', CREATED, new Date(CREATED.getTime() + 30 * day - 1_000), 30],
    ['30 days and a second', CREATED, new Date(CREATED.getTime() + 30 * day + 1_000), 30],
    ['no expiry: it never expires', CREATED, undefined, undefined],
    ['no creation date (a stored document): unknown', undefined, EXPIRES, undefined],
  ])('GIVEN a credential valid for %s WHEN its days are counted THEN they are %s', (_, created, expires, days) => {
    expect(daysValid({ CreateDate: created, ExpirationDate: expires })).toBe(days);
  });
});
