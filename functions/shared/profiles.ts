import type { Profile } from './config/schema';
import { ConfigError } from './errors';

/**
 * Which onboarding profile an account gets. Shared by `backupctl policies` and the onboarding
 * flow so both always agree.
 */

export interface AccountFacts {
  /** OU path from the root, e.g. "Workloads/Production"; "" for an account under the root. */
  ouPath?: string;
  tags?: Readonly<Record<string, string>>;
  /** The tag key that names a profile outright (onboarding.profileTag). */
  profileTag?: string;
}

export interface ProfileChoice {
  profile: Profile;
  /** Why, in words: "tag backup-control-plane:profile=production", "OU path ... matches ...". */
  reason: string;
}

/** No profile fits the account, or its profile tag names one that does not exist. */
export class NoMatchingProfileError extends ConfigError {
  override name = 'NoMatchingProfileError';
}

const segments = (path: string) => path.split('/').filter((s) => s.length > 0);

function segmentMatches(pattern: string, segment: string): boolean {
  if (!pattern.includes('*')) return pattern === segment;
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[^/]*')}$`).test(segment);
}

function matchSegments(pattern: readonly string[], path: readonly string[]): boolean {
  const [head, ...rest] = pattern;
  if (head === undefined) return path.length === 0;
  if (head === '**') {
    for (let skip = 0; skip <= path.length; skip++) {
      if (matchSegments(rest, path.slice(skip))) return true;
    }
    return false;
  }
  return path.length > 0 && segmentMatches(head, path[0]!) && matchSegments(rest, path.slice(1));
}

/**
 * Whether an OU path matches a pattern: "*" stands for one OU (or part of one OU's name, as in
 * "Prod*"), "**" for any number of OUs, none included. Names compare case-sensitively.
 */
export function ouPathMatches(pattern: string, ouPath: string): boolean {
  return matchSegments(segments(pattern), segments(ouPath));
}

/** The accounts a profile is for, in words. */
export function describeProfileMatch(profile: Profile): string {
  const { ouPath, tags } = profile.match;
  const parts: string[] = [];
  if (ouPath?.length) parts.push(`accounts in OU ${ouPath.join(' or ')}`);
  const tagText = Object.entries(tags ?? {}).map(([k, v]) => `${k}=${v}`);
  if (tagText.length)
    parts.push(`${parts.length ? 'tagged' : 'accounts tagged'} ${tagText.join(', ')}`);
  return parts.length ? parts.join(', ') : 'every account (no match conditions)';
}

function whyMatches(profile: Profile, account: AccountFacts): string | undefined {
  const { ouPath: patterns, tags } = profile.match;
  const reasons: string[] = [];
  if (patterns?.length) {
    if (account.ouPath === undefined) return undefined;
    const hit = patterns.find((pattern) => ouPathMatches(pattern, account.ouPath!));
    if (hit === undefined) return undefined;
    reasons.push(`OU path "${account.ouPath}" matches "${hit}"`);
  }
  const wanted = Object.entries(tags ?? {});
  if (wanted.some(([key, value]) => account.tags?.[key] !== value)) return undefined;
  if (wanted.length) reasons.push(`tags ${wanted.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return reasons.length ? reasons.join(' and ') : 'no match conditions (catch-all)';
}

/**
 * The profile for an account: the one its profile tag names, else the first whose match fits
 * (every OU path pattern alternative, all tags equal; a profile without match fits everything).
 */
export function chooseProfile(profiles: readonly Profile[], account: AccountFacts): ProfileChoice {
  const names = profiles.map((p) => p.name).join(', ') || 'none';
  const named = account.profileTag ? account.tags?.[account.profileTag] : undefined;
  if (named !== undefined) {
    const profile = profiles.find((p) => p.name === named);
    if (!profile) {
      throw new NoMatchingProfileError(
        `tag ${account.profileTag}=${named} names no profile (profiles: ${names})`,
      );
    }
    return { profile, reason: `tag ${account.profileTag}=${named}` };
  }
  for (const profile of profiles) {
    const reason = whyMatches(profile, account);
    if (reason) return { profile, reason };
  }
  const facts = [
    account.ouPath === undefined ? 'OU path unknown' : `OU path "${account.ouPath}"`,
    `tags ${JSON.stringify(account.tags ?? {})}`,
  ].join(', ');
  throw new NoMatchingProfileError(
    `no profile matches the account (${facts}); profiles tried in order: ${names}. Add a profile without "match" as the last one to catch every other account.`,
  );
}
