import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { main, type Io } from '../../tools/backupctl/backupctl';
import { showPolicies } from '../../tools/backupctl/policies';
import type { Config } from '../../functions/shared/config/schema';
import { ConfigError } from '../../functions/shared/errors';
import { exampleConfig } from '../helpers/fixtures';

const CENTRAL = 'arn:aws:backup:eu-west-1:444455556666:backup-vault:org-backup-vault';

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => '',
  };
  const code = await main(['policies', ...args], io);
  return { code, stdout, stderr };
}

/** The example configuration, changed by `edit`, written to a temporary file. */
function configFile(edit: (config: Config) => void): string {
  const config = exampleConfig();
  edit(config);
  const file = join(mkdtempSync(join(tmpdir(), 'policies-cfg-')), 'stage.yml');
  writeFileSync(file, stringify(config));
  return file;
}

describe('backupctl policies (every profile)', () => {
  it('lists each profile with its policies and what each plan does', async () => {
    const { code, stdout, stderr } = await run([]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Profile production\n');
    expect(stdout).toContain(
      'applies to accounts in OU Workloads/Production or Workloads/Production/**',
    );
    expect(stdout).toContain(
      'backup policies: production-critical (infra/backup-policies/production-critical.json)',
    );
    expect(stdout).toContain('every-4-hours: every 4 hours   [cron(0 0/4 ? * * *)]');
    expect(stdout).toContain(
      'into vault org-backup-vault, kept 365 days, cold storage after 90 days',
    );
    expect(stdout).toContain(`copy to ${CENTRAL}: kept 365 days, cold storage after 90 days`);
    expect(stdout).toContain('resources tagged Backup=Production');
    expect(stdout).toContain('Profile default\n');
    expect(stdout).toContain('applies to every account (no match conditions)');
    expect(stdout).toContain('daily: daily at 05:00 UTC   [cron(0 5 ? * * *)]');
    expect(stdout).toContain('resources tagged backup-plan=daily');
  });

  it('gives the same as JSON', async () => {
    const { code, stdout } = await run(['--format', 'json']);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.profiles.map((p: { profile: string }) => p.profile)).toEqual([
      'production',
      'default',
    ]);
    expect(out.profiles[1]).toMatchObject({
      regions: ['us-east-1'],
      policies: [{ name: 'daily-35-days', file: 'infra/backup-policies/daily-35-days.json' }],
      plans: [
        {
          plan: 'org-daily-35-days',
          rules: [{ rule: 'daily', retentionDays: 35, vault: 'org-backup-vault', copies: [] }],
          selections: [{ tagKey: 'backup-plan', tagValues: ['daily'] }],
          problems: [],
        },
      ],
    });
  });
});

