import type { LocalAws } from '../../tools/sandbox/local-aws';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __localAws?: LocalAws }).__localAws?.stop();
}
