import type { Config } from '../../functions/shared/config/schema';
import { errorMessage } from '../../functions/shared/errors';
import { regionPartition } from '../../functions/shared/partition';
import {
  dynamodbClient,
  organizationsClient,
  resolvedRegion,
  sesClient,
  snsClient,
  sqsClient,
  stsClient,
} from '../../functions/shared/adapters/clients';
import { AwsPrerequisites, type PrerequisiteReader } from '../adapters/prerequisites';
import { AwsOrganizationSetup, type OrganizationSetupWriter } from '../adapters/organization-setup';
import { BACKUP_POLICIES_DIR, loadBackupPolicies } from '../backup-policy/load';
import { copiesAcrossAccounts } from './doctor';
import { DELEGATION_SIDS, delegationStatements, withDelegation } from './delegation';

/**
 * `backupctl setup [--dry-run]`: the one-time organization settings the control plane needs and
 * CloudFormation cannot set, turned on with the management account's credentials. Each step
 * reads first and changes only what is off, so a second run changes nothing; `--dry-run` only
 * says what it would change. A step AWS refuses is reported (with who may make the call) and
 * the others still run.
 */

export type SetupStatus = 'changed' | 'unchanged' | 'planned' | 'failed';

export interface SetupStep {
  id: string;
  status: SetupStatus;
  detail: string;
  fix?: string;
}

const BACKUP_SERVICE = 'backup.amazonaws.com';
const STACKSETS_SERVICE = 'member.org.stacksets.cloudformation.amazonaws.com';

const MANAGEMENT_ONLY =
  'only the management account may make this call: run backupctl setup with its credentials; if you did, a permission is missing or a service control policy denies it (it needs organizations:EnableAWSServiceAccess, organizations:EnablePolicyType, backup:UpdateGlobalSettings, cloudformation:ActivateOrganizationsAccess, and with delegated-admin organizations:RegisterDelegatedAdministrator, organizations:PutResourcePolicy)';

function refusal(error: unknown): string {
  const text = `${(error as { name?: string }).name ?? ''} ${errorMessage(error)}`;
  if (/AccessDenied|not authorized|UnauthorizedOperation/i.test(text)) return MANAGEMENT_ONLY;
  if (/AWSOrganizationsNotInUse/i.test(text)) {
    return 'this account is not in an organization: run it in the organization’s management account';
  }
  if (/ConcurrentModification|TooManyRequests|Throttl/i.test(text)) {
    return 'AWS is busy with another change of the organization: run backupctl setup again in a minute';
  }
  return 'fix the cause, then run backupctl setup again (it changes only what is still off)';
}

export interface SetupOptions {
  dryRun: boolean;
  /** The backup policies' documents: cross-account backup is needed when they copy to another account. */
  backupPolicyDocuments: readonly unknown[];
  /** aws, aws-us-gov or aws-cn: the ARNs of the delegation policy. */
  partition: string;
}

