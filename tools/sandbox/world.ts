import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  controlTowerRuleName,
  managementForwardingRegions,
  managementRuleName,
} from '../../functions/reconcile/region-forwarding';
import { CreateOrganizationalUnitCommand, MoveAccountCommand } from '@aws-sdk/client-organizations';
import { ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import {
  buildNotifyDeps,
  createHandler as notifyHandler,
} from '../../functions/notify-backup-event/handler';
import {
  buildOnboardingDeps,
  createHandler as onboardingHandler,
} from '../../functions/onboard-account/handler';
import {
  buildWatchDeps,
  createHandler as watchHandler,
} from '../../functions/watch-account/handler';
import { loadBackupPolicies, resolveCentralVault } from '../backup-policy/load';
import { centralVault } from '../../functions/shared/central-backup';
import type { BackupPolicyDocument } from '../backup-policy/syntax';
import type { Config } from '../../functions/shared/config/schema';
import { CONFIG_ENV } from '../../functions/shared/config/runtime';
import { drainQueue, type DrainStats } from './event-source';
import type { LocalAws } from './local-aws';
import {
  createAccount,
  createForwardingRule,
  createNotificationStack,
  createOnboardingStack,
  type OnboardingStack,
  createOrganization,
  DEFAULT_ACCOUNTS,
  localClients,
  memberClients,
  type Credentials,
  type LocalClients,
  type NotificationStack,
  type SandboxOrganization,
} from './provision';
import { readStackSettings, type StackSettings } from './stack-settings';
import { isAccountId } from '../../functions/shared/patterns';
import {
  delegateAdministration,
  DELEGATED_ADMIN_ACCOUNT,
  deployManagementForwarder,
  deployMemberRole,
  memberRoleStackInstance,
} from './delegated';

/**
 * A local organization with the notification stack deployed: what the sandbox plays its scenario
 * on and what the integration tests start from (after a reset of moto).
 */
export interface OnboardingWorld extends World {
  onboarding: OnboardingStack;
  /** The deployed onboarding function's handler. */
  onboard: ReturnType<typeof onboardingHandler>;
  /** The deployed daily check's handler. */
  watch: ReturnType<typeof watchHandler>;
}

export interface World {
  aws: Pick<LocalAws, 'endpoint' | 'reset' | 'data'>;
  /** The stack account's clients: the management account, or the delegated administrator. */
  c: LocalClients;
  /** The management account's clients: the organization itself, its own events. */
  management: LocalClients;
  /** The account the stack runs in. */
  stackAccountId: string;
  /** delegated-admin: the member role StackSet's stack instance, played in each new account. */
  memberRoleInstance?: ReturnType<typeof memberRoleStackInstance>;
  config: Config;
  settings: StackSettings;
  org: SandboxOrganization;
  stack: NotificationStack;
  /** Member accounts and regions that already forward to the central bus. */
  forwarding: Set<string>;
  /** The environment the stack gives its functions, pointing at the local resources. */
  env: NodeJS.ProcessEnv;
  /** The deployed notify function's handler, built from that environment. */
  notify: ReturnType<typeof notifyHandler>;
}

/** The central backup account the sandbox adds (`centralAccount`), in an OU of its own. */
export const CENTRAL_BACKUP_ACCOUNT = {
  name: 'Backup',
  email: 'aws-backup@example.com',
  ou: 'Infrastructure',
} as const;

export async function buildWorld(
  aws: World['aws'],
  config: Config,
  stage = 'sandbox',
  /**
   * centralAccount: a central backup account for `centralBackup`. delegatedAdmin: the stack in a
   * delegated administrator account (tools/sandbox/delegated.ts); the functions then run with
   * its credentials (this process's AWS_* environment).
   */
  options: { centralAccount?: boolean; delegatedAdmin?: boolean } = {},
): Promise<World> {
  const settings = readStackSettings(stage);
  const management = localClients(aws.endpoint);
  const central = options.centralAccount && config.centralBackup;
  const org = await createOrganization(management, [
    ...DEFAULT_ACCOUNTS,
    ...(central ? [CENTRAL_BACKUP_ACCOUNT] : []),
    ...(options.delegatedAdmin ? [DELEGATED_ADMIN_ACCOUNT] : []),
  ]);
  // The configuration names moto's organization, as a deployed one names the real one.
  config.organizationId = org.id;
  // And its central backup account, when the world has one.
  if (central) {
    central.accountId = org.accounts.find((a) => a.name === CENTRAL_BACKUP_ACCOUNT.name)!.id;
  }
  let c = management;
  let stackAccountId = org.managementAccountId;
  // As deployed: the functions' SDK clients have the stack account's credentials.
  let credentials: Credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  if (options.delegatedAdmin) {
    stackAccountId = org.accounts.find((a) => a.name === DELEGATED_ADMIN_ACCOUNT.name)!.id;
    ({ credentials } = await delegateAdministration(config, management, org, stackAccountId));
    c = localClients(aws.endpoint, 'us-east-1', credentials);
  } else if (config.deployment.mode !== 'management') {
    // The world plays the management mode, whatever the configuration file said.
    config.deployment = { mode: 'management' };
  }
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  if (credentials.sessionToken) process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
  else delete process.env.AWS_SESSION_TOKEN;
  const stack = await createNotificationStack(c, settings, config, org.id);
  const env = stackEnvironment(config, stack, `${settings.service}-${stage}-`);
  let memberRoleInstance: World['memberRoleInstance'];
  if (options.delegatedAdmin) {
    // Deployed with the stack (README, "Deploy: delegated administrator").
    await deployManagementForwarder(aws.endpoint, config, stack.busArn);
    if (config.onboarding?.memberRole?.deploy === 'stackset') {
      memberRoleInstance = memberRoleStackInstance(
        config,
        `${settings.service}-${settings.stage}`,
        {
          accountId: stackAccountId,
          onboardRoleArn: `arn:aws:iam::${stackAccountId}:role/${settings.names.onboardRole}`,
          watchRoleArn: `arn:aws:iam::${stackAccountId}:role/${settings.names.watchRole}`,
          centralBusArn: stack.busArn,
        },
      );
      // The StackSet's instances in every member account (the management account has none).
      for (const account of org.accounts) {
        await deployMemberRole(aws.endpoint, management, account.id, memberRoleInstance);
      }
    }
  }
  return {
    aws,
    c,
    management,
    stackAccountId,
    ...(memberRoleInstance ? { memberRoleInstance } : {}),
    config,
    settings,
    org,
    stack,
    forwarding: new Set(),
    env,
    notify: notifyHandler(() => buildNotifyDeps(env)),
  };
}

/** The environment the deployed functions get from the stack, pointing at the local resources. */
export function stackEnvironment(
  config: Config,
  stack: NotificationStack,
  stackPrefix?: string,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [CONFIG_ENV]: JSON.stringify(config),
    DELIVERY_TABLE_NAME: stack.tableName,
    TOPIC_ARNS: JSON.stringify(stack.topicArns),
    NOTIFICATION_QUEUE_URL: stack.queueUrl,
    ...(stackPrefix ? { STACK_PREFIX: stackPrefix } : {}),
  };
}

