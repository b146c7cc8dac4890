import { createHash } from 'node:crypto';
import { text, type Cell, type Notice, type Section } from '../shared/notices/notice';
import type {
  AccountRecord,
  CheckRecord,
  CoverageRow,
  JobSummaryRow,
  OrgAccount,
} from '../shared/ports';

/**
 * The daily digest, which is also proof of life: per account, what AWS Backup did (job counts
 * by state from its job summaries), whether the account was verified against its baseline,
 * its coverage, and for the organization what needs attention. Built whole from its sources
 * first (a digest is never half-built), then rendered as a notice for each audience.
 */

export interface DigestPeriod {
  start: Date;
  end: Date;
}

export type DigestAccountStatus =
  | 'verified'
  | 'drift repaired'
  | 'unverifiable'
  | 'not checked'
  | 'not ready'
  | 'onboarding failed'
  | 'skipped';

export interface JobCounts {
  completed: number;
  completedWithIssues: number;
  failed: number;
  expired: number;
  aborted: number;
  partial: number;
}

export interface DigestAccountRow extends JobCounts {
  accountId: string;
  name?: string;
  status: DigestAccountStatus;
  /** Why, for any status but verified. */
  detail?: string;
  resources: number;
  protected: number;
  late: number;
  never: number;
  notOptedIn: number;
  /** Protected share of the resources tagged for backup; null when none is tagged. */
  coveragePercent: number | null;
  topReason?: string;
  lostEventsRecovered: number;
}

export interface Digest {
  period: { start: string; end: string };
  generatedAt: string;
  totals: JobCounts & {
    accounts: number;
    verified: number;
    driftRepaired: number;
    unverifiable: number;
    notChecked: number;
    notReady: number;
    resources: number;
    protected: number;
    late: number;
    never: number;
    notOptedIn: number;
    coveragePercent: number | null;
    lostEventsRecovered: number;
  };
  accounts: DigestAccountRow[];
  /** Failure categories (AWS Backup's MessageCategory) of the period, most frequent first. */
  reasons: { category: string; count: number }[];
  missed: CoverageRow[];
  notReady: { accountId: string; name?: string; status: DigestAccountStatus; detail: string }[];
  /** Nothing failed, nothing missed, every account verified. */
  quiet: boolean;
}

export interface DigestInput {
  period: DigestPeriod;
  now: Date;
  /** The accounts the control plane watches (active, not opted out by configuration). */
  accounts: readonly OrgAccount[];
  onboarding: ReadonlyMap<string, AccountRecord>;
  /** The latest check of each account (today's, else yesterday's). */
  checks: ReadonlyMap<string, CheckRecord>;
  summaries: readonly JobSummaryRow[];
}

const SUCCESS = /^success$/i;

const emptyCounts = (): JobCounts => ({
  completed: 0,
  completedWithIssues: 0,
  failed: 0,
  expired: 0,
  aborted: 0,
  partial: 0,
});

/** Adds one summary row to the counts; returns the failure category it represents, if any. */
function count(counts: JobCounts, row: JobSummaryRow): string | undefined {
  const category =
    row.messageCategory && row.messageCategory !== 'ANY' ? row.messageCategory : undefined;
  switch (row.state.toUpperCase()) {
    case 'COMPLETED':
      // "Completed with issues" is not a state: a COMPLETED job with a message that is no success.
      if (category && !SUCCESS.test(category)) {
        counts.completedWithIssues += row.count;
        return category;
      }
      counts.completed += row.count;
      return undefined;
    case 'FAILED':
      counts.failed += row.count;
      return category ?? 'Unknown';
    case 'EXPIRED':
      counts.expired += row.count;
      return category ?? 'Expired';
    case 'ABORTED':
      counts.aborted += row.count;
      return category ?? 'Aborted';
    case 'PARTIAL':
      counts.partial += row.count;
      return category ?? 'Partial';
    default:
      return undefined;
  }
}

const overlaps = (row: JobSummaryRow, period: DigestPeriod) =>
  row.start < period.end && row.end > period.start;

