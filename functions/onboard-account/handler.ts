import {
  dynamodbClient,
  organizationsClient,
  sesClient,
  snsClient,
  stsClient,
} from '../shared/adapters/clients';
import { DynamoDbDeliveryLedger } from '../shared/adapters/dynamodb-delivery-ledger';
import { DynamoDbOnboardingLedger } from '../shared/adapters/dynamodb-onboarding-ledger';
import { StsAccountAccess } from '../shared/adapters/member-account';
import { OrganizationsAdmin } from '../shared/adapters/organizations-admin';
import { SesEmailSender } from '../shared/adapters/ses-email-sender';
import { SnsTopicPublisher } from '../shared/adapters/sns-topic-publisher';
import { loadOnboardingRuntime, topicArnResolver } from '../shared/config';
import { logPort } from '../shared/logger';
import { systemClock } from '../shared/ports';
import { sqsBatchHandler } from '../shared/sqs-batch';
import { loadBaseline } from './baseline';
import { AdminNotifier } from './notify-admins';
import { processOnboardingRecord, type ProcessDeps } from './process-record';

let base: Omit<ProcessDeps, 'owner'> | undefined;

/** Built on first use and reused by warm invocations; a bad configuration fails loudly. */
export function buildOnboardingDeps(
  env: NodeJS.ProcessEnv = process.env,
): Omit<ProcessDeps, 'owner'> {
  const { config, runtime, onboarding } = loadOnboardingRuntime(env);
  const dynamodb = dynamodbClient();
  const deliveries = new DynamoDbDeliveryLedger(dynamodb, {
    tableName: runtime.DELIVERY_TABLE_NAME,
    leaseMs: 16 * 60 * 1000,
    retentionDays: config.notifications.deliveryRecordDays,
  });
  return {
    config,
    baseline: loadBaseline(),
    org: new OrganizationsAdmin(organizationsClient()),
    access: new StsAccountAccess(stsClient()),
    ledger: new DynamoDbOnboardingLedger(dynamodb, runtime.DELIVERY_TABLE_NAME),
    deliveries,
    notifier: new AdminNotifier(
      config,
      {
        ledger: deliveries,
        email: new SesEmailSender(sesClient()),
        sns: new SnsTopicPublisher(snsClient()),
        clock: systemClock,
        warn: logPort.warn,
      },
      topicArnResolver(runtime.TOPIC_ARNS),
    ),
    clock: systemClock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: logPort,
    centralBusArn: onboarding.CENTRAL_BUS_ARN,
    controlPlaneRoleArn: onboarding.CONTROL_PLANE_ROLE_ARN,
  };
}

/** For tests and the sandbox: replace or reset what the handler uses. */
export function setOnboardingDeps(next: Omit<ProcessDeps, 'owner'> | undefined): void {
  base = next;
}

/** The onboarding queue's consumer: account events, sweep and CLI requests. */
export const handler = sqsBatchHandler(async (body, record) => {
  base ??= buildOnboardingDeps();
  const time = (body as { time?: unknown } | null)?.time;
  await processOnboardingRecord(body, typeof time === 'string' ? time : undefined, {
    ...base,
    owner: record.messageId,
  });
});
