import {
  BackupClient,
  DescribeBackupVaultCommand,
  ListRecoveryPointsByBackupVaultCommand,
} from '@aws-sdk/client-backup';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { centralVault } from '../../functions/shared/central-backup';
import { BACKUP_POLICIES_DIR, loadBackupPolicies } from '../backup-policy/load';
import { resolveTargets, runDoctor, type DoctorCheck } from '../backupctl/doctor';
import { runSetup, type SetupStep } from '../backupctl/setup';
import { localClientConfig, recordBackupJob, withLocalCredentials } from './local-aws';
import { localSetupAdapters } from './organization-setup';
import { CENTRAL_BACKUP_ACCOUNT, type OnboardingWorld } from './world';

/**
 * The sandbox's last act: a member's recovery point copied into the central vault that onboarding
 * made in the central backup account, then `backupctl setup` (management credentials) and
 * `backupctl doctor` as an operator runs them after a deploy (from the stack's account; in
 * delegated-admin mode also from the management account, for the forwarder).
 */

/**
 * What doctor cannot find healthy in the sandbox, the status it has there, and why; any other
 * check that does not pass (or one of these worse than said) is a problem. Each is a property of
 * the sandbox, not of the control plane.
 */
export const SANDBOX_DOCTOR_EXCEPTIONS: Record<string, { status: 'warn' | 'fail'; why: string }> = {
  'dlq:NotificationDeadLetterQueueUrl': {
    status: 'fail',
    why: 'the scenario puts a malformed event there on purpose (step 5)',
  },
  'chat:slack:backup-alerts': {
    status: 'fail',
    why: 'the channels are read by SQS stand-ins here, not by Amazon Q Developer',
  },
  'chat:teams:production-backups': {
    status: 'fail',
    why: 'the channels are read by SQS stand-ins here, not by Amazon Q Developer',
  },
  'organization-trail': { status: 'warn', why: 'moto has no organization trail' },
  'ses-sending': { status: 'warn', why: "moto's SES answers sandbox limits (200 messages a day)" },
  'member-role': {
    status: 'warn',
    why: "no StackSet to name: moto has no service-managed StackSets, so the sandbox deploys the member role StackSet's template as a stack in each account",
  },
};

export interface CentralOutcome {
  centralAccountId: string;
  vaultArn: string;
  copy: { state: string; recoveryPoint?: string; from: string };
  recoveryPointsInCentralVault: number;
  setup: SetupStep[];
  doctor: DoctorCheck[];
  problems: string[];
}

