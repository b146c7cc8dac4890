import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile, type Config } from '../../functions/shared/config';

export const ROOT = join(__dirname, '..', '..');

/** A fresh copy of a sample from events/, e.g. `backup/backup-job-state-change.failed`. */
export function sample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'events', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** A fresh copy of the example configuration. */
export function exampleConfig(): Config {
  return readConfigFile(join(ROOT, 'infra', 'config', 'example.yml'));
}
