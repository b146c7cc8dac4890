import {
  DynamoDBClient,
  CreateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutPermissionCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  CreatePolicyCommand,
  DescribeCreateAccountStatusCommand,
  DescribeOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  SESClient,
  VerifyDomainIdentityCommand,
  VerifyEmailIdentityCommand,
} from '@aws-sdk/client-ses';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { channelTopicKey, filteredChannels } from '../../functions/shared/notices/subscriptions';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Config } from '../../functions/shared/config/schema';
import { localClientConfig } from './local-aws';
import type { StackSettings } from './stack-settings';

/**
 * Builds, in the local AWS, what a real deployment has: an organization with member accounts,
 * and the notification resources of serverless.yml (bus + policy, rules, queue + DLQ, topics,
 * table). This is a provisioning tool, so it talks to the SDK directly; the functions' own AWS
 * access stays in functions/shared/adapters.
 */

export interface LocalClients {
  organizations: OrganizationsClient;
  sts: STSClient;
  eventbridge: EventBridgeClient;
  sqs: SQSClient;
  sns: SNSClient;
  ses: SESClient;
  dynamodb: DynamoDBClient;
}

export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export function localClients(
  endpoint: string,
  region = 'us-east-1',
  credentials?: Credentials,
): LocalClients {
  const base = { ...localClientConfig(endpoint, region), ...(credentials ? { credentials } : {}) };
  return {
    organizations: new OrganizationsClient({ ...base, region: 'us-east-1' }),
    sts: new STSClient(base),
    eventbridge: new EventBridgeClient(base),
    sqs: new SQSClient(base),
    sns: new SNSClient(base),
    ses: new SESClient(base),
    dynamodb: new DynamoDBClient(base),
  };
}

/** The ledger table as the stack declares it (pk, sk, TTL on expiresAt). */
export async function createLedgerTable(
  dynamodb: DynamoDBClient,
  tableName: string,
): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    }),
  );
}

/** Clients acting in a member account, through the role onboarding uses. */
export async function memberClients(
  c: LocalClients,
  endpoint: string,
  accountId: string,
  region: string,
  roleName = 'OrganizationAccountAccessRole',
): Promise<LocalClients> {
  return localClients(endpoint, region, await credentialsIn(c, accountId, roleName));
}

