import type { Baseline } from '../baseline';
import type { Act } from './change';

/**
 * Baseline resource: the tags on the account in Organizations that say its onboarding status and
 * baseline version (the sweep reads them; so do people in the console).
 */

/** The port: the Organizations calls it needs (the onboarding function's Organizations adapter). */
export interface AccountTagging {
  accountTags(accountId: string): Promise<Record<string, string>>;
  tagAccount(accountId: string, tags: Record<string, string>): Promise<void>;
}

export async function ensureAccountTags(
  org: AccountTagging,
  baseline: Pick<Baseline, 'accountTags' | 'version'>,
  want: { accountId: string; status: 'ready' | 'failed'; now: Date },
  current: Record<string, string> | undefined,
  changes: string[],
  act: Act,
): Promise<void> {
  const names = baseline.accountTags;
  const version = String(baseline.version);
  const { accountId, status } = want;
  const tags = current ?? (await org.accountTags(accountId));
  if (tags[names.status] === status && tags[names.baselineVersion] === version) return;
  await act(
    changes,
    `tag the account ${names.status}=${status}, ${names.baselineVersion}=${version}`,
    () =>
      org.tagAccount(accountId, {
        [names.status]: status,
        [names.baselineVersion]: version,
        [names.updatedAt]: want.now.toISOString(),
      }),
    {
      what: `account tags ${names.status}=${tags[names.status] ?? '(none)'}, ${names.baselineVersion}=${tags[names.baselineVersion] ?? '(none)'}`,
      resource: accountId,
    },
  );
}
