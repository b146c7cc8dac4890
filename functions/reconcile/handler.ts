import type { Context } from 'aws-lambda';
import { dynamodbClient, organizationsClient, sqsClient } from '../shared/adapters/clients';
import { DynamoDbOnboardingLedger } from '../shared/adapters/dynamodb-onboarding-ledger';
import { EventBridgeRuleForwarding } from '../shared/adapters/eventbridge-rule-forwarding';
import { OrganizationsAdmin } from '../shared/adapters/organizations-admin';
import { SqsWorkQueue } from '../shared/adapters/sqs-work-queue';
import { loadOnboardingRuntime } from '../shared/config';
import { ConfigError, errorMessage } from '../shared/errors';
import { logger } from '../shared/logger';
import { systemClock } from '../shared/ports';
import { loadBaseline } from '../onboard-account/baseline';
import { controlTowerForwardingSpec } from './control-tower';
import { sweep, type SweepDeps, type SweepResult } from './sweep';

export interface ReconcileDeps extends SweepDeps {
  /** Puts Control Tower's home-region rule back as declared; returns what was wrong. */
  controlTowerForwarding?: () => Promise<string[]>;
}

/** The home-region rule when the stack declares one (Control Tower outside us-east-1). */
function controlTowerForwarding(
  env: NodeJS.ProcessEnv,
): ReconcileDeps['controlTowerForwarding'] | undefined {
  const { onboarding } = loadOnboardingRuntime(env);
  const rule = onboarding.CONTROL_TOWER_FORWARDING_RULE_ARN;
  const role = onboarding.CONTROL_TOWER_FORWARDER_ROLE_ARN;
  if (!rule && !role) return undefined;
  if (!rule || !role) {
    throw new ConfigError(
      'CONTROL_TOWER_FORWARDING_RULE_ARN and CONTROL_TOWER_FORWARDER_ROLE_ARN are set together',
    );
  }
  const spec = controlTowerForwardingSpec(rule, role);
  const rules = new EventBridgeRuleForwarding();
  return () => rules.ensure(spec);
}

/** The dependencies from the deployed environment; a bad configuration fails loudly. */
export function buildReconcileDeps(env: NodeJS.ProcessEnv = process.env): ReconcileDeps {
  const forwarding = controlTowerForwarding(env);
  return { ...buildSweepDeps(env), ...(forwarding ? { controlTowerForwarding: forwarding } : {}) };
}

/** The sweep's dependencies (backupctl reconcile uses them too). */
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
export function createHandler(build: () => ReconcileDeps) {
  let deps: ReconcileDeps | undefined;
  return async (
    _event: unknown,
    context: Context,
  ): Promise<Omit<SweepResult, 'decisions'> & { controlTowerForwarding?: string[] }> => {
    logger.addContext(context);
    deps ??= build();
    // First, so a vended account's event is not lost for one more day.
    let repaired: string[] | undefined;
    let forwardingError: unknown;
    if (deps.controlTowerForwarding) {
      try {
        repaired = await deps.controlTowerForwarding();
        if (repaired.length) {
          logger.warn('Control Tower forwarding rule put back as declared', {
            differences: repaired,
          });
        }
      } catch (error) {
        // The sweep still runs (it onboards vended accounts anyway); the failure is raised after.
        forwardingError = error;
        logger.error('Control Tower forwarding rule could not be checked', {
          error: errorMessage(error),
        });
      }
    }
    const result = await sweep(deps);
    for (const d of result.decisions.filter((x) => x.action !== 'ok')) {
      logger.info('sweep decision', { accountId: d.accountId, action: d.action, reason: d.reason });
    }
    logger.info('sweep done', {
      accounts: result.accounts,
      enqueued: result.enqueued,
      counts: result.counts,
    });
    if (forwardingError) throw forwardingError;
    return {
      accounts: result.accounts,
      enqueued: result.enqueued,
      counts: result.counts,
      ...(repaired ? { controlTowerForwarding: repaired } : {}),
    };
  };
}

export const handler = createHandler(() => buildReconcileDeps());
