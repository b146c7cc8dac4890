import {
  ACCOUNT_OWNER_LIST,
  type Config,
  type RouteMatch,
  type RouteRule,
  type Severity,
} from '../shared/config';
import type { JobEvent } from './schema';

/** One place a message goes. `key` identifies the channel for deduplication. */
export type Target =
  | { channel: 'email'; key: string; list: string; to: string[]; rules: string[] }
  | { channel: 'sns'; key: string; topic: string; rules: string[] };

export interface RouteFacts {
  jobType: JobEvent['jobType'];
  state: JobEvent['state'];
  severity: Severity;
  accountId: string;
  region: string;
  resourceType?: string;
}

/** All matching rules contribute; each recipient list and topic is used once. */
export function route(
  facts: RouteFacts,
  rules: readonly RouteRule[],
  recipients: Config['notifications']['email']['recipients'],
  accountOwners: Config['notifications']['email']['accountOwners'] = {},
): Target[] {
  const targets = new Map<string, Target>();
  const addressed = new Set<string>();
  for (const rule of rules) {
    if (!matches(rule.match, facts)) continue;
    for (const list of rule.email) {
      const key = `email:${list}`;
      const existing = targets.get(key);
      if (existing) {
        existing.rules.push(rule.name);
        continue;
      }
      // An address on two lists gets one email, from the first list that names it. The account
      // owner's list may stay empty here: compose fills it from Organizations.
      const listed =
        list === ACCOUNT_OWNER_LIST
          ? (accountOwners[facts.accountId] ?? [])
          : (recipients[list] ?? []);
      const to = listed.filter((a) => !addressed.has(a.toLowerCase()));
      if (list === ACCOUNT_OWNER_LIST) {
        to.forEach((a) => addressed.add(a.toLowerCase()));
        targets.set(key, { channel: 'email', key, list, to, rules: [rule.name] });
        continue;
      }
      to.forEach((a) => addressed.add(a.toLowerCase()));
      if (to.length) targets.set(key, { channel: 'email', key, list, to, rules: [rule.name] });
    }
    for (const topic of rule.sns) {
      const key = `sns:${topic}`;
      const existing = targets.get(key);
      if (existing) existing.rules.push(rule.name);
      else targets.set(key, { channel: 'sns', key, topic, rules: [rule.name] });
    }
  }
  return [...targets.values()];
}

export function matches(match: RouteMatch, facts: RouteFacts): boolean {
  const anyOf = <T>(allowed: readonly T[] | undefined, value: T | undefined) =>
    !allowed || (value !== undefined && allowed.includes(value));
  return (
    anyOf(match.jobType, facts.jobType) &&
    anyOf(match.state, facts.state) &&
    anyOf(match.severity, facts.severity) &&
    anyOf(match.accountId, facts.accountId) &&
    anyOf(match.region, facts.region) &&
    anyOf(
      match.resourceType?.map((t) => t.toLowerCase()),
      facts.resourceType?.toLowerCase(),
    )
  );
}
