import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbOnboardingLedger } from '../../functions/shared/adapters/dynamodb-onboarding-ledger';
import type { AccountRecord } from '../../functions/shared/ports';

const dynamodb = mockClient(DynamoDBClient);
const TABLE = 'backup-control-plane-dev';
const ACCOUNT = '222233334444';
const KEY = { pk: { S: `ACCOUNT#${ACCOUNT}` }, sk: { S: 'ONBOARDING' } };
const NOW = new Date('2025-03-13T03:05:00.000Z');
const LOCK_MS = 900_000;

const ledger = () => new DynamoDbOnboardingLedger(new DynamoDBClient({}), TABLE);

const record = (accountId = ACCOUNT, overrides: Partial<AccountRecord> = {}): AccountRecord => ({
  accountId,
  status: 'ready',
  baselineVersion: 1,
  profile: 'default',
  steps: { resolve: { outcome: 'unchanged', at: NOW.toISOString() } },
  attempts: 2,
  updatedAt: NOW.toISOString(),
  attachedPolicies: ['daily-35-days'],
  ...overrides,
});

const item = (r: AccountRecord): Record<string, AttributeValue> => ({
  pk: { S: `ACCOUNT#${r.accountId}` },
  sk: { S: 'ONBOARDING' },
  record: { S: JSON.stringify(r) },
  status: { S: r.status },
});

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => dynamodb.reset());

describe('DynamoDbOnboardingLedger.get', () => {
  it('reads the account item consistently and returns its record', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: item(record()) });
    await expect(ledger().get(ACCOUNT)).resolves.toEqual(record());
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: TABLE,
      Key: KEY,
      ConsistentRead: true,
    });
  });

  it('returns undefined for no item, or an item that only holds a lock', async () => {
    dynamodb
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({ Item: { ...KEY, lockOwner: { S: 'msg-1' }, lockUntil: { N: '1' } } });
    await expect(ledger().get(ACCOUNT)).resolves.toBeUndefined();
    await expect(ledger().get(ACCOUNT)).resolves.toBeUndefined();
  });
});

describe('DynamoDbOnboardingLedger.save', () => {
  it('writes the whole record, with status and version beside it for people', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await ledger().save(record());
    expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET #record = :record, #status = :status, baselineVersion = :version, updatedAt = :at',
      ExpressionAttributeNames: { '#record': 'record', '#status': 'status' },
      ExpressionAttributeValues: {
        ':record': { S: JSON.stringify(record()) },
        ':status': { S: 'ready' },
        ':version': { N: '1' },
        ':at': { S: NOW.toISOString() },
      },
    });
    // The lock attributes are not touched by a save.
    const input = dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.UpdateExpression).not.toMatch(/lock/);
    expect(input.ConditionExpression).toBeUndefined();
  });

  it('stores version 0 for a record without a baseline version', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await ledger().save(record(ACCOUNT, { status: 'onboarding', baselineVersion: undefined }));
    expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, {
      ExpressionAttributeValues: expect.objectContaining({
        ':version': { N: '0' },
        ':status': { S: 'onboarding' },
      }),
    });
  });
});

describe('DynamoDbOnboardingLedger.acquire', () => {
  it('takes a free, expired or own lock with one conditional update', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await expect(ledger().acquire(ACCOUNT, 'msg-1', NOW, LOCK_MS)).resolves.toEqual({
      acquired: true,
    });
    expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET lockOwner = :owner, lockUntil = :until, lockSince = :since',
      ConditionExpression:
        'attribute_not_exists(lockUntil) OR lockUntil < :now OR lockOwner = :owner',
      ExpressionAttributeValues: {
        ':owner': { S: 'msg-1' },
        ':until': { N: String(NOW.getTime() + LOCK_MS) },
        ':since': { S: NOW.toISOString() },
        ':now': { N: String(NOW.getTime()) },
      },
    });
    expect(dynamodb).not.toHaveReceivedCommand(GetItemCommand);
  });

  it('when the lock is held, reads who holds it, since when and until when', async () => {
    const until = NOW.getTime() + 60_000;
    dynamodb.on(UpdateItemCommand).rejects(conditionFailed());
    dynamodb.on(GetItemCommand).resolves({
      Item: {
        ...KEY,
        lockOwner: { S: 'msg-other' },
        lockSince: { S: '2025-03-13T02:51:00.000Z' },
        lockUntil: { N: String(until) },
      },
    });
    await expect(ledger().acquire(ACCOUNT, 'msg-1', NOW, LOCK_MS)).resolves.toEqual({
      acquired: false,
      owner: 'msg-other',
      since: '2025-03-13T02:51:00.000Z',
      until: new Date(until).toISOString(),
    });
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: TABLE,
      Key: KEY,
      ConsistentRead: true,
    });
  });

  it('answers busy without details when the holder is gone by the time it reads', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailed());
    dynamodb.on(GetItemCommand).resolves({});
    await expect(ledger().acquire(ACCOUNT, 'msg-1', NOW, LOCK_MS)).resolves.toEqual({
      acquired: false,
      owner: undefined,
      since: undefined,
      until: undefined,
    });
  });

  it('lets other errors through', async () => {
    dynamodb
      .on(UpdateItemCommand)
      .rejects(Object.assign(new Error('Requested resource not found'), { $metadata: {} }));
    await expect(ledger().acquire(ACCOUNT, 'msg-1', NOW, LOCK_MS)).rejects.toThrow(
      'Requested resource not found',
    );
  });
});

