import { isInactive } from '../shared/accounts';
import type { Config } from '../shared/config/schema';
import type {
  AccountRecord,
  Clock,
  OrgAccount,
  OnboardingLedger,
  OrganizationAdmin,
  WorkQueue,
} from '../shared/ports';
import type {
  OffboardRequestMessage,
  OnboardRequestMessage,
} from '../onboard-account/process-record';

/**
 * The safety net under best-effort events: every account of the organization, compared with its
 * ledger entry. Accounts that were never onboarded, failed, stopped part way, or carry an older
 * baseline are put on the onboarding queue, where each gets the usual locked, idempotent run.
 */

/**
 * onboard, repair, recheck: queued for onboarding. verify: a ready account, queued for its daily
 * check (drift, coverage, lost events). ok: verified (backupctl reconcile --dry-run checks in
 * place). unverifiable: the check could not read the account.
 */
export type SweepAction =
  | 'onboard'
  | 'repair'
  | 'recheck'
  | 'verify'
  | 'skip'
  | 'ok'
  | 'unverifiable'
  /** Gone from the organization, or suspended or closed, and not yet recorded so. */
  | 'offboard';

export interface SweepDecision {
  accountId: string;
  name?: string;
  action: SweepAction;
  reason: string;
  /** With offboard: gone from the organization, or listed but suspended or closed. */
  departure?: 'departed' | 'closing';
}

export interface SweepDeps {
  config: Config;
  baselineVersion: number;
  org: OrganizationAdmin;
  ledger: OnboardingLedger;
  queue: WorkQueue;
  /** The daily check's queue: ready accounts go there. Without it they are only "ok". */
  watchQueue?: WorkQueue;
  clock: Clock;
}

export interface SweepResult {
  accounts: number;
  enqueued: number;
  counts: Record<SweepAction, number>;
  decisions: SweepDecision[];
}

export function decideAccount(
  account: OrgAccount,
  record: AccountRecord | undefined,
  ctx: {
    managementAccountId: string;
    onboardManagementAccount: boolean;
    baselineVersion: number;
    staleAfterMs: number;
    now: Date;
    /** Ready accounts get their daily check. */
    verify?: boolean;
  },
): SweepDecision {
  const base = { accountId: account.id, name: account.name };
  if (isInactive(account.status)) {
    // A closed account stays listed for 90 days: told once, then left alone.
    const known = record?.status === 'closing' || record?.status === 'departed';
    return known || !record
      ? { ...base, action: 'skip', reason: `account is ${account.status}` }
      : {
          ...base,
          action: 'offboard',
          reason: `account is ${account.status}`,
          departure: 'closing',
        };
  }
  if (account.id === ctx.managementAccountId && !ctx.onboardManagementAccount) {
    return {
      ...base,
      action: 'skip',
      reason: 'management account (onboardManagementAccount is false)',
    };
  }
  if (!record) return { ...base, action: 'onboard', reason: 'no ledger entry' };
  switch (record.status) {
    case 'failed':
      return {
        ...base,
        action: 'repair',
        reason: `failed at ${record.lastError?.step ?? '?'}: ${record.lastError?.message ?? '?'}`,
      };
    case 'onboarding': {
      const age = ctx.now.getTime() - Date.parse(record.updatedAt);
      // An unreadable time is treated as stale: better one more run than an account stuck.
      return !(age <= ctx.staleAfterMs)
        ? {
            ...base,
            action: 'repair',
            reason: `a run stopped part way (last step saved ${record.updatedAt})`,
          }
        : { ...base, action: 'ok', reason: 'onboarding in progress' };
    }
    case 'departed':
    case 'closing':
      // Listed and active again: it joined again, or was reopened.
      return {
        ...base,
        action: 'onboard',
        reason: `${record.status} before (${record.departure?.trigger ?? '?'}), active in the organization again`,
      };
    case 'skipped':
      // An opt-out tag may have been removed since.
      return { ...base, action: 'recheck', reason: `skipped before: ${record.skipReason ?? '?'}` };
    case 'ready':
      return (record.baselineVersion ?? 0) < ctx.baselineVersion
        ? {
            ...base,
            action: 'repair',
            reason: `baseline v${record.baselineVersion ?? 0} → v${ctx.baselineVersion}`,
          }
        : {
            ...base,
            action: ctx.verify ? 'verify' : 'ok',
            reason: `ready, baseline v${record.baselineVersion}${ctx.verify ? ': checked against it today' : ''}`,
          };
  }
}

