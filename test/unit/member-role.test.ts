import { loadBaseline } from '../../functions/onboard-account/baseline';
import {
  baselineVaultNames,
  MANAGED_TAG,
  MEMBER_ROLE_POLICY_NAME,
  memberRoleDefinition,
} from '../../functions/onboard-account/member-role';
import { onboardAccount, type OnboardRequest } from '../../functions/onboard-account/onboard';
import type { MemberAccount } from '../../functions/shared/ports';
import { allows, type IamRequest } from '../helpers/iam-policy';
import {
  CONTROL_PLANE_ROLE_ARN,
  MEMBER_ID,
  onboardingWorld,
  ORG_ID,
  type FakeMemberAccount,
  type OnboardingWorld,
} from '../helpers/onboarding-fakes';
import { exampleConfig } from '../helpers/fixtures';

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
  },
);
const policy = definition.policy as { Statement: unknown };

const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${MEMBER_ID}:${resource}`;
const roleArn = (name: string) => arn('iam', '', `role/${name}`);
const managedKeyTags = { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value };

/** One port call → the IAM requests AWS authorizes for it (its adapter's SDK calls). */
type Translate = (args: unknown[], region: string, member: FakeMemberAccount) => IamRequest[];

const keyRequests = (member: FakeMemberAccount, keyId: string, actions: string[]) => {
  const key = member.keys.get(keyId);
  const context = Object.fromEntries(
    Object.entries(key?.tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]),
  );
  return actions.map((action) => ({
    action,
    resource: key?.keyArn ?? arn('kms', 'us-east-1', `key/${keyId}`),
    context,
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
    ...keyRequests(member, (keyArn as string).split('/').pop()!, [
      'kms:CreateGrant',
      'kms:GenerateDataKey',
      'kms:Decrypt',
      'kms:RetireGrant',
      'kms:DescribeKey',
    ]),
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
  'events.putTarget': ([name, target], region) => [
    { action: 'events:PutTargets', resource: arn('events', region, `rule/${name}`) },
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
}

/** Every port call made through the member role, recorded as it is made. */
function recordThroughMemberRole(w: OnboardingWorld): Recorded[] {
  const recorded: Recorded[] = [];
  const assume = w.access.assume.bind(w.access);
  const wrap = <T extends object>(port: string, target: T, region: string): T =>
    new Proxy(target, {
      get(t, method: string) {
        const fn = (t as Record<string, unknown>)[method];
        if (typeof fn !== 'function') return fn;
        return (...args: unknown[]) => {
          recorded.push({ call: `${port}.${method}`, args, region });
          return (fn as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  w.access.assume = async (accountId, role) => {
    const m = await assume(accountId, role);
    if (role !== ROLE) return m;
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

/** The member role exists as declared (as the StackSet makes it), and may be assumed. */
function giveMemberRole(w: OnboardingWorld) {
  const member = w.member();
  member.roles.set(ROLE, {
    arn: roleArn(ROLE),
    trustPolicy: definition.trust,
    description: definition.description,
    tags: {},
    attached: [],
    inline: new Map([[MEMBER_ROLE_POLICY_NAME, definition.policy]]),
  });
  w.access.assumable.add(ROLE);
}

const run = (w: OnboardingWorld, req: Partial<OnboardRequest> = {}) =>
  onboardAccount({ accountId: MEMBER_ID, trigger: 'Manual', ...req }, w.deps);

function expectAllAllowed(recorded: Recorded[], member: FakeMemberAccount) {
  expect(recorded.length).toBeGreaterThan(0);
  for (const r of recorded) {
    const translate = CALLS[r.call];
    if (!translate) {
      throw new Error(`onboarding called ${r.call} through the member role: add it to the table`);
    }
    for (const req of translate(r.args, r.region, member)) {
      if (!allows(policy, req)) {
        throw new Error(`${r.call} needs ${req.action} on ${req.resource}, which is denied`);
      }
    }
  }
}

describe('the member role’s permissions, against the calls onboarding makes', () => {
  it('allows every call of a first onboarding, in every region of the profile', async () => {
    const w = worldWithMemberRole('stackset');
    giveMemberRole(w);
    const recorded = recordThroughMemberRole(w);
    expect((await run(w, { accountId: MEMBER_ID })).outcome).toBe('ready');
    expectAllAllowed(recorded, w.member());
    // Creating and configuring each kind of baseline resource went through the role.
    const calls = new Set(recorded.map((r) => r.call));
    for (const c of [
      'iam.createRole',
      'iam.attachPolicy',
      'iam.putInlinePolicy',
      'kms.createKey',
      'kms.createAlias',
      'kms.enableRotation',
      'backup.createVault',
      'events.putRule',
      'events.putTarget',
    ]) {
      expect(calls).toContain(c);
    }
    // The administrator roles were never assumed.
    expect(new Set(w.access.calls.map((c) => c.role))).toEqual(new Set([ROLE]));
  });

  it('allows every call of a repair after drift (trust, policies, key policy, rotation, rules)', async () => {
    const w = worldWithMemberRole('stackset');
    giveMemberRole(w);
    expect((await run(w)).outcome).toBe('ready');
    const member = w.member();
    // Drift by hand: a role's trust, its inline policy, the key's rotation, a rule's target.
    const forwarder = member.roles.get(baseline.forwarding.role.name)!;
    forwarder.trustPolicy = { Version: '2012-10-17', Statement: [] };
    forwarder.inline.clear();
    for (const key of member.keys.values()) key.rotation = false;
    for (const rule of member.rules.values()) rule.targets = [];
    const recorded = recordThroughMemberRole(w);
    expect((await run(w)).outcome).toBe('ready');
    const calls = new Set(recorded.map((r) => r.call));
    for (const c of ['iam.updateTrustPolicy', 'iam.putInlinePolicy', 'kms.enableRotation']) {
      expect(calls).toContain(c);
    }
    expectAllAllowed(recorded, member);
  });

  it.each<[string, IamRequest]>([
    [
      'changing an administrator role',
      { action: 'iam:PutRolePolicy', resource: roleArn('OrganizationAccountAccessRole') },
    ],
    ['creating any other role', { action: 'iam:CreateRole', resource: roleArn('admin') }],
    ['changing its own trust', { action: 'iam:UpdateAssumeRolePolicy', resource: roleArn(ROLE) }],
    ['changing its own policy', { action: 'iam:PutRolePolicy', resource: roleArn(ROLE) }],
    [
      'attaching AdministratorAccess to a baseline role',
      {
        action: 'iam:AttachRolePolicy',
        resource: roleArn(baseline.serviceRole.name),
        context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' },
      },
    ],
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
      'rewriting the policy of a key it did not create',
      { action: 'kms:PutKeyPolicy', resource: arn('kms', 'us-east-1', 'key/other') },
    ],
    [
      'deleting the baseline key',
      {
        action: 'kms:ScheduleKeyDeletion',
        resource: arn('kms', 'us-east-1', 'key/k'),
        context: managedKeyTags,
      },
    ],
    [
      'decrypting with a key it did not create',
      { action: 'kms:Decrypt', resource: arn('kms', 'us-east-1', 'key/other') },
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
      'deleting a baseline rule',
      {
        action: 'events:DeleteRule',
        resource: arn('events', 'us-east-1', `rule/${baseline.forwarding.ruleName}`),
      },
    ],
    ['reading data', { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/key' }],
  ])('denies %s', (_what, req) => {
    expect(allows(policy, req)).toBe(false);
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
    expect(result.outcome).toBe('failed');
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

  it('bootstrap: creates the role once through the administrator role, then uses it', async () => {
    const w = worldWithMemberRole('bootstrap');
    // The role becomes assumable once it exists (as IAM does, after a few seconds).
    const assume = w.access.assume.bind(w.access);
    w.access.assume = async (accountId, role) => {
      if (role === ROLE && w.member(accountId).roles.has(ROLE)) w.access.assumable.add(ROLE);
      return assume(accountId, role);
    };
    const first = await run(w);
    if (first.outcome !== 'ready') throw new Error(`outcome ${first.outcome}`);
    const created = w.member().roles.get(ROLE)!;
    expect(created.trustPolicy).toEqual(definition.trust);
    expect(created.inline.get(MEMBER_ROLE_POLICY_NAME)).toEqual(definition.policy);
    expect(first.changes).toContain(`access: create role ${ROLE}`);

    w.clearLogs();
    const second = await run(w);
    expect(second.outcome).toBe('ready');
    expect(w.access.calls.map((c) => c.role)).toEqual([ROLE]);

    // Changed by hand: put back through the administrator role on the next run.
    created.inline.set(MEMBER_ROLE_POLICY_NAME, { Version: '2012-10-17', Statement: [] });
    w.clearLogs();
    const third = await run(w);
    expect(third.outcome).toBe('ready');
    expect(w.access.calls.map((c) => c.role)).toContain('OrganizationAccountAccessRole');
    expect(created.inline.get(MEMBER_ROLE_POLICY_NAME)).toEqual(definition.policy);
  });
});
