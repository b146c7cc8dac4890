/**
 * The deployed handler end to end with the AWS SDK mocked at the client classes
 * (aws-sdk-client-mock), so the handler's own clients are the mocked ones. DynamoDB behaves
 * like a table (conditional writes exclude each other) so deduplication is real.
 */
import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { buildNotifyDeps, createHandler } from '../../functions/notify-backup-event/handler';
import { CONFIG_ENV } from '../../functions/shared/config/runtime';
import { inMemoryTable } from '../helpers/dynamodb-table';
import { exampleConfig, ROOT, sample } from '../helpers/fixtures';
import { lambdaContext, sqsEvent, sqsRecord } from '../helpers/lambda';

const CHAT_TOPIC = 'arn:aws:sns:us-east-1:123456789012:chat';

const ses = mockClient(SESClient);
const sns = mockClient(SNSClient);
const organizations = mockClient(OrganizationsClient);
const dynamodb = mockClient(DynamoDBClient);
let table: ReturnType<typeof inMemoryTable>;

beforeAll(() => {
  process.env[CONFIG_ENV] = JSON.stringify(exampleConfig());
  process.env.DELIVERY_TABLE_NAME = 'backup-control-plane-dev';
  process.env.TOPIC_ARNS = JSON.stringify({ chat: CHAT_TOPIC });
});

let handler: ReturnType<typeof createHandler>;

beforeEach(() => {
  // A fresh container per test: its clients are the mocked ones.
  handler = createHandler(() => buildNotifyDeps());
  ses.reset();
  sns.reset();
  organizations.reset();
  dynamodb.reset();
  table = inMemoryTable(dynamodb);
  let sent = 0;
  ses.on(SendEmailCommand).callsFake(() => ({ MessageId: `ses-${++sent}` }));
  sns.on(PublishCommand).callsFake(() => ({ MessageId: `sns-${++sent}` }));
  organizations.on(DescribeAccountCommand).callsFake((input: { AccountId?: string }) => ({
    Account: {
      Id: input.AccountId,
      Name: 'Production',
      Email: 'aws-prod@example.com',
      State: 'ACTIVE',
    },
  }));
});

const invoke = (...records: ReturnType<typeof sqsRecord>[]): Promise<SQSBatchResponse> =>
  handler(sqsEvent(...records), lambdaContext());

const failedIds = (response: SQSBatchResponse) =>
  response.batchItemFailures.map((f) => f.itemIdentifier).sort();

/** What SES raises once the SDK's own retries are spent (the mock replaces send, so no retry). */
const throttled = () =>
  Object.assign(new Error('Maximum sending rate exceeded.'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });

