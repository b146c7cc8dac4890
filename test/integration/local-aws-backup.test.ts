import {
  BackupClient,
  CreateBackupVaultCommand,
  DeleteBackupVaultAccessPolicyCommand,
  DescribeBackupJobCommand,
  DescribeCopyJobCommand,
  DescribeGlobalSettingsCommand,
  DescribeRegionSettingsCommand,
  GetBackupVaultAccessPolicyCommand,
  ListBackupJobsCommand,
  ListBackupJobSummariesCommand,
  ListBackupVaultsCommand,
  ListCopyJobsCommand,
  ListProtectedResourcesCommand,
  ListRecoveryPointsByBackupVaultCommand,
  ListRestoreJobsCommand,
  PutBackupVaultAccessPolicyCommand,
  UpdateGlobalSettingsCommand,
  UpdateRegionSettingsCommand,
  type BackupJobSummary,
  type ListBackupJobsCommandInput,
} from '@aws-sdk/client-backup';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DescribeEffectivePolicyCommand,
} from '@aws-sdk/client-organizations';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { localClientConfig, recordBackupJob } from '../../tools/sandbox/local-aws';
import { memberClients } from '../../tools/sandbox/provision';
import { receiveAll, type World } from '../../tools/sandbox/world';
import { freshWorld, localAws } from './harness';

/**
 * What moto_launcher.py adds to moto for the control plane's monitoring: AWS Backup job history
 * (recorded through the sandbox endpoint POST /_sandbox/backup/jobs), settings and vault access
 * policies, Organizations DescribeEffectivePolicy, CloudTrail LookupEvents, and the job events
 * on the account's default bus. Real SDK clients where the project has them, plain JSON-protocol
 * requests for CloudTrail and the tagging API.
 */

jest.setTimeout(90_000);

let world: World;
const endpoint = () => world.aws.endpoint;

beforeEach(async () => {
  world = await freshWorld();
});

const accountId = (name: string) => world.org.accounts.find((a) => a.name === name)!.id;
const HOUR = 3_600_000;
/** A date with the millisecond precision the APIs keep. */
const msAgo = (ms: number) => new Date(Math.floor((Date.now() - ms) / 1000) * 1000 + 123);

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

async function credentialsOf(account: string): Promise<Credentials> {
  if (account === world.org.managementAccountId) {
    return localClientConfig(endpoint()).credentials;
  }
  const out = await world.c.sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'local-aws-backup-test',
    }),
  );
  return {
    accessKeyId: out.Credentials!.AccessKeyId!,
    secretAccessKey: out.Credentials!.SecretAccessKey!,
    sessionToken: out.Credentials!.SessionToken,
  };
}

/** A vault access policy admitting the organization's copies (as onboarding puts on the central vault). */
const organizationCopies = (organizationId: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'backup:CopyIntoBackupVault',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
    },
  ],
});

/** Vault `central` in the account, admitting copies from the organization. */
async function centralVaultIn(account: string, region: string): Promise<BackupClient> {
  const backup = await backupIn(account, region);
  await backup.send(new CreateBackupVaultCommand({ BackupVaultName: 'central' }));
  await backup.send(
    new PutBackupVaultAccessPolicyCommand({
      BackupVaultName: 'central',
      Policy: JSON.stringify(organizationCopies(world.org.id)),
    }),
  );
  return backup;
}

async function backupIn(account: string, region = 'us-east-1'): Promise<BackupClient> {
  return new BackupClient({
    ...localClientConfig(endpoint(), region),
    credentials: await credentialsOf(account),
  });
}

async function sandbox<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${endpoint()}/_sandbox/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const recordJob = (body: Record<string, unknown>) =>
  recordBackupJob({ endpoint: endpoint() }, body);

