import type { CentralVault } from '../../shared/central-backup';
import type {
  Log,
  MemberBackup,
  PolicyDocument,
  VaultLockSettings,
  VaultState,
} from '../../shared/ports';
import { samePolicy } from '../baseline';
import type { Act } from './change';
import { ensureVault } from './vault';

/**
 * Resource of the central backup account only (`centralBackup`), per region: the vault the
 * backup policies copy into. Its key is the account's baseline key, whose policy gains
 * centralVaultKeyStatements; the vault gets an access policy that admits copies from the
 * organization, and Vault Lock when configured. A lock is never removed or weakened here (a
 * shorter minimum, compliance back to governance): verify reports it, nothing applies it.
 */

/** The Sid onboarding owns in the vault's access policy; other statements are left as they are. */
export const CENTRAL_VAULT_POLICY_SID = 'CopiesIntoThisVaultFromTheOrganizationOnly';

/** What the key's policy adds in the central account: AWS Backup copying in for the organization. */
export function centralVaultKeyStatements(
  organizationId: string,
  region: string,
): Record<string, unknown>[] {
  const through = {
    'aws:PrincipalOrgID': organizationId,
    'kms:ViaService': `backup.${region}.amazonaws.com`,
  };
  return [
    {
      Sid: 'OrganizationBackupRolesCopyIntoTheCentralVault',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncrypt*',
        'kms:GenerateDataKey*',
        'kms:DescribeKey',
      ],
      Resource: '*',
      Condition: { StringEquals: through },
    },
    {
      Sid: 'OrganizationBackupRolesGrantForAwsBackup',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { StringEquals: through, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    },
  ];
}

/** The statement the vault's access policy must hold: copies in from the organization only. */
export function centralVaultPolicyStatement(organizationId: string): Record<string, unknown> {
  return {
    Sid: CENTRAL_VAULT_POLICY_SID,
    Effect: 'Allow',
    Principal: { AWS: '*' },
    Action: 'backup:CopyIntoBackupVault',
    Resource: '*',
    Condition: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
  };
}

const statementsOf = (policy: PolicyDocument | undefined): Record<string, unknown>[] => {
  const st = policy?.Statement;
  if (Array.isArray(st)) return st as Record<string, unknown>[];
  return st ? [st as Record<string, unknown>] : [];
};

/** Whether the vault's policy holds our statement as declared (the others are not ours). */
export function admitsOrganization(
  policy: PolicyDocument | undefined,
  organizationId: string,
): boolean {
  const ours = statementsOf(policy).filter((s) => s.Sid === CENTRAL_VAULT_POLICY_SID);
  return ours.length === 1 && samePolicy(ours[0], centralVaultPolicyStatement(organizationId));
}

/**
 * The access policy wanted: the current one with our statement as declared, in its place (or
 * added last); its other statements and top-level fields (Id) as they are.
 */
export function wantedVaultPolicy(
  current: PolicyDocument | undefined,
  organizationId: string,
): PolicyDocument {
  const ours = centralVaultPolicyStatement(organizationId);
  const statements = statementsOf(current);
  const at = statements.findIndex((s) => s.Sid === CENTRAL_VAULT_POLICY_SID);
  const others = statements.filter((s) => s.Sid !== CENTRAL_VAULT_POLICY_SID);
  const Statement =
    at < 0 ? [...others, ours] : [...others.slice(0, at), ours, ...others.slice(at)];
  return { ...(current ?? {}), Version: current?.Version ?? '2012-10-17', Statement };
}

export type LockDecision =
  | { action: 'none' }
  | { action: 'put'; settings: VaultLockSettings; what: string }
  /** AWS refuses the change: a compliance lock past its grace time. */
  | { action: 'immutable'; problem: string }
  /** The configuration asks less than the vault has: never applied by onboarding. */
  | { action: 'weaker'; problem: string };

const days = (n: number | undefined) => (n === undefined ? 'none' : `${n} days`);