/** Adds the onboarding side: account-events rule, onboarding queue, backup policies. */
export async function addOnboarding(world: World): Promise<OnboardingWorld> {
  // As packaged: {{central-vault:<region>}} filled in from centralBackup.
  const policies = [...loadBackupPolicies().values()].map((p) => ({
    ...p,
    document: resolveCentralVault(
      p.document,
      centralVault(world.config),
      p.file,
    ) as BackupPolicyDocument,
  }));
  const delegated = world.config.deployment.mode === 'delegated-admin';
  const onboarding = await createOnboardingStack(
    world.c,
    world.settings,
    policies,
    // delegated-admin: account events come through the management forwarder to the central bus.
    delegated ? world.stack.busName : 'default',
  );
  const onboardRoleArn = `arn:aws:iam::${world.stackAccountId}:role/${world.settings.names.onboardRole}`;
  const watchRoleArn = `arn:aws:iam::${world.stackAccountId}:role/${world.settings.names.watchRole}`;
  const env: NodeJS.ProcessEnv = {
    ...world.env,
    CENTRAL_BUS_ARN: world.stack.busArn,
    CONTROL_PLANE_ROLE_ARN: onboardRoleArn,
    WATCH_ROLE_ARN: watchRoleArn,
    ONBOARDING_QUEUE_URL: onboarding.queueUrl,
    WATCH_QUEUE_URL: onboarding.watchQueueUrl,
    ...regionForwardingEnvironment(world),
  };
  return {
    ...world,
    env,
    onboarding,
    // Tamper alerts now ask onboarding for repairs, as the deployed function does.
    notify: notifyHandler(() => buildNotifyDeps(env)),
    onboard: onboardingHandler(() => buildOnboardingDeps(env)),
    watch: watchHandler(() => buildWatchDeps(env)),
  };
}

