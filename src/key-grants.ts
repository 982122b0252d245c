import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

// The use of a secret's KMS key through Secrets Manager, which encrypts and decrypts under the identity of whoever
// writes or reads the value. aws-cdk grants a key to a `kms.ViaServicePrincipal` in the key's own policy only: for a
// key of another stack that policy would name a principal of this one (a dependency cycle between the two stacks),
// and an imported key or alias has no policy in the app, so the grant adds nothing anywhere.

/**
 * What Secrets Manager asks KMS for on the caller's behalf: to write a value, a data key (GenerateDataKey), and
 * Decrypt when it compares a repeated PutSecretValue with the version it holds; to read one, Decrypt.
 */
export type KeyUse = 'write' | 'read';
const ACTIONS: Record<KeyUse, string[]> = { write: ['kms:GenerateDataKey', 'kms:Decrypt'], read: ['kms:Decrypt'] };

/**
 * Allows the grantee to use a secret's key through Secrets Manager in `region`. A key of the grantee's own stack is
 * granted in its key policy, as `secretsmanager.Secret` grants it; any other key in the grantee's own policy, which
 * works when the key's policy lets the account's IAM policies allow its use (a key's default policy does).
 */
export function grantSecretKey(grantee: iam.IGrantable, key: kms.IKey, region: string, use: KeyUse): void {
  const owned = keyBehind(key);
  if (owned && inKeyPolicy(owned, grantee.grantPrincipal)) {
    const principal = new kms.ViaServicePrincipal(viaService(region), grantee.grantPrincipal);
    if (use === 'write') owned.grantEncryptDecrypt(principal);
    else owned.grantDecrypt(principal);
    return;
  }
  grantKeyVia(grantee, key, region, ACTIONS[use]);
}

/**
 * Allows the grantee the key's actions through Secrets Manager in `region`, in the grantee's own policy. An alias
 * imported by name is no resource an IAM policy can name: KMS authorizes on the key, so the statement allows any key
 * of the alias's account and region that carries the alias (`kms:ResourceAliases`).
 */
export function grantKeyVia(grantee: iam.IGrantable, key: kms.IKey, region: string, actions: string[]): void {
  const target = keyBehind(key);
  const alias = target ? undefined : (key as kms.IAlias);
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
    actions,
    resources: [target ? target.keyArn : keysOf(alias!)],
    conditions: {
      StringEquals: { 'kms:ViaService': viaService(region) },
      ...(alias && { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alias.aliasName } }),
    },
  }));
}

/**
 * Throws when the key cannot serve a secret in `region`: Secrets Manager uses a key of the secret's own region. A key
 * whose region synth does not know passes.
 * @param what the prop that holds the key, for the message
 */
export function checkKeyRegion(key: kms.IKey, region: string, what: string): void {
  const keyRegion = keyBehind(key)?.env.region;
  if (keyRegion === undefined || Token.isUnresolved(keyRegion) || Token.isUnresolved(region) || keyRegion === region) return;
  throw new Error(`${what} is a key of ${keyRegion}, but its secret is in ${region}: Secrets Manager encrypts with a key of the `
    + 'secret\'s own region');
}

/** Whether the key is an alias imported by name, whose key the app does not know. */
export function isAliasByName(key: kms.IKey): key is kms.IAlias {
  return keyBehind(key) === undefined;
}

/** The key itself; for an alias, the key it stands for, or undefined when the app knows only the alias's name. */
function keyBehind(key: kms.IKey): kms.IKey | undefined {
  if (!('aliasName' in key && 'aliasTargetKey' in key)) return key;
  try {
    return (key as kms.IAlias).aliasTargetKey;
  } catch {
    // kms.Alias.fromAliasName throws on aliasTargetKey.
    return undefined;
  }
}

/**
 * Whether the key's policy can hold the grant: the key is made in the app (it has a policy there), and the principal
 * is not a resource of another stack, which the key's policy cannot name without that stack and the key's depending
 * on each other.
 */
function inKeyPolicy(key: kms.IKey, principal: iam.IPrincipal): boolean {
  const ownsPolicy = kms.CfnKey.isCfnKey(key.node.defaultChild);
  return ownsPolicy && (!Construct.isConstruct(principal) || Stack.of(principal) === Stack.of(key));
}

/** Every key of the alias's account and region: the condition on the alias narrows it. */
function keysOf(alias: kms.IAlias): string {
  return alias.stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
}

function viaService(region: string): string {
  return `secretsmanager.${region}.amazonaws.com`;
}
