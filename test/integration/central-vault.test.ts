import {
  BackupClient,
  DeleteBackupVaultAccessPolicyCommand,
  DescribeBackupVaultCommand,
  GetBackupVaultAccessPolicyCommand,
  ListRecoveryPointsByBackupVaultCommand,
} from '@aws-sdk/client-backup';
import { GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import { onboardAccount } from '../../functions/onboard-account/onboard';
import { AwsPrerequisites } from '../../tools/adapters/prerequisites';
import { runDoctor, type DoctorCheck } from '../../tools/backupctl/doctor';
import {
  localClientConfig,
  recordBackupJob,
  useLocalAwsEnvironment,
} from '../../tools/sandbox/local-aws';
import {
  addOnboarding,
  CENTRAL_BACKUP_ACCOUNT,
  type OnboardingWorld,
} from '../../tools/sandbox/world';
import { exampleConfig } from '../helpers/fixtures';
import { freshWorld } from './harness';

/**
 * The central backup account on moto: onboarding makes its vault in each region (the baseline
 * vault's name, as the example configures it), with the key and access policy that let the
 * organization copy in and Vault Lock; a member's copy into it then completes (the launcher
 * judges the access policy as AWS Backup does), and doctor reads it back.
 */

jest.setTimeout(120_000);

let world: OnboardingWorld;
let central: string;
const VAULT = 'org-backup-vault';
const AIR_GAPPED = 'org-air-gapped';

beforeAll(async () => {
  const config = exampleConfig();
  config.centralBackup!.vaultLock = {
    mode: 'compliance',
    minRetentionDays: 7,
    maxRetentionDays: 3650,
  };
  config.centralBackup!.airGappedVault = {
    name: AIR_GAPPED,
    minRetentionDays: 7,
    maxRetentionDays: 3650,
  };
  world = await addOnboarding(await freshWorld(config, { centralAccount: true }));
  useLocalAwsEnvironment(world.aws.endpoint);
  central = world.org.accounts.find((a) => a.name === CENTRAL_BACKUP_ACCOUNT.name)!.id;
});

async function clientsIn(account: string, region: string) {
  const out = await world.c.sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'test',
    }),
  );
  const credentials = {
    accessKeyId: out.Credentials!.AccessKeyId!,
    secretAccessKey: out.Credentials!.SecretAccessKey!,
    sessionToken: out.Credentials!.SessionToken,
  };
  const cfg = { ...localClientConfig(world.aws.endpoint, region), credentials };
  return { backup: new BackupClient(cfg), kms: new KMSClient(cfg) };
}

const onboard = async () =>
  onboardAccount(
    { accountId: central, trigger: 'Manual' },
    { ...buildOnboardingDeps(world.env), owner: 'central-vault-test' },
  );

const production = () => world.org.accounts.find((a) => a.name === 'Production')!.id;

const copyFromProduction = (vault = VAULT) =>
  recordBackupJob(world.aws, {
    accountId: production(),
    region: 'eu-west-1',
    jobType: 'copy',
    resourceArn: `arn:aws:dynamodb:eu-west-1:${production()}:table/orders`,
    backupVaultName: VAULT,
    destinationBackupVaultArn: `arn:aws:backup:eu-west-1:${central}:backup-vault:${vault}`,
    emit: false,
  });

const doctor = async () => {
  const checks = await runDoctor(world.config, new AwsPrerequisites(world.c), {
    topicArns: {},
    deadLetterQueues: {},
    ledgerTable: world.stack.tableName,
  });
  return new Map<string, DoctorCheck>(
    checks.filter((c) => c.id.startsWith('central-')).map((c) => [c.id, c]),
  );
};

it('refuses a copy before the central vault exists, and doctor says the account was never onboarded', async () => {
  expect((await copyFromProduction()).job).toMatchObject({
    State: 'FAILED',
    StatusMessage: expect.stringContaining('does not exist'),
  });
  const checks = await doctor();
  expect(checks.get('central-vault:eu-west-1')).toMatchObject({
    status: 'fail',
    detail: expect.stringContaining(`${VAULT} in eu-west-1 (account ${central}) is missing`),
  });
});

