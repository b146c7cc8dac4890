import { BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbDeliveryLedger } from '../../functions/shared/adapters/dynamodb-delivery-ledger';

/** DynamoDbDeliveryLedger.delivered: which (event, channel) pairs already went out. */

const dynamodb = mockClient(DynamoDBClient);
const TABLE = 'deliveries';
const EVENT = '111122223333#us-east-1#backup#d8da2bf5#FAILED';
const OTHER = '111122223333#us-east-1#copy#c-1#FAILED';

const ledger = () =>
  new DynamoDbDeliveryLedger(new DynamoDBClient({}), {
    tableName: TABLE,
    leaseMs: 120_000,
    retentionDays: 30,
  });

const key = (eventKey: string, channelKey: string) => ({
  pk: { S: `DELIVERY#${eventKey}` },
  sk: { S: channelKey },
});
const stored = (eventKey: string, channelKey: string, status: string) => ({
  ...key(eventKey, channelKey),
  status: { S: status },
});

beforeEach(() => dynamodb.reset());
afterEach(() => jest.useRealTimers());

describe('DynamoDbDeliveryLedger.delivered', () => {
  it('reads the pairs by key and answers "event|channel" for those delivered', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({
      Responses: {
        [TABLE]: [
          stored(EVENT, 'email:admins', 'DELIVERED'),
          stored(EVENT, 'sns:chat', 'IN_PROGRESS'),
          stored(OTHER, 'sns:chat', 'DELIVERED'),
        ],
      },
    });
    const pairs = [
      { eventKey: EVENT, channelKey: 'email:admins' },
      { eventKey: EVENT, channelKey: 'sns:chat' },
      { eventKey: OTHER, channelKey: 'sns:chat' },
      { eventKey: OTHER, channelKey: 'email:dba' },
    ];

    const found = await ledger().delivered(pairs);

    expect(found).toEqual(new Set([`${EVENT}|email:admins`, `${OTHER}|sns:chat`]));
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, 1);
    expect(dynamodb).toHaveReceivedCommandWith(BatchGetItemCommand, {
      RequestItems: {
        [TABLE]: {
          Keys: pairs.map((p) => key(p.eventKey, p.channelKey)),
          ProjectionExpression: 'pk, sk, #status',
          ExpressionAttributeNames: { '#status': 'status' },
        },
      },
    });
  });

  it('makes no call for no pairs', async () => {
    expect(await ledger().delivered([])).toEqual(new Set());
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, 0);
  });

  it('asks 100 keys at a time', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    const pairs = Array.from({ length: 201 }, (_, i) => ({
      eventKey: `${EVENT}-${i}`,
      channelKey: 'sns:chat',
    }));
    await ledger().delivered(pairs);
    expect(
      dynamodb
        .commandCalls(BatchGetItemCommand)
        .map((c) => c.args[0].input.RequestItems![TABLE]!.Keys!.length),
    ).toEqual([100, 100, 1]);
  });

  it('asks again for unprocessed keys and adds what they hold', async () => {
    jest.useFakeTimers();
    dynamodb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [stored(EVENT, 'email:admins', 'DELIVERED')] },
        UnprocessedKeys: { [TABLE]: { Keys: [key(EVENT, 'sns:chat')] } },
      })
      .resolves({ Responses: { [TABLE]: [stored(EVENT, 'sns:chat', 'DELIVERED')] } });

    const found = ledger().delivered([
      { eventKey: EVENT, channelKey: 'email:admins' },
      { eventKey: EVENT, channelKey: 'sns:chat' },
    ]);
    await jest.advanceTimersByTimeAsync(100);

    expect(await found).toEqual(new Set([`${EVENT}|email:admins`, `${EVENT}|sns:chat`]));
    const calls = dynamodb.commandCalls(BatchGetItemCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.RequestItems![TABLE]!.Keys).toEqual([key(EVENT, 'sns:chat')]);
  });

  it('gives up after 8 attempts rather than call an unread channel undelivered', async () => {
    jest.useFakeTimers();
    dynamodb.on(BatchGetItemCommand).resolves({
      UnprocessedKeys: { [TABLE]: { Keys: [key(EVENT, 'sns:chat')] } },
    });
    const found = ledger().delivered([{ eventKey: EVENT, channelKey: 'sns:chat' }]);
    const settled = expect(found).rejects.toThrow(
      'delivery ledger: 1 records could not be read (throttled)',
    );
    await jest.advanceTimersByTimeAsync(60_000);
    await settled;
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, 8);
  });

  it('keeps event keys that contain "#" whole', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [stored('coverage#222233334444#abc', 'email:admins', 'DELIVERED')] },
    });
    expect(
      await ledger().delivered([
        { eventKey: 'coverage#222233334444#abc', channelKey: 'email:admins' },
      ]),
    ).toEqual(new Set(['coverage#222233334444#abc|email:admins']));
  });
});
