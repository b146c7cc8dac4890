import {
  copiesAcrossAccounts,
  doctorText,
  resolveTargets,
  judgeManagementRegions,
  runDoctor,
  type DoctorCheck,
  type DoctorTargets,
  forwarderRules,
} from '../../tools/backupctl/doctor';
import type {
  CentralVaultState,
  PrerequisiteReader,
  StackSetInstance,
  Subscription,
  Trail,
} from '../../tools/adapters/prerequisites';
import type { ForwardingRuleState } from '../../functions/shared/adapters/eventbridge-rule-forwarding';
import type { AccountRecord, CheckRecord } from '../../functions/shared/ports';
import { forwardedPattern, loadBaseline } from '../../functions/onboard-account/baseline';
import { exampleConfigWithChannels } from '../helpers/fixtures';
import { delegationStatements } from '../../tools/backupctl/delegation';
import { wantedVaultPolicy } from '../../functions/onboard-account/resources/central-vault';

/**
 * backupctl doctor: each check passes on a healthy organization and breaks on the fault it is
 * there for; a refused read is a warning naming the permission, and the other checks still run.
 */

const MANAGEMENT = '111111111111';
const ARN = (name: string) =>
  `arn:aws:sns:us-east-1:${MANAGEMENT}:backup-control-plane-prod-${name}`;
const CHATBOT = 'https://global.sns-api.chatbot.amazonaws.com';
const confirmed = (protocol: string, endpoint: string): Subscription => ({
  protocol,
  endpoint,
  arn: `${ARN('chat')}:0b7e`,
});

const ledgerRecord = (
  accountId: string,
  overrides: Partial<AccountRecord> = {},
): AccountRecord => ({
  accountId,
  status: 'ready',
  baselineVersion: 3,
  steps: {},
  attempts: 1,
  updatedAt: new Date().toISOString(),
  attachedPolicies: [],
  ...overrides,
});

/** A healthy organization and stack; each test breaks one thing. */
class FakeReader implements PrerequisiteReader {
  caller = MANAGEMENT;
  services = ['backup.amazonaws.com', 'member.org.stacksets.cloudformation.amazonaws.com'];
  policyTypes = ['SERVICE_CONTROL_POLICY', 'BACKUP_POLICY'];
  globalSettings: Record<string, string> = { isCrossAccountBackupEnabled: 'true' };
  identity: string | undefined = 'Success';
  sending = { enabled: true, max24HourSend: 50_000, sentLast24Hours: 120 };
  subs: Record<string, Subscription[]> = {
    [ARN('chat')]: [],
    [ARN('chat-backup-alerts')]: [confirmed('https', CHATBOT)],
    [ARN('chat-production-backups')]: [confirmed('https', CHATBOT)],
  };
  depths: Record<string, number> = {};
  trailList: Trail[] = [
    {
      name: 'org-trail',
      arn: 'arn:aws:cloudtrail:us-east-1:1:trail/org-trail',
      organization: true,
      multiRegion: true,
    },
  ];
  logging = true;
  policy: string | undefined =
    '{"Statement":[{"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-exampleorg1"}}}]}';
  refuse = new Set<string>();
  stack = { status: 'UPDATE_COMPLETE', outputs: {} as Record<string, string> };

  private check(call: string) {
    if (this.refuse.has(call)) {
      throw Object.assign(
        new Error(
          `User: arn:aws:iam::${MANAGEMENT}:user/ops is not authorized to perform: ${call}`,
        ),
        { name: 'AccessDeniedException' },
      );
    }
  }
  async callerAccount() {
    this.check('sts:GetCallerIdentity');
    return this.caller;
  }
  async organization() {
    return { id: 'o-exampleorg1', managementAccountId: MANAGEMENT };
  }
  async trustedServices() {
    this.check('organizations:ListAWSServiceAccessForOrganization');
    return this.services;
  }
  async rootPolicyTypes() {
    return { rootId: 'r-ab12', enabled: this.policyTypes };
  }
  delegatedAdmins: Record<string, string[]> = {};
  async delegatedAdministrators(principal: string) {
    this.check('organizations:ListDelegatedAdministrators');
    return this.delegatedAdmins[principal] ?? [];
  }
  async organizationResourcePolicy(): Promise<{ Statement?: unknown } | undefined> {
    return undefined;
  }
  async backupGlobalSettings() {
    this.check('backup:DescribeGlobalSettings');
    return this.globalSettings;
  }
  async sesIdentityStatus() {
    return this.identity;
  }
  async sesSending() {
    return this.sending;
  }
  async subscriptions(topicArn: string) {
    this.check('sns:ListSubscriptionsByTopic');
    return this.subs[topicArn] ?? [];
  }
  async queueDepth(url: string) {
    return this.depths[url] ?? 0;
  }
  async trails() {
    return this.trailList;
  }
  async trailLogging() {
    return this.logging;
  }
  async busPolicy() {
    return this.policy;
  }
  rule: ForwardingRuleState = {
    exists: true,
    state: 'ENABLED',
    pattern: {},
    targets: [{ arn: `arn:aws:events:us-east-1:${MANAGEMENT}:event-bus/default`, roleArn: 'r' }],
  };
  stackSets = 'ENABLED';
  instances: StackSetInstance[] = [
    {
      account: '222233334444',
      region: 'us-east-1',
      status: 'CURRENT',
      detailedStatus: 'SUCCEEDED',
    },
  ];
  async stackSetsAccess() {
    return this.stackSets;
  }
  async stackSetInstances() {
    return this.instances;
  }
  /** Rules by `<region>/<name>`; any other is `rule`. */
  rules = new Map<string, ForwardingRuleState>();
  async forwardingRule(region: string, name: string) {
    return this.rules.get(`${region}/${name}`) ?? this.rule;
  }
  records: AccountRecord[] = [ledgerRecord('222233334444'), ledgerRecord('333344445555')];
  checks = new Map<string, CheckRecord>();
  async ledgerAccounts() {
    this.check('dynamodb:Scan');
    return this.records;
  }
  async dailyChecks() {
    return this.checks;
  }
  /** The central vault by region; any other region: as onboarding leaves it, unlocked. */
  centralVaults = new Map<string, CentralVaultState>();
  async centralVault(accountId: string, _roles: readonly string[], region: string, name: string) {
    this.check('sts:AssumeRole');
    return (
      this.centralVaults.get(region) ?? {
        vault: { arn: `arn:aws:backup:${region}:${accountId}:backup-vault:${name}`, locked: false },
        policy: wantedVaultPolicy(undefined, 'o-exampleorg1'),
      }
    );
  }
  async ledgerAccount(_table: string, accountId: string) {
    this.check('dynamodb:BatchGetItem');
    return this.records.find((r) => r.accountId === accountId);
  }
  async stackOutputs(name: string) {
    this.check('cloudformation:DescribeStacks');
    if (name !== 'backup-control-plane-prod')
      throw new Error(`Stack with id ${name} does not exist`);
    return this.stack;
  }
}

