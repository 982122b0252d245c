import { JsonFile, awscdk, javascript } from 'projen';

/**
 * The Node.js the project is developed, tested and released on, stated once: package.json's `engines`, the GitHub
 * workflows, and the `node` dev dependency (Node.js itself, from the npm registry) that `npm run` and `npx` put
 * first on the PATH, so the project's commands run on it whatever Node.js installed npm. `.ci/run` installs the same.
 */
const NODE_MAJOR = 22;

/** The first release's version: the API is experimental, so 0.x, where a breaking change bumps the minor. */
const FIRST_VERSION = '0.1.0';

/** LocalStack and the versions of its dependencies that work with it here. */
const LOCALSTACK_PACKAGES = ["'localstack-core[runtime]==2026.3.0'", "'cbor2<6'", "'pyopenssl<25'", "'cryptography<45'", 'service_identity'];

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-service-specific-credential',
  description:
    'AWS CDK construct for IAM service-specific credentials (CodeCommit Git passwords, Amazon Keyspaces logins, Bedrock and CloudWatch API keys) whose secret goes straight into AWS Secrets Manager and never appears in a template, a response or a log.',
  author: 'cdk-service-specific-credential contributors',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/cdk-service-specific-credential/cdk-service-specific-credential.git',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'iam', 'service-specific-credential', 'codecommit', 'keyspaces', 'cassandra', 'bedrock', 'api-key', 'secrets-manager'],
  license: 'Apache-2.0',
  stability: 'experimental',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  minNodeVersion: `${NODE_MAJOR}.0.0`,
  workflowNodeVersion: `${NODE_MAJOR}.x`,
  projenrcTs: true,
  // determineLatestNodeRuntime and the nodejs22.x runtime need this aws-cdk-lib at least.
  cdkVersion: '2.245.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',

  // The handler bundles its own SDK clients (tested = deployed), so they are build-time dependencies only.
  devDeps: [
    '@aws-sdk/client-iam@^3.1163.0',
    '@aws-sdk/client-secrets-manager@^3.1163.0',
    '@types/aws-lambda',
    '@aws-cdk/integ-runner@^2.197.10',
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    'aws-sdk-client-mock@^4.1.0',
    'aws-sdk-client-mock-jest@^4.1.0',
    'cdk-nag@^2.38.2',
    'esbuild@^0.28.2',
    // Random sequences of stack events and rotation steps, replayable by seed and shrunk to a minimal failing one.
    'fast-check@^4.11.0',
    `node@^${NODE_MAJOR}`,
  ],

  // Versions come from conventional commits since the last tag; with no tag yet, the first one is FIRST_VERSION
  // (projen would otherwise release 0.0.0). Node, not `test`: projen's own shell knows only test's file checks.
  nextVersionCommand: `node -e "process.env.LATEST_TAG || console.log('${FIRST_VERSION}')"`,

  // Construct Hub publishes every jsii language; these names are the ones README.md and docs/development.md give.
  publishToPypi: { distName: 'cdk-service-specific-credential', module: 'cdk_service_specific_credential' },
  publishToMaven: {
    javaPackage: 'io.github.cdkservicespecificcredential',
    mavenGroupId: 'io.github.cdk-service-specific-credential',
    mavenArtifactId: 'cdk-service-specific-credential',
  },
  publishToGo: { moduleName: 'github.com/cdk-service-specific-credential/cdk-service-specific-credential-go' },
  publishToNuget: { dotNetNamespace: 'CdkServiceSpecificCredential', packageId: 'CdkServiceSpecificCredential' },

  jestOptions: {
    // A snapshot that changes must fail the run, never be rewritten by it.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
    },
  },
  // The handler's SDK clients are bundled into the asset, so for lint they are build-time dependencies.
  eslintOptions: { dirs: ['src'], devdirs: ['test', 'lambda', 'examples'] },
  gitignore: ['/assets/', 'cdk.out', 'cdk.out.lint', '.jsii.tabl.json', '/test-reports/', '__pycache__', '.pytest_cache', '/.venv/', '/.localstack', '/.tools/'],
});

// The handler is bundled with esbuild into assets/lambda/handler/index.js; the construct points its Lambda at that folder.
const bundle = project.bundler.addBundle('./lambda/handler.ts', {
  platform: 'node',
  target: 'node22',
  minify: true,
  sourcemap: false,
});
// The handler and the examples are type-checked and linted like the rest; they are not part of the jsii compilation.
for (const dir of ['lambda', 'examples']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { rootDir: '..', noEmit: true },
      include: ['**/*.ts'],
    },
  });
}

// `projen test` runs on sources; the construct tests synthesize the real asset, so bundle first.
// The integ test's committed snapshot is checked offline (no AWS account needed); with an account,
// `npx integ-runner --language typescript --update-on-failed` deploys it for real.
project.testTask.exec('integ-runner --language typescript');
// The handler decides nothing by an error's wording: the lifecycle tests run again with a local IAM that words its
// NoSuchEntity answers differently from today's AWS (another partition, a future IAM).
project.testTask.exec('jest --ci --coverage=false test/lifecycle/lifecycle.test.ts test/lifecycle/rotation.test.ts test/lifecycle/interleavings.test.ts', {
  env: { LOCAL_AWS_WORDINGS: 'reworded', JEST_JUNIT_OUTPUT_NAME: 'junit-reworded.xml', JEST_JUNIT_SUITE_NAME: '{title} (reworded IAM wordings)' },
});

