import { createHash } from 'node:crypto';
import type { JobType, Severity } from '../shared/config/vocabulary';
import type { Aggregation } from '../shared/config/schema';
import type {
  IncidentMember,
  IncidentMeta,
  RecoveredIncident,
  SummaryWindow,
} from '../shared/ports';
import { consoleJobUrl, resourceName } from '../shared/format';
import { id, text, type Cell, type Notice } from '../shared/notices/notice';
import type { JobEvent } from './schema';

/**
 * Incidents: alerts that share a cause (the same job type and outcome, the same failure category,
 * the same vault or plan, in one account or across the organization) become one incident. The
 * first alert goes out at once; followers within the window are folded into one summary per
 * window; when the next jobs of every resource succeed, one "recovered" notice. The decisions and
 * the notices are here; the store and the timing are in aggregate.ts.
 */

/** An alert that belongs to an incident: its group, what the incident is, and itself. */
export interface GroupedAlert {
  group: string;
  meta: IncidentMeta;
  member: IncidentMember;
  /** The resource whose next successful job counts toward recovery. */
  resource?: string;
}

/** How many folded alerts one window lists; beyond that they are counted (DynamoDB item size). */
export { MAX_LISTED } from '../shared/ports';
import { MAX_LISTED } from '../shared/ports';

const hash = (s: string, n = 24) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** Failure categories worth their own name; anything else is keyed by its normalised reason. */
const CATEGORIES: readonly [RegExp, string][] = [
  [
    /access ?denied|not authori[sz]ed|insufficient privileges|unauthori[sz]ed|permission/,
    'AccessDenied',
  ],
  [/\bkms\b|kms key|decrypt|encryption key|key .*(disabled|pending deletion)/, 'KMS'],
  [/vault .*(does not exist|not found)|backup vault arn.*does not exist/, 'VaultNotFound'],
  [/does not exist|not found|no such|cannot find|could not be found/, 'NotFound'],
  [/running job|already (running|in progress)|in progress for|conflict/, 'ResourceBusy'],
  [/throttl|rate exceeded|limit exceeded|too many requests/, 'Throttled'],
  [/start window|did not start|completion window|window expired/, 'Window'],
  [/stopped by user|cancel+ed by/, 'StoppedByUser'],
  [/vss|volume shadow/, 'VSS'],
  [/internal (error|failure)|service error|unavailable/, 'ServiceError'],
];

