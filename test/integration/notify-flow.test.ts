import { DeleteIdentityCommand } from '@aws-sdk/client-ses';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { subscribeQueue } from '../../tools/sandbox/provision';
import {
  drainNotifications,
  emitEvent,
  parseSnsEnvelope,
  receiveAll,
  type EventToPut,
  type World,
} from '../../tools/sandbox/world';
import { sample } from '../helpers/fixtures';
import { freshWorld } from './harness';

/**
 * The notification flow end to end on moto: PutEvents in a member account (forwarded to the
 * central bus) or on the management account's default bus → the stack's rule → the queue →
 * the real handler with real SDK clients → SES and SNS, read back from moto.
 */

jest.setTimeout(60_000);

let world: World;

beforeEach(async () => {
  world = await freshWorld();
});

const event = (name: string) => sample(name) as unknown as EventToPut;
const member = (name: string) => {
  const account = world.org.accounts.find((a) => a.name === name)!;
  return { account: 'member' as const, id: account.id };
};
const sentEmails = async () => (await world.aws.data()).ses?.Message ?? [];
const chatTopic = () => world.stack.topicArns.chat!;

describe('notification flow on moto', () => {
  it('a member account’s FAILED backup reaches admins by email and the chat topic with attributes', async () => {
    const all = await subscribeQueue(world.c, chatTopic(), 'all-messages');
    const put = await emitEvent(
      world,
      member('Production'),
      event('backup/backup-job-state-change.failed'),
    );
    await drainNotifications(world);

    const emails = await sentEmails();
    const toAdmins = emails.find((e) =>
      e.destinations.ToAddresses?.includes('platform-team@example.com'),
    );
    expect(toAdmins).toBeDefined();
    expect(toAdmins!.source).toBe('AWS Backup alerts <backup-alerts@example.com>');
    expect(toAdmins!.subject).toBe(
      `[FAILED] Backup job · customer-profiles · Production (${put.accountId}) · us-east-1`,
    );
    expect(toAdmins!.html).toContain('Insufficient privileges');
    expect(toAdmins!.text).toContain(`event ${put.eventId}`);
    // DynamoDB failures also go to the DBAs (example config rule), as a separate email.
    expect(emails.map((e) => e.destinations.ToAddresses).sort()).toEqual([
      ['dba-oncall@example.com'],
      ['platform-team@example.com'],
    ]);

    const chat = (await receiveAll(world.c, all.url)).map(parseSnsEnvelope);
    expect(chat).toHaveLength(1);
    expect(chat[0]!.attributes).toEqual({
      severity: 'error',
      kind: 'job',
      state: 'FAILED',
      jobType: 'backup',
      accountId: put.accountId,
      region: 'us-east-1',
      resourceType: 'DynamoDB',
    });
    expect(chat[0]!.subject).toMatch(/^\[FAILED\] Backup job - customer-profiles - Production/);
    const body = JSON.parse(chat[0]!.body);
    expect(body).toMatchObject({
      version: '1.0',
      source: 'custom',
      // The notification id is the delivery key: the same job state is the same notification.
      id: expect.stringMatching(new RegExp(`^${put.accountId}#us-east-1#backup#.+#FAILED$`)),
      metadata: { additionalContext: { eventId: put.eventId } },
    });
  });

  it('the management account’s own event on the default bus is delivered too', async () => {
    const all = await subscribeQueue(world.c, chatTopic(), 'all-messages');
    const put = await emitEvent(
      world,
      { account: 'management' },
      event('backup/restore-job-state-change.failed'),
    );
    expect(put.accountId).toBe(world.org.managementAccountId);
    await drainNotifications(world);

    expect((await sentEmails()).map((e) => e.subject)).toEqual([
      expect.stringMatching(/^\[FAILED\] Restore job · .* · us-east-1$/),
    ]);
    const chat = (await receiveAll(world.c, all.url)).map(parseSnsEnvelope);
    expect(chat.map((m) => m.attributes.jobType)).toEqual(['restore']);
  });

  it('a subscription filter policy keeps info out of an errors-only subscriber', async () => {
    const errorsOnly = await subscribeQueue(world.c, chatTopic(), 'errors-only', {
      severity: ['error'],
    });
    const all = await subscribeQueue(world.c, chatTopic(), 'all-messages');
    await emitEvent(world, member('Production'), event('backup/backup-job-state-change.completed'));
    await emitEvent(world, member('Staging'), event('backup/restore-job-state-change.failed'));
    await drainNotifications(world);

    const severities = (url: string) =>
      receiveAll(world.c, url).then((ms) =>
        ms.map((m) => parseSnsEnvelope(m).attributes.severity).sort(),
      );
    expect(await severities(all.url)).toEqual(['error', 'info']);
    expect(await severities(errorsOnly.url)).toEqual(['error']);
    // info goes to chat only: no email for the COMPLETED job.
    expect((await sentEmails()).every((e) => e.subject.startsWith('[FAILED]'))).toBe(true);
  });

  it('a duplicate sends nothing twice: SQS redelivery and the same job state put again', async () => {
    const all = await subscribeQueue(world.c, chatTopic(), 'all-messages');
    const bodies: string[] = [];
    await emitEvent(
      world,
      member('Staging'),
      event('backup/backup-job-state-change.completed-with-issues'),
    );
    await drainNotifications(world, (b) => bodies.push(...b));
    expect(bodies).toHaveLength(1);

    // The same message twice more (SQS at-least-once), and the same job transition as a new
    // event (as when it arrives through both buses).
    for (let i = 0; i < 2; i++) {
      await world.c.sqs.send(
        new SendMessageCommand({ QueueUrl: world.stack.queueUrl, MessageBody: bodies[0] }),
      );
    }
    await emitEvent(
      world,
      member('Staging'),
      event('backup/backup-job-state-change.completed-with-issues'),
    );
    const again = await drainNotifications(world);
    expect(again.received).toBe(3);
    expect(again.failedAttempts).toBe(0);

    expect(await sentEmails()).toHaveLength(1);
    expect(await receiveAll(world.c, all.url)).toHaveLength(1);
  });

  it('a record that keeps failing ends in the DLQ; the rest of its batches are delivered', async () => {
    const all = await subscribeQueue(world.c, chatTopic(), 'all-messages');
    const malformed = JSON.stringify(sample('malformed/backup-job-missing-state'));
    await world.c.sqs.send(
      new SendMessageCommand({ QueueUrl: world.stack.queueUrl, MessageBody: malformed }),
    );
    await world.c.sqs.send(
      new SendMessageCommand({ QueueUrl: world.stack.queueUrl, MessageBody: 'not json' }),
    );
    await emitEvent(world, member('Production'), event('backup/backup-job-state-change.failed'));
    await emitEvent(world, member('Analytics'), event('backup/copy-job-state-change.failed'));
    const stats = await drainNotifications(world);

    const max = world.settings.notificationQueue.maxReceiveCount;
    expect(stats.failedAttempts).toBe(2 * max);
    const dlq = (await receiveAll(world.c, world.stack.dlqUrl)).map((m) => m.Body).sort();
    expect(dlq).toEqual([malformed, 'not json'].sort());
    expect(await receiveAll(world.c, world.stack.queueUrl)).toHaveLength(0);
    expect(await receiveAll(world.c, all.url)).toHaveLength(2);
    expect(await sentEmails()).toHaveLength(4); // admins + dba for each (DynamoDB, Aurora)
  });

  it('an SES rejection fails only the email: chat is sent once across every retry, the record ends in the DLQ', async () => {
    const all = await subscribeQueue(world.c, chatTopic(), 'all-messages');
    // An unverified sender identity: SES answers MessageRejected, a permanent error.
    await world.c.ses.send(new DeleteIdentityCommand({ Identity: 'example.com' }));
    await emitEvent(world, member('Staging'), event('backup/restore-job-state-change.failed'));
    const stats = await drainNotifications(world);

    expect(stats.failedAttempts).toBe(world.settings.notificationQueue.maxReceiveCount);
    expect(await sentEmails()).toHaveLength(0);
    expect(await receiveAll(world.c, all.url)).toHaveLength(1);
    expect(await receiveAll(world.c, world.stack.dlqUrl)).toHaveLength(1);
  });
});
