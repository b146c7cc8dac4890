import { isEnabledRuleState } from '../../functions/shared/patterns';
import type { Config } from '../../functions/shared/config/schema';
import { errorMessage } from '../../functions/shared/errors';
import {
  dynamodbClient,
  organizationsClient,
  resolvedRegion,
  sesClient,
  snsClient,
  sqsClient,
  stsClient,
} from '../../functions/shared/adapters/clients';
import {
  AwsPrerequisites,
  type CentralVaultState,
  type PrerequisiteReader,
  type StackSetInstance,
  type Subscription,
  type Trail,
} from '../adapters/prerequisites';
import {
  forwardingDifferences,
  type ForwardingRuleState,
} from '../../functions/shared/adapters/eventbridge-rule-forwarding';
import {
  controlTowerForwardingSpec,
  managementForwardingRegions,
  managementForwardingSpecs,
} from '../../functions/reconcile/region-forwarding';
import { currentPartition, regionPartition } from '../../functions/shared/partition';
import {
  forwardedPattern,
  loadBaseline,
  samePolicy,
} from '../../functions/onboard-account/baseline';
import { BACKUP_POLICIES_DIR, loadBackupPolicies } from '../backup-policy/load';
import type { AccountRecord, CheckRecord } from '../../functions/shared/ports';
import {
  channelTopicKey,
  chatChannels,
  filteredChannels,
} from '../../functions/shared/notices/subscriptions';
import { delegationStatements } from './delegation';
import { centralVault, type CentralVault } from '../../functions/shared/central-backup';
import {
  admitsOrganization,
  airGappedProblem,
  CENTRAL_VAULT_POLICY_SID,
  lockDecision,
} from '../../functions/onboard-account/resources/central-vault';
import { MANAGEMENT_FORWARDER_RULES as FORWARDER } from '../../functions/notify-backup-event/decide';

/**
 * `backupctl doctor`: read-only checks of everything the control plane depends on and cannot
 * build itself, each with its status, the evidence and the exact fix. A check whose read is
 * refused reports `warn` with the permission it needs and the others still run.
 */

export type DoctorStatus = 'pass' | 'warn' | 'fail';

export interface DoctorCheck {
  id: string;
  status: DoctorStatus;
  detail: string;
  fix?: string;
}

/** What the deployed stack is made of (its outputs), for the checks that need it. */
export interface DoctorTargets {
  stack?: { name: string; status: string };
  /** TOPIC_ARNS: topic name (or <topic>/<channel>) to ARN. */
  topicArns: Record<string, string>;
  /** Dead-letter queues by the stack output that names them. */
  deadLetterQueues: Record<string, string>;
  busName?: string;
  /** Control Tower's home-region rule (output ControlTowerForwardingRuleArn). */
  controlTowerRuleArn?: string;
  /** The management account's rules, region `*` (output ManagementForwardingRuleArn). */
  managementRuleArn?: string;
  /** The member role's StackSet (output MemberRoleStackSetName). */
  memberRoleStackSet?: string;
  /** The role the rules in other regions use (output RegionForwarderRoleArn). */
  forwarderRoleArn?: string;
  /** Where the stack runs: the Organizations region of the partition the CLI's region is in. */
  stackRegion?: string;
  /** The ledger table (output LedgerTableName, or DELIVERY_TABLE_NAME). */
  ledgerTable?: string;
}

const BACKUP_SERVICE = 'backup.amazonaws.com';
const STACKSETS_SERVICE = 'member.org.stacksets.cloudformation.amazonaws.com';
/** Amazon Q Developer (AWS Chatbot) subscribes channels to SNS over HTTPS at this host. */
const CHATBOT_ENDPOINT = /^https:\/\/[a-z0-9.-]*chatbot\.amazonaws\.com(\/|$)/i;

const pass = (id: string, detail: string): DoctorCheck => ({ id, status: 'pass', detail });
const warn = (id: string, detail: string, fix?: string): DoctorCheck => ({
  id,
  status: 'warn',
  detail,
  ...(fix ? { fix } : {}),
});
const fail = (id: string, detail: string, fix: string): DoctorCheck => ({
  id,
  status: 'fail',
  detail,
  fix,
});

// ---------------------------------------------------------------------------------------------
// Judges: plain functions from what was read to a check.

export function judgeDeploymentMode(
  caller: string,
  managementAccountId: string,
  deployment: Config['deployment'],
  /** Delegated administrators by service principal (AWS Backup's, StackSets'), when read. */
  delegatedAdmins?: Readonly<Record<string, readonly string[]>>,
): DoctorCheck {
  const id = 'deployment-mode';
  if (deployment.mode === 'management') {
    if (caller === managementAccountId) {
      return pass(
        id,
        `running in the management account ${caller}, as the "management" mode needs`,
      );
    }
    return fail(
      id,
      `credentials of account ${caller}, but the organization's management account is ${managementAccountId}; the stack (mode "management") must be deployed and checked there`,
      `run with credentials of account ${managementAccountId}, or deploy in a delegated administrator account with deployment.mode: delegated-admin (README: "Deploying")`,
    );
  }
  const admin = deployment.delegatedAdministratorAccountId!;
  if (deployment.managementAccountId !== managementAccountId) {
    return fail(
      id,
      `deployment.managementAccountId is ${deployment.managementAccountId}, but the organization's management account is ${managementAccountId}`,
      `set deployment.managementAccountId: '${managementAccountId}' and deploy again`,
    );
  }
  if (caller === managementAccountId) {
    return pass(
      id,
      `mode "delegated-admin", checked from the management account ${caller}: setup and the management forwarder`,
    );
  }
  if (caller !== admin) {
    return fail(
      id,
      `credentials of account ${caller}, but the stack (mode "delegated-admin") runs in deployment.delegatedAdministratorAccountId ${admin}`,
      `run with credentials of account ${admin} (the stack), or ${managementAccountId} (setup and the forwarder)`,
    );
  }
  const unregistered = Object.entries(delegatedAdmins ?? {})
    .filter(([, accounts]) => !accounts.includes(admin))
    .map(([principal]) => principal);
  if (unregistered.length) {
    return fail(
      id,
      `account ${admin} is not a delegated administrator for ${unregistered.join(' and ')}`,
      "with the management account's credentials: npx backupctl setup",
    );
  }
  return pass(
    id,
    `running in the delegated administrator account ${admin} (mode "delegated-admin")`,
  );
}

