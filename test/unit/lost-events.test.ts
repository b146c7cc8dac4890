import { jobDedupKey } from '../../functions/notify-backup-event/job-notice';
import { notifyBackupEvent } from '../../functions/notify-backup-event/notify';
import { recordTakenIn } from '../../functions/shared/notices/deliver';
import type { JobHistoryEntry } from '../../functions/shared/ports';
import {
  DEFAULT_LOOKBACK_MS,
  eventFromHistory,
  recoverLostEvents,
  type LostEventsDeps,
} from '../../functions/watch-account/lost-events';
import { FakeClock, FakeDirectory, jobEvent } from '../helpers/fakes';
import { exampleConfig, sample } from '../helpers/fixtures';
import { FakeMemberAccount, pipelineWorld, topicArnOf } from '../helpers/onboarding-fakes';

/** Lost events (functions/watch-account/lost-events.ts): jobs whose event never arrived. */

const ACCOUNT = '111122223333';
const NOW = new Date('2025-03-13T06:00:00.000Z');
const MIN = 60_000;
const JOB_ID = 'd8da2bf5-6c6f-4581-ba20-1999ebcc985e';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/customer-profiles`;
const FAILED_SAMPLE = 'backup/backup-job-state-change.failed';

/** The job of the FAILED sample event, as the job history lists it. A fresh copy each call. */
function failedJob(over: Partial<JobHistoryEntry> = {}): JobHistoryEntry {
  return {
    jobType: 'backup',
    jobId: JOB_ID,
    accountId: ACCOUNT,
    state: 'FAILED',
    statusMessage: 'Insufficient privileges to perform this action.',
    resourceArn: TABLE,
    resourceType: 'DynamoDB',
    backupVaultName: 'org-backup-vault',
    backupVaultArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:org-backup-vault`,
    iamRoleArn: `arn:aws:iam::${ACCOUNT}:role/OrgBackupServiceRole`,
    backupPlanId: '6b37654c-0a0d-4e64-ae34-88bf1eeed18f',
    backupPlanArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-plan:6b37654c-0a0d-4e64-ae34-88bf1eeed18f`,
    backupRuleId: '006185eb-5f7e-4af1-a5dd-ce65c3b754ef',
    creationDate: new Date('2025-03-13T03:00:08.016Z'),
    completionDate: new Date('2025-03-13T03:04:31.688Z'),
    ...over,
  };
}

function completedJob(over: Partial<JobHistoryEntry> = {}): JobHistoryEntry {
  return {
    jobType: 'backup',
    jobId: '481079DE-8461-4EFF-9CBD-79D1F44E4643',
    accountId: ACCOUNT,
    state: 'COMPLETED',
    resourceArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:volume/vol-7c263e8d0ffaac28b`,
    resourceType: 'EBS',
    creationDate: new Date('2025-03-13T04:00:12.418Z'),
    completionDate: new Date('2025-03-13T04:38:02.913Z'),
    ...over,
  };
}

function world() {
  const config = exampleConfig();
  const clock = new FakeClock(NOW);
  const directory = new FakeDirectory({
    [ACCOUNT]: { name: 'Production', email: 'aws-prod@example.com' },
  });
  const sent = pipelineWorld(config, clock, directory);
  const member = new FakeMemberAccount(ACCOUNT);
  const deps: LostEventsDeps = { pipeline: sent.pipeline, now: NOW };
  const history = (region: string, ...jobs: JobHistoryEntry[]) =>
    member.jobHistory.set(region, jobs);
  const recover = (regions = ['us-east-1'], over: Partial<LostEventsDeps> = {}) =>
    recoverLostEvents(member, regions, { ...deps, ...over });
  return { ...sent, member, history, recover, clock };
}

/** The (event, channel) pairs delivered, as the ledger keeps them. */
const deliveredKeys = (w: ReturnType<typeof world>) =>
  [...w.ledger.entries]
    .filter(([, e]) => e.status === 'DELIVERED')
    .map(([k]) => k)
    .sort();

