import type { LocalAws } from '../../functions/cli/sandbox/local-aws';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __localAws?: LocalAws }).__localAws?.stop();
}
