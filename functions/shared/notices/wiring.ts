import type { Config } from '../config/schema';
import type { Runtime } from '../config/runtime';
import { topicArnResolver } from '../config/runtime';
import { dynamodbClient, organizationsClient, sesClient, snsClient } from '../adapters/clients';
import { DynamoDbDeliveryLedger } from '../adapters/dynamodb-delivery-ledger';
import { OrganizationsAdmin } from '../adapters/organizations-admin';
import { SesEmailSender } from '../adapters/ses-email-sender';
import { SnsTopicPublisher } from '../adapters/sns-topic-publisher';
import { logPort } from '../logger';
import { systemClock, type OrganizationReader } from '../ports';
import { CachedAccountContext } from './account-context';
import type { PipelineDeps } from './send';

/**
 * The notification pipeline as every deployed function builds it: SES, SNS, the delivery
 * ledger in the shared table, and account lookups through Organizations (cached).
 */
export function buildPipelineDeps(
  config: Config,
  runtime: Runtime,
  options: { leaseMs: number; org?: OrganizationReader },
): PipelineDeps {
  return {
    config,
    topicArn: topicArnResolver(runtime.TOPIC_ARNS),
    accounts: new CachedAccountContext(
      options.org ?? new OrganizationsAdmin(organizationsClient()),
      config.notifications.accountNameCacheSeconds * 1000,
      systemClock,
    ),
    ledger: new DynamoDbDeliveryLedger(dynamodbClient(), {
      tableName: runtime.DELIVERY_TABLE_NAME,
      leaseMs: options.leaseMs,
      retentionDays: config.notifications.deliveryRecordDays,
    }),
    email: new SesEmailSender(sesClient()),
    sns: new SnsTopicPublisher(snsClient()),
    clock: systemClock,
    log: logPort,
  };
}
