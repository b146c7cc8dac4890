import type { Outgoing } from '../../functions/shared/notices/compose';
import { decide } from '../../functions/notify-backup-event/decide';
import { deliverAll, type DeliverDeps } from '../../functions/shared/notices/deliver';
import { planNotice } from '../../functions/shared/notices/send';
import { DeliveryError } from '../../functions/shared/errors';
import { exampleConfig, sample } from '../helpers/fixtures';
import { FakeClock, FakeEmailSender, FakeTopicPublisher, InMemoryLedger } from '../helpers/fakes';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:chat';

/** The FAILED DynamoDB sample: email to admins and dba, and the chat topic. */
async function failedJob(): Promise<{ key: string; outgoing: Outgoing[] }> {
  const config = exampleConfig();
  const decision = decide(sample('backup/backup-job-state-change.failed'), config);
  if (decision.flow !== 'notify') throw new Error('expected a notify decision');
  const { outgoing } = planNotice(decision.notice, config, () => TOPIC_ARN);
  return { key: decision.notice.dedupKey, outgoing };
}

function deps(): DeliverDeps & {
  ledger: InMemoryLedger;
  email: FakeEmailSender;
  sns: FakeTopicPublisher;
  clock: FakeClock;
} {
  return {
    ledger: new InMemoryLedger(120_000),
    email: new FakeEmailSender(),
    sns: new FakeTopicPublisher(),
    clock: new FakeClock(),
  };
}

describe('deliverAll', () => {
  it('sends each channel once and records it', async () => {
    const { key, outgoing } = await failedJob();
    expect(outgoing.map((o) => o.target.key)).toEqual(['email:admins', 'sns:chat', 'email:dba']);
    const d = deps();
    const outcomes = await deliverAll(key, outgoing, d);
    expect(outcomes).toEqual([
      { channel: 'email:admins', status: 'sent', messageId: expect.any(String) },
      { channel: 'sns:chat', status: 'sent', messageId: 'sns-1' },
      { channel: 'email:dba', status: 'sent', messageId: expect.any(String) },
    ]);
    expect(d.email.sent.map((m) => m.to)).toEqual(
      expect.arrayContaining([['platform-team@example.com'], ['dba-oncall@example.com']]),
    );
    expect(d.email.sent).toHaveLength(2);
    expect(d.sns.published).toHaveLength(1);
    expect(d.sns.published[0]!.topicArn).toBe(TOPIC_ARN);
    expect([...d.ledger.entries.values()].map((e) => e.status)).toEqual([
      'DELIVERED',
      'DELIVERED',
      'DELIVERED',
    ]);
  });

  it('sends no channel that delivered the same fact under another key (sameAs), only the others', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    await deliverAll('earlier-key', outgoing.slice(0, 1), d);
    const outcomes = await deliverAll(key, outgoing, d, ['earlier-key']);
    expect(outcomes.map((o) => `${o.channel}:${o.status}`)).toEqual([
      'email:admins:duplicate',
      'sns:chat:sent',
      'email:dba:sent',
    ]);
  });

  it('sends when the records of the same fact cannot be read: a second copy beats silence', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    const warnings: string[] = [];
    d.warn = (message) => warnings.push(message);
    d.ledger.delivered = async () => {
      throw new Error('throttled');
    };
    const outcomes = await deliverAll(key, outgoing, d, ['earlier-key']);
    expect(outcomes.every((o) => o.status === 'sent')).toBe(true);
    expect(warnings).toEqual(['could not read the delivery records of the same fact']);
  });

  it('sends nothing the second time the same event arrives', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    await deliverAll(key, outgoing, d);
    const again = await deliverAll(key, outgoing, d);
    expect(again.map((o) => o.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(d.email.sent).toHaveLength(2);
    expect(d.sns.published).toHaveLength(1);
  });

  it('treats another dedup key as another message', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    await deliverAll(key, outgoing, d);
    await deliverAll(`${key}-other`, outgoing, d);
    expect(d.sns.published).toHaveLength(2);
  });

  it('sends the other channels, releases the failed one and raises DeliveryError', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    d.sns.failures = 1;
    const delivery = deliverAll(key, outgoing, d);
    await expect(delivery).rejects.toThrow(DeliveryError);
    await expect(delivery).rejects.toMatchObject({
      channel: 'sns:chat',
      message: expect.stringMatching(/^1 of 3 channel\(s\) failed: sns:chat: Rate exceeded$/),
    });
    expect(d.email.sent).toHaveLength(2);
    expect(d.sns.published).toHaveLength(0);
    // Released: the retry can claim it again.
    expect([...d.ledger.entries.keys()].filter((k) => k.endsWith('|sns:chat'))).toEqual([]);
  });

  it('on retry sends only the channel that failed', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    d.email.failures = 1; // the first email send fails, whichever list it is
    await expect(deliverAll(key, outgoing, d)).rejects.toThrow(DeliveryError);
    expect(d.email.sent).toHaveLength(1);
    expect(d.sns.published).toHaveLength(1);

    const retry = await deliverAll(key, outgoing, d);
    expect(retry.filter((o) => o.status === 'sent')).toHaveLength(1);
    expect(retry.filter((o) => o.status === 'duplicate')).toHaveLength(2);
    expect(d.email.sent).toHaveLength(2);
    expect(new Set(d.email.sent.map((m) => m.to[0]))).toEqual(
      new Set(['platform-team@example.com', 'dba-oncall@example.com']),
    );
    expect(d.sns.published).toHaveLength(1);
  });

  it('fails a channel another invocation holds, and sends it once the lease is over', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    d.ledger.holdInFlight(key, 'sns:chat', new Date(d.clock.now().getTime() + 60_000));
    await expect(deliverAll(key, outgoing, d)).rejects.toThrow(
      /sns:chat: another invocation is delivering/,
    );
    expect(d.sns.published).toHaveLength(0);
    expect(d.email.sent).toHaveLength(2);

    d.clock.advance(60_001);
    await deliverAll(key, outgoing, d);
    expect(d.sns.published).toHaveLength(1);
    expect(d.email.sent).toHaveLength(2);
  });

  it('fails a channel whose claim cannot be recorded, without sending it', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    const claim = d.ledger.claim.bind(d.ledger);
    jest.spyOn(d.ledger, 'claim').mockImplementation(async (eventKey, channelKey, now) => {
      if (channelKey === 'sns:chat') throw new Error('ProvisionedThroughputExceeded');
      return claim(eventKey, channelKey, now);
    });
    await expect(deliverAll(key, outgoing, d)).rejects.toThrow(
      /sns:chat: delivery ledger: ProvisionedThroughputExceeded/,
    );
    expect(d.sns.published).toHaveLength(0);
    expect(d.email.sent).toHaveLength(2);
  });

  it('counts a send whose record could not be written as sent', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    jest.spyOn(d.ledger, 'markDelivered').mockRejectedValue(new Error('table gone'));
    const outcomes = await deliverAll(key, outgoing, d);
    expect(outcomes.map((o) => o.status)).toEqual(['sent', 'sent', 'sent']);
    // The lease still guards a retry: nothing is sent twice within it.
    const again = deliverAll(key, outgoing, d);
    await expect(again).rejects.toThrow(/3 of 3 channel\(s\) failed/);
    expect(d.sns.published).toHaveLength(1);
  });

  it('still raises the send error when releasing the claim fails too', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    d.sns.failures = 1;
    jest.spyOn(d.ledger, 'release').mockRejectedValue(new Error('release failed'));
    await expect(deliverAll(key, outgoing, d)).rejects.toThrow(/sns:chat: Rate exceeded/);
  });
});

