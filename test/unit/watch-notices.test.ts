import {
  driftRepairedNotice,
  type DriftRepairedFacts,
} from '../../functions/onboard-account/notices';
import type { DriftFinding } from '../../functions/onboard-account/onboard';
import type { Notice } from '../../functions/shared/notices/notice';
import { renderSns, type ChatNotification } from '../../functions/shared/notices/render-chat';
import { renderEmail } from '../../functions/shared/notices/render-email';
import {
  coverageNotice,
  unverifiableNotice,
  type CoverageFacts,
  type UnverifiableFacts,
} from '../../functions/watch-account/notices';
import { exampleConfig } from '../helpers/fixtures';

/** What the daily check says: unverifiable accounts, coverage gaps, drift repaired. */

const ACCOUNT = '222233334444';
const READ_ONLY = 'backup-control-plane-read-only';
const WATCH_ROLE = 'arn:aws:iam::111122223333:role/backup-control-plane-dev-watch';
const RULE = 'backup-control-plane-forward-backup-events';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`;
const VOLUME = `arn:aws:ec2:eu-west-1:${ACCOUNT}:volume/vol-0123456789abcdef0`;

/** Text a member account controls (names, messages), trying to ping and link. */
const HOSTILE = 'Pay\u200Bments https://evil.example/x <!channel> @here \u202E';
const LIVE = /https:\/\/evil/;
const MENTION = /<!channel>|@here/;
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u061C\uFEFF]/;

const unverifiable = (over: Partial<UnverifiableFacts> = {}): UnverifiableFacts => ({
  accountId: ACCOUNT,
  day: '2025-03-13',
  reason: `access: cannot assume ${READ_ONLY} in account ${ACCOUNT}: User is not authorized to perform: sts:AssumeRole`,
  role: READ_ONLY,
  watchRoleArn: WATCH_ROLE,
  ...over,
});

type Row = CoverageFacts['rows'][number];
const row = (over: Partial<Row> = {}): Row => ({
  resourceArn: TABLE,
  resourceType: 'DynamoDB',
  region: 'us-east-1',
  policy: 'org-daily-35-days',
  rule: 'daily',
  lastBackupTime: null,
  status: 'never',
  reason: 'tagged for plan org-daily-35-days, never backed up',
  severity: 'error',
  incident: 'never-error',
  ...over,
});
const coverage = (rows: Row[], over: Partial<CoverageFacts> = {}): CoverageFacts => ({
  accountId: ACCOUNT,
  day: '2025-03-13',
  rows,
  totals: { resources: 5, protected: 5 - rows.length },
  ...over,
});

const finding = (what: string, who?: DriftFinding['who']): DriftFinding => ({
  what,
  resource: RULE,
  region: 'us-east-1',
  ...(who ? { who } : {}),
});
const MALLORY = {
  identity: `arn:aws:iam::${ACCOUNT}:user/mallory`,
  action: 'DisableRule',
  time: '2025-03-12T22:10:00Z',
};
const DISABLED = `forwarding rule ${RULE} is DISABLED in us-east-1`;
const NO_VAULT = 'backup vault org-backup-vault is missing in us-east-1';

function repaired(over: Partial<DriftRepairedFacts> = {}): DriftRepairedFacts {
  const profile = exampleConfig().onboarding!.profiles[1]!;
  return {
    account: { id: ACCOUNT, name: 'Payments', email: 'aws-payments@example.com', status: 'ACTIVE' },
    ouPath: 'Workloads',
    record: {
      accountId: ACCOUNT,
      status: 'ready',
      baselineVersion: 2,
      steps: {},
      attempts: 3,
      updatedAt: '2025-03-13T03:20:00.000Z',
      attachedPolicies: ['daily-35-days'],
    },
    profile,
    drift: [finding(DISABLED, MALLORY), finding(NO_VAULT)],
    changes: [`baseline-us-east-1: enable rule ${RULE} in us-east-1`],
    detectedAt: '2025-03-13T03:05:00.000Z',
    ...over,
  };
}

describe('unverifiableNotice', () => {
  it('says the account is not watched, names the roles, and is an error alert', () => {
    const n = unverifiableNotice(unverifiable());
    expect(n).toMatchObject({
      kind: 'drift',
      severity: 'error',
      label: 'UNVERIFIABLE',
      state: 'UNVERIFIABLE',
      account: { id: ACCOUNT },
      headline: `Account ${ACCOUNT} cannot be verified: backups there are not being watched`,
      reason: unverifiable().reason,
    });
    expect(n.facts).toEqual([
      { label: 'Read-only role', value: READ_ONLY, kind: 'id' },
      { label: 'Checked by', value: WATCH_ROLE, kind: 'id' },
      { label: 'Day', value: '2025-03-13', kind: 'text' },
    ]);
    expect(n.nextSteps.join('\n')).toContain(`trusts ${WATCH_ROLE}`);
    expect(n.dedupKey).toMatch(new RegExp(`^unverifiable#${ACCOUNT}#\\d{4}-W\\d{2}#[0-9a-f]{16}$`));
  });

  it('keeps its key across days of one week and across ids and times in the reason', () => {
    const a = unverifiableNotice(
      unverifiable({
        reason:
          'coverage and job history: AccessDenied (Request ID: 4f1c2b3a-1234-4abc-9def-0123456789ab) at 2025-03-13T03:05:00.123Z',
      }),
    );
    const b = unverifiableNotice(
      unverifiable({
        day: '2025-03-14',
        reason:
          'coverage and job history: AccessDenied (Request ID: 0a9b8c7d-5555-4eee-8fff-ba9876543210) at 2025-03-14T03:06:12Z',
      }),
    );
    expect(b.dedupKey).toBe(a.dedupKey);
    // A cause that lasts is told again the next week, not forgotten.
    const later = unverifiableNotice(
      unverifiable({ day: '2025-03-20', reason: 'baseline-iam: x' }),
    );
    const sameWeekAsLater = unverifiableNotice(
      unverifiable({ day: '2025-03-21', reason: 'baseline-iam: x' }),
    );
    expect(later.dedupKey).toBe(sameWeekAsLater.dedupKey);
    expect(later.dedupKey).not.toBe(
      unverifiableNotice(unverifiable({ day: '2025-03-13', reason: 'baseline-iam: x' })).dedupKey,
    );
  });

  it('changes its key when the cause changes, or for another account', () => {
    const base = unverifiableNotice(unverifiable()).dedupKey;
    expect(
      unverifiableNotice(unverifiable({ reason: 'baseline-iam: AccessDenied' })).dedupKey,
    ).not.toBe(base);
    expect(unverifiableNotice(unverifiable({ accountId: '333344445555' })).dedupKey).not.toBe(base);
  });
});

