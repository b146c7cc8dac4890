import type { Config } from '../shared/config';
import type { Notice } from '../shared/notices/notice';
import { classify } from './classify';
import { jobNotice } from './job-notice';
import { parseBackupEvent, type JobEvent } from './schema';

/** What the notification flow will do with one event, decided without any AWS call. */
export type Decision =
  | { flow: 'notify'; eventId: string; event: JobEvent; notice: Notice; warnings: string[] }
  | { flow: 'ignore'; eventId?: string; reason: string; event?: JobEvent; warnings: string[] };

/**
 * Parses and classifies; the notice is routed by the pipeline once its account is known.
 * Throws MalformedEventError for an event with nothing useful to say.
 */
export function decide(input: unknown, config: Config): Decision {
  const parsed = parseBackupEvent(input);
  if (parsed.kind === 'ignored') {
    return { flow: 'ignore', eventId: parsed.eventId, reason: parsed.reason, warnings: [] };
  }
  const { event, warnings } = parsed;
  const verdict = classify(event, config.notifications.classification);
  if (verdict.outcome === 'ignore') {
    return { flow: 'ignore', eventId: event.eventId, reason: verdict.reason, event, warnings };
  }
  return {
    flow: 'notify',
    eventId: event.eventId,
    event,
    notice: jobNotice(event, verdict.severity, verdict.label),
    warnings,
  };
}