const DLQ =
  'https://sqs.us-east-1.amazonaws.com/111111111111/backup-control-plane-prod-notifications-dlq';
const targets = (): DoctorTargets => ({
  stack: { name: 'backup-control-plane-prod', status: 'UPDATE_COMPLETE' },
  topicArns: {
    chat: ARN('chat'),
    'chat/backup-alerts': ARN('chat-backup-alerts'),
    'chat/production-backups': ARN('chat-production-backups'),
  },
  deadLetterQueues: { NotificationDeadLetterQueueUrl: DLQ },
  busName: 'backup-control-plane-prod-backup-events',
  ledgerTable: 'backup-control-plane-prod-ledger',
});

async function doctor(reader: FakeReader, t = targets()): Promise<Map<string, DoctorCheck>> {
  const checks = await runDoctor(exampleConfigWithChannels(), reader, t, [
    {
      plans: {
        p: {
          rules: {
            r: {
              copy_actions: {
                x: {
                  target_backup_vault_arn: {
                    '@@assign': 'arn:aws:backup:eu-west-1:444455556666:backup-vault:central',
                  },
                },
              },
            },
          },
        },
      },
    },
  ]);
  return new Map(checks.map((c) => [c.id, c]));
}

const status = (checks: Map<string, DoctorCheck>) =>
  Object.fromEntries([...checks].map(([id, c]) => [id, c.status]));

