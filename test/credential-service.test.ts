import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialService, ServiceSpecificCredential } from '../src';
import { knownServices } from '../src/credential-service';

// One list of the services the library knows: the constants of CredentialService themselves, read by of() and by the
// construct's "unknown service" warning alike.

const unknownServiceWarnings = (service: CredentialService) => {
  const stack = new Stack(new App(), 'Stack');
  new ServiceSpecificCredential(stack, 'C', { user: new iam.User(stack, 'User'), service });
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('is none of the services this library knows'));
};

test('GIVEN the constants WHEN listed THEN each is known, once', () => {
  expect(knownServices()).toEqual([
    CredentialService.CODECOMMIT, CredentialService.KEYSPACES, CredentialService.BEDROCK,
    CredentialService.CLOUDWATCH_LOGS, CredentialService.CLOUDWATCH, CredentialService.XRAY,
  ]);
  for (const service of knownServices()) expect(unknownServiceWarnings(service)).toEqual([]);
});

test('GIVEN a constant added to CredentialService WHEN it is used THEN of() returns it and the construct does not warn', () => {
  // A new release's constant, added the way the source would add it: a static of the class.
  const added = CredentialService.of('example.amazonaws.com');
  Object.defineProperty(CredentialService, 'EXAMPLE', { value: added, enumerable: true, configurable: true });
  try {
    expect(CredentialService.of('example.amazonaws.com')).toBe(added);
    expect(unknownServiceWarnings(added)).toEqual([]);
  } finally {
    delete (CredentialService as any).EXAMPLE;
  }
  expect(unknownServiceWarnings(CredentialService.of('example.amazonaws.com'))).toHaveLength(1);
});
