import {
  buildDigest,
  digestFor,
  digestNotice,
  type DigestInput,
} from '../../functions/send-digest/digest';
import type { Notice } from '../../functions/shared/notices/notice';
import { renderSns, type ChatNotification } from '../../functions/shared/notices/render-chat';
import { renderEmail } from '../../functions/shared/notices/render-email';
import { planNotice } from '../../functions/shared/notices/send';
import type {
  AccountRecord,
  CheckRecord,
  CoverageRow,
  CoverageSummary,
  JobSummaryRow,
  OrgAccount,
} from '../../functions/shared/ports';
import { exampleConfig } from '../helpers/fixtures';

/** The daily digest as a pure module: built from its sources, an owner's share, the notice. */

const A = '200000000001';
const B = '200000000002';
const C = '200000000003';
const D = '200000000004';

const PERIOD = () => ({
  start: new Date('2025-03-12T00:00:00.000Z'),
  end: new Date('2025-03-13T00:00:00.000Z'),
});
const NOW = () => new Date('2025-03-13T08:00:00.000Z');

/** A daily summary row of the period's day (AWS Backup counts by UTC day). */
const row = (
  accountId: string,
  state: string,
  count: number,
  messageCategory?: string,
  day = '2025-03-12',
): JobSummaryRow => ({
  region: 'us-east-1',
  accountId,
  state,
  ...(messageCategory ? { messageCategory } : {}),
  count,
  start: new Date(`${day}T00:00:00.000Z`),
  end: new Date(new Date(`${day}T00:00:00.000Z`).getTime() + 24 * 3600 * 1000 - 1),
});

const record = (accountId: string, over: Partial<AccountRecord> = {}): AccountRecord => ({
  accountId,
  status: 'ready',
  baselineVersion: 2,
  profile: 'default',
  steps: {},
  attempts: 1,
  updatedAt: '2025-03-01T00:00:00.000Z',
  attachedPolicies: ['p-daily35days'],
  ...over,
});

const coverage = (over: Partial<CoverageSummary> = {}): CoverageSummary => ({
  resources: 0,
  protected: 0,
  late: 0,
  never: 0,
  notOptedIn: 0,
  missed: [],
  notes: [],
  ...over,
});

const check = (accountId: string, over: Partial<CheckRecord> = {}): CheckRecord => ({
  accountId,
  day: '2025-03-13',
  checkedAt: '2025-03-13T03:05:00.000Z',
  status: 'verified',
  findings: [],
  ...over,
});

const missedRow = (accountId: string, over: Partial<CoverageRow> = {}): CoverageRow => ({
  accountId,
  region: 'us-east-1',
  resourceArn: `arn:aws:dynamodb:us-east-1:${accountId}:table/orders`,
  resourceType: 'DynamoDB',
  policy: 'org-daily-35-days',
  rule: 'daily',
  lastBackupTime: null,
  status: 'never',
  reason: 'tagged for plan org-daily-35-days, never backed up',
  ...over,
});

const accounts = (...ids: string[]): OrgAccount[] =>
  ids.map((id, i) => ({ id, name: `Account ${i + 1}`, status: 'ACTIVE' }));

/** Every account ready and verified today, no job: a quiet day. Fresh per call. */
function input(ids: string[] = [A, B], over: Partial<DigestInput> = {}): DigestInput {
  return {
    period: PERIOD(),
    now: NOW(),
    accounts: accounts(...ids),
    onboarding: new Map(ids.map((id) => [id, record(id)])),
    checks: new Map(ids.map((id) => [id, check(id)])),
    summaries: [],
    ...over,
  };
}

const rowOf = (d: ReturnType<typeof buildDigest>, id: string) =>
  d.accounts.find((r) => r.accountId === id)!;

