import { UsageError } from './usage-error';
import { loadBaseline } from '../../functions/onboard-account/baseline';
import type { SweepDecision, SweepResult } from '../../functions/reconcile/sweep';
import { isInactive } from '../../functions/shared/accounts';
import { BackupJobSummaries } from '../../functions/shared/adapters/backup-job-summaries';
import {
  dynamodbClient,
  organizationsClient,
  stsClient,
} from '../../functions/shared/adapters/clients';
import { DynamoDbCheckLedger } from '../../functions/shared/adapters/dynamodb-check-ledger';
import { DynamoDbOnboardingLedger } from '../../functions/shared/adapters/dynamodb-onboarding-ledger';
import { StsAccountAccess } from '../../functions/shared/adapters/member-account';
import { OrganizationsAdmin } from '../../functions/shared/adapters/organizations-admin';
import type { Config } from '../../functions/shared/config/schema';
import { ConfigError } from '../../functions/shared/errors';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import type { Notice } from '../../functions/shared/notices/notice';
import type { PipelineDeps } from '../../functions/shared/notices/send';
import { digestNotice, type Digest } from '../../functions/send-digest/digest';
import {
  collectDigest,
  digestPeriod,
  type DigestDeps,
} from '../../functions/send-digest/send-digest';
import {
  systemClock,
  type CheckLedger,
  type CheckRecord,
  type CoverageRow,
  type OrganizationAdmin,
} from '../../functions/shared/ports';
import { checkAccount, type WatchDeps } from '../../functions/watch-account/check';
import type { Judged } from '../../functions/watch-account/coverage';
import { extraChecks } from '../../functions/watch-account/extra-checks';
import { topicArnFor } from './preview';

/**
 * backupctl's watching commands: the daily check run by hand, read-only. With the operator's
 * credentials (the management account's), member accounts are read through the baseline's
 * read-only role, else through the access roles (reads only: nothing is changed, queued or sent).
 */

const quiet = { info: () => undefined, warn: () => undefined };

/** Remembers nothing: a check by hand neither records nor repeats first-seen times. */
const NO_CHECKS: CheckLedger = {
  saveCheck: async () => undefined,
  checks: async () => new Map(),
  // Unknown: a resource never backed up is judged as if tagged long ago.
  firstSeen: async () => new Map(),
  unreported: async (_id, keys) => keys,
  markReported: async () => undefined,
};

/** A pipeline that routes but never sends (dry runs only plan). */
function planningPipeline(config: Config, org: OrganizationAdmin): PipelineDeps {
  const refuse = async (): Promise<never> => {
    throw new Error('a dry run sends nothing');
  };
  return {
    config,
    topicArn: topicArnFor(config),
    accounts: new CachedAccountContext(org, 900_000, systemClock),
    ledger: {
      claim: refuse,
      markDelivered: refuse,
      release: async () => undefined,
      delivered: async () => new Set(),
    },
    email: { send: refuse },
    sns: { publish: refuse },
    clock: systemClock,
    log: quiet,
  };
}

export function cliWatchDeps(
  config: Config,
  options: { onCoverage?: (rows: Judged[]) => void } = {},
  env: NodeJS.ProcessEnv = process.env,
): WatchDeps {
  const settings = config.onboarding;
  if (!settings) throw new ConfigError('the configuration has no "onboarding" section');
  const baseline = loadBaseline();
  const org = new OrganizationsAdmin(organizationsClient());
  const pipeline = planningPipeline(config, org);
  const checks = NO_CHECKS;
  return {
    config,
    baseline,
    org,
    access: new StsAccountAccess(stsClient(), 'backupctl'),
    clock: systemClock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: quiet,
    centralBusArn:
      env.CENTRAL_BUS_ARN ??
      'arn:aws:events:us-east-1:(management account):event-bus/(central bus)',
    controlPlaneRoleArn:
      env.CONTROL_PLANE_ROLE_ARN ?? 'arn:aws:iam::(management account):role/(onboarding role)',
    watchRoleArn: env.WATCH_ROLE_ARN ?? 'arn:aws:iam::(management account):role/(daily check role)',
    checks,
    repairs: { enqueue: async () => undefined },
    pipeline,
    roles: [baseline.readOnlyRole.name, settings.accessRole, settings.controlTowerAccessRole],
    dryRun: true,
    extraChecks: extraChecks({
      org,
      checks,
      pipeline,
      now: () => systemClock.now(),
      alert: false,
      recover: false,
      ...(options.onCoverage ? { onCoverage: options.onCoverage } : {}),
    }),
  };
}

/** Runs `work` over items, `limit` at a time, in order of the results. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The sweep's "verify" decisions turned into what today's check finds. */
export function verdictOf(decision: SweepDecision, check: CheckRecord): SweepDecision {
  switch (check.status) {
    case 'verified':
      return {
        ...decision,
        action: 'ok',
        reason: `${decision.reason.replace(/:.*$/, '')}, verified`,
      };
    case 'drift':
      return {
        ...decision,
        action: 'repair',
        reason: check.findings.map((f) => f.what).join('; '),
      };
    case 'unverifiable':
      return { ...decision, action: 'unverifiable', reason: check.reason ?? 'unknown' };
    case 'skipped':
      return { ...decision, action: 'skip', reason: check.reason ?? 'skipped' };
  }
}