/** The Organizations resource policy delegates backup policies and account tags to the stack's account. */
export function judgePolicyDelegation(
  policy: { Statement?: unknown } | undefined,
  wanted: readonly Record<string, unknown>[],
): DoctorCheck {
  const id = 'backup-policy-delegation';
  const statements = Array.isArray(policy?.Statement)
    ? (policy.Statement as Record<string, unknown>[])
    : [];
  const missing = wanted.filter((w) => !statements.some((s) => samePolicy(s, w)));
  if (!missing.length) {
    return pass(
      id,
      'the Organizations resource policy delegates backup policies and the account tags',
    );
  }
  return fail(
    id,
    `the Organizations resource policy lacks (or has another form of) ${missing.map((s) => String(s.Sid)).join(', ')}: the stack cannot create or attach backup policies, or tag accounts`,
    "with the management account's credentials: npx backupctl setup",
  );
}

/** Where the management forwarder should run, and the rule names it creates there. */
export function forwarderRules(
  config: Config,
  stackRegion: string,
): { region: string; rules: string[] }[] {
  // Control Tower's rule only where its home region is named (the stack's region included).
  const homeRegion = config.controlTower.homeRegion;
  const backupRegions = new Set(
    config.managementAccount.backupRegions ?? [
      stackRegion,
      ...(config.onboarding?.profiles.flatMap((p) => p.regions) ?? []),
    ],
  );
  const regions = [
    ...new Set([stackRegion, ...(homeRegion ? [homeRegion] : []), ...backupRegions]),
  ].sort();
  return regions.map((region) => ({
    region,
    rules: [
      ...(region === stackRegion ? [FORWARDER.organizations, FORWARDER.roleChanges] : []),
      ...(region === homeRegion ? [FORWARDER.controlTower] : []),
      ...(backupRegions.has(region) ? [FORWARDER.backup] : []),
      // Changes to the rules above reach the control plane through this one (tamper alerts).
      FORWARDER.ruleChanges,
    ],
  }));
}

/** Each forwarder rule the mode needs exists, is enabled and targets the central bus. */
export function judgeManagementForwarder(
  busArn: string | undefined,
  found: readonly { region: string; rule: string; state: ForwardingRuleState }[],
): DoctorCheck {
  const id = 'management-forwarder';
  const deploy = (region: string) =>
    `aws cloudformation deploy --template-file infra/management-forwarder.yml --stack-name backup-control-plane-management-forwarder --capabilities CAPABILITY_NAMED_IAM --region ${region} --parameter-overrides CentralBusArn=${busArn ?? '<stack output BackupEventBusArn>'}${found.some((f) => f.region === region && f.rule.includes('control-tower')) ? ' ForwardControlTowerEvents=true' : ''}`;
  const problems = found.flatMap(({ region, rule, state }) => {
    if (!state.exists) return [{ region, text: `${rule} is missing in ${region}` }];
    if (!isEnabledRuleState(state.state))
      return [{ region, text: `${rule} is ${state.state} in ${region}` }];
    if (busArn && !state.targets.some((t) => t.arn === busArn)) {
      return [{ region, text: `${rule} in ${region} does not target ${busArn}` }];
    }
    return [];
  });
  if (!problems.length) {
    return pass(
      id,
      `${found.length} forwarder rule(s) in ${[...new Set(found.map((f) => f.region))].join(', ')} send the management account's events to the central bus`,
    );
  }
  const regions = [...new Set(problems.map((p) => p.region))];
  return fail(
    id,
    `${problems.map((p) => p.text).join('; ')}: those events reach nobody`,
    regions.map(deploy).join('; '),
  );
}

export function judgeTrustedAccess(services: readonly string[]): DoctorCheck {
  const id = 'trusted-access';
  if (services.includes(BACKUP_SERVICE)) {
    return pass(id, `${BACKUP_SERVICE} has trusted access (cross-account monitoring works)`);
  }
  return fail(
    id,
    `${BACKUP_SERVICE} has no trusted access: backup policies do not apply and the digest sees only this account's jobs`,
    `npx backupctl setup, or aws organizations enable-aws-service-access --service-principal ${BACKUP_SERVICE} (or AWS Backup console → Settings → Cross-account management → Cross-account monitoring → Turn on)`,
  );
}

export function judgeBackupPolicyType(root: { rootId: string; enabled: string[] }): DoctorCheck {
  const id = 'backup-policy-type';
  if (root.enabled.includes('BACKUP_POLICY')) {
    return pass(id, `BACKUP_POLICY is enabled on root ${root.rootId}`);
  }
  return warn(
    id,
    `BACKUP_POLICY is not enabled on root ${root.rootId || '(no root found)'}: no backup policy applies until it is (onboarding enables it on its next run)`,
    `npx backupctl setup, or aws organizations enable-policy-type --root-id ${root.rootId || '<root id>'} --policy-type BACKUP_POLICY`,
  );
}

export function judgeBackupGlobalSettings(
  settings: Readonly<Record<string, string>>,
  copiesAcrossAccounts: boolean,
): DoctorCheck {
  const id = 'backup-global-settings';
  const crossAccount = settings.isCrossAccountBackupEnabled === 'true';
  const shown = Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  if (crossAccount || !copiesAcrossAccounts) {
    return pass(id, `AWS Backup global settings: ${shown || '(none set)'}`);
  }
  return fail(
    id,
    'a backup policy copies to a vault of another account, but cross-account backup is off: those copy jobs fail',
    'npx backupctl setup, or aws backup update-global-settings --global-settings isCrossAccountBackupEnabled=true (management account), or AWS Backup console → Settings → Cross-account backup → Turn on',
  );
}

export function judgeSesIdentity(identity: string, status: string | undefined): DoctorCheck {
  const id = 'ses-identity';
  if (status === 'Success') return pass(id, `SES identity ${identity} is verified`);
  const verify = identity.includes('@')
    ? `aws ses verify-email-identity --email-address ${identity}`
    : `aws ses verify-domain-identity --domain ${identity} (then publish the TXT record it returns, or use Easy DKIM in the SES console)`;
  if (status === 'Pending') {
    return warn(
      id,
      `SES identity ${identity} is pending verification: nothing is mailed yet`,
      verify,
    );
  }
  return fail(
    id,
    `SES identity ${identity} is ${status ? status.toLowerCase() : 'not known to SES in this region'}: every email fails`,
    verify,
  );
}

/** SES's sandbox allows 200 messages a day. */
const SES_SANDBOX_QUOTA = 200;

