import type { ScanOutcome, Severity } from '../shared/config/vocabulary';
import type { Classification } from '../shared/config/schema';
import { consoleBackupUrl, resourceName } from '../shared/format';
import { camelEventType, id, text as fact, type Fact, type Notice } from '../shared/notices/notice';
import {
  arn,
  awsDate,
  flag,
  record,
  requireAccount,
  requireDetail,
  statusMessage,
  text,
  type Envelope,
} from './envelope';
import type { ControlPlaneVaults } from '../shared/central-backup';

/**
 * The AWS Backup events beyond job state changes that someone must hear about: malware scan
 * results, failed recovery point indexes, resource types opted out in a region, and baseline
 * vaults deleted. Each becomes a notice, or is ignored with the reason. Field shapes follow the
 * AWS Backup developer guide's samples (see events/backup/ and aws-facts.md).
 */

export const SERVICE_DETAIL_TYPES = [
  'Scan Job State Change',
  'Recovery Point Index State Change',
  'Region Setting State Change',
  'Backup Vault State Change',
] as const;

export function isServiceEvent(envelope: Pick<Envelope, 'source' | 'detailType'>): boolean {
  return (
    envelope.source === 'aws.backup' &&
    (SERVICE_DETAIL_TYPES as readonly string[]).includes(envelope.detailType ?? '')
  );
}

export type ServiceDecision =
  | { flow: 'notify'; notice: Notice; facts: Record<string, string> }
  | { flow: 'ignore'; reason: string; facts: Record<string, string> };

export interface ServiceEventContext {
  classification: Classification;
  /** Vaults onboarding creates: the baseline's and the profiles' names, the central vaults. */
  baselineVaultNames: ControlPlaneVaults;
}

/** What each scan outcome means when the configuration does not say otherwise. */
export const DEFAULT_SCAN_SEVERITY: Readonly<Record<ScanOutcome, Severity | 'ignore'>> = {
  THREATS_FOUND: 'error',
  FAILED: 'warning',
  COMPLETED_WITH_ISSUES: 'warning',
  CANCELED: 'info',
  NO_THREATS_FOUND: 'info',
};

/** Decides one of SERVICE_DETAIL_TYPES; throws MalformedEventError without account or detail. */
export function decideServiceEvent(
  input: unknown,
  envelope: Envelope,
  ctx: ServiceEventContext,
): ServiceDecision {
  const accountId = requireAccount(envelope, input);
  const detail = requireDetail(envelope);
  const base = { envelope, accountId, detail };
  switch (envelope.detailType) {
    case 'Scan Job State Change':
      return scanDecision(base, ctx);
    case 'Recovery Point Index State Change':
      return indexDecision(base, ctx);
    case 'Region Setting State Change':
      return regionSettingDecision(base, ctx);
    default:
      return vaultDecision(base, ctx);
  }
}

interface Parsed {
  envelope: Envelope;
  accountId: string;
  detail: Record<string, unknown>;
}

function summaryFacts(p: Parsed, more: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = { accountId: p.accountId };
  if (p.envelope.region) out.region = p.envelope.region;
  for (const [k, v] of Object.entries(more)) if (v !== undefined) out[k] = v;
  return out;
}

function where(p: Parsed): string {
  return `account ${p.accountId}${p.envelope.region ? ` (${p.envelope.region})` : ''}`;
}

/** The parts of every notice these events share. */
function noticeBase(p: Parsed) {
  return {
    account: { id: p.accountId },
    ...(p.envelope.region ? { region: p.envelope.region } : {}),
    sections: [],
    reference: `event ${p.envelope.eventId}`,
  };
}

// --- malware scans ---------------------------------------------------------------------------

/** The outcome of a scan event, or undefined while it is still running (CREATED, RUNNING). */
export function scanOutcome(state: string | undefined, result: string | undefined) {
  if (result === 'THREATS_FOUND') return 'THREATS_FOUND' as const;
  switch (state) {
    case 'FAILED':
    case 'COMPLETED_WITH_ISSUES':
    case 'CANCELED':
      return state;
    case 'COMPLETED':
      // A COMPLETED scan without a readable result has not shown the point is clean.
      return result === 'NO_THREATS_FOUND' ? 'NO_THREATS_FOUND' : 'COMPLETED_WITH_ISSUES';
    default:
      return undefined;
  }
}

