import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BACKUP_POLICIES_DIR,
  checkProfilesReferToPolicies,
  loadBackupPolicies,
  plansForProfile,
  resolveCentralVault,
} from '../../tools/backup-policy/load';
import { cronProblem, describeSchedule } from '../../functions/shared/backup-plans/cron';
import { describePlans } from '../../functions/shared/backup-plans/describe';
import { effectivePlans } from '../../functions/shared/backup-plans/merge';
import { parseBackupPolicy, type BackupPolicyDocument } from '../../tools/backup-policy/syntax';
import type { Profile } from '../../functions/shared/config/schema';
import { ConfigError } from '../../functions/shared/errors';
import { exampleConfig, ROOT } from '../helpers/fixtures';

type Json = Record<string, unknown>;
const SOURCE = 'infra/backup-policies/x.json';
const ROLE = 'arn:aws:iam::$account:role/backup-control-plane-backup-service';
const CENTRAL = 'arn:aws:backup:eu-west-1:444455556666:backup-vault:org-backup-vault';

const parse = (raw: unknown) => parseBackupPolicy(raw, SOURCE);
const assign = (value: unknown) => ({ '@@assign': value });

/** A complete, valid policy with one plan "p", one rule "r" and one selection "s"; fresh per call. */
function policy(): Json & { plans: { p: Json & { rules: { r: Json } } } } {
  return {
    plans: {
      p: {
        regions: assign(['us-east-1']),
        rules: {
          r: {
            schedule_expression: assign('cron(0 5 ? * * *)'),
            target_backup_vault_name: assign('org-backup-vault'),
            lifecycle: { delete_after_days: assign('35') },
          },
        },
        selections: {
          tags: {
            s: {
              iam_role_arn: assign(ROLE),
              tag_key: assign('backup-plan'),
              tag_value: assign(['daily']),
            },
          },
        },
      },
    },
  };
}

/** The same with one rule setting replaced. */
function withRule(settings: Json): Json {
  const doc = policy();
  Object.assign(doc.plans.p.rules.r, settings);
  return doc;
}

