import type { Config } from '../config';
import type { EmailMessage, TopicMessage } from '../ports';
import type { Notice } from './notice';
import { renderSns, type RenderedSns } from './render-chat';
import { renderEmail, type RenderedEmail } from './render-email';
import type { Target } from './route';

/** One message ready for one channel; `target.key` names the channel for deduplication. */
export type Outgoing =
  | { channel: 'email'; target: Extract<Target, { channel: 'email' }>; message: EmailMessage }
  | { channel: 'sns'; target: Extract<Target, { channel: 'sns' }>; message: TopicMessage };

/** Renders the notice once per channel kind and addresses it to every target. */
export function compose(
  notice: Notice,
  targets: readonly Target[],
  config: Config,
  topicArn: (topic: string) => string,
): Outgoing[] {
  let renderedEmail: RenderedEmail | undefined;
  let renderedChat: RenderedSns | undefined;
  const email = config.notifications.email;
  return targets.map((target): Outgoing => {
    if (target.channel === 'email') {
      const rendered = (renderedEmail ??= renderEmail(notice));
      return {
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
            kind: notice.kind,
            severity: notice.severity,
            state: notice.state,
            ...(notice.jobType ? { jobType: notice.jobType } : {}),
            ...(notice.account ? { accountId: notice.account.id } : {}),
          },
        },
      };
    }
    const rendered = (renderedChat ??= renderSns(notice));
    return {
      channel: 'sns',
      target,
      message: {
        topicArn: topicArn(target.topic),
        subject: rendered.subject,
        body: rendered.body,
        attributes: rendered.attributes,
      },
    };
  });
}
