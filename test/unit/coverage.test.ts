import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEffectivePolicy } from '../../functions/shared/backup-plans/merge';
import type {
  PlanDescription,
  RuleDescription,
  SelectionDescription,
} from '../../functions/shared/backup-plans/describe';
import type { ProtectedResource } from '../../functions/shared/ports';
import {
  accountCoverage,
  backupResourceType,
  DEFAULT_GRACE_MS,
  judge,
  selectionsFor,
  summarise,
  type CoverageDeps,
  type RegionFacts,
  type Selection,
} from '../../functions/watch-account/coverage';
import { ROOT } from '../helpers/fixtures';
import {
  awsError,
  FakeMemberAccount,
  FakeOrganization,
  InMemoryCheckLedger,
  MEMBER_ID,
  PRODUCTION_OU,
} from '../helpers/onboarding-fakes';

/** Coverage (functions/watch-account/coverage.ts): which tagged resources are backed up. */

const H = 3600_000;
const NOW = new Date('2025-03-13T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const SERVICE = 'backup-control-plane-backup-service';
const SERVICE_ARN = `arn:aws:iam::${MEMBER_ID}:role/${SERVICE}`;
const TABLE = `arn:aws:dynamodb:us-east-1:${MEMBER_ID}:table/orders`;
const INSTANCE = `arn:aws:ec2:us-east-1:${MEMBER_ID}:instance/i-0abc1234def567890`;
const FUNCTION = `arn:aws:lambda:us-east-1:${MEMBER_ID}:function:resize`;
const VOLUME = `arn:aws:ec2:eu-west-1:${MEMBER_ID}:volume/vol-0123456789abcdef0`;

function rule(
  name: string,
  expression: string,
  windows: { start?: number; complete?: number } = {},
): RuleDescription {
  return {
    rule: name,
    schedule: { expression, timezone: 'UTC', text: expression },
    ...(windows.start !== undefined ? { startWindowMinutes: windows.start } : {}),
    ...(windows.complete !== undefined ? { completeWindowMinutes: windows.complete } : {}),
    vault: 'org-backup-vault',
    copies: [],
    continuous: false,
  };
}

function tags(tagKey: string, tagValues: string[], role?: string): SelectionDescription {
  return { name: `by-${tagKey}`, kind: 'tags', tagKey, tagValues, conditions: [], role };
}

function plan(name: string, over: Partial<PlanDescription> = {}): PlanDescription {
  return {
    plan: name,
    regions: ['us-east-1'],
    rules: [rule('daily', 'cron(0 5 ? * * *)', { start: 60, complete: 480 })],
    selections: [tags('backup-plan', ['daily'], 'arn:aws:iam::$account:role/' + SERVICE)],
    problems: [],
    ...over,
  };
}

const policyFile = (name: string) =>
  JSON.parse(
    readFileSync(join(ROOT, 'infra', 'backup-policies', `${name}.json`), 'utf8'),
  ) as unknown;

describe('backupResourceType', () => {
  it.each([
    [`arn:aws:dynamodb:us-east-1:${MEMBER_ID}:table/orders`, 'DynamoDB'],
    [`arn:aws:ec2:us-east-1:${MEMBER_ID}:instance/i-0abc`, 'EC2'],
    [`arn:aws:ec2:us-east-1:${MEMBER_ID}:volume/vol-0abc`, 'EBS'],
    [`arn:aws:rds:us-east-1:${MEMBER_ID}:db:orders`, 'RDS'],
    [`arn:aws:rds:us-east-1:${MEMBER_ID}:cluster:orders-aurora`, 'Aurora'],
    [`arn:aws:elasticfilesystem:us-east-1:${MEMBER_ID}:file-system/fs-0abc`, 'EFS'],
    [`arn:aws:fsx:us-east-1:${MEMBER_ID}:file-system/fs-0abc`, 'FSx'],
    ['arn:aws:s3:::assets.example.com', 'S3'],
    [
      `arn:aws:storagegateway:us-east-1:${MEMBER_ID}:gateway/sgw-12A3456B/volume/vol-1122AABB`,
      'Storage Gateway',
    ],
    [`arn:aws:redshift:us-east-1:${MEMBER_ID}:cluster:warehouse`, 'Redshift'],
    [`arn:aws:timestream:us-east-1:${MEMBER_ID}:database/metrics/table/cpu`, 'Timestream'],
    [
      `arn:aws:cloudformation:us-east-1:${MEMBER_ID}:stack/app/0a1b2c3d-1111-2222-3333-444455556666`,
      'CloudFormation',
    ],
    ['arn:aws-cn:s3:::cn-bucket', 'S3'],
  ])('%s is %s', (arn, type) => {
    expect(backupResourceType(arn)).toBe(type);
  });

  it.each([
    ['an S3 object (only buckets are backed up)', 'arn:aws:s3:::assets.example.com/logo.png'],
    ['an EC2 snapshot', `arn:aws:ec2:us-east-1:${MEMBER_ID}:snapshot/snap-0abc`],
    ['an AMI', 'arn:aws:ec2:us-east-1::image/ami-0abc'],
    ['an RDS snapshot', `arn:aws:rds:us-east-1:${MEMBER_ID}:snapshot:rds:orders-2025`],
    ['an EFS access point', `arn:aws:elasticfilesystem:us-east-1:${MEMBER_ID}:access-point/fsap-1`],
    ['a DynamoDB backup', `arn:aws:dynamodb:us-east-1:${MEMBER_ID}:backup/x`],
    ['a Redshift snapshot', `arn:aws:redshift:us-east-1:${MEMBER_ID}:snapshot:warehouse/s1`],
    ['a Lambda function', FUNCTION],
    ['an SQS queue', `arn:aws:sqs:us-east-1:${MEMBER_ID}:jobs`],
    ['a CloudFormation stack set', `arn:aws:cloudformation:us-east-1:${MEMBER_ID}:stackset/x:1`],
    [
      'a Storage Gateway gateway (only its volumes are backed up)',
      `arn:aws:storagegateway:us-east-1:${MEMBER_ID}:gateway/sgw-12A3456B`,
    ],
    ['a Storage Gateway tape', `arn:aws:storagegateway:us-east-1:${MEMBER_ID}:tape/TEST04A2A1`],
    [
      'a Timestream database (only its tables are backed up)',
      `arn:aws:timestream:us-east-1:${MEMBER_ID}:database/metrics`,
    ],
    ['text that is no ARN', 'orders'],
    ['an empty string', ''],
  ])('%s is not a type AWS Backup backs up', (_, arn) => {
    expect(backupResourceType(arn)).toBeUndefined();
  });
});

describe('selectionsFor', () => {
  it('reads the tag selections of the real daily policy, $account filled', () => {
    const plans = readEffectivePolicy(policyFile('daily-35-days'));
    expect(selectionsFor(plans, 'us-east-1', MEMBER_ID)).toEqual([
      {
        policy: 'org-daily-35-days',
        plan: 'org-daily-35-days',
        rule: 'daily',
        tagKey: 'backup-plan',
        tagValues: ['daily'],
        role: SERVICE_ARN,
        // every 24 h, plus the 60 + 480 minute windows, plus the grace period
        dueWithinMs: 24 * H + 9 * H + DEFAULT_GRACE_MS,
        vault: 'org-backup-vault',
      },
    ]);
  });

  it('leaves out plans that do not run in the region', () => {
    const plans = readEffectivePolicy(policyFile('daily-35-days'));
    expect(selectionsFor(plans, 'eu-west-1', MEMBER_ID)).toEqual([]);
  });

  it('lets the most frequent rule decide when a resource is late', () => {
    const plans = readEffectivePolicy(policyFile('production-critical'));
    const [selection, ...more] = selectionsFor(plans, 'eu-west-1', MEMBER_ID, 0);
    expect(more).toEqual([]);
    // every-4-hours: 4 h + (60 + 180) min; daily-1-year would allow 24 h + (60 + 720) min.
    expect(selection).toMatchObject({
      rule: 'every-4-hours',
      tagKey: 'Backup',
      tagValues: ['Production'],
      dueWithinMs: 8 * H,
    });
  });

  it('takes the rule that is due soonest whatever its order in the plan', () => {
    const p = plan('p', {
      rules: [
        rule('weekly', 'cron(0 3 ? * 1 *)', { start: 60, complete: 60 }),
        rule('hourly', 'cron(0 * ? * * *)', { start: 60, complete: 60 }),
      ],
    });
    expect(selectionsFor([p], 'us-east-1', MEMBER_ID, 0)[0]).toMatchObject({
      rule: 'hourly',
      dueWithinMs: 3 * H,
    });
  });

  it("uses AWS Backup's default windows (8 h to start, 7 days to complete) when a rule gives none", () => {
    const p = plan('p', { rules: [rule('daily', 'cron(0 5 ? * * *)')] });
    expect(selectionsFor([p], 'us-east-1', MEMBER_ID, 0)[0]!.dueWithinMs).toBe(
      24 * H + 8 * H + 7 * 24 * H,
    );
  });

  it('counts a schedule it cannot read as daily', () => {
    const p = plan('p', { rules: [rule('odd', 'rate(1 day)', { start: 0, complete: 0 })] });
    expect(selectionsFor([p], 'us-east-1', MEMBER_ID, 0)[0]!.dueWithinMs).toBe(24 * H);
  });

  it('adds the grace period given', () => {
    const p = plan('p');
    expect(selectionsFor([p], 'us-east-1', MEMBER_ID, 2 * H)[0]!.dueWithinMs).toBe(35 * H);
  });

  it('fills every $account in the role and keeps a selection without a role', () => {
    const p = plan('p', {
      selections: [tags('a', ['1'], 'arn:aws:iam::$account:role/x-$account'), tags('b', [])],
    });
    const [withRole, without] = selectionsFor([p], 'us-east-1', MEMBER_ID);
    expect(withRole!.role).toBe(`arn:aws:iam::${MEMBER_ID}:role/x-${MEMBER_ID}`);
    expect(without).toMatchObject({ tagKey: 'b', tagValues: [] });
    expect(without).not.toHaveProperty('role');
  });

  it('leaves out resource selections, selections without a tag key, and plans without rules', () => {
    const byResource: SelectionDescription = {
      name: 'all-tables',
      kind: 'resources',
      resourceTypes: ['arn:aws:dynamodb:*:*:table/*'],
      notResourceTypes: [],
      conditions: [],
    };
    const noKey: SelectionDescription = {
      name: 'broken',
      kind: 'tags',
      tagValues: ['x'],
      conditions: [],
    };
    expect(
      selectionsFor([plan('p', { selections: [byResource, noKey] })], 'us-east-1', MEMBER_ID),
    ).toEqual([]);
    expect(selectionsFor([plan('p', { rules: [] })], 'us-east-1', MEMBER_ID)).toEqual([]);
  });
});

describe('judge', () => {
  const DUE = 39 * H;
  const selection = (over: Partial<Selection> = {}): Selection => ({
    policy: 'org-daily-35-days',
    plan: 'org-daily-35-days',
    rule: 'daily',
    tagKey: 'backup-plan',
    tagValues: ['daily'],
    role: SERVICE_ARN,
    dueWithinMs: DUE,
    vault: 'org-backup-vault',
    ...over,
  });
  const facts = (over: Partial<RegionFacts> = {}): RegionFacts => ({
    accountId: MEMBER_ID,
    region: 'us-east-1',
    optIn: {},
    protectedResources: new Map(),
    blockers: [],
    missingRoles: new Set(),
    firstSeen: new Map(),
    ...over,
  });
  const backedUp = (arn: string, at: Date) =>
    new Map<string, ProtectedResource>([[arn, { arn, lastBackupTime: at }]]);
  const base = {
    accountId: MEMBER_ID,
    region: 'us-east-1',
    resourceArn: TABLE,
    resourceType: 'DynamoDB',
    policy: 'org-daily-35-days',
    rule: 'daily',
  };

  it('has nothing to say about a type AWS Backup does not back up', () => {
    expect(judge(FUNCTION, selection(), facts(), NOW)).toBeUndefined();
  });

  it('calls a resource backed up within the rule interval protected', () => {
    const last = ago(DUE);
    expect(
      judge(TABLE, selection(), facts({ protectedResources: backedUp(TABLE, last) }), NOW),
    ).toEqual({
      ...base,
      lastBackupTime: last.toISOString(),
      status: 'protected',
      severity: 'none',
      incident: '',
      reason: 'on time',
    });
  });

  it('calls it late one millisecond after, an error, its incident its last backup', () => {
    const last = ago(DUE + 1);
    expect(
      judge(TABLE, selection(), facts({ protectedResources: backedUp(TABLE, last) }), NOW),
    ).toEqual({
      ...base,
      lastBackupTime: last.toISOString(),
      status: 'late',
      severity: 'error',
      incident: `late-since-${last.toISOString()}`,
      reason:
        "last backup 39 h ago, expected within 39 h (rule daily); check the plan's jobs in AWS Backup (a rule that never started, a failing job)",
    });
  });

  it('names the blockers of the region as the likely cause', () => {
    const row = judge(
      TABLE,
      selection(),
      facts({
        protectedResources: backedUp(TABLE, ago(50 * H)),
        blockers: ['backup vault org-backup-vault is missing in us-east-1'],
      }),
      NOW,
    );
    expect(row?.reason).toBe(
      'last backup 50 h ago, expected within 39 h (rule daily); likely cause: backup vault org-backup-vault is missing in us-east-1',
    );
  });

  it('names a selection role that does not exist as the likely cause', () => {
    const row = judge(TABLE, selection(), facts({ missingRoles: new Set([SERVICE_ARN]) }), NOW);
    expect(row?.reason).toBe(
      `tagged for plan org-daily-35-days, never backed up; likely cause: the selection's role ${SERVICE_ARN} does not exist in the account`,
    );
  });

  it('gives both causes, blockers first', () => {
    const row = judge(
      TABLE,
      selection(),
      facts({
        blockers: ['KMS key alias/x is missing in us-east-1'],
        missingRoles: new Set([SERVICE_ARN]),
      }),
      NOW,
    );
    expect(row?.reason).toContain(
      `likely cause: KMS key alias/x is missing in us-east-1; the selection's role ${SERVICE_ARN} does not exist`,
    );
  });

  it('warns about a resource never backed up while it is within its first interval', () => {
    const seen = ago(DUE).toISOString();
    expect(judge(TABLE, selection(), facts({ firstSeen: new Map([[TABLE, seen]]) }), NOW)).toEqual({
      ...base,
      lastBackupTime: null,
      status: 'never',
      severity: 'warning',
      incident: 'never-warning',
      reason: `tagged ${seen}, no backup yet (the first is due within 39 h); check the plan's jobs in AWS Backup (a rule that never started, a failing job)`,
    });
  });

  it('escalates it to an error once first seen longer ago than that (a new incident)', () => {
    const seen = ago(DUE + 1).toISOString();
    expect(
      judge(TABLE, selection(), facts({ firstSeen: new Map([[TABLE, seen]]) }), NOW),
    ).toMatchObject({
      status: 'never',
      severity: 'error',
      incident: 'never-error',
      reason: expect.stringMatching(/^tagged for plan org-daily-35-days, never backed up;/),
    });
  });

  it('calls a resource never backed up and never seen before an error', () => {
    expect(judge(TABLE, selection(), facts(), NOW)).toMatchObject({
      status: 'never',
      severity: 'error',
      incident: 'never-error',
    });
  });

  it('says the type is not opted in when the region has it off, even with an old backup', () => {
    const row = judge(
      TABLE,
      selection(),
      facts({ optIn: { DynamoDB: false, EC2: true }, protectedResources: backedUp(TABLE, ago(H)) }),
      NOW,
    );
    expect(row).toMatchObject({
      status: 'not-opted-in',
      severity: 'error',
      incident: 'opt-in-off',
      lastBackupTime: ago(H).toISOString(),
    });
    expect(row?.reason).toBe(
      'AWS Backup is not opted in for DynamoDB in us-east-1: it is never backed up. Turn it on in AWS Backup → Settings → Service opt-in',
    );
  });

  it('judges normally when the type is opted in, or not listed', () => {
    const on = facts({ optIn: { DynamoDB: true }, protectedResources: backedUp(TABLE, ago(H)) });
    expect(judge(TABLE, selection(), on, NOW)?.status).toBe('protected');
    const unlisted = facts({ optIn: { EC2: false }, protectedResources: backedUp(TABLE, ago(H)) });
    expect(judge(TABLE, selection(), unlisted, NOW)?.status).toBe('protected');
  });
});

describe('summarise', () => {
  it('counts each status and keeps the missed rows without severity and incident', () => {
    const row = (status: 'protected' | 'late' | 'never' | 'not-opted-in', i: number) => ({
      accountId: MEMBER_ID,
      region: 'us-east-1',
      resourceArn: `${TABLE}-${i}`,
      resourceType: 'DynamoDB',
      policy: 'p',
      rule: 'r',
      lastBackupTime: null,
      status,
      reason: status,
      severity: 'error' as const,
      incident: `i-${i}`,
    });
    const rows = [row('protected', 1), row('late', 2), row('never', 3), row('not-opted-in', 4)];
    const summary = summarise(rows, ['a note']);
    expect(summary).toEqual({
      resources: 4,
      protected: 1,
      late: 1,
      never: 1,
      notOptedIn: 1,
      missed: rows.slice(1).map(({ severity: _s, incident: _i, ...r }) => r),
      notes: ['a note'],
    });
  });

  it('keeps at most 50 missed rows but counts them all', () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({
      accountId: MEMBER_ID,
      region: 'us-east-1',
      resourceArn: `${TABLE}-${i}`,
      resourceType: 'DynamoDB',
      policy: 'p',
      rule: 'r',
      lastBackupTime: null,
      status: 'never' as const,
      reason: '',
      severity: 'error' as const,
      incident: 'never-error',
    }));
    const summary = summarise(rows, []);
    expect(summary.never).toBe(60);
    expect(summary.missed).toHaveLength(50);
  });
});

