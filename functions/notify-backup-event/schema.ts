import { createHash } from 'node:crypto';
import { JOB_STATES, type JobState, type JobType } from '../shared/config';
import { MalformedEventError } from '../shared/errors';
import { wellFormed } from '../shared/format';
import { dropUndefined } from '../shared/objects';
import { isRegion } from '../shared/patterns';

/**
 * Parsing of AWS Backup job-state events. Only the fields the flow uses are validated, and the
 * variants real events carry are accepted (see ../shared/design/aws-facts.md): `state` or
 * `status`, sizes as strings or numbers, `{}` where an ARN should be, status messages wrapped in
 * quotes, `backupPlanRuleId` or `backupRuleId`, "Jul 15, 2020 9:39:07 PM" dates. Every string is
 * made well-formed here, before it can reach an SDK call.
 */

export const JOB_DETAIL_TYPES: Readonly<Record<string, JobType>> = {
  'Backup Job State Change': 'backup',
  'Copy Job State Change': 'copy',
  'Restore Job State Change': 'restore',
};

const JOB_ID_FIELD: Readonly<Record<JobType, string>> = {
  backup: 'backupJobId',
  copy: 'copyJobId',
  restore: 'restoreJobId',
};

/** A job event reduced to what classification, routing and rendering use. */
export interface JobEvent {
  eventId: string;
  detailType: string;
  jobType: JobType;
  /** Absent on CREATED events (AWS's CREATED copy-job sample has none) and broken ones. */
  jobId?: string;
  state: JobState;
  accountId: string;
  /** Absent when the event's region is unreadable: the alert still goes out. */
  region?: string;
  time?: string;
  statusMessage?: string;
  resourceArn?: string;
  /** Newer events and the API carry a display name for the resource. */
  resourceName?: string;
  resourceType?: string;
  backupVaultName?: string;
  backupVaultArn?: string;
  sourceBackupVaultArn?: string;
  destinationBackupVaultArn?: string;
  recoveryPointArn?: string;
  destinationRecoveryPointArn?: string;
  createdResourceArn?: string;
  backupPlanId?: string;
  backupPlanArn?: string;
  backupRuleId?: string;
  /** Set on restore jobs started by a restore testing plan. */
  restoreTestingPlanArn?: string;
  iamRoleArn?: string;
  sizeBytes?: number;
  bytesTransferred?: number;
  percentDone?: number;
  /** AWS Backup's failure category (AccessDenied, ...), from events or the job history. */
  messageCategory?: string;
  creationDate?: Date;
  completionDate?: Date;
}

export type ParsedEvent =
  | {
      kind: 'job';
      event: JobEvent;
      /** Display-only fields that were unreadable and left out (logged, never fatal). */
      warnings: string[];
    }
  | { kind: 'ignored'; eventId?: string; reason: string; detailType?: string; source?: string };

const ACCOUNT = /^\d{12,13}$/;
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,255}$/;

/** A stable id for an event that has none, so its redeliveries still deduplicate. */
function syntheticId(raw: Record<string, unknown>): string {
  let json: string;
  try {
    json = JSON.stringify(raw) ?? '';
  } catch {
    json = '';
  }
  return `no-id-${createHash('sha256').update(wellFormed(json)).digest('hex').slice(0, 32)}`;
}

/**
 * Parses one EventBridge event. Rejects (MalformedEventError, naming the field) only what leaves
 * nothing useful to say: no source, detail-type, detail, state or account. Display-only fields
 * (id, region, time, resources, job id, sizes, dates) that are unreadable are left out and listed
 * in `warnings`; the alert still goes out.
 */