it('onboarding makes the central vault in each region; a copy completes; doctor passes; a second run changes nothing', async () => {
  const first = await onboard();
  expect(first.outcome).toBe('ready');
  for (const region of ['us-east-1', 'eu-west-1']) {
    const { backup, kms } = await clientsIn(central, region);
    const vault = await backup.send(new DescribeBackupVaultCommand({ BackupVaultName: VAULT }));
    expect(vault).toMatchObject({ Locked: true, MinRetentionDays: 7, MaxRetentionDays: 3650 });
    expect(vault.LockDate).toBeDefined();
    const policy = await backup.send(
      new GetBackupVaultAccessPolicyCommand({ BackupVaultName: VAULT }),
    );
    expect(JSON.parse(policy.Policy!)).toMatchObject({
      Statement: [
        {
          Action: 'backup:CopyIntoBackupVault',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': world.org.id } },
        },
      ],
    });
    const keyPolicy = await kms.send(
      new GetKeyPolicyCommand({ KeyId: vault.EncryptionKeyArn!, PolicyName: 'default' }),
    );
    expect(keyPolicy.Policy).toContain('OrganizationBackupRolesCopyIntoTheCentralVault');
    expect(keyPolicy.Policy).toContain(`backup.${region}.amazonaws.com`);
  }

  const copy = await copyFromProduction();
  expect(copy.job.State).toBe('COMPLETED');
  const { backup } = await clientsIn(central, 'eu-west-1');
  const points = await backup.send(
    new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT }),
  );
  expect(points.RecoveryPoints!.map((p) => p.RecoveryPointArn)).toEqual([
    copy.job.DestinationRecoveryPointArn,
  ]);

  // The logically air-gapped vault next to it: locked from its creation, admitting the
  // organization's copies.
  const lag = await backup.send(new DescribeBackupVaultCommand({ BackupVaultName: AIR_GAPPED }));
  expect(lag).toMatchObject({
    VaultType: 'LOGICALLY_AIR_GAPPED_BACKUP_VAULT',
    Locked: true,
    MinRetentionDays: 7,
    MaxRetentionDays: 3650,
  });
  expect((await copyFromProduction(AIR_GAPPED)).job.State).toBe('COMPLETED');

  const checks = await doctor();
  expect([...checks.values()].map((c) => [c.id, c.status])).toEqual([
    ['central-vault:eu-west-1', 'pass'],
    ['central-air-gapped-vault:eu-west-1', 'pass'],
    ['central-vault:us-east-1', 'pass'],
    ['central-air-gapped-vault:us-east-1', 'pass'],
  ]);
  expect(checks.get('central-vault:eu-west-1')!.detail).toMatch(
    /admits copies from organization o-\w+; Vault Lock compliance \(immutable from .*\), minimum 7 days, maximum 3650 days/,
  );

  const again = await onboard();
  expect(again).toMatchObject({ outcome: 'ready', changes: [] });
});

it('a removed access policy fails copies and doctor; onboarding puts it back', async () => {
  const { backup } = await clientsIn(central, 'eu-west-1');
  await backup.send(new DeleteBackupVaultAccessPolicyCommand({ BackupVaultName: VAULT }));
  expect((await copyFromProduction()).job).toMatchObject({
    State: 'FAILED',
    StatusMessage: 'Access Denied trying to call AWS Backup service',
  });
  expect((await doctor()).get('central-vault:eu-west-1')).toMatchObject({
    status: 'fail',
    fix: expect.stringContaining(`npx backupctl onboard ${central}`),
  });
  const repaired = await onboard();
  expect(repaired).toMatchObject({
    outcome: 'ready',
    changes: [
      `central-vault-eu-west-1: let the organization copy into central vault ${VAULT} in eu-west-1 (access policy)`,
    ],
  });
  expect((await copyFromProduction()).job.State).toBe('COMPLETED');
  expect((await doctor()).get('central-vault:eu-west-1')!.status).toBe('pass');
});