export function judgeSesSending(s: {
  enabled: boolean;
  max24HourSend: number;
  sentLast24Hours: number;
}): DoctorCheck {
  const id = 'ses-sending';
  if (!s.enabled) {
    return fail(
      id,
      'sending is paused for this account (SES): every email fails',
      'aws ses update-account-sending-enabled --enabled (after resolving why SES paused it: SES console → Account dashboard)',
    );
  }
  const usage = `${s.sentLast24Hours}/${s.max24HourSend} sent in the last 24 hours`;
  if (s.max24HourSend > 0 && s.max24HourSend <= SES_SANDBOX_QUOTA) {
    return warn(
      id,
      `SES is in the sandbox (${usage}): only verified recipients receive mail`,
      'SES console → Account dashboard → Request production access',
    );
  }
  if (s.max24HourSend > 0 && s.sentLast24Hours >= 0.8 * s.max24HourSend) {
    return warn(
      id,
      `SES quota nearly used: ${usage}`,
      'request a higher sending quota (Service Quotas → Amazon SES)',
    );
  }
  return pass(id, `SES sends (${usage})`);
}

const pending = (s: Subscription) => s.arn === 'PendingConfirmation';

/**
 * A topic must have a reader. `filteredChannels` read their own topics: a topic read only by
 * them needs no subscriber of its own.
 */
export function judgeTopic(
  name: string,
  arn: string,
  subs: readonly Subscription[],
  filteredChannels = 0,
): DoctorCheck {
  const id = `topic:${name}`;
  const confirmed = subs.filter((s) => !pending(s));
  const waiting = subs.filter(pending);
  if (!subs.length && filteredChannels) {
    return pass(id, `read through the own topics of its ${filteredChannels} filtered channel(s)`);
  }
  if (!confirmed.length) {
    return fail(
      id,
      `${arn} has no confirmed subscriber${waiting.length ? ` (${waiting.length} awaiting confirmation: ${waiting.map((s) => `${s.protocol}:${s.endpoint}`).join(', ')})` : ''}: every message published to it reaches nobody`,
      waiting.length
        ? 'each address must follow the link in "AWS Notification - Subscription Confirmation"'
        : `add a chat channel or subscriber under notifications.topics.${name.split('/')[0]} and deploy`,
    );
  }
  if (waiting.length) {
    return warn(
      id,
      `${confirmed.length} confirmed, ${waiting.length} awaiting confirmation: ${waiting.map((s) => `${s.protocol}:${s.endpoint}`).join(', ')}`,
      'each address must follow the link in "AWS Notification - Subscription Confirmation" (aws sns list-subscriptions-by-topic shows them)',
    );
  }
  return pass(
    id,
    `${confirmed.length} subscriber(s): ${[...new Set(confirmed.map((s) => s.protocol))].join(', ')}`,
  );
}

/** A chat channel is live when Amazon Q Developer subscribed to the topic it reads. */
export function judgeChatChannels(
  topicName: string,
  readers: { channel: string; via: string }[],
  subsByTopic: ReadonlyMap<string, readonly Subscription[]>,
): DoctorCheck[] {
  const byTopic = new Map<string, string[]>();
  for (const r of readers) byTopic.set(r.via, [...(byTopic.get(r.via) ?? []), r.channel]);
  return [...byTopic].map(([via, channels]) => {
    const id = `chat:${channels.join(',')}`;
    const live = (subsByTopic.get(via) ?? []).filter(
      (s) => !pending(s) && CHATBOT_ENDPOINT.test(s.endpoint),
    ).length;
    if (live >= channels.length) {
      return pass(id, `Amazon Q Developer reads ${via} (${live} subscription(s))`);
    }
    return fail(
      id,
      `${channels.length} channel(s) read ${via} but Amazon Q Developer has ${live} subscription(s) there: the channel configuration is missing (the deploy failed on it, or it was deleted)`,
      `authorise the Slack workspace or Teams tenant (Amazon Q Developer console → Configure new client), then deploy again; the topic is notifications.topics.${topicName}`,
    );
  });
}

export function judgeDeadLetterQueue(output: string, url: string, depth: number): DoctorCheck {
  const id = `dlq:${output}`;
  if (depth === 0) return pass(id, `${url} is empty`);
  return fail(
    id,
    `${depth} message(s) in ${url}: records that failed every retry (their events were not handled)`,
    `read them: aws sqs receive-message --queue-url ${url} --max-number-of-messages 10; after fixing the cause, move them back: aws sqs start-message-move-task --source-arn <the queue's ARN>`,
  );
}

export function judgeTrails(
  trails: readonly Trail[],
  logging: ReadonlyMap<string, boolean>,
): DoctorCheck {
  const id = 'organization-trail';
  const org = trails.filter((t) => t.organization);
  const live = org.filter((t) => logging.get(t.arn));
  const good = live.find((t) => t.multiRegion);
  if (good)
    return pass(id, `organization trail ${good.name} logs in every region (tamper alerts work)`);
  const fix =
    'aws cloudtrail create-trail --name org-trail --s3-bucket-name <bucket> --is-organization-trail --is-multi-region-trail && aws cloudtrail start-logging --name org-trail';
  if (live.length) {
    return warn(
      id,
      `organization trail ${live[0]!.name} is single-region: calls in other regions raise no tamper alert`,
      fix,
    );
  }
  if (org.length) {
    return warn(
      id,
      `organization trail ${org[0]!.name} is not logging: no tamper alerts`,
      `aws cloudtrail start-logging --name ${org[0]!.arn}`,
    );
  }
  return warn(
    id,
    'no organization trail: CloudTrail calls in member accounts reach no EventBridge rule, so no tamper alerts (the daily check still finds and repairs changes, a day later)',
    fix,
  );
}

export function judgeBusPolicy(
  busName: string,
  policy: string | undefined,
  organizationId: string,
): DoctorCheck {
  const id = 'central-bus-policy';
  if (policy && policy.includes(organizationId) && policy.includes('aws:PrincipalOrgID')) {
    return pass(id, `${busName} accepts events from organization ${organizationId} only`);
  }
  return fail(
    id,
    `${busName}'s policy does not limit PutEvents to organization ${organizationId}${policy ? '' : ' (it has no policy): member accounts cannot forward their events'}`,
    'deploy the stack again (the bus policy is part of it); check organizationId in the configuration',
  );
}

