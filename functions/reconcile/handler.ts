import type { Context } from 'aws-lambda';
import { dynamodbClient, organizationsClient, sqsClient } from '../shared/adapters/clients';
import { DynamoDbOnboardingLedger } from '../shared/adapters/dynamodb-onboarding-ledger';
import {
  EventBridgeRuleForwarding,
  type ForwardingRuleSpec,
} from '../shared/adapters/eventbridge-rule-forwarding';
import { OrganizationsAdmin } from '../shared/adapters/organizations-admin';
import { SqsWorkQueue } from '../shared/adapters/sqs-work-queue';
import { loadOnboardingRuntime } from '../shared/config/runtime';
import { ConfigError, errorMessage } from '../shared/errors';
import { logger } from '../shared/logger';
import { systemClock } from '../shared/ports';
import { forwardedPattern, loadBaseline } from '../onboard-account/baseline';
import {
  controlTowerForwardingSpec,
  managementForwardingRegions,
  managementForwardingSpecs,
  stackRegionOf,
} from './region-forwarding';
import { sweep, type SweepDeps, type SweepResult } from './sweep';

export interface ReconcileDeps extends SweepDeps {
  /** Puts the stack's rules in other regions back as declared; returns what was wrong. */
  regionForwarding?: () => Promise<string[]>;
}

/**
 * The rules in other regions the stack declares (Control Tower's home region, the management
 * account's other backup regions). Built when the sweep runs, so a bad value is reported with
 * the rest instead of stopping the sweep.
 */
export function regionForwardingSpecs(env: NodeJS.ProcessEnv): ForwardingRuleSpec[] {
  const { config, onboarding } = loadOnboardingRuntime(env);
  const controlTower = onboarding.CONTROL_TOWER_FORWARDING_RULE_ARN;
  const management = onboarding.MANAGEMENT_FORWARDING_RULE_ARN;
  const role = onboarding.REGION_FORWARDER_ROLE_ARN;
  if (!controlTower && !management) return [];
  if (!role) {
    throw new ConfigError(
      'REGION_FORWARDER_ROLE_ARN is not set, but CONTROL_TOWER_FORWARDING_RULE_ARN or MANAGEMENT_FORWARDING_RULE_ARN is: the rules need the role',
    );
  }
  return [
    ...(controlTower ? [controlTowerForwardingSpec(controlTower, role)] : []),
    ...(management
      ? managementForwardingSpecs(
          management,
          role,
          forwardedPattern(loadBaseline()),
          managementForwardingRegions(config, stackRegionOf(management)),
        )
      : []),
  ];
}

/** Keeps every rule as declared, even when one fails; the failures are raised together. */
async function ensureAll(
  rules: EventBridgeRuleForwarding,
  specs: readonly ForwardingRuleSpec[],
): Promise<string[]> {
  const repaired: string[] = [];
  const failed: string[] = [];
  for (const spec of specs) {
    try {
      repaired.push(...(await rules.ensure(spec)));
    } catch (error) {
      failed.push(`rule ${spec.name} in ${spec.region}: ${errorMessage(error)}`);
    }
  }
  if (failed.length) {
    throw new Error(
      `forwarding rules could not be kept as declared (${failed.join('; ')})${repaired.length ? `; put back: ${repaired.join('; ')}` : ''}`,
    );
  }
  return repaired;
}

/** The dependencies from the deployed environment; a bad configuration fails loudly. */
export function buildReconcileDeps(env: NodeJS.ProcessEnv = process.env): ReconcileDeps {
  const { onboarding } = loadOnboardingRuntime(env);
  const declared =
    onboarding.CONTROL_TOWER_FORWARDING_RULE_ARN || onboarding.MANAGEMENT_FORWARDING_RULE_ARN;
  const rules = new EventBridgeRuleForwarding();
  return {
    ...buildSweepDeps(env),
    ...(declared
      ? { regionForwarding: async () => ensureAll(rules, regionForwardingSpecs(env)) }
      : {}),
  };
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
  ): Promise<Omit<SweepResult, 'decisions'> & { regionForwarding?: string[] }> => {
    logger.addContext(context);
    deps ??= build();
    // First, so a vended account's event is not lost for one more day.
    let repaired: string[] | undefined;
    let forwardingError: unknown;
    if (deps.regionForwarding) {
      try {
        repaired = await deps.regionForwarding();
        if (repaired.length) {
          logger.warn('forwarding rules put back as declared', { differences: repaired });
        }
      } catch (error) {
        // The sweep still runs (it onboards vended accounts anyway); the failure is raised after.
        forwardingError = error;
        logger.error('forwarding rules could not be checked', { error: errorMessage(error) });
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
      ...(repaired ? { regionForwarding: repaired } : {}),
    };
  };
}

export const handler = createHandler(() => buildReconcileDeps());