describe('backupctl doctor', () => {
  it('passes every check of a healthy organization and stack', async () => {
    const checks = await doctor(new FakeReader());
    expect(status(checks)).toEqual({
      'deployment-mode': 'pass',
      'trusted-access': 'pass',
      'backup-policy-type': 'pass',
      'backup-global-settings': 'pass',
      'ses-identity': 'pass',
      'ses-sending': 'pass',
      stack: 'pass',
      'topic:chat': 'pass',
      'topic:chat/backup-alerts': 'pass',
      'topic:chat/production-backups': 'pass',
      'chat:slack:backup-alerts': 'pass',
      'chat:teams:production-backups': 'pass',
      'dlq:NotificationDeadLetterQueueUrl': 'pass',
      'organization-trail': 'pass',
      accounts: 'pass',
      'management-account-regions': 'pass',
      'central-vault:eu-west-1': 'pass',
      'central-vault:us-east-1': 'pass',
      'central-bus-policy': 'pass',
    });
    expect(checks.get('topic:chat')!.detail).toMatch(
      /read through the own topics of its 2 filtered channel/,
    );
  });

  it.each<[string, (r: FakeReader) => void, string, RegExp]>([
    [
      'deployment-mode',
      (r) => (r.caller = '222222222222'),
      'fail',
      /run with credentials of account 111111111111/,
    ],
    [
      'trusted-access',
      (r) => (r.services = []),
      'fail',
      /enable-aws-service-access --service-principal backup\.amazonaws\.com/,
    ],
    [
      'backup-policy-type',
      (r) => (r.policyTypes = ['SERVICE_CONTROL_POLICY']),
      'warn',
      /enable-policy-type --root-id r-ab12 --policy-type BACKUP_POLICY/,
    ],
    [
      'backup-global-settings',
      (r) => (r.globalSettings = { isCrossAccountBackupEnabled: 'false' }),
      'fail',
      /isCrossAccountBackupEnabled=true/,
    ],
    [
      'ses-identity',
      (r) => (r.identity = 'Pending'),
      'warn',
      /verify-domain-identity --domain example\.com/,
    ],
    ['ses-identity', (r) => (r.identity = undefined), 'fail', /verify-domain-identity/],
    [
      'ses-sending',
      (r) => (r.sending = { enabled: true, max24HourSend: 200, sentLast24Hours: 3 }),
      'warn',
      /Request production access/,
    ],
    [
      'ses-sending',
      (r) => (r.sending = { ...r.sending, enabled: false }),
      'fail',
      /update-account-sending-enabled/,
    ],
    [
      'topic:chat/backup-alerts',
      (r) => (r.subs[ARN('chat-backup-alerts')] = []),
      'fail',
      /add a chat channel or subscriber under notifications\.topics\.chat/,
    ],
    [
      'topic:chat',
      (r) =>
        (r.subs[ARN('chat')] = [
          { protocol: 'email', endpoint: 'oncall@acme.io', arn: 'PendingConfirmation' },
        ]),
      'fail',
      /Subscription Confirmation/,
    ],
    [
      'chat:teams:production-backups',
      (r) => (r.subs[ARN('chat-production-backups')] = [confirmed('email', 'a@acme.io')]),
      'fail',
      /authorise the Slack workspace or Teams tenant/,
    ],
    [
      'dlq:NotificationDeadLetterQueueUrl',
      (r) => (r.depths[DLQ] = 3),
      'fail',
      /start-message-move-task/,
    ],
    [
      'organization-trail',
      (r) => (r.trailList = []),
      'warn',
      /--is-organization-trail --is-multi-region-trail/,
    ],
    ['organization-trail', (r) => (r.logging = false), 'warn', /start-logging/],
    ['central-bus-policy', (r) => (r.policy = undefined), 'fail', /deploy the stack again/],
    [
      'central-vault:eu-west-1',
      (r) => r.centralVaults.set('eu-west-1', {}),
      'fail',
      /npx backupctl onboard 444455556666/,
    ],
    [
      'central-vault:eu-west-1',
      (r) =>
        r.centralVaults.set('eu-west-1', {
          vault: { arn: 'arn:vault' },
          policy: { Version: '2012-10-17', Statement: [] },
        }),
      'fail',
      /^npx backupctl onboard 444455556666 \(onboarding keeps the central vault\)/,
    ],
    [
      // The administrator role is out of reach and the ledger never saw the account.
      'central-vault:eu-west-1',
      (r) => r.refuse.add('sts:AssumeRole'),
      'fail',
      /npx backupctl onboard 444455556666; check that the account is in the organization/,
    ],
    [
      'central-vault:eu-west-1',
      (r) => {
        r.refuse.add('sts:AssumeRole');
        r.records.push(
          ledgerRecord('444455556666', {
            steps: {
              'central-vault-eu-west-1': { outcome: 'changed', at: '2026-11-28T05:00:00Z' },
            },
          }),
        );
      },
      'warn',
      /with the management account's credentials to read the vault itself/,
    ],
    [
      'central-vault:us-east-1',
      (r) => {
        r.refuse.add('sts:AssumeRole');
        r.records.push(
          ledgerRecord('444455556666', {
            steps: {
              'central-vault-eu-west-1': { outcome: 'changed', at: '2026-11-28T05:00:00Z' },
            },
          }),
        );
      },
      'fail',
      /^npx backupctl onboard 444455556666$/,
    ],
    [
      'central-vault:us-east-1',
      (r) => {
        r.refuse.add('sts:AssumeRole');
        r.refuse.add('dynamodb:BatchGetItem');
      },
      'warn',
      /allow sts:AssumeRole on the access role in the central account/,
    ],
    [
      'accounts',
      (r) =>
        r.records.push(
          ledgerRecord('444455556666', {
            status: 'failed',
            lastError: { step: 'access', message: 'AccessDenied', at: '2026-11-28T05:00:00Z' },
          }),
        ),
      'fail',
      /npx backupctl onboard <account id>/,
    ],
    [
      'accounts',
      (r) =>
        r.checks.set('222233334444', {
          accountId: '222233334444',
          day: '2026-11-28',
          checkedAt: '2026-11-28T05:10:00Z',
          status: 'unverifiable',
          reason: 'read-only role cannot be assumed',
          findings: [],
        }),
      'warn',
      /reconcile --dry-run/,
    ],
    [
      'accounts',
      (r) =>
        r.records.push(
          ledgerRecord('444455556666', { status: 'onboarding', updatedAt: '2026-11-01T00:00:00Z' }),
        ),
      'warn',
      /repairs runs stopped part way/,
    ],
  ])('%s: breaks when it should', async (id, breakIt, expected, fix) => {
    const reader = new FakeReader();
    breakIt(reader);
    const checks = await doctor(reader);
    expect(checks.get(id)).toMatchObject({ status: expected, fix: expect.stringMatching(fix) });
    // Only the broken check changed (the central vault's: in its every region, when unreadable).
    const sameKind = (other: string) =>
      other === id || (id.startsWith('central-vault:') && other.startsWith('central-vault:'));
    const others = [...checks.values()].filter((c) => !sameKind(c.id) && c.status !== 'pass');
    expect(others.map((c) => c.id)).toEqual(
      id === 'topic:chat/backup-alerts' ? ['chat:slack:backup-alerts'] : [],
    );
  });

  it('checks the central vault’s lock against centralBackup.vaultLock', async () => {
    const config = exampleConfigWithChannels();
    config.centralBackup!.regions = ['eu-west-1'];
    config.centralBackup!.vaultLock = {
      mode: 'compliance',
      minRetentionDays: 7,
      maxRetentionDays: 3650,
    };
    const reader = new FakeReader();
    const vault = (lock: Record<string, unknown>): CentralVaultState => ({
      vault: { arn: 'arn:vault', ...lock },
      policy: wantedVaultPolicy(undefined, 'o-exampleorg1'),
    });
    const check = async () =>
      (await runDoctor(config, reader, targets())).find((c) => c.id === 'central-vault:eu-west-1');
    const past = new Date('2026-01-01T00:00:00Z');
    reader.centralVaults.set(
      'eu-west-1',
      vault({ locked: true, minRetentionDays: 7, maxRetentionDays: 3650, lockDate: past }),
    );
    expect(await check()).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining(
        'Vault Lock compliance (immutable since 2026-01-01T00:00:00.000Z), minimum 7 days, maximum 3650 days',
      ),
    });
    reader.centralVaults.set('eu-west-1', vault({ locked: false }));
    expect(await check()).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        'Vault Lock is not as configured (configured: compliance mode, minimum 7 days, maximum 3650 days)',
      ),
      fix: expect.stringContaining('npx backupctl onboard 444455556666'),
    });
    reader.centralVaults.set(
      'eu-west-1',
      vault({ locked: true, minRetentionDays: 1, maxRetentionDays: 3650, lockDate: past }),
    );
    expect(await check()).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('immutable since 2026-01-01T00:00:00.000Z'),
      fix: expect.stringContaining('set centralBackup.vaultLock to what the vault has'),
    });
  });

  it('checks the logically air-gapped vault: fixed limits as configured, admitting the organization', async () => {
    const config = exampleConfigWithChannels();
    config.centralBackup!.regions = ['eu-west-1'];
    config.centralBackup!.airGappedVault = {
      name: 'org-air-gapped',
      minRetentionDays: 7,
      maxRetentionDays: 365,
    };
    const reader = new FakeReader();
    const lag = (
      limits: { min: number; max: number },
      type = 'LOGICALLY_AIR_GAPPED_BACKUP_VAULT',
    ) =>
      reader.centralVaults.set('eu-west-1', {
        vault: {
          arn: 'arn:lag',
          vaultType: type,
          locked: true,
          minRetentionDays: limits.min,
          maxRetentionDays: limits.max,
        },
        policy: wantedVaultPolicy(undefined, 'o-exampleorg1'),
      });
    const check = async () =>
      (await runDoctor(config, reader, targets())).find(
        (c) => c.id === 'central-air-gapped-vault:eu-west-1',
      );
    lag({ min: 7, max: 365 });
    expect(await check()).toMatchObject({ status: 'pass' });
    lag({ min: 7, max: 30 });
    expect(await check()).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('keeps 7 to 30 days, fixed at its creation'),
      fix: expect.stringContaining('set centralBackup.airGappedVault to what the vault has'),
    });
    lag({ min: 7, max: 365 }, 'BACKUP_VAULT');
    expect(await check()).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('is not logically air-gapped'),
    });
  });

  it('warns with the confirmed and the pending subscribers of a topic that has both', async () => {
    const reader = new FakeReader();
    reader.subs[ARN('chat')] = [
      confirmed('https', 'https://hooks.acme.io/b'),
      { protocol: 'email', endpoint: 'oncall@acme.io', arn: 'PendingConfirmation' },
    ];
    expect((await doctor(reader)).get('topic:chat')).toMatchObject({
      status: 'warn',
      detail: '1 confirmed, 1 awaiting confirmation: email:oncall@acme.io',
    });
  });

  it('reports a refused read as a warning naming the permission, and runs the other checks', async () => {
    const reader = new FakeReader();
    reader.refuse.add('backup:DescribeGlobalSettings');
    reader.refuse.add('sns:ListSubscriptionsByTopic');
    const checks = await doctor(reader);
    expect(checks.get('backup-global-settings')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /could not check: .*not authorized to perform: backup:DescribeGlobalSettings/,
      ),
      fix: 'allow backup:DescribeGlobalSettings to whoever runs doctor',
    });
    expect(checks.get('topic:chat')).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/sns:ListSubscriptionsByTopic/),
    });
    expect(checks.get('ses-identity')!.status).toBe('pass');
    expect(checks.get('central-bus-policy')!.status).toBe('pass');
  });

  it.each([
    [
      'no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      /give doctor credentials/,
    ],
    ['no region', new Error('Region is missing'), /set the region: AWS_REGION/],
    [
      'no network',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), { code: 'ECONNREFUSED' }),
      /AWS could not be reached/,
    ],
  ])('fails, not warns, when nothing can be checked (%s)', async (_, error, fix) => {
    const reader = new FakeReader();
    reader.callerAccount = async () => {
      throw error;
    };
    expect((await doctor(reader)).get('deployment-mode')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(error.message),
      fix: expect.stringMatching(fix),
    });
  });

  it('does not call a read that failed for another reason a missing permission', async () => {
    const reader = new FakeReader();
    reader.backupGlobalSettings = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    const check = (await doctor(reader)).get('backup-global-settings')!;
    expect(check).toMatchObject({ status: 'warn', detail: 'could not check: Rate exceeded' });
    expect(check.fix).toBeUndefined();
  });

  it('fails a stack that rolled back', async () => {
    const t = targets();
    t.stack = { name: 'backup-control-plane-prod', status: 'UPDATE_ROLLBACK_COMPLETE' };
    expect((await doctor(new FakeReader(), t)).get('stack')).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/describe-stack-events --stack-name backup-control-plane-prod/),
    });
  });

  it('says so when no topic is known, instead of passing silently', async () => {
    const checks = await doctor(new FakeReader(), { topicArns: {}, deadLetterQueues: {} });
    expect(checks.get('topics')).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/--stack/),
    });
  });

  it('prints failures first, each with its fix, and the counts', async () => {
    const reader = new FakeReader();
    reader.services = [];
    const text = doctorText([...(await doctor(reader)).values()]);
    expect(text.split('\n')[0]).toMatch(/^FAIL {2}trusted-access/);
    expect(text.split('\n')[1]).toMatch(
      /^\s+fix: npx backupctl setup, or aws organizations enable-aws-service-access/,
    );
    expect(text).toMatch(/\n1 fail, 0 warn, 18 pass\n$/);
  });
});