/** Control Tower's lifecycle events from its home region reach the account-events rule. */
export function judgeControlTowerForwarding(
  homeRegion: string,
  ruleArn: string | undefined,
  state: ForwardingRuleState | undefined,
  roleArn?: string,
  stackRegion = 'us-east-1',
): DoctorCheck {
  const id = 'control-tower-forwarding';
  const fix =
    'invoke the reconcile function once (npx osls invoke -f reconcile --stage <stage>): it creates and repairs the rule';
  if (!ruleArn || !state) {
    return warn(
      id,
      `Control Tower's home region is ${homeRegion}, but the stack names no forwarding rule (an older deploy?)`,
      'deploy the stack again with controlTower.homeRegion set',
    );
  }
  const name = ruleArn.split('/').pop()!;
  if (roleArn) {
    // As the reconcile function declares it: state, pattern, target and its role.
    const differences = forwardingDifferences(controlTowerForwardingSpec(ruleArn, roleArn), state);
    return differences.length
      ? fail(id, `${differences.join('; ')}: vended accounts wait for the daily sweep`, fix)
      : pass(
          id,
          `rule ${name} in ${homeRegion} forwards Control Tower's lifecycle events to ${stackRegion}`,
        );
  }
  const target = state.targets.find((t) =>
    t.arn.endsWith(`:events:${stackRegion}:${t.arn.split(':')[4]}:event-bus/default`),
  );
  if (!state.exists) {
    return fail(
      id,
      `rule ${name} does not exist in ${homeRegion}: vended accounts wait for the daily sweep`,
      fix,
    );
  }
  if (!isEnabledRuleState(state.state) || !target) {
    return fail(
      id,
      `rule ${name} in ${homeRegion} is ${state.state ?? '?'}${target ? '' : ` and does not target ${stackRegion}'s default bus`}`,
      fix,
    );
  }
  return pass(
    id,
    `rule ${name} in ${homeRegion} forwards Control Tower's lifecycle events to ${stackRegion}`,
  );
}

/**
 * What the ledger says of the accounts: onboarding failures (fail), runs stopped part way and
 * accounts the last daily check could not read (warn); departed and closing ones are counted.
 */
export function judgeLedger(
  records: readonly AccountRecord[],
  checks: ReadonlyMap<string, CheckRecord>,
  day: string,
  now: Date,
  lockSeconds: number,
): DoctorCheck {
  const id = 'accounts';
  const by = (status: string) => records.filter((r) => r.status === status);
  const failed = by('failed');
  const stuck = by('onboarding').filter(
    (r) => !(now.getTime() - Date.parse(r.updatedAt) <= 2 * lockSeconds * 1000),
  );
  const unverifiable = [...checks.values()].filter((c) => c.status === 'unverifiable');
  const counts = `${by('ready').length} ready, ${failed.length} failed, ${by('skipped').length} skipped, ${by('departed').length} departed, ${by('closing').length} closing`;
  const list = (xs: string[]) =>
    xs.slice(0, 10).join('; ') + (xs.length > 10 ? `; +${xs.length - 10} more` : '');
  if (failed.length) {
    return fail(
      id,
      `${counts}. Onboarding failed: ${list(failed.map((r) => `${r.accountId} at ${r.lastError?.step ?? '?'}: ${r.lastError?.message ?? '?'}`))}`,
      'fix the cause named, then npx backupctl onboard <account id> (the daily sweep also retries)',
    );
  }
  if (stuck.length || unverifiable.length) {
    return warn(
      id,
      `${counts}.${stuck.length ? ` Stopped part way: ${list(stuck.map((r) => `${r.accountId} since ${r.updatedAt}`))}.` : ''}${unverifiable.length ? ` Unverifiable on ${day}: ${list(unverifiable.map((c) => `${c.accountId} (${c.reason ?? '?'})`))}.` : ''}`,
      'npx backupctl reconcile --dry-run shows each account now; the sweep repairs runs stopped part way',
    );
  }
  return pass(id, counts);
}

/** The central vault as read in the central account: exists, admits the organization, locked as configured. */
export function judgeCentralVault(
  central: CentralVault,
  region: string,
  organizationId: string,
  state: CentralVaultState,
  now: Date,
): DoctorCheck {
  const id = `central-vault:${region}`;
  const where = `central vault ${central.vaultName} in ${region} (account ${central.accountId})`;
  const onboard = `npx backupctl onboard ${central.accountId} (onboarding keeps the central vault), or wait for the daily sweep`;
  if (!state.vault) {
    return fail(id, `${where} is missing: copies into it fail`, onboard);
  }
  if (!admitsOrganization(state.policy, organizationId)) {
    return fail(
      id,
      `${where} does not admit copies from organization ${organizationId} (its access policy ${state.policy ? 'lacks' : 'is missing'} statement ${CENTRAL_VAULT_POLICY_SID}): copy jobs into it fail with AccessDenied`,
      onboard,
    );
  }
  const lock = lockDecision(state.vault, central.vaultLock, now);
  if (lock.action === 'immutable' || lock.action === 'weaker') {
    return fail(
      id,
      `${where}: ${lock.problem}`,
      'set centralBackup.vaultLock to what the vault has, and redeploy (onboarding never weakens a lock; a compliance lock past its grace time cannot change)',
    );
  }
  if (lock.action === 'put') {
    return fail(
      id,
      `${where}: Vault Lock is not as configured (${lock.what.replace(/^(set|change) Vault Lock( to|:) /, 'configured: ')})`,
      onboard,
    );
  }
  const v = state.vault;
  const locked = v.locked
    ? `Vault Lock ${v.lockDate ? `compliance (immutable ${v.lockDate.getTime() <= now.getTime() ? 'since' : 'from'} ${v.lockDate.toISOString()})` : 'governance'}, minimum ${v.minRetentionDays ?? '-'} days, maximum ${v.maxRetentionDays ?? '-'} days`
    : 'no Vault Lock (centralBackup.vaultLock is not set)';
  return pass(id, `${where} admits copies from organization ${organizationId}; ${locked}`);
}

/** The logically air-gapped vault as read: exists as configured, admits the organization. */
export function judgeAirGappedVault(
  central: CentralVault,
  region: string,
  organizationId: string,
  state: CentralVaultState,
): DoctorCheck {
  const wanted = central.airGapped!;
  const id = `central-air-gapped-vault:${region}`;
  const where = `logically air-gapped vault ${wanted.name} in ${region} (account ${central.accountId})`;
  const onboard = `npx backupctl onboard ${central.accountId} (onboarding creates it), or wait for the daily sweep`;
  if (!state.vault) return fail(id, `${where} is missing: copies into it fail`, onboard);
  const problem = airGappedProblem(state.vault, wanted);
  if (problem) {
    return fail(
      id,
      problem,
      'set centralBackup.airGappedVault to what the vault has, or give it another name, and redeploy',
    );
  }
  if (!admitsOrganization(state.policy, organizationId)) {
    return fail(
      id,
      `${where} does not admit copies from organization ${organizationId}: copy jobs into it fail with AccessDenied`,
      onboard,
    );
  }
  return pass(
    id,
    `${where} keeps recovery points ${wanted.minRetentionDays} to ${wanted.maxRetentionDays} days and admits copies from organization ${organizationId}`,
  );
}

