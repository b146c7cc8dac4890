import { buildSync } from 'esbuild';
import { join } from 'node:path';

/**
 * What each function's bundle is made of (esbuild, as serverless-esbuild bundles it): no YAML
 * parser, no schema library and no CLI or package-time code. The stage file is read and validated
 * at package time and reaches the functions as JSON, checked there by functions/shared/validate.ts
 * against the JSON Schema the package-time schema writes (functions/shared/config/runtime.ts).
 */

const ROOT = join(__dirname, '..', '..');
const HANDLERS = [
  'notify-backup-event',
  'onboard-account',
  'reconcile',
  'watch-account',
  'send-digest',
];

describe.each(HANDLERS)('the %s bundle', (name) => {
  const inputs = Object.keys(
    buildSync({
      entryPoints: [join(ROOT, 'functions', name, 'handler.ts')],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      logLevel: 'error',
    }).metafile.inputs,
  );

  it('carries no YAML parser', () => {
    expect(inputs.filter((i) => i.includes('node_modules/yaml/'))).toEqual([]);
  });

  it('carries no schema library (zod): the configuration arrives validated', () => {
    expect(inputs.filter((i) => i.includes('node_modules/zod/'))).toEqual([]);
  });

  it('carries no CLI or package-time code', () => {
    expect(
      inputs.filter(
        // tools/ holds the CLI, the sandbox, the YAML reader and the backup-policy toolkit.
        (i) => i.startsWith('tools/') || i === 'functions/shared/config/schema.ts',
      ),
    ).toEqual([]);
  });
});
