/**
 * The scheduled sweep's handler with the AWS SDK mocked at the client classes: it reads the
 * organization and the ledger, queues the accounts that need work, and returns the counts.
 */
import { BatchGetItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { forwardedPattern, loadBaseline } from '../../functions/onboard-account/baseline';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';
import { CONTROL_TOWER_LIFECYCLE_PATTERN } from '../../functions/reconcile/region-forwarding';
import {
  buildReconcileDeps,
  buildSweepDeps,
  createHandler,
} from '../../functions/reconcile/handler';
import { CONFIG_ENV } from '../../functions/shared/config/runtime';
import type { AccountRecord } from '../../functions/shared/ports';
import { FakeClock } from '../helpers/fakes';
import { exampleConfig } from '../helpers/fixtures';
import { lambdaContext } from '../helpers/lambda';
import {
  FakeOrganization,
  InMemoryOnboardingLedger,
  RecordingQueue,
  WORKLOADS_OU,
} from '../helpers/onboarding-fakes';

const TABLE = 'backup-control-plane-dev';
const QUEUE_URL =
  'https://sqs.us-east-1.amazonaws.com/111122223333/backup-control-plane-dev-onboarding';
const MANAGEMENT = '111122223333';

const organizations = mockClient(OrganizationsClient);
const dynamodb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);

beforeAll(() => {
  process.env[CONFIG_ENV] = JSON.stringify(exampleConfig());
  process.env.DELIVERY_TABLE_NAME = TABLE;
  process.env.TOPIC_ARNS = JSON.stringify({ chat: 'arn:aws:sns:us-east-1:111122223333:chat' });
  process.env.CENTRAL_BUS_ARN =
    'arn:aws:events:us-east-1:111122223333:event-bus/backup-control-plane-dev';
  process.env.WATCH_ROLE_ARN = 'arn:aws:iam::111122223333:role/backup-control-plane-dev-watch';
  process.env.CONTROL_PLANE_ROLE_ARN =
    'arn:aws:iam::111122223333:role/backup-control-plane-dev-onboarding';
  process.env.ONBOARDING_QUEUE_URL = QUEUE_URL;
});

let handler: ReturnType<typeof createHandler>;

