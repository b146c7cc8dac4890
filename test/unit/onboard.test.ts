import { loadBaseline } from '../../functions/onboard-account/baseline';
import {
  AccountBusyError,
  globalEventsRegion,
  onboardAccount,
  ouPathOf,
  type OnboardRequest,
  type OnboardResult,
} from '../../functions/onboard-account/onboard';
import type { AccountRecord, PolicyDocument } from '../../functions/shared/ports';
import {
  awsError,
  CENTRAL_BUS_ARN,
  CONTROL_PLANE_ROLE_ARN,
  WATCH_ROLE_ARN,
  MANAGEMENT_ID,
  MEMBER_ID,
  ORG_ID,
  POLICY_IDS,
  PRODUCTION_OU,
  ROOT_ID,
  WORKLOADS_OU,
  onboardingWorld,
  type OnboardingWorld,
  type Write,
} from '../helpers/onboarding-fakes';

const BASELINE_VERSION = loadBaseline().version;
const NOW = '2025-03-13T03:05:00.000Z';
const SERVICE = 'backup-control-plane-backup-service';
const READ_ONLY = 'backup-control-plane-read-only';
const FORWARDER = 'backup-control-plane-event-forwarder';
const FORWARDER_ARN = `arn:aws:iam::${MEMBER_ID}:role/${FORWARDER}`;
const FOR_BACKUP = 'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup';
const FOR_RESTORES = 'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores';
const ALIAS = 'alias/backup-control-plane';
const VAULT = 'org-backup-vault';
const RULE = 'backup-control-plane-forward-backup-events';
/** The second forwarding rule: CloudTrail calls for tamper alerts (each rule watches the other). */
const WATCHDOG = 'backup-control-plane-forward-api-calls';
const KEY_ID = 'key-us-east-1-1';
const KEY_ARN = `arn:aws:kms:us-east-1:${MEMBER_ID}:key/${KEY_ID}`;
const STATUS_TAG = 'backup-control-plane:status';
const VERSION_TAG = 'backup-control-plane:baseline-version';
const UPDATED_TAG = 'backup-control-plane:updated-at';
const OPT_OUT_TAG = 'backup-control-plane:opt-out';
const PROFILE_TAG = 'backup-control-plane:profile';
const TARGET = { id: 'central-backup-bus', arn: CENTRAL_BUS_ARN, roleArn: FORWARDER_ARN };

/** Everything a new account under Workloads (default profile, us-east-1) gets. */
const NEW_ACCOUNT_WRITES: Write[] = [
  ['iam.createRole', SERVICE],
  ['iam.attachPolicy', SERVICE, FOR_BACKUP],
  ['iam.attachPolicy', SERVICE, FOR_RESTORES],
  ['iam.createRole', READ_ONLY],
  ['iam.putInlinePolicy', READ_ONLY, 'read-for-daily-check'],
  ['iam.createRole', FORWARDER],
  ['iam.putInlinePolicy', FORWARDER, 'put-events-on-central-bus'],
  ['kms.createKey', 'us-east-1', KEY_ID],
  ['kms.createAlias', 'us-east-1', ALIAS, KEY_ID],
  ['kms.enableRotation', 'us-east-1', KEY_ID],
  ['backup.createVault', 'us-east-1', VAULT, KEY_ARN],
  ['events.putRule', 'us-east-1', RULE],
  ['events.putTarget', 'us-east-1', RULE, TARGET],
  ['events.putRule', 'us-east-1', WATCHDOG],
  ['events.putTarget', 'us-east-1', WATCHDOG, TARGET],
];

const NEW_ACCOUNT_CHANGES = [
  `baseline-iam: create role ${SERVICE}`,
  `baseline-iam: attach AWSBackupServiceRolePolicyForBackup to role ${SERVICE}`,
  `baseline-iam: attach AWSBackupServiceRolePolicyForRestores to role ${SERVICE}`,
  `baseline-iam: create role ${READ_ONLY}`,
  `baseline-iam: put policy read-for-daily-check on role ${READ_ONLY}`,
  `baseline-iam: create role ${FORWARDER}`,
  `baseline-iam: put policy put-events-on-central-bus on role ${FORWARDER}`,
  `baseline-us-east-1: create KMS key ${ALIAS} in us-east-1`,
  `baseline-us-east-1: create backup vault ${VAULT} in us-east-1`,
  `baseline-us-east-1: create rule ${RULE} in us-east-1`,
  `baseline-us-east-1: point rule ${RULE} in us-east-1 at the central bus`,
  `baseline-us-east-1: create rule ${WATCHDOG} in us-east-1`,
  `baseline-us-east-1: point rule ${WATCHDOG} in us-east-1 at the central bus`,
  'backup-policies: enable the BACKUP_POLICY policy type on the root',
  'backup-policies: attach backup policy daily-35-days',
  `tags: tag the account ${STATUS_TAG}=ready, ${VERSION_TAG}=${BASELINE_VERSION}`,
];

const STEPS = [
  'resolve',
  'profile',
  'access',
  'baseline-iam',
  'baseline-us-east-1',
  'backup-policies',
  'verify',
  'tags',
];

function run(w: OnboardingWorld, req: Partial<OnboardRequest> = {}): Promise<OnboardResult> {
  return onboardAccount({ accountId: MEMBER_ID, trigger: 'Manual', ...req }, w.deps);
}

/** A world whose member account was onboarded once; the logs start empty. */
async function onboarded(...args: Parameters<typeof onboardingWorld>): Promise<OnboardingWorld> {
  const w = onboardingWorld(...args);
  const first = await run(w);
  expect(first.outcome).toBe('ready');
  w.clearLogs();
  return w;
}

function recordOf(result: OnboardResult): AccountRecord {
  if (!('record' in result)) throw new Error(`expected a record, got ${result.outcome}`);
  return result.record;
}

const stepOutcomes = (record: AccountRecord) =>
  Object.fromEntries(Object.entries(record.steps).map(([name, s]) => [name, s.outcome]));

describe('ouPathOf', () => {
  it('joins OU names from the root down and leaves the root out', () => {
    expect(
      ouPathOf([
        { id: PRODUCTION_OU, name: 'Production', type: 'ORGANIZATIONAL_UNIT' },
        { id: WORKLOADS_OU, name: 'Workloads', type: 'ORGANIZATIONAL_UNIT' },
        { id: ROOT_ID, name: 'Root', type: 'ROOT' },
      ]),
    ).toBe('Workloads/Production');
    expect(ouPathOf([{ id: ROOT_ID, name: 'Root', type: 'ROOT' }])).toBe('');
  });
});