describe('backupctl policies for one account', () => {
  it('chooses the profile by OU path and says why (text)', async () => {
    const { code, stdout } = await run([
      '--account',
      '111122223333',
      '--ou',
      'Workloads/Production/Payments',
    ]);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(
      'Account 111122223333 · OU path Workloads/Production/Payments · tags (none given)',
    );
    expect(lines[1]).toBe(
      'Profile production, chosen by OU path "Workloads/Production/Payments" matches "Workloads/Production/**"',
    );
    expect(stdout).toContain('daily-1-year: daily at 05:00 UTC');
    expect(stdout).not.toContain('Profile default');
  });

  it('chooses the profile by OU path (JSON)', async () => {
    const { code, stdout } = await run(['--ou', 'Workloads/Production', '--format', 'json']);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({
      ouPath: 'Workloads/Production',
      tags: {},
      profile: 'production',
      chosenBecause: 'OU path "Workloads/Production" matches "Workloads/Production"',
      regions: ['us-east-1', 'eu-west-1'],
      ignored: [],
    });
    const [plan] = out.plans;
    expect(plan.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(plan.rules.map((r: { schedule: { text: string } }) => r.schedule.text)).toEqual([
      'every 4 hours',
      'daily at 05:00 UTC',
    ]);
    expect(plan.rules[1]).toMatchObject({
      retentionDays: 365,
      coldStorageAfterDays: 90,
      copies: [{ to: CENTRAL, retentionDays: 365, coldStorageAfterDays: 90 }],
    });
    expect(plan.selections).toEqual([
      expect.objectContaining({ tagKey: 'Backup', tagValues: ['Production'] }),
    ]);
  });

  it('falls through to the catch-all profile', async () => {
    const { code, stdout } = await run(['--ou', 'Sandbox/alice']);
    expect(code).toBe(0);
    expect(stdout).toContain('Profile default, chosen by no match conditions (catch-all)');
  });

  it('lets the profile tag override the OU path', async () => {
    const { code, stdout } = await run([
      '--ou',
      'Sandbox',
      '--tag',
      'backup-control-plane:profile=production',
      '--tag',
      'team=a=b',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('tags backup-control-plane:profile=production, team=a=b');
    expect(stdout).toContain(
      'Profile production, chosen by tag backup-control-plane:profile=production',
    );
  });

  it('exits 2 with one line when no profile matches', async () => {
    const config = configFile((c) => {
      c.onboarding!.profiles = c.onboarding!.profiles.slice(0, 1);
    });
    const { code, stdout, stderr } = await run(['--ou', 'Sandbox', '--config', config]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      /^backupctl: config: no profile matches the account \(OU path "Sandbox"/,
    );
  });

  it('exits 2 with one line when the profile tag names no profile', async () => {
    const { code, stderr } = await run(['--tag', 'backup-control-plane:profile=gold']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'backupctl: config: tag backup-control-plane:profile=gold names no profile (profiles: production, default)\n',
    );
  });
});

describe('backupctl policies refuses', () => {
  it.each([
    [['--account', '12'], '--account must be a 12-digit account id, got "12"'],
    [['--tag', 'team'], '--tag must be key=value, got "team"'],
    [['--tag', '=x'], '--tag must be key=value, got "=x"'],
    [['--format', 'yaml'], '--format must be "text" or "json"'],
    [['extra'], 'unexpected argument "extra"'],
    [['--colour'], "Unknown option '--colour'"],
  ])('%j with exit 2 and one usage line', async (args, message) => {
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^backupctl: usage: /);
    expect(stderr).toContain(message);
  });

  it('a copy into the central vault in a region where onboarding keeps none, naming the setting', async () => {
    const config = configFile((c) => {
      c.centralBackup!.regions = ['us-east-1'];
    });
    const { code, stderr } = await run(['--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain(
      '{{central-vault:eu-west-1}} is a region where onboarding keeps no central vault: add eu-west-1 to centralBackup.regions (now: us-east-1)',
    );
  });

  it('a profile naming a policy without a file, naming both', async () => {
    const config = configFile((c) => {
      c.onboarding!.profiles[1]!.backupPolicies = ['daily-90-days'];
    });
    const { code, stderr } = await run(['--config', config]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(
      'backupctl: config: onboarding.profiles.1.backupPolicies: profile "default" names backup policy "daily-90-days"',
    );
  });

  it('a policy with regions where the profile creates no vault', async () => {
    const config = configFile((c) => {
      c.onboarding!.profiles[0]!.regions = ['us-east-1'];
      // The central vault stays where the policy copies to.
      c.centralBackup!.regions = ['us-east-1', 'eu-west-1'];
    });
    const { code, stderr } = await run(['--config', config]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'backupctl: config: profile "production": plan org-production-critical backs up in eu-west-1, where profile "production" creates no backup vault (its regions: us-east-1)\n',
    );
  });

  it('a configuration without onboarding', async () => {
    const config = configFile((c) => {
      delete c.onboarding;
    });
    const { code, stderr } = await run(['--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain('has no "onboarding" section');
  });

  it('prints its help with exit 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: backupctl policies/);
  });
});

describe('showPolicies', () => {
  it('names the policy file and field that are wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policies-'));
    writeFileSync(
      join(dir, 'daily-35-days.json'),
      JSON.stringify({ plans: { p: { regions: ['us-east-1'] } } }),
    );
    writeFileSync(join(dir, 'production-critical.json'), JSON.stringify({ plans: {} }));
    const query = { tags: {}, format: 'text' as const };
    expect(() => showPolicies(exampleConfig(), query, dir)).toThrow(ConfigError);
    expect(() => showPolicies(exampleConfig(), query, dir)).toThrow(
      `${join(dir, 'daily-35-days.json')}: plans.p.regions: must be wrapped in an inheritance operator: {"@@assign": ["us-east-1"]}`,
    );
  });

  it('reports settings a policy could not change because an earlier one locks them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policies-'));
    const plan = (regions: unknown) => ({
      plans: {
        p: {
          regions,
          rules: {
            r: {
              schedule_expression: { '@@assign': 'cron(0 5 ? * * *)' },
              target_backup_vault_name: { '@@assign': 'org-backup-vault' },
            },
          },
          selections: {
            tags: {
              s: {
                iam_role_arn: { '@@assign': 'arn:aws:iam::$account:role/r' },
                tag_key: { '@@assign': 'k' },
                tag_value: { '@@assign': 'v' },
              },
            },
          },
        },
      },
    });
    const locked = {
      '@@assign': ['us-east-1'],
      '@@operators_allowed_for_child_policies': ['@@none'],
    };
    writeFileSync(join(dir, 'base.json'), JSON.stringify(plan(locked)));
    writeFileSync(join(dir, 'extra.json'), JSON.stringify(plan({ '@@append': ['eu-west-1'] })));
    const config = exampleConfig();
    config.onboarding!.profiles = [
      { ...config.onboarding!.profiles[1]!, backupPolicies: ['base', 'extra'] },
    ];
    const out = JSON.parse(showPolicies(config, { tags: {}, format: 'json' }, dir));
    expect(out.profiles[0].plans[0].regions).toEqual(['us-east-1']);
    expect(out.profiles[0].ignored).toEqual([
      'extra: plans.p.regions: @@append ignored: an earlier policy allows no change here',
    ]);
  });
});
