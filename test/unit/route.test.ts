import { jobNotice } from '../../functions/notify-backup-event/job-notice';
import { creationFailedNotice } from '../../functions/onboard-account/notices';
import {
  ALERT_KINDS,
  DEFAULT_RULES,
  effectiveRules,
  NOTICE_KINDS,
} from '../../functions/shared/config/vocabulary';
import {
  parseConfig,
  RouteRuleSchema,
  type Config,
  type RouteRule,
} from '../../functions/shared/config/schema';
import type { Notice } from '../../functions/shared/notices/notice';
import {
  matches,
  route,
  routeFacts,
  routingNeeds,
  type RouteFacts,
} from '../../functions/shared/notices/route';
import { planNotice, sendNotice } from '../../functions/shared/notices/send';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import {
  FakeClock,
  FakeDirectory,
  FakeEmailSender,
  FakeTopicPublisher,
  InMemoryLedger,
  jobEvent,
} from '../helpers/fakes';
import { exampleConfig } from '../helpers/fixtures';

const recipients = {
  admins: ['ops@example.com', 'Lead@example.com'],
  dba: ['dba@example.com', 'lead@example.com'],
  security: ['sec@example.com'],
};

/** The email section of the configuration with the given lists. */
function emailConfig(
  lists: Record<string, string[]> = recipients,
): Config['notifications']['email'] {
  return { ...exampleConfig().notifications.email, recipients: lists, accountOwners: {} };
}

const facts = (overrides: Partial<RouteFacts> = {}): RouteFacts => ({
  kind: 'job',
  jobType: 'backup',
  state: 'FAILED',
  severity: 'error',
  accountId: '111122223333',
  region: 'us-east-1',
  resourceType: 'RDS',
  ...overrides,
});

const rule = (raw: unknown): RouteRule => RouteRuleSchema.parse(raw);
const topicArn = (topic: string) => `arn:aws:sns:us-east-1:123456789012:${topic}`;
const failedJob = () =>
  jobNotice(jobEvent('backup/backup-job-state-change.failed'), 'error', 'FAILED');
const creationFailed = (): Notice =>
  creationFailedNotice({
    eventId: '6a1e8f2d-3c4b-4a5e-8d7f-9b0c1a2e3f4d',
    trigger: 'CreateAccountResult',
    reason: 'EMAIL_ALREADY_EXISTS',
  });

describe('route with the default rules', () => {
  it.each(['error', 'warning'] as const)('sends %s to admins by email and to chat', (severity) => {
    expect(route(facts({ severity }), DEFAULT_RULES, emailConfig())).toEqual([
      {
        channel: 'email',
        key: 'email:admins',
        list: 'admins',
        to: ['ops@example.com', 'Lead@example.com'],
        rules: ['errors-and-warnings'],
      },
      { channel: 'sns', key: 'sns:chat', topic: 'chat', rules: ['errors-and-warnings'] },
    ]);
  });

  it('sends info to chat only', () => {
    expect(
      route(facts({ severity: 'info', state: 'COMPLETED' }), DEFAULT_RULES, emailConfig()),
    ).toEqual([{ channel: 'sns', key: 'sns:chat', topic: 'chat', rules: ['info-to-chat'] }]);
  });

  it('applies the defaults when the configuration has no rules', () => {
    const config = exampleConfig();
    delete config.notifications.rules;
    const { targets } = planNotice(failedJob(), config, topicArn);
    expect(targets.map((t) => t.key)).toEqual(['email:admins', 'sns:chat']);
  });
});