// Shaped like the examples on
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_backup_syntax.html
const AWS_EXAMPLES: Record<string, Json> = {
  'Example 1: every element, numbers and booleans as strings': {
    plans: {
      PII_Backup_Plan: {
        regions: assign(['ap-northeast-2', 'us-east-1', 'eu-north-1']),
        rules: {
          Hourly: {
            schedule_expression: assign('cron(0 5/1 ? * * *)'),
            start_backup_window_minutes: assign('480'),
            complete_backup_window_minutes: assign('10080'),
            lifecycle: {
              move_to_cold_storage_after_days: assign('180'),
              delete_after_days: assign('270'),
              opt_in_to_archive_for_supported_resources: assign('false'),
            },
            target_backup_vault_name: assign('FortKnox'),
            target_logically_air_gapped_backup_vault_arn: assign(
              'arn:aws:backup:$region:$account:backup-vault:AirGappedVault',
            ),
            index_actions: { resource_types: assign(['EBS', 'S3']) },
            copy_actions: {
              'arn:aws:backup:us-east-1:$account:backup-vault:secondary_vault': {
                target_backup_vault_arn: assign(
                  'arn:aws:backup:us-east-1:$account:backup-vault:secondary_vault',
                ),
                lifecycle: {
                  move_to_cold_storage_after_days: assign('30'),
                  delete_after_days: assign('120'),
                  opt_in_to_archive_for_supported_resources: assign('false'),
                },
              },
              'arn:aws:backup:us-west-1:111111111111:backup-vault:tertiary_vault': {
                target_backup_vault_arn: assign(
                  'arn:aws:backup:us-west-1:111111111111:backup-vault:tertiary_vault',
                ),
                lifecycle: {
                  move_to_cold_storage_after_days: assign('30'),
                  delete_after_days: assign('120'),
                },
              },
            },
          },
        },
        selections: {
          tags: {
            datatype: {
              iam_role_arn: assign('arn:aws:iam::$account:role/MyIamRole'),
              tag_key: assign('dataType'),
              tag_value: assign(['PII', 'RED']),
            },
          },
        },
        advanced_backup_settings: { ec2: { windows_vss: assign('enabled') } },
      },
    },
  },
  'Example 2: a parent that appends regions, a monthly child': {
    plans: {
      Monthly_Backup_Plan: {
        regions: { '@@append': ['us-east-1', 'eu-central-1'] },
        rules: {
          Monthly: {
            schedule_expression: assign('cron(0 5 1 * ? *)'),
            start_backup_window_minutes: assign('480'),
            target_backup_vault_name: assign('Default'),
            lifecycle: {
              move_to_cold_storage_after_days: assign('30'),
              delete_after_days: assign('365'),
            },
          },
        },
        selections: {
          tags: {
            MonthlyDatatype: {
              iam_role_arn: assign('arn:aws:iam::$account:role/MyMonthlyBackupIamRole'),
              tag_key: assign('BackupType'),
              tag_value: assign(['MONTHLY', 'RED']),
            },
          },
        },
      },
    },
  },
  'Example 3: child control on every node': {
    plans: {
      '@@operators_allowed_for_child_policies': ['@@none'],
      PII_Backup_Plan: {
        '@@operators_allowed_for_child_policies': ['@@none'],
        regions: {
          '@@operators_allowed_for_child_policies': ['@@none'],
          '@@append': ['us-east-1', 'ap-northeast-3', 'eu-north-1'],
        },
        rules: {
          '@@operators_allowed_for_child_policies': ['@@none'],
          Hourly: {
            '@@operators_allowed_for_child_policies': ['@@none'],
            schedule_expression: {
              '@@operators_allowed_for_child_policies': ['@@none'],
              '@@assign': 'cron(0 0/1 ? * * *)',
            },
            target_backup_vault_name: {
              '@@assign': 'FortKnox',
              '@@operators_allowed_for_child_policies': ['@@none'],
            },
            lifecycle: {
              '@@operators_allowed_for_child_policies': ['@@none'],
              delete_after_days: {
                '@@operators_allowed_for_child_policies': ['@@none'],
                '@@assign': '180',
              },
            },
          },
        },
        selections: {
          '@@operators_allowed_for_child_policies': ['@@none'],
          tags: {
            '@@operators_allowed_for_child_policies': ['@@none'],
            datatype: {
              '@@operators_allowed_for_child_policies': ['@@none'],
              iam_role_arn: assign('arn:aws:iam::$account:role/MyIamRole'),
              tag_key: assign('dataType'),
              tag_value: assign(['PII', 'RED']),
            },
          },
        },
      },
    },
  },
  'Example 5 child: only the settings that differ, booleans as JSON booleans': {
    plans: {
      PII_Backup_Plan: {
        regions: assign(['us-west-2', 'eu-central-1']),
        rules: {
          Hourly: {
            schedule_expression: assign('cron(0 0/2 ? * * *)'),
            start_backup_window_minutes: assign('80'),
            target_backup_vault_name: assign('Default'),
            lifecycle: {
              move_to_cold_storage_after_days: assign('30'),
              delete_after_days: assign('365'),
              opt_in_to_archive_for_supported_resources: assign(false),
            },
          },
        },
      },
    },
  },
  'Examples 6 and 7: tag conditions and the resources block': {
    plans: {
      p: {
        selections: {
          tags: {
            selection_name: {
              iam_role_arn: assign('arn:aws:iam::$account:role/IAMRole'),
              tag_key: assign('env'),
              tag_value: assign(['prod', 'gamma']),
              conditions: {
                string_not_equals: {
                  condition_name1: {
                    condition_key: assign('aws:ResourceTag/backup'),
                    condition_value: assign('false'),
                  },
                },
              },
            },
          },
          resources: {
            resource_selection_name: {
              iam_role_arn: assign('arn:aws:iam::$account:role/IAMRole'),
              resource_types: assign(['*']),
              not_resource_types: assign(['arn:aws:fsx:*:*:file-system/*', 'arn:aws:rds:*:*:db:*']),
              conditions: {
                string_like: {
                  condition_name1: {
                    condition_key: assign('aws:ResourceTag/key1'),
                    condition_value: assign('include*'),
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

describe('the shipped policies (infra/backup-policies/)', () => {
  it('all load, named after their files', () => {
    const policies = loadBackupPolicies();
    expect([...policies.keys()]).toEqual([
      'daily-35-days',
      'production-critical',
      'weekly-archive',
    ]);
    expect(policies.get('daily-35-days')?.file).toBe(
      join(BACKUP_POLICIES_DIR, 'daily-35-days.json'),
    );
    expect(BACKUP_POLICIES_DIR).toBe(join(ROOT, 'infra', 'backup-policies'));
  });

  it('cover every policy the example configuration names, with complete plans in its regions', () => {
    const config = exampleConfig();
    const policies = loadBackupPolicies();
    expect(checkProfilesReferToPolicies(config, policies)).toEqual([]);
    for (const profile of config.onboarding!.profiles) {
      expect(plansForProfile(profile, policies).problems).toEqual([]);
    }
  });

  it('production-critical: every 4 hours for 35 days, daily for a year with a central copy', () => {
    const policy = loadBackupPolicies().get('production-critical')!;
    const packaged = resolveCentralVault(
      policy.document,
      exampleConfig().centralBackup,
      policy.file,
    ) as BackupPolicyDocument;
    expect(describePlans(effectivePlans([packaged]))).toEqual([
      {
        plan: 'org-production-critical',
        regions: ['us-east-1', 'eu-west-1'],
        rules: [
          {
            rule: 'every-4-hours',
            schedule: { expression: 'cron(0 0/4 ? * * *)', timezone: 'UTC', text: 'every 4 hours' },
            startWindowMinutes: 60,
            completeWindowMinutes: 180,
            retentionDays: 35,
            coldStorageAfterDays: undefined,
            archiveSupportedResources: undefined,
            vault: 'org-backup-vault',
            airGappedVault: undefined,
            copies: [],
            continuous: false,
          },
          {
            rule: 'daily-1-year',
            schedule: {
              expression: 'cron(0 5 ? * * *)',
              timezone: 'UTC',
              text: 'daily at 05:00 UTC',
            },
            startWindowMinutes: 60,
            completeWindowMinutes: 720,
            retentionDays: 365,
            coldStorageAfterDays: 90,
            archiveSupportedResources: true,
            vault: 'org-backup-vault',
            airGappedVault: undefined,
            copies: [{ to: CENTRAL, retentionDays: 365, coldStorageAfterDays: 90 }],
            continuous: false,
          },
        ],
        selections: [
          {
            name: 'backup-production',
            kind: 'tags',
            role: ROLE,
            tagKey: 'Backup',
            tagValues: ['Production'],
            conditions: [],
          },
        ],
        problems: [],
      },
    ]);
  });
});

describe('parseBackupPolicy accepts', () => {
  it.each(Object.entries(AWS_EXAMPLES))('the AWS docs %s', (_name, example) => {
    expect(parse(structuredClone(example))).toEqual(example);
  });

  it('numbers and booleans written as JSON numbers and booleans', () => {
    const doc = withRule({
      start_backup_window_minutes: assign(60),
      enable_continuous_backup: assign(true),
      lifecycle: { delete_after_days: assign(35) },
    });
    expect(() => parse(doc)).not.toThrow();
  });

  it('a time zone, a recovery point tag and plan tags', () => {
    const doc = withRule({
      schedule_expression_timezone: assign('Europe/Paris'),
      recovery_point_tags: { owner: { tag_key: assign('owner'), tag_value: assign('platform') } },
    });
    expect(() => parse(doc)).not.toThrow();
  });
});

describe('parseBackupPolicy rejects, naming the file and the field', () => {
  const rulePath = `${SOURCE}: plans.p.rules.r`;

  it('an unknown key', () => {
    const doc = withRule({ lifecycle: { delete_after_dayz: assign('35') } });
    expect(() => parse(doc)).toThrow(
      `${rulePath}.lifecycle.delete_after_dayz: unknown key "delete_after_dayz" (allowed here: delete_after_days, move_to_cold_storage_after_days, opt_in_to_archive_for_supported_resources)`,
    );
  });

  it('an unknown key at the top and in a plan', () => {
    const doc = { ...policy(), version: 1 };
    expect(() => parse(doc)).toThrow(`${SOURCE}: version: unknown key "version"`);
    const inPlan = policy();
    Object.assign(inPlan.plans.p, { schedule: assign('x') });
    expect(() => parse(inPlan)).toThrow(`${SOURCE}: plans.p.schedule: unknown key "schedule"`);
  });

  it('a value without its @@assign wrapper, showing the fix', () => {
    const doc = withRule({ lifecycle: { delete_after_days: '35' } });
    expect(() => parse(doc)).toThrow(
      `${rulePath}.lifecycle.delete_after_days: must be wrapped in an inheritance operator: {"@@assign": "35"}`,
    );
  });

  it('@@prepend, which backup policies do not have', () => {
    const doc = policy();
    doc.plans.p.regions = { '@@prepend': ['eu-west-1'] };
    expect(() => parse(doc)).toThrow(`${SOURCE}: plans.p.regions: unknown operator "@@prepend"`);
  });

  it('@@append on a single value', () => {
    const doc = withRule({ target_backup_vault_name: { '@@append': 'other' } });
    expect(() => parse(doc)).toThrow(
      `${rulePath}.target_backup_vault_name: "@@append" works only on lists`,
    );
  });

  it('two operators on one setting, or none', () => {
    const doc = policy();
    doc.plans.p.regions = { '@@assign': ['us-east-1'], '@@append': ['eu-west-1'] };
    expect(() => parse(doc)).toThrow(`${SOURCE}: plans.p.regions: use one operator`);
    doc.plans.p.regions = { '@@operators_allowed_for_child_policies': ['@@none'] };
    expect(() => parse(doc)).toThrow(`${SOURCE}: plans.p.regions: needs a value`);
  });

  it('a bad child control', () => {
    const doc = policy();
    Object.assign(doc.plans.p, {
      '@@operators_allowed_for_child_policies': ['@@none', '@@assign'],
    });
    expect(() => parse(doc)).toThrow(
      `${SOURCE}: plans.p.@@operators_allowed_for_child_policies: "@@all" and "@@none" must stand alone`,
    );
  });

  it.each([
    ['cron(0 5 * * *)', 'must have 6 fields'],
    ['rate(1 day)', 'cron(...) expressions only'],
    ['0 5 ? * * *', 'must be cron(minutes hours day-of-month month day-of-week year)'],
    ['cron(0/15 * ? * * *)', 'at most once an hour'],
    ['cron(0 24 ? * * *)', 'hours field "24" is not valid'],
    ['cron(0 5 1 * MON *)', 'exactly one of day-of-month and day-of-week must be "?"'],
    ['cron(0 5 ? * * ?)', 'year field "?" is not valid'],
    ['cron(0 5 ? * FUN *)', 'day-of-week field "FUN" is not valid'],
  ])('the schedule %s', (expression, problem) => {
    const doc = withRule({ schedule_expression: assign(expression) });
    expect(() => parse(doc)).toThrow(`${rulePath}.schedule_expression: `);
    expect(() => parse(doc)).toThrow(problem);
  });

  it('cold storage for less than 90 days before deletion', () => {
    const doc = withRule({
      lifecycle: {
        move_to_cold_storage_after_days: assign('30'),
        delete_after_days: assign('100'),
      },
    });
    expect(() => parse(doc)).toThrow(
      `${rulePath}.lifecycle.delete_after_days: must be at least 90 days more than move_to_cold_storage_after_days (30), so at least 120`,
    );
  });

  it('the same in a copy action', () => {
    const doc = withRule({
      copy_actions: {
        [CENTRAL]: {
          target_backup_vault_arn: assign(CENTRAL),
          lifecycle: {
            move_to_cold_storage_after_days: assign('10'),
            delete_after_days: assign('99'),
          },
        },
      },
    });
    expect(() => parse(doc)).toThrow(
      `${rulePath}.copy_actions.${CENTRAL}.lifecycle.delete_after_days: must be at least 90 days more`,
    );
  });

  it('the AWS docs Example 5 parent, whose own lifecycle breaks that rule (2 days after 180)', () => {
    const doc = withRule({
      lifecycle: {
        delete_after_days: assign('2'),
        move_to_cold_storage_after_days: assign('180'),
        opt_in_to_archive_for_supported_resources: assign(false),
      },
    });
    expect(() => parse(doc)).toThrow('so at least 270');
  });

  it('continuous backups kept more than 35 days', () => {
    const doc = withRule({
      enable_continuous_backup: assign('true'),
      lifecycle: { delete_after_days: assign('60') },
    });
    expect(() => parse(doc)).toThrow(`${rulePath}.lifecycle.delete_after_days: must be at most 35`);
  });

  it.each([
    [
      { start_backup_window_minutes: assign('30') },
      'start_backup_window_minutes: must be between 60 and 52560000, got 30',
    ],
    [
      { complete_backup_window_minutes: assign('7.5') },
      'complete_backup_window_minutes: must be a whole number',
    ],
    [
      { lifecycle: { delete_after_days: assign('0') } },
      'lifecycle.delete_after_days: must be between 1 and 36500',
    ],
    [
      { lifecycle: { delete_after_days: assign(true) } },
      'lifecycle.delete_after_days: must be a whole number',
    ],
    [
      { enable_continuous_backup: assign('yes') },
      'enable_continuous_backup: must be true or false',
    ],
    [
      { schedule_expression_timezone: assign('Mars/Olympus') },
      'schedule_expression_timezone: must be an IANA time zone',
    ],
    [
      { target_backup_vault_name: assign('a') },
      'target_backup_vault_name: must be a backup vault name',
    ],
  ])('the rule setting %j', (settings, message) => {
    expect(() => parse(withRule(settings))).toThrow(`${rulePath}.${message}`);
  });

  it('a copy action whose key is not its destination ARN', () => {
    const doc = withRule({
      copy_actions: {
        [CENTRAL]: {
          target_backup_vault_arn: assign(CENTRAL.replace('444455556666', '777788889999')),
        },
      },
    });
    expect(() => parse(doc)).toThrow(
      `${rulePath}.copy_actions.${CENTRAL}.target_backup_vault_arn: must equal the copy action's key`,
    );
  });

  it('a role that is not an IAM role ARN, and a region that is not one', () => {
    const doc = policy();
    doc.plans.p.regions = assign(['us-east-1', 'Frankfurt']);
    (doc.plans.p.selections as { tags: { s: Json } }).tags.s.iam_role_arn = assign('backup-role');
    expect(() => parse(doc)).toThrow(`${SOURCE}: plans.p.regions.1: must be a region name`);
    expect(() => parse(doc)).toThrow(
      `${SOURCE}: plans.p.selections.tags.s.iam_role_arn: must be an IAM role ARN`,
    );
  });

  it('a plan name AWS would refuse', () => {
    const doc = { plans: { 'daily plan': policy().plans.p } };
    expect(() => parse(doc)).toThrow(`${SOURCE}: plans.daily plan: plan name must be 1 to 50`);
  });

  it('with one line per problem', () => {
    const doc = withRule({
      lifecycle: { delete_after_days: '35' },
      start_backup_window_minutes: assign('5'),
    });
    let message = '';
    try {
      parse(doc);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      expect.stringMatching(
        /^infra\/backup-policies\/x\.json: plans\.p\.rules\.r\.start_backup_window_minutes/,
      ),
      expect.stringMatching(
        /^infra\/backup-policies\/x\.json: plans\.p\.rules\.r\.lifecycle\.delete_after_days/,
      ),
    ]);
  });

  it('as a ConfigError; a document without plans too', () => {
    expect(() => parse({})).toThrow(ConfigError);
    expect(() => parse({})).toThrow(`${SOURCE}: plans: is required`);
    expect(() => parse([])).toThrow(`${SOURCE}: (top level): must be a JSON object with "plans"`);
  });
});

describe('loadBackupPolicies', () => {
  function folder(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'policies-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  it('reads only *.json and names each policy after its file', () => {
    const dir = folder({ 'a.json': JSON.stringify(policy()), 'README.md': '# not a policy' });
    const policies = loadBackupPolicies(dir);
    expect([...policies.keys()]).toEqual(['a']);
    expect(policies.get('a')).toEqual({ name: 'a', file: join(dir, 'a.json'), document: policy() });
  });

  it('names the file that is not JSON', () => {
    const dir = folder({ 'broken.json': '{"plans": ' });
    expect(() => loadBackupPolicies(dir)).toThrow(`${join(dir, 'broken.json')}: not valid JSON`);
  });

  it('names the file and the field that is wrong', () => {
    const dir = folder({
      'bad.json': JSON.stringify(withRule({ lifecycle: { delete_after_days: '35' } })),
    });
    expect(() => loadBackupPolicies(dir)).toThrow(
      `${join(dir, 'bad.json')}: plans.p.rules.r.lifecycle.delete_after_days: must be wrapped`,
    );
  });

  it('rejects a key written twice in one object, which JSON.parse would hide', () => {
    const text = JSON.stringify(policy(), null, 2).replace(
      '"r": {',
      '"r": { "target_backup_vault_name": { "@@assign": "first" },',
    );
    const dir = folder({ 'dup.json': text });
    expect(() => loadBackupPolicies(dir)).toThrow(
      `${join(dir, 'dup.json')}: plans.p.rules.r: duplicate key "target_backup_vault_name"`,
    );
  });

  it('rejects a file name profiles could not refer to', () => {
    const dir = folder({ 'daily plan.json': JSON.stringify(policy()) });
    expect(() => loadBackupPolicies(dir)).toThrow('daily plan.json: the file name is the policy');
  });

  it('says which folder it could not read', () => {
    expect(() => loadBackupPolicies('/nonexistent/policies')).toThrow(
      'cannot read backup policies folder /nonexistent/policies',
    );
  });
});

describe('checkProfilesReferToPolicies', () => {
  it('names each profile policy without a file, and the files there are', () => {
    const config = exampleConfig();
    config.onboarding!.profiles[1]!.backupPolicies = ['daily-35-days', 'daily-90-days'];
    expect(checkProfilesReferToPolicies(config, loadBackupPolicies())).toEqual([
      'onboarding.profiles.1.backupPolicies: profile "default" names backup policy "daily-90-days" but there is no backup policy file daily-90-days.json (have: daily-35-days, production-critical, weekly-archive)',
    ]);
  });
});

describe('effectivePlans', () => {
  const doc = (plans: Json) => parse({ plans }) as BackupPolicyDocument;

  it('@@assign replaces an inherited list and value', () => {
    const root = parse(policy());
    const account = doc({
      p: {
        regions: assign(['eu-west-1']),
        rules: { r: { target_backup_vault_name: assign('other-vault') } },
      },
    });
    const { plans } = effectivePlans([root, account]);
    expect(plans.p!.regions).toEqual(['eu-west-1']);
    expect(plans.p!.rules).toMatchObject({ r: { target_backup_vault_name: 'other-vault' } });
    expect(plans.p!.rules).toMatchObject({ r: { schedule_expression: 'cron(0 5 ? * * *)' } });
  });

  it('@@append adds to a list without repeating, @@remove takes away', () => {
    const root = doc({ p: { regions: { '@@append': ['us-east-1', 'eu-west-1'] } } });
    const ou = doc({ p: { regions: { '@@append': ['eu-west-1', 'ap-southeast-2'] } } });
    const account = doc({ p: { regions: { '@@remove': ['us-east-1'] } } });
    expect(effectivePlans([root, ou]).plans.p!.regions).toEqual([
      'us-east-1',
      'eu-west-1',
      'ap-southeast-2',
    ]);
    expect(effectivePlans([root, ou, account]).plans.p!.regions).toEqual([
      'eu-west-1',
      'ap-southeast-2',
    ]);
  });

  it('merges in order: the later policy wins', () => {
    const a = doc({ p: { rules: { r: { schedule_expression: assign('cron(0 1 ? * * *)') } } } });
    const b = doc({ p: { rules: { r: { schedule_expression: assign('cron(0 2 ? * * *)') } } } });
    expect(effectivePlans([a, b]).plans.p!.rules).toEqual({
      r: { schedule_expression: 'cron(0 2 ? * * *)' },
    });
    expect(effectivePlans([b, a]).plans.p!.rules).toEqual({
      r: { schedule_expression: 'cron(0 1 ? * * *)' },
    });
  });

  it('keeps plans from every policy side by side (AWS Example 2)', () => {
    const parent = parse(policy());
    const child = parse(
      structuredClone(AWS_EXAMPLES['Example 2: a parent that appends regions, a monthly child']!),
    );
    const { plans } = effectivePlans([parent, child]);
    expect(Object.keys(plans)).toEqual(['p', 'Monthly_Backup_Plan']);
    expect(plans.Monthly_Backup_Plan!.regions).toEqual(['us-east-1', 'eu-central-1']);
  });

  it('matches names without regard to case, keeping the first spelling', () => {
    const parent = doc({
      p: { rules: { Hourly: { schedule_expression: assign('cron(0 * ? * * *)') } } },
    });
    const child = doc({ P: { rules: { hourly: { target_backup_vault_name: assign('v2') } } } });
    expect(effectivePlans([parent, child]).plans).toEqual({
      p: {
        rules: {
          Hourly: { schedule_expression: 'cron(0 * ? * * *)', target_backup_vault_name: 'v2' },
        },
      },
    });
  });

  it('@@none stops later policies from changing a setting or adding plans (AWS Example 3)', () => {
    const parent = parse(structuredClone(AWS_EXAMPLES['Example 3: child control on every node']!));
    const child = doc({
      PII_Backup_Plan: {
        rules: { Hourly: { schedule_expression: assign('cron(0 0/2 ? * * *)') } },
      },
      Monthly: { regions: assign(['us-east-1']) },
    });
    const effective = effectivePlans([parent, child], ['root-policy', 'account-policy']);
    expect(Object.keys(effective.plans)).toEqual(['PII_Backup_Plan']);
    expect(effective.plans.PII_Backup_Plan!.rules).toMatchObject({
      Hourly: { schedule_expression: 'cron(0 0/1 ? * * *)' },
    });
    expect(effective.ignored).toEqual([
      'account-policy: plans.PII_Backup_Plan.rules.Hourly.schedule_expression: @@assign ignored: an earlier policy allows no change here',
      'account-policy: plans.Monthly not added: an earlier policy allows no change at plans',
    ]);
  });

  it('["@@append"] on plans lets children add plans while one plan stays locked (AWS Example 4)', () => {
    const parent = doc({
      '@@operators_allowed_for_child_policies': ['@@append'],
      PII: { '@@operators_allowed_for_child_policies': ['@@none'], regions: assign(['us-east-1']) },
    });
    const child = doc({ Monthly: { regions: assign(['eu-west-1']) } });
    expect(Object.keys(effectivePlans([parent, child]).plans)).toEqual(['PII', 'Monthly']);
  });

  it('a setting that allows only @@append takes appends but not a new assignment', () => {
    const parent = doc({
      p: {
        regions: {
          '@@assign': ['us-east-1'],
          '@@operators_allowed_for_child_policies': ['@@append'],
        },
      },
    });
    const appends = doc({ p: { regions: { '@@append': ['eu-west-1'] } } });
    const assigns = doc({ p: { regions: assign(['ap-south-1']) } });
    expect(effectivePlans([parent, appends]).plans.p!.regions).toEqual(['us-east-1', 'eu-west-1']);
    const blocked = effectivePlans([parent, assigns]);
    expect(blocked.plans.p!.regions).toEqual(['us-east-1']);
    expect(blocked.ignored).toEqual([
      'policy 2: plans.p.regions: @@assign ignored: an earlier policy allows only @@append here',
    ]);
  });

  it('a later policy cannot lift a restriction, and a policy is not bound by its own', () => {
    const parent = doc({
      p: {
        regions: {
          '@@assign': ['us-east-1'],
          '@@operators_allowed_for_child_policies': ['@@none'],
        },
      },
    });
    const child = doc({
      p: {
        regions: { '@@assign': ['eu-west-1'], '@@operators_allowed_for_child_policies': ['@@all'] },
      },
    });
    const grandchild = doc({ p: { regions: assign(['ap-south-1']) } });
    expect(effectivePlans([parent, child, grandchild]).plans.p!.regions).toEqual(['us-east-1']);
    expect(effectivePlans([parent]).plans.p!.regions).toEqual(['us-east-1']);
  });
});

describe('describeSchedule', () => {
  it.each([
    ['cron(0 5 ? * * *)', 'daily at 05:00 UTC'],
    ['cron(0 0/4 ? * * *)', 'every 4 hours'],
    ['cron(0 */4 ? * * *)', 'every 4 hours'],
    ['cron(30 1/6 ? * * *)', 'every 6 hours from 01:30 UTC'],
    ['cron(0 1,13 ? * * *)', 'every 12 hours from 01:00 UTC'],
    ['cron(0 1,5 ? * * *)', 'daily at 01:00, 05:00 UTC'],
    ['cron(0 * ? * * *)', 'every hour'],
    ['cron(15 * ? * * *)', 'every hour at :15'],
    ['cron(0 5/1 ? * * *)', 'every hour from 05:00 to 23:00 UTC'],
    ['cron(0 8-18 ? * MON-FRI *)', 'on weekdays every hour from 08:00 to 18:00 UTC'],
    ['cron(0 3 ? * 1 *)', 'weekly on Sunday at 03:00 UTC'],
    ['cron(0 3 ? * SUN *)', 'weekly on Sunday at 03:00 UTC'],
    ['cron(50 5 ? * 2 *)', 'weekly on Monday at 05:50 UTC'],
    ['cron(0 3 ? * 2,5 *)', 'every Monday, Thursday at 03:00 UTC'],
    ['cron(0 8 ? * 2#1 *)', 'on the first Monday of the month at 08:00 UTC'],
    ['cron(0 8 ? * 6L *)', 'on the last Friday of the month at 08:00 UTC'],
    ['cron(0 5 1 * ? *)', 'monthly on day 1 at 05:00 UTC'],
    ['cron(0 5 L * ? *)', 'monthly on the last day at 05:00 UTC'],
    ['cron(0 5 1,15 * ? *)', 'monthly on days 1, 15 at 05:00 UTC'],
    ['cron(0 5 1 1 ? *)', 'yearly on day 1 of January at 05:00 UTC'],
    ['cron(0 5 L DEC ? *)', 'yearly on the last day of December at 05:00 UTC'],
    ['cron(0 5 ? * * 2030)', 'daily at 05:00 UTC, in 2030'],
  ])('%s → %s', (expression, expected) => {
    expect(describeSchedule(expression)).toBe(expected);
  });

  it('names the rule’s time zone', () => {
    expect(describeSchedule('cron(0 5 ? * * *)', 'Europe/Paris')).toBe(
      'daily at 05:00 Europe/Paris',
    );
  });

  it('falls back to the expression when it is not valid', () => {
    expect(describeSchedule('cron(0 5 * * *)')).toBe('on the schedule cron(0 5 * * *) (UTC)');
  });

  it('is backed by the same check as the schema', () => {
    expect(cronProblem('cron(0 5 ? * * *)')).toBeUndefined();
    expect(cronProblem('cron(0 5 ? * MON-FRI *)')).toBeUndefined();
    expect(cronProblem('cron(0 5 LW * ? *)')).toBeUndefined();
  });
});

describe('describePlans', () => {
  it('a copy without a lifecycle of its own keeps the source lifecycle', () => {
    const doc = parse(
      withRule({
        lifecycle: {
          move_to_cold_storage_after_days: assign('30'),
          delete_after_days: assign('120'),
        },
        copy_actions: { [CENTRAL]: { target_backup_vault_arn: assign(CENTRAL) } },
      }),
    );
    const [plan] = describePlans(effectivePlans([doc]));
    expect(plan!.rules[0]!.copies).toEqual([
      { to: CENTRAL, retentionDays: 120, coldStorageAfterDays: 30, sameLifecycleAsSource: true },
    ]);
  });

  it('continuous backups and resource selections with conditions', () => {
    const example = parse(
      structuredClone(AWS_EXAMPLES['Examples 6 and 7: tag conditions and the resources block']!),
    );
    const rule = parse(withRule({ enable_continuous_backup: assign('true') }));
    const [plan] = describePlans(effectivePlans([rule, example]));
    expect(plan!.rules[0]!.continuous).toBe(true);
    expect(plan!.selections).toEqual([
      expect.objectContaining({
        name: 's',
        kind: 'tags',
        tagKey: 'backup-plan',
        tagValues: ['daily'],
      }),
      {
        name: 'selection_name',
        kind: 'tags',
        role: 'arn:aws:iam::$account:role/IAMRole',
        tagKey: 'env',
        tagValues: ['prod', 'gamma'],
        conditions: ['aws:ResourceTag/backup != "false"'],
      },
      {
        name: 'resource_selection_name',
        kind: 'resources',
        role: 'arn:aws:iam::$account:role/IAMRole',
        resourceTypes: ['*'],
        notResourceTypes: ['arn:aws:fsx:*:*:file-system/*', 'arn:aws:rds:*:*:db:*'],
        conditions: ['aws:ResourceTag/key1 like "include*"'],
      },
    ]);
  });

  it('reports what an incomplete effective plan lacks', () => {
    const child = parse(
      structuredClone(
        AWS_EXAMPLES['Example 5 child: only the settings that differ, booleans as JSON booleans']!,
      ),
    );
    const [plan] = describePlans(effectivePlans([child]));
    expect(plan!.problems).toEqual(['has no selections, so it would back nothing up']);
    const empty = parse({ plans: { q: { rules: { r: {} } } } });
    expect(describePlans(effectivePlans([empty]))[0]!.problems).toEqual([
      'has no regions',
      'rule r has no schedule_expression',
      'rule r has no target_backup_vault_name',
      'has no selections, so it would back nothing up',
    ]);
  });

  it('checks the 90-day cold storage rule across policies', () => {
    const parent = parse(
      withRule({ lifecycle: { move_to_cold_storage_after_days: assign('30') } }),
    );
    const child = parse({
      plans: { p: { rules: { r: { lifecycle: { delete_after_days: assign('100') } } } } },
    });
    const [plan] = describePlans(effectivePlans([parent, child]));
    expect(plan!.problems).toEqual([
      expect.stringMatching(
        /^rule r: delete_after_days must be at least 90 days more than move_to_cold_storage_after_days \(30\)/,
      ),
    ]);
  });
});

describe('plansForProfile', () => {
  const profile = (overrides: Partial<Profile>): Profile => ({
    name: 'test',
    match: {},
    regions: ['us-east-1'],
    backupPolicies: [],
    baseline: {},
    ...overrides,
  });

  it('flags a plan region where the profile creates no vault', () => {
    const result = plansForProfile(
      profile({ backupPolicies: ['production-critical'] }),
      loadBackupPolicies(),
    );
    expect(result.problems).toEqual([
      'plan org-production-critical backs up in eu-west-1, where profile "test" creates no backup vault (its regions: us-east-1)',
    ]);
  });

  it('merges the profile’s policies in the order listed', () => {
    const result = plansForProfile(
      profile({ backupPolicies: ['daily-35-days', 'weekly-archive'] }),
      loadBackupPolicies(),
    );
    expect(result.policies.map((p) => p.name)).toEqual(['daily-35-days', 'weekly-archive']);
    expect(result.plans.map((p) => p.plan)).toEqual(['org-daily-35-days', 'org-weekly-archive']);
    expect(result.plans[1]!.rules[0]).toMatchObject({
      schedule: { text: 'weekly on Sunday at 03:00 UTC' },
      retentionDays: 2557,
      coldStorageAfterDays: 30,
    });
    expect(result.problems).toEqual([]);
  });
});

describe('{{central-vault:<region>}}', () => {
  const policy = (target: string): unknown => ({
    plans: {
      p: {
        regions: { '@@assign': ['eu-west-1'] },
        rules: {
          r: {
            schedule_expression: { '@@assign': 'cron(0 5 ? * * *)' },
            target_backup_vault_name: { '@@assign': 'org-backup-vault' },
            copy_actions: { [target]: { target_backup_vault_arn: { '@@assign': target } } },
          },
        },
        selections: {
          tags: {
            s: {
              iam_role_arn: { '@@assign': 'arn:aws:iam::$account:role/r' },
              tag_key: { '@@assign': 'b' },
              tag_value: { '@@assign': ['y'] },
            },
          },
        },
      },
    },
  });

  it('is a valid copy target, filled in (key and value) with the configured central account', () => {
    const parsed = parseBackupPolicy(policy('{{central-vault:eu-west-1}}'), 'p.json');
    const filled = JSON.stringify(
      resolveCentralVault(parsed, { accountId: '210987654321', vaultName: 'central' }, 'p.json'),
    );
    expect(filled).not.toContain('{{');
    expect(filled.split('arn:aws:backup:eu-west-1:210987654321:backup-vault:central')).toHaveLength(
      3,
    );
  });

  it('names the file and the place when no central account is configured', () => {
    const parsed = parseBackupPolicy(policy('{{central-vault:eu-west-1}}'), 'p.json');
    expect(() => resolveCentralVault(parsed, undefined, 'infra/backup-policies/p.json')).toThrow(
      /infra\/backup-policies\/p\.json: plans\.p\.rules\.r\.copy_actions\.\{\{central-vault:eu-west-1\}\}.*set centralBackup\.accountId/,
    );
  });

  it('names the central account’s logically air-gapped vault, when configured', () => {
    const parsed = parseBackupPolicy(policy('{{central-air-gapped-vault:eu-west-1}}'), 'p.json');
    const central = { accountId: '210987654321', vaultName: 'central' };
    const filled = JSON.stringify(
      resolveCentralVault(parsed, { ...central, airGapped: { name: 'lag' } }, 'p.json'),
    );
    expect(filled.split('arn:aws:backup:eu-west-1:210987654321:backup-vault:lag')).toHaveLength(3);
    expect(() => resolveCentralVault(parsed, central, 'p.json')).toThrow(
      /\{\{central-air-gapped-vault:eu-west-1\}\} needs the central logically air-gapped vault: set centralBackup\.airGappedVault/,
    );
  });

  it('refuses a copy into a locked central vault kept shorter or longer than the lock allows, naming the setting', () => {
    const parsed = parseBackupPolicy(policy('{{central-vault:eu-west-1}}'), 'p.json') as {
      plans: { p: { rules: { r: { copy_actions: Record<string, Record<string, unknown>> } } } };
    };
    const action = parsed.plans.p.rules.r.copy_actions['{{central-vault:eu-west-1}}']!;
    action.lifecycle = { delete_after_days: { '@@assign': '3' } };
    const central = { accountId: '210987654321', vaultName: 'central' };
    // No lock: any retention.
    expect(() => resolveCentralVault(parsed, central, 'p.json')).not.toThrow();
    const locked = { ...central, vaultLock: { minRetentionDays: 7, maxRetentionDays: 365 } };
    expect(() => resolveCentralVault(parsed, locked, 'p.json')).toThrow(
      "p.json: plans.p.rules.r.copy_actions.{{central-vault:eu-west-1}}.lifecycle.delete_after_days: 3 days is shorter than the central vault's Vault Lock allows (centralBackup.vaultLock.minRetentionDays: 7): AWS Backup fails every such copy job",
    );
    action.lifecycle = { delete_after_days: { '@@assign': '400' } };
    expect(() => resolveCentralVault(parsed, locked, 'p.json')).toThrow(
      /400 days is longer than the central vault's Vault Lock allows \(centralBackup\.vaultLock\.maxRetentionDays: 365\)/,
    );
    action.lifecycle = { delete_after_days: { '@@assign': '35' } };
    expect(() => resolveCentralVault(parsed, locked, 'p.json')).not.toThrow();
  });

  it('judges a copy action without a lifecycle by its rule’s retention, which the copies keep', () => {
    const parsed = parseBackupPolicy(policy('{{central-vault:eu-west-1}}'), 'p.json') as {
      plans: { p: { rules: { r: Record<string, unknown> } } };
    };
    const rule = parsed.plans.p.rules.r;
    const locked = {
      accountId: '210987654321',
      vaultName: 'central',
      vaultLock: { minRetentionDays: 7, maxRetentionDays: 365 },
    };
    // Neither sets one here: a policy elsewhere may (inheritance), nothing to judge in this file.
    expect(() => resolveCentralVault(parsed, locked, 'p.json')).not.toThrow();
    rule.lifecycle = { delete_after_days: { '@@assign': '3' } };
    expect(() => resolveCentralVault(parsed, locked, 'p.json')).toThrow(
      "p.json: plans.p.rules.r.copy_actions.{{central-vault:eu-west-1}} (no lifecycle: the copies keep the rule's plans.p.rules.r.lifecycle.delete_after_days): 3 days is shorter than the central vault's Vault Lock allows (centralBackup.vaultLock.minRetentionDays: 7): AWS Backup fails every such copy job",
    );
    // A copy action with a lifecycle of its own, even without delete_after_days, does not take
    // the rule's (AWS applies the source's only when the copy action has none).
    rule.lifecycle = { delete_after_days: { '@@assign': '3' } };
    const copy = (rule.copy_actions as Record<string, Record<string, unknown>>)[
      '{{central-vault:eu-west-1}}'
    ]!;
    copy.lifecycle = { move_to_cold_storage_after_days: { '@@assign': '30' } };
    expect(() => resolveCentralVault(parsed, locked, 'p.json')).not.toThrow();
    delete copy.lifecycle;
    rule.lifecycle = { delete_after_days: { '@@assign': '35' } };
    expect(() => resolveCentralVault(parsed, locked, 'p.json')).not.toThrow();
    const airGapped = {
      accountId: '210987654321',
      vaultName: 'central',
      airGapped: { name: 'lag', minRetentionDays: 7, maxRetentionDays: 30 },
    };
    const toAirGapped = parseBackupPolicy(
      policy('{{central-air-gapped-vault:eu-west-1}}'),
      'p.json',
    ) as typeof parsed;
    toAirGapped.plans.p.rules.r.lifecycle = { delete_after_days: { '@@assign': '35' } };
    expect(() => resolveCentralVault(toAirGapped, airGapped, 'p.json')).toThrow(
      /35 days is longer than the logically air-gapped vault allows \(centralBackup\.airGappedVault\.maxRetentionDays: 30\)/,
    );
  });

  it('refuses a placeholder that is not a region', () => {
    expect(() => parseBackupPolicy(policy('{{central-vault:mars}}'), 'p.json')).toThrow(
      /\{\{central-vault:<region>\}\} or \{\{central-air-gapped-vault:<region>\}\}/,
    );
  });
});