/**
 * The central vault as the ledger has it, when doctor cannot read the central account (from the
 * delegated administrator account, the administrator roles are out of reach): onboarding
 * verifies the vault, so a ready record is evidence, not proof.
 */
export function judgeCentralVaultFromLedger(
  central: CentralVault,
  region: string,
  record: AccountRecord | undefined,
  why: string,
  id = `central-vault:${region}`,
): DoctorCheck {
  const onboard = `npx backupctl onboard ${central.accountId}`;
  if (!record) {
    return fail(
      id,
      `the central backup account ${central.accountId} was never onboarded, so nothing made its vault (and the vault could not be read: ${why})`,
      `${onboard}; check that the account is in the organization`,
    );
  }
  if (record.status !== 'ready') {
    return fail(
      id,
      `the central backup account ${central.accountId} is ${record.status}${record.lastError ? ` (${record.lastError.step}: ${record.lastError.message})` : ''}${record.skipReason ? ` (${record.skipReason})` : ''}`,
      `fix the cause named, then ${onboard}`,
    );
  }
  const step = record.steps[`central-vault-${region}`];
  if (!step) {
    return fail(
      id,
      `the central backup account ${central.accountId} has not been onboarded since its vault was configured in ${region}`,
      onboard,
    );
  }
  return warn(
    id,
    `could not read central vault ${central.vaultName} in ${region} (${why}); onboarding verified it at ${record.updatedAt}`,
    "run backupctl doctor with the management account's credentials to read the vault itself",
  );
}

/** How one region of the management account's own backup jobs is (or is not) carried. */
export interface ManagementRegion {
  region: string;
  /** The stack's rule there, as found, and what differs from it as declared (none: as declared). */
  stackRule?: { name: string; differences: string[] };
  /** The baseline's forwarding rule there (the management account onboarded), as found. */
  baselineRule?: ForwardingRuleState;
}

/**
 * The management account's own backup jobs, region by region: the stack's region is caught by
 * its default-bus rule; any other region by the stack's forwarding rule there (kept by the
 * reconcile sweep) or, when the management account is onboarded, its baseline's rule.
 */
export function judgeManagementRegions(
  stackRegion: string,
  regions: readonly ManagementRegion[],
  baselineRuleName: string,
): DoctorCheck {
  const id = 'management-account-regions';
  const covered = [stackRegion];
  const uncovered: string[] = [];
  for (const r of regions.filter((x) => x.region !== stackRegion)) {
    const byStack = r.stackRule && !r.stackRule.differences.length;
    const byBaseline = r.baselineRule?.exists && isEnabledRuleState(r.baselineRule.state);
    if (byStack || byBaseline) covered.push(r.region);
    else
      uncovered.push(
        r.stackRule
          ? `${r.region} (${r.stackRule.differences.join('; ')})`
          : `${r.region} (no rule: neither the stack's nor an enabled ${baselineRuleName})`,
      );
  }
  if (!uncovered.length) {
    return pass(
      id,
      `the management account's backup jobs reach the control plane from ${covered.join(', ')}`,
    );
  }
  const stackDeclares = regions.some((r) => r.stackRule);
  return warn(
    id,
    `the management account's backup jobs reach nobody from ${uncovered.join(', ')}; covered: ${covered.join(', ')}`,
    stackDeclares
      ? 'invoke the reconcile function once (npx osls invoke -f reconcile --stage <stage>): it creates and repairs the rules; a region missing from the stack: add it to managementAccount.backupRegions and deploy again'
      : "add the regions to managementAccount.backupRegions (unset, it takes the profiles' regions) and deploy the stack again: the reconcile sweep then keeps a forwarding rule in each",
  );
}

/**
 * The member role's StackSet (`onboarding.memberRole.deploy: stackset`): StackSets' trusted
 * access, and an instance per account that is current. Accounts whose instance failed have no
 * member role (onboarding fails there); pending ones are on their way.
 */
export function judgeMemberRoleStackSet(
  stackSetName: string | undefined,
  access: string,
  instances: readonly StackSetInstance[] | undefined,
): DoctorCheck {
  const id = 'member-role';
  if (access !== 'ENABLED') {
    return fail(
      id,
      `CloudFormation StackSets have no trusted access in the organization (${access || 'unknown'}): the member role's StackSet cannot deploy`,
      'npx backupctl setup, or aws cloudformation activate-organizations-access (management account)',
    );
  }
  if (!stackSetName || !instances) {
    return warn(
      id,
      'StackSets have trusted access, but the stack names no member-role StackSet (an older deploy, or no --stack)',
      'name the stack (--stack/--stage) after deploying it with onboarding.memberRole.deploy: stackset',
    );
  }
  // Suspended accounts are skipped by StackSets and offboarded by the sweep: neither state.
  const live = instances.filter((i) => i.detailedStatus !== 'SKIPPED_SUSPENDED_ACCOUNT');
  const failed = live.filter(
    (i) => i.status === 'INOPERABLE' || /FAILED|INOPERABLE|CANCELLED/.test(i.detailedStatus ?? ''),
  );
  const pending = live.filter((i) => !failed.includes(i) && i.status !== 'CURRENT');
  const current = live.length - failed.length - pending.length;
  const list = (xs: readonly StackSetInstance[]) =>
    xs
      .slice(0, 10)
      .map((i) => `${i.account}${i.reason ? ` (${i.reason})` : ''}`)
      .join(', ') + (xs.length > 10 ? ` and ${xs.length - 10} more` : '');
  if (failed.length) {
    return fail(
      id,
      `${failed.length} account(s) have no member role, their stack instance of ${stackSetName} failed: ${list(failed)}; ${current} current`,
      failed.some((i) => /already exists/i.test(i.reason ?? ''))
        ? `the baseline's roles were made earlier by onboarding through the administrator role, so the StackSet cannot create them: use onboarding.memberRole.deploy: bootstrap for an organization onboarded before, or delete those roles in the account (backups pause until the StackSet makes them again), then aws cloudformation update-stack-instances --stack-set-name ${stackSetName} --deployment-targets OrganizationalUnitIds=<ou>,Accounts=<account>,AccountFilterType=INTERSECTION --regions <the stack's region>`
        : `read why: aws cloudformation list-stack-instances --stack-set-name ${stackSetName}; then aws cloudformation update-stack-instances --stack-set-name ${stackSetName} --deployment-targets OrganizationalUnitIds=<ou>,Accounts=<account>,AccountFilterType=INTERSECTION --regions <the stack's region>`,
    );
  }
  if (pending.length) {
    return warn(
      id,
      `${pending.length} account(s) wait for their stack instance of ${stackSetName}: ${list(pending)}; ${current} current`,
      'nothing to do if a deployment is running; else aws cloudformation list-stack-set-operations --stack-set-name ' +
        stackSetName,
    );
  }
  return pass(
    id,
    `${stackSetName}: ${current} account(s) have the member role and the baseline roles`,
  );
}

