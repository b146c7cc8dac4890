/**
 * The onboarding queue's handler with the AWS SDK mocked at the client classes
 * (aws-sdk-client-mock), so the clients the handler builds are the mocked ones; and with the
 * in-memory fakes given to createHandler where the wiring itself is under test.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListParentsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  TagResourceCommand,
} from '@aws-sdk/client-organizations';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { SQSBatchResponse } from 'aws-lambda';
import { buildOnboardingDeps, createHandler } from '../../functions/onboard-account/handler';
import { CONFIG_ENV } from '../../functions/shared/config/runtime';
import { ConfigError } from '../../functions/shared/errors';
import type { AccountRecord } from '../../functions/shared/ports';
import { inMemoryTable } from '../helpers/dynamodb-table';
import { exampleConfig, sample } from '../helpers/fixtures';
import { lambdaContext, sqsEvent, sqsRecord } from '../helpers/lambda';
import { MEMBER_ID, onboardingWorld } from '../helpers/onboarding-fakes';

const CHAT_TOPIC = 'arn:aws:sns:us-east-1:111122223333:chat';
const TABLE = 'backup-control-plane-dev';
const FAILED_EVENT_ID = '6a1e8f2d-3c4b-4a5e-8d7f-9b0c1a2e3f4d';

const ses = mockClient(SESClient);
const sns = mockClient(SNSClient);
const organizations = mockClient(OrganizationsClient);
const dynamodb = mockClient(DynamoDBClient);
const sts = mockClient(STSClient);

beforeAll(() => {
  process.env[CONFIG_ENV] = JSON.stringify(exampleConfig());
  process.env.DELIVERY_TABLE_NAME = TABLE;
  process.env.TOPIC_ARNS = JSON.stringify({ chat: CHAT_TOPIC });
  process.env.CENTRAL_BUS_ARN =
    'arn:aws:events:us-east-1:111122223333:event-bus/backup-control-plane-dev';
  process.env.WATCH_ROLE_ARN = 'arn:aws:iam::111122223333:role/backup-control-plane-dev-watch';
  process.env.CONTROL_PLANE_ROLE_ARN =
    'arn:aws:iam::111122223333:role/backup-control-plane-dev-onboarding';
  process.env.ONBOARDING_QUEUE_URL =
    'https://sqs.us-east-1.amazonaws.com/111122223333/backup-control-plane-dev-onboarding';
});

let handler: ReturnType<typeof createHandler>;

beforeEach(() => {
  handler = createHandler(() => buildOnboardingDeps());
  for (const mock of [ses, sns, organizations, dynamodb, sts]) mock.reset();
  let sent = 0;
  ses.on(SendEmailCommand).callsFake(() => ({ MessageId: `ses-${++sent}` }));
  sns.on(PublishCommand).callsFake(() => ({ MessageId: `sns-${++sent}` }));
});

const invoke = (...records: ReturnType<typeof sqsRecord>[]): Promise<SQSBatchResponse> =>
  handler(sqsEvent(...records), lambdaContext());

const failedIds = (response: SQSBatchResponse) =>
  response.batchItemFailures.map((f) => f.itemIdentifier).sort();

const request = (accountId = MEMBER_ID) => ({
  kind: 'onboard-request',
  accountId,
  trigger: 'Reconcile',
  requestedAt: '2025-03-13T03:00:00.000Z',
});

/** Organizations as the resolve step reads it: one ACTIVE (or other) account under the root. */
function organization(state: 'ACTIVE' | 'SUSPENDED' = 'ACTIVE'): void {
  organizations.on(DescribeOrganizationCommand).resolves({
    Organization: { Id: 'o-exampleorg1', MasterAccountId: '111122223333' },
  });
  organizations.on(DescribeAccountCommand).resolves({
    Account: { Id: MEMBER_ID, Name: 'Payments', Email: 'aws-payments@example.com', State: state },
  });
  organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: 'r-ab12', Type: 'ROOT' }] });
  organizations.on(ListTagsForResourceCommand).resolves({ Tags: [] });
  organizations.on(TagResourceCommand).resolves({});
}