export async function runSetup(
  config: Config,
  reader: PrerequisiteReader,
  writer: OrganizationSetupWriter,
  options: SetupOptions,
): Promise<SetupStep[]> {
  const steps: SetupStep[] = [];
  /** One step: `check` says what is off (nothing: already as needed), `apply` turns it on. */
  const step = async (
    id: string,
    check: () => Promise<{ off?: string; on: string }>,
    apply: () => Promise<void>,
  ) => {
    try {
      const { off, on } = await check();
      if (!off) {
        steps.push({ id, status: 'unchanged', detail: on });
        return;
      }
      if (options.dryRun) {
        steps.push({ id, status: 'planned', detail: `would turn on: ${off}` });
        return;
      }
      await apply();
      steps.push({ id, status: 'changed', detail: `turned on: ${off}` });
    } catch (error) {
      steps.push({ id, status: 'failed', detail: errorMessage(error), fix: refusal(error) });
    }
  };

  await step(
    'trusted-access',
    async () =>
      (await reader.trustedServices()).includes(BACKUP_SERVICE)
        ? { on: `${BACKUP_SERVICE} has trusted access (backup policies, cross-account monitoring)` }
        : {
            off: `trusted access for ${BACKUP_SERVICE} (backup policies apply; cross-account monitoring)`,
            on: '',
          },
    () => writer.enableTrustedAccess(BACKUP_SERVICE),
  );

  let rootId = '';
  await step(
    'backup-policy-type',
    async () => {
      const root = await reader.rootPolicyTypes();
      rootId = root.rootId;
      return root.enabled.includes('BACKUP_POLICY')
        ? { on: `BACKUP_POLICY is enabled on root ${root.rootId}` }
        : { off: `the BACKUP_POLICY policy type on root ${root.rootId}`, on: '' };
    },
    () => writer.enablePolicyType(rootId, 'BACKUP_POLICY'),
  );

  if (copiesAcrossAccounts(options.backupPolicyDocuments)) {
    await step(
      'backup-global-settings',
      async () =>
        (await reader.backupGlobalSettings()).isCrossAccountBackupEnabled === 'true'
          ? { on: 'cross-account backup is on (the policies copy to the central backup account)' }
          : {
              off: 'cross-account backup (isCrossAccountBackupEnabled: the policies copy to the central backup account)',
              on: '',
            },
      () => writer.updateBackupGlobalSettings({ isCrossAccountBackupEnabled: 'true' }),
    );
  }

  // Before the delegated administrators: StackSets' registration needs its trusted access.
  if (config.onboarding?.memberRole?.deploy === 'stackset') {
    await step(
      'stacksets-trusted-access',
      async () =>
        (await reader.stackSetsAccess()) === 'ENABLED'
          ? { on: `CloudFormation StackSets have trusted access (${STACKSETS_SERVICE})` }
          : {
              off: `trusted access for CloudFormation StackSets (the member role's service-managed StackSet)`,
              on: '',
            },
      () => writer.activateStackSetsAccess(),
    );
  }

  const d = config.deployment;
  if (d.mode === 'delegated-admin' && d.delegatedAdministratorAccountId) {
    const admin = d.delegatedAdministratorAccountId;
    for (const [id, principal, what] of [
      ['backup-delegated-administrator', BACKUP_SERVICE, 'AWS Backup'],
      ['stacksets-delegated-administrator', STACKSETS_SERVICE, 'CloudFormation StackSets'],
    ] as const) {
      await step(
        id,
        async () =>
          (await reader.delegatedAdministrators(principal)).includes(admin)
            ? { on: `account ${admin} is a delegated administrator for ${what} (${principal})` }
            : {
                off: `account ${admin} as delegated administrator for ${what} (${principal})`,
                on: '',
              },
        () => writer.registerDelegatedAdministrator(admin, principal),
      );
    }
    await step(
      'backup-delegated-administrator-setting',
      async () =>
        (await reader.backupGlobalSettings()).isDelegatedAdministratorEnabled === 'true'
          ? {
              on: "AWS Backup keeps the delegated administrator's permissions in sync (isDelegatedAdministratorEnabled)",
            }
          : {
              off: 'isDelegatedAdministratorEnabled (AWS Backup syncs the delegated administrator’s permissions with Organizations)',
              on: '',
            },
      () => writer.updateBackupGlobalSettings({ isDelegatedAdministratorEnabled: 'true' }),
    );
    let delegation: Record<string, unknown> = {};
    await step(
      'backup-policy-delegation',
      async () => {
        const organization = await reader.organization();
        const ours = delegationStatements(options.partition, organization, admin);
        const wanted = withDelegation(await reader.organizationResourcePolicy(), ours);
        delegation = wanted.document;
        return wanted.same
          ? { on: `the Organizations resource policy delegates backup policies to ${admin}` }
          : {
              off: `the Organizations resource policy's statements ${DELEGATION_SIDS.join(', ')} (account ${admin} manages BACKUP_POLICY policies and tags accounts with backup-control-plane:*; other statements are kept)`,
              on: '',
            };
      },
      () => writer.putOrganizationResourcePolicy(delegation),
    );
  }

  return steps;
}

/** One line per step, failures first; the fix under a failure. */
export function setupText(steps: readonly SetupStep[], dryRun: boolean): string {
  const order: Record<SetupStatus, number> = { failed: 0, planned: 1, changed: 2, unchanged: 3 };
  const sorted = [...steps].sort((a, b) => order[a.status] - order[b.status]);
  const width = Math.max(...sorted.map((s) => s.id.length), 2);
  const lines = sorted.flatMap((s) => [
    `${s.status.toUpperCase().padEnd(9)}  ${s.id.padEnd(width)}  ${s.detail}`,
    ...(s.fix ? [`${' '.repeat(width + 11)}fix: ${s.fix}`] : []),
  ]);
  const count = (status: SetupStatus) => steps.filter((s) => s.status === status).length;
  const summary = dryRun
    ? `${count('planned')} to change, ${count('unchanged')} already on, ${count('failed')} failed (dry run: nothing changed)`
    : `${count('changed')} changed, ${count('unchanged')} already on, ${count('failed')} failed`;
  return `${lines.join('\n')}\n\n${summary}\n`;
}

/** The command: AWS with the operator's credentials, the policies from infra/. */
export async function runSetupCommand(config: Config, dryRun: boolean): Promise<SetupStep[]> {
  const organizations = organizationsClient();
  const reader = new AwsPrerequisites({
    dynamodb: dynamodbClient(),
    organizations,
    ses: sesClient(),
    sns: snsClient(),
    sqs: sqsClient(),
    sts: stsClient(),
  });
  const documents = [...loadBackupPolicies(BACKUP_POLICIES_DIR).values()].map((p) => p.document);
  return runSetup(config, reader, new AwsOrganizationSetup(organizations), {
    dryRun,
    backupPolicyDocuments: documents,
    partition: regionPartition(await resolvedRegion()).partition,
  });
}