describe('resolveTargets', () => {
  it('reads the topics, dead-letter queues and bus from the stack outputs', async () => {
    const reader = new FakeReader();
    reader.stack.outputs = {
      TopicArns: JSON.stringify({ chat: ARN('chat') }),
      NotificationDeadLetterQueueUrl: DLQ,
      WatchDeadLetterQueueUrl: `${DLQ}-watch`,
      NotificationQueueUrl: 'not a dead-letter queue',
      BackupEventBusName: 'backup-control-plane-prod-backup-events',
    };
    const { targets: t, problems } = await resolveTargets(reader, 'backup-control-plane-prod', {});
    expect(problems).toEqual([]);
    expect(t).toEqual({
      stack: { name: 'backup-control-plane-prod', status: 'UPDATE_COMPLETE' },
      topicArns: { chat: ARN('chat') },
      deadLetterQueues: {
        NotificationDeadLetterQueueUrl: DLQ,
        WatchDeadLetterQueueUrl: `${DLQ}-watch`,
      },
      busName: 'backup-control-plane-prod-backup-events',
    });
  });

  it('fails the stack check when the stack cannot be read', async () => {
    const { problems } = await resolveTargets(new FakeReader(), 'backup-control-plane-typo', {});
    expect(problems).toEqual([
      expect.objectContaining({
        id: 'stack',
        status: 'fail',
        detail: expect.stringMatching(/does not exist/),
      }),
    ]);
  });

  it('takes TOPIC_ARNS that is not an object as no topics, instead of crashing', async () => {
    const { targets: t } = await resolveTargets(new FakeReader(), undefined, {
      TOPIC_ARNS: 'null',
    });
    expect(t.topicArns).toEqual({});
  });

  it('falls back to TOPIC_ARNS and CENTRAL_BUS_ARN', async () => {
    const { targets: t } = await resolveTargets(new FakeReader(), undefined, {
      TOPIC_ARNS: JSON.stringify({ chat: ARN('chat') }),
      CENTRAL_BUS_ARN:
        'arn:aws:events:us-east-1:111111111111:event-bus/backup-control-plane-prod-backup-events',
    });
    expect(t).toEqual({
      topicArns: { chat: ARN('chat') },
      deadLetterQueues: {},
      busName: 'backup-control-plane-prod-backup-events',
    });
  });
});

