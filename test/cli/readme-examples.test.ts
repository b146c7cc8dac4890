import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main, type Io } from '../../tools/backupctl/backupctl';
import { ROOT } from '../helpers/fixtures';

/**
 * The README's examples match what backupctl really prints: the `plan` output it quotes, and
 * every offline `plan` / `render` / `policies` command it lists runs as shown (from the repository
 * root, with the example configuration).
 */

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => '',
  };
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const code = await main(args, io);
    return { code, stdout, stderr };
  } finally {
    process.chdir(cwd);
  }
}

/** `npx backupctl …` lines of the README's sh blocks that need no AWS and no stdin. */
function offlineCommands(): string[][] {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => /^npx backupctl (plan|render|policies) /.test(line))
    .filter((line) => !/[<>|*]| - /.test(line) && !line.includes('--config infra/config/prod.yml'))
    .map((line) => line.replace(/^npx backupctl /, '').split(/\s+/));
}

describe('README examples', () => {
  it('quotes the plan output of the failed backup job sample exactly', async () => {
    const quoted = /`plan` prints what the control plane would do:\n\n```json\n([\s\S]*?)```/.exec(
      README,
    );
    expect(quoted).not.toBeNull();
    const { code, stdout } = await run([
      'plan',
      'events/backup/backup-job-state-change.failed.json',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(quoted![1]!));
  });

  const commands = offlineCommands();

  it('lists offline commands to check', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
  });

  it.each(commands.map((c) => [c.join(' '), c]))(
    'runs `backupctl %s` as shown',
    async (_, args) => {
      const { code, stderr } = await run(args as string[]);
      expect(stderr).not.toMatch(/usage|config|malformed|error:/);
      expect(code).toBe(0);
    },
  );
});
