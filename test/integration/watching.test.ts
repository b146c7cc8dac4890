import { DeleteBackupVaultCommand, BackupClient } from '@aws-sdk/client-backup';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeRuleCommand,
  DisableRuleCommand,
  EventBridgeClient,
} from '@aws-sdk/client-eventbridge';
import {
  DeleteRolePolicyCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { main } from '../../tools/backupctl/backupctl';
import { localClientConfig } from '../../tools/sandbox/local-aws';
import {
  addOnboarding,
  drainOnboarding,
  drainWatch,
  newMemberAccount,
  type OnboardingWorld,
} from '../../tools/sandbox/world';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import { onboardAccount } from '../../functions/onboard-account/onboard';
import { buildSweepDeps } from '../../functions/reconcile/handler';
import { sweep } from '../../functions/reconcile/sweep';
import { dynamodbClient } from '../../functions/shared/adapters/clients';
import { DynamoDbCheckLedger } from '../../functions/shared/adapters/dynamodb-check-ledger';
import type { CheckRecord } from '../../functions/shared/ports';
import { buildDigestDeps } from '../../functions/send-digest/handler';
import { digestPeriod, sendDigest } from '../../functions/send-digest/send-digest';
import { freshWorld, worldConfigFile } from './harness';

/**
 * The daily check on moto: the sweep queues a check per ready account, the real watchAccount
 * handler reads the member account through its read-only role, and what it finds is repaired
 * through onboarding and told once. The launcher closes moto's gaps: AWS Backup job history,
 * protected resources, region settings and effective backup policies, CloudTrail lookups,
 * AssumeRole of a missing control-plane role failing (see tools/sandbox/moto_launcher.py).
 */

jest.setTimeout(180_000);

let world: OnboardingWorld;
let accountId: string;

const RULE = 'backup-control-plane-forward-backup-events';
const SERVICE_ROLE = 'backup-control-plane-backup-service';
const FOR_BACKUP = 'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup';

async function inAccount(id: string, region = 'us-east-1') {
  const out = await world.c.sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${id}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'a-member-admin',
    }),
  );
  const cfg = {
    ...localClientConfig(world.aws.endpoint, region),
    credentials: {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken,
    },
  };
  return {
    iam: new IAMClient({ ...cfg, region: 'us-east-1' }),
    events: new EventBridgeClient(cfg),
    backup: new BackupClient(cfg),
    dynamodb: new DynamoDBClient(cfg),
  };
}

const sentEmails = async () => (await world.aws.data()).ses?.Message ?? [];

/** A POST to one of the launcher's sandbox endpoints. */
async function sandboxPost(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${world.aws.endpoint}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The reconcile sweep, then every queued check and repair, as the deployed functions run them. */
async function dailyRun(): Promise<void> {
  await sweep(buildSweepDeps(world.env));
  await drainWatch(world);
  await drainOnboarding(world);
}

async function todaysCheck(id = accountId): Promise<CheckRecord | undefined> {
  const ledger = new DynamoDbCheckLedger(dynamodbClient(), world.env.DELIVERY_TABLE_NAME!);
  return (await ledger.checks([id], new Date().toISOString().slice(0, 10))).get(id);
}

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => '',
  });
  return { code, stdout, stderr };
}

afterAll(() => {
  delete process.env.BACKUP_CONFIG_FILE;
});

beforeEach(async () => {
  world = await addOnboarding(await freshWorld());
  // backupctl reads the configuration the world plays (moto's organization id).
  process.env.BACKUP_CONFIG_FILE = worldConfigFile(world);
  for (const name of [
    'DELIVERY_TABLE_NAME',
    'CENTRAL_BUS_ARN',
    'CONTROL_PLANE_ROLE_ARN',
    'WATCH_ROLE_ARN',
  ]) {
    process.env[name] = world.env[name];
  }
  accountId = await newMemberAccount(world, { name: 'Ledger', email: 'aws-ledger@example.com' });
  const result = await onboardAccount(
    { accountId, trigger: 'Manual' },
    { ...buildOnboardingDeps(world.env), owner: 'test' },
  );
  expect(result.outcome).toBe('ready');
});

