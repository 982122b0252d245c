import { SecretGone, UserError } from './errors';
import { CLOUDFORMATION_STACK_TAG, SECRET_TAG } from '../../src/handler-contract';

// Anyone allowed to invoke the handler can hand it an event, and stack ids are not secret. What binds the handler to
// its own stack is what an outsider cannot forge: CloudFormation's own aws:cloudformation:stack-id tag on the secret.
// A credential is reset, written or deleted only on the word of a secret that carries it.

/** Refuses events from any stack but the handler's own, before any call. */
export function checkEventStack(eventStackId: string, ownStackId: string | undefined): void {
  if (!ownStackId || eventStackId !== ownStackId) {
    throw new UserError(`This handler serves CloudFormation stack ${ownStackId ?? '(none: STACK_ID is not set)'} only; `
      + `it refused an event from ${eventStackId} and touched nothing`);
  }
}

/**
 * Checks, from its tags, that the secret is one of this stack's credential secrets, created by its CloudFormation.
 * @param tags undefined when the secret does not exist or is scheduled for deletion
 */
export function checkSecretOwned(stackId: string, secretArn: string, tags: Record<string, string> | undefined): void {
  if (!tags) throw new SecretGone(`Secret ${secretArn} does not exist or is scheduled for deletion`);
  if (tags[CLOUDFORMATION_STACK_TAG] !== stackId || tags[SECRET_TAG] !== stackId) {
    throw new UserError(`Secret ${secretArn} is not a credential secret of stack ${stackId}: such a secret carries the tags `
      + `${CLOUDFORMATION_STACK_TAG} (set by CloudFormation only) and ${SECRET_TAG}, both with the stack's id. Nothing was changed`);
  }
}