const SCAN_LABEL: Readonly<Record<ScanOutcome, string>> = {
  THREATS_FOUND: 'THREATS FOUND',
  FAILED: 'FAILED',
  COMPLETED_WITH_ISSUES: 'COMPLETED WITH ISSUES',
  CANCELED: 'CANCELED',
  NO_THREATS_FOUND: 'NO THREATS FOUND',
};

function scanDecision(p: Parsed, ctx: ServiceEventContext): ServiceDecision {
  const d = p.detail;
  const state = text(d.state)?.toUpperCase().replace(/ /g, '_');
  const result = text(record(d.scanResult)?.scanResultStatus)?.toUpperCase();
  const outcome = scanOutcome(state, result);
  const facts = summaryFacts(p, { state, scanResult: result });
  if (!outcome) {
    return { flow: 'ignore', reason: `scan state ${state ?? '(none)'} is not notified`, facts };
  }
  const severity = ctx.classification.scans[outcome] ?? DEFAULT_SCAN_SEVERITY[outcome];
  if (severity === 'ignore') {
    return {
      flow: 'ignore',
      reason: `scan outcome ${outcome} is not notified (classification)`,
      facts,
    };
  }
  const scanJobId = text(d.scanJobId);
  const recoveryPointArn = arn(d.recoveryPointArn) ?? p.envelope.resources.map(arn).find(Boolean);
  const resourceArn = arn(d.resourceArn);
  const vaultName = text(d.backupVaultName) ?? resourceName(arn(d.backupVaultArn));
  const createdBy = record(d.createdBy);
  const region = p.envelope.region;
  const scanner = text(d.malwareScanner);
  const message = statusMessage(d.statusMessage);
  const reason =
    outcome === 'THREATS_FOUND'
      ? `The malware scan${scanner ? ` (${scanner})` : ''} found threats in this recovery point: restoring it would bring the malware back.`
      : outcome === 'COMPLETED_WITH_ISSUES' && state === 'COMPLETED'
        ? 'The scan completed without a readable result (scanResult.scanResultStatus): this recovery point is not known to be clean.'
        : message;
  const factList: Fact[] = [
    ...id('Recovery point', recoveryPointArn),
    ...id('Resource', resourceArn),
    ...fact('Resource type', text(d.resourceType)),
    ...id('Vault', vaultName),
    ...fact('Scan result', result),
    ...fact('Scan state', state),
    ...fact('Scanner', scanner),
    ...(message && message !== reason ? fact('Status message', message) : []),
    ...id('Compared with (incremental scan base)', arn(d.scanBaseRecoveryPointArn)),
    ...id('Backup plan', text(createdBy?.backupPlanId)),
    ...id('Scan job id', scanJobId),
    ...id('Scan id', text(d.scanId)),
    ...fact('Started', awsDate(d.creationDate)?.toISOString()),
    ...fact('Finished', awsDate(d.completionDate)?.toISOString()),
    ...fact('Event time', p.envelope.time),
    ...id('Scanner role', arn(d.scannerRoleArn)),
  ];
  const item =
    text(d.resourceName) ??
    resourceName(resourceArn) ??
    resourceName(recoveryPointArn) ??
    'unknown recovery point';
  const label = SCAN_LABEL[outcome];
  const notice: Notice = {
    ...noticeBase(p),
    kind: 'scan',
    dedupKey: [
      'scan',
      p.accountId,
      region ?? '-',
      scanJobId ?? `event-${p.envelope.eventId}`,
      outcome,
    ].join('#'),
    severity,
    label,
    what: 'Malware scan',
    item,
    ...(outcome === 'THREATS_FOUND'
      ? {
          headline: `Malware found in a recovery point of ${item} in ${where(p)}`,
          summary: `Malware found in a recovery point of ${item} in ${where(p)}: do not restore it`,
        }
      : {}),
    ...(reason ? { reason } : {}),
    facts: factList,
    nextSteps: scanNextSteps(outcome, p, vaultName),
    link: vaultName
      ? {
          url: consoleBackupUrl(region, `/backupvaults/details/${encodeURIComponent(vaultName)}`),
          label: 'Open the vault in AWS Backup',
        }
      : { url: consoleBackupUrl(region, '/backupvaults'), label: 'Open vaults in AWS Backup' },
    state: outcome,
    ...(text(d.resourceType) ? { resourceType: text(d.resourceType)! } : {}),
    chat: {
      threadId: `scan-${recoveryPointArn ?? scanJobId ?? p.envelope.eventId}`,
      eventType: camelEventType('Malware scan', label),
      keywords: [label, 'Malware scan', text(d.resourceType) ?? '', p.accountId, region ?? ''],
      relatedResources: [recoveryPointArn, resourceArn].filter((r): r is string => Boolean(r)),
      context: {
        outcome,
        ...(scanJobId ? { scanJobId } : {}),
        eventId: p.envelope.eventId,
      },
    },
  };
  return { flow: 'notify', notice, facts };
}

