import { isInactive } from '../shared/accounts';
import type { AccountRecord } from '../shared/ports';
import type { DepartedFacts } from './notices';
import {
  AccountBusyError,
  OFFBOARD_OWNER_PREFIX,
  onboardingConfig,
  type OnboardDeps,
} from './onboard';
import type { TriggerDecision } from './triggers';

/**
 * An account left the organization, was removed, or is being closed: the ledger says so (the
 * sweep stops onboarding and checking it) and admins are told once, whichever of the several
 * events (the service event, the API call, the sweep) says it first. Nothing is deleted: a
 * departed account cannot be reached, and a closing one is suspended.
 */

export type OffboardDecision = Extract<TriggerDecision, { flow: 'offboard' }>;

export interface OffboardResult {
  /** recorded: the ledger changed and admins were told; unchanged: already known. */
  outcome: 'recorded' | 'unchanged';
  /** The ledger entry after the run (none when the sweep's claim did not hold and none existed). */
  record?: AccountRecord;
}

/** A departure outranks a closure: a closed account that is finally gone is departed. */
function alreadyKnown(record: AccountRecord | undefined, d: OffboardDecision): boolean {
  if (!record) return false;
  if (record.status === 'departed') return true;
  return record.status === 'closing' && d.departure === 'closing';
}

const isNotFound = (error: unknown) =>
  (error as { name?: unknown } | null)?.name === 'AccountNotFoundException';

/**
 * Asked again, one account, before anything is recorded. The sweep's listing may be older than
 * what happened since (an account created or joined meanwhile); an event may be stale (a retry
 * hours later, a redrive from the DLQ, CloudTrail's unordered delivery) while the account has
 * rejoined, or its closure failed. Departed holds when the account is gone; closing when it is gone,
 * suspended or pending closure.
 */
async function departureHolds(
  d: OffboardDecision,
  deps: Pick<OnboardDeps, 'org' | 'log' | 'ledger'>,
): Promise<boolean> {
  let status: string | undefined;
  try {
    status = (await deps.org.describeAccount(d.accountId)).status;
  } catch (error) {
    // Gone from the organization: departed (a closed account finally gone, too).
    if (isNotFound(error)) return true;
    throw error;
  }
  const holds = d.departure === 'closing' && isInactive(status);
  if (!holds) {
    deps.log.info(
      d.trigger === 'Reconcile'
        ? 'the sweep saw a departure that is not so now; nothing recorded'
        : 'the event says the account departed but it is in the organization now (a stale or out-of-order event, or a closure that failed); nothing recorded',
      { accountId: d.accountId, trigger: d.trigger, seen: d.method ?? d.departure, status },
    );
  }
  return holds;
}

export async function offboardAccount(
  d: OffboardDecision,
  deps: Pick<OnboardDeps, 'config' | 'org' | 'ledger' | 'notifier' | 'clock' | 'log' | 'owner'>,
): Promise<OffboardResult> {
  const settings = onboardingConfig(deps.config);
  // Marked: an onboarding trigger waiting for this lock is not covered by it (nothing onboards).
  const owner = `${OFFBOARD_OWNER_PREFIX}${deps.owner}`;
  const lock = await deps.ledger.acquire(
    d.accountId,
    owner,
    deps.clock.now(),
    settings.lockSeconds * 1000,
  );
  if (!lock.acquired) {
    // An onboarding still running for the account finishes (or fails) first; then this retry.
    throw new AccountBusyError(
      `account ${d.accountId} is locked by ${lock.owner ?? 'another run'} since ${lock.since ?? '?'}; its departure is recorded on a retry`,
    );
  }
  try {
    const previous = await deps.ledger.get(d.accountId);
    if (!(await departureHolds(d, deps))) {
      return { outcome: 'unchanged', ...(previous ? { record: previous } : {}) };
    }
    if (alreadyKnown(previous, d) && previous!.notified?.status === previous!.status) {
      deps.log.info('departure already recorded', {
        accountId: d.accountId,
        status: previous!.status,
        trigger: d.trigger,
      });
      return { outcome: 'unchanged', record: previous! };
    }
    const now = deps.clock.now().toISOString();
    const record: AccountRecord = alreadyKnown(previous, d)
      ? previous!
      : {
          accountId: d.accountId,
          steps: {},
          attempts: 0,
          attachedPolicies: [],
          ...previous,
          // Policies detach with the departure; a rejoined account starts again.
          ...(d.departure === 'departed' ? { attachedPolicies: [] } : {}),
          status: d.departure,
          lastTrigger: d.trigger,
          updatedAt: now,
          departure: {
            trigger: d.trigger,
            ...(d.method ? { method: d.method } : {}),
            ...(d.time ? { time: d.time } : {}),
            at: now,
          },
        };
    await deps.ledger.save(record);
    const facts: DepartedFacts = {
      accountId: d.accountId,
      departure: record.status as 'departed' | 'closing',
      trigger: record.departure?.trigger ?? d.trigger,
      governed: Boolean(previous && previous.status !== 'skipped'),
      ...(record.departure?.method ? { method: record.departure.method } : {}),
      ...(record.departure?.time ? { time: record.departure.time } : {}),
      ...(previous?.profile ? { profile: previous.profile } : {}),
      ...(record.departure?.at ? { recordedAt: record.departure.at } : {}),
    };
    // The pipeline sends each channel once per account and departure (dedup key), retries too.
    await deps.notifier.departed(facts);
    const told: AccountRecord = { ...record, notified: { status: record.status } };
    await deps.ledger.save(told);
    deps.log.info('departure recorded', {
      accountId: d.accountId,
      status: told.status,
      trigger: d.trigger,
      method: d.method,
    });
    return { outcome: 'recorded', record: told };
  } finally {
    await deps.ledger.release(d.accountId, owner);
  }
}
