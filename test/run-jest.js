#!/usr/bin/env node
'use strict';
// Runs every jest project, then prints the summary as one plain "N passed, N failed" line,
// the form CI reads. Exit status is jest's.
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const out = join(mkdtempSync(join(tmpdir(), 'jest-')), 'results.json');
const run = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest'), '--json', `--outputFile=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let summary = 'jest: no results';
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`;
} catch {
  // jest crashed before writing results; its own output says why
}
process.stdout.write(`\n${summary}\n`);
process.exit(run.status ?? 1);