describe('onboardAccount: a new account', () => {
  it('creates exactly the baseline, attaches the policy, tags the account', async () => {
    const w = onboardingWorld();
    const result = await run(w);

    expect(result.outcome).toBe('ready');
    expect(w.member().writes).toEqual(NEW_ACCOUNT_WRITES);
    expect(w.org.writes).toEqual([
      ['enableBackupPolicies', ROOT_ID],
      ['attachPolicy', POLICY_IDS['daily-35-days'], MEMBER_ID],
      [
        'tagAccount',
        MEMBER_ID,
        { [STATUS_TAG]: 'ready', [VERSION_TAG]: String(BASELINE_VERSION), [UPDATED_TAG]: NOW },
      ],
    ]);
    expect(result.outcome === 'ready' && result.changes).toEqual(NEW_ACCOUNT_CHANGES);
  });

  it('fills the documents for this account, region and organization', async () => {
    const w = onboardingWorld();
    await run(w);
    const m = w.member();

    expect(m.role(SERVICE).trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'backup.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    });
    expect(m.role(SERVICE).attached).toEqual([FOR_BACKUP, FOR_RESTORES]);
    expect(m.role(READ_ONLY).trustPolicy.Statement).toEqual([
      expect.objectContaining({
        Principal: { AWS: [CONTROL_PLANE_ROLE_ARN, WATCH_ROLE_ARN] },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
      }),
    ]);
    expect(m.role(FORWARDER).trustPolicy.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' } }),
    ]);
    expect(m.role(FORWARDER).inline.get('put-events-on-central-bus')).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: CENTRAL_BUS_ARN }],
    });
    for (const name of [SERVICE, READ_ONLY, FORWARDER]) {
      expect(m.role(name).tags).toEqual({
        'managed-by': 'backup-control-plane',
        'backup-control-plane:baseline-version': String(BASELINE_VERSION),
      });
    }

    const key = m.keyFor('us-east-1', ALIAS);
    expect(key.rotation).toBe(true);
    expect(key.policy.Statement).toEqual([
      expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${MEMBER_ID}:root` } }),
      expect.objectContaining({
        Condition: {
          StringEquals: {
            'kms:CallerAccount': MEMBER_ID,
            'kms:ViaService': 'backup.us-east-1.amazonaws.com',
          },
        },
      }),
      // Grants only for AWS resources (AWS Backup's own use of the key), never for a person.
      expect.objectContaining({
        Action: 'kms:CreateGrant',
        Condition: {
          StringEquals: {
            'kms:CallerAccount': MEMBER_ID,
            'kms:ViaService': 'backup.us-east-1.amazonaws.com',
          },
          Bool: { 'kms:GrantIsForAWSResource': 'true' },
        },
      }),
    ]);
    expect(m.role(FORWARDER).trustPolicy.Statement).toEqual([
      expect.objectContaining({
        Condition: {
          StringEquals: { 'aws:SourceAccount': MEMBER_ID },
          ArnLike: {
            'aws:SourceArn': `arn:aws:events:*:${MEMBER_ID}:rule/backup-control-plane-forward-*`,
          },
        },
      }),
    ]);
    expect(m.vault('us-east-1', VAULT)?.encryptionKeyArn).toBe(key.keyArn);
    const rule = m.rule('us-east-1', RULE);
    expect(rule).toMatchObject({ state: 'ENABLED', targets: [TARGET] });
    // Job state changes and the newer AWS Backup events, and CloudTrail calls for tamper alerts.
    const branches = (rule?.pattern as { $or: Record<string, unknown>[] }).$or;
    expect(branches[0]).toEqual({
      source: ['aws.backup'],
      'detail-type': expect.arrayContaining([
        'Backup Job State Change',
        'Copy Job State Change',
        'Restore Job State Change',
        'Scan Job State Change',
      ]),
    });
    expect(branches.slice(1).map((b) => b['detail-type'])).toEqual(
      branches.slice(1).map(() => ['AWS API Call via CloudTrail']),
    );
    // No placeholder is left anywhere.
    const everything = JSON.stringify({
      roles: [...m.roles.values()].map((r) => ({ ...r, inline: [...r.inline.values()] })),
      keys: [...m.keys.values()],
    });
    expect(everything).not.toContain('{{');
  });

  it('records the account ready and sends one ready notice', async () => {
    const w = onboardingWorld();
    const result = await run(w, { trigger: 'CreateAccountResult' });

    const stored = w.ledger.records.get(MEMBER_ID)!;
    expect(stored).toEqual(recordOf(result));
    expect(stored).toMatchObject({
      accountId: MEMBER_ID,
      status: 'ready',
      profile: 'default',
      baselineVersion: BASELINE_VERSION,
      attempts: 1,
      lastTrigger: 'CreateAccountResult',
      attachedPolicies: ['daily-35-days'],
      notified: { status: 'ready', baselineVersion: BASELINE_VERSION },
    });
    expect(stored.lastError).toBeUndefined();
    expect(stepOutcomes(stored)).toEqual({
      resolve: 'unchanged',
      profile: 'unchanged',
      access: 'unchanged',
      'baseline-iam': 'changed',
      'baseline-us-east-1': 'changed',
      'backup-policies': 'changed',
      verify: 'unchanged',
      tags: 'changed',
    });
    expect(stored.steps['baseline-us-east-1']!.changes).toEqual([
      `create KMS key ${ALIAS} in us-east-1`,
      `create backup vault ${VAULT} in us-east-1`,
      `create rule ${RULE} in us-east-1`,
      `point rule ${RULE} in us-east-1 at the central bus`,
      `create rule ${WATCHDOG} in us-east-1`,
      `point rule ${WATCHDOG} in us-east-1 at the central bus`,
    ]);

    expect(w.notifier.failedNotices).toEqual([]);
    expect(w.notifier.readyNotices).toHaveLength(1);
    expect(w.notifier.readyNotices[0]).toMatchObject({
      account: { id: MEMBER_ID, name: 'Payments', email: 'aws-payments@example.com' },
      profile: { name: 'default', regions: ['us-east-1'] },
      changes: NEW_ACCOUNT_CHANGES,
      record: { status: 'ready', baselineVersion: BASELINE_VERSION },
    });
  });

  it('names the step whose record could not be saved as the failed one, with its advice', async () => {
    const w = onboardingWorld();
    w.deps.afterStep = (step) => {
      if (step === 'access')
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    const result = await run(w);
    expect(result.outcome).toBe('failed');
    expect(recordOf(result).lastError).toMatchObject({ step: 'access', message: 'Rate exceeded' });
    expect(Object.keys(recordOf(result).steps)).not.toContain('onboarding');
    expect(w.notifier.failedNotices[0]).toMatchObject({
      step: 'access',
      advice: expect.stringMatching(/throttled/),
    });
  });

  it('saves each step before the next one starts', async () => {
    const w = onboardingWorld();
    const seen: string[][] = [];
    w.deps.afterStep = (step) => {
      seen.push([step, ...Object.keys(w.ledger.records.get(MEMBER_ID)?.steps ?? {})]);
    };
    await run(w);
    expect(seen.map((s) => s[0])).toEqual(STEPS);
    for (const [step, ...stored] of seen) expect(stored).toContain(step);
    expect(w.ledger.records.get(MEMBER_ID)?.status).toBe('ready');
  });

  it('forwards from us-east-1 too when the profile has no us-east-1: IAM calls arrive only there', async () => {
    const w = onboardingWorld((o) => {
      for (const p of o.profiles) p.regions = ['eu-west-1'];
    });
    const result = await run(w);
    expect(result.outcome).toBe('ready');
    expect(Object.keys(recordOf(result).steps)).toEqual([
      'resolve',
      'profile',
      'access',
      'baseline-iam',
      'baseline-eu-west-1',
      'forwarding-us-east-1',
      'backup-policies',
      'verify',
      'tags',
    ]);
    const m = w.member();
    // Only the rule (and its target, through the forwarder role: another region): no key, no vault.
    expect(m.rule('us-east-1', RULE)).toMatchObject({
      state: 'ENABLED',
      targets: [
        expect.objectContaining({
          arn: TARGET.arn,
          roleArn: expect.stringMatching(/event-forwarder$/),
        }),
      ],
    });
    expect(m.vault('us-east-1', VAULT)).toBeUndefined();
    // A second run changes nothing; a disabled rule there is drift, repaired.
    w.clearLogs();
    const again = await run(w);
    expect('changes' in again && again.changes).toEqual([]);
    // Enabled for all CloudTrail management events still forwards: not drift.
    m.rule('us-east-1', RULE)!.state = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
    const enabled = await run(w, { dryRun: true });
    expect(enabled.outcome === 'planned' && enabled.findings).toEqual([]);
    m.rule('us-east-1', RULE)!.state = 'DISABLED';
    const dry = await run(w, { dryRun: true });
    expect(dry.outcome === 'planned' && dry.findings.map((f) => f.what)).toEqual([
      `forwarding rule ${RULE} is DISABLED in us-east-1`,
    ]);
  });

  it('knows the home region of each partition', () => {
    expect(globalEventsRegion('arn:aws:events:eu-west-1:123456789012:event-bus/b')).toBe(
      'us-east-1',
    );
    expect(globalEventsRegion('arn:aws-us-gov:events:us-gov-east-1:123456789012:event-bus/b')).toBe(
      'us-gov-west-1',
    );
    expect(globalEventsRegion('arn:aws-cn:events:cn-northwest-1:123456789012:event-bus/b')).toBe(
      'cn-north-1',
    );
  });

  it('gives a Workloads/Production account the production profile in both its regions', async () => {
    const w = onboardingWorld();
    w.org.parentOf.set(MEMBER_ID, PRODUCTION_OU);
    const result = await run(w);

    expect(recordOf(result)).toMatchObject({
      status: 'ready',
      profile: 'production',
      attachedPolicies: ['production-critical'],
    });
    expect(Object.keys(recordOf(result).steps)).toEqual([
      'resolve',
      'profile',
      'access',
      'baseline-iam',
      'baseline-us-east-1',
      'baseline-eu-west-1',
      'backup-policies',
      'verify',
      'tags',
    ]);
    const m = w.member();
    for (const region of ['us-east-1', 'eu-west-1']) {
      const key = m.keyFor(region, ALIAS);
      expect(key.policy.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Condition: {
              StringEquals: {
                'kms:CallerAccount': MEMBER_ID,
                'kms:ViaService': `backup.${region}.amazonaws.com`,
              },
            },
          }),
        ]),
      );
      expect(m.vault(region, VAULT)?.encryptionKeyArn).toBe(key.keyArn);
      expect(m.rule(region, RULE).targets).toEqual([TARGET]);
    }
    // IAM is global: created once.
    expect(m.writes.filter((x) => x[0] === 'iam.createRole')).toHaveLength(3);
    expect(w.org.policyNamesOn(MEMBER_ID)).toEqual(['production-critical']);
  });

  it('lets the profile tag choose the profile', async () => {
    const w = onboardingWorld();
    w.org.tags.set(MEMBER_ID, { [PROFILE_TAG]: 'production' });
    const result = await run(w);
    expect(recordOf(result).profile).toBe('production');
    expect(w.member().vault('eu-west-1', VAULT)).toBeDefined();
  });

  it('uses the vault name of the profile', async () => {
    const w = onboardingWorld((o) => {
      o.profiles[1]!.baseline.vaultName = 'payments-vault';
    });
    await run(w);
    expect(w.member().vault('us-east-1', 'payments-vault')).toBeDefined();
    expect(w.member().vault('us-east-1', VAULT)).toBeUndefined();
  });
});

describe('onboardAccount: a second run', () => {
  it('changes nothing and sends nothing', async () => {
    const w = await onboarded();
    const result = await run(w, { trigger: 'Reconcile' });

    expect(result.outcome).toBe('ready');
    expect(result.outcome === 'ready' && result.changes).toEqual([]);
    expect(w.member().writes).toEqual([]);
    expect(w.org.writes).toEqual([]);
    expect(w.notifier.count).toBe(0);
    const record = recordOf(result);
    expect(Object.values(stepOutcomes(record))).toEqual(STEPS.map(() => 'unchanged'));
    expect(record).toMatchObject({ attempts: 2, lastTrigger: 'Reconcile', status: 'ready' });
  });

  it('treats documents that say the same thing differently as unchanged', async () => {
    const w = await onboarded();
    const m = w.member();
    // What AWS hands back: keys reordered, one-element lists, lists in another order.
    m.role(SERVICE).trustPolicy = {
      Statement: [
        {
          Action: ['sts:AssumeRole'],
          Principal: { Service: ['backup.amazonaws.com'] },
          Effect: 'Allow',
        },
      ],
      Version: '2012-10-17',
    };
    const inline = m.role(READ_ONLY).inline.get('read-for-daily-check')!;
    const statement = (inline.Statement as Record<string, unknown>[])[0]!;
    statement.Action = [...(statement.Action as string[])].reverse();
    const key = m.keyFor('us-east-1', ALIAS);
    key.policy = JSON.parse(
      JSON.stringify(key.policy, Object.keys(flatten(key.policy)).sort().reverse()),
    ) as PolicyDocument;

    const result = await run(w);
    expect(result.outcome === 'ready' && result.changes).toEqual([]);
    expect(m.writes).toEqual([]);
  });
});

/** Every key used anywhere in a document (for a JSON.stringify replacer that reorders). */
function flatten(value: unknown, into: Record<string, true> = {}): Record<string, true> {
  if (Array.isArray(value)) value.forEach((v) => flatten(v, into));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into[k] = true;
      flatten(v, into);
    }
  }
  return into;
}

describe('onboardAccount: drift is repaired, and only the drift', () => {
  const cases: {
    name: string;
    drift: (w: OnboardingWorld) => void;
    member?: Write[];
    org?: Write[];
    changes: string[];
  }[] = [
    {
      name: 'a trust policy that was changed',
      drift: (w) => {
        w.member().role(SERVICE).trustPolicy = {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'ec2.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        };
      },
      member: [['iam.updateTrustPolicy', SERVICE]],
      changes: [`baseline-iam: update the trust policy of role ${SERVICE}`],
    },
    {
      name: 'a managed policy that was detached',
      drift: (w) => {
        w.member().role(SERVICE).attached = [FOR_BACKUP];
      },
      member: [['iam.attachPolicy', SERVICE, FOR_RESTORES]],
      changes: [`baseline-iam: attach AWSBackupServiceRolePolicyForRestores to role ${SERVICE}`],
    },
    {
      name: 'an inline policy that was changed',
      drift: (w) => {
        w.member()
          .role(READ_ONLY)
          .inline.set('read-for-daily-check', {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'backup:*', Resource: '*' }],
          });
      },
      member: [['iam.putInlinePolicy', READ_ONLY, 'read-for-daily-check']],
      changes: [`baseline-iam: update policy read-for-daily-check on role ${READ_ONLY}`],
    },
    {
      name: 'an inline policy that was deleted',
      drift: (w) => {
        w.member().role(FORWARDER).inline.clear();
      },
      member: [['iam.putInlinePolicy', FORWARDER, 'put-events-on-central-bus']],
      changes: [`baseline-iam: put policy put-events-on-central-bus on role ${FORWARDER}`],
    },
    {
      name: 'a key policy that was changed',
      drift: (w) => {
        const key = w.member().keyFor('us-east-1', ALIAS);
        key.policy = { ...key.policy, Statement: (key.policy.Statement as unknown[]).slice(0, 1) };
      },
      member: [['kms.putKeyPolicy', 'us-east-1', KEY_ID]],
      changes: [`baseline-us-east-1: update the key policy of ${ALIAS} in us-east-1`],
    },
    {
      name: 'key rotation that was turned off',
      drift: (w) => {
        w.member().keyFor('us-east-1', ALIAS).rotation = false;
      },
      member: [['kms.enableRotation', 'us-east-1', KEY_ID]],
      changes: [`baseline-us-east-1: enable rotation of ${ALIAS} in us-east-1`],
    },
    {
      name: 'a vault that was deleted (recreated with the existing key)',
      drift: (w) => {
        w.member().vaults.clear();
      },
      member: [['backup.createVault', 'us-east-1', VAULT, KEY_ARN]],
      changes: [`baseline-us-east-1: create backup vault ${VAULT} in us-east-1`],
    },
    {
      name: 'a rule that was disabled',
      drift: (w) => {
        w.member().rule('us-east-1', RULE).state = 'DISABLED';
      },
      member: [['events.putRule', 'us-east-1', RULE]],
      changes: [`baseline-us-east-1: enable rule ${RULE} in us-east-1`],
    },
    {
      name: 'a rule pattern that was changed',
      drift: (w) => {
        w.member().rule('us-east-1', RULE).pattern = { source: ['aws.ec2'] };
      },
      member: [['events.putRule', 'us-east-1', RULE]],
      changes: [`baseline-us-east-1: update the pattern of rule ${RULE} in us-east-1`],
    },
    {
      name: 'a target that points elsewhere',
      drift: (w) => {
        w.member().rule('us-east-1', RULE).targets = [
          { ...TARGET, arn: 'arn:aws:events:us-east-1:999988887777:event-bus/default' },
        ];
      },
      member: [['events.putTarget', 'us-east-1', RULE, TARGET]],
      changes: [`baseline-us-east-1: point rule ${RULE} in us-east-1 at the central bus`],
    },
    {
      name: 'a target that lost its role',
      drift: (w) => {
        w.member().rule('us-east-1', RULE).targets = [{ id: TARGET.id, arn: TARGET.arn }];
      },
      member: [['events.putTarget', 'us-east-1', RULE, TARGET]],
      changes: [`baseline-us-east-1: point rule ${RULE} in us-east-1 at the central bus`],
    },
    {
      name: 'a backup policy that was detached from the account',
      drift: (w) => {
        w.org.attachments.get(MEMBER_ID)!.clear();
      },
      org: [['attachPolicy', POLICY_IDS['daily-35-days'], MEMBER_ID]],
      changes: ['backup-policies: attach backup policy daily-35-days'],
    },
    {
      name: 'an account status tag that was changed',
      drift: (w) => {
        w.org.tags.set(MEMBER_ID, {
          [STATUS_TAG]: 'failed',
          [VERSION_TAG]: String(BASELINE_VERSION),
        });
      },
      org: [
        [
          'tagAccount',
          MEMBER_ID,
          { [STATUS_TAG]: 'ready', [VERSION_TAG]: String(BASELINE_VERSION), [UPDATED_TAG]: NOW },
        ],
      ],
      changes: [`tags: tag the account ${STATUS_TAG}=ready, ${VERSION_TAG}=${BASELINE_VERSION}`],
    },
  ];

  it.each(cases)('$name', async ({ drift, member = [], org = [], changes }) => {
    const w = await onboarded();
    drift(w);

    const result = await run(w);

    expect(result.outcome).toBe('ready');
    expect(w.member().writes).toEqual(member);
    expect(w.org.writes).toEqual(org);
    expect(result.outcome === 'ready' && result.changes).toEqual(changes);
    // Only the step that repaired something says so.
    const changedSteps = [...new Set(changes.map((c) => c.split(':')[0]))];
    const outcomes = stepOutcomes(recordOf(result));
    expect(Object.keys(outcomes).filter((s) => outcomes[s] === 'changed')).toEqual(changedSteps);
    // Admins already know the account is ready.
    expect(w.notifier.count).toBe(0);

    // Repaired for good: the next run finds nothing to do.
    w.clearLogs();
    const again = await run(w);
    expect(again.outcome === 'ready' && again.changes).toEqual([]);
    expect(w.member().writes).toEqual([]);
  });

  it('recreates a role that was deleted, keeping the target on the same role ARN', async () => {
    const w = await onboarded();
    w.member().roles.delete(FORWARDER);
    const result = await run(w);
    expect(w.member().writes).toEqual([
      ['iam.createRole', FORWARDER],
      ['iam.putInlinePolicy', FORWARDER, 'put-events-on-central-bus'],
    ]);
    expect(result.outcome).toBe('ready');
  });

  it('leaves a vault encrypted with another key as it is, and says so', async () => {
    const w = await onboarded();
    const other = `arn:aws:kms:us-east-1:${MEMBER_ID}:key/someone-elses`;
    w.member().vault('us-east-1', VAULT)!.encryptionKeyArn = other;
    const result = await run(w);
    expect(result.outcome).toBe('ready');
    expect(w.member().writes).toEqual([]);
    expect(w.log.entries).toContainEqual({
      level: 'warn',
      message: 'vault is encrypted with another key; left as it is',
      extra: { accountId: MEMBER_ID, region: 'us-east-1', vault: VAULT, key: other },
    });
  });
});

describe('onboardAccount: backup policies', () => {
  it('does not attach a policy the account inherits through its OU', async () => {
    const w = onboardingWorld();
    w.org.attachByHand('daily-35-days', WORKLOADS_OU);
    const result = await run(w);
    expect(result.outcome).toBe('ready');
    expect(w.org.writes.filter((x) => x[0] === 'attachPolicy')).toEqual([]);
    expect(w.org.policyNamesOn(MEMBER_ID)).toEqual([]);
    expect(recordOf(result).attachedPolicies).toEqual([]);
  });

  it('does not attach a policy the account inherits from the root', async () => {
    const w = onboardingWorld();
    w.org.attachByHand('daily-35-days', ROOT_ID);
    await run(w);
    expect(w.org.writes.filter((x) => x[0] === 'attachPolicy')).toEqual([]);
  });

  it('does not enable the policy type when it is enabled already', async () => {
    const w = onboardingWorld();
    w.org.backupPolicyTypeEnabled = true;
    await run(w);
    expect(w.org.writes.filter((x) => x[0] === 'enableBackupPolicies')).toEqual([]);
  });

  it('after a move to another profile, detaches what it attached for the old one', async () => {
    const w = await onboarded();
    w.org.parentOf.set(MEMBER_ID, PRODUCTION_OU);

    const result = await run(w, { trigger: 'MoveAccount' });

    expect(result.outcome).toBe('ready');
    expect(w.org.writes).toEqual([
      ['attachPolicy', POLICY_IDS['production-critical'], MEMBER_ID],
      ['detachPolicy', POLICY_IDS['daily-35-days'], MEMBER_ID],
    ]);
    expect(w.org.policyNamesOn(MEMBER_ID)).toEqual(['production-critical']);
    expect(recordOf(result)).toMatchObject({
      profile: 'production',
      attachedPolicies: ['production-critical'],
    });
    expect(result.outcome === 'ready' && result.changes).toContain(
      'backup-policies: detach backup policy daily-35-days (no longer in profile production)',
    );
    // The new profile's second region gets its baseline; IAM is already there.
    expect(w.member().writes.map((x) => x[0] + ' ' + String(x[1]))).toEqual([
      'kms.createKey eu-west-1',
      'kms.createAlias eu-west-1',
      'kms.enableRotation eu-west-1',
      'backup.createVault eu-west-1',
      'events.putRule eu-west-1',
      'events.putTarget eu-west-1',
      'events.putRule eu-west-1',
      'events.putTarget eu-west-1',
    ]);
  });

  it('leaves alone a policy an administrator attached to the account', async () => {
    const w = onboardingWorld();
    w.org.policies.set('legal-hold', 'p-legalhold');
    w.org.attachByHand('legal-hold', MEMBER_ID);
    await run(w);
    w.org.parentOf.set(MEMBER_ID, PRODUCTION_OU);
    await run(w);
    expect(w.org.policyNamesOn(MEMBER_ID)).toEqual(['legal-hold', 'production-critical']);
  });

  // BUG (onboard.ts, backup-policies step): `record.attachedPolicies` is set to every profile
  // policy that is not inherited, including one an administrator had attached by hand before
  // onboarding (it was skipped as "attached here", never attached by us). A later profile
  // change then detaches the administrator's attachment.
  it('does not claim, and later detach, a policy an administrator attached', async () => {
    const w = onboardingWorld();
    w.org.attachByHand('daily-35-days', MEMBER_ID);
    const first = await run(w);
    expect(w.org.writes.filter((x) => x[0] === 'attachPolicy')).toEqual([]);
    expect(recordOf(first).attachedPolicies).toEqual([]);
    w.org.parentOf.set(MEMBER_ID, PRODUCTION_OU);
    await run(w);
    expect(w.org.policyNamesOn(MEMBER_ID)).toEqual(['daily-35-days', 'production-critical']);
  });

  it('fails the step when a profile policy does not exist in Organizations', async () => {
    const w = onboardingWorld();
    w.org.policies.delete('daily-35-days');
    const result = await run(w);
    expect(recordOf(result).lastError).toMatchObject({
      step: 'backup-policies',
      message: 'backup policy "daily-35-days" does not exist in Organizations',
    });
    expect(w.notifier.failedNotices[0]?.advice).toMatch(
      /infra\/backup-policies\/daily-35-days\.json/,
    );
  });
});

describe('onboardAccount: accounts that are skipped', () => {
  const cases: {
    name: string;
    accountId: string;
    setUp: (w: OnboardingWorld) => void;
    reason: string;
  }[] = [
    {
      name: 'a SUSPENDED account',
      accountId: MEMBER_ID,
      setUp: (w) => {
        w.org.accounts.get(MEMBER_ID)!.status = 'SUSPENDED';
      },
      reason: 'account is SUSPENDED',
    },
    {
      name: 'an account PENDING_CLOSURE',
      accountId: MEMBER_ID,
      setUp: (w) => {
        w.org.accounts.get(MEMBER_ID)!.status = 'PENDING_CLOSURE';
      },
      reason: 'account is PENDING_CLOSURE',
    },
    {
      name: 'the management account when onboardManagementAccount is false',
      accountId: MANAGEMENT_ID,
      setUp: () => {},
      reason:
        'the management account is not onboarded (onboarding.onboardManagementAccount is false)',
    },
    {
      name: 'an account tagged to opt out (any letter case)',
      accountId: MEMBER_ID,
      setUp: (w) => {
        w.org.tags.set(MEMBER_ID, { [OPT_OUT_TAG]: 'True' });
      },
      reason: `opted out with tag ${OPT_OUT_TAG}=true`,
    },
  ];

  it.each(cases)('$name is recorded skipped and nothing else happens', async (c) => {
    const w = onboardingWorld();
    c.setUp(w);
    const result = await run(w, { accountId: c.accountId });

    expect(result.outcome).toBe('skipped');
    expect(w.ledger.records.get(c.accountId)).toMatchObject({
      status: 'skipped',
      skipReason: c.reason,
    });
    expect(w.access.calls).toEqual([]);
    expect(w.access.members.size).toBe(0);
    expect(w.org.writes).toEqual([]);
    expect(w.notifier.count).toBe(0);
    expect(w.ledger.locks.size).toBe(0);
  });

  it('onboards an account whose opt-out tag is not "true"', async () => {
    const w = onboardingWorld();
    w.org.tags.set(MEMBER_ID, { [OPT_OUT_TAG]: 'false' });
    expect((await run(w)).outcome).toBe('ready');
  });

  it('onboards an account once its opt-out tag is removed, and forgets the skip reason', async () => {
    const w = onboardingWorld();
    w.org.tags.set(MEMBER_ID, { [OPT_OUT_TAG]: 'true' });
    expect((await run(w)).outcome).toBe('skipped');
    w.org.tags.set(MEMBER_ID, {});
    const result = await run(w);
    expect(result.outcome).toBe('ready');
    expect(recordOf(result).skipReason).toBeUndefined();
    expect(w.notifier.readyNotices).toHaveLength(1);
  });

  it('onboards the management account when configured; its target on the local bus needs no role', async () => {
    const w = onboardingWorld((o) => {
      o.onboardManagementAccount = true;
    });
    const result = await run(w, { accountId: MANAGEMENT_ID });
    expect(result.outcome).toBe('ready');
    const targets = w.member(MANAGEMENT_ID).rule('us-east-1', RULE).targets;
    expect(targets).toEqual([{ id: 'central-backup-bus', arn: CENTRAL_BUS_ARN }]);
    expect(targets[0]).not.toHaveProperty('roleArn');
  });
});

describe('onboardAccount: dry run', () => {
  it('lists the changes a real run would make and writes nothing', async () => {
    const w = onboardingWorld();
    const result = await run(w, { dryRun: true });

    expect(result).toEqual({
      outcome: 'planned',
      profile: 'default',
      changes: NEW_ACCOUNT_CHANGES,
      findings: expect.arrayContaining([
        { what: `role ${SERVICE} is missing`, resource: SERVICE },
        {
          what: `forwarding rule ${RULE} is missing in us-east-1`,
          resource: RULE,
          region: 'us-east-1',
        },
        {
          what: 'backup policy daily-35-days is not attached to the account',
          resource: 'daily-35-days',
        },
      ]),
    });
    // One finding per difference, however many changes repair it.
    const whats = result.outcome === 'planned' ? result.findings.map((f) => f.what) : [];
    expect(new Set(whats).size).toBe(whats.length);
    expect(w.ledger.writes).toEqual([]);
    expect(w.ledger.records.size).toBe(0);
    expect(w.member().writes).toEqual([]);
    expect(w.org.writes).toEqual([]);
    expect(w.notifier.count).toBe(0);
  });

  it('lists only the drift of an onboarded account', async () => {
    const w = await onboarded();
    w.member().rule('us-east-1', RULE).state = 'DISABLED';
    const result = await run(w, { dryRun: true });
    expect(result).toEqual({
      outcome: 'planned',
      profile: 'default',
      changes: [`baseline-us-east-1: enable rule ${RULE} in us-east-1`],
      findings: [
        {
          what: `forwarding rule ${RULE} is DISABLED in us-east-1`,
          resource: RULE,
          region: 'us-east-1',
        },
      ],
    });
    expect(w.member().writes).toEqual([]);
    expect(w.ledger.writes).toEqual([]);
    expect(w.member().rule('us-east-1', RULE).state).toBe('DISABLED');
  });

  it('gives the skip reason and records nothing', async () => {
    const w = onboardingWorld();
    w.org.accounts.get(MEMBER_ID)!.status = 'SUSPENDED';
    await expect(run(w, { dryRun: true })).resolves.toEqual({
      outcome: 'planned',
      changes: [],
      findings: [],
      skipReason: 'account is SUSPENDED',
    });
    expect(w.ledger.writes).toEqual([]);
  });

  it('neither takes nor waits for the lock', async () => {
    const w = onboardingWorld();
    w.ledger.hold(MEMBER_ID, 'someone-else', w.clock.now(), 900_000);
    const result = await run(w, { dryRun: true });
    expect(result.outcome).toBe('planned');
    expect(w.ledger.locks.get(MEMBER_ID)?.owner).toBe('someone-else');
  });

  it('throws what would fail, recording and sending nothing', async () => {
    const w = onboardingWorld();
    w.access.assumable.clear();
    await expect(run(w, { dryRun: true })).rejects.toThrow(
      /cannot assume OrganizationAccountAccessRole or AWSControlTowerExecution/,
    );
    expect(w.ledger.writes).toEqual([]);
    expect(w.notifier.count).toBe(0);
    expect(w.org.writes).toEqual([]);
  });
});

describe('onboardAccount: a step that fails', () => {
  const denied = () =>
    awsError(
      'AccessDeniedException',
      `User: arn:aws:sts::${MEMBER_ID}:assumed-role/OrganizationAccountAccessRole/run is not authorized to perform: kms:CreateKey`,
    );

  it('records the step and error, tags the account failed, tells admins once', async () => {
    const w = onboardingWorld();
    w.member().failures.set('kms.createKey', denied());

    const result = await run(w);

    expect(result.outcome).toBe('failed');
    const record = w.ledger.records.get(MEMBER_ID)!;
    expect(record).toMatchObject({
      status: 'failed',
      lastError: { step: 'baseline-us-east-1', message: denied().message, at: NOW },
      notified: { status: 'failed', error: `baseline-us-east-1: ${denied().message}` },
    });
    expect(stepOutcomes(record)).toEqual({
      resolve: 'unchanged',
      profile: 'unchanged',
      access: 'unchanged',
      'baseline-iam': 'changed',
      'baseline-us-east-1': 'failed',
    });
    expect(record.steps['baseline-us-east-1']!.error).toBe(denied().message);
    expect(w.notifier.readyNotices).toEqual([]);
    expect(w.notifier.failedNotices).toEqual([
      expect.objectContaining({
        accountId: MEMBER_ID,
        step: 'baseline-us-east-1',
        error: denied().message,
        advice:
          'The role used in the account is missing a permission for step baseline-us-east-1, or a service control policy denies it.',
        record: expect.objectContaining({ status: 'failed', attempts: 1 }),
      }),
    ]);
    expect(w.org.writes).toEqual([
      [
        'tagAccount',
        MEMBER_ID,
        { [STATUS_TAG]: 'failed', [VERSION_TAG]: String(BASELINE_VERSION), [UPDATED_TAG]: NOW },
      ],
    ]);
    // Nothing after the failed step ran.
    expect(w.member().vault('us-east-1', VAULT)).toBeUndefined();
    expect(w.ledger.locks.size).toBe(0);
  });

  it('sends nothing for the same failure again, and tells admins of a new one', async () => {
    const w = onboardingWorld();
    w.member().failures.set('kms.createKey', denied());
    await run(w);
    await run(w);
    expect(w.notifier.failedNotices).toHaveLength(1);
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({ status: 'failed', attempts: 2 });

    w.member().failures.set('kms.createKey', awsError('ThrottlingException', 'Rate exceeded'));
    await run(w);
    expect(w.notifier.failedNotices).toHaveLength(2);
    expect(w.notifier.failedNotices[1]).toMatchObject({
      error: 'Rate exceeded',
      advice: 'AWS throttled the calls; the next trigger or the sweep retries.',
    });
  });

  it('after the cause is fixed, finishes, clears the error and sends the ready notice', async () => {
    const w = onboardingWorld();
    w.member().failures.set('kms.createKey', denied());
    await run(w);
    w.member().failures.clear();
    const result = await run(w);
    expect(result.outcome).toBe('ready');
    expect(recordOf(result).lastError).toBeUndefined();
    expect(w.notifier.readyNotices).toHaveLength(1);
    expect(w.org.tags.get(MEMBER_ID)?.[STATUS_TAG]).toBe('ready');
    // The roles made by the failed run are not made again.
    expect(w.member().writes.filter((x) => x[0] === 'iam.createRole')).toHaveLength(3);
  });

  it('fails verify when what was created is not there (a policy denies it silently)', async () => {
    const w = onboardingWorld();
    jest.spyOn(w.member().backup('us-east-1'), 'createVault').mockResolvedValue({ arn: 'x' });
    const result = await run(w);
    expect(recordOf(result).lastError).toMatchObject({
      step: 'verify',
      message: `not backup-ready: vault ${VAULT} is missing in us-east-1`,
    });
    expect(w.notifier.failedNotices[0]?.advice).toMatch(/service control policy/);
  });

  it('fails the profile step when the profile tag names no profile', async () => {
    const w = onboardingWorld();
    w.org.tags.set(MEMBER_ID, { [PROFILE_TAG]: 'gold' });
    const result = await run(w);
    expect(recordOf(result).lastError).toMatchObject({
      step: 'profile',
      message: expect.stringContaining(`tag ${PROFILE_TAG}=gold names no profile`),
    });
    expect(w.notifier.failedNotices[0]?.advice).toMatch(/Add a profile without `match`/);
    expect(w.access.calls).toEqual([]);
  });

  it('records a resolve failure with the AWS error', async () => {
    const w = onboardingWorld();
    const result = await run(w, { accountId: '999999999999' });
    expect(recordOf(result).lastError).toMatchObject({
      step: 'resolve',
      message: "You specified an account that doesn't exist.",
    });
  });

  // BUG (onboard.ts, catch of run(): `deps.notifier.failed({ accountId, record, ... })`): the
  // account read in the resolve step is not passed, so the failed message shows only the id,
  // and `onboarding.notifyAccountEmail` (documented as "when it is ready or failed") never
  // reaches the account's own address for a failure.
  it('passes the account it resolved to the failed notice', async () => {
    const w = onboardingWorld();
    w.member().failures.set('kms.createKey', denied());
    await run(w);
    expect(w.notifier.failedNotices[0]?.account).toMatchObject({
      id: MEMBER_ID,
      name: 'Payments',
      email: 'aws-payments@example.com',
    });
  });

  // BUG (onboard.ts, ensureKey): createKey and createAlias are two calls. When the alias cannot
  // be created (throttled, or an alias left on a key pending deletion), the key stays without
  // an alias; findAlias does not see it and every later run creates one more key (billed
  // monthly each) instead of reusing it.
  it('creates no second key after a run that stopped between key and alias', async () => {
    const w = onboardingWorld();
    w.member().failures.set('kms.createAlias', awsError('ThrottlingException', 'Rate exceeded'));
    expect((await run(w)).outcome).toBe('failed');
    w.member().failures.clear();
    expect((await run(w)).outcome).toBe('ready');
    expect([...w.member().keys.values()].filter((k) => k.region === 'us-east-1')).toHaveLength(1);
  });
});

describe('onboardAccount: access to the account', () => {
  it('keeps trying a brand-new account with backoff until the role works', async () => {
    const w = onboardingWorld();
    w.access.assumableFrom = w.clock.now().getTime() + 45_000;

    const result = await run(w, { trigger: 'CreateAccountResult' });

    expect(result.outcome).toBe('ready');
    expect(w.delays).toEqual([2000, 4000, 8000, 16_000, 30_000]);
    // Each round tries the access role, then the Control Tower role.
    expect(w.access.calls.slice(0, 2).map((c) => c.role)).toEqual([
      'OrganizationAccountAccessRole',
      'AWSControlTowerExecution',
    ]);
    expect(w.access.calls).toHaveLength(11);
    expect(w.access.calls.at(-1)).toEqual({
      accountId: MEMBER_ID,
      role: 'OrganizationAccountAccessRole',
      at: '2025-03-13T03:06:00.000Z',
    });
  });

  it.each([
    'CreateAccountResult',
    'CreateManagedAccount',
    'UpdateManagedAccount',
    'AccountJoinedOrganization',
  ] as const)(
    'after %s, gives up at assumeRoleTimeoutSeconds and names the roles',
    async (trigger) => {
      const w = onboardingWorld();
      w.access.assumable.clear();
      const start = w.clock.now().getTime();

      const result = await run(w, { trigger });

      expect(result.outcome).toBe('failed');
      const waited = w.delays.reduce((a, b) => a + b, 0);
      expect(w.delays.slice(0, 5)).toEqual([2000, 4000, 8000, 16_000, 30_000]);
      expect(Math.max(...w.delays)).toBe(30_000);
      expect(waited).toBeLessThanOrEqual(600_000);
      expect(waited).toBeGreaterThan(600_000 - 30_000);
      expect(w.clock.now().getTime() - start).toBe(waited);
      const error = recordOf(result).lastError!;
      expect(error.step).toBe('access');
      expect(error.message).toMatch(
        new RegExp(
          `^cannot assume OrganizationAccountAccessRole or AWSControlTowerExecution in account ${MEMBER_ID} after trying for 600 s: User: .* is not authorized to perform: sts:AssumeRole`,
        ),
      );
      expect(w.notifier.failedNotices[0]?.advice).toMatch(/several minutes/);
    },
  );

  it('waits no longer than the configured timeout', async () => {
    const w = onboardingWorld((o) => {
      o.assumeRoleTimeoutSeconds = 20;
    });
    w.access.assumable.clear();
    const result = await run(w, { trigger: 'CreateAccountResult' });
    expect(w.delays).toEqual([2000, 4000, 8000]);
    expect(recordOf(result).lastError?.message).toMatch(/after trying for 20 s/);
  });

  it.each(['Reconcile', 'Manual', 'MoveAccount'] as const)(
    'after %s, does not wait: one try per role',
    async (trigger) => {
      const w = onboardingWorld();
      w.access.assumable.clear();
      const result = await run(w, { trigger });
      expect(w.delays).toEqual([]);
      expect(w.access.calls.map((c) => c.role)).toEqual([
        'OrganizationAccountAccessRole',
        'AWSControlTowerExecution',
      ]);
      expect(recordOf(result).lastError?.message).toMatch(
        /^cannot assume OrganizationAccountAccessRole or AWSControlTowerExecution in account 222233334444: /,
      );
      expect(recordOf(result).lastError?.message).not.toMatch(/after trying/);
      expect(w.notifier.failedNotices[0]?.advice).toMatch(/OrganizationAccountAccessRole/);
    },
  );

  it('tries the Control Tower role first for a Control Tower account', async () => {
    const w = onboardingWorld();
    w.access.assumable = new Set(['AWSControlTowerExecution']);
    const result = await run(w, { trigger: 'CreateManagedAccount', controlTower: true });
    expect(result.outcome).toBe('ready');
    expect(w.access.calls.map((c) => c.role)).toEqual(['AWSControlTowerExecution']);
  });

  it('falls back to the Control Tower role for other accounts', async () => {
    const w = onboardingWorld();
    w.access.assumable = new Set(['AWSControlTowerExecution']);
    const result = await run(w);
    expect(result.outcome).toBe('ready');
    expect(w.access.calls.map((c) => c.role)).toEqual([
      'OrganizationAccountAccessRole',
      'AWSControlTowerExecution',
    ]);
  });

  it('uses the configured role names', async () => {
    const w = onboardingWorld((o) => {
      o.accessRole = 'PlatformAdmin';
    });
    w.access.assumable = new Set(['PlatformAdmin']);
    expect((await run(w)).outcome).toBe('ready');
    expect(w.access.calls.map((c) => c.role)).toEqual(['PlatformAdmin']);
  });
});

describe('onboardAccount: the account lock', () => {
  const EVENT_TIME = '2025-03-13T03:00:00Z';

  it('takes the lock for lockSeconds under the run owner', async () => {
    const w = onboardingWorld();
    let during: unknown;
    w.deps.afterStep = () => {
      during ??= { ...w.ledger.locks.get(MEMBER_ID) };
    };
    await run(w);
    expect(during).toEqual({
      owner: 'run-1',
      since: NOW,
      until: Date.parse(NOW) + 900_000,
    });
    expect(w.ledger.writes[0]).toEqual(['acquire', MEMBER_ID, 'run-1']);
    expect(w.ledger.writes.at(-1)).toEqual(['release', MEMBER_ID, 'run-1']);
  });

  it('answers busy, covered, when the running onboarding started after the event', async () => {
    const w = onboardingWorld();
    w.ledger.hold(MEMBER_ID, 'other-run', new Date('2025-03-13T03:01:00.000Z'), 900_000);

    const result = await run(w, { trigger: 'MoveAccount', eventTime: EVENT_TIME });

    expect(result).toEqual({
      outcome: 'busy',
      covered: true,
      since: '2025-03-13T03:01:00.000Z',
      until: '2025-03-13T03:16:00.000Z',
    });
    expect(w.ledger.writes).toEqual([]);
    expect(w.ledger.locks.get(MEMBER_ID)?.owner).toBe('other-run');
    expect(w.access.calls).toEqual([]);
    expect(w.notifier.count).toBe(0);
  });

  it('is not covered by a departure being recorded, which onboards nothing: retried', async () => {
    const w = onboardingWorld();
    w.ledger.hold(MEMBER_ID, 'offboard:other-run', new Date('2025-03-13T03:01:00.000Z'), 900_000);
    await expect(
      run(w, { trigger: 'AccountJoinedOrganization', eventTime: EVENT_TIME }),
    ).rejects.toThrow(AccountBusyError);
    expect(w.ledger.locks.get(MEMBER_ID)?.owner).toBe('offboard:other-run');
  });

  it('throws AccountBusyError when the running onboarding started before the event', async () => {
    const w = onboardingWorld();
    w.ledger.hold(MEMBER_ID, 'other-run', new Date('2025-03-13T02:59:00.000Z'), 900_000);
    const attempt = run(w, { trigger: 'MoveAccount', eventTime: EVENT_TIME });
    await expect(attempt).rejects.toThrow(AccountBusyError);
    await expect(attempt).rejects.toThrow(
      `account ${MEMBER_ID} is being onboarded by other-run since 2025-03-13T02:59:00.000Z (lock until 2025-03-13T03:14:00.000Z); retried later`,
    );
    expect(w.ledger.locks.get(MEMBER_ID)?.owner).toBe('other-run');
    expect(w.ledger.writes).toEqual([]);
  });

  it('throws AccountBusyError for a request without an event time', async () => {
    const w = onboardingWorld();
    w.ledger.hold(MEMBER_ID, 'other-run', w.clock.now(), 900_000);
    await expect(run(w, { trigger: 'Reconcile' })).rejects.toBeInstanceOf(AccountBusyError);
  });

  it('takes over a lock that expired', async () => {
    const w = onboardingWorld();
    w.ledger.hold(MEMBER_ID, 'dead-run', new Date(Date.parse(NOW) - 900_001), 900_000);
    expect((await run(w)).outcome).toBe('ready');
    expect(w.ledger.locks.size).toBe(0);
  });

  // BUG (onboard.ts, onboardAccount: `lock.since >= req.eventTime`): ISO strings are compared
  // as text. EventBridge times have no milliseconds ("…:00Z") and the lock's has them
  // ("…:00.500Z"); "." sorts before "Z", so a run that started half a second after the event
  // is taken for one that started before it. Compare Date.parse values instead.
  it('counts a lock taken later in the same second as the event as covering it', async () => {
    const w = onboardingWorld();
    w.ledger.hold(MEMBER_ID, 'other-run', new Date('2025-03-13T03:00:00.500Z'), 900_000);
    await expect(run(w, { eventTime: EVENT_TIME })).resolves.toMatchObject({
      outcome: 'busy',
      covered: true,
    });
  });

  const ends: { name: string; setUp: (w: OnboardingWorld) => void; throws: boolean }[] = [
    { name: 'ends ready', setUp: () => {}, throws: false },
    {
      name: 'ends skipped',
      setUp: (w) => {
        w.org.accounts.get(MEMBER_ID)!.status = 'SUSPENDED';
      },
      throws: false,
    },
    {
      name: 'ends failed',
      setUp: (w) => {
        w.access.assumable.clear();
      },
      throws: false,
    },
    {
      name: 'throws: the notices cannot be sent',
      setUp: (w) => {
        w.notifier.failWith = awsError('ThrottlingException', 'Maximum sending rate exceeded.');
      },
      throws: true,
    },
    {
      name: 'throws: the ledger cannot save',
      setUp: (w) => {
        w.ledger.failures.set('save', awsError('ResourceNotFoundException', 'table gone'));
      },
      throws: true,
    },
    {
      name: 'throws: the ledger cannot read',
      setUp: (w) => {
        w.ledger.failures.set('get', awsError('ResourceNotFoundException', 'table gone'));
      },
      throws: true,
    },
  ];

  it.each(ends)('is released after a run that $name', async ({ setUp, throws }) => {
    const w = onboardingWorld();
    setUp(w);
    if (throws) await expect(run(w)).rejects.toThrow();
    else await expect(run(w)).resolves.toBeDefined();
    expect(w.ledger.locks.size).toBe(0);
    expect(w.ledger.writes.at(-1)).toEqual(['release', MEMBER_ID, 'run-1']);
  });

  it('loses no ready notice when it could not be sent: the next run sends it', async () => {
    const w = onboardingWorld();
    w.notifier.failWith = awsError('ThrottlingException', 'Maximum sending rate exceeded.');
    await expect(run(w)).rejects.toThrow('Maximum sending rate exceeded.');
    w.notifier.failWith = undefined;
    expect((await run(w)).outcome).toBe('ready');
    expect(w.notifier.readyNotices).toHaveLength(1);
    expect(w.notifier.failedNotices).toHaveLength(0);
  });
});

describe('onboardAccount: configuration', () => {
  it('refuses a configuration without an onboarding section', async () => {
    const w = onboardingWorld();
    delete w.deps.config.onboarding;
    await expect(run(w)).rejects.toThrow('configuration has no "onboarding" section');
    expect(w.ledger.writes).toEqual([]);
  });
});

describe('onboardAccount: telling admins without noise', () => {
  it('does not mail admins again when only the baseline version changed', async () => {
    const w = await onboarded();
    w.deps.baseline = { ...w.deps.baseline, version: w.deps.baseline.version + 1 };
    const result = await run(w);
    expect(result).toMatchObject({
      outcome: 'ready',
      record: { baselineVersion: BASELINE_VERSION + 1 },
    });
    expect(w.notifier.readyNotices).toHaveLength(0);
  });

  it('tells admins "ready" again after a failure was reported', async () => {
    const w = onboardingWorld();
    w.member().failures.set('kms.createKey', new Error('AccessDenied'));
    expect((await run(w)).outcome).toBe('failed');
    w.member().failures.clear();
    expect((await run(w)).outcome).toBe('ready');
    expect(w.notifier.failedNotices).toHaveLength(1);
    expect(w.notifier.readyNotices).toHaveLength(1);
  });

  it('keeps a ready account ready when the ready notice cannot be sent, and sends it on the retry', async () => {
    const w = onboardingWorld();
    w.notifier.failWith = new Error('SES throttled');
    await expect(run(w)).rejects.toThrow('SES throttled');
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({ status: 'ready' });
    expect(w.ledger.locks.size).toBe(0);
    w.notifier.failWith = undefined;
    expect((await run(w)).outcome).toBe('ready');
    expect(w.notifier.readyNotices).toHaveLength(1);
  });
});