// ts-jest only transpiles (isolatedModules), so type errors in tests and handler are caught here.
project.testTask.prependExec('tsc --noEmit -p test/tsconfig.json');
project.testTask.prependSpawn(bundle.bundleTask);

// The project's main job: deploy the example app to a local IAM + Secrets Manager and walk its credential
// through create, reset, deactivate and delete.
const demo = project.addTask('demo', {
  description: 'Deploy examples/app.ts to a local IAM + Secrets Manager and walk its credential through its lifecycle',
});
demo.spawn(bundle.bundleTask);
demo.exec('ts-node --transpile-only --project test/tsconfig.json examples/demo.ts', { env: { NODE_NO_WARNINGS: '1' } });

// Speed and size, each beside its baseline, measured in one run (docs/benchmarks.md holds the last results).
const bench = project.addTask('bench', {
  description: 'Measure synth time, template and policy size, asset size, cold start and API calls per event',
});
bench.spawn(bundle.bundleTask);
bench.exec('ts-node --transpile-only --project test/tsconfig.json test/bench/bench.ts', { env: { NODE_NO_WARNINGS: '1' }, receiveArgs: true });

// The stack path and the rotation path in random interleavings, for as long as asked (CI runs a fixed budget in
// test/lifecycle/interleavings.test.ts).
const soak = project.addTask('soak', {
  description: 'Random interleavings of stack events and rotation steps through the bundled handler: npx projen soak -- [minutes] [first seed]',
});
soak.spawn(bundle.bundleTask);
soak.exec('ts-node --transpile-only --project test/tsconfig.json test/lifecycle/soak.ts', { env: { NODE_NO_WARNINGS: '1' }, receiveArgs: true });

// LocalStack, an emulator written by others, checks the local AWS's answers (test/local-aws/localstack.test.ts). It
// needs Python 3.13; the test runs wherever this virtualenv exists (CI makes it) and is skipped elsewhere.
project.addTask('localstack:install', {
  description: 'Install LocalStack (IAM + Secrets Manager emulator) into .localstack, for the comparison test',
  steps: [
    // pyenv keeps 3.13 out of the global shims on these machines; without pyenv, python3.13 must be on the PATH.
    { exec: 'PYENV_VERSION="$(pyenv versions --bare 2>/dev/null | grep -m1 \'^3\\.13\')" python3.13 -m venv .localstack' },
    { exec: `.localstack/bin/pip install -q --disable-pip-version-check ${LOCALSTACK_PACKAGES.join(' ')}` },
  ],
});

// jsii never removes what it compiled before, so a renamed source would ship its stale output.
project.preCompileTask.prependExec('rm -rf lib');

// cfn-lint on a template of every shape the construct takes. W3005 (a DependsOn that a GetAtt already implies) is
// aws-cdk-lib's own: every lambda.Function depends on its role explicitly.
project.addTask('lint:cfn', {
  description: 'Synthesize a template of every construct shape and lint it with cfn-lint',
  steps: [
    { exec: 'ts-node --transpile-only --project test/tsconfig.json test/cfn-lint/templates.ts cdk.out.lint' },
    { exec: 'cfn-lint --ignore-checks W3005 -- cdk.out.lint/*.template.json' },
  ],
});

// Every TypeScript example in README.md must compile, in strict mode, so that it translates to every jsii language.
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile the README examples with jsii-rosetta (strict)',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosetta);

// Go: the module source as Go users get it, in dist/go; test/go builds and uses it (a consumer may require a newer
// aws-cdk-go than the library's minimum, which the Go module proxy here does not serve). .NET has no SDK here: its
// code is generated, so that a jsii error in it still fails the build.
const packageAll = project.tasks.tryFind('package-all')!;
packageAll.reset();
for (const target of ['js', 'python', 'java']) packageAll.spawn(project.tasks.tryFind(`package:${target}`)!);
packageAll.exec('jsii-pacmak --code-only --target go --outdir dist');
// Every package carries the handler bundle: a package step bundles first, so `compile` then `package:js` on a fresh
// clone cannot ship a construct whose asset is missing ("Cannot find asset" at the consumer's synth).
for (const target of ['js', 'python', 'java', 'go', 'dotnet']) project.tasks.tryFind(`package:${target}`)!.prependSpawn(bundle.bundleTask);
packageAll.prependSpawn(bundle.bundleTask);
packageAll.exec('jsii-pacmak --code-only --target dotnet --outdir dist/code-only');

// The lockfile must install on a fresh machine: the registry here has unrs-resolver 1.13.0 without its
// platform packages, so pin the last release that has them.
for (const pattern of ['/lambda/', '/examples/', '/rosetta/', '/test/', 'cdk.out', '.jsii.tabl.json', '/.ci/', '/docs/', '/.localstack', '/.tools/']) {
  project.addPackageIgnore(pattern);
}

project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });
// PyPI lists a CDK library under its framework classifiers, as it does aws-cdk-lib.
project.package.file.addOverride('jsii.targets.python.classifiers', ['Framework :: AWS CDK', 'Framework :: AWS CDK :: 2']);
// npm runs a dependency's install scripts only if allowScripts approves them (today it warns; it is to block them):
// the `node` package downloads Node.js in its preinstall.
project.package.addField('allowScripts', { node: true });

// Maven's output of the Java smoke test (added last: projen re-includes /test/ for its own files).
project.gitignore.addPatterns('/test/java/target/');
// integ-runner's snapshot carries a file named cdk.out (its schema version), which the cdk.out pattern would hide.
project.gitignore.addPatterns('!/test/*.snapshot/cdk.out');

project.synth();
