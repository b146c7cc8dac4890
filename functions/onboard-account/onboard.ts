import { isInactive } from '../shared/accounts';
import type { Config, Onboarding } from '../shared/config/schema';
import { errorMessage } from '../shared/errors';
import type {
  AccountAccess,
  AccountRecord,
  Clock,
  Log,
  OrganizationAdmin,
  OnboardingLedger,
  StepRecord,
} from '../shared/ports';
import { readEffectivePolicy } from '../shared/backup-plans/merge';
import type { PlanDescription } from '../shared/backup-plans/describe';
import { ouPathOf } from '../shared/notices/account-context';
import type { Baseline } from './baseline';
import type { OnboardingNotifier } from './notices';
import { ensureAccountTags } from './resources/account-tags';
import type { Act, Finding } from './resources/change';
import { adviceFor, ONBOARDING_STEPS, Progress, StepFailure, stepName } from './steps';
import type { Trigger } from './triggers';

/**
 * One account's onboarding: the lock, the ledger record, the steps of steps.ts in order (resolve →
 * profile → access → baseline IAM → per region: key, vault, forwarding → backup policies → verify
 * → tags), then the notice. Every step checks first and acts only on what differs, and its outcome
 * is saved before the next starts, so a run that dies anywhere is finished by the next trigger or
 * the sweep. A dry run (the daily drift check) records what it would change and changes nothing.
 */

export type { Finding } from './resources/change';
export { StepFailure, verifyReady, ONBOARDING_STEPS } from './steps';
export { globalEventsRegion } from './resources/forwarding';
export { ouPathOf };

export interface OnboardDeps {
  config: Config;
  baseline: Baseline;
  org: OrganizationAdmin;
  access: AccountAccess;
  ledger: OnboardingLedger;
  notifier: OnboardingNotifier;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  log: Log;
  centralBusArn: string;
  controlPlaneRoleArn: string;
  /**
   * Assume the administrator access roles even when `onboarding.memberRole` is set: an
   * operator's `backupctl onboard`, whose credentials the member role does not trust.
   */
  accessViaAdminRoles?: boolean;
  /** The daily check's role, which the member read-only role trusts too. */
  watchRoleArn: string;
  /** Who holds the account's lock: the invocation's request id. */
  owner: string;
  /** Called after each step is recorded (tests inject faults here). */
  afterStep?: (step: string) => void | Promise<void>;
}

export interface OnboardRequest {
  accountId: string;
  trigger: Trigger;
  controlTower?: boolean;
  /** When the triggering event happened: a run that started later already covers it. */
  eventTime?: string;
  dryRun?: boolean;
  /** Roles to assume instead of the access roles: the read-only role for the daily check. */
  roles?: string[];
  /** What the daily check found different (it sent this run): admins hear it was repaired. */
  drift?: DriftFinding[];
}

/** A drift finding with who made the change, where CloudTrail could say so. */
export interface DriftFinding extends Finding {
  who?: { identity: string; action: string; time: string };
}

export type OnboardResult =
  | { outcome: 'ready' | 'skipped'; record: AccountRecord; changes: string[] }
  | {
      outcome: 'failed';
      record: AccountRecord;
      changes: string[];
      /** The same failure was reported before this run: admins already know. */
      alreadyReported: boolean;
    }
  | {
      outcome: 'planned';
      profile?: string;
      changes: string[];
      /** What differs from the baseline now: drift, for an account that was ready. */
      findings: Finding[];
      skipReason?: string;
    }
  | { outcome: 'busy'; covered: boolean; since?: string; until?: string };

export class AccountBusyError extends Error {
  override name = 'AccountBusyError';
}

/** A ledger that remembers nothing: dry runs never lock or save. */
export const NO_LEDGER: OnboardingLedger = {
  get: async () => undefined,
  getMany: async () => new Map<string, AccountRecord>(),
  list: async () => [],
  acquire: async () => ({ acquired: true }),
  release: async () => undefined,
  save: async () => undefined,
};

/** Dry runs tell nobody. */
export const SILENT_NOTIFIER: OnboardingNotifier = {
  ready: async () => undefined,
  driftRepaired: async () => undefined,
  failed: async () => undefined,
  creationFailed: async () => undefined,
  departed: async () => undefined,
};

/** The lock owner of a run recording a departure starts with this. */
export const OFFBOARD_OWNER_PREFIX = 'offboard:';

