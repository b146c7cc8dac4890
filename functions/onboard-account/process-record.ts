import { MalformedEventError } from '../shared/errors';
import { ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE } from '../shared/patterns';
import {
  array,
  literal,
  object,
  oneOf,
  optional,
  string,
  validate,
  type Check,
  type Infer,
} from '../shared/validate';
import type { OnboardingNotifier } from './notices';
import { offboardAccount, type OffboardResult } from './offboard';
import { onboardAccount, type OnboardDeps, type OnboardResult } from './onboard';
import { parseOnboardingEvent, type TriggerDecision } from './triggers';

/**
 * One record of the onboarding queue: an Organizations or Control Tower event from EventBridge,
 * or a request from the reconcile sweep or the CLI. Decides, then onboards or alerts.
 */

/** What the sweep and `backupctl` put on the onboarding queue. */
const DriftFindingCheck = object({
  what: string({ max: 1000 }),
  resource: string({ max: 2048 }),
  region: optional(string({ max: 64 })),
  who: optional(
    object({
      identity: string({ max: 2048 }),
      action: string({ max: 256 }),
      time: string({ max: 64 }),
    }),
  ),
});

const ACCOUNT_ID = string({ pattern: ACCOUNT_ID_PATTERN, rule: ACCOUNT_ID_RULE });

const OnboardRequestMessageCheck = object({
  kind: literal('onboard-request'),
  accountId: ACCOUNT_ID,
  trigger: oneOf(['Reconcile', 'Manual', 'Drift']),
  requestedAt: optional(string()),
  /** With trigger Drift: what the daily check found (SQS caps a message at 256 KB). */
  drift: optional(array(DriftFindingCheck, { max: 200 })),
});
export type OnboardRequestMessage = Infer<typeof OnboardRequestMessageCheck>;

/** The sweep found an account gone from the organization, or suspended or closed. */
const OffboardRequestMessageCheck = object({
  kind: literal('offboard-request'),
  accountId: ACCOUNT_ID,
  departure: oneOf(['departed', 'closing']),
  /** What the sweep saw: "not in the organization", "SUSPENDED", ... */
  seen: string({ max: 256 }),
  requestedAt: optional(string({ max: 64 })),
});
export type OffboardRequestMessage = Infer<typeof OffboardRequestMessageCheck>;

function parseMessage<T>(check: Check<T>, body: unknown): T {
  const checked = validate(check, body);
  if (!checked.ok) {
    const issue = checked.issues[0]!;
    throw new MalformedEventError(
      `field "${issue.path.join('.')}" ${issue.message}`,
      issue.path.join('.'),
    );
  }
  return checked.value;
}

export function decideRecord(body: unknown): TriggerDecision {
  const kind =
    typeof body === 'object' && body !== null ? (body as { kind?: unknown }).kind : undefined;
  if (kind === 'onboard-request') {
    const m = parseMessage(OnboardRequestMessageCheck, body);
    return {
      flow: 'onboard',
      eventId: `${m.trigger.toLowerCase()}-${m.accountId}-${m.requestedAt ?? ''}`,
      accountId: m.accountId,
      trigger: m.trigger,
      controlTower: false,
      ...(m.drift ? { drift: m.drift } : {}),
    };
  }
  if (kind === 'offboard-request') {
    const m = parseMessage(OffboardRequestMessageCheck, body);
    return {
      flow: 'offboard',
      eventId: `offboard-${m.accountId}-${m.requestedAt ?? ''}`,
      accountId: m.accountId,
      trigger: 'Reconcile',
      departure: m.departure,
      method: m.seen,
      ...(m.requestedAt ? { time: m.requestedAt } : {}),
    };
  }
  return parseOnboardingEvent(body);
}

export class OnboardingFailedError extends Error {
  override name = 'OnboardingFailedError';
}

export interface ProcessDeps extends OnboardDeps {
  notifier: OnboardingNotifier;
}

export type ProcessOutcome =
  | { flow: 'onboard'; result: OnboardResult }
  | { flow: 'offboard'; result: OffboardResult }
  | { flow: 'alert'; sent: boolean }
  | { flow: 'ignore'; reason: string };

/** Throws when the record should be retried (and, in the end, kept in the DLQ). */
export async function processOnboardingRecord(
  body: unknown,
  eventTime: string | undefined,
  deps: ProcessDeps,
): Promise<ProcessOutcome> {
  const decision = decideRecord(body);
  if (decision.flow === 'ignore') {
    deps.log.info('event ignored', { eventId: decision.eventId, reason: decision.reason });
    return { flow: 'ignore', reason: decision.reason };
  }
  if (decision.flow === 'alert') {
    // Sent once per channel by the pipeline's delivery ledger, keyed by the event id.
    await deps.notifier.creationFailed(decision);
    return { flow: 'alert', sent: true };
  }
  if (decision.flow === 'offboard') {
    return { flow: 'offboard', result: await offboardAccount(decision, deps) };
  }
  // A sweep or CLI request counts from when it was made: a run already going covers it.
  const requestedAt = (body as { requestedAt?: unknown } | null)?.requestedAt;
  const result = await onboardAccount(
    {
      accountId: decision.accountId,
      trigger: decision.trigger,
      controlTower: decision.controlTower,
      eventTime: eventTime ?? (typeof requestedAt === 'string' ? requestedAt : undefined),
      ...(decision.drift ? { drift: decision.drift } : {}),
    },
    deps,
  );
  if (
    result.outcome === 'failed' &&
    result.alreadyReported &&
    (decision.trigger === 'Reconcile' || decision.trigger === 'Drift')
  ) {
    // The sweep's daily retry of a failure admins were already told about: the ledger keeps it
    // and the sweep tries again tomorrow, without one more DLQ message and alarm every day.
    // Event-triggered runs still go to the DLQ after their retries.
    deps.log.warn('onboarding failed again with the failure already reported', {
      accountId: decision.accountId,
      step: result.record.lastError?.step,
    });
    return { flow: 'onboard', result };
  }
  if (result.outcome === 'failed') {
    const e = result.record.lastError;
    throw new OnboardingFailedError(
      `onboarding of ${decision.accountId} failed at ${e?.step ?? '?'}: ${e?.message ?? '?'} (admins told; retried)`,
    );
  }
  return { flow: 'onboard', result };
}
