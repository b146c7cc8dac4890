import type { Log, MemberBackup } from '../../shared/ports';
import type { Act } from './change';

/** Baseline resource: the backup vault in one region, encrypted with the baseline key. */

/** The port: AWS Backup in one region of the member account (shared with the daily check). */
export type { MemberBackup };

export async function ensureVault(
  backup: MemberBackup,
  want: { name: string; region: string; keyArn: string; tags: Record<string, string> },
  changes: string[],
  act: Act,
  context: { accountId: string; dryRun: boolean; log: Log },
): Promise<void> {
  const { name, region, keyArn, tags } = want;
  const vault = await backup.describeVault(name);
  if (!vault) {
    await act(
      changes,
      `create backup vault ${name} in ${region}`,
      () => backup.createVault(name, keyArn, tags),
      { what: `backup vault ${name} is missing in ${region}`, resource: name, region },
    );
  } else if (vault.encryptionKeyArn && !context.dryRun && vault.encryptionKeyArn !== keyArn) {
    // A vault's key cannot change: report, do not replace a vault that may hold backups.
    context.log.warn('vault is encrypted with another key; left as it is', {
      accountId: context.accountId,
      region,
      vault: name,
      key: vault.encryptionKeyArn,
    });
  }
}

/** Backup-ready: the vault exists in the region. */
export async function verifyVault(
  backup: MemberBackup,
  name: string,
  region: string,
): Promise<string[]> {
  return (await backup.describeVault(name)) ? [] : [`vault ${name} is missing in ${region}`];
}