describe('route with several rules', () => {
  const rules = [
    rule({ name: 'all-errors', match: { severity: 'error' }, email: ['admins'], sns: ['chat'] }),
    rule({
      name: 'databases',
      match: { resourceType: ['rds', 'Aurora'] },
      email: ['dba'],
      sns: ['chat'],
    }),
    rule({ name: 'prod-account', match: { accountId: '111122223333' }, email: ['admins'] }),
    rule({ name: 'never', match: { region: 'eu-west-1' }, email: ['security'] }),
  ];

  it('merges every matching rule, each list and topic once, naming the rules', () => {
    expect(route(facts(), rules, emailConfig())).toEqual([
      {
        channel: 'email',
        key: 'email:admins',
        list: 'admins',
        to: ['ops@example.com', 'Lead@example.com'],
        rules: ['all-errors', 'prod-account'],
      },
      { channel: 'sns', key: 'sns:chat', topic: 'chat', rules: ['all-errors', 'databases'] },
      {
        channel: 'email',
        key: 'email:dba',
        list: 'dba',
        to: ['dba@example.com'],
        rules: ['databases'],
      },
    ]);
  });

  it('sends an address on two lists only one email (case-insensitively)', () => {
    const addresses = route(facts(), rules, emailConfig()).flatMap((t) =>
      t.channel === 'email' ? t.to : [],
    );
    expect(addresses.filter((a) => a.toLowerCase() === 'lead@example.com')).toHaveLength(1);
  });

  it('drops a list whose addresses all went out through another list', () => {
    const lists = { admins: ['a@example.com'], copy: ['A@example.com'] };
    const targets = route(
      facts(),
      [rule({ name: 'one', email: ['admins', 'copy'] })],
      emailConfig(lists),
    );
    expect(targets.map((t) => t.key)).toEqual(['email:admins']);
  });

  it('returns nothing when no rule matches', () => {
    expect(
      route(
        facts({ severity: 'info', resourceType: 'EBS', accountId: '444455556666' }),
        rules,
        emailConfig(),
      ),
    ).toEqual([]);
  });

  it('makes the pipeline send nothing for a notice that no rule routes', async () => {
    const config = exampleConfig();
    config.notifications.rules = [
      rule({ name: 'restores', match: { jobType: 'restore' }, sns: ['chat'] }),
    ];
    const email = new FakeEmailSender();
    const sns = new FakeTopicPublisher();
    const log = { info: jest.fn(), warn: jest.fn() };
    const result = await sendNotice(failedJob(), {
      config,
      topicArn,
      accounts: new CachedAccountContext(new FakeDirectory(), 60_000, new FakeClock()),
      ledger: new InMemoryLedger(),
      email,
      sns,
      clock: new FakeClock(),
      log,
    });
    expect(result.targets).toEqual([]);
    expect(email.sent).toEqual([]);
    expect(sns.published).toEqual([]);
    expect(log.info).toHaveBeenCalledWith(
      'no routing rule matches; nothing sent',
      expect.anything(),
    );
  });
});

describe('matches', () => {
  it('matches every alert with an empty match', () => {
    expect(matches({}, facts())).toBe(true);
  });

  it.each([
    ['jobType', { jobType: ['copy', 'restore'] }, { jobType: 'restore' }, { jobType: 'backup' }],
    ['state', { state: ['FAILED'] }, { state: 'FAILED' }, { state: 'EXPIRED' }],
    ['severity', { severity: ['warning'] }, { severity: 'warning' }, { severity: 'error' }],
    [
      'accountId',
      { accountId: ['444455556666'] },
      { accountId: '444455556666' },
      { accountId: '111122223333' },
    ],
    ['region', { region: ['eu-west-1'] }, { region: 'eu-west-1' }, { region: 'us-east-1' }],
    [
      'resourceType',
      { resourceType: ['DynamoDB'] },
      { resourceType: 'dynamodb' },
      { resourceType: 'EFS' },
    ],
    ['kind', { kind: ['drift'] }, { kind: 'drift' }, { kind: 'job' }],
    [
      'ouPath',
      { ouPath: ['Workloads/*'] },
      { ouPath: 'Workloads/Production' },
      { ouPath: 'Sandbox/Dev' },
    ],
    [
      'accountTags',
      { accountTags: { team: ['payments'] } },
      { accountTags: { team: 'payments' } },
      { accountTags: { team: 'data' } },
    ],
  ] as const)('key %s matches only listed values', (_key, match, hit, miss) => {
    expect(matches(match as never, facts(hit as Partial<RouteFacts>))).toBe(true);
    expect(matches(match as never, facts(miss as Partial<RouteFacts>))).toBe(false);
  });

  it('does not match a resourceType rule when the event has no resource type', () => {
    expect(matches({ resourceType: ['EC2'] }, facts({ resourceType: undefined }))).toBe(false);
  });

  it('needs every key of a match to hold', () => {
    const match = { severity: ['error' as const], region: ['eu-west-1'] };
    expect(matches(match, facts({ region: 'eu-west-1' }))).toBe(true);
    expect(matches(match, facts({ region: 'eu-west-1', severity: 'info' }))).toBe(false);
  });

  it('accepts a single value or a list in the configuration', () => {
    const parsed = rule({
      name: 'x',
      match: {
        state: 'FAILED',
        kind: 'onboarding',
        ouPath: 'Workloads/**',
        accountTags: { team: 'a' },
      },
      sns: ['chat'],
    });
    expect(parsed.match).toEqual({
      state: ['FAILED'],
      kind: ['onboarding'],
      ouPath: ['Workloads/**'],
      accountTags: { team: ['a'] },
    });
  });
});