describe('notify-backup-event handler', () => {
  it('emails admins and publishes to the chat topic for a FAILED job', async () => {
    const response = await invoke(
      sqsRecord(sample('backup/backup-job-state-change.expired'), 'm1'),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Source: 'AWS Backup alerts <backup-alerts@example.com>',
      Destination: { ToAddresses: ['platform-team@example.com'] },
      ReplyToAddresses: ['platform-team@example.com'],
      Message: expect.objectContaining({
        Subject: {
          Data: expect.stringMatching(
            /^\[EXPIRED\] Backup job · .+ · Production \(444455556666\) · eu-west-1$/,
          ),
          Charset: 'UTF-8',
        },
      }),
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: CHAT_TOPIC,
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'error' },
        kind: { DataType: 'String', StringValue: 'job' },
        state: { DataType: 'String', StringValue: 'EXPIRED' },
        jobType: { DataType: 'String', StringValue: 'backup' },
        accountId: { DataType: 'String', StringValue: '444455556666' },
        region: { DataType: 'String', StringValue: 'eu-west-1' },
        resourceType: { DataType: 'String', StringValue: 'EFS' },
      },
    });
    const body = JSON.parse(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!);
    expect(body).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown' },
    });
    expect(organizations).toHaveReceivedCommandWith(DescribeAccountCommand, {
      AccountId: '444455556666',
    });
  });

  it('adds the dba list for a failed database backup, one email per list', async () => {
    await invoke(sqsRecord(sample('backup/backup-job-state-change.failed')));
    const recipients = ses
      .commandCalls(SendEmailCommand)
      .map((c) => c.args[0].input.Destination?.ToAddresses);
    expect(recipients).toEqual(
      expect.arrayContaining([['platform-team@example.com'], ['dba-oncall@example.com']]),
    );
    expect(recipients).toHaveLength(2);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('sends nothing for a RUNNING job and reports no failure', async () => {
    const response = await invoke(
      sqsRecord(sample('backup/backup-job-state-change.running')),
      sqsRecord(sample('backup/copy-job-state-change.running')),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });

  it('fails only the malformed records of a batch and delivers the good ones', async () => {
    const malformedDir = join(ROOT, 'events', 'malformed');
    const malformed = readdirSync(malformedDir)
      // Samples of other sources (wrong-source, onboarding events) are ignored, not rejected.
      .filter(
        (f) =>
          f.endsWith('.json') &&
          (f.startsWith('backup-job-') ||
            ['broken.json', 'missing-detail.json', 'not-an-object.json'].includes(f)),
      )
      .map((f, i) => sqsRecord(readFileSync(join(malformedDir, f), 'utf8'), `bad-${i}`));
    expect(malformed.length).toBeGreaterThanOrEqual(4);

    const response = await invoke(
      sqsRecord(sample('backup/backup-job-state-change.failed-backup-rule-id'), 'good-1'),
      ...malformed,
      sqsRecord('this is not JSON {', 'bad-text'),
      sqsRecord(sample('malformed/wrong-source'), 'foreign'),
      sqsRecord(sample('backup/restore-job-state-change.completed'), 'good-2'),
    );

    expect(failedIds(response)).toEqual([...malformed.map((r) => r.messageId), 'bad-text'].sort());
    // good-1: admins + dba email and chat; good-2 (info): chat only.
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 2);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      MessageAttributes: expect.objectContaining({
        state: { DataType: 'String', StringValue: 'COMPLETED' },
      }),
    });
  });

  it('sends once when the same event arrives twice in one batch', async () => {
    const event = sample('backup/backup-job-state-change.expired');
    const response = await invoke(sqsRecord(event, 'a'), sqsRecord(structuredClone(event), 'b'));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('sends once when the same job state arrives in two invocations (even with another event id)', async () => {
    await invoke(sqsRecord(sample('backup/backup-job-state-change.expired')));
    handler = createHandler(() => buildNotifyDeps()); // a new container: only the table remembers
    const again = sample('backup/backup-job-state-change.expired');
    again.id = 'another-event-id-from-a-second-bus';
    const response = await invoke(sqsRecord(again));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect([...table.values()].map((item) => item.status?.S)).toEqual(['DELIVERED', 'DELIVERED']);
  });

  it('fails only the throttled record, and its retry sends the email but not the chat message again', async () => {
    ses.on(SendEmailCommand).rejectsOnce(throttled()).resolves({ MessageId: 'ses-retry' });
    const first = await invoke(
      sqsRecord(sample('backup/backup-job-state-change.expired'), 'throttled'),
      sqsRecord(sample('backup/backup-job-state-change.running'), 'ignored'),
    );
    expect(failedIds(first)).toEqual(['throttled']);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);

    const retry = await invoke(
      sqsRecord(sample('backup/backup-job-state-change.expired'), 'throttled'),
    );
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 2);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('sends with the account id alone when DescribeAccount fails', async () => {
    organizations.on(DescribeAccountCommand).rejects(
      Object.assign(new Error('AWS Organizations is not in use'), {
        name: 'AWSOrganizationsNotInUseException',
      }),
    );
    const response = await invoke(sqsRecord(sample('backup/backup-job-state-change.failed')));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Message: expect.objectContaining({
        Subject: {
          Data: '[FAILED] Backup job · customer-profiles · 111122223333 · us-east-1',
          Charset: 'UTF-8',
        },
      }),
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: '[FAILED] Backup job - customer-profiles - 111122223333 - us-east-1',
    });
  });

  it('looks an account up once per warm container', async () => {
    await invoke(
      sqsRecord(sample('backup/backup-job-state-change.failed')),
      sqsRecord(sample('backup/backup-job-state-change.completed')),
    );
    await invoke(sqsRecord(sample('backup/restore-job-state-change.completed')));
    expect(organizations).toHaveReceivedCommandTimes(DescribeAccountCommand, 1);
  });

  it('fails the record when the delivery table is unavailable, sending nothing', async () => {
    dynamodb.on(PutItemCommand).rejects(
      Object.assign(new Error('Requested resource not found'), {
        name: 'ResourceNotFoundException',
      }),
    );
    const response = await invoke(sqsRecord(sample('backup/backup-job-state-change.expired'), 'x'));
    expect(failedIds(response)).toEqual(['x']);
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('accepts an event that came through an SNS topic into the queue', async () => {
    const envelope = {
      Type: 'Notification',
      MessageId: 'f0b1c1a2-0000-4000-8000-000000000000',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:backup-events',
      Message: JSON.stringify(sample('backup/backup-job-state-change.expired')),
    };
    const response = await invoke(sqsRecord(envelope));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('fails every record, loudly, when the configuration is invalid', async () => {
    const good = process.env[CONFIG_ENV];
    process.env[CONFIG_ENV] = JSON.stringify({ ...exampleConfig(), organizationId: 'nope' });
    type HandlerModule = typeof import('../../functions/notify-backup-event/handler');
    let fresh: HandlerModule | undefined;
    let sdkCalls: { calls(): unknown[] }[] = [];
    // A new module registry (the configuration is read once per container), with its own
    // SDK classes mocked too, so a record can only fail because of the configuration.
    jest.isolateModules(() => {
      sdkCalls = [
        mockClient(
          jest.requireActual<typeof import('@aws-sdk/client-ses')>('@aws-sdk/client-ses').SESClient,
        ),
        mockClient(
          jest.requireActual<typeof import('@aws-sdk/client-sns')>('@aws-sdk/client-sns').SNSClient,
        ),
        mockClient(
          jest.requireActual<typeof import('@aws-sdk/client-dynamodb')>('@aws-sdk/client-dynamodb')
            .DynamoDBClient,
        ),
        mockClient(
          jest.requireActual<typeof import('@aws-sdk/client-organizations')>(
            '@aws-sdk/client-organizations',
          ).OrganizationsClient,
        ),
      ];
      fresh = jest.requireActual<HandlerModule>('../../functions/notify-backup-event/handler');
    });
    try {
      const response = await fresh!.handler(
        sqsEvent(
          sqsRecord(sample('backup/backup-job-state-change.expired'), 'a'),
          sqsRecord(sample('backup/backup-job-state-change.failed'), 'b'),
        ),
        lambdaContext(),
      );
      expect(failedIds(response)).toEqual(['a', 'b']);
      expect(sdkCalls.map((m) => m.calls().length)).toEqual([0, 0, 0, 0]);
    } finally {
      process.env[CONFIG_ENV] = good;
    }
  });
});

describe('notify-backup-event handler within its time', () => {
  it('starts no record in the last 20 s of the invocation: they are retried, not cut off', async () => {
    const h = createHandler(() => buildNotifyDeps());
    const response = await h(
      sqsEvent(
        sqsRecord(sample('backup/backup-job-state-change.expired'), 'late-1'),
        sqsRecord(sample('backup/backup-job-state-change.failed'), 'late-2'),
      ),
      lambdaContext({ getRemainingTimeInMillis: () => 15_000 }),
    );
    expect(failedIds(response)).toEqual(['late-1', 'late-2']);
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    // No claim was taken: the retry sends everything.
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });

  it('processes records while there is time, and leaves the rest for the retry', async () => {
    const h = createHandler(() => buildNotifyDeps());
    let now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      // Each SES call takes 20 s of the invocation's 60 s; records start until 40 s.
      ses.on(SendEmailCommand).callsFake(() => {
        now += 20_000;
        return { MessageId: `ses-${now}` };
      });
      const response = await h(
        sqsEvent(
          sqsRecord(sample('backup/backup-job-state-change.expired'), 'first'), // admins
          sqsRecord(sample('backup/copy-job-state-change.failed'), 'second'), // admins and DBAs
          sqsRecord(sample('backup/restore-job-state-change.failed'), 'third'),
        ),
        lambdaContext({ getRemainingTimeInMillis: () => 60_000 }),
      );
      expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 3);
      expect(failedIds(response)).toEqual(['third']);
    } finally {
      clock.mockRestore();
    }
  });

  it('wired from the environment: a tamper alert asks the onboarding queue for a repair', async () => {
    const sqs = mockClient(SQSClient);
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }] });
    const queueUrl =
      'https://sqs.us-east-1.amazonaws.com/123456789012/backup-control-plane-dev-onboarding';
    const env = {
      ...process.env,
      STACK_PREFIX: 'backup-control-plane-dev-',
      CENTRAL_BUS_ARN:
        'arn:aws:events:us-east-1:123456789012:event-bus/backup-control-plane-dev-backup-events',
      ONBOARDING_QUEUE_URL: queueUrl,
    };
    try {
      const h = createHandler(() => buildNotifyDeps(env));
      const response = await h(
        sqsEvent(
          sqsRecord(sample('cloudtrail/disable-rule.forwarding-rule'), 'tamper'),
          sqsRecord(sample('cloudtrail/disable-rule.by-onboarding'), 'own'),
        ),
        lambdaContext(),
      );
      expect(response).toEqual({ batchItemFailures: [] });
      expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
      expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
      const entry = sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input;
      expect(entry.QueueUrl).toBe(queueUrl);
      expect(JSON.parse(entry.Entries![0]!.MessageBody!)).toMatchObject({
        kind: 'onboard-request',
        accountId: '444455556666',
        trigger: 'Drift',
      });
    } finally {
      sqs.restore();
    }
  });

  it('names a bad deployment setting', () => {
    expect(() => buildNotifyDeps({ ...process.env, STACK_PREFIX: 'no dash' })).toThrow(
      /STACK_PREFIX: must be the stack prefix/,
    );
  });

  it('with aggregation on, needs the notification queue for its summaries, and names it', () => {
    const config = exampleConfig();
    config.notifications.aggregation.enabled = true;
    const env = { ...process.env, [CONFIG_ENV]: JSON.stringify(config) };
    expect(() => buildNotifyDeps(env)).toThrow(/NOTIFICATION_QUEUE_URL is not set/);
    const deps = buildNotifyDeps({
      ...env,
      NOTIFICATION_QUEUE_URL:
        'https://sqs.us-east-1.amazonaws.com/123456789012/backup-control-plane-dev-notifications',
    });
    expect(deps.incidents).toBeDefined();
    expect(deps.summaries).toBeDefined();
    expect(buildNotifyDeps().incidents).toBeUndefined();
  });
});
