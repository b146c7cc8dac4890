import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notifyBackupEvent } from '../../functions/notify-backup-event/notify';
import { SesEmailSender } from '../../functions/shared/adapters/ses-email-sender';
import { SnsTopicPublisher } from '../../functions/shared/adapters/sns-topic-publisher';
import { TopicSchema } from '../../functions/shared/config/schema';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import type { PipelineDeps } from '../../functions/shared/notices/send';
import type { EmailMessage, TopicMessage } from '../../functions/shared/ports';
import { FakeClock, FakeDirectory, InMemoryLedger } from '../helpers/fakes';
import { exampleConfig, sample } from '../helpers/fixtures';
import { RecordingLog } from '../helpers/onboarding-fakes';

/**
 * Regression: a lone UTF-16 surrogate in any parameter makes the AWS SDK's Query serializer
 * throw URIError, and the client keeps the partial request, which the NEXT request on the same
 * client then carries. Real SESClient and SNSClient, wrapped in the project's adapters, against
 * a local HTTP server that records each request and answers like SES and SNS.
 */

interface Received {
  action: string;
  body: string;
  params: URLSearchParams;
}

const SES_XMLNS = 'http://ses.amazonaws.com/doc/2010-12-01/';
const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

/** The AWS Query protocol's answer to SendEmail or Publish. */
function answer(action: string, n: number): { status: number; xml: string } {
  const meta = `<ResponseMetadata><RequestId>req-${n}</RequestId></ResponseMetadata>`;
  if (action === 'SendEmail') {
    return {
      status: 200,
      xml: `<SendEmailResponse xmlns="${SES_XMLNS}"><SendEmailResult><MessageId>ses-${n}</MessageId></SendEmailResult>${meta}</SendEmailResponse>`,
    };
  }
  if (action === 'Publish') {
    return {
      status: 200,
      xml: `<PublishResponse xmlns="${SNS_XMLNS}"><PublishResult><MessageId>sns-${n}</MessageId></PublishResult>${meta}</PublishResponse>`,
    };
  }
  return {
    status: 400,
    xml: `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unexpected ${action}</Message></Error>${meta}</ErrorResponse>`,
  };
}

