import { dynamodbClient, organizationsClient, sqsClient } from '../shared/adapters/clients';
import { DynamoDbIncidentStore } from '../shared/adapters/dynamodb-incident-store';
import { OrganizationsAdmin } from '../shared/adapters/organizations-admin';
import { SqsWorkQueue } from '../shared/adapters/sqs-work-queue';
import { loadNotifyRuntime, loadRuntimeConfig } from '../shared/config/runtime';
import { ConfigError } from '../shared/errors';
import { buildPipelineDeps } from '../shared/notices/wiring';
import { isFinalAttempt, sqsBatchHandler } from '../shared/sqs-batch';
import { decideContext } from './decide';
import { notifyBackupEvent, type NotifyDeps } from './notify';

/**
 * A claim outlasts the queue's visibility timeout (365 s) plus the function's timeout (60 s): a
 * crash after SES accepted a message is not sent again by the record's next receive.
 */
const DELIVERY_LEASE_MS = 8 * 60 * 1000;
/** No record is started in the last 20 s of the 60 s timeout: a send and its retries fit. */
const RESERVE_MS = 20_000;

/** The dependencies from the deployed environment; a bad configuration fails every record loudly. */
export function buildNotifyDeps(env: NodeJS.ProcessEnv = process.env): NotifyDeps {
  const { config, runtime } = loadRuntimeConfig(env);
  const deployment = loadNotifyRuntime(env);
  const org = new OrganizationsAdmin(organizationsClient());
  const repairs =
    deployment.ONBOARDING_QUEUE_URL && config.onboarding
      ? new SqsWorkQueue(sqsClient(), deployment.ONBOARDING_QUEUE_URL)
      : undefined;
  const aggregation = config.notifications.aggregation.enabled;
  if (aggregation && !deployment.NOTIFICATION_QUEUE_URL) {
    throw new ConfigError(
      'NOTIFICATION_QUEUE_URL is not set: notifications.aggregation needs it for the summaries',
    );
  }
  return {
    ...buildPipelineDeps(config, runtime, { leaseMs: DELIVERY_LEASE_MS, org }),
    ...(aggregation
      ? {
          incidents: new DynamoDbIncidentStore(dynamodbClient(), runtime.DELIVERY_TABLE_NAME),
          summaries: new SqsWorkQueue(sqsClient(), deployment.NOTIFICATION_QUEUE_URL!),
        }
      : {}),
    decideContext: decideContext(config, {
      ...(deployment.STACK_PREFIX ? { stackPrefix: deployment.STACK_PREFIX } : {}),
      ...(deployment.CENTRAL_BUS_ARN ? { centralBusArn: deployment.CENTRAL_BUS_ARN } : {}),
      canRepair: Boolean(repairs),
    }),
    policies: org,
    ...(repairs ? { repairs } : {}),
  };
}

/** The notification queue's consumer, built from its dependencies (created on first use). */
export function createHandler(build: () => NotifyDeps) {
  let deps: NotifyDeps | undefined;
  return sqsBatchHandler(
    async (body, record, budget) => {
      deps ??= build();
      await notifyBackupEvent(body, deps, {
        finalAttempt: isFinalAttempt(record),
        ...(budget.sendDeadline !== undefined ? { deadline: budget.sendDeadline } : {}),
      });
    },
    { reserveMs: RESERVE_MS },
  );
}

export const handler = createHandler(() => buildNotifyDeps());
