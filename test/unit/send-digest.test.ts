import { buildDigestDeps, createHandler } from '../../functions/send-digest/handler';
import {
  collectDigest,
  digestPeriod,
  sendDigest,
  type DigestDeps,
} from '../../functions/send-digest/send-digest';
import { TopicSchema, type Config } from '../../functions/shared/config/schema';
import { ConfigError } from '../../functions/shared/errors';
import type {
  AccountRecord,
  CheckRecord,
  JobSummaries,
  JobSummaryRow,
} from '../../functions/shared/ports';
import { FakeClock } from '../helpers/fakes';
import { exampleConfig } from '../helpers/fixtures';
import { lambdaContext } from '../helpers/lambda';
import {
  awsError,
  FakeOrganization,
  InMemoryCheckLedger,
  InMemoryOnboardingLedger,
  MANAGEMENT_ID,
  pipelineWorld,
  WORKLOADS_OU,
  type PipelineWorld,
} from '../helpers/onboarding-fakes';

/** collectDigest and sendDigest with in-memory sources and channels; the handler around them. */

const PAYMENTS = '200000000001';
const ANALYTICS = '200000000002';
const SANDBOX = '200000000003';
const CLOSED = '200000000004';

const TODAY = '2025-03-13';
const YESTERDAY = '2025-03-12';
/** The scheduled run: 08:00 UTC, the day after the period. */
const RUN_AT = new Date(`${TODAY}T08:00:00.000Z`);
const PERIOD = () => digestPeriod(RUN_AT);

/** AWS Backup's daily summaries per region; a region in `failures` rejects. */
class FakeJobSummaries implements JobSummaries {
  readonly rows = new Map<string, JobSummaryRow[]>();
  readonly failures = new Map<string, Error>();
  readonly calls: string[] = [];

  async daily(region: string): Promise<JobSummaryRow[]> {
    this.calls.push(region);
    const error = this.failures.get(region);
    if (error) throw error;
    return (this.rows.get(region) ?? []).map((r) => ({ ...r }));
  }

  add(region: string, ...rows: JobSummaryRow[]): void {
    this.rows.set(region, [...(this.rows.get(region) ?? []), ...rows]);
  }
}

const summary = (
  accountId: string,
  state: string,
  count: number,
  day = YESTERDAY,
  region = 'us-east-1',
  messageCategory?: string,
): JobSummaryRow => ({
  region,
  accountId,
  state,
  ...(messageCategory ? { messageCategory } : {}),
  count,
  start: new Date(`${day}T00:00:00.000Z`),
  end: new Date(new Date(`${day}T00:00:00.000Z`).getTime() + 24 * 3600 * 1000 - 1),
});

const ready = (accountId: string): AccountRecord => ({
  accountId,
  status: 'ready',
  baselineVersion: 2,
  profile: 'default',
  steps: {},
  attempts: 1,
  updatedAt: '2025-03-01T00:00:00.000Z',
  attachedPolicies: [],
});

const verified = (
  accountId: string,
  day = TODAY,
  over: Partial<CheckRecord> = {},
): CheckRecord => ({
  accountId,
  day,
  checkedAt: `${day}T03:05:00.000Z`,
  status: 'verified',
  findings: [],
  ...over,
});

interface World {
  config: Config;
  clock: FakeClock;
  org: FakeOrganization;
  onboarding: InMemoryOnboardingLedger;
  checks: InMemoryCheckLedger;
  summaries: FakeJobSummaries;
  sent: PipelineWorld;
  deps: DigestDeps;
}

/**
 * Three active member accounts (Payments, Analytics, Sandbox), ready and verified today, one
 * closed account, and the management account (not onboarded). Profiles in us-east-1 and
 * eu-west-1. The digest goes to the admins list and the chat topic; heartbeat on, no owners.
 */
