import { decide, decideContext, type Decision } from '../../functions/notify-backup-event/decide';
import { creationFailedNotice, departedNotice } from '../../functions/onboard-account/notices';
import { parseOnboardingEvent } from '../../functions/onboard-account/triggers';
import type { Config } from '../../functions/shared/config/schema';
import { MalformedEventError } from '../../functions/shared/errors';
import type { Outgoing } from '../../functions/shared/notices/compose';
import type { AccountRef, Notice } from '../../functions/shared/notices/notice';
import { planNotice } from '../../functions/shared/notices/send';
import { receptions } from '../../functions/shared/notices/subscriptions';

/**
 * What the control plane would do with an event, without calling AWS: the same decisions and
 * the same pipeline (route, compose) as the functions. `backupctl plan` prints it; `render`
 * shows the messages of a preview, so the two always agree.
 */

export const ACCOUNT_EVENT_SOURCES = ['aws.organizations', 'aws.controltower'];

/** What the operator says about the account, standing in for Organizations. */
export interface AccountHints {
  name?: string;
  ouPath?: string;
  tags?: Record<string, string>;
}

export type Preview =
  | {
      flow: 'notify' | 'alert' | 'offboard';
      eventId: string;
      notice: Notice;
      outgoing: Outgoing[];
      summary: Record<string, unknown>;
    }
  | { flow: 'onboard' | 'ignore'; eventId?: string; summary: Record<string, unknown> };

/** As deployed with onboarding: a tamper call that onboarding can put back shows the repair. */
function planContext(config: Config) {
  return decideContext(config, { canRepair: true });
}

/** Topic ARNs exist only once deployed; show the configured one or say who creates it. */
export function topicArnFor(config: Config) {
  return (topic: string) =>
    config.notifications.topics[topic]?.arn ?? `(topic "${topic}" created by the stack)`;
}

/** The account as the function would see it after enrichment, from the operator's hints. */
function withHints(notice: Notice, hints: AccountHints): Notice {
  if (!notice.account) return notice;
  const account: AccountRef = {
    ...notice.account,
    // Looked up in Organizations when deployed; a placeholder shows where it would go.
    email: notice.account.email ?? `(email of account ${notice.account.id} in Organizations)`,
    ouPath: hints.ouPath ?? notice.account.ouPath,
    tags: { ...notice.account.tags, ...hints.tags },
    ...(hints.name ? { name: hints.name } : {}),
  };
  return { ...notice, account };
}

/**
 * What each message is and who gets it. For a topic, its configured readers (chat channels and
 * subscribers) after their filter policies; a filtered channel's own topic is not listed again.
 */
export function deliveries(
  outgoing: readonly Outgoing[],
  config: Config,
): Record<string, unknown>[] {
  return outgoing.flatMap((o): Record<string, unknown>[] => {
    if (o.channel === 'email') {
      return [
        { channel: 'email', list: o.target.list, to: o.message.to, subject: o.message.subject },
      ];
    }
    const topic = config.notifications.topics[o.target.topic];
    if (!topic) return []; // a filtered channel's own topic: shown as its topic's reader
    const readers = receptions(o.target.topic, topic, o.message.attributes);
    return [
      {
        channel: 'sns',
        topic: o.target.topic,
        subject: o.message.subject,
        attributes: o.message.attributes,
        ...(readers.length
          ? {
              receivedBy: readers.filter((r) => r.receives).map((r) => r.reader),
              filteredOut: readers.filter((r) => !r.receives).map((r) => r.reader),
            }
          : {}),
      },
    ];
  });
}

