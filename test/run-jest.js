#!/usr/bin/env node
'use strict';
// Runs the jest projects (unit in parallel, integration in band against one moto), then prints
// the total as one plain "N passed, N failed" line, the form CI reads. Fails if either run did.
// Arguments are passed to both runs (e.g. a test path filter).
const { spawnSync } = require('node:child_process');

const runs = [
  ['unit', []],
  ['integration', ['--runInBand']],
];
const total = { passed: 0, failed: 0, skipped: 0 };
let status = 0;
for (const [project, extra] of runs) {
  // Jest reports to stderr; with --json alone the results come on stdout, read here (no file,
  // no "Test results written to" line).
  const run = spawnSync(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '--selectProjects',
      project,
      ...extra,
      '--json',
      '--passWithNoTests',
      ...process.argv.slice(2),
    ],
    { stdio: ['inherit', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
  );
  if (run.status !== 0) status = run.status ?? 1;
  try {
    const r = JSON.parse(run.stdout);
    total.passed += r.numPassedTests;
    total.failed += r.numFailedTests;
    total.skipped += r.numPendingTests;
  } catch {
    // jest crashed before writing results; its own output says why
    status = status || 1;
  }
}
process.stdout.write(
  `\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`,
);
process.exit(status);
