import { Duration } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import type { CredentialProvider } from './provider';
import { CredentialRotationOptions, RotationStrategy } from './rotation';

// Not exported from index.ts: how the construct turns rotation options into a schedule.

const MIN_HOURS = 4;
const MAX_DAYS = 1000;

/** Checks the options; the error names the bad value. Returns the schedule expression Secrets Manager takes. */
export function scheduleOf(rotation: CredentialRotationOptions, expiresAfter?: Duration): string {
  const strategy: unknown = rotation.strategy;
  if (strategy !== undefined && strategy !== RotationStrategy.ALTERNATING && strategy !== RotationStrategy.RESET_IN_PLACE) {
    throw new Error(`rotation.strategy must be RotationStrategy.ALTERNATING or RotationStrategy.RESET_IN_PLACE; got ${JSON.stringify(strategy)}`);
  }
  const after = rotation.automaticallyAfter;
  if (!(after instanceof Duration)) throw new Error(`rotation.automaticallyAfter must be a Duration, e.g. Duration.days(30); got ${JSON.stringify(after)}`);
  if (after.isUnresolved()) throw new Error('rotation.automaticallyAfter must be known at synth time, not a token');
  const hours = after.toHours({ integral: false });
  if (!Number.isInteger(hours) || hours < MIN_HOURS || hours > MAX_DAYS * 24) {
    throw new Error(`rotation.automaticallyAfter must be whole hours from ${MIN_HOURS} hours to ${MAX_DAYS} days, got ${after.toHumanString()}`);
  }
  if (strategy === RotationStrategy.RESET_IN_PLACE && expiresAfter !== undefined) {
    throw new Error('RotationStrategy.RESET_IN_PLACE cannot renew an API key with expiresAfter: a reset keeps the key\'s expiry, and an '
      + 'expired key cannot be reset. Use RotationStrategy.ALTERNATING, which issues a new key with a new expiry at each rotation');
  }
  if (expiresAfter !== undefined && !expiresAfter.isUnresolved() && hours >= expiresAfter.toHours({ integral: false })) {
    throw new Error(`rotation.automaticallyAfter (${after.toHumanString()}) must be shorter than expiresAfter (${expiresAfter.toHumanString()}): `
      + 'otherwise the key expires before the rotation that renews it');
  }
  return hours % 24 === 0 ? `rate(${hours / 24} ${hours === 24 ? 'day' : 'days'})` : `rate(${hours} hours)`;
}

/**
 * The secret's rotation schedule, calling the stack's one handler. It is created after the first value is stored
 * (`after`), and after the handler may be invoked by Secrets Manager.
 */
export function scheduleRotation(
  scope: Construct, secret: secretsmanager.CfnSecret, provider: CredentialProvider, rotation: CredentialRotationOptions,
  scheduleExpression: string, after: IDependable,
): secretsmanager.CfnRotationSchedule {
  const schedule = new secretsmanager.CfnRotationSchedule(scope, 'Rotation', {
    secretId: secret.ref,
    rotationLambdaArn: provider.function.functionArn,
    rotationRules: { scheduleExpression },
    rotateImmediatelyOnUpdate: rotation.rotateImmediatelyOnUpdate ?? false,
  });
  schedule.node.addDependency(after, provider.allowRotation());
  return schedule;
}