/** What to do about Vault Lock, from what the vault has and what the configuration asks. */
export function lockDecision(
  vault: Pick<VaultState, 'locked' | 'minRetentionDays' | 'maxRetentionDays' | 'lockDate'>,
  wanted: CentralVault['vaultLock'],
  now: Date,
): LockDecision {
  // No lock configured: a lock someone set stays (removing one is never onboarding's call).
  if (!wanted) return { action: 'none' };
  const compliance = wanted.mode === 'compliance';
  const settings: VaultLockSettings = {
    minRetentionDays: wanted.minRetentionDays,
    ...(wanted.maxRetentionDays !== undefined ? { maxRetentionDays: wanted.maxRetentionDays } : {}),
    ...(compliance ? { changeableForDays: wanted.changeableForDays ?? 3 } : {}),
  };
  const hasMode = vault.lockDate ? 'compliance' : 'governance';
  const same =
    Boolean(vault.locked) &&
    vault.minRetentionDays === wanted.minRetentionDays &&
    vault.maxRetentionDays === wanted.maxRetentionDays &&
    hasMode === wanted.mode;
  if (same) return { action: 'none' };
  const describe = `${wanted.mode} mode, minimum ${days(wanted.minRetentionDays)}, maximum ${days(wanted.maxRetentionDays)}`;
  const has = `minimum ${days(vault.minRetentionDays)}, maximum ${days(vault.maxRetentionDays)}`;
  if (vault.locked && vault.lockDate && vault.lockDate.getTime() <= now.getTime()) {
    return {
      action: 'immutable',
      problem: `Vault Lock is in compliance mode and immutable since ${vault.lockDate.toISOString()} (${has}): it cannot become ${describe}`,
    };
  }
  // A shorter minimum, or compliance (in its grace time) back to governance: less protection.
  if (
    vault.locked &&
    (wanted.minRetentionDays < (vault.minRetentionDays ?? 0) ||
      (hasMode === 'compliance' && !compliance))
  ) {
    return {
      action: 'weaker',
      problem: `Vault Lock (${hasMode} mode, ${has}) is stronger than configured (${describe}); onboarding never weakens a lock`,
    };
  }
  return {
    action: 'put',
    settings,
    what: vault.locked ? `change Vault Lock to ${describe}` : `set Vault Lock: ${describe}`,
  };
}

export async function ensureCentralVault(
  backup: MemberBackup,
  want: {
    central: CentralVault;
    region: string;
    keyArn: string;
    organizationId: string;
    tags: Record<string, string>;
  },
  changes: string[],
  act: Act,
  context: { accountId: string; dryRun: boolean; log: Log; now: Date },
): Promise<void> {
  const { central, region, organizationId } = want;
  const name = central.vaultName;
  await ensureVault(backup, { name, region, keyArn: want.keyArn, tags: want.tags }, changes, act, {
    accountId: context.accountId,
    dryRun: context.dryRun,
    log: context.log,
  });
  const vault = await backup.describeVault(name);
  await ensureOrganizationCopies(
    backup,
    { name, region, organizationId, exists: Boolean(vault) },
    changes,
    act,
  );
  const lock = lockDecision(vault ?? {}, central.vaultLock, context.now);
  if (lock.action === 'put') {
    const settings = lock.settings;
    await act(
      changes,
      `${lock.what} on central vault ${name} in ${region}`,
      () => backup.putVaultLock(name, settings),
      { what: `Vault Lock of ${name} in ${region} is not as configured`, resource: name, region },
    );
  }
}

/** The vault's access policy admits the organization's copies (in a dry run, maybe planned). */
async function ensureOrganizationCopies(
  backup: MemberBackup,
  want: { name: string; region: string; organizationId: string; exists: boolean },
  changes: string[],
  act: Act,
): Promise<void> {
  const { name, region, organizationId } = want;
  // In a dry run the vault may only be planned: everything on it is planned too.
  const current = want.exists ? await backup.vaultAccessPolicy(name) : undefined;
  if (admitsOrganization(current, organizationId)) return;
  const policy = wantedVaultPolicy(current, organizationId);
  await act(
    changes,
    `let the organization copy into central vault ${name} in ${region} (access policy)`,
    () => backup.putVaultAccessPolicy(name, policy),
    {
      what: `central vault ${name} in ${region} does not admit copies from organization ${organizationId}`,
      resource: name,
      region,
    },
  );
}

export const AIR_GAPPED = 'LOGICALLY_AIR_GAPPED_BACKUP_VAULT';

