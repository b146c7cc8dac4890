import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { effectiveRules, DEFAULT_RULES } from '../../functions/shared/config/vocabulary';
import { parseConfig } from '../../functions/shared/config/schema';
import { CONFIG_ENV, loadRuntimeConfig } from '../../functions/shared/config/runtime';
import { readConfigFile } from '../../tools/config-file';
import { ConfigError } from '../../functions/shared/errors';
import { exampleConfig, exampleConfigWithChannels, ROOT } from '../helpers/fixtures';

type Loose = Record<string, unknown>;

/** The example configuration as plain data, loosely typed so a test can break any setting. */
interface RawConfig extends Loose {
  notifications: Loose & {
    email: Loose & { recipients: Loose };
    topics: Loose;
    classification: Loose;
    rules?: Loose[];
  };
}

/** The example configuration as raw data, to break one setting at a time. */
function raw(): RawConfig {
  return JSON.parse(JSON.stringify(exampleConfig()));
}

function configError(input: unknown): ConfigError {
  try {
    parseConfig(input, 'test.yml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('parseConfig accepted the configuration');
}

describe('the example configuration', () => {
  it('is valid and reads as documented', () => {
    const config = readConfigFile(join(ROOT, 'infra', 'config', 'example.yml'));
    expect(config.organizationId).toBe('o-exampleorg1');
    expect(config.notifications.email.recipients.admins).toEqual(['platform-team@example.com']);
    expect(config.notifications.topics.chat).toMatchObject({
      chat: true,
      slack: [{ name: 'backup-alerts', filter: { severity: ['error', 'warning'] } }],
      teams: [{ name: 'production-backups', loggingLevel: 'ERROR' }],
      subscribers: [],
    });
    expect(config.notifications.topics.chat!.slack[0]!.guardrailPolicies).toEqual([
      'arn:aws:iam::aws:policy/AWSDenyAll',
    ]);
    expect(config.notifications.rules?.map((r) => r.name)).toEqual([
      'errors-and-warnings',
      'info-to-chat',
      'database-failures',
    ]);
    expect(config.notifications.rules?.[1]).toMatchObject({
      match: { severity: ['info'] },
      email: [],
    });
    expect(config.notifications.accountNameCacheSeconds).toBe(900);
  });

  it('round-trips through JSON (how the stack hands it to the functions)', () => {
    expect(parseConfig(raw(), 'json')).toEqual(exampleConfig());
  });
});

describe('parseConfig rejects bad settings, naming the path', () => {
  it.each<[string, (c: RawConfig) => void, RegExp]>([
    [
      'a rule naming an unknown recipient list',
      (c) => (c.notifications.rules![0]!.email = ['admins', 'nobody']),
      /notifications\.rules\.0\.email\.1: .*"nobody".*have: admins, dba/,
    ],
    [
      'a rule naming an unknown topic',
      (c) => (c.notifications.rules![1]!.sns = ['pager']),
      /notifications\.rules\.1\.sns\.0: .*"pager"/,
    ],
    [
      'a bad organizationId',
      (c) => (c.organizationId = 'org-1'),
      /organizationId: must look like o-/,
    ],
    ['a missing organizationId', (c) => delete c.organizationId, /organizationId: is required/],
    [
      'an unknown top-level key',
      (c) => (c.extra = 1),
      /\(top level\): unknown setting\(s\) "extra"/,
    ],
    [
      'an unknown nested key',
      (c) => (c.notifications.email.bcc = ['x@example.com']),
      /notifications\.email: unknown setting\(s\) "bcc"/,
    ],
    [
      'a sender outside the SES identity',
      (c) => (c.notifications.email.sender = 'alerts@other.example'),
      /notifications\.email\.sender: must be an address of the SES identity "example\.com"/,
    ],
    [
      'a recipient that is not an address',
      (c) => (c.notifications.email.recipients.admins = ['not-an-address']),
      /notifications\.email\.recipients\.admins\.0: must be an email address/,
    ],
    [
      'an unknown state in classification',
      (c) => (c.notifications.classification.states = { BROKEN: 'error' }),
      /notifications\.classification\.states/,
    ],
    [
      'an unknown severity in classification',
      (c) => (c.notifications.classification.states = { FAILED: 'critical' }),
      /notifications\.classification\.states\.FAILED: must be one of "error", "warning", "info", "ignore"/,
    ],
    [
      'a rule without any channel',
      (c) => (c.notifications.rules![0] = { name: 'empty', match: {} }),
      /notifications\.rules\.0: a rule must name at least one email list or sns topic/,
    ],
    [
      'a bad account id in a match',
      (c) => (c.notifications.rules![0]!.match = { accountId: '1234' }),
      /notifications\.rules\.0\.match\.accountId: must be a 12-digit AWS account id/,
    ],
    [
      'a topic ARN that is not an SNS ARN',
      (c) => (c.notifications.topics.chat = { arn: 'arn:aws:sqs:us-east-1:123456789012:q' }),
      /notifications\.topics\.chat\.arn: must be an SNS topic ARN/,
    ],
    [
      'default rules without an admins list',
      (c) => {
        delete c.notifications.rules;
        c.notifications.email.recipients = { dba: ['dba@example.com'] };
      },
      /notifications\.email\.recipients: needs an "admins" list/,
    ],
    [
      'default rules without a chat topic',
      (c) => {
        delete c.notifications.rules;
        c.notifications.topics = {};
      },
      /notifications\.topics: needs a "chat" topic/,
    ],
    [
      'rules that send error alerts to nobody',
      (c) => (c.notifications.rules = []),
      /notifications\.rules: no rule sends every error alert of kind job, scan, index, vault, region-setting, tamper, drift, coverage to a recipient list or topic/,
    ],
    [
      'error alerts only to some accounts, or only to their owners',
      (c) =>
        (c.notifications.rules = [
          { name: 'prod', match: { severity: 'error', ouPath: 'Prod/**' }, email: ['admins'] },
          { name: 'owners', match: { severity: 'error' }, email: ['account-owner'] },
          { name: 'jobs', match: { kind: 'job' }, sns: ['chat'] },
        ]),
      /no rule sends every error alert of kind scan, index, vault, region-setting, tamper, drift, coverage .*add a catch-all such as \{name: errors, match: \{severity: error\}, email: \[admins\]\}/,
    ],
    [
      'a profile without match conditions before others',
      (c) => {
        const onboarding = c.onboarding as { profiles: Loose[] };
        onboarding.profiles.reverse();
      },
      /onboarding\.profiles\.0\.match: profile "default" matches every account \(no match conditions\), so the match conditions of the profiles listed after it \("production"\) never apply: list it after them/,
    ],
    [
      'a vault name with a dot (AWS Backup allows letters, digits, "-" and "_")',
      (c) => {
        const onboarding = c.onboarding as { profiles: Loose[] };
        onboarding.profiles[0]!.baseline = { vaultName: 'my.vault' };
      },
      /onboarding\.profiles\.0\.baseline\.vaultName: must be a backup vault name: 2 to 50 letters, digits, "-", "_"/,
    ],
    [
      'a Teams channel id with a broken %-escape (named, not a crash)',
      (c) =>
        (c.notifications.topics.chat = {
          teams: [
            {
              name: 'ops',
              teamId: '00000000-0000-0000-0000-000000000001',
              tenantId: '00000000-0000-0000-0000-000000000002',
              channelId: '19:abc%ZZ@thread.tacv2',
            },
          ],
        }),
      /notifications\.topics\.chat\.teams\.0\.channelId: must be a Teams channel id/,
    ],
    [
      'a cron schedule with both day fields "*" (EventBridge wants one "?")',
      (c) => ((c.onboarding as Loose).schedule = 'cron(0 5 * * * *)'),
      /onboarding\.schedule: exactly one of day-of-month and day-of-week must be "\?" in cron\(0 5 \* \* \* \*\)/,
    ],
    [
      'a cron schedule out of range',
      (c) => ((c.watching as { digest: Loose }).digest.schedule = 'cron(99 25 * * ? *)'),
      /watching\.digest\.schedule: minutes field "99" is not valid/,
    ],
    [
      'a rate with a misspelt unit',
      (c) => ((c.onboarding as Loose).schedule = 'rate(1 dayz)'),
      /onboarding\.schedule: must be rate\(value unit\) .*minute\(s\), hour\(s\) or day\(s\)/,
    ],
    [
      'a rate whose unit does not agree with its value',
      (c) => ((c.onboarding as Loose).schedule = 'rate(2 day)'),
      /onboarding\.schedule: takes "days" with 2: rate\(2 days\)/,
    ],
    [
      'an account owner keyed by an unquoted account id (YAML number, leading zero lost)',
      (c) => (c.notifications.email.accountOwners = { '44445555666': ['a@example.com'] }),
      /notifications\.email\.accountOwners\.44445555666: key "44445555666" must be a 12-digit AWS account id \(write it in quotes: YAML reads an unquoted 044445555666 as the number 44445555666\)/,
    ],
    [
      'a recipient list name with a space',
      (c) => (c.notifications.email.recipients['on call'] = ['a@example.com']),
      /notifications\.email\.recipients\.on call: key "on call" must start with a letter/,
    ],
    [
      'account ids given as YAML numbers in a list, named by item',
      (c) => (c.notifications.rules![0]!.match = { accountId: [123456789012] }),
      /notifications\.rules\.0\.match\.accountId\.0: .*received number: write it in quotes/,
    ],
    [
      'an SES identity with a wildcard (it would become a wildcard in IAM)',
      (c) => {
        c.notifications.email.identity = '*.com';
        c.notifications.email.sender = 'alerts@x.com';
      },
      /notifications\.email\.identity: must be a domain \(example\.com\) or an email address/,
    ],
    [
      'a sender without a local part',
      (c) => (c.notifications.email.sender = '@example.com'),
      /notifications\.email\.sender: must be an email address, optionally with a display name/,
    ],
    [
      'a sender with a line break (a header injection)',
      (c) => (c.notifications.email.sender = 'a@example.com\nBcc: x@example.com'),
      /notifications\.email\.sender: must be an email address/,
    ],
    [
      'two rules of the same name',
      (c) => c.notifications.rules!.push({ ...c.notifications.rules![0]! }),
      /notifications\.rules\.3\.name: rule "errors-and-warnings" is defined twice/,
    ],
    [
      'a lost-events settle time as long as the window (nothing would ever be found)',
      (c) => ((c.watching as Loose).lostEvents = { lookbackHours: 1, settleMinutes: 60 }),
      /watching\.lostEvents\.settleMinutes: must be shorter than lostEvents\.lookbackHours \(1 h\)/,
    ],
    [
      'delivery records kept shorter than the lost-events window',
      (c) => {
        c.notifications.deliveryRecordDays = 1;
        (c.watching as Loose).lostEvents = { lookbackHours: 48, settleMinutes: 60 };
      },
      /notifications\.deliveryRecordDays: must keep delivery records at least as long as watching\.lostEvents\.lookbackHours \(48 h\)/,
    ],
    [
      'incidents grouped by plan across the organization',
      (c) =>
        ((c.notifications as Loose).aggregation = {
          ...(c.notifications.aggregation as Loose),
          groupBy: ['plan'],
          scope: 'organization',
        }),
      /notifications\.aggregation\.groupBy: groups by plan only with scope: account/,
    ],
    [
      'one tag for the profile and the opt-out',
      (c) => {
        const onboarding = c.onboarding as Loose;
        onboarding.optOutTag = 'backup';
        onboarding.profileTag = 'backup';
      },
      /onboarding\.optOutTag: must differ from onboarding\.profileTag \("backup"\)/,
    ],
    [
      'a cache time out of range',
      (c) => (c.notifications.accountNameCacheSeconds = -1),
      /notifications\.accountNameCacheSeconds/,
    ],
  ])('%s', (_what, breakIt, message) => {
    const input = raw();
    breakIt(input);
    const error = configError(input);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(/^invalid configuration in test\.yml:/);
    expect(error.message).toMatch(message);
  });

  it('accepts the sender as a plain address of a domain identity or the identity itself', () => {
    const input = raw();
    input.notifications.email.sender = 'ALERTS@Example.com';
    expect(() => parseConfig(input, 'x')).not.toThrow();
    input.notifications.email.identity = 'alerts@example.com';
    input.notifications.email.sender = 'Alerts <alerts@example.com>';
    expect(() => parseConfig(input, 'x')).not.toThrow();
  });

  it('says to quote a number only where an account id goes', () => {
    const input = raw();
    (input.notifications as Loose).topics = { chat: { arn: 42 } };
    expect(configError(input).message).not.toMatch(/write it in quotes/);
  });

  it('accepts profiles without match conditions after a catch-all: the profile tag names them', () => {
    const input = raw();
    const onboarding = input.onboarding as { profiles: Loose[] };
    onboarding.profiles = [
      { name: 'default', regions: ['us-east-1'], backupPolicies: ['daily-35-days'] },
      {
        name: 'gold',
        regions: ['us-east-1', 'eu-west-1'],
        backupPolicies: ['production-critical'],
      },
    ];
    expect(parseConfig(input, 'test.yml').onboarding!.profiles.map((p) => p.name)).toEqual([
      'default',
      'gold',
    ]);
  });

  it('uses the default rules only when none are configured, then the onboarding audience', () => {
    const config = exampleConfig();
    const onboardingRule = {
      name: 'onboarding-notices',
      match: { kind: ['onboarding'] },
      email: ['admins'],
      sns: ['chat'],
    };
    const digestRule = {
      name: 'daily-digest',
      match: { kind: ['digest'] },
      email: ['admins'],
      sns: ['chat'],
    };
    expect(effectiveRules(config)).toEqual([
      ...config.notifications.rules!,
      onboardingRule,
      digestRule,
    ]);
    delete config.notifications.rules;
    expect(effectiveRules(config)).toEqual([...DEFAULT_RULES, onboardingRule, digestRule]);
    config.onboarding!.notifyAccountEmail = true;
    expect(effectiveRules(config).at(-2)!.email).toEqual(['admins', 'account-owner']);
  });
});

describe('deployment modes', () => {
  const MGMT = '111111111111';
  const ADMIN = '222222222222';
  const delegated = (c: RawConfig, deployment: Loose = {}) => {
    c.deployment = {
      mode: 'delegated-admin',
      managementAccountId: MGMT,
      delegatedAdministratorAccountId: ADMIN,
      ...deployment,
    };
    (c.onboarding as Loose).memberRole = {
      deploy: 'stackset',
      organizationalUnitIds: ['r-ab12'],
    };
    return c;
  };

  it('defaults to the management mode', () => {
    expect(parseConfig(raw(), 'test.yml').deployment).toEqual({ mode: 'management' });
  });

  it('accepts delegated-admin with both accounts and the member role from the StackSet', () => {
    expect(parseConfig(delegated(raw()), 'test.yml').deployment).toEqual({
      mode: 'delegated-admin',
      managementAccountId: MGMT,
      delegatedAdministratorAccountId: ADMIN,
    });
  });

  it.each<[string, (c: RawConfig) => void, RegExp]>([
    [
      'delegated-admin without the management account',
      (c) => delegated(c, { managementAccountId: undefined }),
      /deployment\.managementAccountId: is required with mode delegated-admin/,
    ],
    [
      'delegated-admin without the administrator account',
      (c) => delegated(c, { delegatedAdministratorAccountId: undefined }),
      /deployment\.delegatedAdministratorAccountId: is required with mode delegated-admin/,
    ],
    [
      'the management account as the delegated administrator',
      (c) => delegated(c, { delegatedAdministratorAccountId: MGMT }),
      /deployment\.delegatedAdministratorAccountId: must not be the management account/,
    ],
    [
      'delegated-admin reaching members through the administrator roles',
      (c) => {
        delegated(c);
        delete (c.onboarding as Loose).memberRole;
      },
      /onboarding\.memberRole: must be \{deploy: stackset\} with deployment\.mode delegated-admin/,
    ],
    [
      'delegated-admin with the bootstrapped member role',
      (c) => {
        delegated(c);
        (c.onboarding as Loose).memberRole = { deploy: 'bootstrap' };
      },
      /onboarding\.memberRole: must be \{deploy: stackset\}/,
    ],
    [
      "the management mode naming the other mode's accounts",
      (c) => (c.deployment = { mode: 'management', delegatedAdministratorAccountId: ADMIN }),
      /deployment\.delegatedAdministratorAccountId: is only for deployment\.mode: delegated-admin/,
    ],
    [
      'an unknown mode',
      (c) => (c.deployment = { mode: 'delegated' }),
      /deployment\.mode: must be one of "management", "delegated-admin"/,
    ],
  ])('refuses %s, naming the setting', (_what, breakIt, message) => {
    const c = raw();
    breakIt(c);
    expect(configError(c).message).toMatch(message);
  });
});

describe('readConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-test-'));

  it('names a file it cannot read', () => {
    expect(() => readConfigFile(join(dir, 'missing.yml'))).toThrow(
      /cannot read configuration file .*missing\.yml/,
    );
  });

  it('names a file that is not YAML', () => {
    const path = join(dir, 'bad.yml');
    writeFileSync(path, 'organizationId: [unclosed\n');
    expect(() => readConfigFile(path)).toThrow(ConfigError);
    expect(() => readConfigFile(path)).toThrow(/bad\.yml is not valid YAML/);
  });

  it('reads merge keys (<<: *anchor), which share settings between entries', () => {
    const example = readFileSync(join(ROOT, 'infra', 'config', 'example.yml'), 'utf8');
    const path = join(dir, 'merge.yml');
    writeFileSync(
      path,
      example.replace(
        / {2}profiles:\n[\s\S]*?\n\n/,
        [
          '  profiles:',
          '    - &production',
          '      name: production',
          "      match: { ouPath: ['Workloads/Production/**'] }",
          '      regions: [us-east-1, eu-west-1]',
          '      backupPolicies: [production-critical]',
          '    - <<: *production',
          '      name: staging',
          "      match: { ouPath: ['Workloads/Staging/**'] }",
          '    - name: default',
          '      regions: [us-east-1]',
          '',
          '',
        ].join('\n'),
      ),
    );
    const staging = readConfigFile(path).onboarding!.profiles[1]!;
    expect(staging).toMatchObject({
      name: 'staging',
      regions: ['us-east-1', 'eu-west-1'],
      backupPolicies: ['production-critical'],
      match: { ouPath: ['Workloads/Staging/**'] },
    });
  });

  it('says a UTF-16 file is UTF-16', () => {
    const path = join(dir, 'utf16.yml');
    writeFileSync(path, Buffer.from('\ufefforganizationId: o-exampleorg1\n', 'utf16le'));
    expect(() => readConfigFile(path)).toThrow(/utf16\.yml is UTF-16: save it as UTF-8/);
  });

  it('names the file in validation errors', () => {
    const path = join(dir, 'invalid.yml');
    writeFileSync(path, 'organizationId: nope\n');
    expect(() => readConfigFile(path)).toThrow(/invalid configuration in .*invalid\.yml/);
  });
});

