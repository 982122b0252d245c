/* eslint-disable no-console */
import { exampleStack, ExampleSettings } from './app';
import { CredentialStatus } from '../src';
import { CloudFormation, Deployment, synthesize } from '../test/lifecycle/cloudformation';
import { currentDocument, leaks, masked } from '../test/lifecycle/world';
import { startLocalAws } from '../test/local-aws';

/**
 * The demo: deploys examples/app.ts to a local IAM + Secrets Manager and walks its Git credential through
 * create, reset, deactivate and delete, printing what CloudFormation sends, what the handler calls, what it
 * answers and what the secret holds. Exits non-zero when any step does not behave as documented.
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
  } finally {
    await cfn.close();
    await localAws.close();
  }
  console.log(failures === 0 ? '\nEvery step behaved as documented.' : `\n${failures} check(s) failed.`);
  return failures === 0 ? 0 : 1;
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