function scanNextSteps(outcome: ScanOutcome, p: Parsed, vaultName: string | undefined): string[] {
  switch (outcome) {
    case 'THREATS_FOUND':
      return [
        'Do not restore this recovery point: the scanner found malware in it.',
        `Find the last clean recovery point: in the AWS Backup console of ${where(p)}, open the resource's recovery points${vaultName ? ` in vault ${vaultName}` : ''} and take the newest one whose scan found no threats (scan older ones on demand if none was scanned).`,
        `Read the GuardDuty malware protection findings in ${where(p)} (GuardDuty console, Findings) for what was found and where.`,
        'Treat the resource itself as possibly compromised: the malware was in it when it was backed up. Follow your incident process before you restore anything.',
        'Keep this recovery point for the investigation (do not delete it) unless your incident process says otherwise.',
      ];
    case 'FAILED':
    case 'COMPLETED_WITH_ISSUES':
      return [
        `Open the scan in the AWS Backup console of ${where(p)} and read its status message; GuardDuty has the details of the scan.`,
        "Check the scanner role: it must trust AWS Backup and have the service's malware protection policy; the vault's key must allow it to read the recovery point.",
        'Until a scan succeeds, this recovery point is not known to be clean: start an on-demand scan once the cause is fixed.',
      ];
    case 'CANCELED':
      return [
        'The scan was stopped before it finished: this recovery point is not known to be clean. Start an on-demand scan if it was not meant to be stopped.',
      ];
    default:
      return ['No action needed.'];
  }
}

// --- recovery point indexes ------------------------------------------------------------------

function indexDecision(p: Parsed, ctx: ServiceEventContext): ServiceDecision {
  const d = p.detail;
  const status = text(d.indexStatus)?.toUpperCase();
  const facts = summaryFacts(p, { indexStatus: status });
  if (status !== 'FAILED') {
    return { flow: 'ignore', reason: `index status ${status ?? '(none)'} is not notified`, facts };
  }
  const severity = ctx.classification.indexFailed;
  if (severity === 'ignore') {
    return { flow: 'ignore', reason: 'index failures are not notified (classification)', facts };
  }
  const recoveryPointArn = arn(d.recoveryPointArn);
  const sourceArn = arn(d.sourceResourceArn);
  const region = p.envelope.region;
  const item =
    resourceName(sourceArn) ?? resourceName(recoveryPointArn) ?? 'unknown recovery point';
  const reason = statusMessage(d.indexStatusMessage);
  const notice: Notice = {
    ...noticeBase(p),
    kind: 'index',
    dedupKey: [
      'index',
      p.accountId,
      region ?? '-',
      recoveryPointArn ?? `event-${p.envelope.eventId}`,
      'FAILED',
    ].join('#'),
    severity,
    label: 'FAILED',
    what: 'Recovery point index',
    item,
    ...(reason ? { reason } : {}),
    facts: [
      ...id('Recovery point', recoveryPointArn),
      ...id('Backed-up resource', sourceArn),
      ...fact('Resource type', text(d.resourceType)),
      ...id('Vault', arn(d.backupVaultArn)),
      ...fact('Backup taken', awsDate(d.backupCreationTime)?.toISOString()),
      ...fact('Index started', awsDate(d.indexCreationTime)?.toISOString()),
      ...fact('Event time', p.envelope.time),
      ...id('IAM role', arn(d.iamRoleArn)),
    ],
    nextSteps: [
      'The backup itself is not affected, but search and item-level restore over this recovery point will not find anything until it is indexed.',
      "Check the index role: it must trust AWS Backup and be allowed to read the recovery point (and the vault's key).",
      'Once fixed, turn indexing on again for this recovery point (AWS Backup console, recovery point, "Index"), or wait for the next backup if the plan indexes every one.',
    ],
    link: {
      url: consoleBackupUrl(region, '/backupsearch'),
      label: 'Open search and indexes in AWS Backup',
    },
    state: 'FAILED',
    ...(text(d.resourceType) ? { resourceType: text(d.resourceType)! } : {}),
    chat: {
      threadId: `index-${recoveryPointArn ?? p.envelope.eventId}`,
      eventType: 'RecoveryPointIndexFailed',
      keywords: [
        'FAILED',
        'Recovery point index',
        text(d.resourceType) ?? '',
        p.accountId,
        region ?? '',
      ],
      relatedResources: [recoveryPointArn, sourceArn].filter((r): r is string => Boolean(r)),
      context: { indexStatus: 'FAILED', eventId: p.envelope.eventId },
    },
  };
  return { flow: 'notify', notice, facts };
}