describe('drift', () => {
  it('a disabled forwarding rule is named with who did it, repaired, and told once', async () => {
    const m = await inAccount(accountId);
    await m.events.send(new DisableRuleCommand({ Name: RULE }));
    await sandboxPost('/_sandbox/cloudtrail/events', {
      accountId,
      region: 'us-east-1',
      eventName: 'DisableRule',
      eventSource: 'events.amazonaws.com',
      username: 'mallory',
      resources: [{ ResourceType: 'AWS::Events::Rule', ResourceName: RULE }],
      cloudTrailEvent: {
        userIdentity: { arn: `arn:aws:iam::${accountId}:user/mallory` },
        readOnly: false,
      },
    });

    await dailyRun();

    const check = await todaysCheck();
    expect(check).toMatchObject({
      status: 'drift',
      findings: [
        {
          what: `forwarding rule ${RULE} is DISABLED in us-east-1`,
          who: { identity: `arn:aws:iam::${accountId}:user/mallory`, action: 'DisableRule' },
        },
      ],
    });
    expect((await m.events.send(new DescribeRuleCommand({ Name: RULE }))).State).toBe('ENABLED');
    const told = (await sentEmails()).filter((e) => e.subject.startsWith('[DRIFT REPAIRED]'));
    expect(told).toHaveLength(1);
    expect(told[0]!.text).toContain(`forwarding rule ${RULE} is DISABLED in us-east-1`);
    expect(told[0]!.text).toContain(`arn:aws:iam::${accountId}:user/mallory (DisableRule`);

    // The next day's check finds nothing and says nothing more.
    await dailyRun();
    expect((await todaysCheck())?.status).toBe('verified');
    expect((await sentEmails()).filter((e) => e.subject.startsWith('[DRIFT'))).toHaveLength(1);
  });

  it('a deleted vault and a detached service-role policy are found and repaired', async () => {
    const m = await inAccount(accountId);
    await m.backup.send(new DeleteBackupVaultCommand({ BackupVaultName: 'org-backup-vault' }));
    await m.iam.send(
      new DetachRolePolicyCommand({ RoleName: SERVICE_ROLE, PolicyArn: FOR_BACKUP }),
    );

    const dry = await cli(['reconcile', '--dry-run']);
    const decision = JSON.parse(dry.stdout).decisions.find(
      (d: { accountId: string }) => d.accountId === accountId,
    );
    expect(decision).toMatchObject({ action: 'repair' });
    expect(decision.reason).toContain('backup vault org-backup-vault is missing in us-east-1');
    expect(decision.reason).toContain(
      `policy AWSBackupServiceRolePolicyForBackup is not attached to role ${SERVICE_ROLE}`,
    );

    await dailyRun();
    const attached = await m.iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: SERVICE_ROLE }),
    );
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toContain(FOR_BACKUP);
    expect((await todaysCheck())?.status).toBe('drift');
    const again = await cli(['reconcile', '--dry-run']);
    expect(
      JSON.parse(again.stdout).decisions.find(
        (d: { accountId: string }) => d.accountId === accountId,
      ),
    ).toMatchObject({ action: 'ok' });
  });

  it('an account whose read-only role cannot be assumed is unverifiable everywhere, then repaired', async () => {
    const m = await inAccount(accountId);
    const ro = 'backup-control-plane-read-only';
    await m.iam.send(
      new DeleteRolePolicyCommand({ RoleName: ro, PolicyName: 'read-for-daily-check' }),
    );
    await m.iam.send(new DeleteRoleCommand({ RoleName: ro }));

    // The CLI falls back to the access role, so it can still read: drift, not unverifiable.
    await sweep(buildSweepDeps(world.env));
    await drainWatch(world);
    const check = await todaysCheck();
    expect(check).toMatchObject({ status: 'unverifiable' });
    expect(check?.reason).toMatch(/not authorized to perform: sts:AssumeRole/);
    const told = (await sentEmails()).filter((e) => e.subject.startsWith('[UNVERIFIABLE]'));
    expect(told).toHaveLength(1);

    // The repair queued with it recreates the role; the next check verifies the account.
    await drainOnboarding(world);
    await dailyRun();
    expect((await todaysCheck())?.status).toBe('verified');
  });
});