describe('eventFromHistory', () => {
  it('maps every field of a backup job to the event AWS would have sent', () => {
    const job = failedJob({
      messageCategory: 'ACCESS_DENIED',
      resourceName: 'customer-profiles',
      recoveryPointArn: 'arn:aws:backup:us-east-1:111122223333:recovery-point:rp-1',
      sizeBytes: 1024,
    });
    expect(eventFromHistory(job, '999999999999', 'us-east-1')).toStrictEqual({
      eventId: `history-backup-${JOB_ID}-FAILED`,
      detailType: 'Backup Job State Change',
      jobType: 'backup',
      jobId: JOB_ID,
      state: 'FAILED',
      accountId: ACCOUNT,
      region: 'us-east-1',
      statusMessage: 'Insufficient privileges to perform this action.',
      messageCategory: 'ACCESS_DENIED',
      resourceArn: TABLE,
      resourceName: 'customer-profiles',
      resourceType: 'DynamoDB',
      backupVaultName: 'org-backup-vault',
      backupVaultArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:org-backup-vault`,
      recoveryPointArn: 'arn:aws:backup:us-east-1:111122223333:recovery-point:rp-1',
      backupPlanId: '6b37654c-0a0d-4e64-ae34-88bf1eeed18f',
      backupPlanArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-plan:6b37654c-0a0d-4e64-ae34-88bf1eeed18f`,
      backupRuleId: '006185eb-5f7e-4af1-a5dd-ce65c3b754ef',
      iamRoleArn: `arn:aws:iam::${ACCOUNT}:role/OrgBackupServiceRole`,
      sizeBytes: 1024,
      creationDate: new Date('2025-03-13T03:00:08.016Z'),
      completionDate: new Date('2025-03-13T03:04:31.688Z'),
    });
  });

  it('maps copy and restore jobs to their detail types and fields', () => {
    const copy = eventFromHistory(
      {
        jobType: 'copy',
        jobId: 'copy-1',
        state: 'COMPLETED',
        sourceBackupVaultArn: 'arn:aws:backup:us-east-1:111122223333:backup-vault:a',
        destinationBackupVaultArn: 'arn:aws:backup:eu-west-1:444455556666:backup-vault:b',
      },
      ACCOUNT,
      'us-east-1',
    );
    expect(copy).toStrictEqual({
      eventId: 'history-copy-copy-1-COMPLETED',
      detailType: 'Copy Job State Change',
      jobType: 'copy',
      jobId: 'copy-1',
      state: 'COMPLETED',
      accountId: ACCOUNT,
      region: 'us-east-1',
      sourceBackupVaultArn: 'arn:aws:backup:us-east-1:111122223333:backup-vault:a',
      destinationBackupVaultArn: 'arn:aws:backup:eu-west-1:444455556666:backup-vault:b',
    });
    const restore = eventFromHistory(
      {
        jobType: 'restore',
        jobId: 'restore-1',
        state: 'ABORTED',
        createdResourceArn: 'arn:aws:ec2:eu-west-1:111122223333:volume/vol-new',
        restoreTestingPlanArn: 'arn:aws:backup:eu-west-1:111122223333:restore-testing-plan:t',
      },
      ACCOUNT,
      'eu-west-1',
    );
    expect(restore).toMatchObject({
      detailType: 'Restore Job State Change',
      jobType: 'restore',
      state: 'ABORTED',
      region: 'eu-west-1',
      createdResourceArn: 'arn:aws:ec2:eu-west-1:111122223333:volume/vol-new',
      restoreTestingPlanArn: 'arn:aws:backup:eu-west-1:111122223333:restore-testing-plan:t',
    });
  });

  it('takes the account given when the history does not say, and upper-cases the state', () => {
    const e = eventFromHistory(
      failedJob({ accountId: undefined, state: 'failed' }),
      ACCOUNT,
      'us-east-1',
    );
    expect(e).toMatchObject({ accountId: ACCOUNT, state: 'FAILED' });
  });

  it.each(['SUCCEEDED', 'UNKNOWN', '', 'CANCELLED'])('knows no event for state "%s"', (state) => {
    expect(eventFromHistory(failedJob({ state }), ACCOUNT, 'us-east-1')).toBeUndefined();
  });

  it('has the same delivery key as the live event of the same job and state', () => {
    const live = jobEvent(FAILED_SAMPLE);
    const recovered = eventFromHistory(failedJob(), ACCOUNT, 'us-east-1')!;
    expect(jobDedupKey(recovered)).toBe(jobDedupKey(live));
  });
});

