import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type Io } from '../../tools/backupctl/backupctl';
import { ROOT } from '../helpers/fixtures';

const ev = (name: string) => join(ROOT, 'events', `${name}.json`);

async function run(args: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => stdin,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('backupctl plan', () => {
  it('plans each of several files, one JSON line each, a malformed one named, exit 2', async () => {
    const files = [
      ev('backup/backup-job-state-change.failed'),
      ev('malformed/backup-job-missing-state'),
      ev('backup/backup-job-state-change.completed'),
    ];
    const { code, stdout, stderr } = await run(['plan', ...files]);
    expect(code).toBe(2);
    const lines = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.file, l.flow ?? 'error'])).toEqual([
      [files[0], 'notify'],
      [files[1], 'error'],
      [files[2], 'notify'],
    ]);
    expect(lines[1]!.error).toMatch(/detail\.state/);
    expect(stderr).toBe(
      'backupctl: malformed event: 1 of 3 files could not be planned (their lines say why)\n',
    );
  });

  it('plans a FAILED backup job as notify/error with an email and an sns delivery', async () => {
    const { code, stdout } = await run(['plan', ev('backup/backup-job-state-change.failed')]);
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan).toMatchObject({
      flow: 'notify',
      severity: 'error',
      jobType: 'backup',
      state: 'FAILED',
      accountId: '111122223333',
      region: 'us-east-1',
    });
    expect(plan.eventId).toEqual(expect.any(String));
    const channels = plan.deliveries.map((d: { channel: string }) => d.channel);
    expect(channels).toContain('email');
    expect(channels).toContain('sns');
    const email = plan.deliveries.find((d: { channel: string }) => d.channel === 'email');
    expect(email.to).toEqual(['platform-team@example.com']);
    expect(email.subject).toMatch(/^\[FAILED\] Backup job · .+ · 111122223333 · us-east-1$/);
    const sns = plan.deliveries.find((d: { channel: string }) => d.channel === 'sns');
    expect(sns).toMatchObject({
      topic: 'chat',
      attributes: {
        severity: 'error',
        state: 'FAILED',
        jobType: 'backup',
        accountId: '111122223333',
      },
    });
  });

  it('plans a RUNNING job as ignore, exit 0, no deliveries', async () => {
    const { code, stdout } = await run(['plan', ev('backup/backup-job-state-change.running')]);
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan.flow).toBe('ignore');
    expect(plan.reason).toMatch(/RUNNING/);
    expect(plan.deliveries).toEqual([]);
  });

  it('reads the event from stdin with -', async () => {
    const body = readFileSync(ev('backup/restore-job-state-change.failed'), 'utf8');
    const { code, stdout } = await run(['plan', '-'], body);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      flow: 'notify',
      jobType: 'restore',
      state: 'FAILED',
    });
  });

  it('exits 2 with one line on stderr for broken JSON', async () => {
    const { code, stdout, stderr } = await run(['plan', ev('malformed/broken')]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/not valid JSON/);
  });

  it('exits 2 naming the field for an event it cannot parse', async () => {
    const { code, stderr } = await run(['plan', ev('malformed/backup-job-missing-state')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/detail\.state/);
  });

  it('exits 2 naming the setting for a bad --config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'bad.yml');
    const text = readFileSync(join(ROOT, 'infra/config/example.yml'), 'utf8');
    writeFileSync(file, text.replace('organizationId: o-exampleorg1', 'organizationId: nope'));
    const { code, stderr } = await run([
      'plan',
      ev('backup/backup-job-state-change.failed'),
      '--config',
      file,
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/organizationId/);
  });
});

describe('backupctl render', () => {
  it('escapes HTML that arrives in the status message and resource names', async () => {
    const { code, stdout } = await run([
      'render',
      ev('backup/backup-job-state-change.failed-html-injection'),
      '--channel',
      'email',
      '--format',
      'html',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('&lt;script&gt;');
    expect(stdout).not.toMatch(/<script/i);
    expect(stdout).not.toMatch(/<img/i);
  });

  it('renders a header-safe subject in the json format', async () => {
    const { code, stdout } = await run([
      'render',
      ev('backup/backup-job-state-change.failed-html-injection'),
      '--channel',
      'email',
      '--format',
      'json',
    ]);
    expect(code).toBe(0);
    const email = JSON.parse(stdout);
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject.length).toBeLessThanOrEqual(200);
    expect(email.text).toContain('Reason:');
  });

  it('prints the sns body exactly as published: a Q Developer custom notification', async () => {
    const { code, stdout } = await run([
      'render',
      ev('backup/copy-job-state-change.failed'),
      '--channel',
      'sns',
    ]);
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body).toMatchObject({ version: '1.0', source: 'custom' });
    expect(body.content.textType).toBe('client-markdown');
  });

  it('uses --account-name like the deployed lookup would', async () => {
    const { stdout } = await run([
      'render',
      ev('backup/backup-job-state-change.failed'),
      '--channel',
      'email',
      '--format',
      'json',
      '--account-name',
      'Production',
    ]);
    expect(JSON.parse(stdout).subject).toContain('Production (111122223333)');
  });

  it('exits 1 for an event that would not be sent', async () => {
    const { code, stderr } = await run([
      'render',
      ev('backup/backup-job-state-change.running'),
      '--channel',
      'email',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/nothing would be sent/);
  });

  it('exits 2 for a bad channel or format', async () => {
    expect((await run(['render', ev('backup/backup-job-state-change.failed')])).code).toBe(2);
    const bad = await run([
      'render',
      ev('backup/backup-job-state-change.failed'),
      '--channel',
      'sns',
      '--format',
      'html',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format/);
  });
});

describe('backupctl help', () => {
  it.each([['plan'], ['render']])('%s --help explains the command', async (cmd) => {
    const { code, stdout } = await run([cmd, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`backupctl ${cmd}`);
  });

  it('unknown command exits 2', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
  });

  it('works as `npx backupctl` through the package bin', () => {
    const out = spawnSync(
      process.execPath,
      [join(ROOT, 'tools/backupctl/bin.js'), 'plan', ev('malformed/broken')],
      {
        encoding: 'utf8',
      },
    );
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/^backupctl: malformed event: .*not valid JSON/);
  });
});
