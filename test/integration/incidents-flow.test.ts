import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localClientConfig } from '../../tools/sandbox/local-aws';
import { parseConfig } from '../../functions/shared/config/schema';
import { createLedgerTable } from '../../tools/sandbox/provision';
import { runStorm } from '../../tools/sandbox/storm';
import { FakeDirectory, FakeEmailSender, FakeTopicPublisher } from '../helpers/fakes';
import { exampleConfig } from '../helpers/fixtures';
import { localAws } from './harness';

/**
 * Aggregation end to end on moto: a storm of failures from one cause across accounts becomes
 * one alert, one summary naming every job, and one "recovered" notice; with aggregation off,
 * every failure is its own alert. (The bench runs the 500-failure version.)
 */

jest.setTimeout(180_000);

let dynamodb: DynamoDBClient;

beforeAll(async () => {
  const aws = localAws();
  await aws.reset();
  dynamodb = new DynamoDBClient(localClientConfig(aws.endpoint, 'us-east-1'));
});

function senders(n: number) {
  const accounts = Array.from({ length: n }, (_, i) => String(200000000000 + i));
  return {
    accounts,
    directory: new FakeDirectory(Object.fromEntries(accounts.map((id) => [id, { name: id }]))),
    email: new FakeEmailSender(),
    sns: new FakeTopicPublisher(),
    topicArn: (topic: string) => `arn:aws:sns:us-east-1:123456789012:${topic}`,
  };
}

function config(aggregation: Record<string, unknown>) {
  const raw = exampleConfig() as unknown as { notifications: Record<string, unknown> };
  raw.notifications.aggregation = aggregation;
  return parseConfig(raw, 'test');
}

it('folds 60 failures across 3 accounts into one alert and one summary per list, names every job, and tells of the recovery once', async () => {
  await createLedgerTable(dynamodb, 'storm-on');
  const storm = await runStorm({
    dynamodb,
    table: 'storm-on',
    config: config({ enabled: true, windowMinutes: 5 }),
    failures: 60,
    ...senders(3),
    spreadMs: 4 * 60_000,
    recover: true,
  });
  expect(storm).toMatchObject({
    emailsByList: { admins: 2, dba: 2 },
    chatMessages: 2,
    namedInEmail: 60,
    missing: [],
    summaries: 2,
    recoveredNotices: 1,
    recoveredEmails: 1,
  });
  expect(storm.subjects).toEqual(
    expect.arrayContaining([
      '[FAILED] 59 more backup jobs failed with AccessDenied in 3 accounts',
      '[RECOVERED] Recovered: 60 backup jobs that failed with AccessDenied in 3 accounts have succeeded since',
    ]),
  );
});

it('sends every failure on its own with aggregation off (the default)', async () => {
  await createLedgerTable(dynamodb, 'storm-off');
  const storm = await runStorm({
    dynamodb,
    table: 'storm-off',
    config: exampleConfig(),
    failures: 12,
    ...senders(3),
    spreadMs: 60_000,
    recover: false,
  });
  expect(storm.emailsByList).toEqual({ admins: 12, dba: 12 });
  expect(storm.chatMessages).toBe(12);
});
