import { z } from 'zod';
import { JOB_STATES, type JobState, type JobType } from '../shared/config';
import { MalformedEventError } from '../shared/errors';
import { dropUndefined } from '../shared/objects';

/**
 * Parsing of AWS Backup job-state events. Only the fields the flow uses are validated, and the
 * variants real events carry are accepted (see ../shared/design/aws-facts.md): `state` or
 * `status`, sizes as strings or numbers, `{}` where an ARN should be, status messages wrapped in
 * quotes, `backupPlanRuleId` or `backupRuleId`, "Jul 15, 2020 9:39:07 PM" dates.
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

/** The EventBridge envelope. Anything else in it is ignored. */
export const EnvelopeSchema = z.object({
  id: z.string().min(1).max(256),
  'detail-type': z.string().min(1).max(256),
  source: z.string().min(1).max(256),
  account: z.string().regex(/^\d{12,13}$/, 'must be an AWS account id (12 digits)'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region name'),
  time: z.string().max(64).optional(),
  resources: z.array(z.unknown()).optional(),
  detail: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** A job event reduced to what classification, routing and rendering use. */
export interface JobEvent {
  eventId: string;
  detailType: string;
  jobType: JobType;
  /** Absent only on CREATED events (AWS's CREATED copy-job sample has none). */
  jobId?: string;
  state: JobState;
  accountId: string;
  region: string;
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
  iamRoleArn?: string;
  sizeBytes?: number;
  bytesTransferred?: number;
  percentDone?: number;
  creationDate?: Date;
  completionDate?: Date;
}

export type ParsedEvent =
  | { kind: 'job'; event: JobEvent }
  | { kind: 'ignored'; eventId?: string; reason: string; detailType?: string; source?: string };

/** Parses one EventBridge event. Throws MalformedEventError naming the field that is wrong. */
export function parseBackupEvent(input: unknown): ParsedEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new MalformedEventError('event must be a JSON object', '(event)');
  }
  // Someone else's event is ignored whatever the rest of its envelope looks like.
  const raw = input as Record<string, unknown>;
  const rawId = typeof raw.id === 'string' ? raw.id.slice(0, 256) : undefined;
  if (typeof raw.source === 'string' && raw.source !== 'aws.backup') {
    const source = raw.source.slice(0, 64);
    return {
      kind: 'ignored',
      eventId: rawId,
      source,
      reason: `source ${source} is not aws.backup`,
    };
  }
  const rawDetailType = raw['detail-type'];
  if (typeof rawDetailType === 'string' && !Object.hasOwn(JOB_DETAIL_TYPES, rawDetailType)) {
    const detailType = rawDetailType.slice(0, 64);
    return {
      kind: 'ignored',
      eventId: rawId,
      detailType,
      reason: `detail-type "${detailType}" is not a job state change`,
    };
  }
  const envelope = EnvelopeSchema.safeParse(input);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    const field = issue?.path.map(String).join('.') || '(event)';
    const missing = issue?.code === 'invalid_type' && !(issue.path[0]! in raw);
    throw new MalformedEventError(
      `field "${field}" ${missing ? 'is missing' : (issue?.message ?? 'is invalid')}`,
      field,
    );
  }
  const e = envelope.data;
  const detailType = e['detail-type'];
  const base = { eventId: e.id, detailType, source: e.source };
  if (e.source !== 'aws.backup') {
    return { kind: 'ignored', ...base, reason: `source ${e.source} is not aws.backup` };
  }
  const jobType = Object.hasOwn(JOB_DETAIL_TYPES, detailType)
    ? JOB_DETAIL_TYPES[detailType]
    : undefined;
  if (!jobType) {
    return {
      kind: 'ignored',
      ...base,
      reason: `detail-type "${detailType}" is not a job state change`,
    };
  }

  const d = e.detail;
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
  const jobIdField = JOB_ID_FIELD[jobType];
  const jobId = text(d[jobIdField]);
  // AWS's own CREATED copy-job sample has no copyJobId yet; every later state must have one.
  if ((!jobId && state !== 'CREATED') || (jobId && jobId.length > 256)) {
    throw new MalformedEventError(
      `field "detail.${jobIdField}" is missing or not a string`,
      `detail.${jobIdField}`,
    );
  }

  const createdBy = record(d.createdBy);
  const event: JobEvent = {
    eventId: e.id,
    detailType,
    jobType,
    jobId,
    state,
    accountId: e.account,
    region: e.region,
    time: e.time,
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
      (jobType === 'copy' ? e.resources?.map(arn).find(Boolean) : undefined),
    destinationRecoveryPointArn: arn(d.destinationRecoveryPointArn),
    createdResourceArn: arn(d.createdResourceArn),
    backupPlanId: text(createdBy?.backupPlanId),
    backupPlanArn: arn(createdBy?.backupPlanArn),
    backupRuleId: text(createdBy?.backupPlanRuleId) ?? text(createdBy?.backupRuleId),
    iamRoleArn: arn(d.iamRoleArn),
    sizeBytes: count(d.backupSizeInBytes),
    bytesTransferred: count(d.bytesTransferred),
    percentDone: percent(d.percentDone),
    creationDate: awsDate(d.creationDate),
    completionDate: awsDate(d.completionDate),
  };
  return { kind: 'job', event: dropUndefined(event) };
}

function isJobState(s: string): s is JobState {
  return (JOB_STATES as readonly string[]).includes(s);
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** A non-empty trimmed string, or undefined for anything else. */
function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
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