/** The ledger records saved through UpdateItem, in order. */
const savedRecords = () =>
  dynamodb
    .commandCalls(UpdateItemCommand)
    .map((c) => c.args[0].input.ExpressionAttributeValues?.[':record']?.S)
    .filter((json): json is string => Boolean(json))
    .map((json) => JSON.parse(json) as AccountRecord);

describe('onboard-account handler', () => {
  it('succeeds for an event that does not start onboarding, calling nothing', async () => {
    const response = await invoke(
      sqsRecord(sample('organizations/create-account.request'), 'request'),
      sqsRecord(sample('organizations/invite-account-to-organization'), 'invite'),
      sqsRecord(sample('malformed/wrong-source'), 'foreign'),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    for (const mock of [ses, sns, organizations, dynamodb, sts]) {
      expect(mock.calls()).toHaveLength(0);
    }
  });

  it('reports only the malformed records of a batch', async () => {
    const response = await invoke(
      sqsRecord(sample('malformed/create-account-result-missing-status'), 'bad-event'),
      sqsRecord({ kind: 'onboard-request', accountId: '12', trigger: 'Reconcile' }, 'bad-request'),
      sqsRecord('not JSON {', 'bad-text'),
      sqsRecord(sample('organizations/create-account.request'), 'good'),
    );
    expect(failedIds(response)).toEqual(['bad-event', 'bad-request', 'bad-text']);
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
  });

  it('alerts admins of a failed account creation once, however often it is delivered', async () => {
    const table = inMemoryTable(dynamodb);
    const event = sample('organizations/create-account-result.failed');

    const first = await invoke(sqsRecord(event, 'm1'));
    handler = createHandler(() => buildOnboardingDeps()); // a new container: only the table remembers
    const again = await invoke(
      sqsRecord(sample('organizations/create-account-result.failed'), 'm2'),
    );

    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Source: 'AWS Backup alerts <backup-alerts@example.com>',
      Destination: { ToAddresses: ['platform-team@example.com'] },
      Message: expect.objectContaining({
        Subject: expect.objectContaining({
          Data: '[FAILED] Creating a new account failed: EMAIL_ALREADY_EXISTS',
        }),
      }),
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: CHAT_TOPIC,
      MessageAttributes: expect.objectContaining({
        state: { DataType: 'String', StringValue: 'FAILED' },
        jobType: { DataType: 'String', StringValue: 'onboarding' },
      }),
    });
    for (const channel of ['email:admins', 'sns:chat']) {
      expect(table.get(`DELIVERY#alert#${FAILED_EVENT_ID}|${channel}`)?.status?.S).toBe(
        'DELIVERED',
      );
    }
    // One claim per channel (email, chat), and the redelivery's claims of both: no outer claim.
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 4);
    expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
  });

  it('records a suspended account skipped, under the record’s message id as lock owner', async () => {
    organization('SUSPENDED');
    dynamodb.on(UpdateItemCommand).resolves({});
    dynamodb.on(GetItemCommand).resolves({});

    const response = await invoke(sqsRecord(request(), 'msg-42'));

    expect(response).toEqual({ batchItemFailures: [] });
    const updates = dynamodb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(updates[0]).toMatchObject({
      TableName: TABLE,
      Key: { pk: { S: `ACCOUNT#${MEMBER_ID}` }, sk: { S: 'ONBOARDING' } },
      ExpressionAttributeValues: expect.objectContaining({ ':owner': { S: 'msg-42' } }),
    });
    expect(updates.at(-1)).toMatchObject({
      UpdateExpression: 'REMOVE lockOwner, lockUntil, lockSince',
      ExpressionAttributeValues: { ':owner': { S: 'msg-42' } },
    });
    expect(savedRecords().at(-1)).toMatchObject({
      accountId: MEMBER_ID,
      status: 'skipped',
      skipReason: 'account is SUSPENDED',
      lastTrigger: 'Reconcile',
    });
    expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
    expect(organizations).not.toHaveReceivedCommand(TagResourceCommand);
  });

  it('reports a failed onboarding for retry, after telling admins once', async () => {
    organization();
    dynamodb.on(UpdateItemCommand).resolves({});
    dynamodb.on(GetItemCommand).resolves({});
    sts.on(AssumeRoleCommand).rejects(
      Object.assign(new Error('is not authorized to perform: sts:AssumeRole'), {
        name: 'AccessDenied',
        $metadata: {},
      }),
    );

    const response = await invoke(sqsRecord(request(), 'msg-7'));

    expect(failedIds(response)).toEqual(['msg-7']);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${MEMBER_ID}:role/OrganizationAccountAccessRole`,
    });
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Message: expect.objectContaining({
        Subject: expect.objectContaining({
          // The account resolved before the failure is named in the notice.
          Data: `[FAILED] Onboarding of account Payments (${MEMBER_ID}) failed at step access`,
        }),
      }),
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(savedRecords().at(-1)).toMatchObject({
      status: 'failed',
      lastError: { step: 'access' },
      notified: { status: 'failed' },
    });
    expect(organizations).toHaveReceivedCommandWith(TagResourceCommand, {
      ResourceId: MEMBER_ID,
      Tags: expect.arrayContaining([{ Key: 'backup-control-plane:status', Value: 'failed' }]),
    });
  });

  it('fails the records, naming the setting, when the stack settings are missing', async () => {
    const bus = process.env.CENTRAL_BUS_ARN;
    delete process.env.CENTRAL_BUS_ARN;
    try {
      expect(() => buildOnboardingDeps()).toThrow(ConfigError);
      expect(() => buildOnboardingDeps()).toThrow(/CENTRAL_BUS_ARN/);
      const response = await invoke(sqsRecord(request(), 'a'));
      expect(failedIds(response)).toEqual(['a']);
      expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
    } finally {
      process.env.CENTRAL_BUS_ARN = bus;
    }
  });

  describe('with the in-memory fakes', () => {
    function useFakes() {
      const w = onboardingWorld();
      // The handler puts the record's message id in place of w.deps.owner.
      handler = createHandler(() => w.deps);
      return w;
    }

    it('onboards under the record’s message id and releases the lock', async () => {
      const w = useFakes();
      const response = await invoke(sqsRecord(request(), 'msg-1'));
      expect(response).toEqual({ batchItemFailures: [] });
      expect(w.ledger.writes[0]).toEqual(['acquire', MEMBER_ID, 'msg-1']);
      expect(w.ledger.writes.at(-1)).toEqual(['release', MEMBER_ID, 'msg-1']);
      expect(w.ledger.records.get(MEMBER_ID)?.status).toBe('ready');
    });

    it('passes the event time: an event a running onboarding covers succeeds', async () => {
      const w = useFakes();
      w.ledger.hold(MEMBER_ID, 'other', w.clock.now(), 900_000);
      const event = JSON.parse(
        JSON.stringify(sample('organizations/create-account-result.succeeded'))
          .split('210987654321')
          .join(MEMBER_ID),
      ) as Record<string, unknown>;
      event.time = '2025-03-13T03:04:00Z'; // before the lock was taken

      const covered = await invoke(sqsRecord(event, 'covered'));
      // A sweep request counts from its requestedAt: made before the lock, it is covered too;
      // one made after the running onboarding started is retried until that one is done.
      const earlier = await invoke(sqsRecord(request(), 'earlier-request'));
      const later = await invoke(
        sqsRecord({ ...request(), requestedAt: '2099-01-01T00:00:00.000Z' }, 'later-request'),
      );

      expect(covered).toEqual({ batchItemFailures: [] });
      expect(earlier).toEqual({ batchItemFailures: [] });
      expect(failedIds(later)).toEqual(['later-request']);
      expect(w.ledger.locks.get(MEMBER_ID)?.owner).toBe('other');
      expect(w.access.calls).toEqual([]);
    });
  });
});