export function judgeStack(stack: { name: string; status: string }): DoctorCheck {
  const id = 'stack';
  if (/_COMPLETE$/.test(stack.status) && !/ROLLBACK|DELETE/.test(stack.status)) {
    return pass(id, `${stack.name} is ${stack.status}`);
  }
  return fail(
    id,
    `${stack.name} is ${stack.status}`,
    `read why: aws cloudformation describe-stack-events --stack-name ${stack.name} (a channel whose workspace is not authorised fails here)`,
  );
}

// ---------------------------------------------------------------------------------------------

/** The permissions each read needs, named when AWS refuses it. */
const NEEDS: Record<string, string> = {
  'deployment-mode':
    'sts:GetCallerIdentity, organizations:DescribeOrganization (with delegated-admin also organizations:ListDelegatedAdministrators)',
  'backup-policy-delegation': 'organizations:DescribeResourcePolicy',
  'management-forwarder': 'events:DescribeRule, events:ListTargetsByRule in each forwarder region',
  'trusted-access': 'organizations:ListAWSServiceAccessForOrganization',
  'backup-policy-type': 'organizations:ListRoots',
  'backup-global-settings': 'backup:DescribeGlobalSettings',
  'ses-identity': 'ses:GetIdentityVerificationAttributes',
  'ses-sending': 'ses:GetAccountSendingEnabled, ses:GetSendQuota',
  topic: 'sns:ListSubscriptionsByTopic',
  dlq: 'sqs:GetQueueAttributes',
  'organization-trail': 'cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus',
  'central-bus-policy': 'events:DescribeEventBus',
  'member-role': 'cloudformation:DescribeOrganizationsAccess, cloudformation:ListStackInstances',
  'control-tower-forwarding': 'events:DescribeRule, events:ListTargetsByRule (in the home region)',
  accounts: 'dynamodb:Scan, dynamodb:BatchGetItem on the ledger table',
  'central-air-gapped-vault':
    'sts:AssumeRole on the access role in the central account (from the management account), or dynamodb:BatchGetItem on the ledger table',
  'central-vault':
    'sts:AssumeRole on the access role in the central account (from the management account), or dynamodb:BatchGetItem on the ledger table',
  'management-account-regions':
    'events:DescribeRule, events:ListTargetsByRule in each profile region',
};

async function guarded(
  id: string,
  run: () => Promise<DoctorCheck | DoctorCheck[]>,
): Promise<DoctorCheck[]> {
  try {
    const out = await run();
    return Array.isArray(out) ? out : [out];
  } catch (error) {
    const message = errorMessage(error).split('\n')[0]!.trim();
    // No credentials, no region, no network: nothing was checked, which is not a warning.
    const unreachable = cannotReachAws(error);
    if (unreachable) return [fail(id, `could not check: ${message}`, unreachable)];
    const needs = NEEDS[id.split(':')[0]!];
    return [
      warn(
        id,
        `could not check: ${message}`,
        needs && isAccessDenied(error) ? `allow ${needs} to whoever runs doctor` : undefined,
      ),
    ];
  }
}

const isAccessDenied = (error: unknown): boolean =>
  /AccessDenied|Unauthorized|not authorized/i.test(
    `${(error as { name?: unknown } | null)?.name ?? ''} ${errorMessage(error)}`,
  );

/** What to do when doctor cannot reach AWS at all, or undefined when it could. */
export function cannotReachAws(error: unknown): string | undefined {
  const name = String((error as { name?: unknown } | null)?.name ?? '');
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const message = errorMessage(error);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return 'give doctor credentials: AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (aws sts get-caller-identity must work)';
  }
  if (/Region is missing/i.test(message)) {
    return 'set the region: AWS_REGION=<the stack region>, e.g. us-east-1';
  }
  if (
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET)$/.test(code) ||
    /ECONNREFUSED|ENOTFOUND|getaddrinfo|connect ETIMEDOUT/.test(message)
  ) {
    return 'AWS could not be reached: check the network, a proxy, and AWS_ENDPOINT_URL (unset it unless you run the sandbox)';
  }
  return undefined;
}

/** Does a backup policy copy into a vault of an account named in its ARN (not the member's own)? */
export function copiesAcrossAccounts(documents: readonly unknown[]): boolean {
  return /"target_backup_vault_arn":\{"@@assign":"(arn:[^"]*:backup:[^:"]+:\d{12}:|\{\{central-(vault|air-gapped-vault):)/.test(
    JSON.stringify(documents),
  );
}