function statusOf(
  record: AccountRecord | undefined,
  check: CheckRecord | undefined,
): { status: DigestAccountStatus; detail?: string } {
  if (!record || record.status === 'onboarding') {
    return { status: 'not ready', detail: record ? 'onboarding in progress' : 'never onboarded' };
  }
  if (record.status === 'failed') {
    const e = record.lastError;
    return { status: 'onboarding failed', detail: e ? `${e.step}: ${e.message}` : 'failed' };
  }
  if (record.status === 'skipped') return { status: 'skipped', detail: record.skipReason ?? '' };
  if (record.status === 'departed' || record.status === 'closing') {
    // Listed and active again (the digest leaves out inactive accounts): onboarded next sweep.
    return { status: 'not ready', detail: `${record.status} before; to be onboarded again` };
  }
  if (!check) return { status: 'not checked', detail: 'no daily check recorded for this period' };
  switch (check.status) {
    case 'verified':
      return { status: 'verified' };
    case 'drift':
      return {
        status: 'drift repaired',
        detail: check.findings.map((f) => f.what).join('; '),
      };
    case 'unverifiable':
      return { status: 'unverifiable', detail: check.reason ?? 'cannot be read' };
    case 'skipped':
      return { status: 'skipped', detail: check.reason ?? '' };
  }
}

const percent = (part: number, whole: number) =>
  whole ? Math.round((1000 * part) / whole) / 10 : null;

export function buildDigest(input: DigestInput): Digest {
  const byAccount = new Map<string, JobSummaryRow[]>();
  for (const row of input.summaries) {
    if (!overlaps(row, input.period)) continue;
    byAccount.set(row.accountId, [...(byAccount.get(row.accountId) ?? []), row]);
  }
  const reasons = new Map<string, number>();
  const accounts = input.accounts.map((a): DigestAccountRow => {
    const counts = emptyCounts();
    const mine = new Map<string, number>();
    for (const row of byAccount.get(a.id) ?? []) {
      const category = count(counts, row);
      if (category) {
        mine.set(category, (mine.get(category) ?? 0) + row.count);
        reasons.set(category, (reasons.get(category) ?? 0) + row.count);
      }
    }
    const check = input.checks.get(a.id);
    const { status, detail } = statusOf(input.onboarding.get(a.id), check);
    const c = check?.coverage;
    const top = [...mine].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0];
    return {
      accountId: a.id,
      ...(a.name ? { name: a.name } : {}),
      status,
      ...(detail ? { detail } : {}),
      ...counts,
      resources: c?.resources ?? 0,
      protected: c?.protected ?? 0,
      late: c?.late ?? 0,
      never: c?.never ?? 0,
      notOptedIn: c?.notOptedIn ?? 0,
      coveragePercent: c ? percent(c.protected, c.resources) : null,
      ...(top ? { topReason: `${top[0]} (${top[1]})` } : {}),
      lostEventsRecovered: check?.lostEvents?.recovered ?? 0,
    };
  });
  const totals = totalsOf(accounts);
  const missed = [...input.checks.values()].flatMap((c) => c.coverage?.missed ?? []);
  const notReady = accounts
    .filter((r) => !['verified', 'drift repaired', 'skipped'].includes(r.status))
    .map((r) => ({
      accountId: r.accountId,
      ...(r.name ? { name: r.name } : {}),
      status: r.status,
      detail: r.detail ?? '',
    }));
  return {
    period: { start: input.period.start.toISOString(), end: input.period.end.toISOString() },
    generatedAt: input.now.toISOString(),
    totals,
    accounts,
    reasons: [...reasons]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([category, n]) => ({ category, count: n })),
    missed,
    notReady,
    quiet: isQuiet(totals, notReady.length),
  };
}

/** The organization's (or an owner's) totals, from the account rows: one way to count. */
function totalsOf(accounts: readonly DigestAccountRow[]): Digest['totals'] {
  const sum = (f: (r: DigestAccountRow) => number) => accounts.reduce((n, r) => n + f(r), 0);
  const is = (s: DigestAccountStatus) => accounts.filter((r) => r.status === s).length;
  const resources = sum((r) => r.resources);
  const protectedCount = sum((r) => r.protected);
  return {
    accounts: accounts.length,
    verified: is('verified'),
    driftRepaired: is('drift repaired'),
    unverifiable: is('unverifiable'),
    notChecked: is('not checked'),
    notReady: is('not ready') + is('onboarding failed'),
    completed: sum((r) => r.completed),
    completedWithIssues: sum((r) => r.completedWithIssues),
    failed: sum((r) => r.failed),
    expired: sum((r) => r.expired),
    aborted: sum((r) => r.aborted),
    partial: sum((r) => r.partial),
    resources,
    protected: protectedCount,
    late: sum((r) => r.late),
    never: sum((r) => r.never),
    notOptedIn: sum((r) => r.notOptedIn),
    coveragePercent: percent(protectedCount, resources),
    lostEventsRecovered: sum((r) => r.lostEventsRecovered),
  };
}