export async function playCentralVault(
  world: OnboardingWorld,
  from: { accountId: string; region: string },
  progress: (line: string) => void,
): Promise<CentralOutcome> {
  const problems: string[] = [];
  const central = centralVault(world.config);
  const account = world.org.accounts.find((a) => a.name === CENTRAL_BACKUP_ACCOUNT.name);
  if (!central || !account || central.accountId !== account.id) {
    throw new Error('the sandbox world has no central backup account (buildWorld centralAccount)');
  }
  const { region } = from;
  const vaultArn = `arn:aws:backup:${region}:${central.accountId}:backup-vault:${central.vaultName}`;
  // As a backup plan's copy action runs it: from the member's vault into the central one.
  const copied = await recordBackupJob(world.aws, {
    accountId: from.accountId,
    region,
    jobType: 'copy',
    resourceArn: `arn:aws:dynamodb:${region}:${from.accountId}:table/payments-ledger`,
    backupVaultName: world.config.onboarding?.profiles[0]?.baseline.vaultName ?? 'org-backup-vault',
    destinationBackupVaultArn: vaultArn,
    backupSizeInBytes: 4096,
    emit: false,
  });
  const state = String(copied.job.State);
  const recoveryPoint = copied.job.DestinationRecoveryPointArn as string | undefined;
  if (state !== 'COMPLETED') {
    problems.push(
      `the copy into ${vaultArn} ended ${state}: ${String(copied.job.StatusMessage ?? '')}`,
    );
  }
  const backup = await centralBackupClient(world, central.accountId, region);
  const vault = await backup.send(
    new DescribeBackupVaultCommand({ BackupVaultName: central.vaultName }),
  );
  const points = await backup.send(
    new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: central.vaultName }),
  );
  const inVault = points.RecoveryPoints?.length ?? 0;
  if (recoveryPoint && !points.RecoveryPoints?.some((p) => p.RecoveryPointArn === recoveryPoint)) {
    problems.push(`recovery point ${recoveryPoint} is not in the central vault`);
  }
  progress(
    `      copy from ${from.accountId} into ${central.vaultName} (${central.accountId}, ${region}): ${state}; the vault holds ${vault.NumberOfRecoveryPoints ?? inVault} recovery point(s)`,
  );

  // The operator's part after a deploy: setup with the management account's credentials (in
  // delegated-admin mode the world ran it already: now it changes nothing), then doctor where
  // the stack runs; in delegated-admin mode the management forwarder is read from there too.
  const documents = [...loadBackupPolicies(BACKUP_POLICIES_DIR).values()].map((p) => p.document);
  const setup = await withLocalCredentials(undefined, () => {
    const { reader, writer } = localSetupAdapters(world.management);
    return runSetup(world.config, reader, writer, {
      dryRun: false,
      backupPolicyDocuments: documents,
      partition: 'aws',
    });
  });
  for (const s of setup.filter((s) => s.status === 'failed')) {
    problems.push(`backupctl setup: ${s.id} failed: ${s.detail}`);
  }
  progress(
    `      backupctl setup: ${setup.filter((s) => s.status === 'changed').length} changed, ${setup.filter((s) => s.status === 'unchanged').length} already on`,
  );
  const { reader } = localSetupAdapters(world.c);
  const { targets } = await resolveTargets(reader, undefined, world.env);
  targets.deadLetterQueues = { NotificationDeadLetterQueueUrl: world.stack.dlqUrl };
  targets.stackRegion = 'us-east-1';
  let doctor = await runDoctor(world.config, reader, targets, documents);
  if (world.config.deployment.mode === 'delegated-admin') {
    const fromManagement = await withLocalCredentials(undefined, () =>
      runDoctor(world.config, localSetupAdapters(world.management).reader, targets, documents),
    );
    const forwarder = fromManagement.find((c) => c.id === 'management-forwarder');
    if (forwarder) {
      doctor = doctor.map((c) =>
        c.id === forwarder.id
          ? {
              ...forwarder,
              detail: `${forwarder.detail} (read with the management account's credentials)`,
            }
          : c,
      );
    }
  }
  for (const c of doctor) {
    const expected = SANDBOX_DOCTOR_EXCEPTIONS[c.id];
    const worse = c.status === 'fail' && expected?.status === 'warn';
    if (c.status !== 'pass' && (!expected || worse)) {
      problems.push(`backupctl doctor: ${c.id} is ${c.status}: ${c.detail}`);
    }
  }
  for (const id of [...central.regions.map((r) => `central-vault:${r}`), 'accounts']) {
    if (!doctor.some((c) => c.id === id && c.status === 'pass')) {
      problems.push(`backupctl doctor: ${id} did not pass`);
    }
  }
  progress(
    `      backupctl doctor: ${['pass', 'warn', 'fail'].map((s) => `${doctor.filter((c) => c.status === s).length} ${s}`).join(', ')}`,
  );
  return {
    centralAccountId: central.accountId,
    vaultArn,
    copy: { state, ...(recoveryPoint ? { recoveryPoint } : {}), from: from.accountId },
    recoveryPointsInCentralVault: inVault,
    setup,
    doctor,
    problems,
  };
}

async function centralBackupClient(
  world: OnboardingWorld,
  accountId: string,
  region: string,
): Promise<BackupClient> {
  const out = await world.management.sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'backup-control-plane-sandbox',
    }),
  );
  const cr = out.Credentials!;
  return new BackupClient({
    ...localClientConfig(world.aws.endpoint, region),
    credentials: {
      accessKeyId: cr.AccessKeyId!,
      secretAccessKey: cr.SecretAccessKey!,
      sessionToken: cr.SessionToken,
    },
  });
}