export async function runDoctor(
  config: Config,
  reader: PrerequisiteReader,
  targets: DoctorTargets,
  backupPolicyDocuments: readonly unknown[] = [],
  problems: readonly DoctorCheck[] = [],
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [...problems];
  const add = async (id: string, run: () => Promise<DoctorCheck | DoctorCheck[]>) =>
    checks.push(...(await guarded(id, run)));

  const delegated = config.deployment.mode === 'delegated-admin';
  let caller = '';
  let managementAccountId = '';
  await add('deployment-mode', async () => {
    const [account, org] = await Promise.all([reader.callerAccount(), reader.organization()]);
    caller = account;
    managementAccountId = org.managementAccountId;
    const admins = delegated
      ? Object.fromEntries(
          await Promise.all(
            [BACKUP_SERVICE, STACKSETS_SERVICE].map(
              async (p) => [p, await reader.delegatedAdministrators(p)] as const,
            ),
          ),
        )
      : undefined;
    return judgeDeploymentMode(account, org.managementAccountId, config.deployment, admins);
  });
  const asDelegatedAdmin =
    delegated && caller === config.deployment.delegatedAdministratorAccountId;
  await add('trusted-access', async () => judgeTrustedAccess(await reader.trustedServices()));
  await add('backup-policy-type', async () =>
    judgeBackupPolicyType(await reader.rootPolicyTypes()),
  );
  await add('backup-global-settings', async () =>
    judgeBackupGlobalSettings(
      await reader.backupGlobalSettings(),
      copiesAcrossAccounts(backupPolicyDocuments),
    ),
  );
  const identity = config.notifications.email.identity;
  await add('ses-identity', async () =>
    judgeSesIdentity(identity, await reader.sesIdentityStatus(identity)),
  );
  await add('ses-sending', async () => judgeSesSending(await reader.sesSending()));

  if (targets.stack) checks.push(judgeStack(targets.stack));
  const subsByTopic = new Map<string, Subscription[]>();
  for (const [name, arn] of Object.entries(targets.topicArns)) {
    await add(`topic:${name}`, async () => {
      const subs = await reader.subscriptions(arn);
      subsByTopic.set(name, subs);
      const topic = config.notifications.topics[name];
      return judgeTopic(name, arn, subs, topic ? filteredChannels(topic).length : 0);
    });
  }
  for (const [topicName, topic] of Object.entries(config.notifications.topics)) {
    const readers = chatChannels(topic).map((c) => ({
      channel: `${c.app}:${c.name}`,
      via: c.filter ? channelTopicKey(topicName, c.name) : topicName,
    }));
    const known = readers.filter((r) => subsByTopic.has(r.via));
    if (known.length) checks.push(...judgeChatChannels(topicName, known, subsByTopic));
  }
  if (!Object.keys(targets.topicArns).length) {
    checks.push(
      warn(
        'topics',
        'no topic ARNs known: subscribers and chat channels were not checked',
        'name the stack (--stack <name> or --stage <stage>), or set TOPIC_ARNS from its outputs',
      ),
    );
  }
  for (const [output, url] of Object.entries(targets.deadLetterQueues)) {
    await add(`dlq:${output}`, async () =>
      judgeDeadLetterQueue(output, url, await reader.queueDepth(url)),
    );
  }
  await add('organization-trail', async () => {
    const trails = await reader.trails();
    const logging = new Map<string, boolean>();
    for (const t of trails.filter((t) => t.organization)) {
      logging.set(t.arn, await reader.trailLogging(t.arn));
    }
    return judgeTrails(trails, logging);
  });
  const stackRegion = targets.stackRegion ?? currentPartition().organizationsRegion;
  const homeRegion = config.controlTower.homeRegion ?? stackRegion;
  if (delegated) {
    const admin = config.deployment.delegatedAdministratorAccountId!;
    await add('backup-policy-delegation', async () => {
      const org = await reader.organization();
      const wanted = delegationStatements(regionPartition(stackRegion).partition, org, admin);
      return judgePolicyDelegation(await reader.organizationResourcePolicy(), wanted);
    });
    const busArn = targets.busName
      ? `arn:${regionPartition(stackRegion).partition}:events:${stackRegion}:${admin}:event-bus/${targets.busName}`
      : undefined;
    if (caller && caller === managementAccountId) {
      await add('management-forwarder', async () => {
        const found = [];
        for (const { region, rules } of forwarderRules(config, stackRegion)) {
          for (const rule of rules) {
            found.push({ region, rule, state: await reader.forwardingRule(region, rule) });
          }
        }
        return judgeManagementForwarder(busArn, found);
      });
    } else {
      checks.push(
        warn(
          'management-forwarder',
          'the management forwarder (infra/management-forwarder.yml) runs in the management account: it cannot be read from here',
          "run backupctl doctor with the management account's credentials (and --stack) to check it",
        ),
      );
    }
  } else if (homeRegion !== stackRegion) {
    const ruleArn = targets.controlTowerRuleArn;
    await add('control-tower-forwarding', async () =>
      judgeControlTowerForwarding(
        homeRegion,
        ruleArn,
        ruleArn ? await reader.forwardingRule(homeRegion, ruleArn.split('/').pop()!) : undefined,
        targets.forwarderRoleArn,
        stackRegion,
      ),
    );
  }
  if (!delegated)
    await add('management-account-regions', async () => {
      const baseline = loadBaseline();
      const baselineRuleName = baseline.forwarding.ruleName;
      // The stack's rules by region, as the reconcile function declares them.
      const stackRules = new Map(
        targets.managementRuleArn && targets.forwarderRoleArn
          ? managementForwardingSpecs(
              targets.managementRuleArn,
              targets.forwarderRoleArn,
              forwardedPattern(baseline),
              managementForwardingRegions(config, stackRegion),
            ).map((spec) => [spec.region, spec])
          : [],
      );
      const regions = [
        ...new Set([
          ...(config.onboarding?.profiles.flatMap((p) => p.regions) ?? []),
          ...(config.managementAccount.backupRegions ?? []),
        ]),
      ]
        .filter((r) => r !== stackRegion)
        .sort();
      const found: ManagementRegion[] = [];
      for (const region of regions) {
        const spec = stackRules.get(region);
        const entry: ManagementRegion = { region };
        if (spec) {
          entry.stackRule = {
            name: spec.name,
            differences: forwardingDifferences(
              spec,
              await reader.forwardingRule(region, spec.name),
            ),
          };
        }
        if (!entry.stackRule || entry.stackRule.differences.length) {
          entry.baselineRule = await reader.forwardingRule(region, baselineRuleName);
        }
        found.push(entry);
      }
      return judgeManagementRegions(stackRegion, found, baselineRuleName);
    });
  if (config.onboarding?.memberRole?.deploy === 'stackset') {
    const name = targets.memberRoleStackSet;
    await add('member-role', async () =>
      judgeMemberRoleStackSet(
        name,
        await reader.stackSetsAccess(asDelegatedAdmin ? 'DELEGATED_ADMIN' : 'SELF'),
        name
          ? await reader.stackSetInstances(name, asDelegatedAdmin ? 'DELEGATED_ADMIN' : 'SELF')
          : undefined,
      ),
    );
  }
  if (targets.ledgerTable) {
    const table = targets.ledgerTable;
    await add('accounts', async () => {
      const records = await reader.ledgerAccounts(table);
      const now = new Date();
      // Yesterday's checks are complete; today's may still be running.
      const day = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
      const checks = await reader.dailyChecks(
        table,
        records.filter((r) => r.status === 'ready').map((r) => r.accountId),
        day,
      );
      return judgeLedger(records, checks, day, now, config.onboarding?.lockSeconds ?? 900);
    });
  }
  const central = centralVault(config);
  const roles = config.onboarding
    ? [config.onboarding.accessRole, config.onboarding.controlTowerAccessRole]
    : [];
  /** A vault of the central account, read there, else as the ledger has the account. */
  const centralCheck = (
    id: string,
    region: string,
    name: string,
    judge: (state: CentralVaultState) => DoctorCheck,
  ) =>
    add(id, async () => {
      try {
        return judge(await reader.centralVault(central!.accountId, roles, region, name));
      } catch (error) {
        if (!targets.ledgerTable) throw error;
        const why = errorMessage(error).split('\n')[0]!.trim();
        return judgeCentralVaultFromLedger(
          central!,
          region,
          await reader.ledgerAccount(targets.ledgerTable, central!.accountId),
          why,
          id,
        );
      }
    });
  for (const region of central?.regions ?? []) {
    await centralCheck(`central-vault:${region}`, region, central!.vaultName, (state) =>
      judgeCentralVault(central!, region, config.organizationId, state, new Date()),
    );
    if (central?.airGapped) {
      await centralCheck(
        `central-air-gapped-vault:${region}`,
        region,
        central.airGapped.name,
        (state) => judgeAirGappedVault(central, region, config.organizationId, state),
      );
    }
  }
  if (targets.busName) {
    const bus = targets.busName;
    await add('central-bus-policy', async () =>
      judgeBusPolicy(bus, await reader.busPolicy(bus), config.organizationId),
    );
  }
  return checks;
}

