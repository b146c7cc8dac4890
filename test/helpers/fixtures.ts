import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../functions/shared/config/schema';
import { readConfigFile } from '../../tools/config-file';

export const ROOT = join(__dirname, '..', '..');

/** A fresh copy of a sample from events/, e.g. `backup/backup-job-state-change.failed`. */
export function sample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'events', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** A fresh copy of the example configuration. */
/**
 * The example configuration without its chat channels: most tests are about one topic and would
 * otherwise also see the channels' own topics and the OU look-ups their filters need.
 */
export function exampleConfig(): Config {
  const config = exampleConfigWithChannels();
  for (const topic of Object.values(config.notifications.topics)) {
    topic.slack = [];
    topic.teams = [];
    topic.subscribers = [];
  }
  return config;
}

/** infra/config/example.yml exactly as written (one Slack and one Teams channel, filtered). */
export function exampleConfigWithChannels(): Config {
  return readConfigFile(join(ROOT, 'infra', 'config', 'example.yml'));
}
