/* eslint-disable no-console */
import { Duration } from 'aws-cdk-lib';
import { apiKeyStack, exampleStack, ExampleSettings } from './app';
import { CredentialStatus, RotationStrategy } from '../src';
import { CloudFormation, Deployment, synthesize } from '../test/lifecycle/cloudformation';
import { currentDocument, leaks, masked } from '../test/lifecycle/world';
import { LocalAws, startLocalAws } from '../test/local-aws';

/**
 * The demo: deploys examples/app.ts to a local IAM + Secrets Manager and walks its Git credential through
 * create, reset, deactivate and delete, then an ALTERNATING rotation through two rotations, then a Bedrock API key
 * with an expiry and a rotation, printing what CloudFormation sends, what the handler calls, what it answers and what
 * the secret holds. Exits non-zero when any step does not behave as documented.
 */
async function main(): Promise<number> {
  const localAws = await startLocalAws();
  const cfn = await CloudFormation.start(localAws);
  const issued = new Set<string>();
  let failures = 0;
  const check = (ok: boolean, what: string) => {
    console.log(`    ${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failures++;
  };

  try {
    const steps: Array<[string, ExampleSettings]> = [
      ['1. cdk deploy: create the credential', {}],
      ['2. resetSerial 0 -> 1: a new password for the same credential', { resetSerial: 1 }],
      ['3. status ACTIVE -> INACTIVE: deactivate it in place', { resetSerial: 1, status: CredentialStatus.INACTIVE }],
    ];
    let previousId: string | undefined;
    let previousPassword: string | undefined;
    let previousSerial = 0;
    let last;
    for (const [title, settings] of steps) {
      console.log(`\n${title}`);
      last = synthesize((app) => exampleStack(app, settings));
      const deployment = await cfn.deploy(last);
      print(deployment);
      const credential = cfn.resourceOfType('Custom::ServiceSpecificCredential')!;
      const [stored] = localAws.credentials({ userName: 'ci-bot' });
      check(deployment.status === 'COMPLETE', 'the stack update completed');
      check(stored?.ServiceSpecificCredentialId === credential.physicalId, `IAM has credential ${credential.physicalId}`);
      check(localAws.credentials({ userName: 'ci-bot' }).length === 1, 'the user has exactly one credential');
      check(previousId === undefined || previousId === credential.physicalId, 'the credential id did not change');
      check(stored?.Status === (settings.status ?? 'Active'), `its status is ${stored?.Status}`);
      const secret = currentDocument(localAws, credential.attributes.SecretArn);
      console.log(`    the secret holds: ${JSON.stringify(masked(secret))}`);
      check(secret.password === stored?.ServicePassword, "the secret's password is the one IAM issued last");
      if (previousPassword) {
        const reset = (settings.resetSerial ?? 0) !== previousSerial;
        check(reset === (secret.password !== previousPassword), reset ? 'the password changed' : 'the password did not change');
      }
      previousPassword = secret.password;
      previousSerial = settings.resetSerial ?? 0;
      check(leaks(localAws, issued, deployment, last).length === 0, 'no secret value in the template, a log line or an answer to CloudFormation');
      previousId = credential.physicalId;
    }

    console.log('\n4. cdk destroy: delete the credential');
    const deletion = await cfn.destroy(last!);
    print(deletion);
    check(localAws.credentials({ userName: 'ci-bot' }).length === 0, 'IAM has no credential left for ci-bot');

    await rotationDemo(localAws, cfn, check);
    await apiKeyDemo(localAws, cfn, check);
  } finally {
    await cfn.close();
    await localAws.close();
  }
  console.log(failures === 0 ? '\nEvery step behaved as documented.' : `\n${failures} check(s) failed.`);
  return failures === 0 ? 0 : 1;
}

/**
 * An ALTERNATING rotation, as Secrets Manager runs it on its schedule: two rotations, each leaving the previous
 * value working, then the stack deleted with both credentials of the pair.
 */
async function rotationDemo(localAws: LocalAws, cfn: CloudFormation, check: (ok: boolean, what: string) => void): Promise<void> {
  const settings: ExampleSettings = { rotation: { automaticallyAfter: Duration.days(30), strategy: RotationStrategy.ALTERNATING } };
  console.log('\n5. cdk deploy with rotation: { automaticallyAfter: Duration.days(30) } (ALTERNATING)');
  const synth = synthesize((app) => exampleStack(app, settings));
  const deployment = await cfn.deploy(synth);
  print(deployment);
  check(deployment.status === 'COMPLETE', 'the stack with a rotation schedule was created');
  const secretArn = cfn.resourceOfType('Custom::ServiceSpecificCredential')!.attributes.SecretArn;
  const issued = new Set<string>();
  // Whether IAM accepts a stored value: its credential exists, is active, and holds this secret.
  const accepted = (doc: Record<string, string>) => localAws.credentials({ userName: 'ci-bot' })
    .some((c) => c.ServiceSpecificCredentialId === doc.serviceSpecificCredentialId && c.Status === 'Active' && c.ServicePassword === doc.password);
  let previous = currentDocument(localAws, secretArn);
  console.log(EXPECTED_NOT_FOUND);
  for (const n of [1, 2]) {
    console.log(`\n${5 + n}. Secrets Manager rotates the secret (rotation ${n})`);
    const rotation = await cfn.rotate(synth, secretArn);
    for (const invocation of rotation.invocations) {
      console.log(`  Secrets Manager -> ${invocation.event.Step}: ${invocation.calls.join(', ')}`);
    }
    const now = currentDocument(localAws, secretArn);
    console.log(`    the secret holds: ${JSON.stringify(masked(now))}`);
    check(rotation.failedStep === undefined, 'all four steps succeeded');
    check(now.serviceSpecificCredentialId !== previous.serviceSpecificCredentialId, `AWSCURRENT is a new credential, ${now.serviceSpecificCredentialId}`);
    check(accepted(now), 'IAM accepts the current value');
    check(accepted(previous), `IAM still accepts the previous value (${previous.serviceSpecificCredentialId}): apps that read it before the rotation keep working`);
    check(localAws.credentials({ userName: 'ci-bot' }).length === 2, 'the user has 2 credentials, IAM\'s limit, both recorded by the secret');
    check(leaks(localAws, issued, { status: 'COMPLETE', invocations: rotation.invocations as any }).length === 0, 'no secret value in a log line');
    previous = now;
  }
  console.log('\n8. cdk destroy');
  const deletion = await cfn.destroy(synth);
  print(deletion);
  check(localAws.credentials({ userName: 'ci-bot' }).length === 0, 'both credentials of the pair are deleted');
}

const EXPECTED_NOT_FOUND = '\n  (In each createSecret below, GetSecretValue -> ResourceNotFoundException is expected: the step first asks whether\n'
  + '  this rotation\'s version exists already, as it would for a retried step; on a first attempt it does not.)';

/**
 * A Bedrock API key that expires after 90 days and rotates every 30: the secret holds the key (masked here), its
 * public alias and its expiry; a rotation issues a new key with a new expiry, and the previous key keeps working.
 */
async function apiKeyDemo(localAws: LocalAws, cfn: CloudFormation, check: (ok: boolean, what: string) => void): Promise<void> {
  console.log('\n9. cdk deploy: a Bedrock API key, expiresAfter: Duration.days(90), rotation every 30 days');
  const synth = synthesize((app) => apiKeyStack(app));
  const deployment = await cfn.deploy(synth);
  print(deployment);
  check(deployment.status === 'COMPLETE', 'the stack with an API key was created');
  const credential = cfn.resourceOfType('Custom::ServiceSpecificCredential')!;
  const first = currentDocument(localAws, credential.attributes.SecretArn);
  console.log(`    the secret holds: ${JSON.stringify(masked(first))}`);
  const days = (iso: string) => Math.round((Date.parse(iso) - Date.now()) / 86_400_000);
  check(first.apiKey !== undefined && first.password === undefined, 'the secret holds an API key (apiKey), not a password');
  check(first.serviceCredentialAlias === credential.attributes.ServiceCredentialAlias, `its public alias is an attribute: ${first.serviceCredentialAlias}`);
  check(days(credential.attributes.ExpirationDate) === 90, `it expires in 90 days, at ${credential.attributes.ExpirationDate}`);
  const issued = new Set<string>();
  check(leaks(localAws, issued, deployment, synth).length === 0, 'no secret value in the template, a log line or an answer to CloudFormation');

  console.log('\n10. Secrets Manager rotates the API key');
  const rotation = await cfn.rotate(synth, credential.attributes.SecretArn);
  for (const invocation of rotation.invocations) {
    console.log(`  Secrets Manager -> ${invocation.event.Step}: ${invocation.calls.join(', ')}`);
  }
  const now = currentDocument(localAws, credential.attributes.SecretArn);
  console.log(`    the secret holds: ${JSON.stringify(masked(now))}`);
  check(rotation.failedStep === undefined, 'all four steps succeeded');
  check(now.serviceSpecificCredentialId !== first.serviceSpecificCredentialId && now.apiKey !== first.apiKey, 'AWSCURRENT is a new key');
  const active = (doc: Record<string, string>) => localAws.credentials({ userName: 'model-bot' })
    .some((c) => c.ServiceSpecificCredentialId === doc.serviceSpecificCredentialId && c.Status === 'Active' && c.ServiceCredentialSecret === doc.apiKey);
  check(active(now) && active(first), 'IAM accepts the new key, and still the previous one');
  check(days(now.expirationDate) === 90, `the new key expires 90 days from its issue, at ${now.expirationDate}`);
  check(leaks(localAws, issued, { status: 'COMPLETE', invocations: rotation.invocations as any }).length === 0, 'no secret value in a log line');

  console.log('\n11. cdk destroy');
  print(await cfn.destroy(synth));
  check(localAws.credentials({ userName: 'model-bot' }).length === 0, 'both keys of the pair are deleted');
}

function print(deployment: Deployment): void {
  for (const invocation of deployment.invocations) {
    const { event, response } = invocation;
    console.log(`  CloudFormation -> ${event.RequestType} ${event.LogicalResourceId}`
      + ('PhysicalResourceId' in event ? ` (physical id ${event.PhysicalResourceId})` : ''));
    console.log(`    handler called: ${invocation.calls.join(', ') || 'nothing'}`);
    console.log(`    answered in ${invocation.durationMs} ms: ${response?.Status ?? 'NOTHING'} ${response?.PhysicalResourceId ?? ''}`);
    if (response?.Status === 'FAILED') console.log(`    reason: ${response.Reason}`);
    if (response && 'Data' in response && response.Data) console.log(`    attributes: ${JSON.stringify(response.Data)}`);
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});
