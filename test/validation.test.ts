import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialService, CredentialStatus, ServiceSpecificCredential } from '../src';
import { knownServices } from '../src/credential-service';
import { closest, distance } from '../src/validation';

// The checks of src/validation.ts that are pure, against fixed answers, and how the construct reports them.

test.each([
  ['', '', 0],
  ['bedrock', 'bedrock', 0],
  ['bedrok', 'bedrock', 1],
  ['kitten', 'sitting', 3],
  ['', 'logs', 4],
])('GIVEN %j and %j THEN the Levenshtein distance is %d', (a, b, expected) => {
  expect(distance(a, b)).toBe(expected);
  expect(distance(b, a)).toBe(expected);
});

test('GIVEN a typo of a known service THEN the closest known one is the one it meant', () => {
  const known = knownServices().map((s) => s.serviceName);
  expect(closest('bedrok.amazonaws.com', known)).toBe('bedrock.amazonaws.com');
  expect(closest('cloudwatch.amazonaws.co', known)).toBe('cloudwatch.amazonaws.com');
  expect(closest('log.amazonaws.com', known)).toBe('logs.amazonaws.com');
});

test('GIVEN a bad value WHEN the construct refuses it THEN the error names the construct and keeps the check\'s error as its cause', () => {
  const stack = new Stack(new App(), 'Stack');

  let thrown: Error | undefined;
  try {
    new ServiceSpecificCredential(stack, 'C', { user: new iam.User(stack, 'User'), service: CredentialService.CODECOMMIT, status: 'on' as CredentialStatus });
  } catch (err) {
    thrown = err as Error;
  }

  expect(thrown?.message).toMatch(/^Stack\/C: status must be/);
  expect(thrown?.cause).toBeInstanceOf(Error);
  expect((thrown?.cause as Error).message).toMatch(/^status must be .* got "on"$/);
});

describe('GIVEN a name that is none of the known services', () => {
  const warningsOf = (service: CredentialService) => {
    const stack = new Stack(new App(), 'Stack');
    new ServiceSpecificCredential(stack, 'C', { user: new iam.User(stack, 'User'), service });
    return Annotations.fromStack(stack).findWarning('/Stack/C', Match.anyValue()).map((w) => String(w.entry.data));
  };

  test('WHEN it is a mistyped password service, given no kind THEN one warning names the service it most likely meant, and none says the key never expires', () => {
    const warnings = warningsOf(CredentialService.of('codecommit'));

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/'codecommit' is none of the services this library knows/);
    expect(warnings[0]).toMatch(/closest is 'codecommit.amazonaws.com' \(CredentialService.CODECOMMIT\), which issues passwords/);
    expect(warnings[0]).toMatch(/treated as an API key/);
    expect(warnings[0]).not.toMatch(/never expires/);
  });

  test('WHEN its closest known service issues API keys too THEN it also warns that a key without expiry never expires', () => {
    const warnings = warningsOf(CredentialService.of('bedrok.amazonaws.com'));

    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/'bedrok.amazonaws.com' is none .* closest is 'bedrock.amazonaws.com' \(CredentialService.BEDROCK\)\./);
    expect(warnings[1]).toMatch(/never expires/);
  });
});
