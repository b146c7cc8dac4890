import { JOB_STATES, type JobState, type JobType } from '../shared/config/vocabulary';
import { MalformedEventError } from '../shared/errors';
import { dropUndefined } from '../shared/objects';
import {
  arn,
  awsDate,
  count,
  percent,
  readEnvelope,
  record,
  requireAccount,
  requireDetail,
  requireDetailType,
  statusMessage,
  text,
  unreadableWarning,
  type Envelope,
} from './envelope';

export { awsDate, statusMessage } from './envelope';

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

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,255}$/;

/**
 * Parses one EventBridge event. Rejects (MalformedEventError, naming the field) only what leaves
 * nothing useful to say: no source, detail-type, detail, state or account. Display-only fields
 * (id, region, time, resources, job id, sizes, dates) that are unreadable are left out and listed
 * in `warnings`; the alert still goes out.
 */
export function parseBackupEvent(
  input: unknown,
  read: Envelope = readEnvelope(input),
): ParsedEvent {
  const { rawId, source } = read;
  if (source !== 'aws.backup') {
    const shown = source.slice(0, 64);
    return {
      kind: 'ignored',
      eventId: rawId,
      source: shown,
      reason: `source ${shown} is not aws.backup`,
    };
  }
  const detailType = requireDetailType(read);
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
  const accountId = requireAccount(read, input);
  const d = requireDetail(read);
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

  const warnings = [...read.warnings];
  const resources = read.resources;
  const jobIdField = JOB_ID_FIELD[jobType];
  const rawJobId = text(d[jobIdField]);
  // Job ids are UUIDs or hex: anything else is unreadable, not put in keys, links or messages.
  const jobId = rawJobId && JOB_ID.test(rawJobId) ? rawJobId : undefined;
  // AWS's own CREATED copy-job sample has no copyJobId yet; later states should have one.
  if (!jobId && (state !== 'CREATED' || rawJobId)) {
    warnings.push(unreadableWarning(`detail.${jobIdField}`));
  }

  const createdBy = record(d.createdBy);
  const event: JobEvent = {
    eventId: read.eventId,
    detailType,
    jobType,
    jobId,
    state,
    accountId,
    region: read.region,
    time: read.time,
    statusMessage: statusMessage(d.statusMessage),
    // Restore events name the backed-up resource sourceResourceArn.
    resourceArn:
      arn(d.resourceArn) ?? (jobType === 'restore' ? arn(d.sourceResourceArn) : undefined),
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
    // DescribeRestoreJob puts it under CreatedBy; the event guide names it as a detail field.
    restoreTestingPlanArn: arn(createdBy?.restoreTestingPlanArn) ?? arn(d.restoreTestingPlanArn),
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
