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

let deps: SweepDeps | undefined;

export function buildSweepDeps(): SweepDeps {
  const { config, runtime, onboarding } = loadOnboardingRuntime();
  if (!onboarding.ONBOARDING_QUEUE_URL) throw new ConfigError('ONBOARDING_QUEUE_URL is not set');
  return {
    config,
    baselineVersion: loadBaseline().version,
    org: new OrganizationsAdmin(organizationsClient()),
    ledger: new DynamoDbOnboardingLedger(dynamodbClient(), runtime.DELIVERY_TABLE_NAME),
    queue: new SqsWorkQueue(sqsClient(), onboarding.ONBOARDING_QUEUE_URL),
    clock: systemClock,
  };
}

export function setSweepDeps(next: SweepDeps | undefined): void {
  deps = next;
}

/** The scheduled sweep. Failures propagate: the schedule's retry policy and alarm see them. */
export const handler = async (
  _event: unknown,
  context: Context,
): Promise<Omit<SweepResult, 'decisions'>> => {
  logger.addContext(context);
  deps ??= buildSweepDeps();
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