/** Nothing failed, nothing missed, every watched account verified (opted-out ones aside). */
function isQuiet(t: Digest['totals'], attention: number): boolean {
  const troubles =
    t.failed +
    t.expired +
    t.aborted +
    t.partial +
    t.completedWithIssues +
    t.late +
    t.never +
    t.notOptedIn +
    t.driftRepaired +
    attention;
  return troubles === 0;
}

/** Only these accounts: an owner's digest. */
export function digestFor(digest: Digest, accountIds: ReadonlySet<string>): Digest {
  const keep = <T extends { accountId: string }>(rows: readonly T[]) =>
    rows.filter((r) => accountIds.has(r.accountId));
  const accounts = keep(digest.accounts);
  const totals = totalsOf(accounts);
  const notReady = keep(digest.notReady);
  // The organization's failure categories are not split by account in the totals: an owner
  // sees each account's top reason in the table instead of a list that is not theirs.
  return {
    ...digest,
    totals,
    accounts,
    reasons: [],
    missed: keep(digest.missed),
    notReady,
    quiet: isQuiet(totals, notReady.length),
  };
}

const short = (...parts: string[]) =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);

const day = (iso: string) => iso.slice(0, 10);

function periodText(d: Digest): string {
  const start = day(d.period.start);
  const endDay = day(new Date(Date.parse(d.period.end) - 1).toISOString());
  return start === endDay ? `${start} (UTC)` : `${start} to ${endDay} (UTC)`;
}

function jobsText(t: Digest['totals']): string {
  const parts = [
    `${t.completed} completed`,
    `${t.failed} failed`,
    `${t.expired} expired`,
    ...(t.aborted ? [`${t.aborted} aborted`] : []),
    ...(t.partial ? [`${t.partial} partial`] : []),
    `${t.completedWithIssues} completed with issues`,
  ];
  return parts.join(', ');
}

export interface DigestAudience {
  kind: 'digest' | 'account-digest';
  /** For an owner's digest: the addresses it goes to. */
  owners?: string[];
}

