import { connectLocalAws } from '../../functions/cli/sandbox/local-aws';
import { buildWorld, type World } from '../../functions/cli/sandbox/world';
import type { Config } from '../../functions/shared/config';
import { exampleConfig } from '../helpers/fixtures';

export const localAws = () => connectLocalAws(process.env.LOCAL_AWS_ENDPOINT!);

/** An empty moto, then the organization and the notification stack, as the sandbox builds them. */
export async function freshWorld(config: Config = exampleConfig()): Promise<World> {
  const aws = localAws();
  await aws.reset();
  return buildWorld(aws, config, 'itest');
}