describe('coverageNotice', () => {
  it('is an error when any resource is an error, a warning when all are warnings', () => {
    expect(
      coverageNotice(
        coverage([
          row({ severity: 'warning', incident: 'never-warning' }),
          row({ resourceArn: VOLUME }),
        ]),
      ).severity,
    ).toBe('error');
    expect(
      coverageNotice(coverage([row({ severity: 'warning', incident: 'never-warning' })])).severity,
    ).toBe('warning');
  });

  it('counts each status in the headline and lists every resource with why', () => {
    const late = row({
      resourceArn: VOLUME,
      resourceType: 'EBS',
      region: 'eu-west-1',
      status: 'late',
      lastBackupTime: '2025-03-11T05:00:00.000Z',
      reason: 'last backup 55 h ago, expected within 39 h (rule daily)',
      incident: 'late-since-2025-03-11T05:00:00.000Z',
    });
    const n = coverageNotice(coverage([row(), late, row({ resourceArn: `${TABLE}-2` })]));
    expect(n.headline).toBe(
      `2 never backed up, 1 late in account ${ACCOUNT}: resources tagged for backup are not protected`,
    );
    expect(n.item).toBe('3 resource(s)');
    expect(n).not.toHaveProperty('region');
    expect(n.resourceType).toBe('DynamoDB,EBS');
    expect(n.facts).toContainEqual({
      label: 'Coverage',
      value: '2 of 5 tagged resources protected',
      kind: 'text',
    });
    expect(n.sections[0]!.rows[1]).toEqual([
      { value: VOLUME, kind: 'id' },
      { value: 'late' },
      { value: 'org-daily-35-days / daily', kind: 'id' },
      { value: '2025-03-11T05:00:00.000Z' },
      { value: 'last backup 55 h ago, expected within 39 h (rule daily)' },
    ]);
    expect(n.chat.keywords).toEqual(['coverage', ACCOUNT, 'us-east-1', 'eu-west-1']);
  });

  it('names the region when every resource is in one', () => {
    expect(coverageNotice(coverage([row()])).region).toBe('us-east-1');
  });

  it('keys on the resources and their incidents, whatever their order or the day', () => {
    const a = row();
    const b = row({ resourceArn: VOLUME, region: 'eu-west-1' });
    const key = coverageNotice(coverage([a, b])).dedupKey;
    expect(key).toMatch(new RegExp(`^coverage#${ACCOUNT}#[0-9a-f]{16}$`));
    expect(coverageNotice(coverage([b, a], { day: '2025-03-14' })).dedupKey).toBe(key);
    // A warning that became an error is a new incident: told again.
    const warned = coverageNotice(
      coverage([row({ severity: 'warning', incident: 'never-warning' })]),
    );
    expect(coverageNotice(coverage([row()])).dedupKey).not.toBe(warned.dedupKey);
  });
});