describe('accountCoverage', () => {
  /** A production account (us-east-1 and eu-west-1, tag Backup=Production, every 4 hours). */
  function world() {
    const org = new FakeOrganization();
    org.addAccount({ id: MEMBER_ID, name: 'Payments', status: 'ACTIVE' }, PRODUCTION_OU);
    org.attachByHand('production-critical', MEMBER_ID);
    const member = new FakeMemberAccount(MEMBER_ID);
    member.roles.set(SERVICE, {
      arn: SERVICE_ARN,
      trustPolicy: {},
      description: '',
      tags: {},
      attached: [],
      inline: new Map(),
    });
    member.tagged.set('us-east-1|Backup=Production', [TABLE, INSTANCE, FUNCTION]);
    member.tagged.set('eu-west-1|Backup=Production', [VOLUME]);
    member.tagged.set('us-east-1|Backup=Staging', [`${TABLE}-staging`]);
    member.protectedByRegion.set('us-east-1', [
      { arn: TABLE, type: 'DynamoDB', lastBackupTime: ago(2 * H) },
      { arn: INSTANCE, type: 'EC2', lastBackupTime: ago(20 * H) },
    ]);
    const checks = new InMemoryCheckLedger();
    const firstSeen = jest.fn((id: string, arns: string[], now: Date) =>
      checks.firstSeen(id, arns, now),
    );
    const deps: CoverageDeps = {
      effectivePolicy: (id) => org.effectiveBackupPolicy(id),
      firstSeen,
      now: NOW,
    };
    return { org, member, checks, firstSeen, deps };
  }
  const REGIONS = ['us-east-1', 'eu-west-1'];

  it('judges each tagged resource of each region against its last backup', async () => {
    const { member, deps, firstSeen } = world();
    const { rows, summary } = await accountCoverage(member, REGIONS, new Map(), deps);

    expect(rows.map((r) => [r.region, r.resourceArn, r.status, r.severity])).toEqual([
      ['us-east-1', TABLE, 'protected', 'none'],
      ['us-east-1', INSTANCE, 'late', 'error'],
      ['eu-west-1', VOLUME, 'never', 'warning'],
    ]);
    expect(rows[1]).toMatchObject({
      resourceType: 'EC2',
      policy: 'org-production-critical',
      rule: 'every-4-hours',
      lastBackupTime: ago(20 * H).toISOString(),
      reason: expect.stringContaining('last backup 20 h ago, expected within 14 h'),
    });
    // Only the resources without a backup are remembered as first seen.
    expect(firstSeen).toHaveBeenCalledTimes(1);
    expect(firstSeen).toHaveBeenCalledWith(MEMBER_ID, [VOLUME], NOW);
    expect(summary).toEqual({
      resources: 3,
      protected: 1,
      late: 1,
      never: 1,
      notOptedIn: 0,
      missed: rows.slice(1).map(({ severity: _s, incident: _i, ...r }) => r),
      notes: [],
    });
    expect(member.reads.filter((r) => r.startsWith('tagging:'))).toEqual([
      'tagging:us-east-1:Backup',
      'tagging:eu-west-1:Backup',
    ]);
  });

  it('escalates a resource never backed up from a warning to an error as days pass', async () => {
    const { member, deps } = world();
    const first = await accountCoverage(member, ['eu-west-1'], new Map(), deps);
    expect(first.rows[0]).toMatchObject({ status: 'never', severity: 'warning' });
    const later = await accountCoverage(member, ['eu-west-1'], new Map(), {
      ...deps,
      now: new Date(NOW.getTime() + 15 * H),
    });
    expect(later.rows[0]).toMatchObject({
      status: 'never',
      severity: 'error',
      incident: 'never-error',
    });
  });

  it('says a type is not opted in where the region has it off', async () => {
    const { member, deps } = world();
    member.optIn.set('eu-west-1', { EBS: false });
    const { rows } = await accountCoverage(member, REGIONS, new Map(), deps);
    expect(rows.find((r) => r.resourceArn === VOLUME)).toMatchObject({ status: 'not-opted-in' });
    expect(rows.find((r) => r.resourceArn === INSTANCE)).toMatchObject({ status: 'late' });
  });

  it('names the blockers of each region and a missing selection role as likely causes', async () => {
    const { member, deps } = world();
    member.roles.delete(SERVICE);
    const blockers = new Map([
      ['eu-west-1', ['backup vault org-backup-vault is missing in eu-west-1']],
    ]);
    const { rows } = await accountCoverage(member, REGIONS, blockers, deps);
    const role = `the selection's role ${SERVICE_ARN} does not exist in the account`;
    expect(rows.find((r) => r.resourceArn === INSTANCE)!.reason).toMatch(
      new RegExp(`likely cause: ${role.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`),
    );
    expect(rows.find((r) => r.resourceArn === VOLUME)!.reason).toContain(
      `likely cause: backup vault org-backup-vault is missing in eu-west-1; ${role}`,
    );
  });

  it('reads nothing in a region where no plan runs, and nothing at all without a policy', async () => {
    const { member, deps, org } = world();
    await accountCoverage(member, ['ap-southeast-2'], new Map(), deps);
    expect(member.reads).toEqual([]);
    org.attachments.clear();
    const none = await accountCoverage(member, REGIONS, new Map(), deps);
    expect(none.rows).toEqual([]);
    expect(none.summary.resources).toBe(0);
    expect(member.reads).toEqual([]);
  });

  it('turns a region whose tagged resources cannot be listed into a note, and judges the others', async () => {
    const { member, deps } = world();
    const tagging = member.tagging.bind(member);
    jest.spyOn(member, 'tagging').mockImplementation((region) =>
      region === 'eu-west-1'
        ? {
            taggedResources: async () => {
              throw awsError('ThrottlingException', 'Rate exceeded');
            },
          }
        : tagging(region),
    );
    const { rows, summary } = await accountCoverage(member, REGIONS, new Map(), deps);
    expect(rows.map((r) => r.resourceArn)).toEqual([TABLE, INSTANCE]);
    expect(summary.notes).toEqual([
      'eu-west-1: resources tagged Backup could not be listed: Rate exceeded',
    ]);
  });

  it('lets access denied through (the check reports the account unverifiable)', async () => {
    const { member, deps } = world();
    member.failures.set(
      'tagging.taggedResources',
      awsError(
        'AccessDeniedException',
        `User: arn:aws:sts::${MEMBER_ID}:assumed-role/backup-control-plane-read-only/check is not authorized to perform: tag:GetResources`,
      ),
    );
    await expect(accountCoverage(member, REGIONS, new Map(), deps)).rejects.toThrow(
      'not authorized to perform: tag:GetResources',
    );
  });

  it('lets a denied read of the protected resources through', async () => {
    const { member, deps } = world();
    member.failures.set(
      'backup.protectedResources',
      awsError('AccessDeniedException', 'not authorized to perform: backup:ListProtectedResources'),
    );
    await expect(accountCoverage(member, REGIONS, new Map(), deps)).rejects.toThrow(
      'backup:ListProtectedResources',
    );
  });

  it('lets a failure to read the effective policy through', async () => {
    const { member, deps, org } = world();
    org.failures.set('effectiveBackupPolicy', awsError('TooManyRequestsException', 'slow down'));
    await expect(accountCoverage(member, REGIONS, new Map(), deps)).rejects.toThrow('slow down');
  });

  // Its doc comment: "A region or selection that cannot be read is a note, not a crash; access
  // denied propagates."
  it('turns a region whose protected resources cannot be read (not a denial) into a note', async () => {
    const { member, deps } = world();
    const backup = member.backup.bind(member);
    jest.spyOn(member, 'backup').mockImplementation((region) =>
      region === 'eu-west-1'
        ? {
            ...backup(region),
            protectedResources: async () => {
              throw awsError('ServiceUnavailableException', 'Service is unavailable');
            },
          }
        : backup(region),
    );
    const { rows, summary } = await accountCoverage(member, REGIONS, new Map(), deps);
    expect(rows.map((r) => r.resourceArn)).toEqual([TABLE, INSTANCE]);
    expect(summary.notes).toEqual([expect.stringContaining('eu-west-1')]);
  });
});
