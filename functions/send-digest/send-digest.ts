import { isInactive } from '../shared/accounts';
import type { Config } from '../shared/config/schema';
import { accountOwners } from '../shared/notices/route';
import { sendNotice, type PipelineDeps, type SendResult } from '../shared/notices/send';
import type {
  CheckLedger,
  CheckRecord,
  Clock,
  JobSummaries,
  OnboardingLedger,
  OrgAccount,
  OrganizationReader,
} from '../shared/ports';
import { buildDigest, digestFor, digestNotice, type Digest, type DigestPeriod } from './digest';

/**
 * Collects the digest's sources (the accounts, their onboarding and daily-check records, AWS
 * Backup's job summaries in every region of every profile), builds the whole digest, then sends
 * it to each audience. A source that cannot be read fails the run (the schedule retries): a
 * digest is never sent half-built, and each period's digest is sent once per audience.
 */

export interface DigestDeps {
  config: Config;
  org: OrganizationReader;
  onboarding: OnboardingLedger;
  checks: CheckLedger;
  summaries: JobSummaries;
  pipeline: PipelineDeps;
  clock: Clock;
}

const DAY_MS = 24 * 3600 * 1000;

/** The digest covers the previous UTC day, or the given span back from now. */
export function digestPeriod(now: Date, sinceMs?: number): DigestPeriod {
  if (sinceMs !== undefined) return { start: new Date(now.getTime() - sinceMs), end: now };
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { start: new Date(today.getTime() - DAY_MS), end: today };
}

/** The accounts the control plane watches: active, and the management account only if onboarded. */
async function watchedAccounts(deps: DigestDeps): Promise<OrgAccount[]> {
  const { managementAccountId } = await deps.org.describeOrganization();
  const onboardManagement = deps.config.onboarding?.onboardManagementAccount ?? false;
  const out: OrgAccount[] = [];
  for await (const a of deps.org.listAccounts()) {
    if (isInactive(a.status)) continue;
    if (a.id === managementAccountId && !onboardManagement) continue;
    out.push(a);
  }
  return out;
}

/**
 * A check counts for at most this long: a day and the hour a sweep takes. An older one means the
 * last sweep did not check the account (it did not run, or its check failed): "not checked",
 * never yesterday's "verified" again.
 */
export const CHECK_FRESH_MS = DAY_MS + 60 * 60 * 1000;

/** Today's check, else yesterday's (the sweep may run before or after midnight UTC), if fresh. */
async function latestChecks(
  deps: DigestDeps,
  ids: string[],
  now: Date,
): Promise<Map<string, CheckRecord>> {
  const today = now.toISOString().slice(0, 10);
  const yesterday = new Date(now.getTime() - DAY_MS).toISOString().slice(0, 10);
  const [a, b] = await Promise.all([
    deps.checks.checks(ids, today),
    deps.checks.checks(ids, yesterday),
  ]);
  return new Map(
    [...b, ...a].filter(
      ([, check]) => now.getTime() - Date.parse(check.checkedAt) <= CHECK_FRESH_MS,
    ),
  );
}

export async function collectDigest(deps: DigestDeps, period: DigestPeriod): Promise<Digest> {
  const now = deps.clock.now();
  const accounts = await watchedAccounts(deps);
  const ids = accounts.map((a) => a.id);
  const regions = [
    ...new Set((deps.config.onboarding?.profiles ?? []).flatMap((p) => p.regions)),
  ].sort();
  const [onboarding, checks, ...perRegion] = await Promise.all([
    deps.onboarding.getMany(ids),
    latestChecks(deps, ids, now),
    ...regions.map((r) => deps.summaries.daily(r)),
  ]);
  return buildDigest({
    period,
    now,
    accounts,
    onboarding,
    checks,
    summaries: perRegion.flat(),
  });
}

/** Owners of each account (configured, tagged, else the account's email), grouped. */
async function ownerGroups(
  deps: DigestDeps,
  digest: Digest,
): Promise<{ owners: string[]; accountIds: Set<string> }[]> {
  const email = deps.config.notifications.email;
  const groups = new Map<string, { owners: string[]; accountIds: Set<string> }>();
  const emails = new Map<string, string | undefined>();
  for await (const a of deps.org.listAccounts()) emails.set(a.id, a.email);
  for (const row of digest.accounts) {
    const tags = email.accountOwnerTag ? await deps.org.accountTags(row.accountId) : undefined;
    const owners = accountOwners(
      { id: row.accountId, email: emails.get(row.accountId), ...(tags ? { tags } : {}) },
      email,
    );
    if (!owners.length) continue;
    const key = owners
      .map((o) => o.toLowerCase())
      .sort()
      .join(',');
    const group = groups.get(key) ?? { owners, accountIds: new Set<string>() };
    group.accountIds.add(row.accountId);
    groups.set(key, group);
  }
  return [...groups.values()];
}

export interface DigestRun {
  digest: Digest;
  sent: SendResult[];
  /** Quiet and heartbeat off: nothing to say. */
  skipped: boolean;
}

export async function sendDigest(deps: DigestDeps, period: DigestPeriod): Promise<DigestRun> {
  const digest = await collectDigest(deps, period);
  const settings = deps.config.watching.digest;
  if (digest.quiet && !settings.heartbeat) return { digest, sent: [], skipped: true };
  const sent = [await sendNotice(digestNotice(digest, { kind: 'digest' }), deps.pipeline)];
  if (settings.accountOwners) {
    for (const group of await ownerGroups(deps, digest)) {
      const mine = digestFor(digest, group.accountIds);
      if (mine.quiet && !settings.heartbeat) continue;
      sent.push(
        await sendNotice(
          digestNotice(mine, { kind: 'account-digest', owners: group.owners }),
          deps.pipeline,
        ),
      );
    }
  }
  return { digest, sent, skipped: false };
}
