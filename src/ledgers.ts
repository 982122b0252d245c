import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import type { CredentialService } from './credential-service';

/** What CloudFormation would fail on, told at synth: two secrets of one name in a stack. Held by the stack's provider. */
export class SecretNames {
  /** The construct path of the credential that holds each name. */
  private readonly holders = new Map<string, string>();

  public claim(name: string | undefined, path: string): void {
    if (name === undefined || Token.isUnresolved(name)) return;
    const holder = this.holders.get(name);
    if (holder !== undefined) throw new Error(`secretName '${name}' is already the secret of ${holder}`);
    this.holders.set(name, path);
  }
}

const IAM_LIMIT_PER_USER_AND_SERVICE = 2;

/**
 * What IAM would fail on at deploy time, told at synth: more than 2 credentials of one user for one service.
 *
 * One ledger per app, not per stack: two stacks of one app may name the same user, and IAM's limit is the user's. A
 * user is its name in its account: stages in two accounts may each have a user `ci`.
 * The app's root is the one object those stacks share, so the ledger is found from it; kept beside the root rather
 * than as a construct in it, where it would show in every app's tree among the stacks.
 */
export class CredentialSlots {
  public static of(scope: IConstruct): CredentialSlots {
    const root = scope.node.root;
    let ledger = CredentialSlots.byRoot.get(root);
    if (!ledger) CredentialSlots.byRoot.set(root, ledger = new CredentialSlots());
    return ledger;
  }

  private static readonly byRoot = new WeakMap<IConstruct, CredentialSlots>();

  /** For each user and service, the construct path of each credential that takes a slot (twice for a pair). */
  private readonly holders = new Map<string, string[]>();

  private constructor() {}

  /** @param count the credentials the construct holds: 2 for an ALTERNATING rotation */
  public claim(credential: IConstruct, user: iam.IUser, service: CredentialService, count: number): void {
    const name = literalUserName(user);
    const shown = name ?? user.node.path;
    // One name in two accounts is two users (a pipeline's stages). Stacks whose account synth does not know share a ledger.
    const account = Stack.of(credential).account;
    const key = `${Token.isUnresolved(account) ? '' : account}|${name ? `name:${name}` : `path:${user.node.path}`}|${service.serviceName}`;
    const taken = this.holders.get(key) ?? [];
    if (taken.length + count > IAM_LIMIT_PER_USER_AND_SERVICE) {
      const holders = [...new Set(taken)].map((p) => taken.filter((t) => t === p).length === 2 ? `${p} (ALTERNATING rotation: counts as 2)` : p);
      throw new Error(`IAM allows at most ${IAM_LIMIT_PER_USER_AND_SERVICE} credentials per user and service: user '${shown}' `
        + `already has ${holders.join(' and ')} for ${service.serviceName}`
        + (count === 2
          ? `, and this credential rotates with RotationStrategy.ALTERNATING, which counts as ${count} of the ${IAM_LIMIT_PER_USER_AND_SERVICE}: `
            + 'give it a user of its own, or use RotationStrategy.RESET_IN_PLACE'
          : '. Even two leave no room to replace either of them (a new user, service or expiresAfter creates the new credential before deleting the old one)'));
    }
    if (taken.length + count === IAM_LIMIT_PER_USER_AND_SERVICE && count === 1) {
      Annotations.of(credential).addWarningV2('cdk-service-specific-credential:noRoomToReplace',
        `User '${shown}' now has ${IAM_LIMIT_PER_USER_AND_SERVICE} credentials for ${service.serviceName} (${taken[0]} and this one), `
        + 'IAM\'s limit: changing the user, service or expiresAfter of either will fail at deploy time, because a replacement '
        + 'is created before the credential it replaces is deleted. Remove one of them first, in its own deployment.');
    }
    this.holders.set(key, [...taken, ...Array(count).fill(credential.node.path)]);
  }
}

/** The user's name when synth knows it: imported by name, or a User of this app given a userName. */
function literalUserName(user: iam.IUser): string | undefined {
  if (!Token.isUnresolved(user.userName)) return user.userName;
  const cfnUser = user.node.defaultChild;
  return cfnUser instanceof iam.CfnUser && cfnUser.userName !== undefined && !Token.isUnresolved(cfnUser.userName) ? cfnUser.userName : undefined;
}
