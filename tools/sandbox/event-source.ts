import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * Stands in for the Lambda SQS event source mapping: receives batches, invokes the handler,
 * deletes what succeeded, and makes the reported failures visible again. (The real mapping waits
 * for the visibility timeout before a retry; here the retry comes at once so a scenario finishes
 * in seconds. The queue's redrive policy moves a message to the DLQ after maxReceiveCount
 * receives, exactly as in AWS.)
 */

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface DrainStats {
  invocations: number;
  received: number;
  succeeded: number;
  failedAttempts: number;
}

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `local-${Date.now()}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function toSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp:
        attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export async function drainQueue(options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  batchSize?: number;
  functionName?: string;
  /** Safety stop: a scenario never needs more rounds than this. */
  maxInvocations?: number;
  onBatch?: (records: SQSRecord[], response: SQSBatchResponse) => void;
}): Promise<DrainStats> {
  const { sqs, queueUrl, queueArn, handler } = options;
  const stats: DrainStats = { invocations: 0, received: 0, succeeded: 0, failedAttempts: 0 };
  const max = options.maxInvocations ?? 200;
  const context = lambdaContext(options.functionName ?? 'notifyBackupEvent');
  while (stats.invocations < max) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: options.batchSize ?? 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (!Messages?.length) break;
    const records = Messages.map((m) => toSqsRecord(m, queueArn, 'us-east-1'));
    stats.invocations += 1;
    stats.received += records.length;
    let response: SQSBatchResponse;
    try {
      response = await handler({ Records: records }, context);
    } catch {
      // A thrown invocation fails the whole batch, as in Lambda.
      response = { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
    options.onBatch?.(records, response);
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const done = Messages.filter((m) => !failed.has(m.MessageId!));
    const retry = Messages.filter((m) => failed.has(m.MessageId!));
    stats.succeeded += done.length;
    stats.failedAttempts += retry.length;
    if (done.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    if (retry.length) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: retry.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle!,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  return stats;
}