describe('DynamoDbOnboardingLedger.release', () => {
  it('removes the lock only while it is ours', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await ledger().release(ACCOUNT, 'msg-1');
    expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'REMOVE lockOwner, lockUntil, lockSince',
      ConditionExpression: 'lockOwner = :owner',
      ExpressionAttributeValues: { ':owner': { S: 'msg-1' } },
    });
  });

  it('swallows ConditionalCheckFailed: the lock expired and is someone else’s now', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(ledger().release(ACCOUNT, 'msg-1')).resolves.toBeUndefined();
  });

  it('rethrows other errors', async () => {
    dynamodb.on(UpdateItemCommand).rejects(
      Object.assign(new Error('Throughput exceeds the current capacity'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: {},
      }),
    );
    await expect(ledger().release(ACCOUNT, 'msg-1')).rejects.toThrow('Throughput exceeds');
  });
});

describe('DynamoDbOnboardingLedger.getMany', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => String(200000000000 + i));
  const keysOf = (input: BatchGetItemCommand['input']) =>
    input.RequestItems![TABLE]!.Keys!.map((k) => k.pk!.S!.replace('ACCOUNT#', ''));

  afterEach(() => jest.useRealTimers());

  it('reads in chunks of 100 keys and maps the records by account', async () => {
    const all = ids(250);
    dynamodb.on(BatchGetItemCommand).callsFake((input: BatchGetItemCommand['input']) => ({
      // Every other account has a record; one item holds only a lock.
      Responses: {
        [TABLE]: [
          ...keysOf(input)
            .filter((id) => Number(id) % 2 === 0)
            .map((id) => item(record(id))),
          { ...KEY, lockOwner: { S: 'x' } },
        ],
      },
    }));

    const found = await ledger().getMany(all);

    const calls = dynamodb.commandCalls(BatchGetItemCommand).map((c) => keysOf(c.args[0].input));
    expect(calls.map((c) => c.length)).toEqual([100, 100, 50]);
    expect(calls.flat()).toEqual(all);
    expect(found.size).toBe(125);
    expect(found.get('200000000000')).toEqual(record('200000000000'));
    expect(found.has('200000000001')).toBe(false);
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    jest.useFakeTimers();
    const all = ids(3);
    dynamodb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [item(record(all[0]))] },
        UnprocessedKeys: {
          [TABLE]: {
            Keys: [all[1]!, all[2]!].map((id) => ({ pk: { S: `ACCOUNT#${id}` }, sk: KEY.sk })),
          },
        },
      })
      .resolves({ Responses: { [TABLE]: [item(record(all[1])), item(record(all[2]))] } });

    const reading = ledger().getMany(all);
    await jest.advanceTimersByTimeAsync(1000);
    const found = await reading;

    expect([...found.keys()].sort()).toEqual(all);
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, 2);
    expect(keysOf(dynamodb.commandCalls(BatchGetItemCommand)[1]!.args[0].input)).toEqual([
      all[1],
      all[2],
    ]);
  });

  it('gives up after a bounded number of attempts, saying how many were not read', async () => {
    jest.useFakeTimers();
    const all = ids(2);
    dynamodb.on(BatchGetItemCommand).callsFake((input: BatchGetItemCommand['input']) => ({
      Responses: { [TABLE]: [] },
      UnprocessedKeys: { [TABLE]: { Keys: input.RequestItems![TABLE]!.Keys } },
    }));

    const assertion = expect(ledger().getMany(all)).rejects.toThrow(
      'ledger: 2 accounts could not be read (throttled)',
    );
    await jest.advanceTimersByTimeAsync(60_000);
    await assertion;
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, 8);
  });

  it('reads nothing for no accounts', async () => {
    await expect(ledger().getMany([])).resolves.toEqual(new Map());
    expect(dynamodb).not.toHaveReceivedCommand(BatchGetItemCommand);
  });
});