describe('loadRuntimeConfig', () => {
  const good = (): NodeJS.ProcessEnv => ({
    [CONFIG_ENV]: JSON.stringify(exampleConfig()),
    DELIVERY_TABLE_NAME: 'deliveries',
    TOPIC_ARNS: JSON.stringify({ chat: 'arn:aws:sns:us-east-1:123456789012:chat' }),
  });

  it('reads the configuration and the runtime settings', () => {
    const { config, runtime } = loadRuntimeConfig(good());
    expect(config).toEqual(exampleConfig());
    expect(runtime).toEqual({
      DELIVERY_TABLE_NAME: 'deliveries',
      TOPIC_ARNS: { chat: 'arn:aws:sns:us-east-1:123456789012:chat' },
    });
  });

  it('reads the configuration as the stack sets it: gzip’d, in base64', () => {
    const env = good();
    env[CONFIG_ENV] = `gzip+base64:${gzipSync(env[CONFIG_ENV]!).toString('base64')}`;
    expect(loadRuntimeConfig(env).config).toEqual(exampleConfig());
  });

  it.each<[string, (env: NodeJS.ProcessEnv) => void, RegExp]>([
    [
      'the compressed configuration is not gzip',
      (env) => (env[CONFIG_ENV] = 'gzip+base64:bm90IGd6aXA='),
      /BACKUP_CONTROL_PLANE_CONFIG starts with "gzip\+base64:" but is not gzip'd base64/,
    ],
    [
      'the configuration is not set',
      (env) => delete env[CONFIG_ENV],
      /BACKUP_CONTROL_PLANE_CONFIG is not set/,
    ],
    [
      'the configuration is not JSON',
      (env) => (env[CONFIG_ENV] = 'organizationId: x'),
      /BACKUP_CONTROL_PLANE_CONFIG is not valid JSON/,
    ],
    [
      'the configuration is invalid',
      (env) => (env[CONFIG_ENV] = JSON.stringify({ ...exampleConfig(), organizationId: 'x' })),
      /invalid configuration in BACKUP_CONTROL_PLANE_CONFIG:\n {2}- organizationId/,
    ],
    [
      'the table name is missing',
      (env) => delete env.DELIVERY_TABLE_NAME,
      /in the environment:\n {2}- DELIVERY_TABLE_NAME: is missing/,
    ],
    [
      'TOPIC_ARNS is not JSON',
      (env) => (env.TOPIC_ARNS = 'chat=arn'),
      /TOPIC_ARNS: must be a JSON object of topic name to ARN/,
    ],
    [
      'TOPIC_ARNS holds a non-ARN',
      (env) => (env.TOPIC_ARNS = '{"chat":"my-topic"}'),
      /TOPIC_ARNS: must be a JSON object/,
    ],
    ['TOPIC_ARNS is missing', (env) => delete env.TOPIC_ARNS, /TOPIC_ARNS: is missing/],
    [
      'TOPIC_ARNS lacks a filtered channel’s topic',
      (env) => (env[CONFIG_ENV] = JSON.stringify(exampleConfigWithChannels())),
      /TOPIC_ARNS has no ARN for "chat\/backup-alerts", "chat\/production-backups" .*copy the stack output TopicArns/,
    ],
    [
      'a topic is named like an object property',
      (env) => {
        const config = exampleConfig();
        Object.assign(config.notifications.topics, {
          constructor: config.notifications.topics.chat,
        });
        env[CONFIG_ENV] = JSON.stringify(config);
      },
      /TOPIC_ARNS has no ARN for "constructor"/,
    ],
  ])('throws a ConfigError when %s', (_what, breakIt, message) => {
    const env = good();
    breakIt(env);
    expect(() => loadRuntimeConfig(env)).toThrow(ConfigError);
    expect(() => loadRuntimeConfig(env)).toThrow(message);
  });
});
