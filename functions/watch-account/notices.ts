import { createHash } from 'node:crypto';
import { id, text, type Notice } from '../shared/notices/notice';

/**
 * What the daily check says on its own: an account it could not read. (Drift is told by
 * onboarding once repaired; coverage and lost events have their own notices.)
 */

const short = (...parts: string[]) =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);

export interface UnverifiableFacts {
  accountId: string;
  day: string;
  reason: string;
  role: string;
  watchRoleArn: string;
}

/** The same cause (its words without ids and times) is told once, not every day. */
function cause(reason: string): string {
  return reason
    .replace(/\b[0-9a-f]{8}-[0-9a-f-]{27,}\b/gi, '')
    .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z?/g, '')
    .slice(0, 300);
}

/** The ISO week of a day: a cause that lasts is told again once a week, not every day. */
function week(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const thursday = new Date(d.getTime() + (3 - ((d.getUTCDay() + 6) % 7)) * 86_400_000);
  const firstThursday = new Date(Date.UTC(thursday.getUTCFullYear(), 0, 4));
  const n = 1 + Math.round((thursday.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
  return `${thursday.getUTCFullYear()}-W${String(n).padStart(2, '0')}`;
}

export function unverifiableNotice(n: UnverifiableFacts): Notice {
  return {
    kind: 'drift',
    dedupKey: `unverifiable#${n.accountId}#${week(n.day)}#${short(cause(n.reason))}`,
    severity: 'error',
    label: 'UNVERIFIABLE',
    what: 'Daily check',
    headline: `Account ${n.accountId} cannot be verified: backups there are not being watched`,
    account: { id: n.accountId },
    reason: n.reason,
    facts: [
      ...id('Read-only role', n.role),
      ...id('Checked by', n.watchRoleArn),
      ...text('Day', n.day),
    ],
    sections: [],
    nextSteps: [
      `A repair (onboarding with the access role) was queued: it recreates ${n.role} if it is missing or changed.`,
      `If it stays unverifiable, check that role ${n.role} exists in the account, trusts ${n.watchRoleArn}, and that no service control policy denies its reads.`,
      `Check by hand: npx backupctl reconcile --dry-run (it names the permission that is missing).`,
    ],
    state: 'UNVERIFIABLE',
    resourceType: 'Account',
    chat: {
      threadId: `check-${n.accountId}`,
      eventType: 'AccountUnverifiable',
      keywords: ['unverifiable', n.accountId],
      relatedResources: [],
      context: { day: n.day },
    },
    reference: `daily check of ${n.accountId}, ${n.day}`,
  };
}

export interface CoverageFacts {
  accountId: string;
  day: string;
  /** Resources whose incident was not reported before. */
  rows: readonly {
    resourceArn: string;
    resourceType: string;
    region: string;
    policy: string;
    rule: string;
    lastBackupTime: string | null;
    status: string;
    reason: string;
    severity: 'warning' | 'error' | 'none';
    incident: string;
  }[];
  /** The account's whole coverage, for context. */
  totals: { resources: number; protected: number };
}

const STATUS_WORDS: Readonly<Record<string, string>> = {
  late: 'late',
  never: 'never backed up',
  'not-opted-in': 'not opted in',
};

/** Resources tagged for a backup plan that are not backed up: one notice per account and run. */
export function coverageNotice(n: CoverageFacts): Notice {
  const severity = n.rows.some((r) => r.severity === 'error') ? 'error' : 'warning';
  const keys = n.rows.map((r) => `${r.resourceArn}#${r.incident}`).sort();
  const counts = Object.entries(
    n.rows.reduce<Record<string, number>>((acc, r) => {
      acc[r.status] = (acc[r.status] ?? 0) + 1;
      return acc;
    }, {}),
  ).map(([status, count]) => `${count} ${STATUS_WORDS[status] ?? status}`);
  const regions = [...new Set(n.rows.map((r) => r.region))];
  return {
    kind: 'coverage',
    dedupKey: `coverage#${n.accountId}#${short(...keys)}`,
    severity,
    label: 'NOT BACKED UP',
    what: 'Backup coverage',
    item: `${n.rows.length} resource(s)`,
    headline: `${counts.join(', ')} in account ${n.accountId}: resources tagged for backup are not protected`,
    account: { id: n.accountId },
    ...(regions.length === 1 ? { region: regions[0]! } : {}),
    facts: [
      ...text(
        'Coverage',
        `${n.totals.protected} of ${n.totals.resources} tagged resources protected`,
      ),
      ...text('Day', n.day),
    ],
    sections: [
      {
        title: 'Resources not backed up',
        columns: ['Resource', 'Status', 'Plan / rule', 'Last backup', 'Why, and what to check'],
        rows: n.rows.map((r) => [
          { value: r.resourceArn, kind: 'id' },
          { value: STATUS_WORDS[r.status] ?? r.status },
          { value: `${r.policy} / ${r.rule}`, kind: 'id' },
          { value: r.lastBackupTime ?? 'never' },
          { value: r.reason },
        ]),
      },
    ],
    nextSteps: [
      'For each resource, fix the cause named in the table; the next plan run backs it up.',
      'To protect a resource now, start an on-demand backup in the AWS Backup console (Protected resources → Create on-demand backup).',
      `Review: npx backupctl coverage --account ${n.accountId}`,
    ],
    state: 'NOT_BACKED_UP',
    resourceType: [...new Set(n.rows.map((r) => r.resourceType))].join(',') || 'unknown',
    chat: {
      threadId: `coverage-${n.accountId}`,
      eventType: 'BackupCoverageGap',
      keywords: ['coverage', n.accountId, ...regions],
      relatedResources: n.rows.slice(0, 20).map((r) => r.resourceArn),
      context: { day: n.day, resources: String(n.rows.length) },
    },
    reference: `daily check of ${n.accountId}, ${n.day}`,
  };
}
