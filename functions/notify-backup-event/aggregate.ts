import { integer, literal, object, string, validate, type Infer } from '../shared/validate';
import { ALERT_KINDS } from '../shared/config/vocabulary';
import { errorMessage } from '../shared/errors';
import { recordTakenIn } from '../shared/notices/deliver';
import type { Notice } from '../shared/notices/notice';
import {
  sendNotice,
  type PipelineDeps,
  type SendOptions,
  type SendResult,
} from '../shared/notices/send';
import type { IncidentStore, WorkQueue } from '../shared/ports';
import {
  asFirstOfIncident,
  floodGroup,
  floodMeta,
  memberOf,
  recoveredNotice,
  summaryNotice,
  type GroupedAlert,
} from './incidents';

/**
 * When alerts go out: at once, or folded into an incident's summary (aggregation), or held back
 * into a flood summary (flood control). Off unless notifications.aggregation.enabled. The store
 * being unavailable never silences anything: the alert then goes out on its own (fail open).
 * Summaries are scheduled on the notification queue itself, delayed to the window's end.
 */

export interface AggregateDeps extends PipelineDeps {
  incidents?: IncidentStore;
  /** The notification queue: summaries are delayed messages on it. */
  summaries?: WorkQueue;
}

export const FLUSH_KIND = 'incident-summary';

/** What the notification queue carries for a window's summary. */
const FlushMessageCheck = object({
  kind: literal(FLUSH_KIND),
  group: string({ min: 1, max: 200 }),
  incidentId: string({ min: 1, max: 100 }),
  seq: integer({ min: 0 }),
});
export type FlushMessage = Infer<typeof FlushMessageCheck>;

export function isFlushMessage(body: unknown): boolean {
  return (
    typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === FLUSH_KIND
  );
}

export type Delivery =
  | { delivery: 'sent'; sent: SendResult }
  | { delivery: 'folded' | 'held' | 'duplicate'; incidentId?: string };

/** Sends an alert now, or folds it into its incident or a flood window. */
export async function deliverAlert(
  notice: Notice,
  grouped: GroupedAlert | undefined,
  deps: AggregateDeps,
  options: SendOptions = {},
): Promise<Delivery> {
  const settings = deps.config.notifications.aggregation;
  const store = deps.incidents;
  if (!settings.enabled || !store || !deps.summaries) {
    return { delivery: 'sent', sent: await sendNotice(notice, deps, options) };
  }
  const now = deps.clock.now();
  const windowMs = settings.windowMinutes * 60_000;
  let toSend = notice;
  if (grouped) {
    let outcome;
    try {
      outcome = await store.admit(grouped, { now, windowMs, immediate: settings.immediate });
    } catch (error) {
      deps.log.warn('incident store unavailable: the alert goes out on its own', {
        dedupKey: notice.dedupKey,
        error: errorMessage(error),
      });
      return { delivery: 'sent', sent: await sendNotice(notice, deps, options) };
    }
    if (outcome.role === 'duplicate') {
      // Again, for a retry whose first attempt failed after the store took it in.
      await recordTakenIn(notice.dedupKey, `incident ${outcome.incidentId}`, deps);
      deps.log.info('alert already taken into its incident', {
        dedupKey: notice.dedupKey,
        incidentId: outcome.incidentId,
      });
      return { delivery: 'duplicate', incidentId: outcome.incidentId };
    }
    if (outcome.role === 'follower') {
      // Told through the summary: the daily lost-events check must not send it again.
      await recordTakenIn(notice.dedupKey, `incident ${outcome.incidentId}`, deps);
      deps.log.info('alert folded into its incident', {
        dedupKey: notice.dedupKey,
        incidentId: outcome.incidentId,
        window: outcome.seq,
      });
      return { delivery: 'folded', incidentId: outcome.incidentId };
    }
    // Scheduled before the alert goes out: a failure retries both (the summary is idempotent).
    if (outcome.flushAt !== undefined) {
      await scheduleSummary(
        { group: grouped.group, incidentId: outcome.incidentId, seq: 0 },
        outcome.flushAt,
        deps,
      );
    }
    toSend = asFirstOfIncident(notice, outcome.incidentId, grouped.meta);
  }
  if (ALERT_KINDS.includes(notice.kind) && (await heldBack(toSend, deps, now, windowMs))) {
    await recordTakenIn(notice.dedupKey, 'flood window', deps);
    return { delivery: 'held' };
  }
  return { delivery: 'sent', sent: await sendNotice(toSend, deps, options) };
}