describe('coverage and lost events', () => {
  it('a tagged table with no backups is "never", alerted once', async () => {
    const m = await inAccount(accountId);
    await m.dynamodb.send(
      new CreateTableCommand({
        TableName: 'orders',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        Tags: [{ Key: 'backup-plan', Value: 'daily' }],
      }),
    );

    const out = await cli(['coverage', '--account', accountId]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).rows).toEqual([
      expect.objectContaining({
        accountId,
        region: 'us-east-1',
        resourceArn: `arn:aws:dynamodb:us-east-1:${accountId}:table/orders`,
        resourceType: 'DynamoDB',
        lastBackupTime: null,
        status: 'never',
      }),
    ]);

    // An account asked for by id that is not in the organization: said, exit 1, not an empty table.
    const stranger = await cli(['coverage', '--account', '999999999999']);
    expect(stranger.code).toBe(1);
    expect(JSON.parse(stranger.stdout).unverifiable).toEqual([
      { accountId: '999999999999', reason: expect.stringMatching(/^not checked: /) },
    ]);

    await dailyRun();
    expect((await todaysCheck())?.coverage).toMatchObject({ resources: 1, never: 1 });
    await dailyRun();
    const alerts = (await sentEmails()).filter((e) => e.subject.startsWith('[NOT BACKED UP]'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).toContain(`table/orders`);
  });

  it('a job whose event was dropped is sent late, marked recovered, exactly once across two runs', async () => {
    const hourAgo = Math.floor(Date.now() / 1000) - 2 * 3600;
    await sandboxPost('/_sandbox/backup/jobs', {
      accountId,
      region: 'us-east-1',
      jobType: 'backup',
      state: 'FAILED',
      resourceArn: `arn:aws:dynamodb:us-east-1:${accountId}:table/payments`,
      resourceType: 'DynamoDB',
      backupVaultName: 'org-backup-vault',
      statusMessage: 'Insufficient privileges to perform this action.',
      messageCategory: 'AccessDenied',
      creationDate: hourAgo - 600,
      completionDate: hourAgo,
      emit: false,
    });

    await dailyRun();
    await dailyRun();

    const recovered = (await sentEmails()).filter((e) => e.subject.includes('(RECOVERED)'));
    // A DynamoDB failure goes to admins and to the DBAs (the example rules): one email each.
    expect(recovered.map((e) => e.destinations.ToAddresses).sort()).toEqual([
      ['dba-oncall@example.com'],
      ['platform-team@example.com'],
    ]);
    expect(recovered[0]!.subject).toMatch(/^\[FAILED \(RECOVERED\)\] Backup job · payments/);
    expect((await todaysCheck())?.lostEvents).toEqual({ jobsChecked: 1, recovered: 0 });
  });
});

describe('the daily digest', () => {
  it('counts jobs, checks and coverage per account, names what needs attention, and is sent once', async () => {
    const other = world.org.accounts.find((a) => a.id !== accountId && a.name !== 'Ledger')!;
    const at = Math.floor(Date.now() / 1000) - 3 * 3600;
    for (const [state, category] of [
      ['COMPLETED', 'Success'],
      ['COMPLETED', 'Success'],
      ['FAILED', 'AccessDenied'],
      ['EXPIRED', undefined],
    ] as const) {
      await sandboxPost('/_sandbox/backup/jobs', {
        accountId,
        region: 'us-east-1',
        jobType: 'backup',
        state,
        ...(category ? { messageCategory: category } : {}),
        resourceArn: `arn:aws:dynamodb:us-east-1:${accountId}:table/orders`,
        resourceType: 'DynamoDB',
        backupVaultName: 'org-backup-vault',
        creationDate: at,
        completionDate: at + 600,
        emit: true,
      });
    }
    await dailyRun();

    const deps = buildDigestDeps(world.env);
    const period = digestPeriod(new Date(), 24 * 3600 * 1000);
    const run = await sendDigest(deps, period);
    const row = run.digest.accounts.find((a) => a.accountId === accountId)!;
    expect(row).toMatchObject({
      status: 'verified',
      completed: 2,
      failed: 1,
      expired: 1,
      topReason: 'AccessDenied (1)',
    });
    expect(run.digest.reasons[0]).toEqual({ category: 'AccessDenied', count: 1 });
    // The other members were onboarded by this sweep, after it queued today's checks: they were
    // not checked today, and the digest says so instead of counting them healthy.
    expect(run.digest.notReady).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountId: other.id, status: 'not checked' }),
      ]),
    );
    expect(run.digest.quiet).toBe(false);

    await sendDigest(deps, period);
    const digests = (await sentEmails()).filter((e) => e.subject.startsWith('[DIGEST]'));
    expect(digests).toHaveLength(1);
    expect(digests[0]!.text).toContain('2 completed, 1 failed, 1 expired');
  });

  it("an unverifiable account is in the digest and in backupctl digest's exit status", async () => {
    const m = await inAccount(accountId);
    const ro = 'backup-control-plane-read-only';
    await m.iam.send(
      new DeleteRolePolicyCommand({ RoleName: ro, PolicyName: 'read-for-daily-check' }),
    );
    await m.iam.send(new DeleteRoleCommand({ RoleName: ro }));
    await sweep(buildSweepDeps(world.env));
    await drainWatch(world);

    const out = await cli(['digest', '--since', '24h']);
    expect(out.code).toBe(1);
    const digest = JSON.parse(out.stdout);
    expect(digest.notReady).toEqual(
      expect.arrayContaining([expect.objectContaining({ accountId, status: 'unverifiable' })]),
    );
    expect(digest.totals.unverifiable).toBe(1);
  });
});
