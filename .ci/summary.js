// Prints the closing line CI reads, from jest-junit's report: "N passed, N failed".
// A step that failed outside jest (install, compile, lint) counts as one failure, so it can never read as green.
const fs = require('node:fs');
const [report, failedSteps] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
if (fs.existsSync(report)) {
  const xml = fs.readFileSync(report, 'utf8');
  for (const [, body] of xml.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    if (/<(failure|error)\b/.test(body ?? '')) failed++;
    else if (/<skipped\b/.test(body ?? '')) skipped++;
    else passed++;
  }
}
const stepFailures = Number(failedSteps) || 0;
if (passed + failed === 0 && stepFailures === 0) failed = 1; // no test ran: that is not a pass
failed += stepFailures;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
