import type { Config } from './config/schema';

/**
 * The central backup account (`centralBackup`): where backup policies copy to, and the regions
 * where onboarding keeps its vault. One answer for onboarding, the member role, the backup
 * policies' {{central-vault:<region>}} check and doctor.
 */

export interface CentralVault {
  accountId: string;
  vaultName: string;
  /** Where onboarding keeps the vault: centralBackup.regions, else every profile's regions. */
  regions: string[];
  /** Whether `regions` is centralBackup.regions (else derived from the profiles). */
  regionsConfigured: boolean;
  vaultLock?: NonNullable<Config['centralBackup']>['vaultLock'];
  /** A logically air-gapped vault next to it, in the same regions. */
  airGapped?: NonNullable<NonNullable<Config['centralBackup']>['airGappedVault']>;
}

export function centralVault(
  config: Pick<Config, 'centralBackup' | 'onboarding'>,
): CentralVault | undefined {
  const central = config.centralBackup;
  if (!central) return undefined;
  const regions = central.regions ?? [
    ...new Set(config.onboarding?.profiles.flatMap((p) => p.regions) ?? []),
  ];
  return {
    accountId: central.accountId,
    vaultName: central.vaultName,
    regions: [...new Set(regions)].sort(),
    regionsConfigured: central.regions !== undefined,
    ...(central.vaultLock ? { vaultLock: central.vaultLock } : {}),
    ...(central.airGappedVault ? { airGapped: central.airGappedVault } : {}),
  };
}

/**
 * The control plane's vaults, as alerts see them: the baseline's names in every account, and the
 * central vaults (`centralBackup`) in the central account only.
 */
export interface ControlPlaneVaults {
  has(name: string, accountId: string | undefined): boolean;
}

export function controlPlaneVaults(
  baselineNames: Iterable<string>,
  central: Pick<CentralVault, 'accountId' | 'vaultName' | 'airGapped'> | undefined,
): ControlPlaneVaults {
  const everywhere = new Set(baselineNames);
  const inCentral = new Set(
    central ? [central.vaultName, ...(central.airGapped ? [central.airGapped.name] : [])] : [],
  );
  return {
    has: (name, accountId) =>
      everywhere.has(name) || (accountId === central?.accountId && inCentral.has(name)),
  };
}