function world(configure: (config: Config) => void = () => {}): World {
  const config = exampleConfig();
  config.notifications.email.recipients = {
    admins: ['platform-team@example.com'],
    dba: ['dba-oncall@example.com'],
  };
  config.notifications.email.accountOwners = {};
  delete config.notifications.email.accountOwnerTag;
  config.notifications.topics = { chat: TopicSchema.parse({}) };
  config.watching.digest = {
    schedule: 'cron(0 8 * * ? *)',
    email: ['admins'],
    sns: ['chat'],
    accountOwners: false,
    heartbeat: true,
  };
  config.onboarding!.onboardManagementAccount = false;
  config.onboarding!.profiles = [
    {
      name: 'production',
      match: { ouPath: ['Workloads/Production'] },
      regions: ['us-east-1', 'eu-west-1'],
      backupPolicies: [],
      baseline: {},
    },
    { name: 'default', match: {}, regions: ['us-east-1'], backupPolicies: [], baseline: {} },
  ];
  configure(config);
  const clock = new FakeClock(RUN_AT);
  const org = new FakeOrganization();
  const member = (id: string, name: string, status = 'ACTIVE', tags = {}) =>
    org.addAccount(
      { id, name, email: `aws-${name.toLowerCase()}@example.com`, status },
      WORKLOADS_OU,
      tags,
    );
  member(PAYMENTS, 'Payments');
  member(ANALYTICS, 'Analytics');
  member(SANDBOX, 'Sandbox');
  member(CLOSED, 'Closed', 'SUSPENDED');
  const onboarding = new InMemoryOnboardingLedger();
  const checks = new InMemoryCheckLedger();
  for (const id of [PAYMENTS, ANALYTICS, SANDBOX]) {
    onboarding.records.set(id, ready(id));
    checks.saved.push(verified(id));
  }
  const summaries = new FakeJobSummaries();
  const sent = pipelineWorld(config, clock, org);
  return {
    config,
    clock,
    org,
    onboarding,
    checks,
    summaries,
    sent,
    deps: { config, org, onboarding, checks, summaries, pipeline: sent.pipeline, clock },
  };
}

const ids = (d: { accounts: { accountId: string }[] }) => d.accounts.map((a) => a.accountId);

describe('digestPeriod', () => {
  it.each([
    ['just after midnight', '2025-03-13T00:00:00.000Z'],
    ['at the scheduled hour', '2025-03-13T08:00:00.000Z'],
    ['just before the next midnight', '2025-03-13T23:59:59.999Z'],
  ])('is the previous UTC day %s', (_when, now) => {
    expect(digestPeriod(new Date(now))).toEqual({
      start: new Date('2025-03-12T00:00:00.000Z'),
      end: new Date('2025-03-13T00:00:00.000Z'),
    });
  });

  it('crosses month and year boundaries', () => {
    expect(digestPeriod(new Date('2025-03-01T08:00:00.000Z'))).toEqual({
      start: new Date('2025-02-28T00:00:00.000Z'),
      end: new Date('2025-03-01T00:00:00.000Z'),
    });
    expect(digestPeriod(new Date('2025-01-01T00:30:00.000Z'))).toEqual({
      start: new Date('2024-12-31T00:00:00.000Z'),
      end: new Date('2025-01-01T00:00:00.000Z'),
    });
  });

  it('is the given span back from now with --since', () => {
    expect(digestPeriod(RUN_AT, 48 * 3600 * 1000)).toEqual({
      start: new Date('2025-03-11T08:00:00.000Z'),
      end: RUN_AT,
    });
  });
});

