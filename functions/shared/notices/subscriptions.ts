import type { Config, Topic } from '../config/schema';
import { matchesFilterPolicy, type FilterPolicy, type MessageAttributes } from '../filter-policy';

/**
 * Who reads a topic: the chat channels (Amazon Q Developer in chat applications) and the
 * subscribers the configuration names, each with its SNS filter policy.
 *
 * A chat channel's subscription is made by Amazon Q Developer, and CloudFormation cannot give it
 * a filter policy. So a channel with a filter reads a topic of its own, `<topic>/<channel>`, and
 * the pipeline publishes there only what the filter accepts (the same evaluator `plan` uses).
 * A channel without a filter reads the topic itself. Subscribers get real SNS filter policies.
 */

export type ChatApp = 'slack' | 'teams';

export interface ChatChannel {
  app: ChatApp;
  name: string;
  filter?: FilterPolicy;
}

/** The key of a filtered channel's own topic in TOPIC_ARNS and in delivery records. */
export function channelTopicKey(topic: string, channel: string): string {
  return `${topic}/${channel}`;
}

export function chatChannels(topic: Topic): ChatChannel[] {
  return [
    ...topic.slack.map((c) => ({ app: 'slack' as const, name: c.name, filter: c.filter })),
    ...topic.teams.map((c) => ({ app: 'teams' as const, name: c.name, filter: c.filter })),
  ].map(({ filter, ...c }) => (filter ? { ...c, filter } : c));
}

/** Channels that read a topic of their own (the ones with a filter). */
export function filteredChannels(topic: Topic): (ChatChannel & { filter: FilterPolicy })[] {
  return chatChannels(topic).filter((c): c is ChatChannel & { filter: FilterPolicy } =>
    Boolean(c.filter),
  );
}

/** Does any filter name this attribute (so it must be known before publishing)? */
export function filtersName(config: Config, attribute: string): boolean {
  const names = (policy: unknown): boolean => {
    if (Array.isArray(policy)) return policy.some(names);
    if (typeof policy !== 'object' || policy === null) return false;
    return Object.entries(policy).some(([key, value]) => key === attribute || names(value));
  };
  return Object.values(config.notifications.topics).some((topic) =>
    [...chatChannels(topic), ...topic.subscribers].some((s) => s.filter && names(s.filter)),
  );
}

/** One reader of a published message and whether its filter lets the message through. */
export interface Reception {
  /** slack:<name>, teams:<name>, or <protocol>:<endpoint>. */
  reader: string;
  receives: boolean;
  /** The topic it reads: the topic's own key, or its channel topic's. */
  via: string;
}

/** Who would receive a message with these attributes published to this topic. */
export function receptions(
  topicName: string,
  topic: Topic,
  attributes: MessageAttributes,
): Reception[] {
  const pass = (filter: FilterPolicy | undefined) =>
    !filter || matchesFilterPolicy(filter, attributes);
  return [
    ...chatChannels(topic).map((c) => ({
      reader: `${c.app}:${c.name}`,
      receives: pass(c.filter),
      via: c.filter ? channelTopicKey(topicName, c.name) : topicName,
    })),
    ...topic.subscribers.map((s) => ({
      reader: `${s.protocol}:${s.endpoint}`,
      receives: pass(s.filter as FilterPolicy | undefined),
      via: topicName,
    })),
  ];
}

/**
 * The stack's own CloudWatch alarms (dead-letter queues, function errors) carry no attributes;
 * a filtered channel of the alarm topic gets them when its filter accepts an organization-wide
 * error like this one (the fallbacks every such message carries).
 */
export const STACK_ALARM_ATTRIBUTES: MessageAttributes = {
  severity: 'error',
  state: 'ALARM',
  accountId: 'organization',
  region: 'global',
  resourceType: 'unknown',
};

/** The filtered channels of a topic that the stack's alarms should reach too. */
export function alarmChannels(topic: Topic): ChatChannel[] {
  return filteredChannels(topic).filter((c) =>
    matchesFilterPolicy(c.filter, STACK_ALARM_ATTRIBUTES),
  );
}