describe('deliverAll within the invocation’s time', () => {
  it('starts no channel with too little time left, and releases its claim for the retry', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    const delivery = deliverAll(key, outgoing, { ...d, deadline: Date.now() + 500 });
    await expect(delivery).rejects.toBeInstanceOf(DeliveryError);
    await expect(delivery).rejects.toThrow(/not sent: \d+ ms left in this invocation/);
    expect(d.email.sent).toEqual([]);
    expect(d.sns.published).toEqual([]);
    // Nothing is held: the retry with time enough sends every channel.
    expect(d.ledger.entries.size).toBe(0);
    await deliverAll(key, outgoing, d);
    expect(d.email.sent).toHaveLength(2);
    expect(d.sns.published).toHaveLength(1);
  });

  it('gives every send an abort signal that fires at the deadline', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    const signals: (AbortSignal | undefined)[] = [];
    const email = {
      send: async (_m: unknown, options?: { signal?: AbortSignal }) => {
        signals.push(options?.signal);
        // A send that hangs until it is aborted (SES not answering).
        await new Promise((_, reject) =>
          options?.signal?.addEventListener('abort', () => reject(options.signal!.reason)),
        );
        return { messageId: 'never' };
      },
    };
    const started = Date.now();
    const delivery = deliverAll(key, outgoing, { ...d, email, deadline: Date.now() + 1800 });
    await expect(delivery).rejects.toBeInstanceOf(DeliveryError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s?.aborted)).toBe(true);
    // The chat message, which did not hang, went out once and is recorded.
    expect(d.sns.published).toHaveLength(1);
  });

  it('passes no signal when there is no deadline (the CLI, tests)', async () => {
    const { key, outgoing } = await failedJob();
    const d = deps();
    const seen: unknown[] = [];
    const email = {
      send: async (_m: unknown, options?: { signal?: AbortSignal }) => {
        seen.push(options?.signal);
        return { messageId: 'm' };
      },
    };
    await deliverAll(key, outgoing, { ...d, email });
    expect(seen).toEqual([undefined, undefined]);
  });
});
