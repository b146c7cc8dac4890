import type { AccountDirectory, AccountInfo, Clock } from '../shared/ports';
import { errorMessage } from '../shared/errors';
import { dropUndefined } from '../shared/objects';
import { consoleJobUrl, humanBytes, humanDuration, resourceName } from '../shared/format';
import type { JobEvent } from './schema';

/** A job event with what a human needs to act on it. */
export interface EnrichedEvent extends JobEvent {
  accountName?: string;
  accountEmail?: string;
  consoleUrl: string;
  sizeText?: string;
  durationText?: string;
}

/** Account lookups cached per container; failures are not cached so the next event retries. */
export class CachedAccountDirectory implements AccountDirectory {
  private readonly entries = new Map<string, { info: AccountInfo; expiresAt: number }>();

  constructor(
    private readonly inner: AccountDirectory,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  async describeAccount(accountId: string): Promise<AccountInfo> {
    const now = this.clock.now().getTime();
    const hit = this.entries.get(accountId);
    if (hit && hit.expiresAt > now) return hit.info;
    const info = await this.inner.describeAccount(accountId);
    this.entries.set(accountId, { info, expiresAt: now + this.ttlMs });
    return info;
  }
}

export interface EnrichDeps {
  accounts?: AccountDirectory;
  warn?: (message: string, extra: Record<string, unknown>) => void;
}

/** Adds the parts that need no AWS call; then the account name when a directory is given. */
export async function enrich(event: JobEvent, deps: EnrichDeps = {}): Promise<EnrichedEvent> {
  const duration =
    event.creationDate && event.completionDate
      ? event.completionDate.getTime() - event.creationDate.getTime()
      : undefined;
  const enriched: EnrichedEvent = {
    ...event,
    resourceName: event.resourceName ?? resourceName(event.resourceArn),
    consoleUrl: consoleJobUrl(event.jobType, event.region, event.jobId),
    sizeText: humanBytes(event.sizeBytes),
    durationText: humanDuration(duration),
  };
  if (deps.accounts) {
    try {
      const account = await deps.accounts.describeAccount(event.accountId);
      if (account.name) enriched.accountName = account.name;
      if (account.email) enriched.accountEmail = account.email;
    } catch (error) {
      // The alert matters more than the name: send it with the id alone.
      deps.warn?.('account lookup failed; sending with the account id only', {
        accountId: event.accountId,
        error: errorMessage(error),
      });
    }
  }
  return dropUndefined(enriched);
}
