import { DescribeBackupVaultCommand } from '@aws-sdk/client-backup';
import { BackupClient } from '@aws-sdk/client-backup';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import {
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import {
  CloseAccountCommand,
  RemoveAccountFromOrganizationCommand,
} from '@aws-sdk/client-organizations';
import { main } from '../../tools/backupctl/backupctl';
import { localClientConfig } from '../../tools/sandbox/local-aws';
import {
  addOnboarding,
  drainOnboarding,
  emitEvent,
  newMemberAccount,
  type EventToPut,
  type OnboardingWorld,
} from '../../tools/sandbox/world';
import { loadBaseline } from '../../functions/onboard-account/baseline';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import { parseOnboardingEvent } from '../../functions/onboard-account/triggers';
import { onboardAccount, type OnboardDeps } from '../../functions/onboard-account/onboard';
import { buildSweepDeps } from '../../functions/reconcile/handler';
import { sweep } from '../../functions/reconcile/sweep';
import type { AccountRecord } from '../../functions/shared/ports';
import { exampleConfigWithChannels, sample } from '../helpers/fixtures';
import { freshWorld, worldConfigFile } from './harness';

/**
 * Onboarding end to end on moto: an account event on the management account's default bus →
 * the account-events rule → the onboarding queue → the real handler, with real SDK calls into
 * the member account through the assumed role. Then what exists is read back.
 */

jest.setTimeout(120_000);

let world: OnboardingWorld;

afterAll(() => {
  delete process.env.BACKUP_CONFIG_FILE;
});

beforeEach(async () => {
  // As the CLI reads infra/config/example.yml, the world has its chat channels' topics too.
  world = await addOnboarding(await freshWorld(exampleConfigWithChannels()));
  // backupctl reads the configuration the world plays (moto's organization id).
  process.env.BACKUP_CONFIG_FILE = worldConfigFile(world);
  // backupctl reads the stack's names from the operator's environment, as documented.
  for (const name of [
    'DELIVERY_TABLE_NAME',
    'TOPIC_ARNS',
    'CENTRAL_BUS_ARN',
    'CONTROL_PLANE_ROLE_ARN',
    'WATCH_ROLE_ARN',
    'ONBOARDING_QUEUE_URL',
  ]) {
    process.env[name] = world.env[name];
  }
});

/** A sample from events/, re-aimed at another account id. */
function aimed(name: string, fromId: string, toId: string): EventToPut {
  return JSON.parse(JSON.stringify(sample(name)).split(fromId).join(toId)) as EventToPut;
}

async function inAccount(accountId: string) {
  const out = await world.c.sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'test',
    }),
  );
  const credentials = {
    accessKeyId: out.Credentials!.AccessKeyId!,
    secretAccessKey: out.Credentials!.SecretAccessKey!,
    sessionToken: out.Credentials!.SessionToken,
  };
  const cfg = (region: string) => ({
    ...localClientConfig(world.aws.endpoint, region),
    credentials,
  });
  return {
    iam: new IAMClient(cfg('us-east-1')),
    kms: (r: string) => new KMSClient(cfg(r)),
    backup: (r: string) => new BackupClient(cfg(r)),
    events: (r: string) => new EventBridgeClient(cfg(r)),
  };
}

