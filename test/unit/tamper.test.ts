import { readIdentity, readApiCall } from '../../functions/notify-backup-event/cloudtrail';
import { decide, decideContext } from '../../functions/notify-backup-event/decide';
import { readEnvelope } from '../../functions/notify-backup-event/envelope';
import { notifyBackupEvent } from '../../functions/notify-backup-event/notify';
import { WATCHED_CALLS } from '../../functions/notify-backup-event/tamper';
import { forwardedPattern, loadBaseline } from '../../functions/onboard-account/baseline';
import { renderEmail } from '../../functions/shared/notices/render-email';
import { FakeClock, FakeDirectory } from '../helpers/fakes';
import { exampleConfig, sample } from '../helpers/fixtures';
import { pipelineWorld, RecordingQueue } from '../helpers/onboarding-fakes';

/** Tamper alerts from CloudTrail calls (AWS API Call via CloudTrail). */

const config = exampleConfig();
const CENTRAL_BUS =
  'arn:aws:events:us-east-1:123456789012:event-bus/backup-control-plane-dev-backup-events';
const deployed = decideContext(config, {
  stackPrefix: 'backup-control-plane-dev-',
  centralBusArn: CENTRAL_BUS,
  canRepair: true,
});
const decideCall = (event: Record<string, unknown>, ctx = deployed) => decide(event, config, ctx);
const decideSample = (name: string) => decideCall(sample(`cloudtrail/${name}`));
const detailOf = (e: Record<string, unknown>) => e.detail as Record<string, unknown>;

