import { Annotations, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { CredentialKind, CredentialService, CredentialStatus, constantNameOf, knownServices } from './credential-service';
import { CredentialRotationOptions } from './rotation';
import { scheduleOf } from './rotation-schedule';

// What the construct checks at synth, each value on its own. JavaScript and Python callers have no compiler to stop
// a plain string or a wrong value here, so every check names the bad value; the construct adds its own path.

/** The props these checks read (those of ServiceSpecificCredentialProps). */
export interface CheckedProps {
  readonly user: iam.IUser;
  readonly service: CredentialService;
  readonly status?: CredentialStatus;
  readonly resetSerial?: number;
  readonly expiresAfter?: Duration;
  readonly secretName?: string;
  readonly removalPolicy?: RemovalPolicy;
  readonly rotation?: CredentialRotationOptions;
}

/** What the custom resource and the rotation schedule take, once the props are known to be valid. */
export interface Checked {
  /** `CredentialAgeDays`, as CloudFormation delivers it. */
  readonly credentialAgeDays?: string;
  /** The rotation's schedule expression. */
  readonly schedule?: string;
}

/** Throws an error naming the first bad value. */
export function validateProps(props: CheckedProps): Checked {
  validateService(props.service);
  validateStatus(props.status);
  const credentialAgeDays = credentialAgeDaysOf(props.service, props.expiresAfter);
  const schedule = props.rotation === undefined ? undefined : scheduleOf(props.rotation, props.expiresAfter);
  validateUserName(props.user.userName);
  validateResetSerial(props.resetSerial);
  validateSecretName(props.secretName);
  validateRemovalPolicy(props.removalPolicy, 'removalPolicy');
  return { credentialAgeDays, schedule };
}

/** The credential and its secret go or stay together: any other policy would split them. */
export function validateRemovalPolicy(policy: unknown, what: string): void {
  if (policy !== undefined && policy !== RemovalPolicy.DESTROY && policy !== RemovalPolicy.RETAIN) {
    throw new Error(`${what} must be RemovalPolicy.DESTROY or RemovalPolicy.RETAIN (the credential and its secret go or stay together); got ${JSON.stringify(policy)}`);
  }
}

const MAX_AGE_DAYS = 36_600;

function credentialAgeDaysOf(service: CredentialService, expiresAfter?: Duration): string | undefined {
  if (expiresAfter === undefined) return undefined;
  if (!service.supportsExpiry) {
    throw new Error(`expiresAfter is only supported for API-key services; ${service.serviceName} credentials do not expire`);
  }
  if (expiresAfter.isUnresolved()) return Token.asString(expiresAfter.toDays());
  const hours = expiresAfter.toHours({ integral: false });
  if (hours % 24 !== 0) {
    throw new Error(`expiresAfter must be a whole number of days, got ${expiresAfter.toHumanString()}`);
  }
  const days = hours / 24;
  if (days < 1 || days > MAX_AGE_DAYS) {
    throw new Error(`expiresAfter must be between 1 and ${MAX_AGE_DAYS} days, got ${days} days`);
  }
  return String(days);
}

function validateService(service: unknown): void {
  if (!(service instanceof CredentialService)) {
    throw new Error('service must be a CredentialService, e.g. CredentialService.BEDROCK or CredentialService.of(\'bedrock.amazonaws.com\'); '
      + `got ${JSON.stringify(service)}`);
  }
}

function validateStatus(status: unknown): void {
  const allowed: unknown[] = [CredentialStatus.ACTIVE, CredentialStatus.INACTIVE];
  if (status !== undefined && !allowed.includes(status)) {
    throw new Error(`status must be CredentialStatus.ACTIVE ('Active') or CredentialStatus.INACTIVE ('Inactive'); got ${JSON.stringify(status)}`);
  }
}

function validateUserName(userName: string): void {
  if (!Token.isUnresolved(userName) && !/^[\w+=,.@-]{1,64}$/.test(userName)) {
    throw new Error(`Invalid IAM user name '${userName}': 1 to 64 letters, digits and +=,.@_- only`);
  }
}

function validateResetSerial(serial?: number): void {
  if (serial !== undefined && !Token.isUnresolved(serial) && !(Number.isSafeInteger(serial) && serial >= 0)) {
    throw new Error(`resetSerial must be a whole number of 0 or more, got ${serial}`);
  }
}

/** Secrets Manager's rules for a name. (One name per secret within a stack is the provider's ledger.) */
function validateSecretName(name?: string): void {
  if (name !== undefined && !Token.isUnresolved(name) && !/^[\w/+=.@-]{1,512}$/.test(name)) {
    throw new Error(`Invalid secretName '${name}': 1 to 512 letters, digits and /_+=.@- only`);
  }
}

/** The warning for a key that expires unrenewed, which an expiry alert answers. */
export const EXPIRES_WITHOUT_ROTATION = 'cdk-service-specific-credential:expiresWithoutRotation';

/** What synth can tell but should not refuse: IAM adds services, and a key without expiry is allowed. */
export function warnAboutService(credential: IConstruct, props: CheckedProps): void {
  const { service, expiresAfter, rotation } = props;
  const name = service.serviceName;
  if (!Token.isUnresolved(name) && !knownServices().some((s) => s.serviceName === name)) {
    const nearest = closestService(name);
    const sameKind = nearest.kind === service.kind;
    Annotations.of(credential).addWarningV2('cdk-service-specific-credential:unknownService',
      `'${name}' is none of the services this library knows; the closest is '${nearest.serviceName}' `
      + `(CredentialService.${constantNameOf(nearest)})`
      + (sameKind ? '.' : `, which issues ${kindWords(nearest)}, while '${name}' is treated as ${kindWords(service, true)}.`)
      + ' IAM answers an unsupported service at deploy time; if IAM added this one, ignore this warning.');
    // The kind of a name that most likely misspells a service of another kind is a guess: nothing more is said on it.
    if (!sameKind) return;
  }
  if (service.supportsExpiry && expiresAfter === undefined && rotation === undefined) {
    Annotations.of(credential).addWarningV2('cdk-service-specific-credential:neverExpires',
      `This ${name} API key never expires and is never rotated: security scanners flag long-lived API keys. Set expiresAfter, `
      + 'e.g. Duration.days(90), with rotation: { automaticallyAfter: Duration.days(30) } to renew it.');
  }
  if (expiresAfter !== undefined && rotation === undefined) {
    Annotations.of(credential).addWarningV2(EXPIRES_WITHOUT_ROTATION,
      `This ${name} API key stops working on its expiry (${expiresAfter.toHumanString()} after it is created) and nothing renews it. `
      + 'Add rotation: { automaticallyAfter: Duration.days(N) } with N shorter than expiresAfter: each rotation issues a new key with a new expiry. '
      + 'Or call onExpiring to be told ahead of the expiry.');
  }
}

/** The known service whose name a typo most likely meant. */
function closestService(name: string): CredentialService {
  const known = knownServices();
  const nearest = closest(name, known.map((s) => s.serviceName));
  return known.find((s) => s.serviceName === nearest)!;
}

function kindWords(service: CredentialService, one = false): string {
  if (service.kind === CredentialKind.PASSWORD) return one ? 'a password' : 'passwords';
  return one ? 'an API key' : 'API keys';
}

/** The name a typo most likely meant: the fewest single-character edits away. */
export function closest(name: string, candidates: string[]): string {
  return [...candidates].sort((a, b) => distance(name, a) - distance(name, b))[0];
}

/** Levenshtein distance. */
export function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}
