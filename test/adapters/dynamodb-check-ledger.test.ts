import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbCheckLedger } from '../../functions/shared/adapters/dynamodb-check-ledger';
import type { CheckRecord } from '../../functions/shared/ports';

const dynamodb = mockClient(DynamoDBClient);
const TABLE = 'ledger';
const ACCOUNT = '222233334444';
const NOW = new Date('2025-03-13T03:05:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const DAY_S = 86_400;
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`;

const ledger = () => new DynamoDbCheckLedger(new DynamoDBClient({}), TABLE);

function check(accountId = ACCOUNT, over: Partial<CheckRecord> = {}): CheckRecord {
  return {
    accountId,
    day: '2025-03-13',
    checkedAt: NOW.toISOString(),
    status: 'drift',
    profile: 'default',
    findings: [
      {
        what: 'forwarding rule r is DISABLED in us-east-1',
        resource: 'r',
        region: 'us-east-1',
        who: {
          identity: 'arn:aws:iam::222233334444:user/mallory',
          action: 'DisableRule',
          time: 't',
        },
      },
    ],
    ...over,
  };
}

const item = (record: CheckRecord): Record<string, AttributeValue> => ({
  pk: { S: `ACCOUNT#${record.accountId}` },
  sk: { S: `CHECK#${record.day}` },
  status: { S: record.status },
  record: { S: JSON.stringify(record) },
});

const checkKey = (accountId: string, day = '2025-03-13') => ({
  pk: { S: `ACCOUNT#${accountId}` },
  sk: { S: `CHECK#${day}` },
});

const ids = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => String(200000000000 + from + i));

beforeEach(() => dynamodb.reset());
afterEach(() => jest.useRealTimers());

describe('DynamoDbCheckLedger.saveCheck', () => {
  it('puts the record as JSON beside the account, kept 40 days from the check', async () => {
    dynamodb.on(PutItemCommand).resolves({});
    const record = check();
    await ledger().saveCheck(record);
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: TABLE,
      Item: {
        pk: { S: `ACCOUNT#${ACCOUNT}` },
        sk: { S: 'CHECK#2025-03-13' },
        status: { S: 'drift' },
        record: { S: JSON.stringify(record) },
        expiresAt: { N: String(NOW_S + 40 * DAY_S) },
      },
    });
  });

  it('lets a failure through', async () => {
    dynamodb.on(PutItemCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(ledger().saveCheck(check())).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});

describe('DynamoDbCheckLedger.checks', () => {
  it("reads the day's checks of the accounts given, by key", async () => {
    const a = check('200000000001');
    const b = check('200000000002', { status: 'verified', findings: [] });
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [item(a), item(b)] } });

    const found = await ledger().checks(
      ['200000000001', '200000000002', '200000000003'],
      '2025-03-13',
    );

    expect(found).toEqual(
      new Map([
        ['200000000001', a],
        ['200000000002', b],
      ]),
    );
    expect(dynamodb).toHaveReceivedCommandWith(BatchGetItemCommand, {
      RequestItems: {
        [TABLE]: {
          Keys: ['200000000001', '200000000002', '200000000003'].map((id) => checkKey(id)),
        },
      },
    });
  });

  it('asks 100 keys at a time', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    await ledger().checks(ids(250), '2025-03-13');
    const sizes = dynamodb
      .commandCalls(BatchGetItemCommand)
      .map((c) => c.args[0].input.RequestItems![TABLE]!.Keys!.length);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('asks again for the keys DynamoDB left unprocessed, after a pause', async () => {
    jest.useFakeTimers();
    const [a, b] = [check('200000000001'), check('200000000002')];
    dynamodb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [item(a)] },
        UnprocessedKeys: { [TABLE]: { Keys: [checkKey('200000000002')] } },
      })
      .resolves({ Responses: { [TABLE]: [item(b)] } });

    const found = ledger().checks(['200000000001', '200000000002'], '2025-03-13');
    await jest.advanceTimersByTimeAsync(100);

    expect(await found).toEqual(
      new Map([
        ['200000000001', a],
        ['200000000002', b],
      ]),
    );
    const calls = dynamodb.commandCalls(BatchGetItemCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.RequestItems![TABLE]!.Keys).toEqual([checkKey('200000000002')]);
  });

  it('gives up after 8 attempts, saying how many could not be read', async () => {
    jest.useFakeTimers();
    dynamodb.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [] },
      UnprocessedKeys: { [TABLE]: { Keys: [checkKey('200000000002')] } },
    });
    const found = ledger().checks(['200000000002'], '2025-03-13');
    const settled = expect(found).rejects.toThrow(
      'ledger: 1 daily checks could not be read (throttled)',
    );
    await jest.advanceTimersByTimeAsync(60_000);
    await settled;
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, 8);
  });

  it('skips an item without a record', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [{ pk: { S: `ACCOUNT#${ACCOUNT}` }, sk: { S: 'CHECK#2025-03-13' } }] },
    });
    expect(await ledger().checks([ACCOUNT], '2025-03-13')).toEqual(new Map());
  });
});