describe('recoverLostEvents', () => {
  it('sends a FAILED job nobody heard of once, marked recovered, under the live event key', async () => {
    const w = world();
    w.history('us-east-1', failedJob());

    const result = await w.recover();

    expect(result).toEqual({ jobsChecked: 1, recovered: 1 });
    // errors-and-warnings (admins, chat) and database-failures (dba), each once.
    expect(w.email.sent.map((m) => m.to)).toEqual([
      ['platform-team@example.com'],
      ['dba-oncall@example.com'],
    ]);
    expect(w.sns.published.map((m) => m.topicArn)).toEqual([topicArnOf('chat')]);
    expect(w.email.sent[0]!.subject).toBe(
      '[FAILED (RECOVERED)] Backup job · customer-profiles · Production (111122223333) · us-east-1',
    );
    expect(w.email.sent[0]!.text).toContain('this state change never arrived as an event');
    expect(w.sns.published[0]!.body).toContain('"recovered":"true"');
    const key = jobDedupKey(jobEvent(FAILED_SAMPLE));
    expect(deliveredKeys(w)).toEqual(
      [`${key}|email:admins`, `${key}|email:dba`, `${key}|sns:chat`].sort(),
    );
  });

  it('sends nothing for a job whose event was delivered on every channel', async () => {
    const w = world();
    await notifyBackupEvent(sample(FAILED_SAMPLE), w.pipeline);
    const before = { email: w.email.sent.length, sns: w.sns.published.length };
    expect(before).toEqual({ email: 2, sns: 1 });
    w.history('us-east-1', failedJob());

    const result = await w.recover();

    expect(result).toEqual({ jobsChecked: 1, recovered: 0 });
    expect(w.email.sent).toHaveLength(before.email);
    expect(w.sns.published).toHaveLength(before.sns);
  });

  it('sends only the channel the event did not reach', async () => {
    const w = world();
    const key = jobDedupKey(jobEvent(FAILED_SAMPLE));
    for (const channel of ['email:admins', 'sns:chat']) {
      const claim = await w.ledger.claim(key, channel, NOW);
      if (claim.outcome !== 'claimed') throw new Error('test: not claimed');
      await w.ledger.markDelivered(key, channel, claim.token, 'm-1');
    }
    w.history('us-east-1', failedJob());

    const result = await w.recover();

    expect(result).toEqual({ jobsChecked: 1, recovered: 1 });
    expect(w.email.sent.map((m) => m.to)).toEqual([['dba-oncall@example.com']]);
    expect(w.sns.published).toEqual([]);
  });

  it('keeps the live event, should it arrive after all, from sending a second copy', async () => {
    const w = world();
    w.history('us-east-1', failedJob());
    await w.recover();
    const sent = w.email.sent.length + w.sns.published.length;
    const late = await notifyBackupEvent(sample(FAILED_SAMPLE), w.pipeline);
    expect(late.sent?.deliveries.map((d) => d.status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(w.email.sent.length + w.sns.published.length).toBe(sent);
  });

  it('sends nothing on a second run', async () => {
    const w = world();
    w.history('us-east-1', failedJob());
    expect(await w.recover()).toEqual({ jobsChecked: 1, recovered: 1 });
    const sent = w.email.sent.length + w.sns.published.length;
    expect(await w.recover()).toEqual({ jobsChecked: 1, recovered: 0 });
    expect(w.email.sent.length + w.sns.published.length).toBe(sent);
  });

  it('leaves a job that finished within the settle window: its event may still come', async () => {
    const w = world();
    const recent = new Date(NOW.getTime() - 59 * MIN);
    w.history('us-east-1', failedJob({ completionDate: recent }));
    expect(await w.recover()).toEqual({ jobsChecked: 0, recovered: 0 });
    expect(w.email.sent).toEqual([]);
    // With a shorter settle time it is lost, and sent.
    expect(await w.recover(undefined, { settleMs: 30 * MIN })).toEqual({
      jobsChecked: 1,
      recovered: 1,
    });
  });

  it('counts from the creation time of a job that has no completion time', async () => {
    const w = world();
    w.history(
      'us-east-1',
      failedJob({ completionDate: undefined, creationDate: new Date(NOW.getTime() - 10 * MIN) }),
      failedJob({
        jobId: 'older',
        completionDate: undefined,
        creationDate: new Date(NOW.getTime() - 2 * 60 * MIN),
      }),
      failedJob({ jobId: 'undated', completionDate: undefined, creationDate: undefined }),
    );
    expect(await w.recover()).toEqual({ jobsChecked: 1, recovered: 1 });
    expect(w.email.sent[0]!.text).toContain('older');
  });

  it('sends a COMPLETED job only where the rules route info (chat), never to email', async () => {
    const w = world();
    w.history('us-east-1', completedJob());
    expect(await w.recover()).toEqual({ jobsChecked: 1, recovered: 1 });
    expect(w.email.sent).toEqual([]);
    expect(w.sns.published).toHaveLength(1);
    expect(w.sns.published[0]!.subject).toContain('COMPLETED (RECOVERED)');
  });

  it('sends nothing for states the classification ignores', async () => {
    const w = world();
    w.history(
      'us-east-1',
      failedJob({ state: 'RUNNING' }),
      failedJob({ jobId: 'x', state: 'CREATED' }),
    );
    expect(await w.recover()).toEqual({ jobsChecked: 2, recovered: 0 });
    expect(w.email.sent).toEqual([]);
    expect(w.sns.published).toEqual([]);
  });

  it('sends nothing where no rule routes the notice', async () => {
    const w = world();
    w.pipeline.config.notifications.rules = [
      { name: 'only-prod', match: { accountId: ['999999999999'] }, email: ['admins'], sns: [] },
    ];
    w.history('us-east-1', failedJob());
    expect(await w.recover()).toEqual({ jobsChecked: 1, recovered: 0 });
    expect(w.email.sent).toEqual([]);
  });

  it('reads backup, copy and restore jobs of each region, since the lookback', async () => {
    const w = world();
    const since: Date[] = [];
    const backup = w.member.backup.bind(w.member);
    jest.spyOn(w.member, 'backup').mockImplementation((region) => {
      const b = backup(region);
      return {
        ...b,
        jobs: (jobType, from) => {
          since.push(from);
          return b.jobs(jobType, from);
        },
      };
    });
    await w.recover(['us-east-1', 'eu-west-1']);
    expect(w.member.reads).toEqual([
      'backup.jobs:us-east-1:backup',
      'backup.jobs:us-east-1:copy',
      'backup.jobs:us-east-1:restore',
      'backup.jobs:eu-west-1:backup',
      'backup.jobs:eu-west-1:copy',
      'backup.jobs:eu-west-1:restore',
    ]);
    expect(new Set(since.map((d) => d.toISOString()))).toEqual(
      new Set([new Date(NOW.getTime() - DEFAULT_LOOKBACK_MS).toISOString()]),
    );
  });

  it('recovers in the region of the history it read', async () => {
    const w = world();
    w.history('eu-west-1', failedJob({ resourceArn: TABLE.replace('us-east-1', 'eu-west-1') }));
    await w.recover(['us-east-1', 'eu-west-1']);
    expect(w.email.sent[0]!.subject).toMatch(/ · eu-west-1$/);
    expect(deliveredKeys(w)[0]).toMatch(
      new RegExp(`^${ACCOUNT}#eu-west-1#backup#${JOB_ID}#FAILED\\|`),
    );
  });

  it('asks the delivery ledger once per region and job type, for all candidates together', async () => {
    const w = world();
    w.history('us-east-1', failedJob(), failedJob({ jobId: 'second' }), completedJob());
    const delivered = jest.spyOn(w.ledger, 'delivered');
    expect(await w.recover()).toEqual({ jobsChecked: 3, recovered: 3 });
    expect(delivered).toHaveBeenCalledTimes(1);
    // Each job's channels, and whether it was taken into an incident.
    expect(delivered.mock.calls[0]![0]).toHaveLength(3 + 1 + (3 + 1) + (1 + 1));
  });

  it('does not send again a job that was folded into an incident (told through its summary)', async () => {
    const w = world();
    w.history('us-east-1', failedJob(), failedJob({ jobId: 'second' }));
    const folded = jobDedupKey(
      eventFromHistory(failedJob({ jobId: 'second' }), ACCOUNT, 'us-east-1')!,
    );
    await recordTakenIn(folded, 'incident i-1', { ledger: w.ledger, clock: w.clock });
    expect(await w.recover()).toEqual({ jobsChecked: 2, recovered: 1 });
  });

  it('names the job and region when a channel fails, so the retry is understood', async () => {
    const w = world();
    w.email.failures = 1;
    w.history('us-east-1', failedJob());
    await expect(w.recover()).rejects.toThrow(
      new RegExp(`^recovering job ${JOB_ID} in us-east-1: .*Maximum sending rate exceeded`),
    );
    // The channels that worked are not sent again on the retry.
    const before = w.sns.published.length;
    expect(await w.recover()).toEqual({ jobsChecked: 1, recovered: 1 });
    expect(w.sns.published).toHaveLength(before);
  });
});