// --- region settings (service opt-in) --------------------------------------------------------

/** Resource types whose opt-in the event shows as off (true/false, or "true"/"false"). */
export function optedOut(preferences: unknown): string[] {
  const prefs = record(preferences);
  if (!prefs) return [];
  return Object.entries(prefs)
    .filter(([, v]) => flag(v) === false)
    .map(([k]) => text(k))
    .filter((k): k is string => Boolean(k))
    .slice(0, 50);
}

function regionSettingDecision(p: Parsed, ctx: ServiceEventContext): ServiceDecision {
  const d = p.detail;
  const off = optedOut(d.ResourceTypeOptInPreference ?? d.resourceTypeOptInPreference);
  const facts = summaryFacts(p, { optedOut: off.join(',') || undefined });
  if (!off.length) {
    return { flow: 'ignore', reason: 'no resource type is opted out in this change', facts };
  }
  const severity = ctx.classification.regionOptOut;
  if (severity === 'ignore') {
    return { flow: 'ignore', reason: 'opt-outs are not notified (classification)', facts };
  }
  const region = p.envelope.region;
  const modifiedAt = awsDate(d.modifiedAt);
  const when = modifiedAt?.toISOString() ?? p.envelope.time ?? p.envelope.eventId;
  const notice: Notice = {
    ...noticeBase(p),
    kind: 'region-setting',
    ...windowKeys(['region-setting', p.accountId, region ?? '-', off.join(',')], when),
    severity,
    label: 'OPTED OUT',
    what: 'AWS Backup service opt-in',
    item: off.join(', '),
    headline: `AWS Backup is turned off for ${off.join(', ')} in ${where(p)}`,
    reason: `The Region's service opt-in now excludes ${off.join(', ')}: AWS Backup skips these resource types there, and backup plans that select them back up nothing of them, without failing.`,
    facts: [
      ...fact('Resource types turned off', off.join(', ')),
      ...fact('Changed', modifiedAt?.toISOString()),
      ...fact('Event time', p.envelope.time),
    ],
    nextSteps: [
      `If this was not intended, turn the resource types back on: AWS Backup console of ${where(p)}, Settings, Service opt-in.`,
      `Find who changed it: CloudTrail event history of ${where(p)}, event name UpdateRegionSettings.`,
      'If it was intended, make sure no backup policy still expects these resource types to be protected there.',
    ],
    link: { url: consoleBackupUrl(region, '/settings'), label: 'Open AWS Backup settings' },
    state: 'OPTED_OUT',
    chat: {
      threadId: `region-setting-${p.accountId}-${region ?? '-'}`,
      eventType: 'BackupServiceOptOut',
      keywords: ['OPTED OUT', ...off, p.accountId, region ?? ''],
      relatedResources: [],
      context: { optedOut: off.join(','), eventId: p.envelope.eventId },
    },
  };
  return { flow: 'notify', notice, facts };
}

// --- vaults ----------------------------------------------------------------------------------

/** The window of one fact: AWS Backup emits its events within about 5 minutes of the call. */
const FACT_WINDOW_MS = 15 * 60_000;

/**
 * One fact (a deletion, an opt-out), whichever event says so: the key of its 15-minute window, and
 * the keys of the windows before and after as the same fact (the CloudTrail call and the service
 * event come minutes apart, maybe across a window's edge). The same thing done again half an hour
 * or more later is told again; within that, it reads as the same fact.
 */
