// Prints the closing line CI reads, "N passed, N failed", from the JUnit XML reports of jest, pytest and Maven, and
// the `go test -json` report of the Go smoke test.
// A step that failed outside a test runner (install, compile, lint, packaging) counts as one failure, so it can
// never read as green; neither can a run in which no test ran.
const fs = require('node:fs');
const [failedSteps, ...reports] = process.argv.slice(2);
let passed = 0;
let failed = Number(failedSteps) || 0;
let skipped = 0;
for (const report of reports.filter((r) => fs.existsSync(r))) {
  if (report.endsWith('.json')) {
    // One JSON event per line; a test's last event says whether it passed, failed or was skipped.
    for (const line of fs.readFileSync(report, 'utf8').split('\n')) {
      const event = line.startsWith('{') ? JSON.parse(line) : {};
      if (!event.Test) continue;
      if (event.Action === 'pass') passed++;
      else if (event.Action === 'fail') failed++;
      else if (event.Action === 'skip') skipped++;
    }
    continue;
  }
  const xml = fs.readFileSync(report, 'utf8');
  for (const [, body] of xml.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    if (/<(failure|error)\b/.test(body ?? '')) failed++;
    else if (/<skipped\b/.test(body ?? '')) skipped++;
    else passed++;
  }
}
if (passed + failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
