// Checks what `npm install cdk-service-specific-credential` would get: the tarball package:js built.
// Every file must be one users need; the handler bundle must be in it; no handler source, test or stale output.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = 'dist/js';
const tarball = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'));
if (!tarball) throw new Error(`no tarball in ${dir}`);
const files = execFileSync('tar', ['tzf', path.join(dir, tarball)], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));

const allowed = [/^\.jsii$/, /^LICENSE$/, /^README\.md$/, /^API\.md$/, /^package\.json$/, /^lib\/[\w-]+\.(js|d\.ts)$/, /^assets\/lambda\/handler\/index\.js$/];
const problems = [];
for (const f of files) {
  if (!allowed.some((re) => re.test(f))) problems.push(`unexpected file in the package: ${f}`);
  const compiled = /^lib\/([\w-]+)\.(js|d\.ts)$/.exec(f);
  if (compiled && !fs.existsSync(path.join('src', `${compiled[1]}.ts`))) problems.push(`stale compiled file with no source: ${f}`);
}
for (const required of ['.jsii', 'lib/index.js', 'lib/index.d.ts', 'assets/lambda/handler/index.js', 'README.md', 'API.md']) {
  if (!files.includes(required)) problems.push(`missing from the package: ${required}`);
}

// What Construct Hub needs to list the package (jsii's .jsii above, the awscdk keyword, a permissive license) and shows
// (its stability, the repository it links to), and the Node.js it states.
const pkg = JSON.parse(execFileSync('tar', ['xzOf', path.join(dir, tarball), 'package/package.json'], { encoding: 'utf8' }));
for (const keyword of ['cdk', 'awscdk']) if (!pkg.keywords?.includes(keyword)) problems.push(`package.json: no keyword ${keyword}`);
if (pkg.license !== 'Apache-2.0') problems.push(`package.json: license ${pkg.license}`);
if (!['experimental', 'stable'].includes(pkg.stability)) problems.push(`package.json: stability ${pkg.stability}`);
if (!pkg.repository?.url) problems.push('package.json: no repository url');
if (!pkg.engines?.node) problems.push('package.json: no engines.node');

const size = (f) => fs.statSync(f).size;
console.log(`${tarball}: ${files.length} files, ${(size(path.join(dir, tarball)) / 1024).toFixed(1)} KiB`);
for (const f of fs.readdirSync('dist/python').filter((x) => x.endsWith('.whl'))) console.log(`${f}: ${(size(path.join('dist/python', f)) / 1024).toFixed(1)} KiB`);
const jar = 'dist/java/io/github/cdk-service-specific-credential/cdk-service-specific-credential/0.0.0/cdk-service-specific-credential-0.0.0.jar';
if (fs.existsSync(jar)) console.log(`${path.basename(jar)}: ${(size(jar) / 1024).toFixed(1)} KiB`);
for (const p of problems) console.error(p);
process.exit(problems.length ? 1 : 0);
