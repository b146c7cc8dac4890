import type { JobType, Severity } from '../shared/config/vocabulary';
import { consoleJobUrl, humanBytes, humanDuration, resourceName } from '../shared/format';
import { camelEventType, id, text, type Fact, type Notice } from '../shared/notices/notice';
import type { JobEvent } from './schema';

/**
 * A backup, copy or restore job event as a notice: what happened to which resource, why, the
 * facts an on-call engineer needs, what to do, and the console link.
 */

const JOB_TYPE_LABEL: Readonly<Record<JobType, string>> = {
  backup: 'Backup job',
  copy: 'Copy job',
  restore: 'Restore job',
};

export interface JobNoticeOptions {
  /** The event never arrived; the job was found in AWS Backup's job history. */
  recovered?: boolean;
}

/** Same job, same state: the same notification, whichever bus, retry or history run it came from. */
export function jobDedupKey(e: JobEvent): string {
  return [e.accountId, e.region ?? '-', e.jobType, e.jobId ?? `event-${e.eventId}`, e.state].join(
    '#',
  );
}

export function jobNotice(
  e: JobEvent,
  severity: Severity,
  label: string,
  options: JobNoticeOptions = {},
): Notice {
  const restoreTest = e.jobType === 'restore' && Boolean(e.restoreTestingPlanArn);
  const what = restoreTest ? 'Restore test' : JOB_TYPE_LABEL[e.jobType];
  const duration =
    e.creationDate && e.completionDate
      ? e.completionDate.getTime() - e.creationDate.getTime()
      : undefined;
  const facts: Fact[] = [
    ...id('Resource', e.resourceArn),
    ...text('Resource type', e.resourceType),
    ...(e.jobType === 'copy'
      ? [
          ...id('Source vault', e.sourceBackupVaultArn),
          ...id('Destination vault', e.destinationBackupVaultArn),
        ]
      : id('Vault', e.backupVaultName ?? resourceName(e.backupVaultArn))),
    ...id('Recovery point', e.recoveryPointArn),
    ...id('Restored resource', e.createdResourceArn),
    ...id('Restore testing plan', e.restoreTestingPlanArn),
    ...id('Backup plan', e.backupPlanId ?? resourceName(e.backupPlanArn)),
    ...id('Plan rule', e.backupRuleId),
    ...id('Job id', e.jobId),
    ...text('Failure category', e.messageCategory),
    ...text('Size', humanBytes(e.sizeBytes)),
    ...text('Duration', humanDuration(duration)),
    ...text('Started', e.creationDate?.toISOString()),
    ...text('Finished', e.completionDate?.toISOString()),
    ...text('Event time', e.time),
    ...id('IAM role', e.iamRoleArn),
    ...(options.recovered
      ? text(
          'Found by',
          'the daily check of the job history: this state change never arrived as an event',
        )
      : []),
  ];
  const item = e.resourceName ?? resourceName(e.resourceArn) ?? e.resourceType ?? e.jobId;
  return {
    kind: 'job',
    dedupKey: jobDedupKey(e),
    severity,
    label: options.recovered ? `${label} (RECOVERED)` : label,
    what,
    item: item ?? 'unknown resource',
    account: { id: e.accountId },
    ...(e.region ? { region: e.region } : {}),
    ...(e.statusMessage ? { reason: e.statusMessage } : {}),
    facts,
    sections: [],
    nextSteps: nextSteps(e, label, restoreTest),
    link: { url: consoleJobUrl(e.jobType, e.region, e.jobId), label: 'View job in AWS Backup' },
    jobType: e.jobType,
    state: e.state,
    ...(e.resourceType ? { resourceType: e.resourceType } : {}),
    chat: {
      threadId: `${e.jobType}-job-${e.jobId ?? e.eventId}`,
      eventType: camelEventType(what, label),
      keywords: [label, what, e.resourceType ?? '', e.accountId, e.region ?? ''],
      relatedResources: [e.resourceArn, e.recoveryPointArn, e.createdResourceArn].filter(
        (r): r is string => Boolean(r),
      ),
      context: {
        jobType: e.jobType,
        state: e.state,
        ...(e.jobId ? { jobId: e.jobId } : {}),
        eventId: e.eventId,
        ...(options.recovered ? { recovered: 'true' } : {}),
      },
    },
    reference: `event ${e.eventId}`,
  };
}

/** Advice an on-call engineer can follow at 3 a.m., by job type and outcome. */
export function nextSteps(e: JobEvent, label: string, restoreTest = false): string[] {
  const steps: string[] = [];
  const reason = `${e.statusMessage ?? ''} ${e.messageCategory ?? ''}`.toLowerCase();
  if (label === 'COMPLETED') return ['No action needed.'];
  steps.push(
    `Open the job in the AWS Backup console of account ${e.accountId}${e.region ? ` (${e.region})` : ''}.`,
  );
  if (restoreTest) {
    steps.push(
      'A restore test failed: the recovery points it tested may not be restorable. Check the restore testing plan and the restored resource settings before you need them.',
    );
  }
  if (/privilege|not authorized|access ?denied|assume/.test(reason)) {
    steps.push(
      'Check that the IAM role used by the job exists, trusts backup.amazonaws.com and has the AWS Backup service policies.',
    );
  }
  if (/kms|key/.test(reason)) {
    steps.push("Check the KMS key policy and grants for the resource's and the vault's keys.");
  }
  switch (label) {
    case 'EXPIRED':
      steps.push(
        "The job did not start within the plan's start window: check the window and whether the resource was busy or another job was running.",
      );
      break;
    case 'ABORTED':
      steps.push(
        'The job was stopped by a person or by the completion window: check the plan completion window and CloudTrail StopBackupJob calls.',
      );
      break;
    case 'PARTIAL':
    case 'COMPLETED WITH ISSUES':
      steps.push(
        'A recovery point exists but may be incomplete: read the status message and fix the cause before relying on it.',
      );
      break;
    default:
      break;
  }
  if (e.jobType === 'copy' && label !== 'COMPLETED WITH ISSUES') {
    steps.push(
      "For cross-account or cross-Region copies, check the destination vault's access policy and that the destination can use the KMS key.",
    );
  }
  if (e.jobType === 'restore') {
    steps.push(
      'Check the restore role and the restore metadata (subnet, security group, instance type).',
    );
  }
  if (
    e.jobType === 'backup' &&
    (label === 'FAILED' || label === 'EXPIRED' || label === 'ABORTED')
  ) {
    steps.push(
      'Once fixed, start an on-demand backup so the resource is not left unprotected until the next window.',
    );
  }
  return steps;
}