let server: Server;
let endpoint: string;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const params = new URLSearchParams(body);
      const action = params.get('Action') ?? '';
      received.push({ action, body, params });
      const { status, xml } = answer(action, received.length);
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const clients: { destroy(): void }[] = [];
beforeEach(() => {
  received.length = 0;
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const options = () => ({
  region: 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  maxAttempts: 1,
});
const sesClient = () => {
  const c = new SESClient(options());
  clients.push(c);
  return c;
};
const snsClient = () => {
  const c = new SNSClient(options());
  clients.push(c);
  return c;
};

const REPLACED = '%EF%BF%BD'; // U+FFFD, URL-encoded as UTF-8
const HIGH = '\ud800';
const LOW = '\udfff';
const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Each parameter once, as an object (a repeated key would be a leftover of another request). */
function paramsOnce(r: Received): Record<string, string> {
  const keys = [...r.params.keys()];
  expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  return Object.fromEntries(r.params);
}

describe('SesEmailSender with a real SESClient', () => {
  const hostile = (): EmailMessage => ({
    from: 'AWS Backup alerts <backup-alerts@example.com>',
    to: ['platform-team@example.com'],
    replyTo: ['platform-team@example.com'],
    subject: `[FAILED] Backup job · orders${HIGH} · eu-west-1`,
    html: `<p>Reason: denied ${LOW}</p>`,
    text: `Reason: denied ${HIGH}${LOW}${LOW}\n`,
    tags: { kind: 'job', [`state${HIGH}`]: `FAILED${LOW}` },
  });
  const normal = (): EmailMessage => ({
    from: 'AWS Backup alerts <backup-alerts@example.com>',
    to: ['dba-oncall@example.com'],
    subject: 'Second message',
    html: '<p>second</p>',
    text: 'second\n',
    tags: { kind: 'digest' },
  });

  it('sends the repaired message, then the next one with exactly its own parameters', async () => {
    const sender = new SesEmailSender(sesClient());
    await expect(sender.send(hostile())).resolves.toEqual({ messageId: 'ses-1' });
    await expect(sender.send(normal())).resolves.toEqual({ messageId: 'ses-2' });

    expect(received.map((r) => r.action)).toEqual(['SendEmail', 'SendEmail']);
    const [first, second] = received;
    expect(first!.body).toContain(
      `Message.Subject.Data=%5BFAILED%5D%20Backup%20job%20%C2%B7%20orders${REPLACED}%20%C2%B7%20eu-west-1`,
    );
    expect(first!.body).toContain(
      `Message.Body.Html.Data=%3Cp%3EReason%3A%20denied%20${REPLACED}%3C%2Fp%3E`,
    );
    // A well-formed pair stays; each lone half becomes one U+FFFD.
    expect(paramsOnce(first!)['Message.Body.Text.Data']).toBe(
      'Reason: denied \ud800\udfff\ufffd\n',
    );
    expect(first!.body).not.toMatch(LONE);

    expect(paramsOnce(second!)).toEqual({
      Action: 'SendEmail',
      Version: '2010-12-01',
      Source: 'AWS Backup alerts <backup-alerts@example.com>',
      'Destination.ToAddresses.member.1': 'dba-oncall@example.com',
      'Message.Subject.Data': 'Second message',
      'Message.Subject.Charset': 'UTF-8',
      'Message.Body.Html.Data': '<p>second</p>',
      'Message.Body.Html.Charset': 'UTF-8',
      'Message.Body.Text.Data': 'second\n',
      'Message.Body.Text.Charset': 'UTF-8',
      'Tags.member.1.Name': 'kind',
      'Tags.member.1.Value': 'digest',
    });
    expect(second!.body).not.toContain(REPLACED);
    expect(second!.body).not.toContain('platform-team');
  });
});

describe('SnsTopicPublisher with a real SNSClient', () => {
  const TOPIC = 'arn:aws:sns:us-east-1:111122223333:chat';
  const hostile = (): TopicMessage => ({
    topicArn: TOPIC,
    subject: `[FAILED] Backup job - orders${LOW}`,
    body: JSON.stringify({ description: 'x' }).replace('x', `denied ${HIGH}`),
    attributes: { severity: 'error', [`accountId${LOW}`]: `1111${HIGH}` },
  });
  const normal = (): TopicMessage => ({
    topicArn: 'arn:aws:sns:us-east-1:111122223333:ops',
    subject: 'Second',
    body: '{"second":true}',
    attributes: { severity: 'info' },
  });

  it('publishes the repaired message, then the next one with exactly its own parameters', async () => {
    const publisher = new SnsTopicPublisher(snsClient());
    await expect(publisher.publish(hostile())).resolves.toEqual({ messageId: 'sns-1' });
    await expect(publisher.publish(normal())).resolves.toEqual({ messageId: 'sns-2' });

    expect(received.map((r) => r.action)).toEqual(['Publish', 'Publish']);
    const [first, second] = received;
    expect(first!.body).toContain(`Subject=%5BFAILED%5D%20Backup%20job%20-%20orders${REPLACED}`);
    expect(first!.body).toContain(`denied%20${REPLACED}`);
    const params = paramsOnce(first!);
    const names = Object.entries(params)
      .filter(([k]) => /^MessageAttributes\.entry\.\d+\.Name$/.test(k))
      .map(([, v]) => v);
    expect(names.sort()).toEqual(['accountId\ufffd', 'severity']);
    expect(Object.values(params)).toContain('1111\ufffd');
    expect(first!.body).not.toMatch(LONE);

    expect(paramsOnce(second!)).toEqual({
      Action: 'Publish',
      Version: '2010-03-31',
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:ops',
      Subject: 'Second',
      Message: '{"second":true}',
      'MessageAttributes.entry.1.Name': 'severity',
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': 'info',
    });
    expect(second!.body).not.toContain(REPLACED);
    expect(second!.body).not.toContain(':chat');
  });
});

/**
 * Why the repair exists, shown on the raw clients (@aws-sdk/core 3.981.2, client-ses and
 * client-sns 3.1169.0): the serializer throws URIError before sending, and the next request on
 * the same client carries what had been serialized of the failed one (here: its Source and
 * Subject, its TopicArn and Message) ahead of its own parameters. If an SDK upgrade changes this,
 * these two tests say so; the repair stays harmless.
 */
describe('the raw SDK clients, without the repair', () => {
  it('SESClient: URIError, and the next SendEmail carries the failed one', async () => {
    const ses = sesClient();
    const email = (source: string, subject: string, text: string) =>
      new SendEmailCommand({
        Source: source,
        Destination: { ToAddresses: ['platform-team@example.com'] },
        Message: { Subject: { Data: subject }, Body: { Text: { Data: text } } },
      });
    await expect(
      ses.send(email('first@example.com', 'First subject', `lone ${HIGH}`)),
    ).rejects.toThrow(URIError);
    expect(received).toEqual([]);

    await ses.send(email('second@example.com', 'Second subject', 'fine'));
    expect(received).toHaveLength(1);
    const { params } = received[0]!;
    expect(params.getAll('Source')).toEqual(['first@example.com', 'second@example.com']);
    expect(params.getAll('Message.Subject.Data')).toEqual(['First subject', 'Second subject']);
  });

  it('SNSClient: URIError, and the next Publish carries the failed one', async () => {
    const sns = snsClient();
    const publish = (topic: string, message: string, value: string) =>
      new PublishCommand({
        TopicArn: `arn:aws:sns:us-east-1:111122223333:${topic}`,
        Message: message,
        MessageAttributes: { severity: { DataType: 'String', StringValue: value } },
      });
    await expect(sns.send(publish('first', 'first message', `error${LOW}`))).rejects.toThrow(
      URIError,
    );
    expect(received).toEqual([]);

    await sns.send(publish('second', 'second message', 'info'));
    expect(received).toHaveLength(1);
    const { params } = received[0]!;
    expect(params.getAll('TopicArn')).toEqual([
      'arn:aws:sns:us-east-1:111122223333:first',
      'arn:aws:sns:us-east-1:111122223333:second',
    ]);
    expect(params.getAll('Message')).toEqual(['first message', 'second message']);
  });
});

describe('a job event with lone surrogates through notifyBackupEvent and the real adapters', () => {
  const ACCOUNT = '111122223333';

  function deps(): PipelineDeps {
    const config = exampleConfig();
    config.notifications.email.recipients = {
      admins: ['platform-team@example.com'],
      dba: ['dba-oncall@example.com'],
    };
    config.notifications.topics = { chat: TopicSchema.parse({}) };
    config.notifications.rules = [
      {
        name: 'errors-and-warnings',
        match: { severity: ['error', 'warning'] },
        email: ['admins'],
        sns: ['chat'],
      },
      {
        name: 'database-failures',
        match: { severity: ['error'], resourceType: ['DynamoDB'] },
        email: ['dba'],
        sns: [],
      },
    ];
    const clock = new FakeClock();
    // The account name is member-controlled too.
    const org = new FakeDirectory({
      [ACCOUNT]: { name: `Produc${HIGH}tion`, email: 'aws-prod@example.com', status: 'ACTIVE' },
    });
    return {
      config,
      topicArn: (topic) => `arn:aws:sns:us-east-1:${ACCOUNT}:${topic}`,
      accounts: new CachedAccountContext(org, 60_000, clock),
      ledger: new InMemoryLedger(),
      email: new SesEmailSender(sesClient()),
      sns: new SnsTopicPublisher(snsClient()),
      clock,
      log: new RecordingLog(),
    };
  }

  const event = (id: string, jobId: string, statusMessage: string, resourceName: string) => {
    const raw = sample('backup/backup-job-state-change.failed') as {
      detail: Record<string, unknown>;
    };
    Object.assign(raw, { id });
    Object.assign(raw.detail, { backupJobId: jobId, statusMessage, resourceName });
    return raw;
  };

  it('sends both events on the same clients, each with its own, well-formed text', async () => {
    const d = deps();
    const first = await notifyBackupEvent(
      event('event-1', 'job-1', `Access denied ${HIGH} by policy`, `orders${LOW}-db`),
      d,
    );
    expect(first.sent!.deliveries.map((x) => x.status)).toEqual(['sent', 'sent', 'sent']);
    const firstRequests = received.splice(0);
    const second = await notifyBackupEvent(
      event('event-2', 'job-2', 'Backup vault is locked.', 'customers'),
      d,
    );
    expect(second.sent!.deliveries.map((x) => x.status)).toEqual(['sent', 'sent', 'sent']);
    const secondRequests = received.splice(0);

    for (const requests of [firstRequests, secondRequests]) {
      expect(requests.map((r) => r.action).sort()).toEqual(['Publish', 'SendEmail', 'SendEmail']);
      for (const r of requests) {
        paramsOnce(r);
        expect(r.params.toString()).not.toMatch(LONE);
      }
    }

    const emails = firstRequests.filter((r) => r.action === 'SendEmail');
    expect(emails.map((r) => r.params.get('Destination.ToAddresses.member.1')).sort()).toEqual([
      'dba-oncall@example.com',
      'platform-team@example.com',
    ]);
    for (const r of emails) {
      expect(r.params.get('Message.Subject.Data')).toContain('orders\ufffd-db');
      expect(r.params.get('Message.Subject.Data')).toContain('Produc\ufffdtion');
      expect(r.params.get('Message.Body.Text.Data')).toContain('Access denied \ufffd by policy');
      expect(r.body).toContain(REPLACED);
    }
    const chat = firstRequests.find((r) => r.action === 'Publish')!;
    expect(chat.params.get('TopicArn')).toBe(`arn:aws:sns:us-east-1:${ACCOUNT}:chat`);
    expect(chat.params.get('Message')).toContain('Access denied \ufffd by policy');
    expect(chat.params.get('Subject')).toMatch(/^[\x20-\x7e]+$/);

    for (const r of secondRequests) {
      // The account's own (repaired) name is the only U+FFFD the second event may carry.
      expect(r.body.replaceAll(`Produc${REPLACED}tion`, '')).not.toContain(REPLACED);
      expect(r.body).not.toContain('Access%20denied');
      expect(r.body).not.toContain('orders');
    }
    const secondEmails = secondRequests.filter((r) => r.action === 'SendEmail');
    for (const r of secondEmails) {
      expect(r.params.get('Message.Subject.Data')).toContain('customers');
      expect(r.params.get('Message.Body.Text.Data')).toContain('Backup vault is locked.');
    }
    expect(secondRequests.find((r) => r.action === 'Publish')!.params.get('Message')).toContain(
      'job-2',
    );
  });
});