beforeEach(() => {
  handler = createHandler(() => buildSweepDeps());
  organizations.reset();
  dynamodb.reset();
  sqs.reset();
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

const readyRecord = (accountId: string): AccountRecord => ({
  accountId,
  status: 'ready',
  baselineVersion: loadBaseline().version,
  steps: {},
  attempts: 1,
  updatedAt: '2025-03-12T00:00:00.000Z',
  attachedPolicies: [],
});

/** Management account, one ready member, one new member (second page), one suspended. */
function organization(): void {
  organizations.on(DescribeOrganizationCommand).resolves({
    Organization: { Id: 'o-exampleorg1', MasterAccountId: MANAGEMENT },
  });
  organizations.on(ListAccountsCommand).callsFake((input: { NextToken?: string }) =>
    input.NextToken
      ? {
          Accounts: [
            { Id: '333344445555', Name: 'New', State: 'ACTIVE' },
            { Id: '444455556666', Name: 'Gone', State: 'SUSPENDED' },
          ],
        }
      : {
          Accounts: [
            { Id: MANAGEMENT, Name: 'Management', State: 'ACTIVE' },
            { Id: '222233334444', Name: 'Payments', State: 'ACTIVE' },
          ],
          NextToken: 'page-2',
        },
  );
  dynamodb.on(ScanCommand).resolves({
    Items: [
      {
        pk: { S: 'ACCOUNT#222233334444' },
        record: { S: JSON.stringify(readyRecord('222233334444')) },
      },
    ],
  });
  dynamodb.on(BatchGetItemCommand).resolves({
    Responses: {
      [TABLE]: [
        {
          pk: { S: 'ACCOUNT#222233334444' },
          sk: { S: 'ONBOARDING' },
          record: { S: JSON.stringify(readyRecord('222233334444')) },
        },
      ],
    },
  });
}

describe('reconcile handler', () => {
  it('queues what needs onboarding and returns the counts', async () => {
    organization();
    // The ledger also knows an account the organization no longer lists (paged).
    dynamodb
      .on(ScanCommand)
      .resolvesOnce({
        Items: [
          {
            pk: { S: 'ACCOUNT#222233334444' },
            record: { S: JSON.stringify(readyRecord('222233334444')) },
          },
        ],
        LastEvaluatedKey: { pk: { S: 'ACCOUNT#222233334444' }, sk: { S: 'ONBOARDING' } },
      })
      .resolvesOnce({
        Items: [
          {
            pk: { S: 'ACCOUNT#555566667777' },
            record: { S: JSON.stringify(readyRecord('555566667777')) },
          },
        ],
      });

    const result = await handler({}, lambdaContext());

    expect(result).toEqual({
      accounts: 4,
      enqueued: 2,
      counts: {
        onboard: 1,
        repair: 0,
        recheck: 0,
        verify: 0,
        skip: 2,
        ok: 1,
        unverifiable: 0,
        offboard: 1,
      },
    });
    expect(dynamodb).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(dynamodb).toHaveReceivedCommandWith(ScanCommand, {
      TableName: TABLE,
      FilterExpression: 'sk = :sk',
      ExpressionAttributeValues: { ':sk': { S: 'ONBOARDING' } },
    });
    expect(result).not.toHaveProperty('decisions');
    expect(dynamodb).toHaveReceivedCommandWith(BatchGetItemCommand, {
      RequestItems: {
        [TABLE]: {
          Keys: [MANAGEMENT, '222233334444', '333344445555', '444455556666'].map((id) => ({
            pk: { S: `ACCOUNT#${id}` },
            sk: { S: 'ONBOARDING' },
          })),
        },
      },
    });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    const entries = sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input;
    expect(entries.QueueUrl).toBe(QUEUE_URL);
    expect(entries.Entries!.map((e) => JSON.parse(e.MessageBody!))).toEqual([
      {
        kind: 'onboard-request',
        accountId: '333344445555',
        trigger: 'Reconcile',
        requestedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
      {
        kind: 'offboard-request',
        accountId: '555566667777',
        departure: 'departed',
        seen: 'no longer in the organization',
        requestedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
  });

  it('queues nothing when every account is in order', async () => {
    organization();
    organizations.on(ListAccountsCommand).resolves({
      Accounts: [
        { Id: MANAGEMENT, State: 'ACTIVE' },
        { Id: '222233334444', State: 'ACTIVE' },
      ],
    });
    const result = await handler({}, lambdaContext());
    expect(result).toMatchObject({ accounts: 2, enqueued: 0 });
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('lets a failure through (the schedule retries and alarms)', async () => {
    organization();
    organizations
      .on(ListAccountsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(handler({}, lambdaContext())).rejects.toThrow('Rate exceeded');
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('refuses to start without the onboarding queue', async () => {
    const url = process.env.ONBOARDING_QUEUE_URL;
    delete process.env.ONBOARDING_QUEUE_URL;
    try {
      await expect(handler({}, lambdaContext())).rejects.toThrow('ONBOARDING_QUEUE_URL is not set');
      expect(organizations.calls()).toHaveLength(0);
    } finally {
      process.env.ONBOARDING_QUEUE_URL = url;
    }
  });

  it('uses the dependencies it is given', async () => {
    const org = new FakeOrganization();
    org.addAccount({ id: '222233334444', status: 'ACTIVE' }, WORKLOADS_OU);
    const queue = new RecordingQueue();
    const deps = {
      config: exampleConfig(),
      baselineVersion: 1,
      org,
      ledger: new InMemoryOnboardingLedger(),
      queue,
      clock: new FakeClock(),
    };
    handler = createHandler(() => deps);
    await expect(handler({}, lambdaContext())).resolves.toEqual({
      accounts: 2,
      enqueued: 1,
      counts: {
        onboard: 1,
        repair: 0,
        recheck: 0,
        verify: 0,
        skip: 1,
        ok: 0,
        unverifiable: 0,
        offboard: 0,
      },
    });
    expect(queue.batches.flat()).toEqual([
      {
        kind: 'onboard-request',
        accountId: '222233334444',
        trigger: 'Reconcile',
        requestedAt: '2025-03-13T03:05:00.000Z',
      },
    ]);
    expect(organizations.calls()).toHaveLength(0);
  });

  describe('rules in other regions (Control Tower home region, management account regions)', () => {
    const RULE =
      'arn:aws:events:eu-west-1:111122223333:rule/backup-control-plane-dev-control-tower-events';
    const ROLE = 'arn:aws:iam::111122223333:role/backup-control-plane-dev-region-forwarder';
    const MANAGEMENT =
      'arn:aws:events:*:111122223333:rule/backup-control-plane-dev-management-backup-events';
    /** The regions come from the configuration: here two besides us-east-1. */
    const withBackupRegions = () => {
      const config = exampleConfig();
      config.managementAccount = { backupRegions: ['eu-west-1', 'eu-central-1'] };
      process.env[CONFIG_ENV] = JSON.stringify(config);
    };
    const events = mockClient(EventBridgeClient);
    beforeEach(() => {
      events.reset();
      process.env.CONTROL_TOWER_FORWARDING_RULE_ARN = RULE;
      process.env.REGION_FORWARDER_ROLE_ARN = ROLE;
    });
    afterEach(() => {
      delete process.env.CONTROL_TOWER_FORWARDING_RULE_ARN;
      delete process.env.REGION_FORWARDER_ROLE_ARN;
      delete process.env.MANAGEMENT_FORWARDING_RULE_ARN;
      process.env[CONFIG_ENV] = JSON.stringify(exampleConfig());
    });

    it('creates the home-region rule before the sweep, targeting us-east-1’s default bus', async () => {
      organization();
      events
        .on(DescribeRuleCommand)
        .rejects(new ResourceNotFoundException({ message: 'Rule does not exist', $metadata: {} }));
      events.on(PutRuleCommand).resolves({});
      events.on(PutTargetsCommand).resolves({ FailedEntryCount: 0 });
      handler = createHandler(() => buildReconcileDeps());
      const result = await handler({}, lambdaContext());
      expect(result.regionForwarding).toEqual([
        'rule backup-control-plane-dev-control-tower-events does not exist in eu-west-1',
      ]);
      expect(events).toHaveReceivedCommandWith(PutRuleCommand, {
        Name: 'backup-control-plane-dev-control-tower-events',
        State: 'ENABLED',
      });
      expect(events).toHaveReceivedCommandWith(PutTargetsCommand, {
        Rule: 'backup-control-plane-dev-control-tower-events',
        Targets: [
          {
            Id: 'control-plane',
            Arn: 'arn:aws:events:us-east-1:111122223333:event-bus/default',
            RoleArn: ROLE,
          },
        ],
      });
    });

    it('changes nothing when the rule is as declared', async () => {
      organization();
      events.on(DescribeRuleCommand).resolves({
        State: 'ENABLED',
        EventPattern: JSON.stringify(CONTROL_TOWER_LIFECYCLE_PATTERN),
      });
      events.on(ListTargetsByRuleCommand).resolves({
        Targets: [
          {
            Id: 'control-plane',
            Arn: 'arn:aws:events:us-east-1:111122223333:event-bus/default',
            RoleArn: ROLE,
          },
        ],
      });
      handler = createHandler(() => buildReconcileDeps());
      expect((await handler({}, lambdaContext())).regionForwarding).toEqual([]);
      expect(events).not.toHaveReceivedCommand(PutRuleCommand);
    });

    it('creates the management account’s rules with the members’ forwarding pattern', async () => {
      organization();
      delete process.env.CONTROL_TOWER_FORWARDING_RULE_ARN;
      process.env.MANAGEMENT_FORWARDING_RULE_ARN = MANAGEMENT;
      withBackupRegions();
      events
        .on(DescribeRuleCommand)
        .rejects(new ResourceNotFoundException({ message: 'Rule does not exist', $metadata: {} }));
      events.on(PutRuleCommand).resolves({});
      events.on(PutTargetsCommand).resolves({ FailedEntryCount: 0 });
      handler = createHandler(() => buildReconcileDeps());
      const result = await handler({}, lambdaContext());
      expect(result.regionForwarding).toEqual([
        'rule backup-control-plane-dev-management-backup-events does not exist in eu-central-1',
        'rule backup-control-plane-dev-management-backup-events does not exist in eu-west-1',
      ]);
      const put = events.commandCalls(PutRuleCommand);
      expect(put).toHaveLength(2);
      expect(JSON.parse(put[0]!.args[0].input.EventPattern!)).toEqual(
        forwardedPattern(loadBaseline()),
      );
    });

    it('keeps the other rules when one fails, then fails the run naming it', async () => {
      organization();
      process.env.MANAGEMENT_FORWARDING_RULE_ARN = MANAGEMENT;
      withBackupRegions();
      events
        .on(DescribeRuleCommand)
        .rejects(new ResourceNotFoundException({ message: 'Rule does not exist', $metadata: {} }))
        .on(DescribeRuleCommand, { Name: 'backup-control-plane-dev-control-tower-events' })
        .rejects(
          Object.assign(new Error('explicit deny in an SCP'), { name: 'AccessDeniedException' }),
        );
      events.on(PutRuleCommand).resolves({});
      events.on(PutTargetsCommand).resolves({ FailedEntryCount: 0 });
      handler = createHandler(() => buildReconcileDeps());
      await expect(handler({}, lambdaContext())).rejects.toThrow(
        /rule backup-control-plane-dev-control-tower-events in eu-west-1: explicit deny in an SCP.*put back: rule backup-control-plane-dev-management-backup-events does not exist in eu-central-1/,
      );
      expect(events).toHaveReceivedCommandTimes(PutRuleCommand, 2);
    });

    it('still sweeps when the home-region rule cannot be checked, then fails the run', async () => {
      organization();
      events
        .on(DescribeRuleCommand)
        .rejects(
          Object.assign(new Error('explicit deny in an SCP'), { name: 'AccessDeniedException' }),
        );
      handler = createHandler(() => buildReconcileDeps());
      await expect(handler({}, lambdaContext())).rejects.toThrow('explicit deny in an SCP');
      // The sweep ran: the new account was queued all the same.
      expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    });

    it('refuses rules without their role, naming the variables, after the sweep', async () => {
      organization();
      delete process.env.REGION_FORWARDER_ROLE_ARN;
      handler = createHandler(() => buildReconcileDeps());
      await expect(handler({}, lambdaContext())).rejects.toThrow(
        /REGION_FORWARDER_ROLE_ARN is not set, but CONTROL_TOWER_FORWARDING_RULE_ARN or MANAGEMENT_FORWARDING_RULE_ARN is/,
      );
    });

    it('names the variable holding a value that is not one rule for every region', async () => {
      organization();
      process.env.MANAGEMENT_FORWARDING_RULE_ARN =
        'arn:aws:events:eu-central-1:111122223333:rule/r';
      handler = createHandler(() => buildReconcileDeps());
      await expect(handler({}, lambdaContext())).rejects.toThrow(
        'MANAGEMENT_FORWARDING_RULE_ARN must be an EventBridge rule ARN with the region *, got "arn:aws:events:eu-central-1:111122223333:rule/r"',
      );
      // The sweep ran all the same.
      expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    });
  });
});
