import { startLocalAws, type LocalAws } from '../../tools/sandbox/local-aws';

/** One moto for the whole integration run, on a free port; tests reset it between cases. */
export default async function globalSetup(): Promise<void> {
  const aws = await startLocalAws();
  process.env.LOCAL_AWS_ENDPOINT = aws.endpoint;
  (globalThis as { __localAws?: LocalAws }).__localAws = aws;
}
