#!/usr/bin/env node
'use strict';
// Runs the jest projects (unit in parallel, integration in band against one moto), then prints
// the total as one plain "N passed, N failed" line, the form CI reads. Fails if either run did.
// Arguments are passed to both runs (e.g. a test path filter).
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const dir = mkdtempSync(join(tmpdir(), 'jest-'));
const runs = [
  ['unit', []],
  ['integration', ['--runInBand']],
];
const total = { passed: 0, failed: 0, skipped: 0 };
let status = 0;
for (const [project, extra] of runs) {
  const out = join(dir, `${project}.json`);
  const run = spawnSync(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '--selectProjects',
      project,
      ...extra,
      '--json',
      `--outputFile=${out}`,
      '--passWithNoTests',
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  if (run.status !== 0) status = run.status ?? 1;
  try {
    const r = JSON.parse(readFileSync(out, 'utf8'));
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
