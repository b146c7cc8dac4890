import { jobNotice } from '../../functions/notify-backup-event/job-notice';
import { MESSAGE_ATTRIBUTES } from '../../functions/shared/config/vocabulary';
import { SubscriberSchema } from '../../functions/shared/config/schema';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import { messageAttributes } from '../../functions/shared/notices/render-chat';
import { planNotice, sendNotice } from '../../functions/shared/notices/send';
import {
  channelTopicKey,
  filtersName,
  receptions,
} from '../../functions/shared/notices/subscriptions';
import type { Notice } from '../../functions/shared/notices/notice';
import { creationFailedNotice } from '../../functions/onboard-account/notices';
import {
  FakeClock,
  FakeDirectory,
  FakeEmailSender,
  FakeTopicPublisher,
  InMemoryLedger,
  jobEvent,
} from '../helpers/fakes';
import { exampleConfig, exampleConfigWithChannels } from '../helpers/fixtures';

/**
 * Chat channels and subscribers as configuration (example.yml: Slack "backup-alerts" for errors
 * and warnings, Teams "production-backups" for one OU): which topics a message is published to,
 * and what `plan` says each reader gets.
 */

const topicArn = (topic: string) => `arn:aws:sns:us-east-1:123456789012:${topic}`;
const PRODUCTION = '111122223333'; // the account of the job samples

function job(sample: string, severity: Notice['severity'], state: string, ouPath?: string) {
  const notice = jobNotice(jobEvent(`backup/${sample}`), severity, state);
  return ouPath ? { ...notice, account: { ...notice.account!, ouPath } } : notice;
}

const snsTopics = (notice: Notice) =>
  planNotice(notice, exampleConfigWithChannels(), topicArn)
    .outgoing.filter((o) => o.channel === 'sns')
    .map((o) => [o.target.key, o.message.topicArn]);

describe('publishing to filtered channels', () => {
  it('publishes a failure of a production account to the topic and both channel topics', () => {
    expect(
      snsTopics(
        job('backup-job-state-change.failed', 'error', 'FAILED', 'Workloads/Production/Payments'),
      ),
    ).toEqual([
      ['sns:chat', topicArn('chat')],
      ['sns:chat/backup-alerts', topicArn('chat/backup-alerts')],
      ['sns:chat/production-backups', topicArn('chat/production-backups')],
    ]);
  });

  it('keeps info out of the errors channel, and another OU out of the production channel', () => {
    expect(
      snsTopics(job('backup-job-state-change.completed', 'info', 'COMPLETED', 'Workloads/Staging')),
    ).toEqual([['sns:chat', topicArn('chat')]]);
    // "Workloads/ProductionX" is not under Workloads/Production/ (the prefix ends with "/").
    expect(
      snsTopics(
        job('backup-job-state-change.completed', 'info', 'COMPLETED', 'Workloads/ProductionX'),
      ),
    ).toEqual([['sns:chat', topicArn('chat')]]);
  });

  it('sends each channel topic once: a redelivered event publishes nothing again', async () => {
    const sns = new FakeTopicPublisher();
    const ledger = new InMemoryLedger();
    const deps = {
      config: exampleConfigWithChannels(),
      topicArn,
      accounts: new CachedAccountContext(
        new FakeDirectory({
          [PRODUCTION]: {
            name: 'Payments',
            email: 'p@example.com',
            status: 'ACTIVE',
            ouPath: 'Workloads/Production',
          },
        }),
        60_000,
        new FakeClock(),
      ),
      ledger,
      email: new FakeEmailSender(),
      sns,
      clock: new FakeClock(),
      log: { info: jest.fn(), warn: jest.fn() },
    };
    const notice = job('backup-job-state-change.failed', 'error', 'FAILED');
    await sendNotice(notice, deps);
    await sendNotice(notice, deps);
    expect(sns.published.map((m) => m.topicArn).sort()).toEqual(
      [
        topicArn('chat'),
        topicArn('chat/backup-alerts'),
        topicArn('chat/production-backups'),
      ].sort(),
    );
    // The OU path was looked up because a channel's filter names it, and published with it.
    expect(sns.published[0]!.attributes.ouPath).toBe('Workloads/Production');
  });

  it('sends without the OU path when only a filter wants it and it cannot be read', async () => {
    const directory = new FakeDirectory({
      [PRODUCTION]: {
        name: 'Payments',
        email: 'p@example.com',
        status: 'ACTIVE',
        ouPath: 'Workloads/Production',
      },
    });
    directory.failContextWith = Object.assign(new Error('Rate exceeded'), {
      name: 'TooManyRequestsException',
    });
    const sns = new FakeTopicPublisher();
    const log = { info: jest.fn(), warn: jest.fn() };
    await sendNotice(job('backup-job-state-change.failed', 'error', 'FAILED'), {
      config: exampleConfigWithChannels(),
      topicArn,
      accounts: new CachedAccountContext(directory, 60_000, new FakeClock()),
      ledger: new InMemoryLedger(),
      email: new FakeEmailSender(),
      sns,
      clock: new FakeClock(),
      log,
    });
    // The errors channel still hears it; the one-OU channel cannot know it is its OU's.
    expect(sns.published.map((m) => m.topicArn)).toEqual([
      topicArn('chat'),
      topicArn('chat/backup-alerts'),
    ]);
    expect(log.warn).toHaveBeenCalledWith(
      'routing without the account OU path or tags',
      expect.objectContaining({ reason: 'only subscription filters need them' }),
    );
  });

  it('looks the OU path up only when a filter names it', () => {
    expect(filtersName(exampleConfigWithChannels(), 'ouPath')).toBe(true);
    expect(filtersName(exampleConfig(), 'ouPath')).toBe(false);
    const config = exampleConfig();
    config.notifications.topics.chat!.subscribers = [
      SubscriberSchema.parse({
        protocol: 'email',
        endpoint: 'a@example.com',
        filter: { $or: [{ ouPath: [{ prefix: 'Sandbox/' }] }, { severity: ['error'] }] },
      }),
    ];
    expect(filtersName(config, 'ouPath')).toBe(true);
  });
});

