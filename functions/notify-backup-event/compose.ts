import { ACCOUNT_OWNER_LIST, type Config } from '../shared/config';
import type { EmailMessage, TopicMessage } from '../shared/ports';
import type { EnrichedEvent } from './enrich';
import { buildMessage } from './message';
import { renderSns, type RenderedSns } from './render-chat';
import { renderEmail, type RenderedEmail } from './render-email';
import type { Target } from './route';
import type { Decision } from './decide';

/** One message ready for one channel. */
export type Outgoing =
  | { channel: 'email'; target: Extract<Target, { channel: 'email' }>; message: EmailMessage }
  | { channel: 'sns'; target: Extract<Target, { channel: 'sns' }>; message: TopicMessage };

/** Renders the message for every target of a notify decision. */
export function compose(
  decision: Extract<Decision, { flow: 'notify' }>,
  event: EnrichedEvent,
  config: Config,
  topicArn: (topic: string) => string,
): Outgoing[] {
  const model = buildMessage(event, decision.severity, decision.label);
  // Rendered once, whatever the number of lists and topics it goes to.
  let renderedEmail: RenderedEmail | undefined;
  let renderedChat: RenderedSns | undefined;
  const email = config.notifications.email;
  const otherAddresses = new Set(
    decision.targets.flatMap((t) =>
      t.channel === 'email' && t.list !== ACCOUNT_OWNER_LIST
        ? t.to.map((a) => a.toLowerCase())
        : [],
    ),
  );
  return decision.targets.flatMap((listed): Outgoing[] => {
    let target = listed;
    if (
      target.channel === 'email' &&
      target.list === ACCOUNT_OWNER_LIST &&
      target.to.length === 0
    ) {
      // Not in accountOwners: the account's own address in Organizations, if it was looked up.
      const owner = event.accountEmail;
      if (!owner || otherAddresses.has(owner.toLowerCase())) return [];
      target = { ...target, to: [owner] };
    }
    if (target.channel === 'email') {
      const rendered = (renderedEmail ??= renderEmail(model));
      return [
        {
          channel: 'email',
          target,
          message: {
            from: email.sender,
            to: target.to,
            ...(email.replyTo.length ? { replyTo: email.replyTo } : {}),
            ...(email.configurationSet ? { configurationSet: email.configurationSet } : {}),
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            tags: {
              severity: decision.severity,
              jobType: event.jobType,
              state: event.state,
              accountId: event.accountId,
            },
          },
        },
      ];
    }
    const rendered = (renderedChat ??= renderSns(model));
    return [
      {
        channel: 'sns',
        target,
        message: {
          topicArn: topicArn(target.topic),
          subject: rendered.subject,
          body: rendered.body,
          attributes: rendered.attributes,
        },
      },
    ];
  });
}
