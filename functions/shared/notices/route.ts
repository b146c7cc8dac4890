import { ACCOUNT_OWNER_LIST, ALERT_KINDS } from '../config/vocabulary';
import type { Config, RouteMatch, RouteRule } from '../config/schema';
import { ouPathMatches } from '../profiles';
import type { AccountRef, Notice } from './notice';

/** One place a message goes. `key` names the channel for deduplication. */
export type Target =
  | { channel: 'email'; key: string; list: string; to: string[]; rules: string[] }
  | { channel: 'sns'; key: string; topic: string; rules: string[] };

/** What rules match on: the notice's facts and, once enriched, its account's OU and tags. */
export interface RouteFacts {
  kind: Notice['kind'];
  severity: Notice['severity'];
  jobType?: string;
  state?: string;
  accountId?: string;
  region?: string;
  resourceType?: string;
  ouPath?: string;
  accountTags?: Readonly<Record<string, string>>;
}

export function routeFacts(n: Notice): RouteFacts {
  return {
    kind: n.kind,
    severity: n.routeSeverity ?? n.severity,
    jobType: n.jobType,
    state: n.state,
    accountId: n.account?.id,
    region: n.region,
    resourceType: n.resourceType,
    ouPath: n.account?.ouPath,
    accountTags: n.account?.tags,
  };
}

/** Does any rule need the account's OU path or tags (so they are looked up before routing)? */
export function routingNeeds(
  rules: readonly RouteRule[],
  email: Config['notifications']['email'],
): { ouPath: boolean; tags: boolean } {
  return {
    ouPath: rules.some((r) => r.match.ouPath),
    tags:
      rules.some((r) => r.match.accountTags) ||
      Boolean(email.accountOwnerTag && rules.some((r) => r.email.includes(ACCOUNT_OWNER_LIST))),
  };
}

/**
 * The account owner's addresses: configured for the account, else from its owner tag, else the
 * account's own email address in Organizations.
 */
export function accountOwners(
  account: AccountRef | undefined,
  email: Config['notifications']['email'],
  owners?: readonly string[],
): string[] {
  if (owners?.length) return [...owners];
  if (!account) return [];
  const configured = email.accountOwners[account.id];
  if (configured?.length) return configured;
  const tagged = email.accountOwnerTag ? account.tags?.[email.accountOwnerTag] : undefined;
  const fromTag = (tagged ?? '')
    .split(/[\s,;]+/)
    .filter((a) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(a))
    .slice(0, 50);
  if (fromTag.length) return fromTag;
  return account.email ? [account.email] : [];
}

/** All matching rules contribute; each recipient list and topic is used once. */
export function route(
  facts: RouteFacts,
  rules: readonly RouteRule[],
  email: Config['notifications']['email'],
  account?: AccountRef,
  owners?: readonly string[],
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
      // An address on two lists gets one email, from the first list that names it.
      const listed =
        list === ACCOUNT_OWNER_LIST
          ? accountOwners(account, email, owners)
          : (email.recipients[list] ?? []);
      const to: string[] = [];
      for (const address of listed) {
        if (addressed.has(address.toLowerCase())) continue;
        addressed.add(address.toLowerCase());
        to.push(address);
      }
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
  const kinds = match.kind ?? ALERT_KINDS;
  return (
    kinds.includes(facts.kind) &&
    anyOf<string>(match.jobType, facts.jobType) &&
    anyOf<string>(match.state, facts.state) &&
    anyOf(match.severity, facts.severity) &&
    anyOf(match.accountId, facts.accountId) &&
    anyOf(match.region, facts.region) &&
    anyOf(
      match.resourceType?.map((t) => t.toLowerCase()),
      facts.resourceType?.toLowerCase(),
    ) &&
    (!match.ouPath ||
      (facts.ouPath !== undefined && match.ouPath.some((p) => ouPathMatches(p, facts.ouPath!)))) &&
    Object.entries(match.accountTags ?? {}).every(([key, values]) => {
      const value = facts.accountTags?.[key];
      return value !== undefined && (values.includes('*') || values.includes(value));
    })
  );
}