describe('collectDigest', () => {
  it('watches the active member accounts, not the management account or a suspended one', async () => {
    const w = world();
    const d = await collectDigest(w.deps, PERIOD());
    expect(ids(d)).toEqual([PAYMENTS, ANALYTICS, SANDBOX]);
    expect(d.totals.verified).toBe(3);
    expect(d.quiet).toBe(true);
    expect(d.generatedAt).toBe(RUN_AT.toISOString());
  });

  it('includes the management account when it is onboarded by configuration', async () => {
    const w = world((c) => (c.onboarding!.onboardManagementAccount = true));
    const d = await collectDigest(w.deps, PERIOD());
    expect(ids(d)).toEqual([MANAGEMENT_ID, PAYMENTS, ANALYTICS, SANDBOX]);
    // Not onboarded yet: it needs attention rather than counting as healthy.
    expect(d.notReady).toEqual([
      {
        accountId: MANAGEMENT_ID,
        name: 'Management',
        status: 'not ready',
        detail: 'never onboarded',
      },
    ]);
    w.onboarding.records.set(MANAGEMENT_ID, ready(MANAGEMENT_ID));
    w.checks.saved.push(verified(MANAGEMENT_ID));
    expect((await collectDigest(w.deps, PERIOD())).quiet).toBe(true);
  });

  it("uses today's check, else yesterday's if it is fresh (a day and an hour), and nothing older", async () => {
    const w = world();
    w.checks.saved.length = 0;
    w.checks.saved.push(
      verified(PAYMENTS, YESTERDAY),
      verified(PAYMENTS, TODAY, {
        status: 'drift',
        findings: [{ what: 'vault org-backup-vault is missing', resource: 'vault' }],
      }),
      verified(ANALYTICS, YESTERDAY),
      verified(SANDBOX, '2025-03-11'),
    );
    const d = await collectDigest(w.deps, PERIOD());
    // Today's sweep (03:05) checked PAYMENTS, not ANALYTICS: its check of yesterday 03:05 is 29 h
    // old at 08:00, no proof of today; "not checked", never yesterday's "verified" again.
    expect(d.accounts.map((a) => [a.accountId, a.status])).toEqual([
      [PAYMENTS, 'drift repaired'],
      [ANALYTICS, 'not checked'],
      [SANDBOX, 'not checked'],
    ]);
  });

  it('says ALL WELL only when today’s sweep checked: a sweep that did not run is not checked', async () => {
    const w = world();
    w.checks.saved.length = 0;
    for (const id of [PAYMENTS, ANALYTICS, SANDBOX]) w.checks.saved.push(verified(id, YESTERDAY));
    const d = await collectDigest(w.deps, PERIOD());
    expect(d.totals.verified).toBe(0);
    expect(d.totals.notChecked).toBe(3);
  });

  it("takes yesterday's check after midnight before the sweep ran today", async () => {
    const w = world();
    w.clock.advance(-8 * 3600 * 1000 + 60_000); // 00:01 UTC
    w.checks.saved.length = 0;
    for (const id of [PAYMENTS, ANALYTICS, SANDBOX]) w.checks.saved.push(verified(id, YESTERDAY));
    const d = await collectDigest(w.deps, digestPeriod(w.clock.now()));
    expect(d.totals.verified).toBe(3);
    expect(d.totals.notChecked).toBe(0);
  });

  it('reads the summaries of every profile region once and counts the period only', async () => {
    const w = world();
    w.summaries.add(
      'us-east-1',
      summary(PAYMENTS, 'COMPLETED', 4),
      summary(PAYMENTS, 'FAILED', 1, YESTERDAY, 'us-east-1', 'AccessDenied'),
      // The day before the period and the day of the run (partial) are not counted.
      summary(PAYMENTS, 'FAILED', 10, '2025-03-11'),
      summary(PAYMENTS, 'FAILED', 20, TODAY),
    );
    w.summaries.add('eu-west-1', summary(ANALYTICS, 'EXPIRED', 2, YESTERDAY, 'eu-west-1'));
    const d = await collectDigest(w.deps, PERIOD());
    expect([...w.summaries.calls].sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(d.totals).toMatchObject({ completed: 4, failed: 1, expired: 2 });
    expect(d.reasons).toEqual([
      { category: 'Expired', count: 2 },
      { category: 'AccessDenied', count: 1 },
    ]);
  });

  it('counts the span asked for with --since', async () => {
    const w = world();
    w.summaries.add(
      'us-east-1',
      summary(PAYMENTS, 'FAILED', 10, '2025-03-11'),
      summary(PAYMENTS, 'FAILED', 1, YESTERDAY),
      summary(PAYMENTS, 'FAILED', 20, TODAY),
      summary(PAYMENTS, 'FAILED', 100, '2025-03-10'),
    );
    const d = await collectDigest(w.deps, digestPeriod(RUN_AT, 48 * 3600 * 1000));
    expect(d.totals.failed).toBe(31);
  });
});

describe('sendDigest', () => {
  it('sends the quiet day as ALL WELL to the digest list and topic (heartbeat on)', async () => {
    const w = world();
    const run = await sendDigest(w.deps, PERIOD());
    expect(run.skipped).toBe(false);
    expect(w.sent.email.sent).toHaveLength(1);
    expect(w.sent.email.sent[0]).toMatchObject({
      to: ['platform-team@example.com'],
      subject: '[ALL WELL] All 3 accounts verified, nothing failed',
    });
    expect(w.sent.sns.published).toHaveLength(1);
    expect(w.sent.sns.published[0]!.topicArn).toMatch(/:chat$/);
    expect(run.sent[0]!.deliveries.map((d) => `${d.channel}:${d.status}`)).toEqual([
      'email:admins:sent',
      'sns:chat:sent',
    ]);
  });

  it('sends nothing on a quiet day with the heartbeat off', async () => {
    const w = world((c) => (c.watching.digest.heartbeat = false));
    const run = await sendDigest(w.deps, PERIOD());
    expect(run).toMatchObject({ skipped: true, sent: [] });
    expect(run.digest.quiet).toBe(true);
    expect(w.sent.email.sent).toEqual([]);
    expect(w.sent.sns.published).toEqual([]);
    expect(w.sent.ledger.entries.size).toBe(0);
  });

  it('sends a day that is not quiet even with the heartbeat off', async () => {
    const w = world((c) => (c.watching.digest.heartbeat = false));
    w.summaries.add('us-east-1', summary(PAYMENTS, 'FAILED', 1));
    const run = await sendDigest(w.deps, PERIOD());
    expect(run.skipped).toBe(false);
    expect(w.sent.email.sent.map((e) => e.subject)).toEqual([
      '[DIGEST] Backups in the organization: 1 backup job failed',
    ]);
    expect(w.sent.sns.published).toHaveLength(1);
  });

  it('sends each period once per audience, however often it runs', async () => {
    const w = world((c) => (c.watching.digest.accountOwners = true));
    w.summaries.add('us-east-1', summary(PAYMENTS, 'FAILED', 1));
    await sendDigest(w.deps, PERIOD());
    const first = { email: w.sent.email.sent.length, sns: w.sent.sns.published.length };
    // The org digest to admins + chat, one digest to each of the three account emails.
    expect(first).toEqual({ email: 4, sns: 1 });

    w.clock.advance(10 * 60_000); // the schedule's retry
    const again = await sendDigest(w.deps, PERIOD());
    expect(w.sent.email.sent).toHaveLength(first.email);
    expect(w.sent.sns.published).toHaveLength(first.sns);
    expect(again.sent.flatMap((s) => s.deliveries.map((d) => d.status))).toEqual(
      Array(5).fill('duplicate'),
    );

    // The next day is a new period.
    w.clock.advance(24 * 3600 * 1000);
    await sendDigest(w.deps, digestPeriod(w.clock.now()));
    expect(w.sent.email.sent).toHaveLength(2 * first.email);
    expect(w.sent.sns.published).toHaveLength(2 * first.sns);
  });

  it('retries only the channel that failed, and then sends it once', async () => {
    const w = world();
    w.sent.sns.failures = 1;
    await expect(sendDigest(w.deps, PERIOD())).rejects.toThrow(/1 of 2 channel\(s\) failed/);
    expect(w.sent.email.sent).toHaveLength(1);
    expect(w.sent.sns.published).toHaveLength(0);
    await sendDigest(w.deps, PERIOD());
    expect(w.sent.email.sent).toHaveLength(1);
    expect(w.sent.sns.published).toHaveLength(1);
  });

  describe('a source that cannot be read fails the run and sends nothing', () => {
    const denied = () => awsError('AccessDeniedException', 'not authorized');

    it.each<[string, (w: World) => void]>([
      [
        "one region's job summaries",
        (w) => {
          w.summaries.add('us-east-1', summary(PAYMENTS, 'FAILED', 1));
          w.summaries.failures.set('eu-west-1', denied());
        },
      ],
      [
        'the onboarding ledger',
        (w) => jest.spyOn(w.onboarding, 'getMany').mockRejectedValue(denied()),
      ],
      ['the check ledger', (w) => jest.spyOn(w.checks, 'checks').mockRejectedValue(denied())],
      ['the organization', (w) => w.org.failures.set('describeOrganization', denied())],
    ])('%s', async (_source, breakIt) => {
      const w = world((c) => (c.watching.digest.accountOwners = true));
      breakIt(w);
      await expect(sendDigest(w.deps, PERIOD())).rejects.toThrow('not authorized');
      expect(w.sent.email.sent).toEqual([]);
      expect(w.sent.sns.published).toEqual([]);
      expect(w.sent.ledger.entries.size).toBe(0);
    });
  });

  describe('owner digests (watching.digest.accountOwners)', () => {
    /** Payments by configuration, Analytics and Sandbox by the owner tag (the same team). */
    function ownersWorld(configure: (config: Config) => void = () => {}) {
      const w = world((c) => {
        c.watching.digest.accountOwners = true;
        c.notifications.email.accountOwners = { [PAYMENTS]: ['payments-team@example.com'] };
        c.notifications.email.accountOwnerTag = 'owner';
        configure(c);
      });
      w.org.tags.set(ANALYTICS, { owner: 'data@example.com; lead@example.com' });
      w.org.tags.set(SANDBOX, { owner: 'lead@example.com,data@example.com' });
      return w;
    }

    const emailTo = (w: World, address: string) =>
      w.sent.email.sent.filter((e) => e.to.includes(address));

    it('sends each group of owners one digest of only their accounts, by email only', async () => {
      const w = ownersWorld();
      w.summaries.add(
        'us-east-1',
        summary(PAYMENTS, 'FAILED', 2),
        summary(ANALYTICS, 'COMPLETED', 3, YESTERDAY, 'us-east-1', 'Timeout'),
        summary(SANDBOX, 'EXPIRED', 1),
      );
      const run = await sendDigest(w.deps, PERIOD());
      expect(w.sent.email.sent.map((e) => e.to)).toEqual([
        ['platform-team@example.com'],
        ['payments-team@example.com'],
        ['data@example.com', 'lead@example.com'],
      ]);
      expect(w.sent.sns.published).toHaveLength(1);

      const [payments] = emailTo(w, 'payments-team@example.com');
      expect(payments!.subject).toBe('[DIGEST] Backups in your accounts: 2 backup jobs failed');
      expect(payments!.text).toContain(`(${PAYMENTS})`);
      expect(payments!.text).not.toContain(ANALYTICS);
      expect(payments!.text).not.toContain(SANDBOX);
      expect(payments!.text).toContain('1 watched: 1 verified');

      const [data] = emailTo(w, 'data@example.com');
      expect(data!.text).toContain(`(${ANALYTICS})`);
      expect(data!.text).toContain(`(${SANDBOX})`);
      expect(data!.text).not.toContain(PAYMENTS);
      expect(data!.text).toContain('0 completed, 0 failed, 1 expired, 3 completed with issues');
      // The organization's failure categories are not split by account: owners see none.
      expect(data!.text).not.toContain('Top failure reasons');

      const org = emailTo(w, 'platform-team@example.com')[0]!;
      expect(org.text).toContain(`(${PAYMENTS})`);
      expect(org.text).toContain(`(${SANDBOX})`);
      expect(run.sent.map((s) => s.notice.kind)).toEqual([
        'digest',
        'account-digest',
        'account-digest',
      ]);
    });

    it("falls back to the account's email without configuration or tag", async () => {
      const w = world((c) => (c.watching.digest.accountOwners = true));
      w.summaries.add('us-east-1', summary(SANDBOX, 'FAILED', 1));
      await sendDigest(w.deps, PERIOD());
      expect(w.sent.email.sent.map((e) => e.to)).toEqual([
        ['platform-team@example.com'],
        ['aws-payments@example.com'],
        ['aws-analytics@example.com'],
        ['aws-sandbox@example.com'],
      ]);
    });

    it('with the heartbeat off, skips the owners whose accounts are quiet', async () => {
      const w = ownersWorld((c) => (c.watching.digest.heartbeat = false));
      w.summaries.add('us-east-1', summary(PAYMENTS, 'FAILED', 1));
      await sendDigest(w.deps, PERIOD());
      expect(w.sent.email.sent.map((e) => e.to)).toEqual([
        ['platform-team@example.com'],
        ['payments-team@example.com'],
      ]);
    });

    it('sends owners their ALL WELL with the heartbeat on', async () => {
      const w = ownersWorld();
      await sendDigest(w.deps, PERIOD());
      expect(w.sent.email.sent.map((e) => [e.to[0], e.subject])).toEqual([
        ['platform-team@example.com', '[ALL WELL] All 3 accounts verified, nothing failed'],
        ['payments-team@example.com', expect.stringMatching(/^\[ALL WELL\] /)],
        ['data@example.com', '[ALL WELL] All 2 accounts verified, nothing failed'],
      ]);
    });

    it('sends no owner digest when accountOwners is off', async () => {
      const w = ownersWorld((c) => (c.watching.digest.accountOwners = false));
      w.summaries.add('us-east-1', summary(PAYMENTS, 'FAILED', 1));
      await sendDigest(w.deps, PERIOD());
      expect(w.sent.email.sent.map((e) => e.to)).toEqual([['platform-team@example.com']]);
    });
  });
});

describe('the sendDigest handler', () => {
  it('builds its dependencies once and sends the previous UTC day', async () => {
    const w = world();
    const build = jest.fn(() => w.deps);
    const handler = createHandler(build);
    const out = await handler({}, lambdaContext());
    expect(out).toEqual({
      period: { start: '2025-03-12T00:00:00.000Z', end: '2025-03-13T00:00:00.000Z' },
      quiet: true,
      skipped: false,
    });
    await handler({}, lambdaContext());
    expect(build).toHaveBeenCalledTimes(1);
    expect(w.sent.email.sent).toHaveLength(1);
  });

  it('lets a failure propagate, so the schedule retries', async () => {
    const w = world();
    w.summaries.failures.set('us-east-1', awsError('ThrottlingException', 'Rate exceeded'));
    const handler = createHandler(() => w.deps);
    await expect(handler({}, lambdaContext())).rejects.toThrow('Rate exceeded');
  });

  it('fails fast naming the missing configuration', () => {
    expect(() => buildDigestDeps({})).toThrow(ConfigError);
    expect(() => buildDigestDeps({})).toThrow(/BACKUP_CONTROL_PLANE_CONFIG is not set/);
  });
});
