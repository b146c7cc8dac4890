import { fill, loadBaseline } from '../../functions/onboard-account/baseline';
import {
  baselineVaultNames,
  MANAGED_TAG,
  MEMBER_ROLE_POLICY_NAME,
  memberRoleDefinition,
  memberRoleKeyStatements,
} from '../../functions/onboard-account/member-role';
import { onboardAccount, type OnboardRequest } from '../../functions/onboard-account/onboard';
import type { MemberAccount } from '../../functions/shared/ports';
import { allows, denies, type IamRequest } from '../helpers/iam-policy';
import { decideContext } from '../../functions/notify-backup-event/decide';
import { cliOnboardDeps } from '../../tools/backupctl/onboarding-commands';
import {
  CENTRAL_BUS_ARN,
  CONTROL_PLANE_ROLE_ARN,
  MEMBER_ID,
  onboardingWorld,
  ORG_ID,
  type FakeMemberAccount,
  type OnboardingWorld,
} from '../helpers/onboarding-fakes';
import { exampleConfig } from '../helpers/fixtures';
import { centralVault } from '../../functions/shared/central-backup';

/**
 * The dedicated member role, evaluated table-driven: every AWS call onboarding really makes
 * through it (recorded from runs on the fakes, translated to the IAM requests AWS authorizes) is
 * allowed, and the same actions on anything outside the baseline are denied.
 */

const baseline = loadBaseline();
const ROLE = 'backup-control-plane-member';
const definition = memberRoleDefinition(
  baseline,
  ROLE,
  baselineVaultNames(baseline, exampleConfig()),
  {
    partition: 'aws',
    accountId: MEMBER_ID,
    organizationId: ORG_ID,
    controlPlaneAccountId: '111122223333',
    controlPlaneRoleArn: CONTROL_PLANE_ROLE_ARN,
    centralBusArn: CENTRAL_BUS_ARN,
  },
  centralVault(exampleConfig()),
);
const policy = definition.policy as { Statement: unknown };

