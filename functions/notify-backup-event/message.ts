import type { JobType, Severity } from '../shared/config';
import type { EnrichedEvent } from './enrich';
import { resourceName, truncate } from '../shared/format';

/**
 * What a notification says, before any channel's formatting. Every value here is raw event
 * text: each renderer escapes it for its own medium.
 */
export interface MessageModel {
  severity: Severity;
  /** FAILED, COMPLETED WITH ISSUES, ... */
  label: string;
  jobTypeLabel: string;
  /** The resource as a person would name it: its id or name, else its type, else the job id. */
  subjectResource: string;
  accountLabel: string;
  region: string;
  reason?: string;
  facts: Fact[];
  nextSteps: string[];
  consoleUrl: string;
  event: EnrichedEvent;
}

export interface Fact {
  label: string;
  value: string;
  /** identifiers render as code; links as links; text as text. */
  kind: 'text' | 'id' | 'link';
}

/** The longest value a fact shows (ARNs are at most 2,048 characters; names far less). */
export const FACT_MAX = 1024;

const JOB_TYPE_LABEL: Readonly<Record<JobType, string>> = {
  backup: 'Backup job',
  copy: 'Copy job',
  restore: 'Restore job',
};

export function accountLabel(e: Pick<EnrichedEvent, 'accountId' | 'accountName'>): string {
  return e.accountName ? `${e.accountName} (${e.accountId})` : e.accountId;
}

export function buildMessage(e: EnrichedEvent, severity: Severity, label: string): MessageModel {
  const facts: Fact[] = [];
  // Event fields have no size limit: a giant one must not push a message past SNS's 256 KiB.
  const add = (factLabel: string, value: string | undefined, kind: Fact['kind'] = 'text') => {
    if (value) facts.push({ label: factLabel, value: truncate(value, FACT_MAX), kind });
  };
  add('Account', accountLabel(e));
  add('Region', e.region, 'id');
  add('Resource', e.resourceArn, 'id');
  add('Resource type', e.resourceType);
  if (e.jobType === 'copy') {
    add('Source vault', e.sourceBackupVaultArn, 'id');
    add('Destination vault', e.destinationBackupVaultArn, 'id');
  } else {
    add('Vault', e.backupVaultName ?? resourceName(e.backupVaultArn), 'id');
  }
  add('Recovery point', e.recoveryPointArn, 'id');
  add('Restored resource', e.createdResourceArn, 'id');
  add('Backup plan', e.backupPlanId ?? resourceName(e.backupPlanArn), 'id');
  add('Plan rule', e.backupRuleId, 'id');
  add('Job id', e.jobId, 'id');
  add('Size', e.sizeText);
  add('Duration', e.durationText);
  add('Started', e.creationDate?.toISOString());
  add('Finished', e.completionDate?.toISOString());
  add('Event time', e.time);
  add('IAM role', e.iamRoleArn, 'id');
  add('Console', e.consoleUrl, 'link');

  return {
    severity,
    label,
    jobTypeLabel: JOB_TYPE_LABEL[e.jobType],
    subjectResource: truncate(
      e.resourceName ?? e.resourceType ?? e.jobId ?? 'unknown resource',
      FACT_MAX,
    ),
    accountLabel: accountLabel(e),
    region: e.region,
    reason: e.statusMessage,
    facts,
    nextSteps: nextSteps(e, label),
    consoleUrl: e.consoleUrl,
    event: e,
  };
}

/** Advice an on-call engineer can follow at 3 a.m., by job type and outcome. */
export function nextSteps(e: EnrichedEvent, label: string): string[] {
  const steps: string[] = [];
  const reason = (e.statusMessage ?? '').toLowerCase();
  if (label === 'COMPLETED') return ['No action needed.'];
  steps.push(`Open the job in the AWS Backup console of account ${e.accountId} (${e.region}).`);
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
