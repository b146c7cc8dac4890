import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { notifyBackupEvent, type NotifyDeps } from '../../functions/notify-backup-event/notify';
import { DynamoDbDeliveryLedger } from '../../functions/shared/adapters/dynamodb-delivery-ledger';
import { DynamoDbIncidentStore } from '../../functions/shared/adapters/dynamodb-incident-store';
import type { Config } from '../../functions/shared/config/schema';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import type {
  Clock,
  EmailMessage,
  EmailSender,
  EnqueueOptions,
  Log,
  OrganizationReader,
  TopicMessage,
  TopicPublisher,
  WorkQueue,
} from '../../functions/shared/ports';

/**
 * A storm of failures from one cause through the real notification flow, with the incident
 * store and the delivery ledger on a real DynamoDB (moto), on simulated time: summaries are
 * delayed queue messages delivered when due (a real SQS delay of 5 minutes would not fit a
 * sandbox run). Used by the sandbox, the bench (the aggregation figure) and an integration test.
 */

const ROOT = join(__dirname, '..', '..');

export interface StormOptions {
  dynamodb: DynamoDBClient;
  table: string;
  config: Config;
  failures: number;
  /** The accounts the failures come from, in turn. */
  accounts: readonly string[];
  /** Who the accounts are (names in messages). */
  directory: Pick<OrganizationReader, 'describeAccount' | 'parents' | 'accountTags'>;
  /** Where messages go: moto's SES and SNS in the sandbox, recorders in the bench. */
  email: EmailSender;
  sns: TopicPublisher;
  topicArn: (topic: string) => string;
  /** Over how long the failures arrive (evenly). */
  spreadMs: number;
  /** Then the next job of every resource succeeds. */
  recover: boolean;
  /** Resource names start with it (tables `<prefix>-0000`, ...). */
  resourcePrefix?: string;
}

export interface StormResult {
  failures: number;
  emailsByList: Record<string, number>;
  chatMessages: number;
  /** Emails of the storm itself, per recipient list ("recovered" notices apart). */
  /** Jobs (by resource) named in at least one email to the admins. */
  namedInEmail: number;
  missing: string[];
  summaries: number;
  recoveredNotices: number;
  /** Chat messages while the jobs succeed again: the recovered notice and the info messages. */
  recoveryPhaseChatMessages: number;
  /** Emails of the "recovered" notices (not counted in emailsByList). */
  recoveredEmails: number;
  subjects: string[];
  /** Wall time on moto: the first alert, and the median folded follower. */
  firstAlertMs: number;
  followerMedianMs: number;
}

const silent: Log = { info: () => undefined, warn: () => undefined };