async function ledger(accountId: string): Promise<AccountRecord | undefined> {
  return buildOnboardingDeps(world.env).ledger.get(accountId);
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

const sentEmails = async () => (await world.aws.data()).ses?.Message ?? [];

async function expectBackupReady(accountId: string, regions: string[], policy: string) {
  const m = await inAccount(accountId);
  const role = await m.iam.send(
    new GetRoleCommand({ RoleName: 'backup-control-plane-backup-service' }),
  );
  expect(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!)).toContain(
    'backup.amazonaws.com',
  );
  const attached = await m.iam.send(
    new ListAttachedRolePoliciesCommand({ RoleName: 'backup-control-plane-backup-service' }),
  );
  expect(attached.AttachedPolicies!.map((p) => p.PolicyName).sort()).toEqual([
    'AWSBackupServiceRolePolicyForBackup',
    'AWSBackupServiceRolePolicyForRestores',
  ]);
  const readOnly = await m.iam.send(
    new GetRoleCommand({ RoleName: 'backup-control-plane-read-only' }),
  );
  expect(decodeURIComponent(readOnly.Role!.AssumeRolePolicyDocument!)).toContain(world.org.id);
  for (const region of regions) {
    const key = await m
      .kms(region)
      .send(new DescribeKeyCommand({ KeyId: 'alias/backup-control-plane' }));
    const aliases = await m.kms(region).send(new ListAliasesCommand({}));
    expect(
      aliases.Aliases!.filter((a) => a.AliasName === 'alias/backup-control-plane'),
    ).toHaveLength(1);
    const vault = await m
      .backup(region)
      .send(new DescribeBackupVaultCommand({ BackupVaultName: 'org-backup-vault' }));
    expect(vault.EncryptionKeyArn).toBe(key.KeyMetadata!.Arn);
    const rule = await m
      .events(region)
      .send(new DescribeRuleCommand({ Name: 'backup-control-plane-forward-backup-events' }));
    expect(rule.State).toBe('ENABLED');
    const targets = await m
      .events(region)
      .send(new ListTargetsByRuleCommand({ Rule: 'backup-control-plane-forward-backup-events' }));
    expect(targets.Targets!.map((t) => t.Arn)).toEqual([world.stack.busArn]);
  }
  const policies = await world.c.organizations.send(
    new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: 'BACKUP_POLICY' }),
  );
  expect(policies.Policies!.map((p) => p.Name)).toEqual([policy]);
  const roots = await world.c.organizations.send(new ListRootsCommand({}));
  expect(roots.Roots![0]!.PolicyTypes).toEqual(
    expect.arrayContaining([{ Type: 'BACKUP_POLICY', Status: 'ENABLED' }]),
  );
  const tags = await world.c.organizations.send(
    new ListTagsForResourceCommand({ ResourceId: accountId }),
  );
  expect(Object.fromEntries(tags.Tags!.map((t) => [t.Key, t.Value]))).toMatchObject({
    'backup-control-plane:status': 'ready',
    'backup-control-plane:baseline-version': String(loadBaseline().version),
  });
  const record = await ledger(accountId);
  expect(record).toMatchObject({ status: 'ready', baselineVersion: loadBaseline().version });
}