export async function sweep(
  deps: SweepDeps,
  options: { dryRun?: boolean; verify?: boolean } = {},
): Promise<SweepResult> {
  const onboarding = deps.config.onboarding;
  if (!onboarding) throw new Error('configuration has no "onboarding" section');
  const organization = await deps.org.describeOrganization();
  // Another organization's credentials with this ledger would call every account departed.
  if (organization.id && organization.id !== deps.config.organizationId) {
    throw new Error(
      `these credentials are organization ${organization.id}'s, the configuration's organizationId is ${deps.config.organizationId}: nothing swept`,
    );
  }
  const listedAt = deps.clock.now();
  const accounts: OrgAccount[] = [];
  for await (const account of deps.org.listAccounts()) accounts.push(account);
  const records = await deps.ledger.getMany(accounts.map((a) => a.id));
  const now = deps.clock.now();
  const ctx = {
    managementAccountId: organization.managementAccountId,
    onboardManagementAccount: onboarding.onboardManagementAccount,
    baselineVersion: deps.baselineVersion,
    staleAfterMs: 2 * onboarding.lockSeconds * 1000,
    now,
    verify: Boolean(deps.watchQueue) || Boolean(options.verify),
  };
  const decisions = accounts.map((a) => decideAccount(a, records.get(a.id), ctx));
  // Accounts the ledger knows that the organization no longer lists: they left.
  const listed = new Set(accounts.map((a) => a.id));
  for (const record of await deps.ledger.list()) {
    if (listed.has(record.accountId) || record.status === 'departed') continue;
    // Written since the listing began (a new account being onboarded): not a departure.
    if (!(Date.parse(record.updatedAt) < listedAt.getTime())) continue;
    decisions.push({
      accountId: record.accountId,
      action: 'offboard',
      reason: 'no longer in the organization',
      departure: 'departed',
    });
  }
  const work = decisions.filter(
    (d) => d.action === 'onboard' || d.action === 'repair' || d.action === 'recheck',
  );
  const leaving = decisions.filter((d) => d.action === 'offboard');
  if (!options.dryRun && (work.length || leaving.length)) {
    const messages: (OnboardRequestMessage | OffboardRequestMessage)[] = [
      ...work.map((d): OnboardRequestMessage => ({
        kind: 'onboard-request',
        accountId: d.accountId,
        trigger: 'Reconcile',
        requestedAt: now.toISOString(),
      })),
      ...leaving.map((d): OffboardRequestMessage => ({
        kind: 'offboard-request',
        accountId: d.accountId,
        departure: d.departure ?? 'departed',
        seen: d.reason,
        requestedAt: now.toISOString(),
      })),
    ];
    await deps.queue.enqueue(messages);
  }
  const checks = decisions.filter((d) => d.action === 'verify');
  if (!options.dryRun && checks.length && deps.watchQueue) {
    const day = now.toISOString().slice(0, 10);
    await deps.watchQueue.enqueue(
      checks.map((d) => ({
        kind: 'watch-request',
        accountId: d.accountId,
        day,
        requestedAt: now.toISOString(),
      })),
    );
  }
  const counts: Record<SweepAction, number> = {
    onboard: 0,
    repair: 0,
    recheck: 0,
    verify: 0,
    skip: 0,
    ok: 0,
    unverifiable: 0,
    offboard: 0,
  };
  for (const d of decisions) counts[d.action] += 1;
  return {
    accounts: accounts.length,
    enqueued: options.dryRun
      ? 0
      : work.length + leaving.length + (deps.watchQueue ? checks.length : 0),
    counts,
    decisions,
  };
}