export function onboardingConfig(config: Config): Onboarding {
  if (!config.onboarding) throw new Error('configuration has no "onboarding" section');
  return config.onboarding;
}

export async function onboardAccount(
  req: OnboardRequest,
  deps: OnboardDeps,
): Promise<OnboardResult> {
  const settings = onboardingConfig(deps.config);
  const now = () => deps.clock.now();
  if (!req.dryRun) {
    const lock = await deps.ledger.acquire(
      req.accountId,
      deps.owner,
      now(),
      settings.lockSeconds * 1000,
    );
    if (!lock.acquired) {
      // An onboarding that started after this event happened will see the account as it is now
      // (a departure being recorded onboards nothing: this trigger waits for it).
      const covered =
        Boolean(req.eventTime && lock.since) &&
        !lock.owner?.startsWith(OFFBOARD_OWNER_PREFIX) &&
        Date.parse(lock.since!) >= Date.parse(req.eventTime!);
      if (covered) {
        deps.log.info('onboarding already running for this account; this trigger is covered', {
          accountId: req.accountId,
          since: lock.since,
        });
        return { outcome: 'busy', covered, since: lock.since, until: lock.until };
      }
      throw new AccountBusyError(
        `account ${req.accountId} is being onboarded by ${lock.owner ?? 'another run'} since ${lock.since ?? '?'} (lock until ${lock.until ?? '?'}); retried later`,
      );
    }
  }
  try {
    return await run(req, deps, settings);
  } finally {
    if (!req.dryRun) await deps.ledger.release(req.accountId, deps.owner);
  }
}