describe('DynamoDbCheckLedger.firstSeen', () => {
  it('remembers the first time each resource is seen, kept 90 days from the last', async () => {
    dynamodb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: { firstSeen: { S: '2025-03-10T03:05:00.000Z' } } })
      .resolves({ Attributes: { firstSeen: { S: NOW.toISOString() } } });
    const other = `${TABLE_ARN}-2`;

    const seen = await ledger().firstSeen(ACCOUNT, [TABLE_ARN, other], NOW);

    expect(seen).toEqual(
      new Map([
        [TABLE_ARN, '2025-03-10T03:05:00.000Z'],
        [other, NOW.toISOString()],
      ]),
    );
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 2);
    expect(dynamodb).toHaveReceivedNthCommandWith(1, UpdateItemCommand, {
      TableName: TABLE,
      Key: { pk: { S: `ACCOUNT#${ACCOUNT}` }, sk: { S: `SEEN#${TABLE_ARN}` } },
      UpdateExpression: 'SET firstSeen = if_not_exists(firstSeen, :now), expiresAt = :ttl',
      ExpressionAttributeValues: {
        ':now': { S: NOW.toISOString() },
        ':ttl': { N: String(NOW_S + 90 * DAY_S) },
      },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('takes now when DynamoDB returns no attributes', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    expect(await ledger().firstSeen(ACCOUNT, [TABLE_ARN], NOW)).toEqual(
      new Map([[TABLE_ARN, NOW.toISOString()]]),
    );
  });

  it('makes no call for no resources', async () => {
    expect(await ledger().firstSeen(ACCOUNT, [], NOW)).toEqual(new Map());
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 0);
  });
});

describe('DynamoDbCheckLedger.unreported', () => {
  const reportedKey = (k: string) => ({
    pk: { S: `ACCOUNT#${ACCOUNT}` },
    sk: { S: `REPORTED#${k}` },
  });

  it('returns the incident keys not reported yet, in the order given', async () => {
    const keys = ['coverage#a#never-error', 'coverage#b#never-warning', 'coverage#c#opt-in-off'];
    dynamodb.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [{ sk: { S: 'REPORTED#coverage#b#never-warning' } }] },
    });

    expect(await ledger().unreported(ACCOUNT, keys)).toEqual([
      'coverage#a#never-error',
      'coverage#c#opt-in-off',
    ]);
    expect(dynamodb).toHaveReceivedCommandWith(BatchGetItemCommand, {
      RequestItems: { [TABLE]: { Keys: keys.map(reportedKey), ProjectionExpression: 'sk' } },
    });
  });

  it('asks 100 keys at a time', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    const keys = Array.from({ length: 150 }, (_, i) => `coverage#r${i}#never-error`);
    expect(await ledger().unreported(ACCOUNT, keys)).toEqual(keys);
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, 2);
  });

  it('fails rather than report an incident twice when keys come back unprocessed', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [] },
      UnprocessedKeys: { [TABLE]: { Keys: [reportedKey('coverage#a#never-error')] } },
    });
    await expect(ledger().unreported(ACCOUNT, ['coverage#a#never-error'])).rejects.toThrow(
      'ledger: reported incidents could not be read (throttled)',
    );
  });
});

describe('DynamoDbCheckLedger.markReported', () => {
  const put = (k: string) => ({
    PutRequest: {
      Item: {
        pk: { S: `ACCOUNT#${ACCOUNT}` },
        sk: { S: `REPORTED#${k}` },
        reportedAt: { S: NOW.toISOString() },
        expiresAt: { N: String(NOW_S + 90 * DAY_S) },
      },
    },
  });

  it('writes one item per incident, 25 at a time', async () => {
    dynamodb.on(BatchWriteItemCommand).resolves({});
    const keys = Array.from({ length: 30 }, (_, i) => `coverage#r${i}#never-error`);
    await ledger().markReported(ACCOUNT, keys, NOW);
    const calls = dynamodb.commandCalls(BatchWriteItemCommand);
    expect(calls.map((c) => c.args[0].input.RequestItems![TABLE]!.length)).toEqual([25, 5]);
    expect(calls[0]!.args[0].input.RequestItems![TABLE]![0]).toEqual(put(keys[0]!));
  });

  it('writes again what DynamoDB left unprocessed', async () => {
    jest.useFakeTimers();
    dynamodb
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: [put('b')] } })
      .resolves({});
    const done = ledger().markReported(ACCOUNT, ['a', 'b'], NOW);
    await jest.advanceTimersByTimeAsync(100);
    await done;
    const calls = dynamodb.commandCalls(BatchWriteItemCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.RequestItems).toEqual({ [TABLE]: [put('b')] });
  });

  it('gives up after 8 attempts', async () => {
    jest.useFakeTimers();
    dynamodb.on(BatchWriteItemCommand).resolves({ UnprocessedItems: { [TABLE]: [put('a')] } });
    const done = ledger().markReported(ACCOUNT, ['a'], NOW);
    const settled = expect(done).rejects.toThrow('ledger: reported incidents could not be written');
    await jest.advanceTimersByTimeAsync(60_000);
    await settled;
    expect(dynamodb).toHaveReceivedCommandTimes(BatchWriteItemCommand, 8);
  });

  it('makes no call for no incidents', async () => {
    await ledger().markReported(ACCOUNT, [], NOW);
    expect(dynamodb).toHaveReceivedCommandTimes(BatchWriteItemCommand, 0);
  });
});
