import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectLocalAws } from '../../tools/sandbox/local-aws';
import { buildWorld, type World } from '../../tools/sandbox/world';
import type { Config } from '../../functions/shared/config/schema';
import { exampleConfig } from '../helpers/fixtures';

export const localAws = () => connectLocalAws(process.env.LOCAL_AWS_ENDPOINT!);

/** An empty moto, then the organization and the notification stack, as the sandbox builds them. */
export async function freshWorld(
  config: Config = exampleConfig(),
  options: { centralAccount?: boolean; delegatedAdmin?: boolean } = {},
): Promise<World> {
  const aws = localAws();
  await aws.reset();
  return buildWorld(aws, config, 'itest', options);
}

/** The world's configuration as a file, for backupctl (BACKUP_CONFIG_FILE). */
export function worldConfigFile(world: World): string {
  const file = join(mkdtempSync(join(tmpdir(), 'world-config-')), 'config.json');
  writeFileSync(file, JSON.stringify(world.config));
  return file;
}
