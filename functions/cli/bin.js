#!/usr/bin/env node
'use strict';
// Entry point of `npx backupctl`: runs the TypeScript CLI through tsx, no build step.
require('tsx/cjs');
const { main } = require('./backupctl.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`backupctl: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 2;
  },
);