export function previewEvent(event: unknown, config: Config, hints: AccountHints = {}): Preview {
  const source = (event as { source?: unknown } | null)?.source;
  if (typeof source === 'string' && ACCOUNT_EVENT_SOURCES.includes(source)) {
    const decision = parseOnboardingEvent(event);
    if (decision.flow === 'onboard') {
      return {
        flow: 'onboard',
        eventId: decision.eventId,
        summary: {
          eventId: decision.eventId,
          flow: 'onboard',
          accountId: decision.accountId,
          trigger: decision.trigger,
          ...(decision.controlTower ? { controlTower: true } : {}),
        },
      };
    }
    if (decision.flow === 'ignore') {
      // Not an account event: it may still be a call on the control plane's backup policies.
      const notify = decide(event, config, planContext(config));
      if (notify.flow === 'notify') return notifyPreview(notify, config, hints);
      return {
        flow: 'ignore',
        eventId: decision.eventId,
        summary: { eventId: decision.eventId, flow: 'ignore', reason: decision.reason },
      };
    }
    if (decision.flow === 'offboard') {
      // As told the first time the departure is seen (later events change nothing).
      const notice = withHints(
        departedNotice({
          accountId: decision.accountId,
          departure: decision.departure,
          trigger: decision.trigger,
          governed: true,
          ...(decision.method ? { method: decision.method } : {}),
          ...(decision.time ? { time: decision.time } : {}),
        }),
        hints,
      );
      const { outgoing } = planNotice(notice, config, topicArnFor(config));
      return {
        flow: 'offboard',
        eventId: decision.eventId,
        notice,
        outgoing,
        summary: {
          eventId: decision.eventId,
          flow: 'offboard',
          accountId: decision.accountId,
          departure: decision.departure,
          trigger: decision.trigger,
          ...(decision.method ? { method: decision.method } : {}),
        },
      };
    }
    const notice = withHints(creationFailedNotice(decision), hints);
    const { outgoing } = planNotice(notice, config, topicArnFor(config));
    return {
      flow: 'alert',
      eventId: decision.eventId,
      notice,
      outgoing,
      summary: {
        eventId: decision.eventId,
        flow: 'alert',
        kind: notice.kind,
        severity: notice.severity,
        trigger: decision.trigger,
        reason: decision.reason,
        ...(decision.accountId ? { accountId: decision.accountId } : {}),
      },
    };
  }
  const decision = decide(event, config, planContext(config));
  if (decision.flow === 'ignore') {
    return {
      flow: 'ignore',
      eventId: decision.eventId,
      summary: {
        eventId: decision.eventId,
        flow: 'ignore',
        reason: decision.reason,
        ...decision.facts,
      },
    };
  }
  return notifyPreview(decision, config, hints);
}

function notifyPreview(
  decision: Extract<Decision, { flow: 'notify' }>,
  config: Config,
  hints: AccountHints,
): Preview {
  const notice = withHints(decision.notice, hints);
  const { outgoing } = planNotice(notice, config, topicArnFor(config));
  return {
    flow: 'notify',
    eventId: decision.eventId,
    notice,
    outgoing,
    summary: {
      eventId: decision.eventId,
      flow: 'notify',
      kind: notice.kind,
      severity: notice.severity,
      ...decision.facts,
      ...(decision.policyCheck
        ? {
            onlyIf: `backup policy ${decision.policyCheck.policyId} is one of the onboarding profiles' (${[...new Set(config.onboarding?.profiles.flatMap((p) => p.backupPolicies) ?? [])].join(', ') || 'none configured'})`,
          }
        : {}),
      ...(decision.repair ? { repair: `onboarding of account ${decision.repair.accountId}` } : {}),
      ...(decision.warnings.length ? { warnings: decision.warnings } : {}),
    },
  };
}

/** Events arrive as EventBridge events, or wrapped by SQS or SNS: unwrap, or say what was seen. */
export function unwrapEvent(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const o = input as Record<string, unknown>;
  const parse = (text: unknown, what: string): unknown => {
    if (typeof text !== 'string') {
      throw new MalformedEventError(`${what} has no text body to unwrap`);
    }
    try {
      return unwrapEvent(JSON.parse(text) as unknown);
    } catch (error) {
      if (error instanceof MalformedEventError) throw error;
      throw new MalformedEventError(`${what}: its body is not JSON`);
    }
  };
  if (Array.isArray(o.Records)) {
    if (o.Records.length !== 1) {
      throw new MalformedEventError(
        `an SQS event with ${o.Records.length} records: give one record (or one event) per file`,
      );
    }
    return unwrapEvent(o.Records[0]);
  }
  if (o.eventSource === 'aws:sqs' && 'body' in o) return parse(o.body, 'an SQS record');
  if (o.EventSource === 'aws:sns' && typeof o.Sns === 'object' && o.Sns !== null) {
    return parse((o.Sns as Record<string, unknown>).Message, 'an SNS record');
  }
  if (o.Type === 'Notification' && 'Message' in o) return parse(o.Message, 'an SNS notification');
  return input;
}
