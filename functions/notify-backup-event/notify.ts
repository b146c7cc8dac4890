import {
  sendNotice,
  type PipelineDeps,
  type SendOptions,
  type SendResult,
} from '../shared/notices/send';
import { decide, type Decision } from './decide';

export type NotifyDeps = PipelineDeps;

export interface NotifyResult {
  decision: Decision;
  sent?: SendResult;
}

/**
 * One EventBridge event through the whole flow: decide, then the notification pipeline (enrich,
 * route, render, deliver once). Throws on a malformed event or a failed channel, so the record is
 * retried.
 */
export async function notifyBackupEvent(
  input: unknown,
  deps: NotifyDeps,
  options: SendOptions = {},
): Promise<NotifyResult> {
  const decision = decide(input, deps.config);
  for (const warning of decision.warnings) {
    deps.log.warn('unreadable display field; the alert goes out without it', {
      eventId: decision.eventId,
      warning,
    });
  }
  if (decision.flow === 'ignore') {
    deps.log.info('event ignored', { eventId: decision.eventId, reason: decision.reason });
    return { decision };
  }
  const sent = await sendNotice(decision.notice, deps, options);
  return { decision, sent };
}