export function windowKeys(
  parts: readonly string[],
  when: string,
): { dedupKey: string; sameAs: string[] } {
  // ISO times only (V8 reads "e-1" as a date): an event without one is keyed by what it has.
  const t = /^\d{4}-\d{2}-\d{2}T/.test(when) ? Date.parse(when) : Number.NaN;
  if (Number.isNaN(t)) return { dedupKey: [...parts, when.slice(0, 64)].join('#'), sameAs: [] };
  const window = (ms: number) =>
    new Date(Math.floor(ms / FACT_WINDOW_MS) * FACT_WINDOW_MS).toISOString().slice(0, 16);
  return {
    dedupKey: [...parts, window(t)].join('#'),
    sameAs: [window(t - FACT_WINDOW_MS), window(t + FACT_WINDOW_MS)].map((w) =>
      [...parts, w].join('#'),
    ),
  };
}

/** One deletion of a baseline vault, whichever event says so (this one or the CloudTrail call). */
export function vaultDeletedKeys(
  accountId: string,
  region: string | undefined,
  vault: string,
  when: string,
): { dedupKey: string; sameAs: string[] } {
  return windowKeys(['vault-deleted', accountId, region ?? '-', vault], when);
}

function vaultDecision(p: Parsed, ctx: ServiceEventContext): ServiceDecision {
  const d = p.detail;
  const state = text(d.state)?.toUpperCase();
  const vault =
    text(d.backupVaultName) ?? resourceName(p.envelope.resources.map(arn).find(Boolean));
  const facts = summaryFacts(p, { state, vault });
  if (state !== 'DELETED') {
    return { flow: 'ignore', reason: `vault state ${state ?? '(none)'} is not notified`, facts };
  }
  if (!vault || !ctx.baselineVaultNames.has(vault, p.accountId)) {
    return {
      flow: 'ignore',
      reason: `vault ${vault ?? '(unnamed)'} is not a baseline vault`,
      facts,
    };
  }
  const severity = ctx.classification.baselineVaultDeleted;
  if (severity === 'ignore') {
    return {
      flow: 'ignore',
      reason: 'baseline vault deletions are not notified (classification)',
      facts,
    };
  }
  const notice = vaultDeletedNotice({
    accountId: p.accountId,
    region: p.envelope.region,
    vault,
    severity,
    when: p.envelope.time ?? p.envelope.eventId,
    eventId: p.envelope.eventId,
  });
  return { flow: 'notify', notice, facts };
}

export interface VaultDeleted {
  accountId: string;
  region?: string;
  vault: string;
  severity: Severity;
  /** ISO time of the deletion (the keys use its 15-minute window and the windows around it). */
  when: string;
  eventId: string;
  /** Who deleted it, when a CloudTrail call says so. */
  who?: string;
  /** Set when onboarding was asked to create it again. */
  repairRequested?: boolean;
}

/** A baseline vault is gone: new backups in that Region fail until it exists again. */
export function vaultDeletedNotice(v: VaultDeleted): Notice {
  const place = `account ${v.accountId}${v.region ? ` (${v.region})` : ''}`;
  return {
    kind: 'vault',
    ...vaultDeletedKeys(v.accountId, v.region, v.vault, v.when),
    severity: v.severity,
    label: 'DELETED',
    what: 'Backup vault',
    item: v.vault,
    headline: `Baseline backup vault ${v.vault} was deleted in ${place}`,
    account: { id: v.accountId },
    ...(v.region ? { region: v.region } : {}),
    reason:
      'The vault the backup policies copy into and back up to no longer exists: every backup there fails until it is created again.',
    facts: [
      ...id('Vault', v.vault),
      ...fact('Deleted by', v.who),
      ...fact('When', v.when.includes('T') ? v.when : undefined),
    ],
    sections: [],
    nextSteps: [
      v.repairRequested
        ? 'The control plane asked onboarding to create the vault again; a "drift repaired" notice follows when it is back.'
        : `Run \`backupctl reconcile --account ${v.accountId}\` (or wait for the daily sweep) to create the vault again.`,
      `Find who deleted it and why: CloudTrail event history of ${place}, event name DeleteBackupVault.`,
      'Backups that failed meanwhile are reported separately; start on-demand backups of critical resources once the vault is back.',
    ],
    link: { url: consoleBackupUrl(v.region, '/backupvaults'), label: 'Open vaults in AWS Backup' },
    state: 'DELETED',
    chat: {
      threadId: `vault-${v.accountId}-${v.region ?? '-'}-${v.vault}`,
      eventType: 'BaselineVaultDeleted',
      keywords: ['DELETED', 'Backup vault', v.vault, v.accountId, v.region ?? ''],
      relatedResources: [],
      context: { vault: v.vault, eventId: v.eventId },
    },
    reference: `event ${v.eventId}`,
  };
}