/** The reason without what differs between jobs: ARNs, ids, numbers, quoted names. */
export function normaliseReason(reason: string): string {
  return reason
    .toLowerCase()
    .replace(/arn:[^\s"',]+/g, '<arn>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<id>')
    .replace(/\b(?:i|vol|snap|ami|sg|subnet|vpc|eni|fs|db)-[0-9a-z]+\b/g, '<id>')
    .replace(/"[^"]*"|'[^']*'/g, '<name>')
    .replace(/\d+/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 120);
}

/** The failure category: AWS Backup's MessageCategory, a known cause, or the reason's gist. */
export function failureCategory(e: Pick<JobEvent, 'messageCategory' | 'statusMessage' | 'state'>): {
  key: string;
  label?: string;
} {
  if (e.messageCategory)
    return { key: `category:${e.messageCategory.toUpperCase()}`, label: e.messageCategory };
  const reason = (e.statusMessage ?? '').toLowerCase();
  for (const [pattern, label] of CATEGORIES) {
    if (pattern.test(reason)) return { key: `known:${label}`, label };
  }
  if (!reason) return { key: `state:${e.state}` };
  return { key: `reason:${normaliseReason(reason)}` };
}

/** Which incident a job alert belongs to, or undefined when it is not grouped. */
export function groupJobAlert(
  event: JobEvent,
  notice: Notice,
  settings: Aggregation,
  now: Date,
): GroupedAlert | undefined {
  if (!settings.enabled || notice.kind !== 'job') return undefined;
  if (!settings.severities.includes(notice.severity)) return undefined;
  const category = failureCategory(event);
  const vault =
    event.jobType === 'copy'
      ? resourceName(event.destinationBackupVaultArn)
      : (event.backupVaultName ?? resourceName(event.backupVaultArn));
  const by = new Set(settings.groupBy);
  const account = settings.scope === 'account' ? event.accountId : undefined;
  const parts = {
    scope: account ?? 'organization',
    what: notice.what,
    label: notice.label,
    category: category.key,
    ...(by.has('vault') ? { vault: vault ?? '-' } : {}),
    ...(by.has('plan') ? { plan: event.backupPlanId ?? '-' } : {}),
    ...(by.has('region') ? { region: event.region ?? '-' } : {}),
    ...(by.has('resourceType') ? { resourceType: event.resourceType ?? '-' } : {}),
  };
  const meta: IncidentMeta = {
    kind: 'incident',
    what: notice.what,
    label: notice.label,
    severity: notice.severity,
    jobType: event.jobType,
    state: notice.state,
    ...(category.label ? { category: category.label } : {}),
    ...(account ? { accountId: account } : {}),
    ...(by.has('region') && event.region ? { region: event.region } : {}),
    ...(by.has('resourceType') && event.resourceType ? { resourceType: event.resourceType } : {}),
    ...(by.has('vault') && vault ? { vault } : {}),
    ...(by.has('plan') && event.backupPlanId ? { plan: event.backupPlanId } : {}),
    ...(event.statusMessage ? { reason: event.statusMessage.slice(0, 500) } : {}),
    firstAt: now.toISOString(),
    windowMinutes: settings.windowMinutes,
  };
  return {
    group: `job#${hash(JSON.stringify(parts))}`,
    meta,
    member: memberOf(notice, event, now),
    ...(event.resourceArn
      ? { resource: resourceKey(event.accountId, event.jobType, event.resourceArn) }
      : {}),
  };
}

/** The key under which a resource's next successful job is looked for. */
export function resourceKey(accountId: string, jobType: JobType, resourceArn: string): string {
  return `${accountId}#${jobType}#${hash(resourceArn)}`;
}

/** An alert as one line of a summary. */
export function memberOf(notice: Notice, event: JobEvent | undefined, now: Date): IncidentMember {
  return {
    k: notice.dedupKey.slice(0, 300),
    ...(notice.account ? { a: notice.account.id } : {}),
    ...(notice.region ? { r: notice.region } : {}),
    w: notice.what.slice(0, 80),
    l: notice.label.slice(0, 40),
    i: (notice.item ?? '-').slice(0, 120),
    s: notice.severity,
    ...(event?.resourceArn ? { arn: event.resourceArn.slice(0, 300) } : {}),
    ...(notice.resourceType ? { y: notice.resourceType.slice(0, 60) } : {}),
    ...(event?.jobId ? { j: event.jobId } : {}),
    t: (event?.completionDate ?? event?.creationDate ?? now).toISOString(),
    ...(notice.reason ? { m: notice.reason.slice(0, 200) } : {}),
  };
}

/** Flood control: where alerts held back in a window are folded (one account's, or all). */
export function floodGroup(accountId: string | undefined): string {
  return accountId ? `flood#account#${accountId}` : 'flood#organization';
}

export function floodMeta(
  accountId: string | undefined,
  now: Date,
  windowMinutes: number,
): IncidentMeta {
  return {
    kind: 'flood',
    what: 'Alerts',
    label: 'HELD BACK',
    severity: 'warning',
    state: 'FLOOD',
    ...(accountId ? { accountId } : {}),
    firstAt: now.toISOString(),
    windowMinutes,
  };
}

export const incidentThread = (incidentId: string) => `incident-${incidentId}`;

/** The first alert(s) of an incident: the job notice itself, in the incident's chat thread. */
export function asFirstOfIncident(notice: Notice, incidentId: string, meta: IncidentMeta): Notice {
  return {
    ...notice,
    facts: [
      ...notice.facts,
      ...text(
        'Incident',
        `${incidentId}: more ${plural(meta.what)} that ${verb(meta.label)} for the same reason in the next ${meta.windowMinutes} minutes are summarised in one message, and one "recovered" notice follows when they succeed again`,
      ),
    ],
    chat: {
      ...notice.chat,
      threadId: incidentThread(incidentId),
      context: { ...notice.chat.context, incidentId },
    },
  };
}

function plural(what: string): string {
  const w = what.charAt(0).toLowerCase() + what.slice(1);
  return w.endsWith('s') ? w : `${w}s`;
}

/** "failed", "expired", "completed with issues": what the jobs did. */
function verb(label: string): string {
  switch (label) {
    case 'FAILED':
      return 'failed';
    case 'EXPIRED':
      return 'expired before they started';
    case 'ABORTED':
      return 'were aborted';
    case 'PARTIAL':
      return 'completed partially';
    case 'COMPLETED WITH ISSUES':
      return 'completed with issues';
    default:
      return `ended ${label.toLowerCase()}`;
  }
}

const count = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Where an incident is: "in account 111122223333", "in 4 accounts". */
function where(meta: IncidentMeta, accounts: readonly string[]): string {
  if (meta.accountId) return `in account ${meta.accountId}`;
  if (accounts.length === 1) return `in account ${accounts[0]}`;
  return `in ${count(accounts.length, 'account')}`;
}

/** One window's followers as one notice; undefined when nothing is left after duplicates. */
export function summaryNotice(w: SummaryWindow): Notice | undefined {
  const members = [...new Map(w.members.map((m) => [m.k, m])).values()];
  const total = members.length + w.overflow;
  if (!total) return undefined;
  const accounts = [
    ...new Set(members.map((m) => m.a).filter((a): a is string => Boolean(a))),
  ].sort();
  const regions = [...new Set(members.map((m) => m.r).filter((r): r is string => Boolean(r)))];
  const meta = w.meta;
  const single = meta.accountId ?? (accounts.length === 1 ? accounts[0] : undefined);
  const flood = meta.kind === 'flood';
  const headline = flood
    ? `${count(total, 'more alert')} ${where(meta, accounts)} held back by flood control`
    : `${total.toLocaleString('en-US')} more ${total === 1 ? meta.what.toLowerCase() : plural(meta.what)} ${verb(meta.label)}${meta.category ? ` with ${meta.category}` : ''} ${where(meta, accounts)}`;
  const rows: Cell[][] = members
    .slice()
    .sort((x, y) => x.t.localeCompare(y.t))
    .map((m) =>
      flood
        ? [
            { value: `${m.w} ${m.l}` },
            { value: m.a ?? '-', kind: 'id' },
            { value: m.r ?? '-', kind: 'id' },
            { value: m.i },
            { value: m.m ?? '' },
          ]
        : [
            { value: m.a ?? '-', kind: 'id' },
            { value: m.r ?? '-', kind: 'id' },
            { value: m.i },
            { value: m.j ?? '-', kind: 'id' },
            { value: m.t },
          ],
    );
  const region = regions.length === 1 ? regions[0] : undefined;
  // A rule for one resource type (databases to the DBAs) hears of a summary all of that type.
  const types = new Set(members.map((m) => m.y));
  const resourceType =
    meta.resourceType ?? (types.size === 1 && !w.overflow ? [...types][0] : undefined);
  return {
    kind: 'job',
    dedupKey: `incident#${w.incidentId}#${w.seq}`,
    severity: flood ? worst(members.map((m) => m.s)) : meta.severity,
    label: flood ? 'HELD BACK' : meta.label,
    what: flood ? 'Flood control' : `${meta.what} incident`,
    item: `${total} more`,
    headline,
    summary: headline,
    ...(single ? { account: { id: single } } : {}),
    ...(region ? { region } : {}),
    ...(!flood && meta.reason ? { reason: meta.reason } : {}),
    facts: [
      ...id('Incident', w.incidentId),
      ...text('Failure category', meta.category),
      ...id('Vault', meta.vault),
      ...id('Backup plan', meta.plan),
      ...text('Accounts', accounts.length > 1 ? accounts.join(', ') : undefined),
      ...text('Regions', regions.length > 1 ? regions.join(', ') : undefined),
      ...text('Incident opened', meta.firstAt),
      ...text(
        'Not listed',
        w.overflow ? `${w.overflow} more beyond the ${MAX_LISTED} listed` : undefined,
      ),
    ],
    sections: [
      {
        title: flood ? 'Alerts held back' : plural(meta.what).replace(/^./, (c) => c.toUpperCase()),
        columns: flood
          ? ['Alert', 'Account', 'Region', 'Item', 'Reason']
          : ['Account', 'Region', 'Resource', 'Job id', 'When'],
        rows,
        chatRows: 10,
      },
    ],
    nextSteps: flood
      ? [
          `More alerts than flood control lets through (notifications.aggregation.floodControl) came ${where(meta, accounts)} in ${meta.windowMinutes} minutes: each is listed here instead of sent on its own.`,
          'Look for one cause behind them (a role, a key, a Region outage) before working through them one by one.',
        ]
      : [
          `These ${plural(meta.what)} ${verb(meta.label)} for the same reason as the first alert of this incident, which has the details and what to do.`,
          'Fix the cause once: the same role, key or vault is usually behind all of them.',
          'A "recovered" notice follows when the next jobs of these resources succeed.',
        ],
    ...(meta.jobType
      ? { link: { url: consoleJobUrl(meta.jobType, region), label: 'View jobs in AWS Backup' } }
      : {}),
    ...(meta.jobType ? { jobType: meta.jobType } : {}),
    state: meta.state,
    ...(resourceType ? { resourceType } : {}),
    chat: {
      threadId: incidentThread(w.incidentId),
      eventType: flood ? 'AlertsHeldBack' : 'IncidentSummary',
      keywords: [meta.label, meta.what, meta.category ?? '', `${total} more`],
      relatedResources: [],
      context: { incidentId: w.incidentId, window: String(w.seq), count: String(total) },
    },
    reference: `incident ${w.incidentId}, summary ${w.seq}`,
  };
}

function worst(severities: readonly Severity[]): Severity {
  return severities.includes('error')
    ? 'error'
    : severities.includes('warning')
      ? 'warning'
      : 'info';
}

/** The incident is over: the next jobs of every resource in it succeeded. */
export function recoveredNotice(r: RecoveredIncident): Notice {
  const meta = r.meta;
  const headline = `Recovered: ${r.total.toLocaleString('en-US')} ${r.total === 1 ? meta.what.toLowerCase() : plural(meta.what)} that ${verb(meta.label)}${meta.category ? ` with ${meta.category}` : ''} ${where(meta, r.accounts)} have succeeded since`;
  const single = meta.accountId ?? (r.accounts.length === 1 ? r.accounts[0] : undefined);
  return {
    kind: 'job',
    dedupKey: `incident#${r.incidentId}#recovered`,
    severity: 'info',
    // The audience that heard the incident hears it is over.
    routeSeverity: meta.severity,
    label: 'RECOVERED',
    what: `${meta.what} incident`,
    item: meta.category ?? meta.label,
    headline,
    summary: headline,
    ...(single ? { account: { id: single } } : {}),
    ...(meta.region ? { region: meta.region } : {}),
    facts: [
      ...id('Incident', r.incidentId),
      ...text('Failure category', meta.category),
      ...id('Vault', meta.vault),
      ...text('Jobs in the incident', String(r.total)),
      ...text('Accounts', r.accounts.length > 1 ? r.accounts.join(', ') : undefined),
      ...text('Opened', meta.firstAt),
      ...text('Last failure', r.lastAt),
      ...text('Recovered', r.recoveredAt),
    ],
    sections: [],
    nextSteps: ['No action needed: the next job of every resource in this incident succeeded.'],
    ...(meta.jobType
      ? {
          link: { url: consoleJobUrl(meta.jobType, meta.region), label: 'View jobs in AWS Backup' },
        }
      : {}),
    ...(meta.jobType ? { jobType: meta.jobType } : {}),
    state: 'RECOVERED',
    ...(meta.resourceType ? { resourceType: meta.resourceType } : {}),
    chat: {
      threadId: incidentThread(r.incidentId),
      eventType: 'IncidentRecovered',
      keywords: ['RECOVERED', meta.what, meta.category ?? ''],
      relatedResources: [],
      context: { incidentId: r.incidentId },
    },
    reference: `incident ${r.incidentId}`,
  };
}
