import type { Deployment, Synthesized } from './cloudformation';
import type { LocalAws } from '../local-aws';

// What the tests and the demo read off the local AWS after each step.

/** The JSON document the secret's AWSCURRENT version holds. */
export function currentDocument(localAws: LocalAws, secretArn: string): Record<string, string> {
  const secret = localAws.secret(secretArn);
  const current = secret?.versions.find((v) => v.stages.includes('AWSCURRENT'));
  if (!current?.secretString) throw new Error(`secret ${secretArn} has no current value`);
  return JSON.parse(current.secretString);
}

/** The document with its secret values shown only by their length. */
export function masked(doc: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, k === 'password' || k === 'apiKey' ? `<${v.length} characters, masked>` : v]));
}

/**
 * Every secret value IAM ever issued that shows up in the handler's output, an answer to CloudFormation or the
 * template. `issued` accumulates across steps, so a password from before a reset counts too.
 */
export function leaks(localAws: LocalAws, issued: Set<string>, deployment: Deployment, synth?: Synthesized): string[] {
  for (const c of localAws.credentials()) {
    const secret = c.ServicePassword ?? c.ServiceCredentialSecret;
    if (secret) issued.add(secret);
  }
  const visible = [
    ...deployment.invocations.map((i) => `${i.output}\n${i.responseBody ?? ''}`),
    synth ? JSON.stringify(synth.template) : '',
  ].join('\n');
  return [...issued].filter((s) => visible.includes(s));
}