/**
 * The stack's rules in other regions (Control Tower's home region, the management account's
 * other backup regions) and their role, as infra/stage-config.js names them.
 */
function regionForwardingEnvironment(world: World): NodeJS.ProcessEnv {
  // delegated-admin: the management forwarder keeps those rules, not the stack.
  if (world.config.deployment.mode === 'delegated-admin') return {};
  const home = world.config.controlTower.homeRegion ?? 'us-east-1';
  const management = managementForwardingRegions(world.config, 'us-east-1');
  if (home === 'us-east-1' && !management.length) return {};
  const prefix = `${world.settings.service}-${world.settings.stage}`;
  const account = world.org.managementAccountId;
  const rule = (region: string, name: string) => `arn:aws:events:${region}:${account}:rule/${name}`;
  return {
    REGION_FORWARDER_ROLE_ARN: `arn:aws:iam::${account}:role/${prefix}-region-forwarder`,
    ...(home === 'us-east-1'
      ? {}
      : { CONTROL_TOWER_FORWARDING_RULE_ARN: rule(home, controlTowerRuleName(prefix)) }),
    ...(management.length
      ? { MANAGEMENT_FORWARDING_RULE_ARN: rule('*', managementRuleName(prefix)) }
      : {}),
  };
}

/** A new member account, as CreateAccount makes it, moved to an OU (created if missing). */
export async function newMemberAccount(
  world: World,
  spec: { name: string; email: string; ou?: string },
): Promise<string> {
  const id = await createAccount(world.management, spec);
  if (spec.ou) {
    let ouId = world.org.ous[spec.ou];
    if (!ouId) {
      // "Workloads/Production": the parent must exist already.
      const parts = spec.ou.split('/');
      const parentId =
        parts.length > 1 ? world.org.ous[parts.slice(0, -1).join('/')] : world.org.rootId;
      if (!parentId) throw new Error(`OU ${parts.slice(0, -1).join('/')} does not exist`);
      const ou = await world.management.organizations.send(
        new CreateOrganizationalUnitCommand({ ParentId: parentId, Name: parts[parts.length - 1] }),
      );
      ouId = world.org.ous[spec.ou] = ou.OrganizationalUnit!.Id!;
    }
    await world.management.organizations.send(
      new MoveAccountCommand({
        AccountId: id,
        SourceParentId: world.org.rootId,
        DestinationParentId: ouId,
      }),
    );
  }
  world.org.accounts.push({ id, name: spec.name, email: spec.email, ou: spec.ou ?? '' });
  // The StackSet's automatic deployment: the member role reaches the new account.
  if (world.memberRoleInstance) {
    await deployMemberRole(world.aws.endpoint, world.management, id, world.memberRoleInstance);
  }
  return id;
}