export async function verifyInPlace(
  result: SweepResult,
  deps: WatchDeps,
  now = new Date(),
): Promise<SweepResult> {
  const day = now.toISOString().slice(0, 10);
  const decisions = await inParallel(result.decisions, 4, async (d) =>
    d.action === 'verify'
      ? verdictOf(d, await checkAccount({ accountId: d.accountId, day }, deps))
      : d,
  );
  const counts = { ...result.counts };
  for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] = 0;
  for (const d of decisions) counts[d.action] += 1;
  return { ...result, counts, decisions };
}

export interface CoverageOptions {
  account?: string;
  region?: string;
}

export interface CoverageReport {
  rows: CoverageRow[];
  unverifiable: { accountId: string; reason: string }[];
}

/** `backupctl coverage`: one row per tagged resource of the accounts asked for. */
export async function runCoverage(
  config: Config,
  options: CoverageOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CoverageReport> {
  const rows: CoverageRow[] = [];
  const deps = cliWatchDeps(
    config,
    {
      onCoverage: (judged) =>
        rows.push(
          ...judged
            .filter((r) => !options.region || r.region === options.region)
            .map(({ severity: _s, incident: _i, ...row }) => row),
        ),
    },
    env,
  );
  const accounts: string[] = [];
  if (options.account) accounts.push(options.account);
  else {
    const { managementAccountId } = await deps.org.describeOrganization();
    for await (const a of deps.org.listAccounts()) {
      const skipManagement =
        a.id === managementAccountId && !config.onboarding?.onboardManagementAccount;
      if (!isInactive(a.status) && !skipManagement) accounts.push(a.id);
    }
  }
  const day = new Date().toISOString().slice(0, 10);
  const unverifiable: CoverageReport['unverifiable'] = [];
  await inParallel(accounts, 4, async (accountId) => {
    const check = await checkAccount({ accountId, day }, deps);
    if (check.status === 'unverifiable') {
      unverifiable.push({ accountId, reason: check.reason ?? 'unknown' });
    } else if (check.status === 'skipped' && options.account) {
      // Asked for by id: an account that is not checked (not in the organization, suspended,
      // opted out) is said, not an empty table read as "nothing to back up".
      unverifiable.push({ accountId, reason: `not checked: ${check.reason ?? 'skipped'}` });
    }
  });
  return { rows, unverifiable };
}

/** The rows as a table a person reads. */
export function coverageText(report: CoverageReport): string {
  const table = [
    ['account', 'region', 'status', 'type', 'last backup', 'resource', 'plan / rule', 'reason'],
    ...report.rows.map((r) => [
      r.accountId,
      r.region,
      r.status,
      r.resourceType,
      r.lastBackupTime ?? 'never',
      r.resourceArn,
      `${r.policy} / ${r.rule}`,
      r.reason,
    ]),
  ];
  const widths = table[0]!.map((_, i) =>
    Math.min(60, Math.max(...table.map((row) => row[i]!.length))),
  );
  const lines = table.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
  );
  for (const u of report.unverifiable) lines.push(`UNVERIFIABLE ${u.accountId}: ${u.reason}`);
  if (!report.rows.length) lines.push('(no resource is tagged for a backup plan)');
  return lines.join('\n') + '\n';
}

/** `--since 24h` / `2d` in milliseconds. */
export function parseSince(text: string): number {
  const m = /^(\d{1,4})\s*(h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) {
    throw new UsageError(`--since "${text}" must be a number of hours or days, e.g. 24h or 2d`);
  }
  return Number(m[1]) * (m[2] === 'd' ? 24 : 1) * 3600 * 1000;
}

/** `backupctl digest`: the digest as the scheduled function would build it, sent to nobody. */
export async function runDigest(
  config: Config,
  options: { sinceMs?: number },
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ digest: Digest; notice: Notice }> {
  const table = env.DELIVERY_TABLE_NAME;
  if (!table) {
    throw new ConfigError(
      'set DELIVERY_TABLE_NAME (stack output LedgerTableName): the digest reads the daily checks and onboarding records there',
    );
  }
  const org = new OrganizationsAdmin(organizationsClient());
  const dynamodb = dynamodbClient();
  const deps: DigestDeps = {
    config,
    org,
    onboarding: new DynamoDbOnboardingLedger(dynamodb, table),
    checks: new DynamoDbCheckLedger(dynamodb, table),
    summaries: new BackupJobSummaries(),
    pipeline: planningPipeline(config, org),
    clock: systemClock,
  };
  const digest = await collectDigest(deps, digestPeriod(systemClock.now(), options.sinceMs));
  return { digest, notice: digestNotice(digest, { kind: 'digest' }) };
}
