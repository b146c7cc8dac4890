import type { Context } from 'aws-lambda';
import { dynamodbClient, organizationsClient, sqsClient } from '../shared/adapters/clients';
import { DynamoDbOnboardingLedger } from '../shared/adapters/dynamodb-onboarding-ledger';
import { OrganizationsAdmin } from '../shared/adapters/organizations-admin';
import { SqsWorkQueue } from '../shared/adapters/sqs-work-queue';
import { loadOnboardingRuntime } from '../shared/config';
import { ConfigError } from '../shared/errors';
import { logger } from '../shared/logger';
import { systemClock } from '../shared/ports';
import { loadBaseline } from '../onboard-account/baseline';
import { sweep, type SweepDeps, type SweepResult } from './sweep';

/** The dependencies from the deployed environment; a bad configuration fails loudly. */
export function buildSweepDeps(env: NodeJS.ProcessEnv = process.env): SweepDeps {
  const { config, runtime, onboarding } = loadOnboardingRuntime(env);
  if (!onboarding.ONBOARDING_QUEUE_URL) throw new ConfigError('ONBOARDING_QUEUE_URL is not set');
  return {
    config,
    baselineVersion: loadBaseline().version,
    org: new OrganizationsAdmin(organizationsClient()),
    ledger: new DynamoDbOnboardingLedger(dynamodbClient(), runtime.DELIVERY_TABLE_NAME),
    queue: new SqsWorkQueue(sqsClient(), onboarding.ONBOARDING_QUEUE_URL),
    ...(onboarding.WATCH_QUEUE_URL
      ? { watchQueue: new SqsWorkQueue(sqsClient(), onboarding.WATCH_QUEUE_URL) }
      : {}),
    clock: systemClock,
  };
}

/** The scheduled sweep. Failures propagate: the schedule's retry policy and alarm see them. */
export function createHandler(build: () => SweepDeps) {
  let deps: SweepDeps | undefined;
  return async (_event: unknown, context: Context): Promise<Omit<SweepResult, 'decisions'>> => {
    logger.addContext(context);
    deps ??= build();
    const result = await sweep(deps);
    for (const d of result.decisions.filter((x) => x.action !== 'ok')) {
      logger.info('sweep decision', { accountId: d.accountId, action: d.action, reason: d.reason });
    }
    logger.info('sweep done', {
      accounts: result.accounts,
      enqueued: result.enqueued,
      counts: result.counts,
    });
    return { accounts: result.accounts, enqueued: result.enqueued, counts: result.counts };
  };
}

export const handler = createHandler(() => buildSweepDeps());
