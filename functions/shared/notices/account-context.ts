import { errorMessage } from '../errors';
import type { Clock, OrgParent, OrganizationReader } from '../ports';
import type { AccountRef } from './notice';

/** What routing needs to know about an account beyond its name and email. */
export interface ContextNeeds {
  ouPath: boolean;
  tags: boolean;
}

export interface AccountContextSource {
  /**
   * The account's name and email, and its OU path and tags when asked for. Throws only when a
   * part that was asked for cannot be read (routing would be wrong without it); a name that
   * cannot be read is left out.
   */
  lookup(
    accountId: string,
    needs: ContextNeeds,
    warn?: (message: string, extra: Record<string, unknown>) => void,
  ): Promise<AccountRef>;
}

/** The OU path from the root, e.g. "Workloads/Production" (the root itself is ""). */
export function ouPathOf(parents: readonly OrgParent[]): string {
  return parents
    .filter((p) => p.type === 'ORGANIZATIONAL_UNIT')
    .map((p) => p.name)
    .reverse()
    .join('/');
}

interface Entry {
  ref: AccountRef;
  expiresAt: number;
}

/**
 * Account lookups cached per container (names change rarely, a storm of alerts from one account
 * makes one lookup). A failed lookup is not cached, so the next message tries again.
 */
export class CachedAccountContext implements AccountContextSource {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly org: Pick<OrganizationReader, 'describeAccount' | 'parents' | 'accountTags'>,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  async lookup(
    accountId: string,
    needs: ContextNeeds,
    warn?: (message: string, extra: Record<string, unknown>) => void,
  ): Promise<AccountRef> {
    const now = this.clock.now().getTime();
    const hit = this.entries.get(accountId);
    const ref: AccountRef = hit && hit.expiresAt > now ? { ...hit.ref } : { id: accountId };
    const fresh = !hit || hit.expiresAt <= now;
    // Saved after each step that learned something: a failed OU or tag look-up (its error goes
    // up: routing must not guess) does not make the next message ask for the name again.
    const save = () => {
      if (ref.name === undefined && ref.email === undefined) return;
      this.entries.set(accountId, {
        ref: { ...ref },
        expiresAt: !fresh && hit ? hit.expiresAt : now + this.ttlMs,
      });
    };
    if (ref.name === undefined && ref.email === undefined) {
      try {
        const account = await this.org.describeAccount(accountId);
        if (account.name) ref.name = account.name;
        if (account.email) ref.email = account.email;
        save();
      } catch (error) {
        // The message matters more than the name: it goes out with the id alone.
        warn?.('account lookup failed; sending with the account id only', {
          accountId,
          error: errorMessage(error),
        });
      }
    }
    if (needs.ouPath && ref.ouPath === undefined) {
      ref.ouPath = ouPathOf(await this.org.parents(accountId));
      save();
    }
    if (needs.tags && ref.tags === undefined) {
      ref.tags = await this.org.accountTags(accountId);
      save();
    }
    return ref;
  }
}
