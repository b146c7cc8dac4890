import {
  BackupClient,
  DescribeRegionSettingsCommand,
  ListBackupJobsCommand,
  ListCopyJobsCommand,
  ListProtectedResourcesCommand,
  ListRestoreJobsCommand,
  type BackupJob,
} from '@aws-sdk/client-backup';
import { CloudTrailClient, LookupEventsCommand, type Event } from '@aws-sdk/client-cloudtrail';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { memberAccount } from '../../functions/shared/adapters/member-account';

/** The member-account reads the daily check adds: AWS Backup state, tags, CloudTrail. */

const backup = mockClient(BackupClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const cloudtrail = mockClient(CloudTrailClient);

const ACCOUNT = '222233334444';
const CREDENTIALS = { accessKeyId: 'ASIAMEMBER', secretAccessKey: 'secret', sessionToken: 'tok' };
const member = () => memberAccount(ACCOUNT, CREDENTIALS);
const SINCE = new Date('2025-03-12T01:05:00.000Z');
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`;
const VOLUME = `arn:aws:ec2:us-east-1:${ACCOUNT}:volume/vol-0abc`;
const RULE = 'backup-control-plane-forward-backup-events';

beforeEach(() => {
  backup.reset();
  tagging.reset();
  cloudtrail.reset();
});

describe('Backup.protectedResources', () => {
  it('lists every page, with type, name and last backup time when given', async () => {
    const last = new Date('2025-03-13T05:10:00.000Z');
    backup.on(ListProtectedResourcesCommand).callsFake((input: { NextToken?: string }) =>
      input.NextToken === 'p2'
        ? { Results: [{ ResourceArn: VOLUME }] }
        : {
            Results: [
              {
                ResourceArn: TABLE,
                ResourceType: 'DynamoDB',
                ResourceName: 'orders',
                LastBackupTime: last,
              },
              { ResourceType: 'EBS' },
            ],
            NextToken: 'p2',
          },
    );

    const found = await member().backup('us-east-1').protectedResources();

    expect(found).toEqual([
      { arn: TABLE, type: 'DynamoDB', name: 'orders', lastBackupTime: last },
      { arn: VOLUME },
    ]);
    expect(backup).toHaveReceivedCommandTimes(ListProtectedResourcesCommand, 2);
    expect(backup).toHaveReceivedNthCommandWith(2, ListProtectedResourcesCommand, {
      NextToken: 'p2',
    });
  });

  it('lets a denial through', async () => {
    backup
      .on(ListProtectedResourcesCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(member().backup('us-east-1').protectedResources()).rejects.toThrow(
      'not authorized',
    );
  });
});

describe('Backup.optInPreferences', () => {
  it("returns the region's opt-in per resource type", async () => {
    backup.on(DescribeRegionSettingsCommand).resolves({
      ResourceTypeOptInPreference: { DynamoDB: true, EBS: false, 'Storage Gateway': true },
    });
    expect(await member().backup('eu-west-1').optInPreferences()).toEqual({
      DynamoDB: true,
      EBS: false,
      'Storage Gateway': true,
    });
    expect(backup).toHaveReceivedCommandTimes(DescribeRegionSettingsCommand, 1);
  });

  it('is empty when the region says nothing', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves({});
    expect(await member().backup('eu-west-1').optInPreferences()).toEqual({});
  });

  it('asks the region it was built for', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves({});
    await member().backup('eu-west-1').optInPreferences();
    const client = backup.commandCalls(DescribeRegionSettingsCommand)[0]!.thisValue as BackupClient;
    await expect(client.config.region()).resolves.toBe('eu-west-1');
  });
});

describe('Backup.jobs', () => {
  const created = new Date('2025-03-13T05:00:00.000Z');
  const completed = new Date('2025-03-13T05:30:00.000Z');

  it('lists backup jobs created since the time, 1000 a page, mapping every field', async () => {
    backup.on(ListBackupJobsCommand).resolves({
      BackupJobs: [
        {
          BackupJobId: 'job-1',
          AccountId: ACCOUNT,
          State: 'FAILED',
          StatusMessage: 'Insufficient privileges',
          MessageCategory: 'ACCESS_DENIED',
          ResourceArn: TABLE,
          ResourceName: 'orders',
          ResourceType: 'DynamoDB',
          BackupVaultName: 'org-backup-vault',
          BackupVaultArn: 'arn:aws:backup:us-east-1:222233334444:backup-vault:org-backup-vault',
          RecoveryPointArn: 'arn:aws:backup:us-east-1:222233334444:recovery-point:rp-1',
          CreatedBy: {
            BackupPlanId: 'plan-1',
            BackupPlanArn: 'arn:plan-1',
            BackupRuleId: 'rule-1',
          },
          IamRoleArn: 'arn:aws:iam::222233334444:role/backup-control-plane-backup-service',
          BackupSizeInBytes: 2048,
          CreationDate: created,
          CompletionDate: completed,
        },
      ],
    });

    const jobs = await member().backup('us-east-1').jobs('backup', SINCE);

    expect(jobs).toStrictEqual([
      {
        jobType: 'backup',
        jobId: 'job-1',
        state: 'FAILED',
        accountId: ACCOUNT,
        statusMessage: 'Insufficient privileges',
        messageCategory: 'ACCESS_DENIED',
        resourceArn: TABLE,
        resourceName: 'orders',
        resourceType: 'DynamoDB',
        backupVaultName: 'org-backup-vault',
        backupVaultArn: 'arn:aws:backup:us-east-1:222233334444:backup-vault:org-backup-vault',
        recoveryPointArn: 'arn:aws:backup:us-east-1:222233334444:recovery-point:rp-1',
        backupPlanId: 'plan-1',
        backupPlanArn: 'arn:plan-1',
        backupRuleId: 'rule-1',
        iamRoleArn: 'arn:aws:iam::222233334444:role/backup-control-plane-backup-service',
        sizeBytes: 2048,
        creationDate: created,
        completionDate: completed,
      },
    ]);
    expect(backup).toHaveReceivedCommandWith(ListBackupJobsCommand, {
      ByCreatedAfter: SINCE,
      MaxResults: 1000,
    });
  });

  it('lists the jobs completed in the window too (created before it), each job once', async () => {
    backup
      .on(ListBackupJobsCommand, { ByCreatedAfter: SINCE })
      .resolves({ BackupJobs: [{ BackupJobId: 'job-1', State: 'FAILED' }] })
      .on(ListBackupJobsCommand, { ByCompleteAfter: SINCE })
      .resolves({
        BackupJobs: [
          { BackupJobId: 'job-1', State: 'FAILED' },
          { BackupJobId: 'long-running', State: 'FAILED' },
        ],
      });
    const jobs = await member().backup('us-east-1').jobs('backup', SINCE);
    expect(jobs.map((j) => j.jobId)).toEqual(['job-1', 'long-running']);
  });

  it('leaves out empty fields and jobs without an id or a state', async () => {
    backup.on(ListBackupJobsCommand).resolves({
      BackupJobs: [
        { BackupJobId: 'job-1', State: 'COMPLETED', StatusMessage: '', ResourceArn: TABLE },
        { State: 'FAILED' },
        { BackupJobId: 'job-3' },
      ],
    });
    expect(await member().backup('us-east-1').jobs('backup', SINCE)).toStrictEqual([
      { jobType: 'backup', jobId: 'job-1', state: 'COMPLETED', resourceArn: TABLE },
    ]);
  });

  it('follows the pages', async () => {
    backup
      .on(ListBackupJobsCommand)
      .callsFake((input: { NextToken?: string }) =>
        input.NextToken
          ? { BackupJobs: [{ BackupJobId: 'job-2', State: 'FAILED' }] }
          : { BackupJobs: [{ BackupJobId: 'job-1', State: 'FAILED' }], NextToken: 't2' },
      );
    const jobs = await member().backup('us-east-1').jobs('backup', SINCE);
    expect(jobs.map((j) => j.jobId)).toEqual(['job-1', 'job-2']);
    expect(backup).toHaveReceivedNthCommandWith(2, ListBackupJobsCommand, {
      ByCreatedAfter: SINCE,
      NextToken: 't2',
    });
  });

  it('stops at 5000 jobs', async () => {
    let n = 0;
    backup.on(ListBackupJobsCommand).callsFake(() => ({
      BackupJobs: Array.from({ length: 1000 }, (): BackupJob => ({
        BackupJobId: `job-${n++}`,
        State: 'COMPLETED',
      })),
      NextToken: `t${n}`,
    }));
    const jobs = await member().backup('us-east-1').jobs('backup', SINCE);
    expect(jobs).toHaveLength(5000);
    expect(backup).toHaveReceivedCommandTimes(ListBackupJobsCommand, 5);
  });

  it('lists copy jobs, with their source and destination vaults', async () => {
    backup.on(ListCopyJobsCommand).resolves({
      CopyJobs: [
        {
          CopyJobId: 'copy-1',
          AccountId: ACCOUNT,
          State: 'PARTIAL',
          StatusMessage: 'some items were not copied',
          ResourceArn: TABLE,
          ResourceType: 'DynamoDB',
          SourceBackupVaultArn: 'arn:src',
          DestinationBackupVaultArn: 'arn:dst',
          SourceRecoveryPointArn: 'arn:rp-src',
          CreatedBy: { BackupPlanId: 'plan-1' },
          CreationDate: created,
        },
      ],
    });
    expect(await member().backup('us-east-1').jobs('copy', SINCE)).toStrictEqual([
      {
        jobType: 'copy',
        jobId: 'copy-1',
        state: 'PARTIAL',
        accountId: ACCOUNT,
        statusMessage: 'some items were not copied',
        resourceArn: TABLE,
        resourceType: 'DynamoDB',
        sourceBackupVaultArn: 'arn:src',
        destinationBackupVaultArn: 'arn:dst',
        recoveryPointArn: 'arn:rp-src',
        backupPlanId: 'plan-1',
        creationDate: created,
      },
    ]);
    expect(backup).toHaveReceivedCommandWith(ListCopyJobsCommand, {
      ByCreatedAfter: SINCE,
      MaxResults: 1000,
    });
    expect(backup).toHaveReceivedCommandTimes(ListBackupJobsCommand, 0);
  });

  it('lists restore jobs, their Status as the state', async () => {
    backup.on(ListRestoreJobsCommand).resolves({
      RestoreJobs: [
        {
          RestoreJobId: 'restore-1',
          AccountId: ACCOUNT,
          Status: 'ABORTED',
          ResourceType: 'EBS',
          RecoveryPointArn: 'arn:rp',
          CreatedResourceArn: VOLUME,
          CreatedBy: { RestoreTestingPlanArn: 'arn:rtp' },
          CompletionDate: completed,
        },
        { RestoreJobId: 'restore-2' },
      ],
    });
    expect(await member().backup('us-east-1').jobs('restore', SINCE)).toStrictEqual([
      {
        jobType: 'restore',
        jobId: 'restore-1',
        state: 'ABORTED',
        accountId: ACCOUNT,
        resourceType: 'EBS',
        recoveryPointArn: 'arn:rp',
        createdResourceArn: VOLUME,
        restoreTestingPlanArn: 'arn:rtp',
        completionDate: completed,
      },
    ]);
    expect(backup).toHaveReceivedCommandWith(ListRestoreJobsCommand, { ByCreatedAfter: SINCE });
  });
});

describe('Tagging.taggedResources', () => {
  it('asks for the tag key with its values and follows the pages', async () => {
    tagging.on(GetResourcesCommand).callsFake((input: { PaginationToken?: string }) =>
      input.PaginationToken === 'p2'
        ? { ResourceTagMappingList: [{ ResourceARN: VOLUME }] }
        : {
            ResourceTagMappingList: [{ ResourceARN: TABLE }, { Tags: [] }],
            PaginationToken: 'p2',
          },
    );

    const found = await member().tagging('us-east-1').taggedResources('backup-plan', ['daily']);

    expect(found).toEqual([{ arn: TABLE }, { arn: VOLUME }]);
    expect(tagging).toHaveReceivedCommandTimes(GetResourcesCommand, 2);
    expect(tagging).toHaveReceivedNthCommandWith(1, GetResourcesCommand, {
      TagFilters: [{ Key: 'backup-plan', Values: ['daily'] }],
    });
    expect(tagging).toHaveReceivedNthCommandWith(2, GetResourcesCommand, {
      PaginationToken: 'p2',
    });
  });

  it('asks for any value of the key when no values are given', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    await member().tagging('us-east-1').taggedResources('backup-plan', []);
    const input = tagging.commandCalls(GetResourcesCommand)[0]!.args[0].input;
    expect(input.TagFilters).toEqual([{ Key: 'backup-plan' }]);
  });
});

describe('Trail.lastChange', () => {
  const at = (iso: string) => new Date(iso);
  const detail = (arn: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ userIdentity: { arn }, readOnly: false, ...extra });
  const MALLORY = `arn:aws:iam::${ACCOUNT}:user/mallory`;

  const lookup = (events: Event[]) => {
    cloudtrail.on(LookupEventsCommand).resolves({ Events: events });
    return member().trail('us-east-1').lastChange(RULE, SINCE);
  };

  it('asks CloudTrail for the events on the resource since the time', async () => {
    await lookup([]);
    expect(cloudtrail).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: RULE }],
      StartTime: SINCE,
      MaxResults: 50,
    });
  });

  it('returns the newest write, by whom and when', async () => {
    expect(
      await lookup([
        {
          EventName: 'DisableRule',
          ReadOnly: 'false',
          Username: 'mallory',
          EventTime: at('2025-03-12T22:10:00Z'),
          CloudTrailEvent: detail(MALLORY),
        },
        {
          EventName: 'PutRule',
          ReadOnly: 'false',
          EventTime: at('2025-03-12T20:00:00Z'),
          CloudTrailEvent: detail(`arn:aws:iam::${ACCOUNT}:user/bob`),
        },
      ]),
    ).toEqual({ identity: MALLORY, action: 'DisableRule', time: '2025-03-12T22:10:00.000Z' });
  });

  it('skips read-only events, marked on the event or in its detail', async () => {
    expect(
      await lookup([
        { EventName: 'DescribeRule', ReadOnly: 'true', CloudTrailEvent: detail('arn:reader') },
        {
          EventName: 'ListTargetsByRule',
          CloudTrailEvent: detail('arn:reader2', { readOnly: true }),
        },
        {
          EventName: 'DisableRule',
          ReadOnly: 'false',
          EventTime: at('2025-03-12T22:10:00Z'),
          CloudTrailEvent: detail(MALLORY),
        },
      ]),
    ).toMatchObject({ identity: MALLORY, action: 'DisableRule' });
  });

  it("skips the control plane's own calls (its repairs, its reads)", async () => {
    expect(
      await lookup([
        {
          EventName: 'PutRule',
          ReadOnly: 'false',
          EventTime: at('2025-03-13T03:06:00Z'),
          CloudTrailEvent: detail(
            `arn:aws:sts::${ACCOUNT}:assumed-role/OrganizationAccountAccessRole/backup-control-plane-onboarding`,
          ),
        },
        {
          EventName: 'PutTargets',
          ReadOnly: 'false',
          EventTime: at('2025-03-13T03:05:00Z'),
          CloudTrailEvent: detail(
            `arn:aws:sts::${ACCOUNT}:assumed-role/backup-control-plane-read-only/daily-check`,
          ),
        },
        {
          EventName: 'DisableRule',
          ReadOnly: 'false',
          EventTime: at('2025-03-12T22:10:00Z'),
          CloudTrailEvent: detail(MALLORY),
        },
      ]),
    ).toMatchObject({ identity: MALLORY, action: 'DisableRule' });
  });

  it('is undefined when only reads and its own calls are found', async () => {
    expect(
      await lookup([
        { EventName: 'DescribeRule', ReadOnly: 'true' },
        {
          EventName: 'PutRule',
          ReadOnly: 'false',
          CloudTrailEvent: detail(
            `arn:aws:sts::${ACCOUNT}:assumed-role/backup-control-plane-read-only/x`,
          ),
        },
      ]),
    ).toBeUndefined();
  });

  it('names a service by invokedBy, else the principal, else the user name', async () => {
    const event = (userIdentity: Record<string, unknown>): Event => ({
      EventName: 'DeleteBackupVault',
      ReadOnly: 'false',
      Username: 'fallback-user',
      EventTime: at('2025-03-12T22:10:00Z'),
      CloudTrailEvent: JSON.stringify({ userIdentity }),
    });
    expect(await lookup([event({ invokedBy: 'cloudformation.amazonaws.com' })])).toMatchObject({
      identity: 'cloudformation.amazonaws.com',
    });
    expect(await lookup([event({ principalId: 'AIDAEXAMPLE' })])).toMatchObject({
      identity: 'AIDAEXAMPLE',
    });
    expect(await lookup([event({})])).toMatchObject({ identity: 'fallback-user' });
  });

  it('reads an event whose detail is not JSON by its user and event names', async () => {
    expect(
      await lookup([
        {
          EventName: 'DisableRule',
          ReadOnly: 'false',
          Username: 'mallory',
          EventTime: at('2025-03-12T22:10:00Z'),
          CloudTrailEvent: '{not json',
        },
      ]),
    ).toEqual({ identity: 'mallory', action: 'DisableRule', time: '2025-03-12T22:10:00.000Z' });
    expect(await lookup([{ ReadOnly: 'false' }])).toEqual({
      identity: 'unknown',
      action: 'unknown',
      time: 'unknown',
    });
  });

  // The contract (ports.ts): "The newest write call on a resource since a time, by anyone but
  // the control plane". Reads by scanners and the check itself can fill the first page.
  it('finds a write past the first page of events', async () => {
    const reads: Event[] = Array.from({ length: 50 }, (_, i) => ({
      EventName: 'DescribeRule',
      ReadOnly: 'true',
      EventTime: new Date(Date.parse('2025-03-13T03:00:00Z') - i * 60_000),
    }));
    cloudtrail.on(LookupEventsCommand).callsFake((input: { NextToken?: string }) =>
      input.NextToken === 'page-2'
        ? {
            Events: [
              {
                EventName: 'DisableRule',
                ReadOnly: 'false',
                EventTime: at('2025-03-12T22:10:00Z'),
                CloudTrailEvent: detail(MALLORY),
              },
            ],
          }
        : { Events: reads, NextToken: 'page-2' },
    );
    expect(await member().trail('us-east-1').lastChange(RULE, SINCE)).toMatchObject({
      identity: MALLORY,
      action: 'DisableRule',
    });
  });
});