describe('buildDigest: job counts from the daily job summaries', () => {
  it('counts each state per account, COMPLETED with a non-success category as "with issues"', () => {
    const d = buildDigest(
      input([A, B], {
        summaries: [
          row(A, 'COMPLETED', 5),
          row(A, 'COMPLETED', 2, 'SUCCESS'),
          row(A, 'COMPLETED', 1, 'Success'),
          row(A, 'COMPLETED', 3, 'ANY'),
          row(A, 'COMPLETED', 4, 'AccessDenied'),
          row(A, 'FAILED', 2, 'AccessDenied'),
          row(A, 'FAILED', 1),
          row(A, 'EXPIRED', 1),
          row(A, 'ABORTED', 1, 'Aborted'),
          row(A, 'PARTIAL', 2),
          row(A, 'RUNNING', 7),
          row(B, 'completed', 9),
        ],
      }),
    );
    expect(rowOf(d, A)).toMatchObject({
      completed: 11,
      completedWithIssues: 4,
      failed: 3,
      expired: 1,
      aborted: 1,
      partial: 2,
    });
    expect(rowOf(d, B)).toMatchObject({ completed: 9, failed: 0, completedWithIssues: 0 });
    expect(d.totals).toMatchObject({
      completed: 20,
      completedWithIssues: 4,
      failed: 3,
      expired: 1,
      aborted: 1,
      partial: 2,
    });
  });

  it('counts only rows that overlap the period', () => {
    const d = buildDigest(
      input([A], {
        summaries: [
          row(A, 'FAILED', 1, 'AccessDenied', '2025-03-11'),
          row(A, 'FAILED', 2, 'AccessDenied', '2025-03-12'),
          row(A, 'FAILED', 4, 'AccessDenied', '2025-03-13'),
          // A row that ends exactly when the period starts is the day before.
          {
            ...row(A, 'FAILED', 8, 'AccessDenied'),
            start: new Date('2025-03-11T00:00:00.000Z'),
            end: new Date('2025-03-12T00:00:00.000Z'),
          },
        ],
      }),
    );
    expect(d.totals.failed).toBe(2);
    expect(d.reasons).toEqual([{ category: 'AccessDenied', count: 2 }]);
  });

  it('ignores rows of accounts it does not watch (the management account, closed ones)', () => {
    const d = buildDigest(
      input([A], { summaries: [row(A, 'FAILED', 1, 'X'), row(D, 'FAILED', 5, 'Y')] }),
    );
    expect(d.accounts.map((r) => r.accountId)).toEqual([A]);
    expect(d.totals.failed).toBe(1);
    expect(d.reasons).toEqual([{ category: 'X', count: 1 }]);
  });

  it('sorts the reasons by count, then by name, and gives each account its top reason', () => {
    const d = buildDigest(
      input([A, B], {
        summaries: [
          row(A, 'FAILED', 1, 'InvalidParameters'),
          row(A, 'FAILED', 2, 'AccessDenied'),
          row(B, 'FAILED', 2, 'AccessDenied'),
          row(B, 'COMPLETED', 3, 'Timeout'),
          row(B, 'EXPIRED', 1),
          row(B, 'FAILED', 1),
          row(B, 'ABORTED', 1),
          row(B, 'PARTIAL', 1),
        ],
      }),
    );
    expect(d.reasons).toEqual([
      { category: 'AccessDenied', count: 4 },
      { category: 'Timeout', count: 3 },
      { category: 'Aborted', count: 1 },
      { category: 'Expired', count: 1 },
      { category: 'InvalidParameters', count: 1 },
      { category: 'Partial', count: 1 },
      { category: 'Unknown', count: 1 },
    ]);
    expect(rowOf(d, A).topReason).toBe('AccessDenied (2)');
    expect(rowOf(d, B).topReason).toBe('Timeout (3)');
  });

  it('gives no top reason to an account whose jobs all succeeded', () => {
    const d = buildDigest(input([A], { summaries: [row(A, 'COMPLETED', 3, 'SUCCESS')] }));
    expect(rowOf(d, A)).not.toHaveProperty('topReason');
    expect(d.reasons).toEqual([]);
  });
});

