import { decide } from '../../functions/notify-backup-event/decide';
import { jobDedupKey, jobNotice, nextSteps } from '../../functions/notify-backup-event/job-notice';
import type { JobEvent } from '../../functions/notify-backup-event/schema';
import { camelEventType } from '../../functions/shared/notices/notice';
import { jobEvent } from '../helpers/fakes';
import { exampleConfig, sample } from '../helpers/fixtures';

const FAILED = 'backup/backup-job-state-change.failed';
const JOB_ID = 'd8da2bf5-6c6f-4581-ba20-1999ebcc985e';
const RESTORE_TEST_PLAN =
  'arn:aws:backup:eu-west-1:444455556666:restore-testing-plan:weekly-test-abcd1234';

const labels = (e: JobEvent) => jobNotice(e, 'error', e.state).facts.map((f) => f.label);
const fact = (e: JobEvent, label: string) =>
  jobNotice(e, 'error', e.state).facts.find((f) => f.label === label);

describe('jobNotice', () => {
  it('says what happened to which resource, why, where, and links the job', () => {
    const n = jobNotice(jobEvent(FAILED), 'error', 'FAILED');
    expect(n).toMatchObject({
      kind: 'job',
      dedupKey: `111122223333#us-east-1#backup#${JOB_ID}#FAILED`,
      severity: 'error',
      label: 'FAILED',
      what: 'Backup job',
      item: 'customer-profiles',
      account: { id: '111122223333' },
      region: 'us-east-1',
      reason: 'Insufficient privileges to perform this action.',
      sections: [],
      link: {
        url: `https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/backup/details/${JOB_ID}`,
        label: 'View job in AWS Backup',
      },
      jobType: 'backup',
      state: 'FAILED',
      resourceType: 'DynamoDB',
      chat: {
        threadId: `backup-job-${JOB_ID}`,
        eventType: 'BackupJobFailed',
        keywords: ['FAILED', 'Backup job', 'DynamoDB', '111122223333', 'us-east-1'],
        relatedResources: ['arn:aws:dynamodb:us-east-1:111122223333:table/customer-profiles'],
        context: {
          jobType: 'backup',
          state: 'FAILED',
          jobId: JOB_ID,
          eventId: 'e6aade39-02e1-4bab-ad90-823f456afa80',
        },
      },
      reference: 'event e6aade39-02e1-4bab-ad90-823f456afa80',
    });
    expect(n.facts).toEqual(
      expect.arrayContaining([
        {
          label: 'Resource',
          value: 'arn:aws:dynamodb:us-east-1:111122223333:table/customer-profiles',
          kind: 'id',
        },
        { label: 'Resource type', value: 'DynamoDB', kind: 'text' },
        { label: 'Vault', value: 'org-backup-vault', kind: 'id' },
        { label: 'Job id', value: JOB_ID, kind: 'id' },
        { label: 'Duration', value: '4m 24s', kind: 'text' },
      ]),
    );
  });

  it('adds the size and duration of a completed job, and leaves out what it cannot compute', () => {
    expect(fact(jobEvent('backup/backup-job-state-change.completed'), 'Size')?.value).toBe(
      '100 GiB',
    );
    expect(fact(jobEvent('backup/backup-job-state-change.completed'), 'Duration')?.value).toBe(
      '37m 50s',
    );
    const created = jobNotice(jobEvent('backup/copy-job-state-change.created'), 'info', 'CREATED');
    expect(created.facts.map((f) => f.label)).not.toEqual(
      expect.arrayContaining(['Size', 'Duration']),
    );
    expect(created.facts.every((f) => f.value !== '' && f.value !== undefined)).toBe(true);
    expect(created.link?.url).toBe(
      'https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/copy',
    );
  });

  it('names the vault from its ARN when the event has no backupVaultName', () => {
    const e = jobEvent(FAILED, (raw) => {
      delete raw.detail.backupVaultName;
      raw.detail.backupVaultArn = 'arn:aws:backup:us-east-1:111122223333:backup-vault:Default';
    });
    expect(fact(e, 'Vault')).toEqual({ label: 'Vault', value: 'Default', kind: 'id' });
  });

  it('shows the source and destination vaults of a copy job instead of one vault', () => {
    const e = jobEvent('backup/copy-job-state-change.failed');
    expect(labels(e)).toEqual(expect.arrayContaining(['Source vault', 'Destination vault']));
    expect(labels(e)).not.toContain('Vault');
    expect(jobNotice(e, 'error', 'FAILED').what).toBe('Copy job');
  });

  it.each([
    [
      'the resource name the event carries',
      { resourceName: 'Customer profiles' },
      'Customer profiles',
    ],
    ['the name in the resource ARN', {}, 'customer-profiles'],
    ['the resource type', { resourceArn: {} }, 'DynamoDB'],
    ['the job id', { resourceArn: {}, resourceType: '' }, JOB_ID],
    [
      '"unknown resource"',
      { resourceArn: {}, resourceType: '', backupJobId: '' },
      'unknown resource',
    ],
  ])('names the item by %s', (_what, detail, item) => {
    const e = jobEvent(FAILED, (raw) => Object.assign(raw.detail, detail));
    expect(jobNotice(e, 'error', 'FAILED').item).toBe(item);
  });

  it('calls a restore started by a restore testing plan a restore test', () => {
    const e = jobEvent('backup/restore-job-state-change.failed', (raw) => {
      raw.detail.createdBy = { restoreTestingPlanArn: RESTORE_TEST_PLAN };
    });
    const n = jobNotice(e, 'error', 'FAILED');
    expect(n.what).toBe('Restore test');
    expect(n.chat.eventType).toBe('RestoreTestFailed');
    expect(n.facts).toContainEqual({
      label: 'Restore testing plan',
      value: RESTORE_TEST_PLAN,
      kind: 'id',
    });
    expect(n.nextSteps.join('\n')).toMatch(/A restore test failed/);
  });

  it('marks a job found in the job history as recovered, deduplicating with its event', () => {
    const e = jobEvent(FAILED);
    const recovered = jobNotice(e, 'error', 'FAILED', { recovered: true });
    expect(recovered.label).toBe('FAILED (RECOVERED)');
    expect(recovered.facts.map((f) => f.label)).toContain('Found by');
    expect(recovered.chat.context.recovered).toBe('true');
    expect(recovered.dedupKey).toBe(jobNotice(e, 'error', 'FAILED').dedupKey);
    expect(jobNotice(e, 'error', 'FAILED').facts.map((f) => f.label)).not.toContain('Found by');
  });

  it('still builds a notice when display-only fields are unreadable', () => {
    const e = jobEvent(FAILED, (raw) => {
      raw.time = 'x'.repeat(65);
      raw.region = 'not a region';
      raw.resources = 'not-an-array';
    });
    const n = jobNotice(e, 'error', 'FAILED');
    expect(n.region).toBeUndefined();
    expect(n.facts.map((f) => f.label)).not.toContain('Event time');
    expect(n.link?.url).toBe(
      `https://console.aws.amazon.com/backup/home#/jobs/backup/details/${JOB_ID}`,
    );
    expect(n.dedupKey).toBe(`111122223333#-#backup#${JOB_ID}#FAILED`);
  });

  it('is the notice decide hands to the pipeline', () => {
    const decision = decide(sample(FAILED), exampleConfig());
    expect(decision.flow).toBe('notify');
    if (decision.flow !== 'notify') return;
    expect(decision.notice).toEqual(jobNotice(jobEvent(FAILED), 'error', 'FAILED'));
  });
});