class SimulatedClock implements Clock {
  constructor(private current: number) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

function sample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'events', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

export async function runStorm(o: StormOptions): Promise<StormResult> {
  const start = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const clock = new SimulatedClock(start.getTime());
  // What was sent, whatever the senders are.
  const sentEmails: EmailMessage[] = [];
  const published: TopicMessage[] = [];
  const email: EmailSender = {
    send: async (message, options) => {
      const out = await o.email.send(message, options);
      sentEmails.push(message);
      return out;
    },
  };
  // What the chat topic itself received (a filtered channel's own topic gets a copy of some).
  const chatTopic = o.topicArn('chat');
  const sns: TopicPublisher = {
    publish: async (message, options) => {
      const out = await o.sns.publish(message, options);
      if (message.topicArn === chatTopic) published.push(message);
      return out;
    },
  };
  const due: { at: number; body: Record<string, unknown> }[] = [];
  const summaries: WorkQueue = {
    enqueue: async (messages: Record<string, unknown>[], options?: EnqueueOptions) => {
      const at = clock.now().getTime() + (options?.delaySeconds ?? 0) * 1000;
      for (const body of messages) due.push({ at, body });
    },
  };
  const deps: NotifyDeps = {
    config: o.config,
    topicArn: o.topicArn,
    accounts: new CachedAccountContext(o.directory, 60_000, clock),
    ledger: new DynamoDbDeliveryLedger(o.dynamodb, {
      tableName: o.table,
      leaseMs: 8 * 60_000,
      retentionDays: 30,
    }),
    email,
    sns,
    clock,
    log: silent,
    incidents: new DynamoDbIncidentStore(o.dynamodb, o.table),
    summaries,
  };

  // Summaries due by now are delivered first, as SQS would make them visible.
  const deliverDue = async () => {
    for (;;) {
      due.sort((a, b) => a.at - b.at);
      if (!due.length || due[0]!.at > clock.now().getTime()) return;
      await notifyBackupEvent(due.shift()!.body, deps);
    }
  };

  const resources: string[] = [];
  const times: number[] = [];
  for (let i = 0; i < o.failures; i++) {
    const at = start.getTime() + Math.floor((i * o.spreadMs) / o.failures);
    clock.advance(at - clock.now().getTime());
    await deliverDue();
    const account = o.accounts[i % o.accounts.length]!;
    const table = `${o.resourcePrefix ?? 'orders'}-${String(i).padStart(4, '0')}`;
    resources.push(table);
    const event = sample('backup/backup-job-state-change.failed');
    const detail = event.detail as Record<string, unknown>;
    Object.assign(event, { id: randomUUID(), account, time: new Date(at).toISOString() });
    Object.assign(detail, {
      backupJobId: randomUUID(),
      resourceArn: `arn:aws:dynamodb:us-east-1:${account}:table/${table}`,
      backupVaultArn: `arn:aws:backup:us-east-1:${account}:backup-vault:org-backup-vault`,
    });
    const t = process.hrtime.bigint();
    await notifyBackupEvent(event, deps);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  // Time passes: every summary still due goes out.
  while (due.length) {
    due.sort((a, b) => a.at - b.at);
    clock.advance(Math.max(0, due[0]!.at - clock.now().getTime()));
    await deliverDue();
  }

  const stormChat = published.length;
  const stormEmails = sentEmails.length;
  let recoveredNotices = 0;
  if (o.recover) {
    clock.advance(24 * 3600_000);
    for (let i = 0; i < o.failures; i++) {
      const account = o.accounts[i % o.accounts.length]!;
      const event = sample('backup/backup-job-state-change.completed');
      Object.assign(event, { id: randomUUID(), account, region: 'us-east-1' });
      Object.assign(event.detail as Record<string, unknown>, {
        backupJobId: randomUUID(),
        resourceArn: `arn:aws:dynamodb:us-east-1:${account}:table/${resources[i]}`,
        resourceType: 'DynamoDB',
      });
      recoveredNotices += (await notifyBackupEvent(event, deps)).recovered ?? 0;
    }
  }

  const emailsByList: Record<string, number> = {};
  const listOf = (to: string[]) =>
    Object.entries(o.config.notifications.email.recipients).find(
      ([, addresses]) => addresses.join() === to.join(),
    )?.[0] ?? to.join();
  const recoveredEmails = sentEmails.filter((m) => m.subject.startsWith('[RECOVERED]'));
  for (const m of sentEmails.slice(0, stormEmails)) {
    emailsByList[listOf(m.to)] = (emailsByList[listOf(m.to)] ?? 0) + 1;
  }
  const adminText = sentEmails
    .filter((m) => listOf(m.to) === 'admins')
    .map((m) => m.text)
    .join('\n');
  const missing = resources.filter((r) => !adminText.includes(r));
  const sorted = times.slice(1).sort((a, b) => a - b);
  return {
    failures: o.failures,
    emailsByList,
    chatMessages: stormChat,
    recoveryPhaseChatMessages: published.length - stormChat,
    namedInEmail: resources.length - missing.length,
    missing: missing.slice(0, 10),
    summaries: sentEmails.filter((m) => /\bmore backup jobs\b/.test(m.subject)).length,
    recoveredNotices,
    recoveredEmails: recoveredEmails.length,
    subjects: [...new Set(sentEmails.map((m) => m.subject))],
    firstAlertMs: Math.round(times[0]! * 10) / 10,
    followerMedianMs: Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 10) / 10,
  };
}