describe('buildDigest: each account status from its onboarding record and latest check', () => {
  it.each<[string, AccountRecord | undefined, CheckRecord | undefined, string, string | undefined]>(
    [
      ['verified', record(A), check(A), 'verified', undefined],
      [
        'drift repaired, naming the findings',
        record(A),
        check(A, {
          status: 'drift',
          findings: [
            { what: 'vault org-backup-vault is missing', resource: 'vault' },
            { what: 'rule forward is DISABLED', resource: 'rule', region: 'eu-west-1' },
          ],
        }),
        'drift repaired',
        'vault org-backup-vault is missing; rule forward is DISABLED',
      ],
      [
        'unverifiable, with why',
        record(A),
        check(A, { status: 'unverifiable', reason: 'access: cannot assume the read-only role' }),
        'unverifiable',
        'access: cannot assume the read-only role',
      ],
      [
        'unverifiable without a reason',
        record(A),
        check(A, { status: 'unverifiable' }),
        'unverifiable',
        'cannot be read',
      ],
      [
        'not checked',
        record(A),
        undefined,
        'not checked',
        'no daily check recorded for this period',
      ],
      ['never onboarded', undefined, check(A), 'not ready', 'never onboarded'],
      [
        'onboarding in progress',
        record(A, { status: 'onboarding' }),
        undefined,
        'not ready',
        'onboarding in progress',
      ],
      [
        'onboarding failed, with the step and message',
        record(A, {
          status: 'failed',
          lastError: { step: 'access', message: 'AccessDenied', at: '2025-03-12T01:00:00Z' },
        }),
        check(A),
        'onboarding failed',
        'access: AccessDenied',
      ],
      [
        'onboarding failed without an error',
        record(A, { status: 'failed' }),
        undefined,
        'onboarding failed',
        'failed',
      ],
      [
        'departed before and active again',
        record(A, { status: 'departed' }),
        check(A),
        'not ready',
        'departed before; to be onboarded again',
      ],
      [
        'skipped (opted out)',
        record(A, { status: 'skipped', skipReason: 'opted out by tag' }),
        undefined,
        'skipped',
        'opted out by tag',
      ],
      [
        'skipped by the check',
        record(A),
        check(A, { status: 'skipped', reason: 'account is SUSPENDED' }),
        'skipped',
        'account is SUSPENDED',
      ],
    ],
  )('%s', (_what, onboarded, checked, status, detail) => {
    const d = buildDigest(
      input([A], {
        onboarding: new Map(onboarded ? [[A, onboarded]] : []),
        checks: new Map(checked ? [[A, checked]] : []),
      }),
    );
    expect(rowOf(d, A).status).toBe(status);
    if (detail === undefined) expect(rowOf(d, A)).not.toHaveProperty('detail');
    else expect(rowOf(d, A).detail).toBe(detail);
  });

  it('counts the statuses and lists every account that is neither verified, repaired nor skipped', () => {
    const ids = [A, B, C, D, '200000000005', '200000000006'];
    const d = buildDigest(
      input(ids, {
        onboarding: new Map([
          [A, record(A)],
          [B, record(B)],
          [C, record(C)],
          [D, record(D, { status: 'failed' })],
          ['200000000006', record('200000000006', { status: 'skipped', skipReason: 'opt-out' })],
        ]),
        checks: new Map([
          [A, check(A)],
          [B, check(B, { status: 'unverifiable', reason: 'denied' })],
          [D, check(D)],
        ]),
      }),
    );
    expect(d.totals).toMatchObject({
      accounts: 6,
      verified: 1,
      driftRepaired: 0,
      unverifiable: 1,
      notChecked: 1,
      // not ready (never onboarded) and onboarding failed
      notReady: 2,
    });
    expect(d.notReady).toEqual([
      { accountId: B, name: 'Account 2', status: 'unverifiable', detail: 'denied' },
      {
        accountId: C,
        name: 'Account 3',
        status: 'not checked',
        detail: 'no daily check recorded for this period',
      },
      { accountId: D, name: 'Account 4', status: 'onboarding failed', detail: 'failed' },
      {
        accountId: '200000000005',
        name: 'Account 5',
        status: 'not ready',
        detail: 'never onboarded',
      },
    ]);
    expect(d.quiet).toBe(false);
  });
});

describe('buildDigest: coverage, missed resources and lost events', () => {
  it('gives each account and the organization the protected share of tagged resources', () => {
    const d = buildDigest(
      input([A, B, C], {
        checks: new Map([
          [
            A,
            check(A, {
              coverage: coverage({ resources: 3, protected: 2, late: 1, missed: [] }),
              lostEvents: { jobsChecked: 10, recovered: 2 },
            }),
          ],
          [B, check(B, { coverage: coverage({ resources: 0 }) })],
          [
            C,
            check(C, {
              coverage: coverage({ resources: 1, protected: 1 }),
              lostEvents: { jobsChecked: 3, recovered: 1 },
            }),
          ],
        ]),
      }),
    );
    expect(rowOf(d, A)).toMatchObject({
      resources: 3,
      protected: 2,
      late: 1,
      coveragePercent: 66.7,
      lostEventsRecovered: 2,
    });
    expect(rowOf(d, B).coveragePercent).toBeNull();
    expect(rowOf(d, C).coveragePercent).toBe(100);
    expect(d.totals).toMatchObject({
      resources: 4,
      protected: 3,
      late: 1,
      coveragePercent: 75,
      lostEventsRecovered: 3,
    });
  });

  it('has no coverage figure when no check has coverage', () => {
    const d = buildDigest(input([A]));
    expect(rowOf(d, A).coveragePercent).toBeNull();
    expect(d.totals.coveragePercent).toBeNull();
  });

  it('collects the missed resources of every check', () => {
    const missedA = missedRow(A);
    const missedB = missedRow(B, { status: 'late', lastBackupTime: '2025-03-10T00:00:00Z' });
    const d = buildDigest(
      input([A, B], {
        checks: new Map([
          [A, check(A, { coverage: coverage({ resources: 1, never: 1, missed: [missedA] }) })],
          [B, check(B, { coverage: coverage({ resources: 1, late: 1, missed: [missedB] }) })],
        ]),
      }),
    );
    expect(d.missed).toEqual([missedA, missedB]);
  });
});