describe('tamper alerts', () => {
  it.each([
    ['disable-rule.forwarding-rule', 'Forwarding rule disabled', '444455556666'],
    ['put-targets.forwarding-rule-retargeted', 'Forwarding rule retargeted', '444455556666'],
    ['delete-backup-vault-lock-configuration', 'Vault Lock removed', undefined],
    ['delete-recovery-point.baseline-vault', 'Recovery point deleted', undefined],
    ['delete-role.baseline-role', 'Baseline role deleted', '777788889999'],
    [
      'detach-role-policy.backup-service-role',
      'Policy detached from a baseline role',
      '777788889999',
    ],
    [
      'disable-policy-type.backup-policy',
      'Backup policies disabled for the organization',
      undefined,
    ],
    ['update-global-settings', 'AWS Backup global settings changed', undefined],
  ])('%s is an error alert: %s', (name, what, repairAccount) => {
    const d = decideSample(name);
    expect(d).toMatchObject({
      flow: 'notify',
      notice: { kind: 'tamper', severity: 'error', what },
    });
    if (d.flow !== 'notify') return;
    expect(d.repair?.accountId).toBe(repairAccount);
    // Who, what, where and when.
    const labels = d.notice.facts.map((f) => f.label);
    expect(labels).toEqual(expect.arrayContaining(['Who', 'Action', 'When']));
    expect(d.notice.account?.id).toMatch(/^\d{12}$/);
  });

  it('a recovery point deleted in the central vault (the organization’s copies) is an alert', () => {
    const central = exampleConfig();
    // The sample's call is in account 777788889999: the central account here.
    central.centralBackup = { accountId: '777788889999', vaultName: 'org-central-vault' };
    const event = sample('cloudtrail/delete-recovery-point.baseline-vault');
    const detail = detailOf(event);
    (detail.requestParameters as Record<string, unknown>).backupVaultName = 'org-central-vault';
    expect(decide(event, central, decideContext(central))).toMatchObject({
      flow: 'notify',
      notice: { kind: 'tamper', severity: 'error', what: 'Recovery point deleted' },
    });
    // A vault of that name in any other account is not the control plane's.
    central.centralBackup.accountId = '444455556666';
    expect(decide(event, central, decideContext(central))).toMatchObject({ flow: 'ignore' });
    // Nor where the central vault has another name.
    expect(decideCall(event)).toMatchObject({ flow: 'ignore' });
  });

  it.each([
    ['disable-rule.by-onboarding', /^made by onboarding \(role OrganizationAccountAccessRole/],
    ['disable-rule.other-rule', /is not the control plane's$/],
    ['delete-rule.access-denied', /^the call failed \(AccessDeniedException\): nothing changed$/],
    ['delete-role.other-role', /is not a baseline role$/],
  ])('%s is not an alert', (name, reason) => {
    const d = decideSample(name);
    expect(d.flow).toBe('ignore');
    if (d.flow === 'ignore') expect(d.reason).toMatch(reason);
  });

  it('reaches the control plane when either forwarding rule is disabled: each forwards the calls on the other', () => {
    const baseline = loadBaseline();
    const matches = (pattern: unknown, rule: string) =>
      (
        pattern as {
          $or: { source: string[]; detail?: { requestParameters?: { name?: unknown[] } } }[];
        }
      ).$or.some(
        (b) =>
          b.source.includes('aws.events') &&
          (b.detail?.requestParameters?.name ?? []).some((n) =>
            typeof n === 'string'
              ? n === rule
              : rule.startsWith(String((n as { prefix?: string }).prefix)),
          ),
      );
    const main = baseline.forwarding;
    expect(matches(main.watchdog.pattern, main.ruleName)).toBe(true);
    expect(matches(main.pattern, main.watchdog.ruleName)).toBe(true);
    const d = decideCall(
      (() => {
        const e = sample('cloudtrail/disable-rule.forwarding-rule');
        detailOf(e).requestParameters = { name: main.watchdog.ruleName };
        return e;
      })(),
    );
    expect(d).toMatchObject({ flow: 'notify', repair: { accountId: '444455556666' } });
  });

  it("ignores the control plane's own stack roles, but not the access role under another session", () => {
    const own = sample('cloudtrail/disable-rule.forwarding-rule');
    const identity = detailOf(own).userIdentity as Record<string, unknown>;
    identity.arn =
      'arn:aws:sts::444455556666:assumed-role/backup-control-plane-dev-onboard-account/fn';
    (
      (identity.sessionContext as Record<string, unknown>).sessionIssuer as Record<string, unknown>
    ).userName = 'backup-control-plane-dev-onboard-account';
    expect(decideCall(own)).toMatchObject({ flow: 'ignore' });

    const human = sample('cloudtrail/disable-rule.by-onboarding');
    const hid = detailOf(human).userIdentity as Record<string, string>;
    hid.arn = 'arn:aws:sts::444455556666:assumed-role/OrganizationAccountAccessRole/alice';
    expect(decideCall(human)).toMatchObject({ flow: 'notify' });
  });

  it('ignores AWS services acting for themselves', () => {
    const event = sample('cloudtrail/delete-recovery-point.baseline-vault');
    detailOf(event).userIdentity = { type: 'AWSService', invokedBy: 'backup.amazonaws.com' };
    expect(decideCall(event)).toMatchObject({
      flow: 'ignore',
      reason: 'made by AWS service backup.amazonaws.com: not an alert',
    });
  });

  it('the forwarding rule kept as the baseline declares it is not an alert', () => {
    const baseline = loadBaseline();
    const putRule = sample('cloudtrail/disable-rule.forwarding-rule');
    Object.assign(detailOf(putRule), {
      eventName: 'PutRule',
      requestParameters: {
        name: baseline.forwarding.ruleName,
        eventPattern: JSON.stringify(baseline.forwarding.pattern),
        state: 'ENABLED',
      },
    });
    expect(decideCall(putRule)).toMatchObject({ flow: 'ignore' });

    detailOf(putRule).requestParameters = {
      name: baseline.forwarding.ruleName,
      eventPattern: JSON.stringify({ source: ['aws.backup'], 'detail-type': ['Nothing'] }),
    };
    expect(decideCall(putRule)).toMatchObject({
      flow: 'notify',
      notice: { what: 'Forwarding rule pattern changed' },
    });

    detailOf(putRule).requestParameters = { name: baseline.forwarding.ruleName, state: 'DISABLED' };
    expect(decideCall(putRule)).toMatchObject({ notice: { what: 'Forwarding rule disabled' } });

    const putTargets = sample('cloudtrail/put-targets.forwarding-rule-retargeted');
    detailOf(putTargets).requestParameters = {
      rule: baseline.forwarding.ruleName,
      targets: [{ id: 'central-backup-bus', arn: CENTRAL_BUS }],
    };
    expect(decideCall(putTargets)).toMatchObject({ flow: 'ignore' });
  });

  it('keeps a rule enabled for all CloudTrail management events enabled (no alert)', () => {
    const baseline = loadBaseline();
    const putRule = sample('cloudtrail/disable-rule.forwarding-rule');
    Object.assign(detailOf(putRule), {
      eventName: 'PutRule',
      requestParameters: {
        name: baseline.forwarding.ruleName,
        eventPattern: JSON.stringify(baseline.forwarding.pattern),
        state: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
      },
    });
    expect(decideCall(putRule)).toMatchObject({ flow: 'ignore' });
  });

  it('ignores a rule of the same name on another event bus: it is not the control plane’s', () => {
    const baseline = loadBaseline();
    for (const bus of ['team-bus', 'arn:aws:events:eu-west-1:444455556666:event-bus/team-bus']) {
      const event = sample('cloudtrail/disable-rule.forwarding-rule');
      detailOf(event).requestParameters = { name: baseline.forwarding.ruleName, eventBusName: bus };
      expect(decideCall(event)).toMatchObject({
        flow: 'ignore',
        reason: expect.stringContaining('team-bus'),
      });
    }
    for (const bus of ['default', 'arn:aws:events:eu-west-1:444455556666:event-bus/default']) {
      const event = sample('cloudtrail/disable-rule.forwarding-rule');
      detailOf(event).requestParameters = { name: baseline.forwarding.ruleName, eventBusName: bus };
      expect(decideCall(event)).toMatchObject({ flow: 'notify' });
    }
  });

  it("alerts on the stack's own rules in the deployment account, without a repair", () => {
    const event = sample('cloudtrail/disable-rule.forwarding-rule');
    detailOf(event).requestParameters = {
      name: 'backup-control-plane-dev-BackupJobsFromMembersRule-1X2Y3Z',
      eventBusName: 'backup-control-plane-dev-backup-events',
    };
    const d = decideCall(event);
    expect(d).toMatchObject({ flow: 'notify' });
    if (d.flow === 'notify') {
      expect(d.repair).toBeUndefined();
      expect(d.notice.nextSteps.join(' ')).toMatch(/redeploy the stack/);
    }
  });

  it('asks for no repair when onboarding cannot run', () => {
    const d = decideCall(sample('cloudtrail/disable-rule.forwarding-rule'), decideContext(config));
    expect(d).toMatchObject({ flow: 'notify' });
    if (d.flow === 'notify') {
      expect(d.repair).toBeUndefined();
      expect(d.notice.nextSteps[0]).not.toMatch(/asked onboarding/);
    }
  });

  it('routes a policy detached from an account to that account, said where it was made', () => {
    const d = decideSample('detach-policy.from-account');
    expect(d).toMatchObject({
      flow: 'notify',
      policyCheck: { policyId: 'p-bkp0daily1' },
      repair: { accountId: '444455556666' },
      notice: { account: { id: '444455556666' } },
    });
    if (d.flow === 'notify') {
      expect(renderEmail(d.notice).subject).toBe(
        '[TAMPERING] Backup policy detached: p-bkp0daily1 in account 444455556666 (changed from account 111122223333)',
      );
    }
  });

  it('parses defensively: missing or strangely shaped fields never throw and never alert about nothing', () => {
    const shapes: ((d: Record<string, unknown>) => void)[] = [
      (d) => delete d.eventName,
      (d) => (d.eventName = 'Disable Rule; DROP'),
      (d) => (d.requestParameters = 'None'),
      (d) => (d.requestParameters = null),
      (d) => (d.requestParameters = { name: 42 }),
      (d) => (d.userIdentity = ['x']),
      (d) => delete d.recipientAccountId,
      (d) => (d.eventSource = 7),
    ];
    for (const change of shapes) {
      const event = sample('cloudtrail/disable-rule.forwarding-rule');
      change(detailOf(event));
      const d = decideCall(event);
      if (d.flow === 'notify') {
        // Still attributable (the envelope's account, the rule's name): a real alert.
        expect(d.notice.item).toBe('backup-control-plane-forward-backup-events');
        expect(d.notice.account?.id).toBe('444455556666');
      }
    }
    const noDetail = sample('cloudtrail/disable-rule.forwarding-rule');
    delete noDetail.detail;
    expect(decideCall(noDetail)).toMatchObject({
      flow: 'ignore',
      reason: 'CloudTrail event cannot be attributed: no detail object',
    });
    const noAccount = sample('cloudtrail/disable-rule.forwarding-rule');
    delete noAccount.account;
    delete detailOf(noAccount).recipientAccountId;
    expect(decideCall(noAccount)).toMatchObject({
      flow: 'ignore',
      reason: 'the call names no account: it cannot be attributed',
    });
    const targetsNotList = sample('cloudtrail/put-targets.forwarding-rule-retargeted');
    detailOf(targetsNotList).requestParameters = {
      rule: 'backup-control-plane-forward-backup-events',
      targets: 'x',
    };
    expect(decideCall(targetsNotList)).toMatchObject({ flow: 'notify' });
  });

  it('watches the calls the forwarding pattern lets through, and no other', () => {
    const pattern = forwardedPattern(loadBaseline()) as {
      $or: { source: string[]; 'detail-type': string[]; detail?: { eventName: string[] } }[];
    };
    const forwarded: Record<string, string[]> = {};
    for (const branch of pattern.$or) {
      if (!branch.detail) continue;
      const service = branch.source[0]!.replace(/^aws\./, '');
      forwarded[service] = [
        ...new Set([...(forwarded[service] ?? []), ...branch.detail.eventName]),
      ].sort();
    }
    const watched = Object.fromEntries(
      Object.entries(WATCHED_CALLS).map(([s, names]) => [s, [...names].sort()]),
    );
    expect(forwarded).toEqual(watched);
  });
});

describe('readIdentity', () => {
  it.each([
    [{ type: 'Root', accountId: '111122223333' }, 'the root user of account 111122223333'],
    [
      { type: 'IAMUser', userName: 'deploy-bot', accountId: '111122223333' },
      'IAM user deploy-bot of account 111122223333',
    ],
    [
      {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
        accountId: '111122223333',
      },
      'role Admin, session alice of account 111122223333',
    ],
    [
      {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/bob',
      },
      'bob (IAM Identity Center, permission set ReadOnly)',
    ],
    [
      {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::1:assumed-role/Deployer/ci',
        invokedBy: 'cloudformation.amazonaws.com',
      },
      'role Deployer, session ci, through cloudformation.amazonaws.com',
    ],
    [{ type: 'AWSService', invokedBy: 'backup.amazonaws.com' }, 'AWS service backup.amazonaws.com'],
    [
      { type: 'FederatedUser', arn: 'arn:aws:sts::111122223333:federated-user/carol' },
      'federated user arn:aws:sts::111122223333:federated-user/carol',
    ],
    [{ type: 'AWSAccount', accountId: '210987654321' }, 'account 210987654321'],
    [
      { type: 'IdentityCenterUser', onBehalfOf: { userId: 'u-123' } },
      'IAM Identity Center user u-123',
    ],
    [{ type: 'SomethingNew', principalId: 'AIDAX' }, 'SomethingNew AIDAX'],
    [undefined, 'an unknown identity (the event has no userIdentity)'],
    ['a string', 'an unknown identity (the event has no userIdentity)'],
  ])('%j reads as "%s"', (raw, who) => {
    expect(readIdentity(raw).who).toBe(who);
  });

  it('prefers the session issuer for the role name', () => {
    const event = sample('cloudtrail/disable-rule.forwarding-rule');
    const call = readApiCall(readEnvelope(event));
    if ('unreadable' in call) throw new Error(call.unreadable);
    expect(call.identity).toMatchObject({
      roleName: 'AWSReservedSSO_AdministratorAccess_3f9c2b1a7d6e5f40',
      sessionName: 'alice@example.com',
    });
  });
});

describe('the notification flow with tamper alerts', () => {
  function world() {
    const clock = new FakeClock(new Date('2026-11-28T09:20:00Z'));
    const directory = new FakeDirectory({
      '444455556666': { name: 'Production', email: 'aws-prod@example.com' },
      '777788889999': { name: 'Analytics', email: 'aws-analytics@example.com' },
      '111122223333': { name: 'Management', email: 'aws-mgmt@example.com' },
    });
    const w = pipelineWorld(config, clock, directory);
    const repairs = new RecordingQueue();
    const names = new Map([['p-bkp0daily1', 'daily-35-days']]);
    const policies = { policyName: jest.fn(async (id: string) => names.get(id)) };
    const deps = { ...w.pipeline, decideContext: deployed, repairs, policies };
    return { ...w, repairs, policies, names, deps };
  }

  it('sends the alert, then asks onboarding to repair the account with who did it', async () => {
    const w = world();
    const result = await notifyBackupEvent(
      sample('cloudtrail/disable-rule.forwarding-rule'),
      w.deps,
    );
    expect(result.repairRequested).toBe('444455556666');
    expect(w.email.sent).toHaveLength(1);
    expect(w.repairs.batches).toEqual([
      [
        {
          kind: 'onboard-request',
          accountId: '444455556666',
          trigger: 'Drift',
          requestedAt: '2026-11-28T09:20:00.000Z',
          drift: [
            {
              what: 'forwarding rule backup-control-plane-forward-backup-events: forwarding rule disabled',
              resource: 'backup-control-plane-forward-backup-events',
              region: 'eu-west-1',
              who: {
                identity:
                  'alice@example.com (IAM Identity Center, permission set AdministratorAccess) of account 444455556666',
                action: 'DisableRule',
                time: '2026-11-28T09:14:22Z',
              },
            },
          ],
        },
      ],
    ]);
  });

  it('tells one deletion once across midnight, and a deletion half an hour later again', async () => {
    const w = world();
    const at = (name: string, time: string, eventId: string) => {
      const e = sample(name);
      e.time = time;
      e.id = eventId;
      const d = detailOf(e);
      if (d.eventTime) d.eventTime = time;
      if (d.eventID) d.eventID = `${eventId}-call`;
      return e;
    };
    // The CloudTrail call before midnight, AWS Backup's vault event after it: one deletion.
    await notifyBackupEvent(
      at('cloudtrail/delete-backup-vault.baseline-vault', '2026-11-27T23:58:30Z', 'e-1'),
      w.deps,
    );
    const once = await notifyBackupEvent(
      at('backup/backup-vault-state-change.deleted-baseline', '2026-11-28T00:02:11Z', 'e-2'),
      w.deps,
    );
    expect(once.sent?.deliveries.every((d) => d.status === 'duplicate')).toBe(true);
    const told = w.email.sent.length;
    expect(told).toBeGreaterThan(0);
    // Repaired, then deleted again 40 minutes later: told again.
    await notifyBackupEvent(
      at('cloudtrail/delete-backup-vault.baseline-vault', '2026-11-28T00:40:00Z', 'e-3'),
      w.deps,
    );
    expect(w.email.sent.length).toBe(told * 2);
  });

  it('a retry sends nothing again and asks again (onboarding is idempotent)', async () => {
    const w = world();
    w.repairs.enqueue = jest.fn().mockRejectedValueOnce(new Error('SQS throttled'));
    await expect(
      notifyBackupEvent(sample('cloudtrail/disable-rule.forwarding-rule'), w.deps),
    ).rejects.toThrow('SQS throttled');
    await notifyBackupEvent(sample('cloudtrail/disable-rule.forwarding-rule'), w.deps);
    expect(w.email.sent).toHaveLength(1);
    expect(w.repairs.enqueue).toHaveBeenCalledTimes(2);
  });

  it("names the policy of a DetachPolicy call, and ignores policies that are not the profiles'", async () => {
    const w = world();
    const ours = await notifyBackupEvent(sample('cloudtrail/detach-policy.from-account'), w.deps);
    expect(ours.decision.flow).toBe('notify');
    expect(w.email.sent[0]?.subject).toBe(
      '[TAMPERING] Backup policy detached: daily-35-days (p-bkp0daily1) in account 444455556666 (changed from account 111122223333)',
    );
    expect(w.policies.policyName).toHaveBeenCalledWith('p-bkp0daily1');

    w.names.set('p-bkp0daily1', 'someone-elses-policy');
    const theirs = sample('cloudtrail/detach-policy.from-account');
    detailOf(theirs).eventID = 'another-call';
    const other = await notifyBackupEvent(theirs, w.deps);
    expect(other.decision).toMatchObject({
      flow: 'ignore',
      reason:
        "policy someone-elses-policy (p-bkp0daily1) is not one of the control plane's backup policies",
    });
    expect(w.email.sent).toHaveLength(1);
  });

  it('ignores a policy call it cannot attribute (the policy is gone, or no Organizations access)', async () => {
    const w = world();
    w.names.clear();
    const gone = await notifyBackupEvent(sample('cloudtrail/detach-policy.from-account'), w.deps);
    expect(gone.decision).toMatchObject({ flow: 'ignore', reason: /no longer exists/ });
    const noOrg = { ...w.deps, policies: undefined };
    const blind = await notifyBackupEvent(sample('cloudtrail/detach-policy.from-account'), noOrg);
    expect(blind.decision).toMatchObject({ flow: 'ignore', reason: /cannot be named/ });
    expect(w.email.sent).toHaveLength(0);
  });

  it('without the onboarding queue, alerts and logs that no repair was asked for', async () => {
    const w = world();
    const deps = { ...w.deps, repairs: undefined };
    const result = await notifyBackupEvent(sample('cloudtrail/delete-role.baseline-role'), deps);
    expect(result.repairRequested).toBeUndefined();
    expect(w.email.sent).toHaveLength(1);
    expect(w.log.entries.map((e) => e.message)).toContain(
      'repair not requested: the onboarding queue is not configured',
    );
  });
});

describe('the management forwarder (deployment.mode delegated-admin)', () => {
  const MANAGEMENT = '111122223333';
  const delegated = exampleConfig();
  delegated.deployment = {
    mode: 'delegated-admin',
    managementAccountId: MANAGEMENT,
    delegatedAdministratorAccountId: '123456789012',
  };
  const ctx = decideContext(delegated, {
    stackPrefix: 'backup-control-plane-dev-',
    canRepair: true,
  });
  const inManagement = (name: string, request: Record<string, unknown>, eventName?: string) => {
    const event = sample(`cloudtrail/${name}`);
    event.account = MANAGEMENT;
    const detail = detailOf(event);
    detail.recipientAccountId = MANAGEMENT;
    detail.requestParameters = request;
    if (eventName) detail.eventName = eventName;
    const identity = detail.userIdentity as Record<string, unknown>;
    identity.accountId = MANAGEMENT;
    return event;
  };

  it('alerts when one of its rules is disabled in the management account, with the redeploy as the fix', () => {
    const d = decide(
      inManagement('disable-rule.forwarding-rule', {
        name: 'backup-control-plane-forward-organizations-events',
      }),
      delegated,
      ctx,
    );
    expect(d).toMatchObject({ flow: 'notify', notice: { kind: 'tamper', severity: 'error' } });
    if (d.flow !== 'notify') return;
    expect(JSON.stringify(d.notice)).toContain('management forwarder');
    expect(JSON.stringify(d.notice)).toContain('infra/management-forwarder.yml');
    // Nothing for onboarding to repair: the management account is not onboarded.
    expect(d.repair).toBeUndefined();
  });

  it('alerts when one of its rules is disabled through PutRule, or retargeted', () => {
    const disabled = decide(
      inManagement(
        'disable-rule.forwarding-rule',
        {
          name: 'backup-control-plane-forward-control-tower-events',
          state: 'DISABLED',
        },
        'PutRule',
      ),
      delegated,
      ctx,
    );
    expect(disabled).toMatchObject({ flow: 'notify', notice: { kind: 'tamper' } });
    const retargeted = decide(
      inManagement(
        'disable-rule.forwarding-rule',
        {
          rule: 'backup-control-plane-forward-backup-events',
          targets: [{ id: 'x', arn: 'arn:aws:events:us-east-1:999999999999:event-bus/elsewhere' }],
        },
        'PutTargets',
      ),
      delegated,
      ctx,
    );
    expect(retargeted).toMatchObject({ flow: 'notify', notice: { kind: 'tamper' } });
    if (retargeted.flow === 'notify')
      expect(JSON.stringify(retargeted.notice)).toContain('management forwarder');
  });

  it('alerts when its role loses its policy', () => {
    const d = decide(
      inManagement(
        'delete-role.baseline-role',
        {
          roleName: 'backup-control-plane-management-forwarder-us-east-1',
          policyName: 'put-events-on-central-bus',
        },
        'DeleteRolePolicy',
      ),
      delegated,
      ctx,
    );
    expect(d).toMatchObject({ flow: 'notify', notice: { kind: 'tamper', severity: 'error' } });
  });

  it('is no concern in the management mode', () => {
    const d = decide(
      inManagement('disable-rule.forwarding-rule', {
        name: 'backup-control-plane-forward-organizations-events',
      }),
      config,
      deployed,
    );
    expect(d.flow).not.toBe('notify');
  });
});
