import {
  NO_LEDGER,
  SILENT_NOTIFIER,
  StepFailure,
  onboardAccount,
  type OnboardDeps,
} from '../onboard-account/onboard';
import { currentPartition } from '../shared/partition';
import type { OnboardRequestMessage } from '../onboard-account/process-record';
import { errorMessage, isAccessDenied } from '../shared/errors';

export { isAccessDenied };
import { sendNotice, type PipelineDeps } from '../shared/notices/send';
import type {
  CheckFinding,
  CheckLedger,
  CheckRecord,
  MemberAccount,
  WorkQueue,
} from '../shared/ports';
import { unverifiableNotice } from './notices';

/**
 * The daily check of one ready account, through the baseline's read-only role: is everything
 * onboarding built still there and as declared (drift)? The comparison is onboarding itself, run
 * as a dry run: one definition of the baseline, one way to compare. Drift is repaired through
 * onboarding (admins hear what it was, who changed it and that it was fixed); an account that
 * cannot be read is "unverifiable", never "ok", and is reported. Coverage and lost events are
 * checked with the same access (coverage.ts, lost-events.ts).
 */

export interface WatchRequest {
  accountId: string;
  /** The UTC day this check is for (YYYY-MM-DD): one check per account and day. */
  day: string;
}

export interface WatchDeps extends Omit<OnboardDeps, 'owner' | 'ledger' | 'notifier'> {
  checks: CheckLedger;
  /** The onboarding queue, where repairs go. */
  repairs: WorkQueue;
  pipeline: PipelineDeps;
  /**
   * Roles to read the account through, in order: the baseline's read-only role (the deployed
   * function), then the operator's access roles (backupctl run by hand, with admin credentials).
   */
  roles?: string[];
  /** Runs the extra checks once access works (coverage, lost events). */
  extraChecks?: (ctx: CheckContext) => Promise<Partial<CheckRecord>>;
  /** backupctl reconcile --dry-run: report only (no record saved, no repair, no message). */
  dryRun?: boolean;
}

export interface CheckContext {
  accountId: string;
  day: string;
  member: MemberAccount;
  profileName: string;
  /** The drift found, which may be why backups do not happen (a missing vault or role). */
  findings: CheckFinding[];
}

/** How far back CloudTrail is asked who made a change. */
const WHO_LOOKBACK_MS = 7 * 24 * 3600 * 1000;
const MAX_WHO_LOOKUPS = 20;

export async function checkAccount(req: WatchRequest, deps: WatchDeps): Promise<CheckRecord> {
  const roles = deps.roles ?? [deps.baseline.readOnlyRole.name];
  const now = deps.clock.now();
  // The dry run and the checks after it share one set of credentials: one AssumeRole per check.
  const assumed = new Map<string, Promise<MemberAccount>>();
  const access: WatchDeps['access'] = {
    assume: (accountId, role) => {
      const key = `${accountId}/${role}`;
      let member = assumed.get(key);
      if (!member) {
        member = deps.access.assume(accountId, role);
        assumed.set(key, member);
        member.catch(() => assumed.delete(key));
      }
      return member;
    },
  };
  const base = { accountId: req.accountId, day: req.day, checkedAt: now.toISOString() };
  let dry;
  try {
    dry = await onboardAccount(
      { accountId: req.accountId, trigger: 'Reconcile', dryRun: true, roles },
      { ...deps, access, ledger: NO_LEDGER, notifier: SILENT_NOTIFIER, owner: 'daily-check' },
    );
  } catch (error) {
    const step = error instanceof StepFailure ? error.step : 'check';
    const cause = error instanceof StepFailure ? error.cause : error;
    if ((cause as { name?: string } | undefined)?.name === 'AccountNotFoundException') {
      // The account left (or was closed and removed) between the sweep and its check.
      const record: CheckRecord = {
        ...base,
        status: 'skipped',
        reason: 'the account is no longer in the organization',
        findings: [],
      };
      if (!deps.dryRun) await deps.checks.saveCheck(record);
      deps.log.info('account vanished before its check; skipped', { accountId: req.accountId });
      return record;
    }
    // Throttling and outages are retried with the record; only "not allowed" is a verdict.
    if (!isAccessDenied(cause ?? error)) throw error;
    return unverifiable(req, deps, `${step}: ${errorMessage(error)}`, base);
  }
  if (dry.outcome !== 'planned') throw new Error(`a dry run ended with ${dry.outcome}`);
  if (dry.skipReason) {
    const record: CheckRecord = {
      ...base,
      status: 'skipped',
      reason: dry.skipReason,
      findings: [],
    };
    if (!deps.dryRun) await deps.checks.saveCheck(record);
    return record;
  }

  let member: MemberAccount | undefined;
  for (const role of roles) {
    try {
      member = await access.assume(req.accountId, role);
      break;
    } catch (error) {
      if (role === roles[roles.length - 1]) {
        return unverifiable(req, deps, `access: ${errorMessage(error)}`, base);
      }
    }
  }
  const findings = await withWho(dry.findings, member!, now, deps);
  // The repair first: a coverage or lost-event send that fails (SES quota, a broken topic) fails
  // the record, and its retries must not leave the baseline broken meanwhile (onboarding is
  // idempotent, and its notice is sent once per day and drift).
  if (!deps.dryRun && findings.length) await requestRepair(req, findings, deps);
  let extra: Partial<CheckRecord> = {};
  if (deps.extraChecks && dry.profile) {
    try {
      extra = await deps.extraChecks({
        accountId: req.accountId,
        day: req.day,
        member: member!,
        profileName: dry.profile,
        findings,
      });
    } catch (error) {
      if (!isAccessDenied(error)) throw error;
      return unverifiable(req, deps, `coverage and job history: ${errorMessage(error)}`, base);
    }
  }
  const record: CheckRecord = {
    ...base,
    status: findings.length ? 'drift' : 'verified',
    ...(dry.profile ? { profile: dry.profile } : {}),
    findings,
    ...extra,
  };
  if (!deps.dryRun) await deps.checks.saveCheck(record);
  deps.log.info('account checked', {
    accountId: req.accountId,
    status: record.status,
    findings: findings.map((f) => f.what),
  });
  return record;
}

