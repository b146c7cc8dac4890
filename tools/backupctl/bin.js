#!/usr/bin/env node
'use strict';
// Entry point of `npx backupctl`: runs the TypeScript CLI through tsx, no build step.
// The SDK's notice about Node 20 support says nothing an operator can act on here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
