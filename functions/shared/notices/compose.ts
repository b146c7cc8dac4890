import type { Config } from '../config/schema';
import { matchesFilterPolicy } from '../filter-policy';
import type { EmailMessage, TopicMessage } from '../ports';
import type { Notice } from './notice';
import { renderSns, type RenderedSns } from './render-chat';
import { renderEmail, type RenderedEmail } from './render-email';
import type { Target } from './route';
import { channelTopicKey, filteredChannels } from './subscriptions';

/** One message ready for one channel; `target.key` names the channel for deduplication. */
export type Outgoing =
  | { channel: 'email'; target: Extract<Target, { channel: 'email' }>; message: EmailMessage }
  | { channel: 'sns'; target: Extract<Target, { channel: 'sns' }>; message: TopicMessage };

/**
 * Renders the notice once per channel kind and addresses it to every target, and to the own
 * topic of each filtered chat channel of a target topic whose filter accepts it.
 */
export function compose(
  notice: Notice,
  targets: readonly Target[],
  config: Config,
  topicArn: (topic: string) => string,
): Outgoing[] {
  let renderedEmail: RenderedEmail | undefined;
  let renderedChat: RenderedSns | undefined;
  const email = config.notifications.email;
  return targets.flatMap((target): Outgoing[] => {
    if (target.channel === 'email') {
      const rendered = (renderedEmail ??= renderEmail(notice));
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
              kind: notice.kind,
              severity: notice.severity,
              state: notice.state,
              ...(notice.jobType ? { jobType: notice.jobType } : {}),
              ...(notice.account ? { accountId: notice.account.id } : {}),
            },
          },
        },
      ];
    }
    const rendered = (renderedChat ??= renderSns(notice));
    const message = (topic: string) => ({
      topicArn: topicArn(topic),
      subject: rendered.subject,
      body: rendered.body,
      attributes: rendered.attributes,
    });
    const topic = config.notifications.topics[target.topic];
    const channels = topic ? filteredChannels(topic) : [];
    return [
      { channel: 'sns', target, message: message(target.topic) },
      ...channels
        .filter((c) => matchesFilterPolicy(c.filter, rendered.attributes))
        .map((c): Outgoing => {
          const key = channelTopicKey(target.topic, c.name);
          return {
            channel: 'sns',
            target: { ...target, key: `sns:${key}`, topic: key },
            message: message(key),
          };
        }),
    ];
  });
}