describe('message attributes and what filters may name', () => {
  it('sets only attributes filters may name, every always-present one on every message', () => {
    const notices: Notice[] = [
      job('backup-job-state-change.failed', 'error', 'FAILED', 'Workloads/Production'),
      creationFailedNotice({
        eventId: '6a1e8f2d-3c4b-4a5e-8d7f-9b0c1a2e3f4d',
        trigger: 'CreateAccountResult',
        reason: 'EMAIL_ALREADY_EXISTS',
      }),
    ];
    for (const notice of notices) {
      const attributes = messageAttributes(notice);
      for (const key of Object.keys(attributes)) expect(MESSAGE_ATTRIBUTES).toHaveProperty(key);
      for (const [key, spec] of Object.entries(MESSAGE_ATTRIBUTES)) {
        if (spec.alwaysPresent) expect(attributes[key]).toEqual(expect.any(String));
        if (spec.values && attributes[key]) expect(spec.values).toContain(attributes[key]);
      }
    }
  });
});

describe('receptions, as plan shows them', () => {
  it('names each reader and whether its filter lets the message through', () => {
    const config = exampleConfigWithChannels();
    const chat = config.notifications.topics.chat!;
    chat.subscribers = [
      SubscriberSchema.parse({
        protocol: 'email',
        endpoint: 'oncall@example.com',
        filter: { severity: ['error'], accountId: [{ 'anything-but': ['444455556666'] }] },
      }),
      SubscriberSchema.parse({ protocol: 'https', endpoint: 'https://hooks.example.com/b' }),
    ];
    const attributes = messageAttributes(
      job('backup-job-state-change.partial', 'warning', 'PARTIAL', 'Workloads/Production'),
    );
    expect(receptions('chat', chat, attributes)).toEqual([
      {
        reader: 'slack:backup-alerts',
        receives: true,
        via: channelTopicKey('chat', 'backup-alerts'),
      },
      { reader: 'teams:production-backups', receives: true, via: 'chat/production-backups' },
      { reader: 'email:oncall@example.com', receives: false, via: 'chat' },
      { reader: 'https:https://hooks.example.com/b', receives: true, via: 'chat' },
    ]);
  });
});