describe('copiesAcrossAccounts', () => {
  it('is true for a copy into a vault named by its account, false for a copy in the same account', () => {
    const copy = (arn: string) => ({
      copy_actions: { [arn]: { target_backup_vault_arn: { '@@assign': arn } } },
    });
    expect(
      copiesAcrossAccounts([copy('arn:aws:backup:eu-west-1:444455556666:backup-vault:central')]),
    ).toBe(true);
    expect(copiesAcrossAccounts([copy('arn:aws:backup:eu-west-1:$account:backup-vault:dr')])).toBe(
      false,
    );
    expect(copiesAcrossAccounts([{ plans: {} }])).toBe(false);
  });
});

describe('control-tower-forwarding', () => {
  const RULE = `arn:aws:events:eu-west-1:${MANAGEMENT}:rule/backup-control-plane-prod-control-tower-events`;
  async function check(reader: FakeReader, ruleArn: string | null = RULE) {
    const config = exampleConfigWithChannels();
    config.controlTower = { homeRegion: 'eu-west-1' };
    const t = { ...targets(), ...(ruleArn ? { controlTowerRuleArn: ruleArn } : {}) };
    return (await runDoctor(config, reader, t)).find((c) => c.id === 'control-tower-forwarding');
  }

  it('is not checked when Control Tower’s home region is us-east-1', async () => {
    expect((await doctor(new FakeReader())).has('control-tower-forwarding')).toBe(false);
  });

  it('passes a rule that forwards to us-east-1’s default bus', async () => {
    expect(await check(new FakeReader())).toMatchObject({ status: 'pass' });
  });

  it.each<[string, Partial<ForwardingRuleState>, RegExp]>([
    ['missing', { exists: false, targets: [] }, /does not exist in eu-west-1/],
    ['disabled', { state: 'DISABLED' }, /is DISABLED/],
    [
      'aimed elsewhere',
      { targets: [{ arn: 'arn:aws:sqs:eu-west-1:1:q' }] },
      /does not target us-east-1's default bus/,
    ],
  ])('fails a rule %s, with the fix', async (_what, change, detail) => {
    const reader = new FakeReader();
    reader.rule = { ...reader.rule, ...change };
    expect(await check(reader)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(detail),
      fix: expect.stringMatching(/invoke the reconcile function once/),
    });
  });

  it('with the role known, judges the rule as the reconcile function declares it', async () => {
    const ROLE = `arn:aws:iam::${MANAGEMENT}:role/backup-control-plane-prod-region-forwarder`;
    const config = exampleConfigWithChannels();
    config.controlTower = { homeRegion: 'eu-west-1' };
    const reader = new FakeReader();
    // The right bus, but without the role cross-region delivery needs, and another pattern.
    reader.rule = { ...reader.rule, targets: [{ arn: reader.rule.targets[0]!.arn }] };
    const t = { ...targets(), controlTowerRuleArn: RULE, forwarderRoleArn: ROLE };
    const found = (await runDoctor(config, reader, t)).find(
      (c) => c.id === 'control-tower-forwarding',
    );
    expect(found).toMatchObject({ status: 'fail' });
    expect(found!.detail).toMatch(/another event pattern/);
    expect(found!.detail).toMatch(
      /does not target arn:aws:events:us-east-1:111111111111:event-bus\/default/,
    );
  });

  it('warns when the stack names no rule', async () => {
    expect(await check(new FakeReader(), null)).toMatchObject({ status: 'warn' });
  });
});

