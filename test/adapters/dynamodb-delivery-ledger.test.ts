import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbDeliveryLedger } from '../../functions/shared/adapters/dynamodb-delivery-ledger';

const dynamodb = mockClient(DynamoDBClient);

const NOW = new Date('2025-03-13T03:05:00.000Z');
const LEASE_MS = 120_000;
const EVENT_KEY = '111122223333#us-east-1#backup#d8da2bf5#FAILED';
const KEY = { pk: { S: `DELIVERY#${EVENT_KEY}` }, sk: { S: 'sns:chat' } };

const ledger = () =>
  new DynamoDbDeliveryLedger(new DynamoDBClient({}), {
    tableName: 'deliveries',
    leaseMs: LEASE_MS,
    retentionDays: 30,
  });

const conditionFailed = (Item?: Record<string, AttributeValue>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item,
  });

beforeEach(() => dynamodb.reset());

describe('DynamoDbDeliveryLedger.claim', () => {
  it('claims with a conditional put that only takes a free or expired slot', async () => {
    dynamodb.on(PutItemCommand).resolves({});
    const result = await ledger().claim(EVENT_KEY, 'sns:chat', NOW);
    expect(result).toEqual({ outcome: 'claimed', token: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const token = result.outcome === 'claimed' ? result.token : '';
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'deliveries',
      Item: {
        ...KEY,
        status: { S: 'IN_PROGRESS' },
        token: { S: token },
        leaseUntil: { N: String(NOW.getTime() + LEASE_MS) },
        claimedAt: { S: NOW.toISOString() },
        expiresAt: { N: String(NOW.getTime() / 1000 + 30 * 86_400) },
      },
      ConditionExpression:
        'attribute_not_exists(pk) OR (#status = :inProgress AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':inProgress': { S: 'IN_PROGRESS' },
        ':now': { N: String(NOW.getTime()) },
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('gives a new token to each claim', async () => {
    dynamodb.on(PutItemCommand).resolves({});
    const a = await ledger().claim(EVENT_KEY, 'sns:chat', NOW);
    const b = await ledger().claim(EVENT_KEY, 'email:admins', NOW);
    expect(a).not.toEqual(b);
  });

  it('reports a delivered item as already delivered', async () => {
    dynamodb.on(PutItemCommand).rejects(
      conditionFailed({
        ...KEY,
        status: { S: 'DELIVERED' },
        deliveredAt: { S: '2025-03-13T03:04:59.000Z' },
        messageId: { S: 'sns-1' },
      }),
    );
    await expect(ledger().claim(EVENT_KEY, 'sns:chat', NOW)).resolves.toEqual({
      outcome: 'already-delivered',
      deliveredAt: '2025-03-13T03:04:59.000Z',
      messageId: 'sns-1',
    });
    expect(dynamodb).not.toHaveReceivedCommand(GetItemCommand);
  });

  it('reports an item in progress as in flight, with its lease', async () => {
    const leaseUntil = NOW.getTime() + 30_000;
    dynamodb.on(PutItemCommand).rejects(
      conditionFailed({
        ...KEY,
        status: { S: 'IN_PROGRESS' },
        leaseUntil: { N: String(leaseUntil) },
      }),
    );
    await expect(ledger().claim(EVENT_KEY, 'sns:chat', NOW)).resolves.toEqual({
      outcome: 'in-flight',
      leaseUntil: new Date(leaseUntil).toISOString(),
    });
  });

  it('reads the item with a consistent GetItem when the error carries none', async () => {
    dynamodb.on(PutItemCommand).rejects(conditionFailed());
    dynamodb
      .on(GetItemCommand)
      .resolves({ Item: { ...KEY, status: { S: 'DELIVERED' }, messageId: { S: 'm' } } });
    await expect(ledger().claim(EVENT_KEY, 'sns:chat', NOW)).resolves.toMatchObject({
      outcome: 'already-delivered',
      messageId: 'm',
    });
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: 'deliveries',
      Key: KEY,
      ConsistentRead: true,
    });
  });

  it('treats an item that vanished between put and get as in flight (retry later)', async () => {
    dynamodb.on(PutItemCommand).rejects(conditionFailed());
    dynamodb.on(GetItemCommand).resolves({});
    await expect(ledger().claim(EVENT_KEY, 'sns:chat', NOW)).resolves.toEqual({
      outcome: 'in-flight',
      leaseUntil: undefined,
    });
  });

  it('lets other errors through', async () => {
    dynamodb.on(PutItemCommand).rejects(
      Object.assign(new Error('Requested resource not found'), {
        name: 'ResourceNotFoundException',
      }),
    );
    await expect(ledger().claim(EVENT_KEY, 'sns:chat', NOW)).rejects.toThrow(
      'Requested resource not found',
    );
  });
});

describe('DynamoDbDeliveryLedger.markDelivered', () => {
  it('marks the item delivered only while it still holds our token', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await ledger().markDelivered(EVENT_KEY, 'sns:chat', 'tok-1', 'sns-1', NOW);
    expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: 'deliveries',
      Key: KEY,
      ConditionExpression: '#token = :token',
      ExpressionAttributeNames: { '#status': 'status', '#token': 'token' },
      ExpressionAttributeValues: {
        ':delivered': { S: 'DELIVERED' },
        ':at': { S: NOW.toISOString() },
        ':messageId': { S: 'sns-1' },
        ':expiresAt': { N: String(NOW.getTime() / 1000 + 30 * 86_400) },
        ':token': { S: 'tok-1' },
      },
    });
    const update = dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input.UpdateExpression;
    expect(update).toMatch(/SET #status = :delivered/);
    expect(update).toMatch(/REMOVE leaseUntil/);
  });

  it('stores a placeholder when the channel returned no message id', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await ledger().markDelivered(EVENT_KEY, 'sns:chat', 'tok-1', '', NOW);
    expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':messageId': { S: '-' } }),
    });
  });

  it('raises when the token no longer matches', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(
      ledger().markDelivered(EVENT_KEY, 'sns:chat', 'tok-1', 'sns-1', NOW),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});

describe('DynamoDbDeliveryLedger.release', () => {
  it('deletes the item only while it holds our token', async () => {
    dynamodb.on(DeleteItemCommand).resolves({});
    await ledger().release(EVENT_KEY, 'sns:chat', 'tok-1');
    expect(dynamodb).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: 'deliveries',
      Key: KEY,
      ConditionExpression: '#token = :token',
      ExpressionAttributeNames: { '#token': 'token' },
      ExpressionAttributeValues: { ':token': { S: 'tok-1' } },
    });
  });

  it('swallows ConditionalCheckFailed: someone else holds it now', async () => {
    dynamodb.on(DeleteItemCommand).rejects(conditionFailed());
    await expect(ledger().release(EVENT_KEY, 'sns:chat', 'tok-1')).resolves.toBeUndefined();
    expect(dynamodb).toHaveReceivedCommandTimes(DeleteItemCommand, 1);
  });

  it('rethrows other errors', async () => {
    dynamodb.on(DeleteItemCommand).rejects(
      Object.assign(new Error('Throughput exceeds the current capacity'), {
        name: 'ProvisionedThroughputExceededException',
      }),
    );
    await expect(ledger().release(EVENT_KEY, 'sns:chat', 'tok-1')).rejects.toThrow(
      'Throughput exceeds',
    );
  });
});
