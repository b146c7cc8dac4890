import type {
  ClaimResult,
  Clock,
  DeliveryLedger,
  EmailMessage,
  EmailSender,
  OrgAccount,
  OrgParent,
  OrganizationReader,
  TopicMessage,
  TopicPublisher,
} from '../../functions/shared/ports';
import { parseBackupEvent, type JobEvent } from '../../functions/notify-backup-event/schema';
import { sample } from './fixtures';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(private current = new Date('2025-03-13T03:05:00.000Z')) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

interface LedgerEntry {
  status: 'IN_PROGRESS' | 'DELIVERED';
  token: string;
  leaseUntil?: number;
  messageId?: string;
}

/** The ledger's contract in memory: a claim is exclusive until delivered or released. */
export class InMemoryLedger implements DeliveryLedger {
  readonly entries = new Map<string, LedgerEntry>();
  private nextToken = 0;

  constructor(private readonly leaseMs = 120_000) {}

  private static key(eventKey: string, channelKey: string): string {
    return `${eventKey}|${channelKey}`;
  }

  async claim(eventKey: string, channelKey: string, now: Date): Promise<ClaimResult> {
    const key = InMemoryLedger.key(eventKey, channelKey);
    const existing = this.entries.get(key);
    if (existing?.status === 'DELIVERED') {
      return { outcome: 'already-delivered', messageId: existing.messageId };
    }
    if (existing && (existing.leaseUntil ?? 0) >= now.getTime()) {
      return { outcome: 'in-flight', leaseUntil: new Date(existing.leaseUntil!).toISOString() };
    }
    this.nextToken += 1;
    const token = `token-${this.nextToken}`;
    this.entries.set(key, {
      status: 'IN_PROGRESS',
      token,
      leaseUntil: now.getTime() + this.leaseMs,
    });
    return { outcome: 'claimed', token };
  }

  async markDelivered(
    eventKey: string,
    channelKey: string,
    token: string,
    messageId: string,
  ): Promise<void> {
    const key = InMemoryLedger.key(eventKey, channelKey);
    const existing = this.entries.get(key);
    if (existing?.token !== token) throw new Error('token mismatch');
    this.entries.set(key, { status: 'DELIVERED', token, messageId });
  }

  async release(eventKey: string, channelKey: string, token: string): Promise<void> {
    const key = InMemoryLedger.key(eventKey, channelKey);
    if (this.entries.get(key)?.token === token) this.entries.delete(key);
  }

  async delivered(
    pairs: readonly { eventKey: string; channelKey: string }[],
  ): Promise<Set<string>> {
    return new Set(
      pairs
        .map((p) => InMemoryLedger.key(p.eventKey, p.channelKey))
        .filter((k) => this.entries.get(k)?.status === 'DELIVERED'),
    );
  }

  /** Pretends another invocation is sending this channel right now. */
  holdInFlight(eventKey: string, channelKey: string, until: Date): void {
    this.entries.set(InMemoryLedger.key(eventKey, channelKey), {
      status: 'IN_PROGRESS',
      token: 'someone-else',
      leaseUntil: until.getTime(),
    });
  }
}

/** Records what was sent; `failNext` makes the following sends reject. */
export class FakeEmailSender implements EmailSender {
  readonly sent: EmailMessage[] = [];
  failures = 0;
  error: Error = Object.assign(new Error('Maximum sending rate exceeded.'), {
    name: 'ThrottlingException',
  });

  async send(message: EmailMessage): Promise<{ messageId: string }> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw this.error;
    }
    this.sent.push(message);
    return { messageId: `email-${this.sent.length}` };
  }
}

export class FakeTopicPublisher implements TopicPublisher {
  readonly published: TopicMessage[] = [];
  failures = 0;
  error: Error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });

  async publish(message: TopicMessage): Promise<{ messageId: string }> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw this.error;
    }
    this.published.push(message);
    return { messageId: `sns-${this.published.length}` };
  }
}

export interface DirectoryEntry extends Omit<OrgAccount, 'id'> {
  /** "Workloads/Production"; parents() builds the OU chain from it. */
  ouPath?: string;
  tags?: Record<string, string>;
}

/**
 * Organizations as the notification pipeline reads it, backed by a plain map; unknown ids
 * reject like DescribeAccount. `calls` lists every lookup, as "describe:<id>", "parents:<id>",
 * "tags:<id>".
 */
export class FakeDirectory implements Pick<
  OrganizationReader,
  'describeAccount' | 'parents' | 'accountTags'
> {
  calls: string[] = [];
  failWith: Error | undefined;
  /** Fails only the OU and tag reads. */
  failContextWith: Error | undefined;

  constructor(private readonly accounts: Record<string, DirectoryEntry> = {}) {}

  private entry(accountId: string): DirectoryEntry {
    const account = this.accounts[accountId];
    if (!account) {
      throw Object.assign(new Error(`account ${accountId} not found`), {
        name: 'AccountNotFoundException',
      });
    }
    return account;
  }

  async describeAccount(accountId: string): Promise<OrgAccount> {
    this.calls.push(`describe:${accountId}`);
    if (this.failWith) throw this.failWith;
    const { name, email, status } = this.entry(accountId);
    return { id: accountId, name, email, status };
  }

  async parents(accountId: string): Promise<OrgParent[]> {
    this.calls.push(`parents:${accountId}`);
    if (this.failWith ?? this.failContextWith) throw this.failWith ?? this.failContextWith;
    const names = (this.entry(accountId).ouPath ?? '').split('/').filter(Boolean);
    return [
      ...names.reverse().map((name, i): OrgParent => ({
        id: `ou-${i}-${name}`,
        name,
        type: 'ORGANIZATIONAL_UNIT',
      })),
      { id: 'r-root', name: 'Root', type: 'ROOT' },
    ];
  }

  async accountTags(accountId: string): Promise<Record<string, string>> {
    this.calls.push(`tags:${accountId}`);
    if (this.failWith ?? this.failContextWith) throw this.failWith ?? this.failContextWith;
    return { ...this.entry(accountId).tags };
  }
}

/**
 * A parsed job event from a sample in events/, optionally changing the raw event first
 * (the sample is a fresh copy each call).
 */
export function jobEvent(
  name: string,
  mutate: (raw: Record<string, unknown> & { detail: Record<string, unknown> }) => void = () => {},
): JobEvent {
  const raw = sample(name) as Record<string, unknown> & { detail: Record<string, unknown> };
  mutate(raw);
  const parsed = parseBackupEvent(raw);
  if (parsed.kind !== 'job') throw new Error(`sample ${name} is not a job event: ${parsed.reason}`);
  return parsed.event;
}