describe('kind', () => {
  it.each(NOTICE_KINDS)('a rule without kind matches %s only if it is an alert kind', (kind) => {
    expect(matches({}, facts({ kind }))).toBe(ALERT_KINDS.includes(kind));
  });

  it('keeps onboarding notices and digests away from rules that do not name them', () => {
    expect(ALERT_KINDS).toEqual([
      'job',
      'scan',
      'index',
      'vault',
      'region-setting',
      'tamper',
      'drift',
      'coverage',
    ]);
    expect(matches({ severity: ['error'] }, facts({ kind: 'onboarding' }))).toBe(false);
    expect(matches({ kind: ['onboarding'] }, facts({ kind: 'onboarding' }))).toBe(true);
    expect(matches({ kind: ['onboarding'] }, facts({ kind: 'job' }))).toBe(false);
  });
});

describe('ouPath', () => {
  it.each([
    ['Workloads/*', 'Workloads/Production', true],
    ['Workloads/*', 'Workloads/Production/Payments', false],
    ['Workloads/*', 'Workloads', false],
    ['Workloads/**', 'Workloads', true],
    ['Workloads/**', 'Workloads/Production/Payments', true],
    ['Workloads/Prod*', 'Workloads/Production', true],
    ['**', '', true],
    ['Workloads/Production', 'workloads/production', false],
  ])('pattern %p against OU path %p: %p', (pattern, ouPath, expected) => {
    expect(matches({ ouPath: [pattern] }, facts({ ouPath }))).toBe(expected);
  });

  it('matches when any pattern of the list does', () => {
    expect(
      matches({ ouPath: ['Sandbox/**', 'Workloads/*'] }, facts({ ouPath: 'Workloads/Dev' })),
    ).toBe(true);
  });

  it('does not match while the OU path is unknown', () => {
    expect(matches({ ouPath: ['**'] }, facts({ ouPath: undefined }))).toBe(false);
  });
});

describe('accountTags', () => {
  const tagged = (accountTags: Record<string, string> | undefined) => facts({ accountTags });

  it('matches one of the listed values, or any value with "*"', () => {
    const match = { accountTags: { env: ['prod', 'staging'], team: ['*'] } };
    expect(matches(match, tagged({ env: 'staging', team: 'payments' }))).toBe(true);
    expect(matches(match, tagged({ env: 'dev', team: 'payments' }))).toBe(false);
  });

  it('needs every tag to be present', () => {
    const match = { accountTags: { env: ['prod'], team: ['*'] } };
    expect(matches(match, tagged({ env: 'prod' }))).toBe(false);
    expect(matches(match, tagged(undefined))).toBe(false);
  });

  it('compares values exactly', () => {
    expect(matches({ accountTags: { env: ['prod'] } }, tagged({ env: 'Prod' }))).toBe(false);
  });
});

describe('routeFacts and routingNeeds', () => {
  it('take the OU path and tags from the notice account', () => {
    const notice = failedJob();
    notice.account = { id: '111122223333', ouPath: 'Workloads/Production', tags: { env: 'prod' } };
    expect(routeFacts(notice)).toEqual({
      kind: 'job',
      severity: 'error',
      jobType: 'backup',
      state: 'FAILED',
      accountId: '111122223333',
      region: 'us-east-1',
      resourceType: 'DynamoDB',
      ouPath: 'Workloads/Production',
      accountTags: { env: 'prod' },
    });
  });

  it('ask for the OU path or tags only when a rule needs them', () => {
    const email = emailConfig();
    expect(routingNeeds(DEFAULT_RULES, email)).toEqual({ ouPath: false, tags: false });
    expect(
      routingNeeds([rule({ name: 'a', match: { ouPath: '**' }, sns: ['chat'] })], email),
    ).toEqual({
      ouPath: true,
      tags: false,
    });
    expect(
      routingNeeds(
        [rule({ name: 'a', match: { accountTags: { env: '*' } }, sns: ['chat'] })],
        email,
      ),
    ).toEqual({ ouPath: false, tags: true });
  });

  it('ask for tags when an owner tag is configured and a rule emails the account owner', () => {
    const owners = [rule({ name: 'a', email: ['account-owner'] })];
    expect(routingNeeds(owners, emailConfig()).tags).toBe(false);
    expect(routingNeeds(owners, { ...emailConfig(), accountOwnerTag: 'owner' }).tags).toBe(true);
    expect(routingNeeds(DEFAULT_RULES, { ...emailConfig(), accountOwnerTag: 'owner' }).tags).toBe(
      false,
    );
  });
});

