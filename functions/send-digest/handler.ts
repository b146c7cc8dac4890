import type { Context } from 'aws-lambda';
import { BackupJobSummaries } from '../shared/adapters/backup-job-summaries';
import { dynamodbClient, organizationsClient } from '../shared/adapters/clients';
import { DynamoDbCheckLedger } from '../shared/adapters/dynamodb-check-ledger';
import { DynamoDbOnboardingLedger } from '../shared/adapters/dynamodb-onboarding-ledger';
import { OrganizationsAdmin } from '../shared/adapters/organizations-admin';
import { loadRuntimeConfig } from '../shared/config/runtime';
import { logger } from '../shared/logger';
import { buildPipelineDeps } from '../shared/notices/wiring';
import { systemClock } from '../shared/ports';
import { digestPeriod, sendDigest, type DigestDeps } from './send-digest';

/** The dependencies from the deployed environment; a bad configuration fails loudly. */
export function buildDigestDeps(env: NodeJS.ProcessEnv = process.env): DigestDeps {
  const { config, runtime } = loadRuntimeConfig(env);
  const org = new OrganizationsAdmin(organizationsClient());
  const dynamodb = dynamodbClient();
  return {
    config,
    org,
    onboarding: new DynamoDbOnboardingLedger(dynamodb, runtime.DELIVERY_TABLE_NAME),
    checks: new DynamoDbCheckLedger(dynamodb, runtime.DELIVERY_TABLE_NAME),
    summaries: new BackupJobSummaries(),
    // The lease outlasts the function's 300 s timeout: a live send is never taken over.
    pipeline: buildPipelineDeps(config, runtime, { leaseMs: 6 * 60 * 1000, org }),
    clock: systemClock,
  };
}

/**
 * The scheduled daily digest. Failures propagate: the schedule retries the invocation, and the
 * delivery ledger keeps a retry from sending any audience's digest twice.
 */
export function createHandler(build: () => DigestDeps) {
  let deps: DigestDeps | undefined;
  return async (_event: unknown, context: Context) => {
    logger.addContext(context);
    deps ??= build();
    const run = await sendDigest(deps, digestPeriod(deps.clock.now()));
    logger.info('digest done', {
      period: run.digest.period,
      quiet: run.digest.quiet,
      skipped: run.skipped,
      totals: run.digest.totals,
      deliveries: run.sent.flatMap((s) => s.deliveries.map((d) => `${d.channel}:${d.status}`)),
    });
    return { period: run.digest.period, quiet: run.digest.quiet, skipped: run.skipped };
  };
}

export const handler = createHandler(() => buildDigestDeps());