async function run(
  req: OnboardRequest,
  deps: OnboardDeps,
  settings: Onboarding,
): Promise<OnboardResult> {
  const { baseline, org } = deps;
  const stamp = () => deps.clock.now().toISOString();
  const previous = req.dryRun ? undefined : await deps.ledger.get(req.accountId);
  if (previous?.status === 'departed' || previous?.status === 'closing') {
    // A request queued before the account left or began closing (a retry, a move, a sweep): not
    // a failure, and the departure stays recorded as it is.
    let gone: string | undefined;
    try {
      const { status } = await org.describeAccount(req.accountId);
      if (previous.status === 'closing' && isInactive(status)) gone = `account is ${status}`;
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name !== 'AccountNotFoundException') throw error;
      gone = 'account left the organization';
    }
    if (gone) {
      deps.log.info(`${gone}; not onboarded`, { accountId: req.accountId, trigger: req.trigger });
      return { outcome: 'skipped', record: previous, changes: [] };
    }
  }
  const record: AccountRecord = {
    accountId: req.accountId,
    status: 'onboarding',
    steps: {},
    attachedPolicies: [],
    ...previous,
    attempts: (previous?.attempts ?? 0) + 1,
    lastTrigger: req.trigger,
    updatedAt: stamp(),
  };
  record.status = 'onboarding';
  record.steps = {};
  const allChanges: string[] = [];

  const findings: Finding[] = [];
  /** Does (or, in a dry run, only lists) one change, and says what differed from the baseline. */
  const act: Act = async (changes, what, apply, finding) => {
    changes.push(what);
    findings.push(finding);
    if (!req.dryRun) await apply();
  };
  const save = async () => {
    record.updatedAt = stamp();
    await deps.ledger.save(record);
  };
  const progress = new Progress(req, deps, settings, record, act);

  try {
    for (const step of ONBOARDING_STEPS) {
      for (const region of step.regions ? step.regions(progress) : ['']) {
        const name = stepName(step, region);
        const changes: string[] = [];
        // Recording the step belongs to it: a save that fails is this step's failure.
        try {
          await step.run(progress, changes, region);
          const outcome: StepRecord['outcome'] = req.dryRun
            ? 'planned'
            : changes.length
              ? 'changed'
              : 'unchanged';
          record.steps[name] = { outcome, at: stamp(), ...(changes.length ? { changes } : {}) };
          allChanges.push(...changes.map((c) => `${name}: ${c}`));
          if (!req.dryRun) await save();
          await deps.afterStep?.(name);
        } catch (error) {
          if (error instanceof StepFailure) throw error;
          throw new StepFailure(name, errorMessage(error), adviceFor(name, error), {
            cause: error,
          });
        }
        if (progress.skipReason) {
          const skipReason = progress.skipReason;
          if (req.dryRun) return { outcome: 'planned', changes: [], findings: [], skipReason };
          record.status = 'skipped';
          record.skipReason = skipReason;
          await save();
          deps.log.info('account skipped', { accountId: req.accountId, reason: skipReason });
          return { outcome: 'skipped', record, changes: [] };
        }
      }
    }

    if (req.dryRun) {
      // One finding per difference, however many changes it takes to repair.
      const unique = [...new Map(findings.map((f) => [f.what, f])).values()];
      return {
        outcome: 'planned',
        profile: progress.profile.name,
        changes: allChanges,
        findings: unique,
      };
    }

    record.status = 'ready';
    record.baselineVersion = baseline.version;
    delete record.lastError;
    await save();
  } catch (error) {
    const failure =
      error instanceof StepFailure
        ? error
        : new StepFailure('onboarding', errorMessage(error), 'See the function logs.', {
            cause: error,
          });
    if (req.dryRun) throw failure;
    record.status = 'failed';
    record.lastError = { step: failure.step, message: failure.message, at: stamp() };
    record.steps[failure.step] = { outcome: 'failed', at: stamp(), error: failure.message };
    await save();
    deps.log.warn('onboarding failed', {
      accountId: req.accountId,
      step: failure.step,
      error: failure.message,
    });
    const key = `${failure.step}: ${failure.message}`;
    const alreadyReported = record.notified?.status === 'failed' && record.notified.error === key;
    if (!alreadyReported) {
      const account = progress.resolved?.account;
      await deps.notifier.failed({
        accountId: req.accountId,
        ...(account ? { account } : {}),
        record,
        step: failure.step,
        error: failure.message,
        advice: failure.advice,
      });
      record.notified = { status: 'failed', error: key };
      await save();
    }
    await ensureAccountTags(
      deps.org,
      deps.baseline,
      { accountId: req.accountId, status: 'failed', now: deps.clock.now() },
      undefined,
      [],
      act,
    ).catch((error: unknown) =>
      deps.log.warn('could not tag the account as failed', {
        accountId: req.accountId,
        error: errorMessage(error),
      }),
    );
    return { outcome: 'failed', record, changes: allChanges, alreadyReported };
  }

  const ready = {
    account: progress.resolved.account,
    profile: progress.profile,
    ouPath: progress.resolved.ouPath,
    tags: progress.resolved.tags,
    vaultName: progress.vaultName,
  };
  // The account is ready and saved as such. Told once: when it first becomes ready, or again
  // after a failure (not for every baseline upgrade: that would mail admins per account). A
  // notice that cannot be sent fails the record; the retry changes nothing and sends it then.
  if (record.notified?.status !== 'ready') {
    const plans = await accountPlans(deps, req.accountId);
    await deps.notifier.ready({ ...ready, record, changes: allChanges, plans });
    record.notified = { status: 'ready', baselineVersion: baseline.version };
    await save();
  } else if (req.drift?.length && !allChanges.length) {
    // Another run (a tamper alert's, or a human) put it back already: that run told admins.
    deps.log.info('drift already repaired; nothing to tell', {
      accountId: req.accountId,
      drift: req.drift.length,
    });
  } else if (req.drift?.length) {
    // The daily check (or a tamper alert) found drift and sent this run: what, who, fixed.
    await deps.notifier.driftRepaired({
      ...ready,
      record,
      drift: req.drift,
      changes: allChanges,
      detectedAt: req.eventTime ?? deps.clock.now().toISOString(),
    });
  }
  deps.log.info('account is backup-ready', {
    accountId: req.accountId,
    profile: ready.profile.name,
    changes: allChanges.length,
  });
  return { outcome: 'ready', record, changes: allChanges };
}

/** The account's backup plans, for the ready notice; a read that fails leaves them out. */
async function accountPlans(
  deps: OnboardDeps,
  accountId: string,
): Promise<PlanDescription[] | undefined> {
  try {
    const content = await deps.org.effectiveBackupPolicy(accountId);
    return content === undefined ? [] : readEffectivePolicy(content);
  } catch (error) {
    deps.log.warn('could not read the effective backup policy for the ready notice', {
      accountId,
      error: errorMessage(error),
    });
    return undefined;
  }
}
