import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './fixtures';

export const TEMPLATE = join(ROOT, '.serverless', 'cloudformation-template-update-stack.json');

export type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, unknown>;
};

/** The files the template is built from: serverless.yml and everything under infra/. */
export function templateInputs(): string[] {
  return [
    join(ROOT, 'serverless.yml'),
    ...readdirSync(join(ROOT, 'infra'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name)),
  ];
}

/** The packaged template is older than one of its inputs (or missing). */
export function templateIsStale(): boolean {
  if (!existsSync(TEMPLATE)) return true;
  const built = statSync(TEMPLATE).mtimeMs;
  return templateInputs().some((f) => statSync(f).mtimeMs > built);
}

/**
 * Runs `osls package` as a user would: a clean environment (no AWS credentials or endpoint, and
 * nothing of jest's, so infra/stage-config.js cannot think it runs under jest), and osls's own
 * output in the error when it fails.
 */
export function packageTemplate(): void {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_OPTIONS']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  const run = spawnSync(
    process.execPath,
    [
      require.resolve('osls/bin/serverless.js'),
      'package',
      '--stage',
      'dev',
      '--region',
      'us-east-1',
    ],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 180_000 },
  );
  if (run.status !== 0) {
    throw new Error(
      `osls package failed (exit ${run.status ?? run.signal}):\n${run.stdout ?? ''}\n${run.stderr ?? ''}`,
    );
  }
}

/** The packaged template; packaged again when serverless.yml or infra/ changed since. */
export function packagedTemplate(): Template {
  if (templateIsStale()) packageTemplate();
  return JSON.parse(readFileSync(TEMPLATE, 'utf8')) as Template;
}
