import { GetKeyPolicyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { ListPoliciesForTargetCommand } from '@aws-sdk/client-organizations';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import { buildSweepDeps } from '../../functions/reconcile/handler';
import { sweep } from '../../functions/reconcile/sweep';
import { runDoctor, type DoctorCheck } from '../../tools/backupctl/doctor';
import { MEMBER_ROLE_NAME } from '../../tools/sandbox/delegated';
import { localClientConfig, withLocalCredentials } from '../../tools/sandbox/local-aws';
import { localSetupAdapters } from '../../tools/sandbox/organization-setup';
import { credentialsIn } from '../../tools/sandbox/provision';
import {
  addOnboarding,
  drainNotifications,
  drainOnboarding,
  emitEvent,
  newMemberAccount,
  type EventToPut,
  type OnboardingWorld,
} from '../../tools/sandbox/world';
import { exampleConfig, sample } from '../helpers/fixtures';
import { freshWorld } from './harness';

/**
 * The delegated administrator topology on moto: setup with the management account's
 * credentials, the stack and its functions in the delegated administrator account, the
 * management forwarder (infra/management-forwarder.yml through CloudFormation) and the member
 * role StackSet's template in each member account. Account events from the management account
 * reach onboarding through the forwarder; onboarding works through the member role and attaches
 * backup policies as the delegated administrator.
 */

jest.setTimeout(180_000);

let world: OnboardingWorld;
const saved = { ...process.env };

beforeAll(async () => {
  world = await addOnboarding(
    await freshWorld(exampleConfig(), { centralAccount: true, delegatedAdmin: true }),
  );
});

afterAll(() => {
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const aimed = (name: string, fromId: string, toId: string): EventToPut =>
  JSON.parse(JSON.stringify(sample(name)).split(fromId).join(toId)) as EventToPut;

it('runs the stack in the delegated administrator account', () => {
  expect(world.stackAccountId).not.toBe(world.org.managementAccountId);
  expect(world.stack.busArn).toContain(`:${world.stackAccountId}:event-bus/`);
  expect(world.config.deployment).toMatchObject({
    mode: 'delegated-admin',
    delegatedAdministratorAccountId: world.stackAccountId,
  });
});

it('a vended account reaches onboarding through the management forwarder and is onboarded through the member role', async () => {
  const home = world.config.controlTower.homeRegion ?? 'us-east-1';
  const id = await newMemberAccount(world, {
    name: 'Payments',
    email: 'aws-payments@example.com',
    ou: 'Workloads/Production',
  });
  // The sample's vended account, re-aimed at the new one.
  const event = aimed('controltower/create-managed-account.succeeded', '623904518762', id);
  await emitEvent(world, { account: 'management', region: home }, event);
  const drained = await drainOnboarding(world);
  expect(drained.received).toBe(1);
  const record = await buildOnboardingDeps(world.env).ledger.get(id);
  expect(record).toMatchObject({ status: 'ready', profile: 'production' });
  // Its key names the member role: onboarding worked through it, not an administrator role.
  const kms = new KMSClient({
    ...localClientConfig(world.aws.endpoint, 'us-east-1'),
    credentials: await credentialsIn(world.management, id),
  });
  const aliases = await kms.send(new ListAliasesCommand({}));
  const key = aliases.Aliases!.find((a) => a.AliasName === 'alias/backup-control-plane')!;
  const policy = await kms.send(
    new GetKeyPolicyCommand({ KeyId: key.TargetKeyId!, PolicyName: 'default' }),
  );
  expect(policy.Policy).toContain(`:role/${MEMBER_ROLE_NAME}`);
  // The delegated administrator attached the profile's backup policy.
  const attached = await world.management.organizations.send(
    new ListPoliciesForTargetCommand({ TargetId: id, Filter: 'BACKUP_POLICY' }),
  );
  expect(attached.Policies!.map((p) => p.Name)).toContain('production-critical');
});

it('the sweep onboards every member (not the management account); doctor passes on both sides', async () => {
  await sweep(buildSweepDeps(world.env));
  await drainOnboarding(world);
  const ledger = buildOnboardingDeps(world.env).ledger;
  const records = await ledger.getMany(world.org.accounts.map((a) => a.id));
  for (const a of world.org.accounts) {
    const r = records.get(a.id);
    expect([a.name, r?.status, r?.lastError]).toEqual([a.name, 'ready', undefined]);
  }
  expect(await ledger.get(world.org.managementAccountId)).toBeUndefined();

  const targets = {
    topicArns: {},
    deadLetterQueues: {},
    busName: world.stack.busName,
    ledgerTable: world.stack.tableName,
    stackRegion: 'us-east-1',
  };
  const status = (checks: DoctorCheck[]) => Object.fromEntries(checks.map((c) => [c.id, c]));
  // As the delegated administrator: the stack's side.
  const asAdmin = status(
    await runDoctor(world.config, localSetupAdapters(world.c).reader, targets),
  );
  for (const id of [
    'deployment-mode',
    'trusted-access',
    'backup-policy-type',
    'backup-policy-delegation',
    'accounts',
    'central-bus-policy',
  ]) {
    expect([id, asAdmin[id]?.status, asAdmin[id]?.detail]).toEqual([id, 'pass', expect.anything()]);
  }
  // As the management account: the forwarder's side (doctor's clients read the process's
  // credentials, the functions' until now).
  const asManagement = status(
    await withLocalCredentials(undefined, () =>
      runDoctor(world.config, localSetupAdapters(world.management).reader, targets),
    ),
  );
  expect(asManagement['deployment-mode']?.status).toBe('pass');
  expect(asManagement['management-forwarder']).toMatchObject({ status: 'pass' });
});

it("the management account's own failed backup in eu-west-1 is alerted through the forwarder there", async () => {
  const before = (await drainNotifications(world)).received;
  expect(before).toBe(0);
  const job = await emitEvent(
    world,
    { account: 'management', region: 'eu-west-1' },
    sample('backup/backup-job-state-change.failed') as unknown as EventToPut,
  );
  const drained = await drainNotifications(world);
  expect(drained.received).toBe(1);
  expect(job.accountId).toBe(world.org.managementAccountId);
});