describe('buildDigest: a quiet day', () => {
  it('is quiet when every account is verified and nothing failed or was missed', () => {
    const d = buildDigest(input([A, B], { summaries: [row(A, 'COMPLETED', 4)] }));
    expect(d.quiet).toBe(true);
    expect(d.period).toEqual({
      start: '2025-03-12T00:00:00.000Z',
      end: '2025-03-13T00:00:00.000Z',
    });
    expect(d.generatedAt).toBe('2025-03-13T08:00:00.000Z');
  });

  it('stays quiet with an opted-out (skipped) account', () => {
    const i = input([A, B]);
    const onboarding = new Map(i.onboarding);
    onboarding.set(B, record(B, { status: 'skipped', skipReason: 'opt-out' }));
    expect(buildDigest({ ...i, onboarding }).quiet).toBe(true);
  });

  it.each<[string, (i: DigestInput) => DigestInput]>([
    ['a failed job', (i) => ({ ...i, summaries: [row(A, 'FAILED', 1)] })],
    ['an expired job', (i) => ({ ...i, summaries: [row(A, 'EXPIRED', 1)] })],
    ['an aborted job', (i) => ({ ...i, summaries: [row(A, 'ABORTED', 1)] })],
    ['a partial job', (i) => ({ ...i, summaries: [row(A, 'PARTIAL', 1)] })],
    ['a job completed with issues', (i) => ({ ...i, summaries: [row(A, 'COMPLETED', 1, 'X')] })],
    [
      'a late resource',
      (i) => ({ ...i, checks: new Map([[A, check(A, { coverage: coverage({ late: 1 }) })]]) }),
    ],
    [
      'a resource never backed up',
      (i) => ({ ...i, checks: new Map([[A, check(A, { coverage: coverage({ never: 1 }) })]]) }),
    ],
    [
      'a resource type not opted in',
      (i) => ({
        ...i,
        checks: new Map([[A, check(A, { coverage: coverage({ notOptedIn: 1 }) })]]),
      }),
    ],
    [
      'drift repaired',
      (i) => ({
        ...i,
        checks: new Map([[A, check(A, { status: 'drift', findings: [] })]]),
      }),
    ],
    ['an account not checked', (i) => ({ ...i, checks: new Map() })],
    ['an account not onboarded', (i) => ({ ...i, onboarding: new Map() })],
  ])('is not quiet with %s', (_what, change) => {
    expect(buildDigest(change(input([A]))).quiet).toBe(false);
  });
});