describe('onboarding on moto', () => {
  it('CreateAccountResult SUCCEEDED: the new account becomes backup-ready, admins hear it once', async () => {
    const id = await newMemberAccount(world, {
      name: 'Payments',
      email: 'aws-payments@example.com',
      ou: 'Workloads',
    });
    await emitEvent(
      world,
      { account: 'management' },
      aimed('organizations/create-account-result.succeeded', '210987654321', id),
    );
    const stats = await drainOnboarding(world);
    expect(stats).toMatchObject({ received: 1, failedAttempts: 0 });
    await expectBackupReady(id, ['us-east-1'], 'daily-35-days');
    const ready = (await sentEmails()).filter((e) => e.subject.startsWith('[READY]'));
    expect(ready.map((e) => e.subject)).toEqual([
      `[READY] Account Payments (${id}) is backup-ready`,
    ]);

    // The second run only reads: every step unchanged, nothing new sent, nothing duplicated.
    await emitEvent(
      world,
      { account: 'management' },
      aimed('organizations/create-account-result.succeeded', '210987654321', id),
    );
    await drainOnboarding(world);
    const record = await ledger(id);
    expect(Object.values(record!.steps).map((s) => s.outcome)).toEqual(
      Object.values(record!.steps).map(() => 'unchanged'),
    );
    expect(record!.attempts).toBe(2);
    expect((await sentEmails()).filter((e) => e.subject.startsWith('[READY]'))).toHaveLength(1);
    await expectBackupReady(id, ['us-east-1'], 'daily-35-days');
  });

  it('a production OU account gets the production profile: two regions, its own policy', async () => {
    const id = await newMemberAccount(world, {
      name: 'Ledger',
      email: 'aws-ledger@example.com',
      ou: 'Workloads/Production',
    });
    await emitEvent(
      world,
      { account: 'management' },
      aimed('controltower/create-managed-account.succeeded', '623904518762', id),
    );
    await drainOnboarding(world);
    await expectBackupReady(id, ['us-east-1', 'eu-west-1'], 'production-critical');
  });

  it.each([
    'organizations/account-joined-organization.invited',
    'organizations/move-account',
    'controltower/update-managed-account.succeeded',
  ])('%s onboards exactly the account it names', async (name) => {
    const id = await newMemberAccount(world, { name: 'Joined', email: 'aws-joined@example.com' });
    const decision = parseOnboardingEvent(sample(name));
    if (decision.flow !== 'onboard') throw new Error(`${name} is not an onboarding trigger`);
    await emitEvent(world, { account: 'management' }, aimed(name, decision.accountId, id));
    await drainOnboarding(world);
    expect(await ledger(id)).toMatchObject({ status: 'ready', lastTrigger: decision.trigger });
    // Only that account: the organization's other members were not touched.
    for (const other of world.org.accounts.filter((a) => a.id !== id))
      expect(await ledger(other.id)).toBeUndefined();
  });

  it('CreateAccountResult FAILED alerts admins with the reason, once, and onboards nothing', async () => {
    const failed = sample('organizations/create-account-result.failed') as unknown as EventToPut;
    await emitEvent(world, { account: 'management' }, failed);
    await emitEvent(world, { account: 'management' }, failed);
    await drainOnboarding(world);
    const alerts = (await sentEmails()).filter((e) => e.subject.startsWith('[FAILED]'));
    // Two PutEvents are two events (two ids): each is alerted once, however often delivered.
    expect(alerts.length).toBe(2);
    expect(alerts[0]!.subject).toMatch(/EMAIL_ALREADY_EXISTS/);
  });

  it('two triggers for the same account at once run one onboarding', async () => {
    const id = await newMemberAccount(world, { name: 'Twins', email: 'aws-twins@example.com' });
    const deps = { ...buildOnboardingDeps(world.env) };
    const run = (owner: string) =>
      onboardAccount(
        { accountId: id, trigger: 'Manual', eventTime: '2000-01-01T00:00:00Z' },
        { ...deps, owner },
      );
    const results = await Promise.all([run('a'), run('b')]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['busy', 'ready']);
    expect((await sentEmails()).filter((e) => e.subject.startsWith('[READY]'))).toHaveLength(1);
  });

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

  it.each(STEPS)(
    'a run killed right after step %s is finished by the next run',
    async (killAfter) => {
      const id = await newMemberAccount(world, {
        name: `Crash-${killAfter}`,
        email: `aws-crash-${killAfter}@example.com`,
      });
      const real = buildOnboardingDeps(world.env);
      let dead = false;
      // After the kill nothing of the first process reaches AWS: no save, no release, no message.
      const crashing: OnboardDeps = {
        ...real,
        owner: 'first',
        ledger: {
          ...real.ledger,
          get: (a) => real.ledger.get(a),
          getMany: (a) => real.ledger.getMany(a),
          acquire: (...a) => real.ledger.acquire(...a),
          save: async (r) => (dead ? undefined : real.ledger.save(r)),
          release: async (a, o) => (dead ? undefined : real.ledger.release(a, o)),
        },
        afterStep: (step) => {
          if (step === killAfter) {
            dead = true;
            throw new Error('killed');
          }
        },
      };
      await expect(
        onboardAccount({ accountId: id, trigger: 'Manual' }, crashing),
      ).resolves.toBeDefined();
      expect((await ledger(id))?.status).toBe('onboarding');

      // The next run comes after the dead run's lock expired.
      const later = new Date(Date.now() + 16 * 60 * 1000);
      const result = await onboardAccount(
        { accountId: id, trigger: 'Reconcile' },
        { ...real, owner: 'second', clock: { now: () => later } },
      );
      expect(result.outcome).toBe('ready');
      await expectBackupReady(id, ['us-east-1'], 'daily-35-days');
    },
  );

  it('backupctl onboard --dry-run shows the changes and writes nothing; without it the account is ready', async () => {
    const id = await newMemberAccount(world, { name: 'ByHand', email: 'aws-byhand@example.com' });
    const dry = await cli(['onboard', id, '--dry-run']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({ accountId: id, outcome: 'planned', profile: 'default' });
    expect(plan.changes).toEqual(
      expect.arrayContaining([
        'baseline-iam: create role backup-control-plane-backup-service',
        'baseline-us-east-1: create backup vault org-backup-vault in us-east-1',
        'backup-policies: attach backup policy daily-35-days',
      ]),
    );
    expect(await ledger(id)).toBeUndefined();
    const m = await inAccount(id);
    await expect(
      m.iam.send(new GetRoleCommand({ RoleName: 'backup-control-plane-backup-service' })),
    ).rejects.toThrow();

    const real = await cli(['onboard', id]);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({
      outcome: 'ready',
      status: 'ready',
      baselineVersion: loadBaseline().version,
    });
    await expectBackupReady(id, ['us-east-1'], 'daily-35-days');

    const sweepPlan = JSON.parse((await cli(['reconcile', '--dry-run'])).stdout);
    expect(sweepPlan.decisions).toEqual(
      expect.arrayContaining([expect.objectContaining({ accountId: id, action: 'ok' })]),
    );
    expect(sweepPlan.enqueued).toBe(0);
  });

  it('the reconcile sweep queues what events missed, and nothing once all are ready', async () => {
    const first = await sweep(buildSweepDeps(world.env));
    // Three members without a ledger entry; the management account is skipped by config.
    expect(first.counts).toMatchObject({ onboard: 3, skip: 1 });
    expect(first.enqueued).toBe(3);
    await drainOnboarding(world);
    for (const a of world.org.accounts)
      expect(await ledger(a.id)).toMatchObject({ status: 'ready' });
    // Ready accounts now get their daily check instead of onboarding.
    const second = await sweep(buildSweepDeps(world.env));
    expect(second).toMatchObject({ enqueued: 3, counts: { onboard: 0, verify: 3, skip: 1 } });
  });
  it('an account removed from the organization: the event and the sweep record it, admins hear it once', async () => {
    await sweep(buildSweepDeps(world.env));
    await drainOnboarding(world);
    const [gone, closing] = world.org.accounts;
    // The RemoveAccountFromOrganization call reaches the account-events rule.
    await world.c.organizations.send(
      new RemoveAccountFromOrganizationCommand({ AccountId: gone!.id }),
    );
    await emitEvent(
      world,
      { account: 'management' },
      aimed('organizations/remove-account-from-organization', '320198765432', gone!.id),
    );
    expect(await drainOnboarding(world)).toMatchObject({ received: 1, failedAttempts: 0 });
    expect(await ledger(gone!.id)).toMatchObject({
      status: 'departed',
      departure: { trigger: 'RemoveAccountFromOrganization', method: 'Removed' },
    });
    // Another account is closed with no event seen: the sweep finds it suspended; the departed
    // one (no longer listed, read from the ledger with a Scan) is not told again.
    await world.c.organizations.send(new CloseAccountCommand({ AccountId: closing!.id }));
    const next = await sweep(buildSweepDeps(world.env));
    expect(next.decisions.filter((d) => d.action === 'offboard')).toEqual([
      expect.objectContaining({ accountId: closing!.id }),
    ]);
    await drainOnboarding(world);
    expect(await ledger(closing!.id)).toMatchObject({ status: 'closing' });
    // A third one leaves and no event says so: the ledger Scan finds it missing, asked again.
    const quiet = world.org.accounts[2]!;
    await world.c.organizations.send(
      new RemoveAccountFromOrganizationCommand({ AccountId: quiet.id }),
    );
    const found = await sweep(buildSweepDeps(world.env));
    expect(found.decisions.filter((d) => d.action === 'offboard')).toEqual([
      expect.objectContaining({ accountId: quiet.id, departure: 'departed' }),
    ]);
    await drainOnboarding(world);
    expect(await ledger(quiet.id)).toMatchObject({
      status: 'departed',
      departure: { trigger: 'Reconcile', method: 'no longer in the organization' },
    });
    const told = (await sentEmails()).filter((e) => /^\[(DEPARTED|CLOSING)\]/.test(e.subject));
    expect(told.map((e) => e.subject.slice(0, 11)).sort()).toEqual([
      '[CLOSING] A',
      '[DEPARTED] ',
      '[DEPARTED] ',
    ]);
    // The sweep after that has nothing more to tell.
    const last = await sweep(buildSweepDeps(world.env));
    expect(last.counts.offboard).toBe(0);
  });
});