/** One line per check, failures first; the fix under it. */
export function doctorText(checks: readonly DoctorCheck[]): string {
  const order: Record<DoctorStatus, number> = { fail: 0, warn: 1, pass: 2 };
  const sorted = [...checks].sort((a, b) => order[a.status] - order[b.status]);
  const width = Math.max(...sorted.map((c) => c.id.length), 2);
  const lines = sorted.flatMap((c) => [
    `${c.status.toUpperCase().padEnd(4)}  ${c.id.padEnd(width)}  ${c.detail}`,
    ...(c.fix && c.status !== 'pass' ? [`${' '.repeat(width + 8)}fix: ${c.fix}`] : []),
  ]);
  const counts = (['fail', 'warn', 'pass'] as const)
    .map((s) => `${checks.filter((c) => c.status === s).length} ${s}`)
    .join(', ');
  return `${lines.join('\n')}\n\n${counts}\n`;
}

/** A JSON object of strings, or nothing (null, a list or a number are not topic maps). */
function objectOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/**
 * Where the stack's parts are: its outputs (--stack), else the environment the other commands
 * use (TOPIC_ARNS, CENTRAL_BUS_ARN). A stack that cannot be read is itself a failed check.
 */
export async function resolveTargets(
  reader: PrerequisiteReader,
  stackName: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ targets: DoctorTargets; problems: DoctorCheck[] }> {
  if (stackName) {
    try {
      const { status, outputs } = await reader.stackOutputs(stackName);
      let topicArns: Record<string, string> = {};
      try {
        topicArns = objectOf(JSON.parse(outputs.TopicArns ?? '{}'));
      } catch {
        // An older stack without the output: the topics are not checked (said below).
      }
      return {
        targets: {
          stack: { name: stackName, status },
          topicArns,
          deadLetterQueues: Object.fromEntries(
            Object.entries(outputs).filter(([k]) => k.endsWith('DeadLetterQueueUrl')),
          ),
          ...(outputs.BackupEventBusName ? { busName: outputs.BackupEventBusName } : {}),
          ...(outputs.LedgerTableName ? { ledgerTable: outputs.LedgerTableName } : {}),
          ...(outputs.ControlTowerForwardingRuleArn
            ? { controlTowerRuleArn: outputs.ControlTowerForwardingRuleArn }
            : {}),
          ...(outputs.MemberRoleStackSetName
            ? { memberRoleStackSet: outputs.MemberRoleStackSetName }
            : {}),
          ...(outputs.RegionForwarderRoleArn
            ? { forwarderRoleArn: outputs.RegionForwarderRoleArn }
            : {}),
          ...(outputs.ManagementForwardingRuleArn
            ? { managementRuleArn: outputs.ManagementForwardingRuleArn }
            : {}),
        },
        problems: [],
      };
    } catch (error) {
      return {
        targets: { topicArns: {}, deadLetterQueues: {} },
        problems: [
          fail(
            'stack',
            `cannot read stack ${stackName}: ${errorMessage(error)}`,
            'name the deployed stack (backup-control-plane-<stage>) and run in its account and region (us-east-1); needs cloudformation:DescribeStacks',
          ),
        ],
      };
    }
  }
  let topicArns: Record<string, string> = {};
  try {
    topicArns = objectOf(JSON.parse(env.TOPIC_ARNS ?? '{}'));
  } catch {
    // Not JSON: reported as "no topic ARNs known".
  }
  const busName = env.CENTRAL_BUS_ARN?.split('/').pop();
  return {
    targets: {
      topicArns,
      deadLetterQueues: {},
      ...(busName ? { busName } : {}),
      ...(env.DELIVERY_TABLE_NAME ? { ledgerTable: env.DELIVERY_TABLE_NAME } : {}),
      ...(env.CONTROL_TOWER_FORWARDING_RULE_ARN
        ? { controlTowerRuleArn: env.CONTROL_TOWER_FORWARDING_RULE_ARN }
        : {}),
      ...(env.REGION_FORWARDER_ROLE_ARN ? { forwarderRoleArn: env.REGION_FORWARDER_ROLE_ARN } : {}),
      ...(env.MANAGEMENT_FORWARDING_RULE_ARN
        ? { managementRuleArn: env.MANAGEMENT_FORWARDING_RULE_ARN }
        : {}),
    },
    problems: [],
  };
}

/** The command: AWS read with the operator's credentials, the policies from infra/. */
export async function runDoctorCommand(
  config: Config,
  stackName: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  reader: PrerequisiteReader = new AwsPrerequisites({
    dynamodb: dynamodbClient(),
    organizations: organizationsClient(),
    ses: sesClient(),
    sns: snsClient(),
    sqs: sqsClient(),
    sts: stsClient(),
  }),
): Promise<DoctorCheck[]> {
  const { targets, problems } = await resolveTargets(reader, stackName, env);
  // The stack runs in the Organizations region of the partition the credentials' region is in.
  targets.stackRegion ??= regionPartition(await resolvedRegion()).organizationsRegion;
  const documents = [...loadBackupPolicies(BACKUP_POLICIES_DIR).values()].map((p) => p.document);
  return runDoctor(config, reader, targets, documents, problems);
}