describe('digestFor: an owner share', () => {
  function organization() {
    return buildDigest(
      input([A, B, C], {
        checks: new Map([
          [
            A,
            check(A, {
              coverage: coverage({ resources: 2, protected: 1, never: 1, missed: [missedRow(A)] }),
              lostEvents: { jobsChecked: 4, recovered: 1 },
            }),
          ],
          [B, check(B, { coverage: coverage({ resources: 4, protected: 4 }) })],
        ]),
        summaries: [row(A, 'FAILED', 2, 'AccessDenied'), row(B, 'COMPLETED', 5)],
      }),
    );
  }

  it('keeps only the owner accounts, their totals, missed resources and attention list', () => {
    const whole = organization();
    const mine = digestFor(whole, new Set([A, B]));
    expect(mine.accounts.map((r) => r.accountId)).toEqual([A, B]);
    expect(mine.totals).toMatchObject({
      accounts: 2,
      verified: 2,
      notChecked: 0,
      completed: 5,
      failed: 2,
      resources: 6,
      protected: 5,
      never: 1,
      coveragePercent: 83.3,
      lostEventsRecovered: 1,
    });
    expect(mine.missed.map((m) => m.accountId)).toEqual([A]);
    expect(mine.notReady).toEqual([]);
    expect(mine.reasons).toEqual([]);
    expect(mine.quiet).toBe(false);
    expect(mine.period).toEqual(whole.period);
  });

  it('is quiet for an owner whose accounts are, while the organization is not', () => {
    const whole = organization();
    expect(whole.quiet).toBe(false);
    const mine = digestFor(whole, new Set([B]));
    expect(mine.quiet).toBe(true);
    expect(mine.missed).toEqual([]);
    expect(mine.totals).toMatchObject({
      accounts: 1,
      failed: 0,
      notReady: 0,
      coveragePercent: 100,
    });
  });

  it('lists the owner account that was not checked', () => {
    const mine = digestFor(organization(), new Set([C]));
    expect(mine.notReady.map((r) => [r.accountId, r.status])).toEqual([[C, 'not checked']]);
    expect(mine.totals.notChecked).toBe(1);
    expect(mine.quiet).toBe(false);
  });

  it('leaves the organization digest as it was', () => {
    const whole = organization();
    const before = JSON.parse(JSON.stringify(whole));
    digestFor(whole, new Set([B]));
    expect(JSON.parse(JSON.stringify(whole))).toEqual(before);
  });

  // An owner's share should read as the digest of their accounts alone would.
  it('counts an unverifiable account as unverifiable, not also as not ready', () => {
    const i = input([A], {
      checks: new Map([[A, check(A, { status: 'unverifiable', reason: 'denied' })]]),
    });
    const alone = buildDigest(i);
    const mine = digestFor(alone, new Set([A]));
    expect(alone.totals.notReady).toBe(0);
    expect(mine.totals.notReady).toBe(alone.totals.notReady);
    expect(digestNotice(mine, { kind: 'account-digest', owners: ['o@example.com'] }).headline).toBe(
      'Backups in your accounts: 1 account unverifiable',
    );
  });

  it('is not quiet when a resource type is not opted in, as the organization digest is not', () => {
    const alone = buildDigest(
      input([A], { checks: new Map([[A, check(A, { coverage: coverage({ notOptedIn: 1 }) })]]) }),
    );
    expect(alone.quiet).toBe(false);
    expect(digestFor(alone, new Set([A])).quiet).toBe(alone.quiet);
  });
});

