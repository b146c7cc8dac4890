import { effectiveRules, type Config, type Severity } from '../shared/config';
import { classify } from './classify';
import { route, type Target } from './route';
import { parseBackupEvent, type JobEvent } from './schema';

/** What the notification flow will do with one event, decided without any AWS call. */
export type Decision =
  | {
      flow: 'notify';
      eventId: string;
      event: JobEvent;
      severity: Severity;
      label: string;
      targets: Target[];
      /** Same job, same state: the same notification, whichever bus or retry it came through. */
      dedupKey: string;
    }
  | {
      flow: 'ignore';
      eventId?: string;
      reason: string;
      event?: JobEvent;
    };

/** Parses, classifies and routes. Throws MalformedEventError for an event it cannot read. */
export function decide(input: unknown, config: Config): Decision {
  const parsed = parseBackupEvent(input);
  if (parsed.kind === 'ignored') {
    return { flow: 'ignore', eventId: parsed.eventId, reason: parsed.reason };
  }
  const event = parsed.event;
  const verdict = classify(event, config.notifications.classification);
  if (verdict.outcome === 'ignore') {
    return { flow: 'ignore', eventId: event.eventId, reason: verdict.reason, event };
  }
  const targets = route(
    {
      jobType: event.jobType,
      state: event.state,
      severity: verdict.severity,
      accountId: event.accountId,
      region: event.region,
      resourceType: event.resourceType,
    },
    effectiveRules(config),
    config.notifications.email.recipients,
    config.notifications.email.accountOwners,
  );
  if (targets.length === 0) {
    return { flow: 'ignore', eventId: event.eventId, reason: 'no routing rule matches', event };
  }
  return {
    flow: 'notify',
    eventId: event.eventId,
    event,
    severity: verdict.severity,
    label: verdict.label,
    targets,
    dedupKey: dedupKey(event),
  };
}

export function dedupKey(e: JobEvent): string {
  return [e.accountId, e.region, e.jobType, e.jobId ?? `event-${e.eventId}`, e.state].join('#');
}