const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${MEMBER_ID}:${resource}`;
const roleArn = (name: string) => arn('iam', '', `role/${name}`);
const ROLE_ARN = roleArn(ROLE);
const managedKeyTags = { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value };

/** A request on a key is allowed by the role's policy or by the key's own policy. */
type KeyedRequest = IamRequest & { keyPolicy?: { Statement: unknown } };
const allowedBy =
  (rolePolicy: { Statement: unknown }) =>
  (req: KeyedRequest): boolean =>
    !denies(rolePolicy, req) &&
    !(req.keyPolicy !== undefined && denies(req.keyPolicy, req, ROLE_ARN)) &&
    (allows(rolePolicy, req) ||
      (req.keyPolicy !== undefined && allows(req.keyPolicy, req, ROLE_ARN)));
const allowed = allowedBy(policy);

/** One port call → the IAM requests AWS authorizes for it (its adapter's SDK calls). */
type Translate = (args: unknown[], region: string, member: KeysAtCallTime) => KeyedRequest[];

/** The account's keys as they were when the call was made. */
interface KeysAtCallTime {
  keys: FakeMemberAccount['keys'];
  policies: Map<string, { Statement: unknown }>;
}

/** Requests on one key, with its tags and its own policy as the fake holds them. */
const keyRequests = (
  member: KeysAtCallTime,
  keyId: string,
  actions: string[],
  context: Record<string, string> = {},
): KeyedRequest[] => {
  const key = member.keys.get(keyId);
  const tags = Object.fromEntries(
    Object.entries(key?.tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]),
  );
  return actions.map((action) => ({
    action,
    resource: key?.keyArn ?? arn('kms', 'us-east-1', `key/${keyId}`),
    context: { ...tags, ...context },
    ...(member.policies.has(keyId) ? { keyPolicy: member.policies.get(keyId)! } : {}),
  }));
};

const CALLS: Record<string, Translate> = {
  'iam.getRole': ([name]) => [{ action: 'iam:GetRole', resource: roleArn(name as string) }],
  'iam.createRole': ([name, , , tags]) => [
    { action: 'iam:CreateRole', resource: roleArn(name as string) },
    ...(Object.keys(tags as object).length
      ? [{ action: 'iam:TagRole', resource: roleArn(name as string) }]
      : []),
  ],
  'iam.updateTrustPolicy': ([name]) => [
    { action: 'iam:UpdateAssumeRolePolicy', resource: roleArn(name as string) },
  ],
  'iam.attachedPolicyArns': ([name]) => [
    { action: 'iam:ListAttachedRolePolicies', resource: roleArn(name as string) },
  ],
  'iam.attachPolicy': ([name, policyArn]) => [
    {
      action: 'iam:AttachRolePolicy',
      resource: roleArn(name as string),
      context: { 'iam:PolicyARN': policyArn as string },
    },
  ],
  'iam.getInlinePolicy': ([name]) => [
    { action: 'iam:GetRolePolicy', resource: roleArn(name as string) },
  ],
  'iam.putInlinePolicy': ([name]) => [
    { action: 'iam:PutRolePolicy', resource: roleArn(name as string) },
  ],
  'kms.findAlias': (_args, region) => [
    { action: 'kms:DescribeKey', resource: arn('kms', region, 'key/any') },
  ],
  'kms.findUnaliasedKey': (_args, region) => [
    { action: 'kms:ListKeys', resource: '*' },
    { action: 'kms:ListResourceTags', resource: arn('kms', region, 'key/any') },
    { action: 'kms:DescribeKey', resource: arn('kms', region, 'key/any') },
    { action: 'kms:ListAliases', resource: '*' },
  ],
  'kms.createKey': ([, , tags]) =>
    ['kms:CreateKey', 'kms:TagResource'].map((action) => ({
      action,
      resource: '*',
      context: Object.fromEntries(
        Object.entries(tags as Record<string, string>).map(([k, v]) => [`aws:RequestTag/${k}`, v]),
      ),
    })),
  'kms.createAlias': ([alias, keyId], region, member) => [
    ...['kms:CreateAlias', 'kms:UpdateAlias'].map((action) => ({
      action,
      resource: arn('kms', region, alias as string),
    })),
    ...keyRequests(member, keyId as string, ['kms:CreateAlias', 'kms:UpdateAlias']),
  ],
  'kms.getKeyPolicy': ([keyId], _r, member) =>
    keyRequests(member, keyId as string, ['kms:GetKeyPolicy']),
  'kms.putKeyPolicy': ([keyId], _r, member) =>
    keyRequests(member, keyId as string, ['kms:PutKeyPolicy']),
  'kms.rotationEnabled': ([keyId], _r, member) =>
    keyRequests(member, keyId as string, ['kms:GetKeyRotationStatus']),
  'kms.enableRotation': ([keyId], _r, member) =>
    keyRequests(member, keyId as string, ['kms:EnableKeyRotation']),
  'backup.describeVault': ([name], region) => [
    {
      action: 'backup:DescribeBackupVault',
      resource: arn('backup', region, `backup-vault:${name}`),
    },
  ],
  'backup.createVault': ([name, keyArn], region, member) => [
    { action: 'backup:CreateBackupVault', resource: arn('backup', region, `backup-vault:${name}`) },
    { action: 'backup:TagResource', resource: arn('backup', region, `backup-vault:${name}`) },
    { action: 'backup-storage:MountCapsule', resource: '*' },
    // AWS Backup encrypts the vault with the key on the caller's behalf.
    ...keyRequests(
      member,
      (keyArn as string).split('/').pop()!,
      ['kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:RetireGrant'],
      { 'kms:ViaService': `backup.${region}.amazonaws.com` },
    ),
    ...keyRequests(member, (keyArn as string).split('/').pop()!, ['kms:DescribeKey']),
  ],
  'backup.createAirGappedVault': ([name], region) => [
    {
      action: 'backup:CreateLogicallyAirGappedBackupVault',
      resource: arn('backup', region, `backup-vault:${name}`),
    },
    { action: 'backup:TagResource', resource: arn('backup', region, `backup-vault:${name}`) },
    { action: 'backup-storage:MountCapsule', resource: '*' },
  ],
  'backup.vaultAccessPolicy': ([name], region) => [
    {
      action: 'backup:GetBackupVaultAccessPolicy',
      resource: arn('backup', region, `backup-vault:${name}`),
    },
  ],
  'backup.putVaultAccessPolicy': ([name], region) => [
    {
      action: 'backup:PutBackupVaultAccessPolicy',
      resource: arn('backup', region, `backup-vault:${name}`),
    },
  ],
  'backup.putVaultLock': ([name], region) => [
    {
      action: 'backup:PutBackupVaultLockConfiguration',
      resource: arn('backup', region, `backup-vault:${name}`),
    },
  ],
  'events.describeRule': ([name], region) => [
    { action: 'events:DescribeRule', resource: arn('events', region, `rule/${name}`) },
  ],
  'events.putRule': ([name], region) => [
    { action: 'events:PutRule', resource: arn('events', region, `rule/${name}`) },
  ],
  'events.targets': ([name], region) => [
    { action: 'events:ListTargetsByRule', resource: arn('events', region, `rule/${name}`) },
  ],
  'events.putTarget': ([name, target], region): KeyedRequest[] => [
    {
      action: 'events:PutTargets',
      resource: arn('events', region, `rule/${name}`),
      context: { 'events:TargetArn': (target as { arn: string }).arn },
    },
    ...((target as { roleArn?: string }).roleArn
      ? [
          {
            action: 'iam:PassRole',
            resource: (target as { roleArn: string }).roleArn,
            context: { 'iam:PassedToService': 'events.amazonaws.com' },
          },
        ]
      : []),
  ],
};

interface Recorded {
  call: string;
  args: unknown[];
  region: string;
  /** Each key's policy as it was when the call was made (what KMS authorizes against). */
  keyPolicies: Map<string, { Statement: unknown }>;
}

/** Every port call made through the member role (or another role), recorded as it is made. */
function recordThroughMemberRole(w: OnboardingWorld, through = ROLE): Recorded[] {
  const recorded: Recorded[] = [];
  const assume = w.access.assume.bind(w.access);
  const wrap = <T extends object>(port: string, target: T, region: string): T =>
    new Proxy(target, {
      get(t, method: string) {
        const fn = (t as Record<string, unknown>)[method];
        if (typeof fn !== 'function') return fn;
        return (...args: unknown[]) => {
          recorded.push({
            call: `${port}.${method}`,
            args,
            region,
            keyPolicies: new Map(
              [...w.member().keys.values()].map((k) => [
                k.keyId,
                structuredClone(k.policy) as { Statement: unknown },
              ]),
            ),
          });
          return (fn as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  w.access.assume = async (accountId, role) => {
    const m = await assume(accountId, role);
    if (role !== through) return m;
    const wrapped: MemberAccount = {
      accountId: m.accountId,
      iam: wrap('iam', m.iam, ''),
      kms: (r) => wrap('kms', m.kms(r), r),
      backup: (r) => wrap('backup', m.backup(r), r),
      events: (r) => wrap('events', m.events(r), r),
      tagging: (r) => wrap('tagging', m.tagging(r), r),
      trail: (r) => wrap('trail', m.trail(r), r),
    };
    return wrapped;
  };
  return recorded;
}

function worldWithMemberRole(deploy: 'stackset' | 'bootstrap'): OnboardingWorld {
  return onboardingWorld((o) => {
    o.memberRole =
      deploy === 'stackset'
        ? { name: ROLE, deploy, organizationalUnitIds: ['r-ab12'] }
        : { name: ROLE, deploy };
  });
}

/**
 * As the StackSet leaves an account: the member role and the baseline's roles exist as declared
 * (here made by one run through the administrator role), and nothing else of the baseline.
 */
async function asTheStackSetLeavesIt(w: OnboardingWorld) {
  const member = w.member();
  member.roles.set(ROLE, {
    arn: ROLE_ARN,
    trustPolicy: definition.trust,
    description: definition.description,
    tags: {},
    attached: [],
    inline: new Map([[MEMBER_ROLE_POLICY_NAME, definition.policy]]),
  });
  w.deps.accessViaAdminRoles = true;
  expect((await run(w)).outcome).toBe('ready');
  w.deps.accessViaAdminRoles = false;
  member.keys.clear();
  member.aliases.clear();
  member.vaults.clear();
  member.rules.clear();
  w.access.assumable.add(ROLE);
  w.clearLogs();
}

const run = (w: OnboardingWorld, req: Partial<OnboardRequest> = {}) =>
  onboardAccount({ accountId: MEMBER_ID, trigger: 'Manual', ...req }, w.deps);

function expectAllAllowed(recorded: Recorded[], member: FakeMemberAccount, check = allowed) {
  expect(recorded.length).toBeGreaterThan(0);
  for (const r of recorded) {
    const translate = CALLS[r.call];
    if (!translate) {
      throw new Error(`onboarding called ${r.call} through the member role: add it to the table`);
    }
    for (const req of translate(r.args, r.region, { keys: member.keys, policies: r.keyPolicies })) {
      if (!check(req)) {
        throw new Error(`${r.call} needs ${req.action} on ${req.resource}, which is denied`);
      }
    }
  }
}

const IAM_WRITES = [
  'iam.createRole',
  'iam.updateTrustPolicy',
  'iam.attachPolicy',
  'iam.putInlinePolicy',
];

describe('the member role’s permissions, against the calls onboarding makes', () => {
  it('allows every call that creates the key, vaults and rules, in every region of the profile', async () => {
    const w = worldWithMemberRole('stackset');
    await asTheStackSetLeavesIt(w);
    const recorded = recordThroughMemberRole(w);
    expect((await run(w)).outcome).toBe('ready');
    expectAllAllowed(recorded, w.member());
    const calls = new Set(recorded.map((r) => r.call));
    for (const c of [
      'kms.createKey',
      'kms.createAlias',
      'kms.enableRotation',
      'backup.createVault',
      'events.putRule',
      'events.putTarget',
    ]) {
      expect(calls).toContain(c);
    }
    // IAM is only read through it, and the administrator roles were never assumed.
    expect(recorded.filter((r) => IAM_WRITES.includes(r.call))).toEqual([]);
    expect(new Set(w.access.calls.map((c) => c.role))).toEqual(new Set([ROLE]));
    // Each new key's own policy names the member role; no tag grants it anything.
    for (const key of w.member().keys.values()) {
      expect(JSON.stringify(key.policy)).toContain(`"AWS":"${ROLE_ARN}"`);
    }
  });

  it('in the central backup account, allows every call that keeps the central vault, and only there', async () => {
    const w = worldWithMemberRole('stackset');
    const central = {
      accountId: MEMBER_ID,
      vaultName: 'org-central-vault',
      regions: ['us-east-1', 'eu-west-1'],
      vaultLock: { mode: 'governance' as const, minRetentionDays: 7 },
      airGappedVault: { name: 'org-air-gapped', minRetentionDays: 7, maxRetentionDays: 365 },
    };
    w.config.centralBackup = central;
    const roleHere = memberRoleDefinition(
      baseline,
      ROLE,
      baselineVaultNames(baseline, w.config),
      {
        partition: 'aws',
        accountId: MEMBER_ID,
        organizationId: ORG_ID,
        controlPlaneAccountId: '111122223333',
        controlPlaneRoleArn: CONTROL_PLANE_ROLE_ARN,
        centralBusArn: CENTRAL_BUS_ARN,
      },
      centralVault(w.config),
    ).policy as { Statement: unknown };
    await asTheStackSetLeavesIt(w);
    const recorded = recordThroughMemberRole(w);
    expect((await run(w)).outcome).toBe('ready');
    const calls = new Set(recorded.map((r) => r.call));
    for (const c of [
      'backup.putVaultAccessPolicy',
      'backup.putVaultLock',
      'backup.createAirGappedVault',
      'kms.createKey',
    ]) {
      expect(calls).toContain(c);
    }
    expectAllAllowed(recorded, w.member(), allowedBy(roleHere));
    // The same name in any other account, or another vault here: denied.
    const check = allowedBy(roleHere);
    const vaultIn = (account: string, name: string) =>
      `arn:aws:backup:eu-west-1:${account}:backup-vault:${name}`;
    for (const action of [
      'backup:PutBackupVaultAccessPolicy',
      'backup:PutBackupVaultLockConfiguration',
    ]) {
      expect(check({ action, resource: vaultIn(MEMBER_ID, central.vaultName) })).toBe(true);
      expect(check({ action, resource: vaultIn('999988887777', central.vaultName) })).toBe(false);
      expect(check({ action, resource: vaultIn(MEMBER_ID, baseline.vault.name) })).toBe(false);
    }
    for (const action of [
      'backup:DeleteBackupVaultLockConfiguration',
      'backup:DeleteBackupVaultAccessPolicy',
      'backup:DeleteBackupVault',
      'backup:DeleteRecoveryPoint',
    ]) {
      expect(check({ action, resource: vaultIn(MEMBER_ID, central.vaultName) })).toBe(false);
    }
  });

  it('the read-only role allows every read of the daily check’s dry run, the central account’s too', async () => {
    const w = onboardingWorld();
    w.config.centralBackup = {
      accountId: MEMBER_ID,
      vaultName: 'org-central-vault',
      regions: ['us-east-1', 'eu-west-1'],
      vaultLock: { mode: 'governance', minRetentionDays: 7 },
    };
    expect((await run(w)).outcome).toBe('ready');
    const readOnly = baseline.readOnlyRole.name;
    w.access.assumable.add(readOnly);
    const recorded = recordThroughMemberRole(w, readOnly);
    // As the daily check runs it (functions/watch-account/check.ts).
    const planned = await run(w, { dryRun: true, roles: [readOnly], trigger: 'Reconcile' });
    expect(planned).toMatchObject({ outcome: 'planned', changes: [] });
    expect(new Set(recorded.map((r) => r.call))).toContain('backup.vaultAccessPolicy');
    const readOnlyPolicy = fill(baseline.readOnlyRole.inlinePolicy, {
      partition: 'aws',
      accountId: MEMBER_ID,
      region: 'us-east-1',
      organizationId: ORG_ID,
      managementAccountId: '111122223333',
      centralBusArn: CENTRAL_BUS_ARN,
      controlPlaneRoleArn: CONTROL_PLANE_ROLE_ARN,
      watchRoleArn: CONTROL_PLANE_ROLE_ARN,
    }) as { Statement: unknown };
    // Key-level grants name the member role, not this one: its own policy must suffice.
    const byItsPolicy = (req: KeyedRequest) =>
      !denies(readOnlyPolicy, req) && allows(readOnlyPolicy, req);
    expectAllAllowed(
      recorded.map((r) => ({ ...r, keyPolicies: new Map() })),
      w.member(),
      byItsPolicy,
    );
  });

  it('the daily check of an account onboarded through it finds no drift (its keys name it)', async () => {
    const w = worldWithMemberRole('stackset');
    await asTheStackSetLeavesIt(w);
    expect((await run(w)).outcome).toBe('ready');
    const readOnly = baseline.readOnlyRole.name;
    w.access.assumable.add(readOnly);
    // As the daily check runs it (functions/watch-account/check.ts): its own role, a dry run.
    const planned = await run(w, { dryRun: true, roles: [readOnly], trigger: 'Reconcile' });
    expect(planned).toMatchObject({ outcome: 'planned', changes: [], findings: [] });
  });

  it('the daily check of an account the StackSet never reached (onboarded by an operator) finds no drift either', async () => {
    const w = worldWithMemberRole('stackset');
    // An operator's backupctl onboard, through the administrator role: no member role here.
    w.deps.accessViaAdminRoles = true;
    expect((await run(w)).outcome).toBe('ready');
    w.deps.accessViaAdminRoles = false;
    const readOnly = baseline.readOnlyRole.name;
    w.access.assumable.add(readOnly);
    const planned = await run(w, { dryRun: true, roles: [readOnly], trigger: 'Reconcile' });
    expect(planned).toMatchObject({ outcome: 'planned', changes: [], findings: [] });
  });

  it('allows every call of a repair (key policy, rotation, rule state and target)', async () => {
    const w = worldWithMemberRole('stackset');
    await asTheStackSetLeavesIt(w);
    expect((await run(w)).outcome).toBe('ready');
    const member = w.member();
    for (const key of member.keys.values()) {
      key.rotation = false;
      (key.policy as { Statement: unknown[] }).Statement.pop();
    }
    for (const rule of member.rules.values()) rule.targets = [];
    const recorded = recordThroughMemberRole(w);
    expect((await run(w)).outcome).toBe('ready');
    const calls = new Set(recorded.map((r) => r.call));
    for (const c of ['kms.putKeyPolicy', 'kms.enableRotation', 'events.putTarget']) {
      expect(calls).toContain(c);
    }
    expectAllAllowed(recorded, member);
  });

  it.each<[string, KeyedRequest]>([
    ...IAM_WRITES.map((call): [string, KeyedRequest] => [
      `writing IAM (${call}) on a baseline role`,
      {
        action: `iam:${
          {
            'iam.createRole': 'CreateRole',
            'iam.updateTrustPolicy': 'UpdateAssumeRolePolicy',
            'iam.attachPolicy': 'AttachRolePolicy',
            'iam.putInlinePolicy': 'PutRolePolicy',
          }[call]
        }`,
        resource: roleArn(baseline.readOnlyRole.name),
      },
    ]),
    [
      'changing an administrator role',
      { action: 'iam:PutRolePolicy', resource: roleArn('OrganizationAccountAccessRole') },
    ],
    ['changing its own trust', { action: 'iam:UpdateAssumeRolePolicy', resource: ROLE_ARN }],
    ['changing its own policy', { action: 'iam:PutRolePolicy', resource: ROLE_ARN }],
    [
      'passing the forwarder role to Lambda',
      {
        action: 'iam:PassRole',
        resource: roleArn(baseline.forwarding.role.name),
        context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
      },
    ],
    [
      'passing the backup service role at all',
      {
        action: 'iam:PassRole',
        resource: roleArn(baseline.serviceRole.name),
        context: { 'iam:PassedToService': 'events.amazonaws.com' },
      },
    ],
    ['creating an untagged key', { action: 'kms:CreateKey', resource: '*' }],
    [
      'creating a key tagged as someone else’s',
      {
        action: 'kms:CreateKey',
        resource: '*',
        context: { 'aws:RequestTag/managed-by': 'team-x' },
      },
    ],
    [
      'rewriting the policy of a key it did not create, even tagged as the control plane’s',
      {
        action: 'kms:PutKeyPolicy',
        resource: arn('kms', 'us-east-1', 'key/other'),
        context: managedKeyTags,
      },
    ],
    [
      'decrypting with a key it did not create',
      {
        action: 'kms:Decrypt',
        resource: arn('kms', 'us-east-1', 'key/other'),
        context: managedKeyTags,
      },
    ],
    [
      'pointing another alias',
      { action: 'kms:CreateAlias', resource: arn('kms', 'us-east-1', 'alias/other') },
    ],
    [
      'creating another vault',
      {
        action: 'backup:CreateBackupVault',
        resource: arn('backup', 'us-east-1', 'backup-vault:x'),
      },
    ],
    [
      'deleting the baseline vault',
      {
        action: 'backup:DeleteBackupVault',
        resource: arn('backup', 'us-east-1', `backup-vault:${baseline.vault.name}`),
      },
    ],
    [
      'deleting recovery points',
      {
        action: 'backup:DeleteRecoveryPoint',
        resource: arn('backup', 'us-east-1', 'recovery-point:x'),
      },
    ],
    [
      'changing another rule',
      { action: 'events:PutRule', resource: arn('events', 'us-east-1', 'rule/x') },
    ],
    [
      'aiming a baseline rule anywhere but the central bus',
      {
        action: 'events:PutTargets',
        resource: arn('events', 'us-east-1', `rule/${baseline.forwarding.ruleName}`),
        context: {
          'events:TargetArn': 'arn:aws:events:us-east-1:999999999999:event-bus/elsewhere',
        },
      },
    ],
    [
      'deleting a baseline rule',
      {
        action: 'events:DeleteRule',
        resource: arn('events', 'us-east-1', `rule/${baseline.forwarding.ruleName}`),
      },
    ],
    ['reading data', { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/key' }],
  ])('denies %s', (_what, req) => {
    expect(allowed(req)).toBe(false);
  });

  it('lets a key it created be deleted or locked out by nobody through it', () => {
    // Even if the key's policy were rewritten to grant the role everything.
    const everything = {
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ROLE_ARN }, Action: 'kms:*', Resource: '*' },
      ],
    };
    const k = arn('kms', 'us-east-1', 'key/k');
    for (const action of ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:DeleteAlias']) {
      expect(allowed({ action, resource: k, keyPolicy: everything })).toBe(false);
    }
    expect(
      allowed({
        action: 'kms:PutKeyPolicy',
        resource: k,
        keyPolicy: everything,
        context: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' },
      }),
    ).toBe(false);
    const keyPolicy = {
      Statement: memberRoleKeyStatements(ROLE_ARN),
    };
    const key = arn('kms', 'us-east-1', 'key/k');
    expect(allowed({ action: 'kms:PutKeyPolicy', resource: key, keyPolicy })).toBe(true);
    expect(allowed({ action: 'kms:ScheduleKeyDeletion', resource: key, keyPolicy })).toBe(false);
    expect(allowed({ action: 'kms:Decrypt', resource: key, keyPolicy })).toBe(false);
    expect(
      allowed({
        action: 'kms:Decrypt',
        resource: key,
        keyPolicy,
        context: { 'kms:ViaService': 'backup.us-east-1.amazonaws.com' },
      }),
    ).toBe(true);
  });

  it('is trusted by the onboarding role only, from the organization', () => {
    expect(definition.trust).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OnlyTheControlPlaneOnboardingRole',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:root' },
          Action: 'sts:AssumeRole',
          Condition: {
            ArnEquals: { 'aws:PrincipalArn': CONTROL_PLANE_ROLE_ARN },
            StringEquals: { 'aws:PrincipalOrgID': ORG_ID },
          },
        },
      ],
    });
  });
});

describe('onboarding through the member role', () => {
  it('stackset: an account without the role yet waits like a new account, then says how to fix it', async () => {
    const w = worldWithMemberRole('stackset');
    const result = await run(w, { trigger: 'CreateAccountResult' });
    if (result.outcome !== 'failed') throw new Error(`outcome ${result.outcome}`);
    expect(result.record.lastError).toMatchObject({
      step: 'access',
      message: expect.stringMatching(
        new RegExp(`cannot assume ${ROLE} in account ${MEMBER_ID} after trying for 600 s`),
      ),
    });
    expect(w.notifier.failedNotices[0]?.advice).toMatch(
      /StackSet \(output MemberRoleStackSetName\)/,
    );
    // Only the member role was tried, never an administrator role.
    expect(new Set(w.access.calls.map((c) => c.role))).toEqual(new Set([ROLE]));
  });

  it('stackset: a baseline role that drifted is reported with the StackSet fix, not rewritten', async () => {
    const w = worldWithMemberRole('stackset');
    await asTheStackSetLeavesIt(w);
    w.member().roles.get(baseline.readOnlyRole.name)!.inline.clear();
    const result = await run(w);
    if (result.outcome !== 'failed') throw new Error(`outcome ${result.outcome}`);
    expect(result.record.lastError).toMatchObject({
      step: 'baseline-iam',
      message: expect.stringMatching(/the stack's StackSet owns the baseline roles/),
    });
    expect(w.notifier.failedNotices[0]?.advice).toMatch(/npx backupctl onboard <account id>/);
  });

  it('the operator’s backupctl onboard uses the administrator roles; keys name the member role only if it exists', async () => {
    const w = worldWithMemberRole('stackset');
    w.deps.accessViaAdminRoles = true;
    expect((await run(w)).outcome).toBe('ready');
    expect(new Set(w.access.calls.map((c) => c.role))).toEqual(
      new Set(['OrganizationAccountAccessRole']),
    );
    // KMS refuses a key policy naming a role that does not exist (its instance failed here).
    for (const key of w.member().keys.values()) {
      expect(JSON.stringify(key.policy)).not.toContain(ROLE_ARN);
    }
    w.member().roles.set(ROLE, {
      arn: ROLE_ARN,
      trustPolicy: definition.trust,
      description: definition.description,
      tags: {},
      attached: [],
      inline: new Map([[MEMBER_ROLE_POLICY_NAME, definition.policy]]),
    });
    expect((await run(w)).outcome).toBe('ready');
    for (const key of w.member().keys.values()) {
      expect(JSON.stringify(key.policy)).toContain(`"AWS":"${ROLE_ARN}"`);
    }
  });

  it('bootstrap through backupctl onboard makes the member role before naming it in keys', async () => {
    const w = worldWithMemberRole('bootstrap');
    w.deps.accessViaAdminRoles = true;
    expect((await run(w)).outcome).toBe('ready');
    expect(w.member().roles.has(ROLE)).toBe(true);
    for (const key of w.member().keys.values()) {
      expect(JSON.stringify(key.policy)).toContain(`"AWS":"${ROLE_ARN}"`);
    }
  });

  it('bootstrap: IAM through the administrator role (the member role too), the rest through the member role', async () => {
    const w = worldWithMemberRole('bootstrap');
    // The role becomes assumable once it exists (as IAM does, after a few seconds).
    const assume = w.access.assume.bind(w.access);
    w.access.assume = async (accountId, role) => {
      if (role === ROLE && w.member(accountId).roles.has(ROLE)) w.access.assumable.add(ROLE);
      return assume(accountId, role);
    };
    const recorded = recordThroughMemberRole(w);
    const first = await run(w);
    if (first.outcome !== 'ready') throw new Error(`outcome ${first.outcome}`);
    const created = w.member().roles.get(ROLE)!;
    expect(created.trustPolicy).toEqual(definition.trust);
    expect(created.inline.get(MEMBER_ROLE_POLICY_NAME)).toEqual(definition.policy);
    expect(first.changes).toContain(`access: create role ${ROLE}`);
    expect(recorded.some((r) => r.call === 'kms.createKey')).toBe(true);
    expect(recorded.filter((r) => IAM_WRITES.includes(r.call))).toEqual([]);
    expectAllAllowed(recorded, w.member());

    // Changed by hand: put back through the administrator role on the next run.
    created.inline.set(MEMBER_ROLE_POLICY_NAME, { Version: '2012-10-17', Statement: [] });
    w.clearLogs();
    const second = await run(w);
    expect(second.outcome).toBe('ready');
    expect(created.inline.get(MEMBER_ROLE_POLICY_NAME)).toEqual(definition.policy);
  });
});

describe('the member role elsewhere', () => {
  it('tamper detection takes its calls as onboarding’s own, and watches it like a baseline role', () => {
    const config = exampleConfig();
    config.onboarding!.memberRole = { name: ROLE, deploy: 'bootstrap' };
    const { tamper } = decideContext(config);
    expect(tamper.accessRoles).toContain(ROLE);
    expect(tamper.baselineRoleNames.has(ROLE)).toBe(true);
    const without = decideContext(exampleConfig()).tamper;
    expect(without.accessRoles).not.toContain(ROLE);
  });

  it('backupctl onboard assumes the administrator roles (the member role trusts only the function)', () => {
    const config = exampleConfig();
    config.onboarding!.memberRole = { name: ROLE, deploy: 'bootstrap' };
    expect(cliOnboardDeps(config, true, {}).accessViaAdminRoles).toBe(true);
  });
});
