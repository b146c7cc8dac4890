import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, EXAMPLE_CONFIG } from '../../tools/backupctl/backupctl';
import { runSandbox } from '../../tools/sandbox/sandbox';

/** The sandbox as `npm start` runs it: its own moto, the scenario, the outputs, no leftovers. */

jest.setTimeout(120_000);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function run(keep: boolean, mode: 'delegated-admin' | 'management' = 'delegated-admin') {
  const outDir = mkdtempSync(join(tmpdir(), 'sandbox-'));
  let out = '';
  let progress = '';
  const code = await runSandbox(
    { mode, keep, verbose: false, outDir, configFile: EXAMPLE_CONFIG },
    { out: (t) => (out += t), progress: (t) => (progress += `${t}\n`) },
  );
  const pid = Number(/pid (\d+)/.exec(progress)?.[1]);
  return { code, out, progress, outDir, pid };
}

describe('backupctl sandbox', () => {
  it('plays the scenario, writes the outbox and chat messages, and leaves no process behind', async () => {
    const { code, out, progress, outDir, pid } = await run(false);
    expect(code).toBe(0);
    expect(out).toContain('OK: every event did what it should.');
    // Control Tower's home region is eu-west-1: the vended account arrived through its rule.
    expect(out).toMatch(/Payments \d{12} +CreateManagedAccount +production/);
    expect(progress).toMatch(/the management account's own backup fails in eu-west-1/);
    expect(progress).toMatch(/\[10\/10\]/);
    // The central backup account: a member's copy lands in its vault; doctor reads it back.
    expect(out).toMatch(
      /copy from \d{12}: COMPLETED → arn:aws:backup:eu-west-1:\d{12}:recovery-point:/,
    );
    expect(out).toMatch(
      /PASS +central-vault:eu-west-1 +central vault org-backup-vault in eu-west-1/,
    );
    // The default topology: the stack in a delegated administrator account (6 members ready,
    // it among them; the management account is not onboarded), the forwarder read from there.
    expect(progress).toMatch(/mode delegated-admin: the stack in \d{12}, the management forwarder/);
    expect(out).toMatch(/PASS +accounts +6 ready, 0 failed/);
    expect(out).toMatch(/PASS +deployment-mode +running in the delegated administrator account/);
    expect(out).toMatch(
      /PASS +management-forwarder +7 forwarder rule\(s\) in eu-west-1, us-east-1/,
    );
    expect(out).toMatch(/PASS +backup-policy-delegation/);
    const outbox = readdirSync(join(outDir, 'outbox'));
    // 7 job and malware notifications, 4 "backup-ready" messages, 1 failed account creation,
    // the management account's failed backup in eu-west-1 (admins and DBAs, through its rule);
    // then watching: the tamper alert, the coverage gap, the recovered failure (admins and DBAs),
    // the drift repaired, the digest; then the incident: its first alert and its summary (admins
    // and DBAs each), and one recovered notice.
    expect(outbox.filter((f) => f.endsWith('.html'))).toHaveLength(27);
    expect(outbox.filter((f) => /-is-backup-ready\.html$/.test(f))).toHaveLength(6);
    expect(outbox.filter((f) => f.endsWith('.txt'))).toHaveLength(27);
    for (const kind of [
      'not-backed-up',
      'recovered',
      'drift-repaired',
      'digest',
      'tampering',
      'threats-found',
      '39-more-backup-jobs',
    ]) {
      expect(outbox.filter((f) => f.includes(kind) && f.endsWith('.html')).length).toBeGreaterThan(
        0,
      );
    }
    const html = readFileSync(
      join(
        outDir,
        'outbox',
        outbox.find((f) => f.endsWith('.html'))!,
      ),
      'utf8',
    );
    expect(html).toMatch(/^<!DOCTYPE html>/);
    // One directory per chat channel of example.yml.
    expect(readdirSync(join(outDir, 'chat')).sort()).toEqual([
      'backup-alerts',
      'production-backups',
    ]);
    // 5 job failures, warnings and malware, the management account's failed backup in
    // eu-west-1, the failed account creation; the tamper alert, the
    // coverage gap, the recovered failure, the drift repaired and the digest (a warning:
    // something needs attention); the incident's alert, summary and recovered notice.
    expect(readdirSync(join(outDir, 'chat', 'backup-alerts'))).toHaveLength(15);
    // The Teams channel of one OU: messages about that OU's accounts only, whatever severity.
    const teams = readdirSync(join(outDir, 'chat', 'production-backups')).map(
      (f) =>
        JSON.parse(readFileSync(join(outDir, 'chat', 'production-backups', f), 'utf8')) as {
          attributes: Record<string, string>;
        },
    );
    expect(teams.length).toBeGreaterThan(0);
    for (const m of teams) expect(m.attributes.ouPath).toMatch(/^Workloads\/Production(\/|$)/);
    expect(teams.some((m) => m.attributes.severity === 'info')).toBe(true);
    expect(out).toMatch(/Dead-letter queue: 1 message/);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it('--management --keep: the management topology passes too; moto keeps running, with how to reach and stop it', async () => {
    const { code, out, progress, pid } = await run(true, 'management');
    try {
      expect(code).toBe(0);
      expect(progress).toMatch(/mode management: the stack in 123456789012/);
      expect(out).toContain('OK: every event did what it should.');
      const endpoint = /AWS_ENDPOINT_URL=(\S+)/.exec(out)?.[1];
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(out).toContain(`kill ${pid}`);
      expect((await fetch(`${endpoint}/moto-api/`)).ok).toBe(true);
    } finally {
      process.kill(-pid, 'SIGTERM');
    }
  });

  it('says in one line how to install moto when it is missing, exit 2', async () => {
    const saved = process.env.MOTO_PYTHON;
    process.env.MOTO_PYTHON = '/nonexistent/python3';
    let stderr = '';
    try {
      const code = await main(['sandbox', '--out', mkdtempSync(join(tmpdir(), 'sandbox-'))], {
        stdout: () => undefined,
        stderr: (t) => (stderr += t),
        readStdin: () => '',
      });
      expect(code).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.MOTO_PYTHON;
      else process.env.MOTO_PYTHON = saved;
    }
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('pip install "moto[server]"');
  });
});