/** The digest as a notice: one email layout, one chat summary. */
export function digestNotice(d: Digest, audience: DigestAudience): Notice {
  const t = d.totals;
  const scope = audience.kind === 'digest' ? 'the organization' : 'your accounts';
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  const failedJobs = t.failed + t.expired + t.aborted;
  const attention = [
    ...(failedJobs ? [`${n(failedJobs, 'backup job', 'backup jobs')} failed`] : []),
    ...(t.late + t.never ? [`${n(t.late + t.never, 'resource', 'resources')} not backed up`] : []),
    ...(t.unverifiable ? [`${n(t.unverifiable, 'account', 'accounts')} unverifiable`] : []),
    ...(t.notChecked ? [`${n(t.notChecked, 'account', 'accounts')} not checked`] : []),
    ...(t.notReady ? [`${n(t.notReady, 'account', 'accounts')} not ready`] : []),
    ...(t.driftRepaired ? [`${n(t.driftRepaired, 'account', 'accounts')} repaired`] : []),
  ];
  const skipped = t.accounts - t.verified;
  const headline = d.quiet
    ? `${t.verified === 1 ? 'The 1 account' : `All ${t.verified} accounts`} verified${skipped ? ` (${n(skipped, 'account', 'accounts')} opted out)` : ''}, nothing failed`
    : `Backups in ${scope}: ${attention.join(', ') || 'see below'}`;
  const severity =
    t.unverifiable || t.notChecked || t.notReady || t.never || t.late
      ? 'error'
      : d.quiet
        ? 'info'
        : 'warning';
  const accountName = (r: { accountId: string; name?: string }) =>
    r.name ? `${r.name} (${r.accountId})` : r.accountId;
  const sections: Section[] = [];
  if (d.notReady.length) {
    sections.push({
      title: 'Accounts that need attention',
      columns: ['Account', 'Status', 'Why'],
      rows: d.notReady.map((r) => [
        { value: accountName(r) },
        { value: r.status },
        { value: r.detail },
      ]),
      chatRows: 5,
    });
  }
  if (d.reasons.length) {
    sections.push({
      title: 'Top failure reasons',
      columns: ['Category (AWS Backup)', 'Jobs'],
      rows: d.reasons
        .slice(0, 10)
        .map((r) => [{ value: r.category, kind: 'id' }, { value: String(r.count) }]),
      chatRows: 3,
    });
  }
  if (d.missed.length) {
    sections.push({
      title: 'Resources tagged for backup and not backed up',
      columns: ['Resource', 'Status', 'Last backup', 'Why'],
      rows: d.missed.map((m): Cell[] => [
        { value: m.resourceArn, kind: 'id' },
        { value: m.status },
        { value: m.lastBackupTime ?? 'never' },
        { value: m.reason },
      ]),
      chatRows: 5,
    });
  }
  if (!d.quiet) {
    sections.push({
      title: 'Per account',
      columns: [
        'Account',
        'Check',
        'Completed',
        'Failed',
        'Expired',
        'With issues',
        'Coverage',
        'Top reason',
      ],
      rows: d.accounts.map((r) => [
        { value: accountName(r) },
        { value: r.status },
        { value: String(r.completed) },
        { value: String(r.failed) },
        { value: String(r.expired) },
        { value: String(r.completedWithIssues + r.partial) },
        {
          value:
            r.coveragePercent === null
              ? '-'
              : `${r.coveragePercent}% (${r.protected}/${r.resources}${r.late + r.never ? `, ${r.late} late, ${r.never} never` : ''})`,
        },
        { value: r.topReason ?? '-' },
      ]),
      chatRows: 0,
    });
  }
  const owners = audience.owners ?? [];
  return {
    kind: audience.kind,
    dedupKey: `digest#${audience.kind === 'digest' ? 'organization' : `owner-${short(...owners.map((o) => o.toLowerCase()).sort())}`}#${d.period.start}#${d.period.end}`,
    severity,
    label: d.quiet ? 'ALL WELL' : 'DIGEST',
    what: 'Daily backup digest',
    headline,
    summary: `${headline} (${periodText(d)})`,
    ...(owners.length ? { owners } : {}),
    facts: [
      ...text('Period', periodText(d)),
      ...text(
        'Accounts',
        `${t.accounts} watched: ${t.verified} verified, ${t.driftRepaired} repaired, ${t.unverifiable} unverifiable, ${t.notChecked} not checked, ${t.notReady} not ready`,
      ),
      ...text('Backup jobs', jobsText(t)),
      ...text(
        'Coverage',
        t.coveragePercent === null
          ? 'no resource is tagged for a backup plan'
          : `${t.coveragePercent}% (${t.protected} of ${t.resources} tagged resources protected; ${t.late} late, ${t.never} never, ${t.notOptedIn} not opted in)`,
      ),
      ...text('Lost events recovered', String(t.lostEventsRecovered)),
    ],
    sections,
    nextSteps: d.quiet
      ? ['Nothing to do. This message is the proof that the control plane ran today.']
      : [
          'Start with the accounts that need attention: an unverifiable or unchecked account is not being watched.',
          'Each failed job was alerted on its own with the reason and a link; this digest counts them.',
          'Resources not backed up: npx backupctl coverage --account <id> shows why, resource by resource.',
        ],
    state: d.quiet ? 'QUIET' : 'ATTENTION',
    resourceType: 'Organization',
    chat: {
      threadId: `digest-${day(d.period.start)}`,
      eventType: d.quiet ? 'DailyDigestAllWell' : 'DailyDigest',
      keywords: ['digest', day(d.period.start)],
      relatedResources: [],
      context: {
        accounts: String(t.accounts),
        failed: String(t.failed),
        unverifiable: String(t.unverifiable),
      },
    },
    reference: `daily digest ${periodText(d)}`,
  };
}