describe('accounts', () => {
  it('counts departed and closing accounts without failing', async () => {
    const reader = new FakeReader();
    reader.records.push(ledgerRecord('444455556666', { status: 'departed' }));
    reader.records.push(ledgerRecord('555566667777', { status: 'closing' }));
    expect((await doctor(reader)).get('accounts')).toMatchObject({
      status: 'pass',
      detail: '2 ready, 0 failed, 0 skipped, 1 departed, 1 closing',
    });
  });
});

describe('management-account-regions', () => {
  const ROLE = `arn:aws:iam::${MANAGEMENT}:role/backup-control-plane-prod-region-forwarder`;
  const NAME = 'backup-control-plane-prod-management-backup-events';
  const ruleArn = (region: string) => `arn:aws:events:${region}:${MANAGEMENT}:rule/${NAME}`;
  const asDeclared = (): ForwardingRuleState => ({
    exists: true,
    state: 'ENABLED',
    pattern: forwardedPattern(loadBaseline()),
    targets: [{ arn: `arn:aws:events:us-east-1:${MANAGEMENT}:event-bus/default`, roleArn: ROLE }],
  });
  const withStackRules = () => ({
    ...targets(),
    forwarderRoleArn: ROLE,
    managementRuleArn: ruleArn('*'),
  });
  const judge = async (reader: FakeReader, t: DoctorTargets = withStackRules()) =>
    (await runDoctor(exampleConfigWithChannels(), reader, t)).find(
      (c) => c.id === 'management-account-regions',
    );

  it('warns about profile regions where the management account forwards nothing', async () => {
    const reader = new FakeReader();
    reader.rule = { exists: false, targets: [] };
    expect(await judge(reader, targets())).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /jobs reach nobody from eu-west-1 \(no rule: .*\); covered: us-east-1$/,
      ),
      fix: expect.stringMatching(/managementAccount\.backupRegions/),
    });
  });

  it('passes a region whose stack rule is as the reconcile function declares it', async () => {
    const reader = new FakeReader();
    reader.rule = { exists: false, targets: [] };
    reader.rules.set(`eu-west-1/${NAME}`, asDeclared());
    expect(await judge(reader)).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/reach the control plane from us-east-1, eu-west-1/),
    });
  });

  it('warns about a stack rule that differs, with the reconcile fix', async () => {
    const reader = new FakeReader();
    reader.rule = { exists: false, targets: [] };
    reader.rules.set(`eu-west-1/${NAME}`, { ...asDeclared(), state: 'DISABLED' });
    expect(await judge(reader)).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /reach nobody from eu-west-1 \(rule .* is DISABLED in eu-west-1\)/,
      ),
      fix: expect.stringMatching(/osls invoke -f reconcile/),
    });
  });

  it('passes a region the onboarded management account’s baseline rule forwards', async () => {
    const reader = new FakeReader();
    reader.rule = { exists: false, targets: [] };
    reader.rules.set(`eu-west-1/${loadBaseline().forwarding.ruleName}`, asDeclared());
    expect(await judge(reader, targets())).toMatchObject({ status: 'pass' });
  });

  it('judges regions against the stack’s own region in another partition', () => {
    expect(
      judgeManagementRegions(
        'us-gov-west-1',
        [{ region: 'us-gov-east-1', stackRule: { name: NAME, differences: [] } }],
        'forward',
      ),
    ).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/from us-gov-west-1, us-gov-east-1/),
    });
  });
});

