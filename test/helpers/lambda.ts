import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

/** A Lambda context with what the handler and Powertools read. */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'backup-control-plane-dev-notifyBackupEvent',
    functionVersion: '$LATEST',
    invokedFunctionArn:
      'arn:aws:lambda:us-east-1:123456789012:function:backup-control-plane-dev-notifyBackupEvent',
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/backup-control-plane-dev-notifyBackupEvent',
    logStreamName: '2025/03/13/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}

let sequence = 0;

/** One SQS record whose body is `body` (an object is JSON-encoded; a string is sent as is). */
export function sqsRecord(body: unknown, messageId = `msg-${++sequence}`): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1741835095000',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1741835095001',
    },
    messageAttributes: {},
    md5OfBody: '-',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:backup-events',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