/** Asks CloudTrail, in the finding's region (IAM in us-east-1), who last changed each resource. */
async function withWho(
  findings: CheckFinding[],
  member: MemberAccount,
  now: Date,
  deps: WatchDeps,
): Promise<CheckFinding[]> {
  const since = new Date(now.getTime() - WHO_LOOKBACK_MS);
  const out: CheckFinding[] = [];
  for (const [i, f] of findings.entries()) {
    // Organizations resources (policies, the root) are logged in the management account's trail.
    const inAccount = f.region !== undefined || f.resource.startsWith('backup-control-plane');
    if (!inAccount || i >= MAX_WHO_LOOKUPS) {
      out.push(f);
      continue;
    }
    try {
      // IAM's changes are logged where the partition's global services log them.
      const region = f.region ?? currentPartition().globalServicesRegion;
      const who = await member.trail(region).lastChange(f.resource, since);
      out.push(who ? { ...f, who } : f);
    } catch (error) {
      // Who did it is a courtesy: without cloudtrail:LookupEvents the drift is still reported.
      deps.log.warn('CloudTrail lookup failed; reporting the drift without who', {
        accountId: member.accountId,
        resource: f.resource,
        error: errorMessage(error),
      });
      out.push(f);
    }
  }
  return out;
}

async function requestRepair(req: WatchRequest, drift: CheckFinding[], deps: WatchDeps) {
  const message: OnboardRequestMessage = {
    kind: 'onboard-request',
    accountId: req.accountId,
    trigger: 'Drift',
    requestedAt: deps.clock.now().toISOString(),
    drift: drift.slice(0, 200),
  };
  await deps.repairs.enqueue([message]);
}

async function unverifiable(
  req: WatchRequest,
  deps: WatchDeps,
  reason: string,
  base: Pick<CheckRecord, 'accountId' | 'day' | 'checkedAt'>,
): Promise<CheckRecord> {
  const role = deps.baseline.readOnlyRole.name;
  const record: CheckRecord = { ...base, status: 'unverifiable', reason, findings: [] };
  deps.log.warn('account could not be verified', { accountId: req.accountId, reason });
  if (deps.dryRun) return record;
  await deps.checks.saveCheck(record);
  await sendNotice(
    unverifiableNotice({
      accountId: req.accountId,
      day: req.day,
      reason,
      role,
      watchRoleArn: deps.watchRoleArn,
    }),
    deps.pipeline,
  );
  // Onboarding (with the access role) recreates a missing or changed read-only role.
  await requestRepair(
    req,
    [
      {
        what: `the control plane cannot read the account through ${role}: ${reason}`,
        resource: role,
      },
    ],
    deps,
  );
  return record;
}