describe('member-role', () => {
  const withStackSet = () => {
    const config = exampleConfigWithChannels();
    config.onboarding!.memberRole = {
      name: 'backup-control-plane-member',
      deploy: 'stackset',
      organizationalUnitIds: ['r-ab12'],
    };
    return config;
  };
  const check = async (reader: FakeReader, stackSet: string | undefined = 'bcp-prod-member-role') =>
    (
      await runDoctor(withStackSet(), reader, {
        ...targets(),
        ...(stackSet ? { memberRoleStackSet: stackSet } : {}),
      })
    ).find((c) => c.id === 'member-role');

  it('passes when every stack instance is current', async () => {
    expect(await check(new FakeReader())).toMatchObject({
      status: 'pass',
      detail: 'bcp-prod-member-role: 1 account(s) have the member role and the baseline roles',
    });
  });

  it('fails without StackSets’ trusted access, naming setup', async () => {
    const reader = new FakeReader();
    reader.stackSets = 'DISABLED';
    expect(await check(reader)).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/^npx backupctl setup/),
    });
  });

  it('fails naming the accounts whose instance failed, and warns of pending ones', async () => {
    const reader = new FakeReader();
    reader.instances = [
      ...reader.instances,
      {
        account: '333344445555',
        region: 'us-east-1',
        status: 'OUTDATED',
        detailedStatus: 'FAILED',
        reason: 'Role backup-control-plane-member already exists',
      },
    ];
    expect(await check(reader)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /1 account\(s\) have no member role.*333344445555 \(Role backup-control-plane-member already exists\); 1 current/,
      ),
      fix: expect.stringMatching(
        /use onboarding\.memberRole\.deploy: bootstrap for an organization onboarded before/,
      ),
    });
    reader.instances[1] = {
      account: '333344445555',
      region: 'us-east-1',
      status: 'INOPERABLE',
      detailedStatus: 'FAILED',
      reason: 'Account is not in the organization',
    };
    expect(await check(reader)).toMatchObject({
      fix: expect.stringMatching(
        /^read why: .*update-stack-instances --stack-set-name bcp-prod-member-role/,
      ),
    });
    reader.instances[1] = {
      account: '333344445555',
      region: 'us-east-1',
      status: 'OUTDATED',
      detailedStatus: 'SKIPPED_SUSPENDED_ACCOUNT',
    };
    expect(await check(reader)).toMatchObject({ status: 'pass' });
    reader.instances[1] = {
      account: '333344445555',
      region: 'us-east-1',
      status: 'OUTDATED',
      detailedStatus: 'RUNNING',
    };
    expect(await check(reader)).toMatchObject({ status: 'warn' });
  });

  it('is not checked without the StackSet mode', async () => {
    const checks = await runDoctor(exampleConfigWithChannels(), new FakeReader(), targets());
    expect(checks.find((c) => c.id === 'member-role')).toBeUndefined();
  });
});

