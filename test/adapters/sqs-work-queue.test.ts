import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SqsWorkQueue } from '../../functions/shared/adapters/sqs-work-queue';

const sqs = mockClient(SQSClient);
const QUEUE_URL =
  'https://sqs.us-east-1.amazonaws.com/111122223333/backup-control-plane-dev-onboarding';

const queue = () => new SqsWorkQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);
const message = (i: number) => ({
  kind: 'onboard-request',
  accountId: String(200000000000 + i),
  trigger: 'Reconcile',
});
type Entry = { Id?: string; MessageBody?: string };
const bodies = (entries: Entry[] | undefined) =>
  (entries ?? []).map((e) => JSON.parse(e.MessageBody!) as Record<string, unknown>);

beforeEach(() => sqs.reset());
afterEach(() => jest.useRealTimers());

describe('SqsWorkQueue', () => {
  it('sends the messages as JSON in batches of 10, in order', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const messages = Array.from({ length: 23 }, (_, i) => message(i));

    await queue().enqueue(messages);

    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.QueueUrl)).toEqual([QUEUE_URL, QUEUE_URL, QUEUE_URL]);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 3]);
    expect(calls.flatMap((c) => bodies(c.Entries))).toEqual(messages);
    // Ids are unique within each batch, as SQS requires.
    for (const c of calls) {
      expect(new Set(c.Entries!.map((e) => e.Id)).size).toBe(c.Entries!.length);
    }
  });

  it('sends nothing for no messages', async () => {
    await queue().enqueue([]);
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('sends again only the entries SQS refused', async () => {
    jest.useFakeTimers();
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [],
        Failed: [
          { Id: '1', Code: 'ThrottlingException', SenderFault: false },
          { Id: '3', Code: 'ThrottlingException', SenderFault: false },
        ],
      })
      .resolves({ Successful: [], Failed: [] });
    const messages = [0, 1, 2, 3].map(message);

    const sending = queue().enqueue(messages);
    await jest.advanceTimersByTimeAsync(1000);
    await sending;

    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    const retry = sqs.commandCalls(SendMessageBatchCommand)[1]!.args[0].input.Entries;
    expect(bodies(retry)).toEqual([message(1), message(3)]);
  });

  it('gives up after five attempts, saying how many were refused', async () => {
    jest.useFakeTimers();
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries?: Entry[] }) => ({
      Successful: [],
      Failed: [{ Id: input.Entries![0]!.Id, Code: 'ThrottlingException', SenderFault: false }],
    }));

    const assertion = expect(queue().enqueue([message(0), message(1)])).rejects.toThrow(
      'queue refused 1 message(s)',
    );
    await jest.advanceTimersByTimeAsync(10_000);
    await assertion;
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 5);
  });

  it('lets an error of the whole call through', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error('The specified queue does not exist.'), { $metadata: {} }));
    await expect(queue().enqueue([message(0)])).rejects.toThrow('queue does not exist');
  });
});