describe('jobDedupKey', () => {
  it('is the same for the same job and state, and differs for another state or job', () => {
    const failed = jobDedupKey(jobEvent(FAILED));
    expect(jobDedupKey(jobEvent(FAILED, (raw) => (raw.id = 'another-delivery')))).toBe(failed);
    expect(jobDedupKey(jobEvent(FAILED, (raw) => (raw.detail.state = 'EXPIRED')))).not.toBe(failed);
    expect(jobDedupKey(jobEvent(FAILED, (raw) => (raw.detail.backupJobId = 'other')))).not.toBe(
      failed,
    );
  });

  it('falls back to the event id when the job id is missing', () => {
    const e = jobEvent('backup/copy-job-state-change.created');
    expect(jobDedupKey(e)).toBe(
      '111122223333#us-east-1#copy#event-44335f97-8c9b-407e-ba30-65988018ece7#CREATED',
    );
  });
});

describe('chat threads', () => {
  it('share a thread for one job and not across jobs', () => {
    const thread = (name: string) => {
      const e = jobEvent(name);
      return jobNotice(e, 'info', e.state).chat.threadId;
    };
    const running = thread('backup/copy-job-state-change.running');
    expect(running).toBe('copy-job-594599DF-4C76-4C25-800A-7B1C33A5BB6F');
    expect(thread('backup/copy-job-state-change.completed')).toBe(running);
    expect(thread('backup/copy-job-state-change.failed')).not.toBe(running);
  });
});

describe('nextSteps', () => {
  const steps = (name: string, label?: string) => {
    const e = jobEvent(name);
    return nextSteps(e, label ?? e.state).join('\n');
  };

  it('needs no action for a completed job', () => {
    expect(nextSteps(jobEvent('backup/backup-job-state-change.completed'), 'COMPLETED')).toEqual([
      'No action needed.',
    ]);
  });

  it('points a permission failure at the IAM role and asks for an on-demand backup', () => {
    const text = steps(FAILED);
    expect(text).toMatch(
      /^Open the job in the AWS Backup console of account 111122223333 \(us-east-1\)/,
    );
    expect(text).toMatch(/IAM role used by the job/);
    expect(text).toMatch(/on-demand backup/);
    expect(text).not.toMatch(/KMS/);
  });

  it('points a KMS failure at the key policy', () => {
    expect(steps('backup/backup-job-state-change.failed-backup-rule-id')).toMatch(/KMS key policy/);
  });

  it.each([
    ['backup/backup-job-state-change.expired', undefined, /start window/],
    ['backup/backup-job-state-change.aborted', undefined, /completion window/],
    ['backup/backup-job-state-change.partial', undefined, /may be incomplete/],
    [
      'backup/backup-job-state-change.completed-with-issues',
      'COMPLETED WITH ISSUES',
      /may be incomplete/,
    ],
    ['backup/copy-job-state-change.failed', undefined, /destination vault's access policy/],
    ['backup/restore-job-state-change.failed', undefined, /restore metadata/],
  ])('fits %s', (name, label, advice) => {
    expect(steps(name, label)).toMatch(advice);
  });

  it('does not ask for an on-demand backup after a failed copy or restore', () => {
    expect(steps('backup/copy-job-state-change.failed')).not.toMatch(/on-demand/);
    expect(steps('backup/restore-job-state-change.failed')).not.toMatch(/on-demand/);
  });
});

describe('camelEventType', () => {
  it.each([
    [['Backup job', 'FAILED'], 'BackupJobFailed'],
    [['Copy job', 'COMPLETED WITH ISSUES'], 'CopyJobCompletedWithIssues'],
    [['Backup job', 'FAILED (RECOVERED)'], 'BackupJobFailedRecovered'],
  ])('turns %p into %p', (words, expected) => {
    expect(camelEventType(...words)).toBe(expected);
  });
});