/** Feeds the onboarding queue to the real onboarding handler until it is empty. */
export function drainOnboarding(world: OnboardingWorld): Promise<DrainStats> {
  return drainQueue({
    sqs: world.c.sqs,
    queueUrl: world.onboarding.queueUrl,
    queueArn: world.onboarding.queueArn,
    handler: world.onboard,
    batchSize: 1,
    functionName: 'onboardAccount',
  });
}

/** Feeds the watch queue (the daily checks) to the real watchAccount handler until it is empty. */
export function drainWatch(world: OnboardingWorld): Promise<DrainStats> {
  return drainQueue({
    sqs: world.c.sqs,
    queueUrl: world.onboarding.watchQueueUrl,
    queueArn: world.onboarding.watchQueueArn,
    handler: world.watch,
    batchSize: 1,
    functionName: 'watchAccount',
  });
}

export interface EventToPut {
  source: string;
  'detail-type': string;
  detail: unknown;
  resources?: string[];
  region?: string;
}

/**
 * Emits an event the way AWS Backup would in that account: a member account's event goes to its
 * default bus in the event's region and its forwarding rule carries it to the central bus; the
 * management account's own event lands on its default bus in us-east-1.
 */
export async function emitEvent(
  world: World,
  from: { account: 'management'; region?: string } | { account: 'member'; id: string },
  event: EventToPut,
): Promise<{ eventId: string; accountId: string; region: string }> {
  let sender = world.management;
  let accountId = world.org.managementAccountId;
  let region = 'us-east-1';
  if (from.account === 'management' && from.region && from.region !== region) {
    // Control Tower's home region, for instance: the management account's bus there.
    region = from.region;
    sender = localClients(world.aws.endpoint, region);
  }
  if (from.account === 'member') {
    accountId = from.id;
    region = event.region ?? 'us-east-1';
    sender = await memberClients(world.management, world.aws.endpoint, accountId, region);
    const key = `${accountId}/${region}`;
    if (!world.forwarding.has(key)) {
      await createForwardingRule(sender, world.stack.busArn, world.settings.backupJobEventPattern);
      world.forwarding.add(key);
    }
  }
  // A sample names its own account in its ARNs and roles: re-aimed at the account that sends it,
  // so an event's resources always belong to the event's account.
  const own = (event as { account?: unknown }).account;
  const reaim = (text: string) => (isAccountId(own) ? text.split(own).join(accountId) : text);
  const out = await sender.eventbridge.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: event.source,
          DetailType: event['detail-type'],
          Detail: reaim(JSON.stringify(event.detail)),
          Resources: event.resources?.map(reaim),
        },
      ],
    }),
  );
  const entry = out.Entries?.[0];
  if (!entry?.EventId) throw new Error(`PutEvents refused the event: ${entry?.ErrorMessage}`);
  return { eventId: entry.EventId, accountId, region };
}

/** Feeds the notification queue to the real handler until it is empty. */
export function drainNotifications(
  world: World,
  onBatch?: (bodies: string[]) => void,
): Promise<DrainStats> {
  return drainQueue({
    sqs: world.c.sqs,
    queueUrl: world.stack.queueUrl,
    queueArn: world.stack.queueArn,
    handler: world.notify,
    batchSize: world.settings.batchSize,
    onBatch: onBatch && ((records) => onBatch(records.map((r) => r.body))),
  });
}

/** Every message in a queue right now (kept invisible for a minute so each is read once). */
export async function receiveAll(c: LocalClients, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages } = await c.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (!Messages?.length) return all;
    all.push(...Messages);
  }
}

export interface ReceivedSnsMessage {
  subject?: string;
  attributes: Record<string, string>;
  body: string;
}

/** An SNS → SQS (not raw) message: the envelope with subject, attributes and the body. */
export function parseSnsEnvelope(m: Message): ReceivedSnsMessage {
  const envelope = JSON.parse(m.Body ?? '{}') as {
    Subject?: string;
    Message?: string;
    MessageAttributes?: Record<string, { Value: string }>;
  };
  return {
    subject: envelope.Subject,
    attributes: Object.fromEntries(
      Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value]),
    ),
    body: envelope.Message ?? '',
  };
}
