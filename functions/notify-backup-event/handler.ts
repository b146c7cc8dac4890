import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadRuntimeConfig } from '../shared/config';
import { ConfigError } from '../shared/errors';
import { eventFromSqsBody } from '../shared/sqs-body';
import { logger } from '../shared/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SESClient } from '@aws-sdk/client-ses';
import { SNSClient } from '@aws-sdk/client-sns';
import { CLIENT_DEFAULTS, ORGANIZATIONS_CLIENT } from '../shared/adapters/clients';
import { DynamoDbDeliveryLedger } from '../shared/adapters/dynamodb-delivery-ledger';
import { OrganizationsAccountDirectory } from '../shared/adapters/organizations-account-directory';
import { SesEmailSender } from '../shared/adapters/ses-email-sender';
import { SnsTopicPublisher } from '../shared/adapters/sns-topic-publisher';
import { systemClock } from '../shared/ports';
import { CachedAccountDirectory } from './enrich';
import { notifyBackupEvent, type NotifyDeps } from './notify';

/** Longer than the function timeout, so a live send is never taken over. */
const DELIVERY_LEASE_MS = 2 * 60 * 1000;

let deps: NotifyDeps | undefined;

/** Built on first use (cold start) and reused; a bad configuration fails every record loudly. */
export function buildDeps(): NotifyDeps {
  const { config, runtime } = loadRuntimeConfig();
  return {
    config,
    topicArn: (topic) => {
      const arn = runtime.TOPIC_ARNS[topic];
      if (!arn) throw new ConfigError(`topic "${topic}" has no ARN in TOPIC_ARNS`);
      return arn;
    },
    accounts: new CachedAccountDirectory(
      new OrganizationsAccountDirectory(new OrganizationsClient(ORGANIZATIONS_CLIENT)),
      config.notifications.accountNameCacheSeconds * 1000,
      systemClock,
    ),
    ledger: new DynamoDbDeliveryLedger(new DynamoDBClient(CLIENT_DEFAULTS), {
      tableName: runtime.DELIVERY_TABLE_NAME,
      leaseMs: DELIVERY_LEASE_MS,
      retentionDays: config.notifications.deliveryRecordDays,
    }),
    email: new SesEmailSender(new SESClient(CLIENT_DEFAULTS)),
    sns: new SnsTopicPublisher(new SNSClient(CLIENT_DEFAULTS)),
    clock: systemClock,
    log: {
      info: (message, extra = {}) => logger.info(message, extra),
      warn: (message, extra = {}) => logger.warn(message, extra),
    },
  };
}

/** For tests: replace or reset the dependencies the handler uses. */
export function setDeps(next: NotifyDeps | undefined): void {
  deps = next;
}

const processor = new BatchProcessor(EventType.SQS);

async function processRecord(record: SQSRecord): Promise<void> {
  logger.resetKeys();
  logger.appendKeys({ messageId: record.messageId });
  const body = eventFromSqsBody(record.body);
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const e = body as Record<string, unknown>;
    logger.appendKeys({ eventId: e.id, accountId: e.account, detailType: e['detail-type'] });
  }
  try {
    deps ??= buildDeps();
    await notifyBackupEvent(body, deps);
  } catch (error) {
    logger.error('record failed; SQS will retry it, then keep it in the DLQ', {
      error: error as Error,
      receiveCount: record.attributes.ApproximateReceiveCount,
    });
    throw error;
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  // A batch where every record failed is reported like any other, not thrown: same retry.
  // One record at a time: the logger's keys are per process (parallel records would log each
  // other's ids), and a duplicate in the same batch then finds the first delivered instead of
  // failing as in flight; the account cache also serves the rest of the batch.
  return processPartialResponse(event, processRecord, processor, {
    context,
    throwOnFullBatchFailure: false,
    processInParallel: false,
  });
};
