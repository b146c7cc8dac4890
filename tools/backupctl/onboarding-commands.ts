import { UsageError } from './usage-error';
import { loadBaseline } from '../../functions/onboard-account/baseline';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import {
  NO_LEDGER,
  SILENT_NOTIFIER,
  StepFailure,
  onboardAccount,
  type OnboardDeps,
  type OnboardResult,
} from '../../functions/onboard-account/onboard';
import { sweep, type SweepResult } from '../../functions/reconcile/sweep';
import { cliWatchDeps, verifyInPlace } from './watch-commands';
import {
  dynamodbClient,
  organizationsClient,
  sqsClient,
  stsClient,
} from '../../functions/shared/adapters/clients';
import { DynamoDbOnboardingLedger } from '../../functions/shared/adapters/dynamodb-onboarding-ledger';
import { StsAccountAccess } from '../../functions/shared/adapters/member-account';
import { OrganizationsAdmin } from '../../functions/shared/adapters/organizations-admin';
import { SqsWorkQueue } from '../../functions/shared/adapters/sqs-work-queue';
import type { Config } from '../../functions/shared/config/schema';
import { CONFIG_ENV } from '../../functions/shared/config/runtime';
import { ConfigError } from '../../functions/shared/errors';
import { isAccountId } from '../../functions/shared/patterns';
import type { WorkQueue } from '../../functions/shared/ports';
import { systemClock } from '../../functions/shared/ports';

/**
 * backupctl's onboarding commands. `plan` on an account event needs no AWS; `onboard` and
 * `reconcile` call AWS with the caller's credentials (the management account's), and, when not
 * a dry run, the stack's resources named by the same environment variables the functions get.
 */

const REQUIRED_FOR_RUNS = [
  'DELIVERY_TABLE_NAME',
  'TOPIC_ARNS',
  'CENTRAL_BUS_ARN',
  'CONTROL_PLANE_ROLE_ARN',
  'WATCH_ROLE_ARN',
];

function requireEnv(names: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const missing = names.filter((n) => !env[n]);
  if (missing.length) {
    throw new ConfigError(
      `set ${missing.join(', ')} from the stack's outputs (LedgerTableName, TopicArns, ` +
        `BackupEventBusArn, OnboardAccountRoleArn, WatchAccountRoleArn, OnboardingQueueUrl), or use --dry-run`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, env[n]!]));
}

export function cliOnboardDeps(
  config: Config,
  dryRun: boolean,
  env: NodeJS.ProcessEnv = process.env,
): OnboardDeps {
  if (!config.onboarding) throw new ConfigError('the configuration has no "onboarding" section');
  // The command prints JSON on stdout: the function's log lines would mix into it.
  const quiet = { log: { info: () => undefined, warn: () => undefined } };
  const owner = `backupctl-${process.pid}-${Date.now()}`;
  if (!dryRun) {
    requireEnv(REQUIRED_FOR_RUNS, env);
    // The function's own composition, given this configuration instead of the stack's variable.
    const deps = buildOnboardingDeps({ ...env, [CONFIG_ENV]: JSON.stringify(config) });
    // The member role trusts only the onboarding function's role: the operator's credentials
    // assume the administrator access roles.
    return { ...deps, ...quiet, owner, accessViaAdminRoles: true };
  }
  // A dry run only reads Organizations and the account: no ledger, no messages, no stack needed.
  return {
    config,
    baseline: loadBaseline(),
    org: new OrganizationsAdmin(organizationsClient()),
    access: new StsAccountAccess(stsClient(), 'backupctl'),
    clock: systemClock,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    ...quiet,
    owner,
    accessViaAdminRoles: true,
    ledger: NO_LEDGER,
    notifier: SILENT_NOTIFIER,
    centralBusArn:
      env.CENTRAL_BUS_ARN ??
      'arn:aws:events:us-east-1:(management account):event-bus/(central bus)',
    controlPlaneRoleArn:
      env.CONTROL_PLANE_ROLE_ARN ?? 'arn:aws:iam::(management account):role/(onboarding role)',
    watchRoleArn: env.WATCH_ROLE_ARN ?? 'arn:aws:iam::(management account):role/(daily check role)',
  };
}