/**
 * Why the logically air-gapped vault cannot be as configured (undefined: it is, or it is
 * missing): its type and retention limits are fixed when it is created.
 */
export function airGappedProblem(
  vault: Pick<VaultState, 'vaultType' | 'minRetentionDays' | 'maxRetentionDays'>,
  wanted: NonNullable<CentralVault['airGapped']>,
): string | undefined {
  if (vault.vaultType !== AIR_GAPPED) {
    return `vault ${wanted.name} exists but is not logically air-gapped (${vault.vaultType ?? 'BACKUP_VAULT'}): give centralBackup.airGappedVault another name`;
  }
  if (
    vault.minRetentionDays !== wanted.minRetentionDays ||
    vault.maxRetentionDays !== wanted.maxRetentionDays
  ) {
    return `logically air-gapped vault ${wanted.name} keeps ${vault.minRetentionDays ?? '?'} to ${vault.maxRetentionDays ?? '?'} days, fixed at its creation; the configuration asks ${wanted.minRetentionDays} to ${wanted.maxRetentionDays}: set centralBackup.airGappedVault to what it has, or give it another name`;
  }
  return undefined;
}

/** The logically air-gapped vault, when configured: created once, admitting the organization. */
export async function ensureAirGappedVault(
  backup: MemberBackup,
  want: {
    central: CentralVault;
    region: string;
    organizationId: string;
    tags: Record<string, string>;
  },
  changes: string[],
  act: Act,
): Promise<void> {
  const wanted = want.central.airGapped;
  if (!wanted) return;
  const { region, organizationId } = want;
  const vault = await backup.describeVault(wanted.name);
  if (!vault) {
    await act(
      changes,
      `create logically air-gapped vault ${wanted.name} in ${region} (${wanted.minRetentionDays} to ${wanted.maxRetentionDays} days)`,
      () =>
        backup.createAirGappedVault(
          wanted.name,
          { minRetentionDays: wanted.minRetentionDays, maxRetentionDays: wanted.maxRetentionDays },
          want.tags,
        ),
      {
        what: `logically air-gapped vault ${wanted.name} is missing in ${region}`,
        resource: wanted.name,
        region,
      },
    );
  } else if (airGappedProblem(vault, wanted)) {
    // Reported by verify; nothing here can change it.
    return;
  }
  await ensureOrganizationCopies(
    backup,
    { name: wanted.name, region, organizationId, exists: Boolean(vault) },
    changes,
    act,
  );
}

/** Ready: the air-gapped vault exists as configured and admits the organization's copies. */
export async function verifyAirGappedVault(
  backup: MemberBackup,
  central: CentralVault,
  region: string,
  organizationId: string,
): Promise<string[]> {
  const wanted = central.airGapped;
  if (!wanted) return [];
  const vault = await backup.describeVault(wanted.name);
  if (!vault) return [`logically air-gapped vault ${wanted.name} is missing in ${region}`];
  const problem = airGappedProblem(vault, wanted);
  if (problem) return [`${problem} (${region})`];
  return admitsOrganization(await backup.vaultAccessPolicy(wanted.name), organizationId)
    ? []
    : [
        `logically air-gapped vault ${wanted.name} in ${region} does not admit copies from organization ${organizationId}`,
      ];
}

/** Ready: the vault exists, admits the organization's copies, and is locked as configured. */
export async function verifyCentralVault(
  backup: MemberBackup,
  central: CentralVault,
  region: string,
  organizationId: string,
  now: Date,
): Promise<string[]> {
  const name = central.vaultName;
  const vault = await backup.describeVault(name);
  if (!vault) return [`central vault ${name} is missing in ${region}`];
  const problems: string[] = [];
  if (!admitsOrganization(await backup.vaultAccessPolicy(name), organizationId)) {
    problems.push(
      `central vault ${name} in ${region} does not admit copies from organization ${organizationId}`,
    );
  }
  const lock = lockDecision(vault, central.vaultLock, now);
  if (lock.action === 'immutable' || lock.action === 'weaker') {
    problems.push(`central vault ${name} in ${region}: ${lock.problem}`);
  }
  if (lock.action === 'put') {
    problems.push(`central vault ${name} in ${region}: Vault Lock is not as configured`);
  }
  return problems;
}