export function parseBackupEvent(input: unknown): ParsedEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new MalformedEventError('event must be a JSON object', '(event)');
  }
  const raw = input as Record<string, unknown>;
  const rawId = typeof raw.id === 'string' ? text(raw.id)?.slice(0, 256) : undefined;
  const source = text(raw.source);
  if (!source) throw new MalformedEventError('field "source" is missing or not a string', 'source');
  if (source !== 'aws.backup') {
    const shown = source.slice(0, 64);
    return {
      kind: 'ignored',
      eventId: rawId,
      source: shown,
      reason: `source ${shown} is not aws.backup`,
    };
  }
  const detailType = text(raw['detail-type']);
  if (!detailType) {
    throw new MalformedEventError('field "detail-type" is missing or not a string', 'detail-type');
  }
  const jobType = Object.hasOwn(JOB_DETAIL_TYPES, detailType)
    ? JOB_DETAIL_TYPES[detailType]
    : undefined;
  if (!jobType) {
    const shown = detailType.slice(0, 64);
    return {
      kind: 'ignored',
      eventId: rawId,
      detailType: shown,
      reason: `detail-type "${shown}" is not a job state change`,
    };
  }
  const accountId = text(raw.account);
  if (!accountId || !ACCOUNT.test(accountId)) {
    throw new MalformedEventError(
      `field "account" ${accountId === undefined ? 'is missing' : 'must be an AWS account id (12 digits)'}`,
      'account',
    );
  }
  const d = record(raw.detail);
  if (!d) throw new MalformedEventError('field "detail" is missing or not a JSON object', 'detail');
  const base = { eventId: rawId, detailType, source };
  // Restore events say `status`, backup and copy events `state`; some samples mix them.
  const rawState = text(d.state) ?? text(d.status);
  if (!rawState) {
    throw new MalformedEventError(
      'field "detail.state" (or "detail.status") is missing or not a string',
      'detail.state',
    );
  }
  const state = rawState.toUpperCase();
  if (!isJobState(state)) {
    return { kind: 'ignored', ...base, reason: `unknown job state "${rawState.slice(0, 64)}"` };
  }

  const warnings: string[] = [];
  const unreadable = (field: string) => warnings.push(`field "${field}" is unreadable; left out`);
  const eventId = rawId ?? syntheticId(raw);
  if (!rawId) unreadable('id');
  const region = text(raw.region);
  if (region !== undefined && !isRegion(region)) unreadable('region');
  const time = typeof raw.time === 'string' && raw.time.length <= 64 ? text(raw.time) : undefined;
  if (raw.time !== undefined && time === undefined) unreadable('time');
  const resources = Array.isArray(raw.resources) ? raw.resources : [];
  if (raw.resources !== undefined && !Array.isArray(raw.resources)) unreadable('resources');
  const jobIdField = JOB_ID_FIELD[jobType];
  const rawJobId = text(d[jobIdField]);
  // Job ids are UUIDs or hex: anything else is unreadable, not put in keys, links or messages.
  const jobId = rawJobId && JOB_ID.test(rawJobId) ? rawJobId : undefined;
  // AWS's own CREATED copy-job sample has no copyJobId yet; later states should have one.
  if (!jobId && (state !== 'CREATED' || rawJobId)) unreadable(`detail.${jobIdField}`);

  const createdBy = record(d.createdBy);
  const event: JobEvent = {
    eventId,
    detailType,
    jobType,
    jobId,
    state,
    accountId,
    region: region && isRegion(region) ? region : undefined,
    time,
    statusMessage: statusMessage(d.statusMessage),
    resourceArn: arn(d.resourceArn),
    resourceName: text(d.resourceName),
    resourceType: text(d.resourceType),
    backupVaultName: text(d.backupVaultName),
    backupVaultArn: arn(d.backupVaultArn),
    sourceBackupVaultArn: arn(d.sourceBackupVaultArn),
    destinationBackupVaultArn: arn(d.destinationBackupVaultArn),
    recoveryPointArn:
      arn(d.recoveryPointArn) ??
      arn(d.sourceRecoveryPointArn) ??
      // AWS's copy-job samples name the source recovery point only in `resources`.
      (jobType === 'copy' ? resources.map(arn).find(Boolean) : undefined),
    destinationRecoveryPointArn: arn(d.destinationRecoveryPointArn),
    createdResourceArn: arn(d.createdResourceArn),
    backupPlanId: text(createdBy?.backupPlanId),
    backupPlanArn: arn(createdBy?.backupPlanArn),
    backupRuleId: text(createdBy?.backupPlanRuleId) ?? text(createdBy?.backupRuleId),
    restoreTestingPlanArn: arn(createdBy?.restoreTestingPlanArn),
    iamRoleArn: arn(d.iamRoleArn),
    sizeBytes: count(d.backupSizeInBytes),
    bytesTransferred: count(d.bytesTransferred),
    percentDone: percent(d.percentDone),
    messageCategory: text(d.messageCategory),
    creationDate: awsDate(d.creationDate),
    completionDate: awsDate(d.completionDate),
  };
  return { kind: 'job', event: dropUndefined(event), warnings };
}

function isJobState(s: string): s is JobState {
  return (JOB_STATES as readonly string[]).includes(s);
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** A non-empty trimmed, well-formed string, or undefined for anything else. */
function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = wellFormed(v).trim();
  return t ? t : undefined;
}

/** ARNs arrive as `{}` or "" when absent (copy jobs, for one). */
function arn(v: unknown): string | undefined {
  const t = text(v);
  return t?.startsWith('arn:') ? t : undefined;
}

/** Strips the literal quotes some events wrap around the message: "\"Access denied\"". */
export function statusMessage(v: unknown): string | undefined {
  let t = text(v);
  for (let unwrapped = t && unquote(t); t && unwrapped !== undefined; unwrapped = t && unquote(t)) {
    t = unwrapped.trim();
  }
  return t ? t : undefined;
}

/** The text inside one pair of wrapping quotes, or undefined when it is not wrapped. */
function unquote(t: string): string | undefined {
  if (t.length < 2) return undefined;
  const q = t[0];
  if ((q !== '"' && q !== "'") || t[t.length - 1] !== q) return undefined;
  if (q === '"') {
    try {
      const parsed: unknown = JSON.parse(t);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // not a JSON string literal: fall through to the plain rule
    }
  }
  const inner = t.slice(1, -1);
  // "a" and "b" is two quoted words, not one wrapped message.
  return inner.includes(q) ? undefined : inner;
}

/** Sizes are strings in backup jobs and numbers in copy jobs. */
function count(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** percentDone is a number in events and "99.0" or "0.00%" strings in the API. */
function percent(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseFloat(v) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** ISO 8601, epoch seconds or milliseconds, or "Jul 15, 2020 9:39:07 PM" (taken as UTC). */
export function awsDate(v: unknown): Date | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) {
    return validDate(new Date(v < 1e11 ? v * 1000 : v));
  }
  if (typeof v !== 'string' || !v.trim()) return undefined;
  const s = v.trim();
  const legacy =
    /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})\s*([AaPp][Mm])?$/.exec(
      s,
    );
  if (legacy) {
    const [, mon, day, year, h, min, sec, ampm] = legacy;
    const month = MONTHS.indexOf(mon!.toLowerCase());
    if (month < 0) return undefined;
    let hour = Number(h);
    if (ampm) hour = (hour % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0);
    return validDate(
      new Date(Date.UTC(Number(year), month, Number(day), hour, Number(min), Number(sec))),
    );
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return validDate(new Date(s));
  return undefined;
}

function validDate(d: Date): Date | undefined {
  return Number.isNaN(d.getTime()) ? undefined : d;
}
