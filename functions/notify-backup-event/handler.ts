import { loadRuntimeConfig, topicArnResolver } from '../shared/config';
import { sqsBatchHandler } from '../shared/sqs-batch';
import { logPort } from '../shared/logger';
import {
  dynamodbClient,
  organizationsClient,
  sesClient,
  snsClient,
} from '../shared/adapters/clients';
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
    topicArn: topicArnResolver(runtime.TOPIC_ARNS),
    accounts: new CachedAccountDirectory(
      new OrganizationsAccountDirectory(organizationsClient()),
      config.notifications.accountNameCacheSeconds * 1000,
      systemClock,
    ),
    ledger: new DynamoDbDeliveryLedger(dynamodbClient(), {
      tableName: runtime.DELIVERY_TABLE_NAME,
      leaseMs: DELIVERY_LEASE_MS,
      retentionDays: config.notifications.deliveryRecordDays,
    }),
    email: new SesEmailSender(sesClient()),
    sns: new SnsTopicPublisher(snsClient()),
    clock: systemClock,
    log: logPort,
  };
}

/** For tests: replace or reset the dependencies the handler uses. */
export function setDeps(next: NotifyDeps | undefined): void {
  deps = next;
}

/** The notification queue's consumer: one EventBridge event per record. */
export const handler = sqsBatchHandler(async (body) => {
  deps ??= buildDeps();
  await notifyBackupEvent(body, deps);
});