describe('deployment.mode delegated-admin', () => {
  const ADMIN = '999988887777';
  const BUS = `arn:aws:events:us-east-1:${ADMIN}:event-bus/backup-control-plane-prod-backup-events`;
  const delegatedConfig = () => {
    const config = exampleConfigWithChannels();
    config.deployment = {
      mode: 'delegated-admin',
      managementAccountId: MANAGEMENT,
      delegatedAdministratorAccountId: ADMIN,
    };
    config.onboarding!.memberRole = {
      name: 'backup-control-plane-member',
      deploy: 'stackset',
      organizationalUnitIds: ['r-ab12'],
    };
    config.managementAccount = { backupRegions: ['us-east-1'] };
    return config;
  };

  class DelegatedReader extends FakeReader {
    resourcePolicy: { Statement?: unknown } | undefined = {
      Statement: delegationStatements(
        'aws',
        { id: 'o-exampleorg1', managementAccountId: MANAGEMENT },
        ADMIN,
      ),
    };
    callsAs: string[] = [];
    constructor() {
      super();
      this.caller = ADMIN;
      this.delegatedAdmins = {
        'backup.amazonaws.com': [ADMIN],
        'member.org.stacksets.cloudformation.amazonaws.com': [ADMIN],
      };
      this.rule = { exists: true, state: 'ENABLED', pattern: {}, targets: [{ arn: BUS }] };
    }
    override async organizationResourcePolicy() {
      return this.resourcePolicy;
    }
    override async stackSetsAccess(callAs?: string) {
      this.callsAs.push(callAs ?? 'SELF');
      return this.stackSets;
    }
  }

  const run = async (reader: FakeReader, config = delegatedConfig()) => {
    const t = targets();
    t.memberRoleStackSet = 'backup-control-plane-prod-member-role';
    return new Map(
      (await runDoctor(config, reader, t)).map((c): [string, DoctorCheck] => [c.id, c]),
    );
  };

  it('from the delegated administrator: the mode, the delegation and the StackSet as DELEGATED_ADMIN; the forwarder needs the management account', async () => {
    const reader = new DelegatedReader();
    const checks = await run(reader);
    expect(checks.get('deployment-mode')).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining(`delegated administrator account ${ADMIN}`),
    });
    expect(checks.get('backup-policy-delegation')!.status).toBe('pass');
    expect(checks.get('management-forwarder')).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining("management account's credentials"),
    });
    expect(checks.has('management-account-regions')).toBe(false);
    expect(checks.get('member-role')!.status).toBe('pass');
    expect(reader.callsAs).toEqual(['DELEGATED_ADMIN']);
  });

  it('fails when the account is not registered as delegated administrator, with setup as the fix', async () => {
    const reader = new DelegatedReader();
    reader.delegatedAdmins = {};
    expect((await run(reader)).get('deployment-mode')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('not a delegated administrator for backup.amazonaws.com'),
      fix: expect.stringContaining('npx backupctl setup'),
    });
  });

  it('fails naming deployment.managementAccountId when it is not the organization’s', async () => {
    const config = delegatedConfig();
    config.deployment.managementAccountId = '123123123123';
    expect((await run(new DelegatedReader(), config)).get('deployment-mode')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`deployment.managementAccountId: '${MANAGEMENT}'`),
    });
  });

  it('fails from a third account, naming the two that can run it', async () => {
    const reader = new DelegatedReader();
    reader.caller = '555566667777';
    expect((await run(reader)).get('deployment-mode')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`account ${ADMIN} (the stack), or ${MANAGEMENT}`),
    });
  });

  it('fails when the account is not registered for StackSets either', async () => {
    const reader = new DelegatedReader();
    reader.delegatedAdmins = { 'backup.amazonaws.com': [ADMIN] };
    expect((await run(reader)).get('deployment-mode')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('member.org.stacksets.cloudformation.amazonaws.com'),
    });
  });

  it('reads the resource policy as IAM does: key order and one-item lists do not matter', async () => {
    const reader = new DelegatedReader();
    const statements = delegationStatements(
      'aws',
      { id: 'o-exampleorg1', managementAccountId: MANAGEMENT },
      ADMIN,
    ).map((s) =>
      Object.fromEntries(
        Object.entries(s)
          .reverse()
          .map(([k, v]) => [k, Array.isArray(v) ? [...v].reverse() : v]),
      ),
    );
    reader.resourcePolicy = { Statement: statements };
    expect((await run(reader)).get('backup-policy-delegation')!.status).toBe('pass');
  });

  it('fails when the resource policy does not delegate backup policies', async () => {
    const reader = new DelegatedReader();
    reader.resourcePolicy = undefined;
    expect((await run(reader)).get('backup-policy-delegation')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('BackupControlPlaneManagesBackupPolicies'),
      fix: expect.stringContaining('npx backupctl setup'),
    });
  });

  it('from the management account: checks each forwarder rule, and names the deploy command for a missing one', async () => {
    const reader = new DelegatedReader();
    reader.caller = MANAGEMENT;
    expect((await run(reader)).get('management-forwarder')!.status).toBe('pass');
    reader.rules.set('us-east-1/backup-control-plane-forward-organizations-events', {
      exists: false,
      targets: [],
    });
    const check = (await run(reader)).get('management-forwarder')!;
    expect(check).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        'backup-control-plane-forward-organizations-events is missing in us-east-1',
      ),
    });
    expect(check.fix).toContain('--template-file infra/management-forwarder.yml');
    expect(check.fix).toContain(`CentralBusArn=${BUS}`);
  });

  it('lists the forwarder rules per region: Organizations in the stack region, Control Tower in its home region, backups where the management account backs up', () => {
    const config = delegatedConfig();
    config.controlTower.homeRegion = 'eu-west-1';
    config.managementAccount = { backupRegions: ['us-east-1', 'eu-central-1'] };
    const changes = 'backup-control-plane-forward-rule-changes';
    expect(forwarderRules(config, 'us-east-1')).toEqual([
      { region: 'eu-central-1', rules: ['backup-control-plane-forward-backup-events', changes] },
      {
        region: 'eu-west-1',
        rules: ['backup-control-plane-forward-control-tower-events', changes],
      },
      {
        region: 'us-east-1',
        rules: [
          'backup-control-plane-forward-organizations-events',
          'backup-control-plane-forward-role-changes',
          'backup-control-plane-forward-backup-events',
          changes,
        ],
      },
    ]);
    // Without Control Tower's home region named, no Control Tower rule is expected.
    config.controlTower = {};
    expect(JSON.stringify(forwarderRules(config, 'us-east-1'))).not.toContain('control-tower');
  });
});