export async function runOnboard(
  accountId: string,
  config: Config,
  options: { dryRun: boolean },
  deps: OnboardDeps = cliOnboardDeps(config, options.dryRun),
): Promise<{ exitCode: number; output: Record<string, unknown> }> {
  if (!isAccountId(accountId)) {
    throw new UsageError(`"${accountId}" is not a 12-digit account id`);
  }
  // A typo is not an onboarding failure: nothing is recorded or sent for an unknown account.
  try {
    await deps.org.describeAccount(accountId);
  } catch (error) {
    const name = (error as { name?: string }).name ?? '';
    if (name !== 'AccountNotFoundException') throw error;
    return {
      exitCode: 1,
      output: {
        accountId,
        outcome: 'failed',
        error: {
          step: 'resolve',
          message: `account ${accountId} is not in this organization (AccountNotFoundException)`,
        },
      },
    };
  }
  let result: OnboardResult;
  try {
    result = await onboardAccount({ accountId, trigger: 'Manual', dryRun: options.dryRun }, deps);
  } catch (error) {
    // A dry run that cannot finish (the role cannot be assumed, a read is denied) says where.
    if (!(error instanceof StepFailure)) throw error;
    return {
      exitCode: 1,
      output: {
        accountId,
        outcome: 'failed',
        error: { step: error.step, message: error.message, advice: error.advice },
      },
    };
  }
  const output: Record<string, unknown> = {
    accountId,
    outcome: result.outcome === 'planned' && result.skipReason ? 'skipped' : result.outcome,
  };
  if (result.outcome === 'planned') {
    Object.assign(output, {
      ...(result.profile ? { profile: result.profile } : {}),
      ...(result.skipReason ? { skipReason: result.skipReason } : {}),
      changes: result.changes,
      ...(result.findings.length ? { differences: result.findings.map((f) => f.what) } : {}),
    });
  } else if (result.outcome === 'busy') {
    Object.assign(output, { lockedSince: result.since, lockedUntil: result.until });
  } else {
    Object.assign(output, {
      status: result.record.status,
      profile: result.record.profile,
      baselineVersion: result.record.baselineVersion,
      changes: result.changes,
      ...(result.record.lastError && result.outcome === 'failed'
        ? { error: result.record.lastError }
        : {}),
      ...(result.record.skipReason ? { skipReason: result.record.skipReason } : {}),
    });
  }
  return { exitCode: result.outcome === 'failed' ? 1 : 0, output };
}

export async function runReconcile(
  config: Config,
  options: { dryRun: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<SweepResult> {
  if (!config.onboarding) throw new ConfigError('the configuration has no "onboarding" section');
  const ledgerTable = env.DELIVERY_TABLE_NAME;
  let queue: WorkQueue = { enqueue: async () => undefined };
  let watchQueue: WorkQueue | undefined;
  if (!options.dryRun) {
    const e = requireEnv(['DELIVERY_TABLE_NAME', 'ONBOARDING_QUEUE_URL'], env);
    queue = new SqsWorkQueue(sqsClient(), e.ONBOARDING_QUEUE_URL!);
    if (env.WATCH_QUEUE_URL) watchQueue = new SqsWorkQueue(sqsClient(), env.WATCH_QUEUE_URL);
  }
  const result = await sweep(
    {
      config,
      baselineVersion: loadBaseline().version,
      org: new OrganizationsAdmin(organizationsClient()),
      // Without the table (a dry run before deploying) every account looks new.
      ledger: ledgerTable ? new DynamoDbOnboardingLedger(dynamodbClient(), ledgerTable) : NO_LEDGER,
      queue,
      ...(watchQueue ? { watchQueue } : {}),
      clock: systemClock,
    },
    { ...options, verify: options.dryRun || Boolean(watchQueue) },
  );
  // A dry run checks each ready account now, read-only: drift, coverage, access.
  return options.dryRun ? verifyInPlace(result, cliWatchDeps(config, {}, env)) : result;
}