/** A JSON-protocol call, as an SDK would sign it (moto reads the account from the key id). */
async function jsonProtocol(
  service: string,
  target: string,
  body: unknown,
  credentials: Credentials = localClientConfig('').credentials,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${endpoint()}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const tableArn = (account: string, name: string) =>
  `arn:aws:dynamodb:us-east-1:${account}:table/${name}`;
const createdBy = {
  backupPlanId: '6b37654c-0a0d-4e64-ae34-88bf1eeed18f',
  backupPlanArn:
    'arn:aws:backup:us-east-1:111122223333:backup-plan:6b37654c-0a0d-4e64-ae34-88bf1eeed18f',
  backupPlanVersion: 'ZTdjNDYyNmQtNjBkOC00Y2U0LWFmMDctZjVlNTA2MjM1MWE2',
  backupRuleId: '006185eb-5f7e-4af1-a5dd-ce65c3b754ef',
};

describe('AWS Backup job history', () => {
  it('lists a recorded job in its account with the model’s fields and dates, and filters it', async () => {
    const production = accountId('Production');
    const created = msAgo(HOUR);
    const completed = msAgo(HOUR / 2);
    const recorded = await recordJob({
      accountId: production,
      region: 'us-east-1',
      jobType: 'backup',
      state: 'COMPLETED',
      resourceArn: tableArn(production, 'orders'),
      backupVaultName: 'org-backup-vault',
      creationDate: created.toISOString(),
      completionDate: completed.getTime() / 1000,
      backupSizeInBytes: 2048,
      createdBy,
      emit: false,
    });
    expect(recorded.jobId).toMatch(/^[0-9A-F-]{36}$/);

    const backup = await backupIn(production);
    const { BackupJobs } = await backup.send(new ListBackupJobsCommand({}));
    expect(BackupJobs).toHaveLength(1);
    const job = BackupJobs![0]!;
    expect(job).toMatchObject({
      AccountId: production,
      BackupJobId: recorded.jobId,
      BackupVaultName: 'org-backup-vault',
      BackupVaultArn: `arn:aws:backup:us-east-1:${production}:backup-vault:org-backup-vault`,
      ResourceArn: tableArn(production, 'orders'),
      ResourceType: 'DynamoDB',
      ResourceName: 'orders',
      State: 'COMPLETED',
      MessageCategory: 'SUCCESS',
      PercentDone: '100.0',
      BackupSizeInBytes: 2048,
      IamRoleArn: `arn:aws:iam::${production}:role/service-role/AWSBackupDefaultServiceRole`,
      CreatedBy: {
        BackupPlanId: createdBy.backupPlanId,
        BackupPlanArn: createdBy.backupPlanArn,
        BackupPlanVersion: createdBy.backupPlanVersion,
        BackupRuleId: createdBy.backupRuleId,
      },
    });
    expect(job.RecoveryPointArn).toMatch(
      new RegExp(`^arn:aws:backup:us-east-1:${production}:recovery-point:`),
    );
    expect(job.CreationDate).toEqual(created);
    expect(job.CompletionDate).toEqual(completed);
    expect(job.StartBy).toEqual(new Date(created.getTime() + 8 * HOUR));

    const described = await backup.send(
      new DescribeBackupJobCommand({ BackupJobId: recorded.jobId }),
    );
    expect(described).toMatchObject({ BackupJobId: recorded.jobId, CreationDate: created });
    await expect(
      backup.send(new DescribeBackupJobCommand({ BackupJobId: 'NO-SUCH-JOB' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    const count = async (input: ListBackupJobsCommandInput) =>
      (await backup.send(new ListBackupJobsCommand(input))).BackupJobs!.length;
    expect(await count({ ByState: 'COMPLETED' })).toBe(1);
    expect(await count({ ByState: 'FAILED' })).toBe(0);
    expect(await count({ ByCreatedAfter: msAgo(2 * HOUR) })).toBe(1);
    expect(await count({ ByCreatedAfter: msAgo(HOUR / 4) })).toBe(0);
    expect(await count({ ByCompleteBefore: msAgo(HOUR / 4) })).toBe(1);
    expect(await count({ ByResourceType: 'EBS' })).toBe(0);
    expect(await count({ ByBackupVaultName: 'org-backup-vault' })).toBe(1);
    await expect(
      backup.send(new ListBackupJobsCommand({ ByState: 'DONE' as never })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it('ByAccountId=* lists every account’s jobs for the management account only', async () => {
    const production = accountId('Production');
    const staging = accountId('Staging');
    await recordJob({ accountId: production, resourceArn: tableArn(production, 'a'), emit: false });
    await recordJob({ accountId: staging, resourceArn: tableArn(staging, 'b'), emit: false });
    await recordJob({
      accountId: staging,
      region: 'eu-west-1',
      resourceArn: 'arn:aws:dynamodb:eu-west-1:1:table/c',
      emit: false,
    });

    const management = await backupIn(world.org.managementAccountId);
    const accounts = async (client: BackupClient, ByAccountId?: string) =>
      (await client.send(new ListBackupJobsCommand({ ByAccountId })))
        .BackupJobs!.map((j) => j.AccountId)
        .sort();
    expect(await accounts(management)).toEqual([]);
    expect(await accounts(management, '*')).toEqual([production, staging].sort());
    expect(await accounts(management, staging)).toEqual([staging]);
    // A member sees its own jobs, whatever it asks for.
    const member = await backupIn(production);
    expect(await accounts(member, '*')).toEqual([production]);
    expect(await accounts(member, staging)).toEqual([]);

    // MaxResults / NextToken over the organization's jobs.
    const first = await management.send(
      new ListBackupJobsCommand({ ByAccountId: '*', MaxResults: 1 }),
    );
    expect(first.BackupJobs).toHaveLength(1);
    expect(first.NextToken).toBeDefined();
    const second = await management.send(
      new ListBackupJobsCommand({ ByAccountId: '*', MaxResults: 1, NextToken: first.NextToken }),
    );
    expect(second.BackupJobs).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    expect(second.BackupJobs![0]!.BackupJobId).not.toBe(first.BackupJobs![0]!.BackupJobId);
  });

  it('a COMPLETED job makes the resource protected and leaves a recovery point in its vault', async () => {
    const production = accountId('Production');
    const backup = await backupIn(production);
    await backup.send(new CreateBackupVaultCommand({ BackupVaultName: 'org-backup-vault' }));
    await recordJob({
      accountId: production,
      state: 'FAILED',
      resourceArn: tableArn(production, 'failing'),
      backupVaultName: 'org-backup-vault',
      emit: false,
    });
    expect((await backup.send(new ListProtectedResourcesCommand({}))).Results).toEqual([]);

    const completed = msAgo(HOUR);
    const done = await recordJob({
      accountId: production,
      state: 'COMPLETED',
      resourceArn: tableArn(production, 'orders'),
      backupVaultName: 'org-backup-vault',
      creationDate: msAgo(2 * HOUR).toISOString(),
      completionDate: completed.toISOString(),
      emit: false,
    });
    const { Results } = await backup.send(new ListProtectedResourcesCommand({}));
    expect(Results).toEqual([
      {
        ResourceArn: tableArn(production, 'orders'),
        ResourceType: 'DynamoDB',
        ResourceName: 'orders',
        LastBackupTime: completed,
        LastBackupVaultArn: `arn:aws:backup:us-east-1:${production}:backup-vault:org-backup-vault`,
        LastRecoveryPointArn: done.job.RecoveryPointArn,
      },
    ]);
    const { RecoveryPoints } = await backup.send(
      new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: 'org-backup-vault' }),
    );
    expect(RecoveryPoints).toEqual([
      expect.objectContaining({
        RecoveryPointArn: done.job.RecoveryPointArn,
        BackupVaultName: 'org-backup-vault',
        ResourceArn: tableArn(production, 'orders'),
        ResourceType: 'DynamoDB',
        Status: 'COMPLETED',
        CompletionDate: completed,
      }),
    ]);
    const vaults = (await backup.send(new ListBackupVaultsCommand({}))).BackupVaultList!;
    expect(vaults[0]!.NumberOfRecoveryPoints).toBe(1);
    await expect(
      backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: 'missing' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('copy and restore jobs are listed with their own fields (Status for restores)', async () => {
    const production = accountId('Production');
    const analytics = accountId('Analytics');
    const central = `arn:aws:backup:eu-west-1:${analytics}:backup-vault:central`;
    const analyticsBackup = await centralVaultIn(analytics, 'eu-west-1');
    const copy = await recordJob({
      accountId: production,
      jobType: 'copy',
      resourceArn: `arn:aws:ec2:us-east-1:${production}:volume/vol-0123456789abcdef0`,
      backupVaultName: 'org-backup-vault',
      destinationBackupVaultArn: central,
      emit: false,
    });
    const restore = await recordJob({
      accountId: production,
      jobType: 'restore',
      status: 'FAILED',
      statusMessage: 'subnet does not exist',
      resourceArn: `arn:aws:ec2:us-east-1:${production}:volume/vol-0123456789abcdef0`,
      emit: false,
    });
    const backup = await backupIn(production);
    const { CopyJob } = await backup.send(new DescribeCopyJobCommand({ CopyJobId: copy.jobId }));
    expect(CopyJob).toMatchObject({
      CopyJobId: copy.jobId,
      State: 'COMPLETED',
      ResourceType: 'EBS',
      SourceBackupVaultArn: `arn:aws:backup:us-east-1:${production}:backup-vault:org-backup-vault`,
      DestinationBackupVaultArn: central,
    });
    expect(CopyJob!.SourceRecoveryPointArn).toMatch(/^arn:aws:ec2:us-east-1::snapshot\/snap-/);
    expect(CopyJob!.DestinationRecoveryPointArn).toMatch(/^arn:aws:ec2:eu-west-1::snapshot\/snap-/);
    expect(
      (await backup.send(new ListCopyJobsCommand({ ByDestinationVaultArn: central }))).CopyJobs,
    ).toHaveLength(1);
    const { RestoreJobs } = await backup.send(new ListRestoreJobsCommand({ ByStatus: 'FAILED' }));
    expect(RestoreJobs).toEqual([
      expect.objectContaining({
        RestoreJobId: restore.jobId,
        Status: 'FAILED',
        StatusMessage: 'subnet does not exist',
      }),
    ]);
    // The copy's recovery point is in the destination vault's account and region.
    const points = await analyticsBackup.send(
      new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: 'central' }),
    );
    expect(points.RecoveryPoints!.map((p) => p.RecoveryPointArn)).toEqual([
      CopyJob!.DestinationRecoveryPointArn,
    ]);
  });

  it('a copy into another account’s vault that does not admit it fails, as AWS Backup’s does', async () => {
    const production = accountId('Production');
    const analytics = accountId('Analytics');
    const copyInto = (vault: string) =>
      recordJob({
        accountId: production,
        jobType: 'copy',
        resourceArn: tableArn(production, 'orders'),
        destinationBackupVaultArn: `arn:aws:backup:eu-west-1:${analytics}:backup-vault:${vault}`,
        emit: false,
      });
    // No such vault.
    expect((await copyInto('central')).job).toMatchObject({
      State: 'FAILED',
      StatusMessage: expect.stringContaining('does not exist'),
    });
    // A vault without an access policy, then one admitting another organization only.
    const backup = await backupIn(analytics, 'eu-west-1');
    await backup.send(new CreateBackupVaultCommand({ BackupVaultName: 'central' }));
    const denied = await copyInto('central');
    expect(denied.job).toMatchObject({
      State: 'FAILED',
      StatusMessage: 'Access Denied trying to call AWS Backup service',
    });
    expect(denied.job.DestinationRecoveryPointArn).toBeUndefined();
    await backup.send(
      new PutBackupVaultAccessPolicyCommand({
        BackupVaultName: 'central',
        Policy: JSON.stringify(organizationCopies('o-someoneelse')),
      }),
    );
    expect((await copyInto('central')).job.State).toBe('FAILED');
    await backup.send(
      new PutBackupVaultAccessPolicyCommand({
        BackupVaultName: 'central',
        Policy: JSON.stringify(organizationCopies(world.org.id)),
      }),
    );
    expect((await copyInto('central')).job.State).toBe('COMPLETED');
    const points = await backup.send(
      new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: 'central' }),
    );
    expect(points.RecoveryPoints).toHaveLength(1);
  });

  it('ListBackupJobSummaries counts per account (ANY) and for the organization (AGGREGATE_ALL)', async () => {
    const production = accountId('Production');
    const staging = accountId('Staging');
    for (const name of ['a', 'b']) {
      await recordJob({
        accountId: production,
        resourceArn: tableArn(production, name),
        emit: false,
      });
    }
    await recordJob({
      accountId: production,
      state: 'FAILED',
      resourceArn: `arn:aws:ec2:us-east-1:${production}:volume/vol-1`,
      messageCategory: 'AccessDenied',
      statusMessage: 'Insufficient privileges to perform this action.',
      emit: false,
    });
    await recordJob({ accountId: staging, resourceArn: tableArn(staging, 'c'), emit: false });

    const management = await backupIn(world.org.managementAccountId);
    const rows = (s: BackupJobSummary[] | undefined) =>
      (s ?? [])
        .map((r) => [r.AccountId, r.State, r.ResourceType, r.MessageCategory, r.Count])
        .sort();

    const any = await management.send(new ListBackupJobSummariesCommand({ AccountId: 'ANY' }));
    expect(any.AggregationPeriod).toBe('ONE_DAY');
    expect(rows(any.BackupJobSummaries)).toEqual(
      [
        [production, 'COMPLETED', 'DynamoDB', 'SUCCESS', 2],
        [production, 'FAILED', 'EBS', 'AccessDenied', 1],
        [staging, 'COMPLETED', 'DynamoDB', 'SUCCESS', 1],
      ].sort(),
    );
    const row = any.BackupJobSummaries![0]!;
    expect(row.Region).toBe('us-east-1');
    expect(row.StartTime!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(row.EndTime!.getTime() - row.StartTime!.getTime()).toBe(24 * HOUR);

    const all = await management.send(
      new ListBackupJobSummariesCommand({
        AccountId: 'AGGREGATE_ALL',
        State: 'AGGREGATE_ALL',
        ResourceType: 'AGGREGATE_ALL',
        MessageCategory: 'AGGREGATE_ALL',
        AggregationPeriod: 'SEVEN_DAYS',
      }),
    );
    expect(rows(all.BackupJobSummaries)).toEqual([
      ['AGGREGATE_ALL', 'AGGREGATE_ALL', 'AGGREGATE_ALL', 'AGGREGATE_ALL', 4],
    ]);
    expect(all.AggregationPeriod).toBe('SEVEN_DAYS');

    const completedByType = await management.send(
      new ListBackupJobSummariesCommand({
        AccountId: 'AGGREGATE_ALL',
        State: 'COMPLETED',
        MessageCategory: 'AGGREGATE_ALL',
        AggregationPeriod: 'FOURTEEN_DAYS',
      }),
    );
    expect(rows(completedByType.BackupJobSummaries)).toEqual([
      ['AGGREGATE_ALL', 'COMPLETED', 'DynamoDB', 'AGGREGATE_ALL', 3],
    ]);
    // A member account only ever counts its own jobs.
    const member = await backupIn(staging);
    const own = await member.send(new ListBackupJobSummariesCommand({ AccountId: 'ANY' }));
    expect(rows(own.BackupJobSummaries)).toEqual([
      [staging, 'COMPLETED', 'DynamoDB', 'SUCCESS', 1],
    ]);
  });
});

describe('AWS Backup settings and vault access policies', () => {
  it('DescribeRegionSettings / UpdateRegionSettings round trip, per region', async () => {
    const backup = await backupIn(accountId('Production'));
    const before = await backup.send(new DescribeRegionSettingsCommand({}));
    expect(before.ResourceTypeOptInPreference).toMatchObject({
      DynamoDB: true,
      EBS: true,
      RDS: true,
      S3: false,
    });
    expect(before.ResourceTypeManagementPreference).toEqual({ DynamoDB: true, EFS: true });
    await backup.send(
      new UpdateRegionSettingsCommand({
        ResourceTypeOptInPreference: { S3: true, EBS: false },
        ResourceTypeManagementPreference: { DynamoDB: false },
      }),
    );
    const after = await backup.send(new DescribeRegionSettingsCommand({}));
    expect(after.ResourceTypeOptInPreference).toMatchObject({ S3: true, EBS: false, RDS: true });
    expect(after.ResourceTypeManagementPreference).toEqual({ DynamoDB: false, EFS: true });
    const otherRegion = await backupIn(accountId('Production'), 'eu-west-1');
    expect(
      (await otherRegion.send(new DescribeRegionSettingsCommand({}))).ResourceTypeOptInPreference!
        .S3,
    ).toBe(false);
    await expect(
      backup.send(new UpdateRegionSettingsCommand({ ResourceTypeOptInPreference: { Tape: true } })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it('DescribeGlobalSettings / UpdateGlobalSettings round trip from the management account', async () => {
    const management = await backupIn(world.org.managementAccountId);
    const before = await management.send(new DescribeGlobalSettingsCommand({}));
    expect(before.GlobalSettings).toMatchObject({ isCrossAccountBackupEnabled: 'false' });
    expect(before.LastUpdateTime).toBeUndefined();
    await management.send(
      new UpdateGlobalSettingsCommand({ GlobalSettings: { isCrossAccountBackupEnabled: 'true' } }),
    );
    const after = await management.send(new DescribeGlobalSettingsCommand({}));
    expect(after.GlobalSettings!.isCrossAccountBackupEnabled).toBe('true');
    expect(Math.abs(after.LastUpdateTime!.getTime() - Date.now())).toBeLessThan(60_000);
    const member = await backupIn(accountId('Staging'));
    await expect(
      member.send(
        new UpdateGlobalSettingsCommand({
          GlobalSettings: { isCrossAccountBackupEnabled: 'true' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRequestException' });
  });

  it('a vault access policy can be put, read and deleted; unknown vaults are not found', async () => {
    const backup = await backupIn(accountId('Production'));
    await backup.send(new CreateBackupVaultCommand({ BackupVaultName: 'org-backup-vault' }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'backup:DeleteRecoveryPoint',
          Resource: '*',
        },
      ],
    });
    await expect(
      backup.send(new GetBackupVaultAccessPolicyCommand({ BackupVaultName: 'org-backup-vault' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await backup.send(
      new PutBackupVaultAccessPolicyCommand({
        BackupVaultName: 'org-backup-vault',
        Policy: policy,
      }),
    );
    expect(
      await backup.send(
        new GetBackupVaultAccessPolicyCommand({ BackupVaultName: 'org-backup-vault' }),
      ),
    ).toMatchObject({
      BackupVaultName: 'org-backup-vault',
      BackupVaultArn: `arn:aws:backup:us-east-1:${accountId('Production')}:backup-vault:org-backup-vault`,
      Policy: policy,
    });
    await backup.send(
      new DeleteBackupVaultAccessPolicyCommand({ BackupVaultName: 'org-backup-vault' }),
    );
    await expect(
      backup.send(new GetBackupVaultAccessPolicyCommand({ BackupVaultName: 'org-backup-vault' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      backup.send(
        new PutBackupVaultAccessPolicyCommand({ BackupVaultName: 'nope', Policy: policy }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('Organizations DescribeEffectivePolicy', () => {
  it('merges the root’s and the account’s BACKUP_POLICY into plain values', async () => {
    const production = accountId('Production');
    const create = async (name: string, content: unknown) =>
      (
        await world.c.organizations.send(
          new CreatePolicyCommand({
            Name: name,
            Type: 'BACKUP_POLICY',
            Description: name,
            Content: JSON.stringify(content),
          }),
        )
      ).Policy!.PolicySummary!.Id!;
    const rootPolicy = await create('org-daily', {
      plans: {
        'Org-Daily': {
          regions: { '@@assign': ['us-east-1'] },
          rules: {
            daily: {
              schedule_expression: { '@@assign': 'cron(0 5 ? * * *)' },
              target_backup_vault_name: { '@@assign': 'org-backup-vault' },
            },
          },
          selections: {
            tags: {
              daily: {
                iam_role_arn: { '@@assign': 'arn:aws:iam::$account:role/OrgBackupServiceRole' },
                tag_key: { '@@assign': 'backup' },
                tag_value: { '@@assign': ['daily'] },
              },
            },
          },
        },
      },
    });
    const accountPolicy = await create('production-extra', {
      plans: {
        'org-daily': {
          '@@operators_allowed_for_child_policies': ['@@none'],
          regions: { '@@append': ['eu-west-1'] },
          rules: { Daily: { schedule_expression: { '@@assign': 'cron(0 3 ? * * *)' } } },
          selections: { tags: { daily: { tag_value: { '@@append': ['critical'] } } } },
        },
      },
    });

    const describe = () =>
      world.c.organizations.send(
        new DescribeEffectivePolicyCommand({ PolicyType: 'BACKUP_POLICY', TargetId: production }),
      );
    await expect(describe()).rejects.toMatchObject({ name: 'EffectivePolicyNotFoundException' });

    await world.c.organizations.send(
      new AttachPolicyCommand({ PolicyId: rootPolicy, TargetId: world.org.rootId }),
    );
    await world.c.organizations.send(
      new AttachPolicyCommand({ PolicyId: accountPolicy, TargetId: production }),
    );
    const { EffectivePolicy } = await describe();
    expect(EffectivePolicy).toMatchObject({ PolicyType: 'BACKUP_POLICY', TargetId: production });
    expect(EffectivePolicy!.LastUpdatedTimestamp).toBeInstanceOf(Date);
    expect(JSON.parse(EffectivePolicy!.PolicyContent!)).toEqual({
      plans: {
        'Org-Daily': {
          regions: ['us-east-1', 'eu-west-1'],
          rules: {
            daily: {
              schedule_expression: 'cron(0 3 ? * * *)',
              target_backup_vault_name: 'org-backup-vault',
            },
          },
          selections: {
            tags: {
              daily: {
                iam_role_arn: 'arn:aws:iam::$account:role/OrgBackupServiceRole',
                tag_key: 'backup',
                tag_value: ['daily', 'critical'],
              },
            },
          },
        },
      },
    });
    // Another account only inherits the root's.
    const staging = await world.c.organizations.send(
      new DescribeEffectivePolicyCommand({
        PolicyType: 'BACKUP_POLICY',
        TargetId: accountId('Staging'),
      }),
    );
    expect(JSON.parse(staging.EffectivePolicy!.PolicyContent!).plans['Org-Daily'].regions).toEqual([
      'us-east-1',
    ]);
  });
});

interface ReceivedEvent {
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown>;
  [field: string]: unknown;
}

describe('events of recorded jobs', () => {
  async function queueOnDefaultBus(account: string) {
    const member = await memberClients(world.c, endpoint(), account, 'us-east-1');
    const { QueueUrl } = await member.sqs.send(
      new CreateQueueCommand({ QueueName: 'backup-events' }),
    );
    const { Attributes } = await member.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await member.eventbridge.send(
      new PutRuleCommand({
        Name: 'all-backup-events',
        EventPattern: JSON.stringify({ source: ['aws.backup'] }),
        State: 'ENABLED',
      }),
    );
    await member.eventbridge.send(
      new PutTargetsCommand({
        Rule: 'all-backup-events',
        Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn }],
      }),
    );
    return async () =>
      (await receiveAll(member, QueueUrl!)).map((m) => JSON.parse(m.Body!) as ReceivedEvent);
  }

  it('an emitted job event reaches a rule on the account’s default bus with the documented detail', async () => {
    const production = accountId('Production');
    const received = await queueOnDefaultBus(production);
    const created = new Date('2025-03-10T05:00:12.418Z');
    const completed = new Date('2025-03-10T05:38:02.913Z');
    const recorded = await recordJob({
      accountId: production,
      region: 'us-east-1',
      state: 'COMPLETED',
      resourceArn: tableArn(production, 'orders'),
      backupVaultName: 'org-backup-vault',
      creationDate: created.toISOString(),
      completionDate: completed.getTime() / 1000,
      backupSizeInBytes: 107374182400,
      createdBy,
    });
    expect(recorded.eventId).toEqual(expect.any(String));
    const events = await received();
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      version: '0',
      id: recorded.eventId,
      'detail-type': 'Backup Job State Change',
      source: 'aws.backup',
      account: production,
      time: '2025-03-10T05:38:02Z',
      region: 'us-east-1',
      resources: [recorded.job.RecoveryPointArn],
      detail: {
        backupJobId: recorded.jobId,
        backupVaultArn: `arn:aws:backup:us-east-1:${production}:backup-vault:org-backup-vault`,
        backupVaultName: 'org-backup-vault',
        bytesTransferred: '0',
        creationDate: '2025-03-10T05:00:12.418Z',
        iamRoleArn: `arn:aws:iam::${production}:role/service-role/AWSBackupDefaultServiceRole`,
        resourceArn: tableArn(production, 'orders'),
        resourceType: 'DynamoDB',
        backupSizeInBytes: '107374182400',
        state: 'COMPLETED',
        completionDate: '2025-03-10T05:38:02.913Z',
        startBy: '2025-03-10T13:00:12.418Z',
        percentDone: 100,
        createdBy: {
          backupPlanId: createdBy.backupPlanId,
          backupPlanArn: createdBy.backupPlanArn,
          backupPlanVersion: createdBy.backupPlanVersion,
          backupPlanRuleId: createdBy.backupRuleId,
        },
      },
    });

    // The same job id updates the job: RUNNING -> FAILED, one event per transition.
    const running = await recordJob({
      accountId: production,
      state: 'RUNNING',
      resourceArn: tableArn(production, 'customers'),
    });
    await recordJob({
      accountId: production,
      jobId: running.jobId,
      state: 'FAILED',
      statusMessage: 'Insufficient privileges to perform this action.',
    });
    const transitions = await received();
    expect(transitions.map((e) => [e.detail.backupJobId, e.detail.state])).toEqual([
      [running.jobId, 'RUNNING'],
      [running.jobId, 'FAILED'],
    ]);
    expect(transitions[1]!.detail.statusMessage).toBe(
      'Insufficient privileges to perform this action.',
    );
    expect(transitions[1]!.resources).toEqual([]);
    const backup = await backupIn(production);
    expect(
      (await backup.send(new DescribeBackupJobCommand({ BackupJobId: running.jobId }))).State,
    ).toBe('FAILED');
  });

  it('copy and restore events carry their own detail; emit:false stores the job without an event', async () => {
    const production = accountId('Production');
    const received = await queueOnDefaultBus(production);
    const dropped = await recordJob({
      accountId: production,
      state: 'FAILED',
      resourceArn: tableArn(production, 'orders'),
      emit: false,
    });
    expect(dropped.eventId).toBeNull();
    expect(await received()).toEqual([]);
    const backup = await backupIn(production);
    expect(
      (await backup.send(new ListBackupJobsCommand({}))).BackupJobs!.map((j) => j.BackupJobId),
    ).toEqual([dropped.jobId]);

    await centralVaultIn(accountId('Analytics'), 'eu-west-1');
    const copy = await recordJob({
      accountId: production,
      jobType: 'copy',
      resourceArn: tableArn(production, 'orders'),
      backupVaultName: 'org-backup-vault',
      destinationBackupVaultArn: `arn:aws:backup:eu-west-1:${accountId('Analytics')}:backup-vault:central`,
      backupSizeInBytes: 10,
    });
    const restore = await recordJob({
      accountId: production,
      jobType: 'restore',
      status: 'COMPLETED',
      resourceArn: tableArn(production, 'orders'),
      backupVaultName: 'org-backup-vault',
      backupSizeInBytes: 10,
    });
    const [copyEvent, restoreEvent] = await received();
    expect(copyEvent).toMatchObject({
      'detail-type': 'Copy Job State Change',
      resources: [copy.job.SourceRecoveryPointArn],
      detail: {
        copyJobId: copy.jobId,
        state: 'COMPLETED',
        backupSizeInBytes: 10,
        sourceRecoveryPointArn: copy.job.SourceRecoveryPointArn,
        destinationRecoveryPointArn: copy.job.DestinationRecoveryPointArn,
      },
    });
    expect(restoreEvent).toMatchObject({
      'detail-type': 'Restore Job State Change',
      resources: [restore.job.RecoveryPointArn],
      detail: {
        restoreJobId: restore.jobId,
        status: 'COMPLETED',
        backupSizeInBytes: '10',
        createdResourceArn: restore.job.CreatedResourceArn,
        percentDone: 100,
      },
    });
    expect(restoreEvent!.detail.state).toBeUndefined();
  });
});

describe('CloudTrail LookupEvents and the tagging API', () => {
  const LOOKUP = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents';

  it('looks up recorded events, newest first, by one attribute, time range and page', async () => {
    const management = world.org.managementAccountId;
    for (const [i, name] of ['CreateAccount', 'MoveAccount', 'CreateAccount'].entries()) {
      await sandbox('cloudtrail/events', {
        accountId: management,
        region: 'us-east-1',
        eventName: name,
        eventSource: 'organizations.amazonaws.com',
        username: 'admin',
        eventTime: 1_700_000_000 + i * 60,
        resources: [{ ResourceType: 'AWS::Organizations::Account', ResourceName: `acct-${i}` }],
        cloudTrailEvent: { eventName: name, n: i },
      });
    }
    const lookup = (body: unknown) => jsonProtocol('cloudtrail', LOOKUP, body);

    const byName = await lookup({
      LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateAccount' }],
    });
    expect(byName.status).toBe(200);
    const events = byName.body.Events as Record<string, unknown>[];
    expect(events.map((e) => [e.EventTime, JSON.parse(e.CloudTrailEvent as string).n])).toEqual([
      [1_700_000_120, 2],
      [1_700_000_000, 0],
    ]);
    expect(events[0]).toMatchObject({
      EventName: 'CreateAccount',
      EventSource: 'organizations.amazonaws.com',
      Username: 'admin',
      ReadOnly: 'false',
      Resources: [{ ResourceType: 'AWS::Organizations::Account', ResourceName: 'acct-2' }],
    });
    const byResource = await lookup({
      LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: 'acct-1' }],
    });
    expect((byResource.body.Events as unknown[]).length).toBe(1);
    const inRange = await lookup({ StartTime: 1_700_000_030, EndTime: 1_700_000_060 });
    expect((inRange.body.Events as { EventName: string }[]).map((e) => e.EventName)).toEqual([
      'MoveAccount',
    ]);
    const page1 = await lookup({ MaxResults: 2 });
    expect((page1.body.Events as unknown[]).length).toBe(2);
    const page2 = await lookup({ MaxResults: 2, NextToken: page1.body.NextToken });
    expect((page2.body.Events as unknown[]).length).toBe(1);
    expect(page2.body.NextToken).toBeUndefined();

    const twoAttributes = await lookup({
      LookupAttributes: [
        { AttributeKey: 'EventName', AttributeValue: 'CreateAccount' },
        { AttributeKey: 'Username', AttributeValue: 'admin' },
      ],
    });
    expect(twoAttributes.status).toBe(400);
    expect(twoAttributes.body.__type).toMatch(/InvalidLookupAttributesException$/);
    // Another account's trail has none of these.
    const other = await jsonProtocol(
      'cloudtrail',
      LOOKUP,
      {},
      await credentialsOf(accountId('Staging')),
    );
    expect(other.body.Events).toEqual([]);
  });

  it('GetResources finds tagged resources of a member account', async () => {
    const production = accountId('Production');
    const member = await memberClients(world.c, endpoint(), production, 'us-east-1');
    await member.dynamodb.send(
      new CreateTableCommand({
        TableName: 'orders',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        Tags: [{ Key: 'backup', Value: 'daily' }],
      }),
    );
    const { body } = await jsonProtocol(
      'tagging',
      'ResourceGroupsTaggingAPI_20170126.GetResources',
      {
        TagFilters: [{ Key: 'backup', Values: ['daily'] }],
        ResourceTypeFilters: ['dynamodb:table'],
      },
      await credentialsOf(production),
    );
    expect(
      (body.ResourceTagMappingList as { ResourceARN: string }[]).map((r) => r.ResourceARN),
    ).toEqual([tableArn(production, 'orders')]);
  });
});

describe('reset', () => {
  it('POST /moto-api/reset empties the job and CloudTrail stores', async () => {
    const production = accountId('Production');
    await recordJob({ accountId: production, resourceArn: tableArn(production, 'a'), emit: false });
    await sandbox('cloudtrail/events', { eventName: 'CreateAccount', eventSource: 'x' });
    expect((await sandbox<{ jobs: unknown[] }>('backup/jobs')).jobs).toHaveLength(1);

    await localAws().reset();
    expect((await sandbox<{ jobs: unknown[] }>('backup/jobs')).jobs).toEqual([]);
    expect((await sandbox<{ events: unknown[] }>('cloudtrail/events')).events).toEqual([]);
    const backup = await backupIn(world.org.managementAccountId);
    expect(
      (await backup.send(new ListBackupJobsCommand({ ByAccountId: production }))).BackupJobs,
    ).toEqual([]);
  });
});
