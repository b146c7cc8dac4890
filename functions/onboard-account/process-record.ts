import { z } from 'zod';
import { MalformedEventError } from '../shared/errors';
import { ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE } from '../shared/patterns';
import type { OnboardingNotifier } from './notices';
import { offboardAccount, type OffboardResult } from './offboard';
import { onboardAccount, type OnboardDeps, type OnboardResult } from './onboard';
import { parseOnboardingEvent, type TriggerDecision } from './triggers';

/**
 * One record of the onboarding queue: an Organizations or Control Tower event from EventBridge,
 * or a request from the reconcile sweep or the CLI. Decides, then onboards or alerts.
 */

/** What the sweep and `backupctl` put on the onboarding queue. */
const DriftFindingSchema = z.object({
  what: z.string().max(1000),
  resource: z.string().max(2048),
  region: z.string().max(64).optional(),
  who: z
    .object({
      identity: z.string().max(2048),
      action: z.string().max(256),
      time: z.string().max(64),
    })
    .optional(),
});

export const OnboardRequestMessageSchema = z.object({
  kind: z.literal('onboard-request'),
  accountId: z.string().regex(ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE),
  trigger: z.enum(['Reconcile', 'Manual', 'Drift']),
  requestedAt: z.string().optional(),
  /** With trigger Drift: what the daily check found (SQS caps a message at 256 KB). */
  drift: z.array(DriftFindingSchema).max(200).optional(),
});
export type OnboardRequestMessage = z.infer<typeof OnboardRequestMessageSchema>;

/** The sweep found an account gone from the organization, or suspended or closed. */
export const OffboardRequestMessageSchema = z.object({
  kind: z.literal('offboard-request'),
  accountId: z.string().regex(ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE),
  departure: z.enum(['departed', 'closing']),
  /** What the sweep saw: "not in the organization", "SUSPENDED", ... */
  seen: z.string().max(256),
  requestedAt: z.string().max(64).optional(),
});
export type OffboardRequestMessage = z.infer<typeof OffboardRequestMessageSchema>;

function parseMessage<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MalformedEventError(
      `field "${issue.path.join('.')}" ${issue.message}`,
      issue.path.join('.'),
    );
  }
  return parsed.data;
}

export function decideRecord(body: unknown): TriggerDecision {
  const kind =
    typeof body === 'object' && body !== null ? (body as { kind?: unknown }).kind : undefined;
  if (kind === 'onboard-request') {
    const m = parseMessage(OnboardRequestMessageSchema, body);
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
    const m = parseMessage(OffboardRequestMessageSchema, body);
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