describe('routing by OU path and account tags', () => {
  function config(): Config {
    const raw = exampleConfig();
    raw.notifications.rules = [
      {
        name: 'production',
        match: { ouPath: ['Workloads/Production/**'] },
        email: ['dba'],
        sns: [],
      },
      {
        name: 'payments',
        match: { accountTags: { team: ['payments'] } },
        email: [],
        sns: ['chat'],
      },
      // The catch-all every configuration needs (error alerts always reach someone).
      { name: 'errors', match: { severity: ['error'] }, email: [], sns: ['chat'] },
    ];
    return parseConfig(raw, 'test');
  }

  it('routes by the OU path and tags of the notice account', () => {
    const notice = failedJob();
    notice.account = {
      id: '111122223333',
      name: 'Production',
      ouPath: 'Workloads/Production/Payments',
      tags: { team: 'payments' },
    };
    expect(planNotice(notice, config(), topicArn).targets.map((t) => t.key)).toEqual([
      'email:dba',
      'sns:chat',
    ]);
    notice.account = { id: '111122223333', ouPath: 'Sandbox', tags: {} };
    expect(planNotice(notice, config(), topicArn).targets).toEqual([
      { channel: 'sns', key: 'sns:chat', topic: 'chat', rules: ['errors'] },
    ]);
  });
});

const DAILY_DIGEST_RULE = {
  name: 'daily-digest',
  match: { kind: ['digest'] },
  email: ['admins'],
  sns: ['chat'],
};

describe('effectiveRules and the onboarding-notices rule', () => {
  it('appends onboarding-notices after the configured rules, from the onboarding section', () => {
    const config = exampleConfig();
    config.onboarding!.email = ['admins', 'dba'];
    config.onboarding!.sns = ['chat'];
    const rules = effectiveRules(config).filter((r) => r.name !== 'daily-digest');
    expect(rules.slice(0, -1)).toEqual(config.notifications.rules);
    expect(rules.at(-1)).toEqual({
      name: 'onboarding-notices',
      match: { kind: ['onboarding'] },
      email: ['admins', 'dba'],
      sns: ['chat'],
    });
  });

  it('adds the account owner with notifyAccountEmail', () => {
    const config = exampleConfig();
    config.onboarding!.notifyAccountEmail = true;
    expect(effectiveRules(config).find((r) => r.name === 'onboarding-notices')!.email).toEqual([
      'admins',
      'account-owner',
    ]);
  });

  it('uses admins and chat without an onboarding section, after the default rules', () => {
    const config = exampleConfig();
    delete config.onboarding;
    delete config.notifications.rules;
    expect(effectiveRules(config)).toEqual([
      ...DEFAULT_RULES,
      {
        name: 'onboarding-notices',
        match: { kind: ['onboarding'] },
        email: ['admins'],
        sns: ['chat'],
      },
      DAILY_DIGEST_RULE,
    ]);
  });

  it('sends the digest to watching.digest, and owner digests to the account owners when asked', () => {
    const config = exampleConfig();
    expect(effectiveRules(config).at(-1)).toEqual(DAILY_DIGEST_RULE);
    config.watching.digest.accountOwners = true;
    expect(effectiveRules(config).at(-1)).toEqual({
      name: 'account-owner-digests',
      match: { kind: ['account-digest'] },
      email: ['account-owner'],
      sns: [],
    });
  });

  it('routes an onboarding notice by that rule only, and a job notice never by it', () => {
    const config = exampleConfig();
    const onboarding = planNotice(creationFailed(), config, topicArn).targets;
    expect(onboarding).toEqual([
      {
        channel: 'email',
        key: 'email:admins',
        list: 'admins',
        to: ['platform-team@example.com'],
        rules: ['onboarding-notices'],
      },
      { channel: 'sns', key: 'sns:chat', topic: 'chat', rules: ['onboarding-notices'] },
    ]);
    const job = planNotice(failedJob(), config, topicArn).targets;
    expect(job.flatMap((t) => t.rules)).not.toContain('onboarding-notices');
  });
});
