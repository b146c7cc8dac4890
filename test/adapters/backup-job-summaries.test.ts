import {
  BackupClient,
  ListBackupJobSummariesCommand,
  type BackupJobSummary,
} from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { BackupJobSummaries } from '../../functions/shared/adapters/backup-job-summaries';

const backup = mockClient(BackupClient);

const START = new Date('2025-03-12T00:00:00.000Z');
const END = new Date('2025-03-12T23:59:59.999Z');

const summary = (over: Partial<BackupJobSummary> = {}): BackupJobSummary => ({
  Region: 'us-east-1',
  AccountId: '200000000001',
  State: 'FAILED',
  ResourceType: 'DynamoDB',
  MessageCategory: 'AccessDenied',
  Count: 2,
  StartTime: START,
  EndTime: END,
  ...over,
});

const make = () => jest.fn((region: string) => new BackupClient({ region }));

beforeEach(() => backup.reset());

describe('BackupJobSummaries.daily', () => {
  it("asks for every account's daily counts by state and category", async () => {
    backup.on(ListBackupJobSummariesCommand).resolves({ BackupJobSummaries: [summary()] });
    const rows = await new BackupJobSummaries(make()).daily('us-east-1');
    expect(backup).toHaveReceivedCommandTimes(ListBackupJobSummariesCommand, 1);
    expect(backup).toHaveReceivedCommandWith(ListBackupJobSummariesCommand, {
      AccountId: 'ANY',
      State: 'ANY',
      MessageCategory: 'ANY',
      AggregationPeriod: 'ONE_DAY',
    });
    expect(rows).toEqual([
      {
        region: 'us-east-1',
        accountId: '200000000001',
        state: 'FAILED',
        resourceType: 'DynamoDB',
        messageCategory: 'AccessDenied',
        count: 2,
        start: START,
        end: END,
      },
    ]);
  });

  it('follows NextToken through every page', async () => {
    const pages = [
      { BackupJobSummaries: [summary({ AccountId: '200000000001' })], NextToken: 'page-2' },
      { BackupJobSummaries: [summary({ AccountId: '200000000002' })], NextToken: 'page-3' },
      { BackupJobSummaries: [summary({ AccountId: '200000000003' })] },
    ];
    // The paginator reuses one input object, so each call's token is read when it is made.
    const tokens: (string | undefined)[] = [];
    backup.on(ListBackupJobSummariesCommand).callsFake((input: { NextToken?: string }) => {
      tokens.push(input.NextToken);
      return pages[tokens.length - 1];
    });
    const rows = await new BackupJobSummaries(make()).daily('us-east-1');
    expect(rows.map((r) => r.accountId)).toEqual(['200000000001', '200000000002', '200000000003']);
    expect(tokens).toEqual([undefined, 'page-2', 'page-3']);
  });

  it('skips rows without an account, state or time, and reads what is optional loosely', async () => {
    backup.on(ListBackupJobSummariesCommand).resolves({
      BackupJobSummaries: [
        summary({ AccountId: undefined }),
        summary({ State: undefined }),
        summary({ StartTime: undefined }),
        summary({ EndTime: undefined }),
        summary({
          Region: undefined,
          State: 'COMPLETED',
          ResourceType: undefined,
          MessageCategory: undefined,
          Count: undefined,
        }),
      ],
    });
    const rows = await new BackupJobSummaries(make()).daily('eu-west-1');
    expect(rows).toEqual([
      {
        region: 'eu-west-1',
        accountId: '200000000001',
        state: 'COMPLETED',
        count: 0,
        start: START,
        end: END,
      },
    ]);
  });

  it('returns no row for an organization without jobs', async () => {
    backup.on(ListBackupJobSummariesCommand).resolves({});
    await expect(new BackupJobSummaries(make()).daily('us-east-1')).resolves.toEqual([]);
  });

  it('makes one client per region and reuses it', async () => {
    backup.on(ListBackupJobSummariesCommand).resolves({ BackupJobSummaries: [] });
    const factory = make();
    const summaries = new BackupJobSummaries(factory);
    await summaries.daily('us-east-1');
    await summaries.daily('eu-west-1');
    await summaries.daily('us-east-1');
    expect(factory.mock.calls).toEqual([['us-east-1'], ['eu-west-1']]);
    expect(backup).toHaveReceivedCommandTimes(ListBackupJobSummariesCommand, 3);
  });

  it('builds a client in the region asked for by default', async () => {
    backup.on(ListBackupJobSummariesCommand).resolves({ BackupJobSummaries: [summary()] });
    await new BackupJobSummaries().daily('ap-southeast-2');
    const client = backup.call(0).thisValue as BackupClient;
    await expect(client.config.region()).resolves.toBe('ap-southeast-2');
  });

  it('lets an access error through (cross-account monitoring off, no permission)', async () => {
    backup.on(ListBackupJobSummariesCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: backup:ListBackupJobSummaries'), {
        name: 'AccessDeniedException',
      }),
    );
    await expect(new BackupJobSummaries(make()).daily('us-east-1')).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('fails on a later page rather than return part of the rows', async () => {
    backup
      .on(ListBackupJobSummariesCommand)
      .resolvesOnce({ BackupJobSummaries: [summary()], NextToken: 'page-2' })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(new BackupJobSummaries(make()).daily('us-east-1')).rejects.toThrow(
      'Rate exceeded',
    );
  });
});