describe('digestNotice', () => {
  /** A day with something of everything. */
  function busy() {
    return buildDigest(
      input([A, B, C, D], {
        onboarding: new Map([
          [A, record(A)],
          [B, record(B)],
          [C, record(C)],
        ]),
        checks: new Map([
          [
            A,
            check(A, {
              coverage: coverage({
                resources: 3,
                protected: 1,
                late: 1,
                never: 1,
                missed: [missedRow(A), missedRow(A, { status: 'late', resourceArn: 'arn:x' })],
              }),
            }),
          ],
          [B, check(B, { status: 'unverifiable', reason: 'access denied' })],
        ]),
        summaries: [
          row(A, 'COMPLETED', 7),
          row(A, 'FAILED', 2, 'AccessDenied'),
          row(A, 'EXPIRED', 1),
          row(A, 'COMPLETED', 1, 'Timeout'),
        ],
      }),
    );
  }

  it('says ALL WELL on a quiet day, with the proof-of-life next step and no table', () => {
    const n = digestNotice(buildDigest(input([A, B])), { kind: 'digest' });
    expect(n).toMatchObject({
      kind: 'digest',
      severity: 'info',
      label: 'ALL WELL',
      headline: 'All 2 accounts verified, nothing failed',
      summary: 'All 2 accounts verified, nothing failed (2025-03-12 (UTC))',
      state: 'QUIET',
      resourceType: 'Organization',
      dedupKey: 'digest#organization#2025-03-12T00:00:00.000Z#2025-03-13T00:00:00.000Z',
      reference: 'daily digest 2025-03-12 (UTC)',
    });
    expect(n.sections).toEqual([]);
    expect(n.nextSteps).toEqual([
      'Nothing to do. This message is the proof that the control plane ran today.',
    ]);
    expect(n.chat).toMatchObject({
      threadId: 'digest-2025-03-12',
      eventType: 'DailyDigestAllWell',
      keywords: ['digest', '2025-03-12'],
    });
    expect(n).not.toHaveProperty('owners');
    expect(n).not.toHaveProperty('account');
  });

  it('says "1 account", not "1 accounts", on a quiet day with one account', () => {
    const n = digestNotice(buildDigest(input([A])), { kind: 'digest' });
    expect(n.headline).toContain('1 account');
    expect(n.headline).not.toMatch(/\b1 accounts\b/);
  });

  it('does not call an opted-out (skipped) account verified on a quiet day', () => {
    const i = input([A, B]);
    const onboarding = new Map(i.onboarding);
    onboarding.set(B, record(B, { status: 'skipped', skipReason: 'opted out by tag' }));
    const d = buildDigest({ ...i, onboarding });
    expect(d.quiet).toBe(true);
    expect(d.totals.verified).toBe(1);
    expect(digestNotice(d, { kind: 'digest' }).headline).not.toMatch(/All 2 accounts verified/);
  });

  it('names what needs attention in the headline, singular or plural', () => {
    const n = digestNotice(busy(), { kind: 'digest' });
    expect(n).toMatchObject({
      severity: 'error',
      label: 'DIGEST',
      state: 'ATTENTION',
      headline:
        'Backups in the organization: 3 backup jobs failed, 2 resources not backed up, 1 account unverifiable, 1 account not checked, 1 account not ready',
    });
    expect(n.chat.eventType).toBe('DailyDigest');
    expect(n.chat.context).toEqual({ accounts: '4', failed: '2', unverifiable: '1' });
  });

  it.each<[string, (i: DigestInput) => DigestInput, string, Notice['severity']]>([
    [
      'one failed job',
      (i) => ({ ...i, summaries: [row(A, 'FAILED', 1)] }),
      'Backups in the organization: 1 backup job failed',
      'warning',
    ],
    [
      'aborted and expired jobs',
      (i) => ({ ...i, summaries: [row(A, 'ABORTED', 1), row(A, 'EXPIRED', 1)] }),
      'Backups in the organization: 2 backup jobs failed',
      'warning',
    ],
    [
      'drift repaired in two accounts',
      (i) => ({
        ...i,
        checks: new Map([
          [A, check(A, { status: 'drift', findings: [] })],
          [B, check(B, { status: 'drift', findings: [] })],
        ]),
      }),
      'Backups in the organization: 2 accounts repaired',
      'warning',
    ],
    [
      'one resource late',
      (i) => ({
        ...i,
        checks: new Map([
          [A, check(A, { coverage: coverage({ resources: 1, late: 1 }) })],
          [B, check(B)],
        ]),
      }),
      'Backups in the organization: 1 resource not backed up',
      'error',
    ],
    [
      'two accounts not checked',
      (i) => ({ ...i, checks: new Map() }),
      'Backups in the organization: 2 accounts not checked',
      'error',
    ],
    [
      'only jobs completed with issues',
      (i) => ({ ...i, summaries: [row(A, 'COMPLETED', 2, 'Timeout')] }),
      'Backups in the organization: see below',
      'warning',
    ],
  ])('%s', (_what, change, headline, severity) => {
    const n = digestNotice(buildDigest(change(input([A, B]))), { kind: 'digest' });
    expect(n.headline).toBe(headline);
    expect(n.severity).toBe(severity);
  });

  it('lays out the facts: period, accounts, jobs, coverage, lost events', () => {
    const n = digestNotice(busy(), { kind: 'digest' });
    expect(n.facts).toEqual([
      { label: 'Period', value: '2025-03-12 (UTC)', kind: 'text' },
      {
        label: 'Accounts',
        value: '4 watched: 1 verified, 0 repaired, 1 unverifiable, 1 not checked, 1 not ready',
        kind: 'text',
      },
      {
        label: 'Backup jobs',
        value: '7 completed, 2 failed, 1 expired, 1 completed with issues',
        kind: 'text',
      },
      {
        label: 'Coverage',
        value: '33.3% (1 of 3 tagged resources protected; 1 late, 1 never, 0 not opted in)',
        kind: 'text',
      },
      { label: 'Lost events recovered', value: '0', kind: 'text' },
    ]);
  });

  it('shows aborted and partial jobs only when there are some, and a span of days', () => {
    const i = input([A], {
      period: {
        start: new Date('2025-03-11T08:00:00.000Z'),
        end: new Date('2025-03-13T08:00:00.000Z'),
      },
      summaries: [row(A, 'ABORTED', 1), row(A, 'PARTIAL', 3)],
    });
    const n = digestNotice(buildDigest(i), { kind: 'digest' });
    expect(n.facts.find((f) => f.label === 'Backup jobs')!.value).toBe(
      '0 completed, 0 failed, 0 expired, 1 aborted, 3 partial, 0 completed with issues',
    );
    expect(n.facts.find((f) => f.label === 'Period')!.value).toBe('2025-03-11 to 2025-03-13 (UTC)');
    expect(n.facts.find((f) => f.label === 'Coverage')!.value).toBe(
      'no resource is tagged for a backup plan',
    );
  });

  it('has the sections for attention, reasons, missed resources and the per-account table', () => {
    const n = digestNotice(busy(), { kind: 'digest' });
    expect(n.sections.map((s) => [s.title, s.chatRows])).toEqual([
      ['Accounts that need attention', 5],
      ['Top failure reasons', 3],
      ['Resources tagged for backup and not backed up', 5],
      ['Per account', 0],
    ]);
    const [attention, reasons, missed, perAccount] = n.sections;
    expect(attention!.rows[0]).toEqual([
      { value: `Account 2 (${B})` },
      { value: 'unverifiable' },
      { value: 'access denied' },
    ]);
    expect(reasons!.rows).toEqual([
      [{ value: 'AccessDenied', kind: 'id' }, { value: '2' }],
      [{ value: 'Expired', kind: 'id' }, { value: '1' }],
      [{ value: 'Timeout', kind: 'id' }, { value: '1' }],
    ]);
    expect(missed!.rows[0]).toEqual([
      { value: `arn:aws:dynamodb:us-east-1:${A}:table/orders`, kind: 'id' },
      { value: 'never' },
      { value: 'never' },
      { value: 'tagged for plan org-daily-35-days, never backed up' },
    ]);
    expect(perAccount!.rows.map((r) => r.map((c) => c.value))).toEqual([
      [
        `Account 1 (${A})`,
        'verified',
        '7',
        '2',
        '1',
        '1',
        '33.3% (1/3, 1 late, 1 never)',
        'AccessDenied (2)',
      ],
      [`Account 2 (${B})`, 'unverifiable', '0', '0', '0', '0', '-', '-'],
      [`Account 3 (${C})`, 'not checked', '0', '0', '0', '0', '-', '-'],
      [`Account 4 (${D})`, 'not ready', '0', '0', '0', '0', '-', '-'],
    ]);
  });

  it('lists at most ten failure reasons', () => {
    const summaries = Array.from({ length: 12 }, (_, k) => row(A, 'FAILED', 1, `Category${k}`));
    const n = digestNotice(buildDigest(input([A], { summaries })), { kind: 'digest' });
    expect(n.sections.find((s) => s.title === 'Top failure reasons')!.rows).toHaveLength(10);
  });

  describe('an owner digest', () => {
    it('speaks of "your accounts" and carries its owners', () => {
      const owners = ['payments-team@example.com'];
      const n = digestNotice(digestFor(busy(), new Set([A])), { kind: 'account-digest', owners });
      expect(n.kind).toBe('account-digest');
      expect(n.owners).toEqual(owners);
      expect(n.headline).toMatch(/^Backups in your accounts: /);
    });

    it('has one dedup key per period and set of owners, whatever their order or case', () => {
      const d = busy();
      const key = (owners: string[], digest = d) =>
        digestNotice(digest, { kind: 'account-digest', owners }).dedupKey;
      const k = key(['a@example.com', 'b@example.com']);
      expect(k).toMatch(
        /^digest#owner-[0-9a-f]{16}#2025-03-12T00:00:00\.000Z#2025-03-13T00:00:00\.000Z$/,
      );
      expect(key(['B@example.com', 'a@example.com'])).toBe(k);
      expect(key(['a@example.com'])).not.toBe(k);
      const nextDay = buildDigest(
        input([A], {
          period: {
            start: new Date('2025-03-13T00:00:00.000Z'),
            end: new Date('2025-03-14T00:00:00.000Z'),
          },
        }),
      );
      expect(key(['a@example.com', 'b@example.com'], nextDay)).not.toBe(k);
      expect(k).not.toBe(digestNotice(d, { kind: 'digest' }).dedupKey);
    });
  });

  it('is routed by the digest rules only: the organization to watching.digest, owners to themselves', () => {
    const config = exampleConfig();
    config.watching.digest = { ...config.watching.digest, email: ['admins'], sns: ['chat'] };
    config.watching.digest.accountOwners = true;
    const topicArn = (t: string) => `arn:aws:sns:us-east-1:111122223333:${t}`;
    const org = planNotice(digestNotice(busy(), { kind: 'digest' }), config, topicArn).targets;
    expect(org.map((t) => [t.key, t.rules])).toEqual([
      ['email:admins', ['daily-digest']],
      ['sns:chat', ['daily-digest']],
    ]);
    const owners = ['payments-team@example.com', 'lead@example.com'];
    const mine = digestNotice(digestFor(busy(), new Set([A])), { kind: 'account-digest', owners });
    expect(planNotice(mine, config, topicArn).targets).toEqual([
      {
        channel: 'email',
        key: 'email:account-owner',
        list: 'account-owner',
        to: owners,
        rules: ['account-owner-digests'],
      },
    ]);
  });
});