/** Credentials in another account of the organization, through its administrator role. */
export async function credentialsIn(
  c: LocalClients,
  accountId: string,
  roleName = 'OrganizationAccountAccessRole',
): Promise<Credentials> {
  const out = await c.sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/${roleName}`,
      RoleSessionName: 'backup-control-plane-sandbox',
    }),
  );
  const cr = out.Credentials!;
  return {
    accessKeyId: cr.AccessKeyId!,
    secretAccessKey: cr.SecretAccessKey!,
    ...(cr.SessionToken ? { sessionToken: cr.SessionToken } : {}),
  };
}

export interface AccountSpec {
  name: string;
  email: string;
  ou: string;
}

export interface SandboxAccount extends AccountSpec {
  id: string;
}

export interface SandboxOrganization {
  id: string;
  managementAccountId: string;
  rootId: string;
  ous: Record<string, string>;
  accounts: SandboxAccount[];
}

export const DEFAULT_ACCOUNTS: readonly AccountSpec[] = [
  { name: 'Production', email: 'aws-production@example.com', ou: 'Workloads' },
  { name: 'Staging', email: 'aws-staging@example.com', ou: 'Workloads' },
  { name: 'Analytics', email: 'aws-analytics@example.com', ou: 'Data' },
];

export async function createOrganization(
  c: LocalClients,
  accounts: readonly AccountSpec[] = DEFAULT_ACCOUNTS,
): Promise<SandboxOrganization> {
  await c.organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const org = (await c.organizations.send(new DescribeOrganizationCommand({}))).Organization!;
  const rootId = (await c.organizations.send(new ListRootsCommand({}))).Roots![0]!.Id!;
  const ous: Record<string, string> = {};
  for (const name of new Set(accounts.map((a) => a.ou))) {
    const ou = await c.organizations.send(
      new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: name }),
    );
    ous[name] = ou.OrganizationalUnit!.Id!;
  }
  const created: SandboxAccount[] = [];
  for (const spec of accounts) {
    const id = await createAccount(c, spec);
    await c.organizations.send(
      new MoveAccountCommand({
        AccountId: id,
        SourceParentId: rootId,
        DestinationParentId: ous[spec.ou],
      }),
    );
    created.push({ ...spec, id });
  }
  return { id: org.Id!, managementAccountId: org.MasterAccountId!, rootId, ous, accounts: created };
}

export async function createAccount(c: LocalClients, spec: { name: string; email: string }) {
  const started = await c.organizations.send(
    new CreateAccountCommand({ AccountName: spec.name, Email: spec.email }),
  );
  let status = started.CreateAccountStatus!;
  for (let i = 0; status.State === 'IN_PROGRESS' && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = (
      await c.organizations.send(
        new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: status.Id }),
      )
    ).CreateAccountStatus!;
  }
  if (status.State !== 'SUCCEEDED' || !status.AccountId) {
    throw new Error(
      `CreateAccount ${spec.name} ended ${status.State}: ${status.FailureReason ?? ''}`,
    );
  }
  return status.AccountId;
}

export interface NotificationStack {
  busName: string;
  busArn: string;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  tableName: string;
  topicArns: Record<string, string>;
  rules: { name: string; bus: string }[];
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}) {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

export async function createNotificationStack(
  c: LocalClients,
  settings: StackSettings,
  config: Config,
  organizationId: string,
): Promise<NotificationStack> {
  const { names } = settings;
  const identity = config.notifications.email.identity;
  if (identity.includes('@')) {
    await c.ses.send(new VerifyEmailIdentityCommand({ EmailAddress: identity }));
  } else {
    await c.ses.send(new VerifyDomainIdentityCommand({ Domain: identity }));
  }

  await createLedgerTable(c.dynamodb, names.ledgerTable);

  const dlq = await createQueue(c.sqs, names.notificationDlq);
  const queue = await createQueue(c.sqs, names.notificationQueue, {
    VisibilityTimeout: String(settings.notificationQueue.visibilityTimeout),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: settings.notificationQueue.maxReceiveCount,
    }),
  });

  const bus = await c.eventbridge.send(new CreateEventBusCommand({ Name: names.backupEventBus }));
  await c.eventbridge.send(
    new PutPermissionCommand({
      EventBusName: names.backupEventBus,
      Action: 'events:PutEvents',
      Principal: '*',
      StatementId: 'AccountsOfTheOrganizationPutEvents',
      Condition: { Type: 'StringEquals', Key: 'aws:PrincipalOrgID', Value: organizationId },
    }),
  );
  const rules = [
    {
      name: `${settings.service}-${settings.stage}-backup-jobs-from-members`,
      bus: names.backupEventBus,
    },
    { name: `${settings.service}-${settings.stage}-backup-jobs-from-this-account`, bus: 'default' },
  ];
  for (const rule of rules) {
    await c.eventbridge.send(
      new PutRuleCommand({
        Name: rule.name,
        EventBusName: rule.bus,
        EventPattern: JSON.stringify(settings.backupJobEventPattern),
        State: 'ENABLED',
      }),
    );
    await c.eventbridge.send(
      new PutTargetsCommand({
        Rule: rule.name,
        EventBusName: rule.bus,
        Targets: [{ Id: 'notification-queue', Arn: queue.arn, DeadLetterConfig: { Arn: dlq.arn } }],
      }),
    );
  }

  const topicArns: Record<string, string> = {};
  for (const [name, topic] of Object.entries(config.notifications.topics)) {
    // A configured existing topic lives elsewhere; locally a topic of the same name stands in.
    const topicName =
      topic.arn?.split(':').pop() ?? `${settings.service}-${settings.stage}-${name}`;
    topicArns[name] = (await c.sns.send(new CreateTopicCommand({ Name: topicName }))).TopicArn!;
    // A filtered chat channel's own topic, as the stack creates it (infra/subscription-resources.js).
    for (const channel of filteredChannels(topic)) {
      const channelTopic = `${settings.service}-${settings.stage}-${name}-${channel.name}`;
      topicArns[channelTopicKey(name, channel.name)] = (
        await c.sns.send(new CreateTopicCommand({ Name: channelTopic }))
      ).TopicArn!;
    }
  }

  return {
    busName: names.backupEventBus,
    busArn: bus.EventBusArn!,
    queueUrl: queue.url,
    queueArn: queue.arn,
    dlqUrl: dlq.url,
    dlqArn: dlq.arn,
    tableName: names.ledgerTable,
    topicArns,
    rules,
  };
}

export interface OnboardingStack {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  /** The daily checks' queue (the sweep fills it; watchAccount consumes it). */
  watchQueueUrl: string;
  watchQueueArn: string;
  watchDlqUrl: string;
  ruleName: string;
  /** Backup policy name → id in Organizations. */
  policies: Record<string, string>;
}

/**
 * The onboarding side of the stack: the account-events rule on the default bus, the onboarding
 * queue with its DLQ, and the backup policies of infra/backup-policies as BACKUP_POLICY
 * policies in Organizations (what the stack's AWS::Organizations::Policy resources create).
 */
export async function createOnboardingStack(
  c: LocalClients,
  settings: StackSettings,
  policies: Iterable<{ name: string; document: unknown }>,
  /** Where account events arrive: the management account's default bus, or the central bus. */
  accountEventsBus = 'default',
): Promise<OnboardingStack> {
  const dlq = await createQueue(c.sqs, settings.names.onboardingDlq);
  const queue = await createQueue(c.sqs, settings.names.onboardingQueue, {
    VisibilityTimeout: '900',
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: settings.onboardingQueue.maxReceiveCount,
    }),
  });
  const ruleName = `${settings.service}-${settings.stage}-account-events`;
  await c.eventbridge.send(
    new PutRuleCommand({
      Name: ruleName,
      EventBusName: accountEventsBus,
      EventPattern: JSON.stringify(settings.accountEventPattern),
      State: 'ENABLED',
    }),
  );
  await c.eventbridge.send(
    new PutTargetsCommand({
      Rule: ruleName,
      EventBusName: accountEventsBus,
      Targets: [{ Id: 'onboarding-queue', Arn: queue.arn, DeadLetterConfig: { Arn: dlq.arn } }],
    }),
  );
  const ids: Record<string, string> = {};
  for (const policy of policies) {
    const out = await c.organizations.send(
      new CreatePolicyCommand({
        Name: policy.name,
        Type: 'BACKUP_POLICY',
        Description: `Backup plans from infra/backup-policies/${policy.name}.json`,
        Content: JSON.stringify(policy.document),
      }),
    );
    ids[policy.name] = out.Policy!.PolicySummary!.Id!;
  }
  const watchDlq = await createQueue(c.sqs, settings.names.watchDlq);
  const watch = await createQueue(c.sqs, settings.names.watchQueue, {
    VisibilityTimeout: '300',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: watchDlq.arn, maxReceiveCount: 3 }),
  });
  return {
    queueUrl: queue.url,
    queueArn: queue.arn,
    dlqUrl: dlq.url,
    watchQueueUrl: watch.url,
    watchQueueArn: watch.arn,
    watchDlqUrl: watchDlq.url,
    ruleName,
    policies: ids,
  };
}

/** An SQS queue subscribed to a topic with a filter policy: stands in for the chat service. */
export async function subscribeQueue(
  c: LocalClients,
  topicArn: string,
  queueName: string,
  filterPolicy?: Record<string, unknown>,
): Promise<{ url: string; arn: string }> {
  const queue = await createQueue(c.sqs, queueName);
  await c.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queue.url,
      Attributes: {
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: queue.arn,
              Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
            },
          ],
        }),
      },
    }),
  );
  await c.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queue.arn,
      Attributes: filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : {},
    }),
  );
  return queue;
}

/** The member side of event forwarding: aws.backup job events to the central bus. */
export async function createForwardingRule(
  member: LocalClients,
  centralBusArn: string,
  pattern: Record<string, unknown>,
  name = 'backup-control-plane-forward-backup-events',
): Promise<void> {
  await member.eventbridge.send(
    new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern), State: 'ENABLED' }),
  );
  await member.eventbridge.send(
    new PutTargetsCommand({
      Rule: name,
      Targets: [{ Id: 'central-backup-bus', Arn: centralBusArn }],
    }),
  );
}