/** Flood control: over the window's allowance (per account, or in total), fold it. */
async function heldBack(
  notice: Notice,
  deps: AggregateDeps,
  now: Date,
  windowMs: number,
): Promise<boolean> {
  const limits = deps.config.notifications.aggregation.floodControl;
  const store = deps.incidents!;
  const windowStart = Math.floor(now.getTime() / windowMs) * windowMs;
  let scope: { accountId?: string } | undefined;
  try {
    const account = notice.account?.id;
    if (
      account &&
      (await store.countSent(`account#${account}`, windowStart, windowMs)) > limits.perAccount
    ) {
      scope = { accountId: account };
    } else if ((await store.countSent('organization', windowStart, windowMs)) > limits.total) {
      scope = {};
    }
  } catch (error) {
    deps.log.warn('flood control unavailable: the alert goes out', {
      dedupKey: notice.dedupKey,
      error: errorMessage(error),
    });
    return false;
  }
  if (!scope) return false;
  const group = floodGroup(scope.accountId);
  try {
    const outcome = await store.admit(
      {
        group,
        meta: floodMeta(scope.accountId, now, deps.config.notifications.aggregation.windowMinutes),
        member: memberOf(notice, undefined, now),
      },
      { now, windowMs, immediate: 0, foldAll: true },
    );
    if (outcome.role === 'follower' && outcome.flushAt !== undefined) {
      await scheduleSummary(
        { group, incidentId: outcome.incidentId, seq: outcome.seq },
        outcome.flushAt,
        deps,
      );
    }
    deps.log.warn('alert held back by flood control; it is listed in the next summary', {
      dedupKey: notice.dedupKey,
      scope: scope.accountId ?? 'organization',
    });
    return true;
  } catch (error) {
    deps.log.warn('flood control could not fold the alert: it goes out', {
      dedupKey: notice.dedupKey,
      error: errorMessage(error),
    });
    return false;
  }
}

async function scheduleSummary(
  message: Omit<FlushMessage, 'kind'>,
  at: number,
  deps: AggregateDeps,
): Promise<void> {
  const delaySeconds = Math.max(0, (at - deps.clock.now().getTime()) / 1000) + 1;
  await deps.summaries!.enqueue([{ kind: FLUSH_KIND, ...message }], { delaySeconds });
}

/**
 * A window's end: seal it, schedule the next window's summary when the incident goes on, send
 * this one's. Throws when it cannot (the message is retried; sealing and sending are idempotent).
 */
export async function flushIncident(
  body: unknown,
  deps: AggregateDeps,
  options: SendOptions = {},
): Promise<'sent' | 'empty' | 'early' | 'unknown'> {
  const checked = validate(FlushMessageCheck, body);
  if (!checked.ok) {
    const issue = checked.issues[0]!;
    throw new Error(
      `incident summary message is malformed: ${issue.path.join('.') || '(message)'} ${issue.message}`,
    );
  }
  const msg = checked.value;
  const store = deps.incidents;
  if (!store || !deps.summaries)
    throw new Error('incident summary received without the incident store');
  const now = deps.clock.now();
  const windowMs = deps.config.notifications.aggregation.windowMinutes * 60_000;
  const sealed = await store.seal(msg.group, msg.incidentId, msg.seq, now, windowMs);
  if (!sealed) {
    deps.log.warn('incident summary for an unknown incident (expired)', { ...msg });
    return 'unknown';
  }
  if ('notBefore' in sealed) {
    await scheduleSummary(msg, sealed.notBefore, deps);
    return 'early';
  }
  if (sealed.next) {
    await scheduleSummary({ ...msg, seq: sealed.next.seq }, sealed.next.flushAt, deps);
  }
  const notice = summaryNotice(sealed);
  if (!notice) return 'empty';
  await sendNotice(notice, deps, options);
  deps.log.info('incident summary sent', {
    incidentId: msg.incidentId,
    window: msg.seq,
    folded: sealed.members.length + sealed.overflow,
  });
  return 'sent';
}

/**
 * A job of this resource succeeded: tell once when that ends an incident. The store being
 * unavailable costs at most a "recovered" notice, never the event: it is logged, not thrown.
 */
export async function recoverResource(resource: string, deps: AggregateDeps): Promise<number> {
  const store = deps.incidents;
  if (!deps.config.notifications.aggregation.enabled || !store) return 0;
  let recovered;
  try {
    recovered = await store.recover(resource, deps.clock.now());
  } catch (error) {
    deps.log.warn('incident store unavailable: recovery of this resource not recorded', {
      resource,
      error: errorMessage(error),
    });
    return 0;
  }
  for (const r of recovered) {
    await sendNotice(recoveredNotice(r), deps);
    await store.markRecoveredSent(r.group, r.incidentId);
  }
  return recovered.length;
}