describe('the digest rendered', () => {
  const busyNotice = () => {
    const ids = [A, B, C, D, '200000000005', '200000000006', '200000000007'];
    const d = buildDigest(
      input(ids, {
        checks: new Map([[A, check(A)]]),
        summaries: [
          row(A, 'FAILED', 3, 'AccessDenied'),
          row(A, 'FAILED', 2, 'InvalidParameters'),
          row(A, 'FAILED', 1, 'Timeout'),
          row(A, 'EXPIRED', 1),
        ],
      }),
    );
    return digestNotice(d, { kind: 'digest' });
  };

  it('puts every account in the email table', () => {
    const email = renderEmail(busyNotice());
    expect(email.subject).toBe(
      '[DIGEST] Backups in the organization: 7 backup jobs failed, 6 accounts not checked',
    );
    expect(email.html).toContain('Per account</h2>');
    for (const id of [A, D, '200000000007']) {
      expect(email.html).toContain(`(${id})</td>`);
      expect(email.text).toContain(`(${id}) | `);
    }
    expect(email.text).toMatch(/^Per account:$/m);
    expect(email.text).toContain('  Account | Check | Completed | Failed | Expired');
    expect(email.text).toContain('Backup jobs:');
  });

  it('keeps chat compact: the per-account table is "listed in the email", long lists are cut', () => {
    const sns = renderSns(busyNotice());
    const chat = JSON.parse(sns.body) as ChatNotification;
    const description = chat.content.description;
    expect(description).toContain('*Per account:*\n• 7, listed in the email');
    // The verified account is only in the per-account table, which chat leaves to the email.
    expect(description).not.toContain(A);
    // Six accounts need attention: five listed, one counted.
    expect(description).toMatch(/\*Accounts that need attention:\*\n(• .*\n){5}• … and 1 more/);
    expect(description).toMatch(/\*Top failure reasons:\*\n(• .*\n){3}• … and 1 more/);
    expect(chat.content.title).toMatch(/^:rotating_light: Backups in the organization: /);
    expect(chat.metadata.eventType).toBe('DailyDigest');
    expect(chat.metadata.threadId).toBe('digest-2025-03-12');
    expect(sns.subject.length).toBeLessThanOrEqual(99);
    expect(sns.subject).toMatch(/^\[DIGEST\] /);
    expect(sns.attributes).toMatchObject({
      kind: 'digest',
      severity: 'error',
      state: 'ATTENTION',
      accountId: 'organization',
      resourceType: 'Organization',
    });
  });

  it('renders the quiet digest as a short ALL WELL on both channels', () => {
    const n = digestNotice(buildDigest(input([A, B])), { kind: 'digest' });
    expect(renderEmail(n).subject).toBe('[ALL WELL] All 2 accounts verified, nothing failed');
    const chat = JSON.parse(renderSns(n).body) as ChatNotification;
    expect(chat.content.title).toBe(':white_check_mark: All 2 accounts verified, nothing failed');
    expect(chat.content.description).not.toContain('Per account');
  });

  describe('member-controlled account names', () => {
    const HOSTILE =
      '<img src=x onerror=alert(1)> Pay\u200Bments https://evil.example/x <!channel> @here \u202E';
    const hostileNotice = () => {
      const i = input([A], { checks: new Map() });
      const d = buildDigest({ ...i, accounts: [{ id: A, name: HOSTILE, status: 'ACTIVE' }] });
      return digestNotice(d, { kind: 'digest' });
    };

    it('are inert in the email', () => {
      const { subject, html, text } = renderEmail(hostileNotice());
      for (const s of [subject, html, text]) {
        expect(s).not.toMatch(/https:\/\/evil/);
        expect(s).not.toMatch(/[\u200B\u202E]/);
      }
      expect(html).not.toContain('<img');
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(text).toContain('hxxps://evil[.]example/x');
      expect(text).toContain(`(${A})`);
    });

    it('are inert in chat', () => {
      const sns = renderSns(hostileNotice());
      const chat = JSON.parse(sns.body) as ChatNotification;
      const all = JSON.stringify(chat) + sns.subject + JSON.stringify(sns.attributes);
      expect(all).not.toMatch(/https:\/\/evil|<!channel>|@here|<img/);
      expect(all).not.toMatch(/[\u200B\u202E]/);
      // The account still shows, among those that need attention.
      expect(chat.content.description).toContain(A);
      expect(chat.content.description).toContain('hxxps://evil[.]example/x');
    });
  });
});