describe('driftRepairedNotice', () => {
  it('says what had changed, who changed it, and that it was repaired', () => {
    const n = driftRepairedNotice(repaired());
    expect(n).toMatchObject({
      kind: 'drift',
      severity: 'warning',
      label: 'DRIFT REPAIRED',
      state: 'REPAIRED',
      headline: `Account Payments (${ACCOUNT}) had drifted from its backup baseline: repaired`,
      reason: [NO_VAULT, DISABLED].join('; '),
      account: { id: ACCOUNT, name: 'Payments', ouPath: 'Workloads' },
    });
    expect(n.sections[0]!.rows).toEqual([
      [
        { value: DISABLED },
        { value: `${MALLORY.identity} (DisableRule, ${MALLORY.time})`, kind: 'id' },
      ],
      [{ value: NO_VAULT }, { value: 'not found in CloudTrail', kind: 'id' }],
    ]);
    expect(n.sections[1]).toMatchObject({ title: 'Repairs made', collapsed: true });
  });

  it('is keyed per day and set of differences', () => {
    const key = driftRepairedNotice(repaired()).dedupKey;
    expect(key).toMatch(new RegExp(`^drift#${ACCOUNT}#2025-03-13#[0-9a-f]{32}$`));
    // The same differences, in another order, found again the same day: the same notice.
    expect(
      driftRepairedNotice(
        repaired({
          drift: [finding(NO_VAULT), finding(DISABLED), finding(DISABLED)],
          detectedAt: '2025-03-13T17:00:00.000Z',
        }),
      ).dedupKey,
    ).toBe(key);
    expect(
      driftRepairedNotice(repaired({ detectedAt: '2025-03-14T03:05:00.000Z' })).dedupKey,
    ).not.toBe(key);
    expect(driftRepairedNotice(repaired({ drift: [finding(DISABLED)] })).dedupKey).not.toBe(key);
  });
});

describe('rendering the daily check notices', () => {
  const notices: [string, () => Notice][] = [
    [
      'unverifiable',
      () =>
        unverifiableNotice(
          unverifiable({ reason: `access: ${HOSTILE}`, role: `${READ_ONLY} ${HOSTILE}` }),
        ),
    ],
    [
      'coverage',
      () =>
        coverageNotice(
          coverage([
            row({ resourceArn: `${TABLE}/${HOSTILE}`, reason: HOSTILE, rule: HOSTILE }),
            row({ resourceArn: VOLUME, region: 'eu-west-1', status: 'late', reason: HOSTILE }),
          ]),
        ),
    ],
    [
      'drift repaired',
      () =>
        driftRepairedNotice(
          repaired({
            account: { id: ACCOUNT, name: HOSTILE },
            drift: [
              finding(`${HOSTILE} is DISABLED`, {
                identity: HOSTILE,
                action: HOSTILE,
                time: HOSTILE,
              }),
            ],
            changes: [HOSTILE],
          }),
        ),
    ],
  ];

  /** Every string anywhere in a JSON value. */
  const strings = (value: unknown): string[] =>
    typeof value === 'string'
      ? [value]
      : Array.isArray(value)
        ? value.flatMap(strings)
        : value && typeof value === 'object'
          ? Object.values(value).flatMap(strings)
          : [];

  it.each(notices)('renders the %s email with the account id and nothing live', (_, make) => {
    const n = make();
    const { subject, html, text } = renderEmail(n);
    expect(subject).toContain(ACCOUNT);
    expect(subject).toMatch(/^\[(UNVERIFIABLE|NOT BACKED UP|DRIFT REPAIRED)\] /);
    for (const part of [subject, html, text]) {
      expect(part).not.toMatch(LIVE);
      expect(part).not.toMatch(INVISIBLE);
    }
    expect(html).not.toContain('<!channel>');
    expect(html).not.toMatch(/<a [^>]*href="[^"]*evil/);
    expect(text).toContain('hxxps://evil[.]example/x');
  });

  it.each(notices)('renders the %s chat message with no live link or mention', (_, make) => {
    const rendered = renderSns(make());
    const parsed = JSON.parse(rendered.body) as ChatNotification;
    expect(parsed).toMatchObject({ version: '1.0', source: 'custom' });
    expect(rendered.subject).toContain(ACCOUNT);
    for (const s of [rendered.subject, ...strings(rendered.attributes), ...strings(parsed)]) {
      expect({ s, live: LIVE.test(s) }).toMatchObject({ live: false });
      expect({ s, mention: MENTION.test(s) }).toMatchObject({ mention: false });
      expect({ s, invisible: INVISIBLE.test(s) }).toMatchObject({ invisible: false });
    }
  });

  it('shows the who of a drift as copy-pasteable text in the email', () => {
    const { text, html } = renderEmail(driftRepairedNotice(repaired()));
    expect(text).toContain(`${MALLORY.identity} (DisableRule, ${MALLORY.time})`);
    expect(html).toContain(`<code `);
    expect(text).toContain(DISABLED);
  });
});
