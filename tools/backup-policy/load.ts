import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CENTRAL_VAULT, type LoadedBackupPolicy, formatPath, parseBackupPolicy } from './syntax';
import { type Config, type Profile } from '../../functions/shared/config/schema';
import { ConfigError } from '../../functions/shared/errors';
import { type EffectivePolicy, effectivePlans } from '../../functions/shared/backup-plans/merge';
import { type PlanDescription, describePlans } from '../../functions/shared/backup-plans/describe';
import { partitionOfRegion } from '../../functions/shared/partition';

/**
 * The backup policy files (infra/backup-policies/): reading and checking them, the central vault
 * filled in from the configuration, and what each onboarding profile's policies add up to.
 */

export const BACKUP_POLICIES_DIR = join(__dirname, '..', '..', 'infra', 'backup-policies');

/** Where a file is shown in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

export interface CentralBackup {
  accountId: string;
  vaultName: string;
  /** The logically air-gapped vault, when configured, with its fixed retention limits. */
  airGapped?: { name: string; minRetentionDays?: number; maxRetentionDays?: number };
  /** The central vault's Vault Lock, when configured. */
  vaultLock?: { minRetentionDays: number; maxRetentionDays?: number | undefined };
  /** Where the central vault is kept (functions/shared/central-backup.ts); unset: anywhere. */
  regions?: readonly string[];
  /** Whether those are centralBackup.regions (else every profile's regions). */
  regionsConfigured?: boolean;
}

/**
 * The policy with every {{central-vault:<region>}} (a copy action's key and target) replaced by
 * the central vault's ARN in that region. Without a central account configured, a policy that
 * names it is an error naming the file and the place.
 */
export function resolveCentralVault(
  document: unknown,
  central: CentralBackup | undefined,
  source: string,
): unknown {
  const fill = (text: string, path: string[]): string => {
    const m = CENTRAL_VAULT.exec(text);
    if (!m) return text;
    const [, kind, region] = m as unknown as [string, string, string];
    if (!central) {
      throw new ConfigError(
        `${source}: ${formatPath(path)}: ${text} needs the central backup account: set centralBackup.accountId in the configuration`,
      );
    }
    const name = kind === 'vault' ? central.vaultName : central.airGapped?.name;
    if (!name) {
      throw new ConfigError(
        `${source}: ${formatPath(path)}: ${text} needs the central logically air-gapped vault: set centralBackup.airGappedVault in the configuration`,
      );
    }
    // A region of another partition is warned about when packaging (warnOfOtherPartitions).
    const samePartition = (r: string) => partitionOfRegion(r) === partitionOfRegion(region);
    if (central.regions?.some(samePartition) && !central.regions.includes(region)) {
      throw new ConfigError(
        `${source}: ${formatPath(path)}: ${text} is a region where onboarding keeps no central vault: ${
          central.regionsConfigured
            ? `add ${region} to centralBackup.regions (now: ${central.regions.join(', ')})`
            : `set centralBackup.regions to include it (unset, it is every profile's regions: ${central.regions.join(', ')})`
        }`,
      );
    }
    // The vault's partition is its region's (us-gov-west-1 → aws-us-gov).
    return `arn:${partitionOfRegion(region)}:backup:${region}:${central.accountId}:backup-vault:${name}`;
  };
  const walk = (value: unknown, path: string[]): unknown => {
    if (typeof value === 'string') return fill(value, path);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, String(i)]));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [fill(k, [...path, k]), walk(v, [...path, k])]),
      );
    }
    return value;
  };
  if (central) checkCopyRetention(document, central, source);
  return walk(document, []);
}

/**
 * A copy into a locked vault whose retention the lock refuses fails, every time: AWS Backup
 * refuses copies kept shorter than the vault's minimum or longer than its maximum. Checked where
 * the copy action says how long (lifecycle.delete_after_days), naming the file, place and setting.
 */
function checkCopyRetention(document: unknown, central: CentralBackup, source: string): void {
  const problems: string[] = [];
  const visit = (value: unknown, path: string[]) => {
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'copy_actions' && typeof child === 'object' && child !== null) {
        for (const [target, action] of Object.entries(child as Record<string, unknown>)) {
          const m = CENTRAL_VAULT.exec(target);
          if (!m) continue;
          const limits =
            m[1] === 'vault'
              ? central.vaultLock && {
                  ...central.vaultLock,
                  what: "the central vault's Vault Lock",
                  setting: 'centralBackup.vaultLock',
                }
              : central.airGapped && {
                  ...central.airGapped,
                  what: 'the logically air-gapped vault',
                  setting: 'centralBackup.airGappedVault',
                };
          // A copy action without a lifecycle keeps its copies as long as the rule keeps the
          // backup (AWS Backup applies the source's lifecycle to the copy).
          const own = deleteAfterDays(action);
          // Only a copy action without any lifecycle takes the source's (one with a lifecycle but
          // no delete_after_days keeps its copies until deleted).
          const hasLifecycle = (action as { lifecycle?: unknown } | null)?.lifecycle !== undefined;
          const inherited = own === undefined && !hasLifecycle ? deleteAfterDays(value) : undefined;
          const days = own ?? inherited;
          if (!limits || days === undefined) continue;
          const at =
            `${source}: ` +
            (own !== undefined
              ? formatPath([...path, key, target, 'lifecycle', 'delete_after_days'])
              : `${formatPath([...path, key, target])} (no lifecycle: the copies keep the rule's ${formatPath([...path, 'lifecycle', 'delete_after_days'])})`);
          if (limits.minRetentionDays !== undefined && days < limits.minRetentionDays) {
            problems.push(
              `${at}: ${days} days is shorter than ${limits.what} allows (${limits.setting}.minRetentionDays: ${limits.minRetentionDays}): AWS Backup fails every such copy job`,
            );
          }
          if (limits.maxRetentionDays !== undefined && days > limits.maxRetentionDays) {
            problems.push(
              `${at}: ${days} days is longer than ${limits.what} allows (${limits.setting}.maxRetentionDays: ${limits.maxRetentionDays}): AWS Backup fails every such copy job`,
            );
          }
        }
      } else {
        visit(child, [...path, key]);
      }
    }
  };
  visit(document, []);
  if (problems.length) throw new ConfigError(problems.join('\n'));
}

/** A rule's or copy action's lifecycle.delete_after_days as a number, when this file sets it. */
function deleteAfterDays(node: unknown): number | undefined {
  const days = Number(
    ((node as { lifecycle?: { delete_after_days?: { '@@assign'?: unknown } } })?.lifecycle
      ?.delete_after_days ?? {})['@@assign'],
  );
  return Number.isFinite(days) ? days : undefined;
}

/** Reads every *.json in the folder; the file name (without .json) is the policy's name. */
export function loadBackupPolicies(
  dir: string = BACKUP_POLICIES_DIR,
): Map<string, LoadedBackupPolicy> {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (error) {
    throw new ConfigError(`cannot read backup policies folder ${dir}: ${(error as Error).message}`);
  }
  const policies = new Map<string, LoadedBackupPolicy>();
  for (const fileName of names) {
    const file = join(dir, fileName);
    const source = displayPath(file);
    const name = fileName.slice(0, -'.json'.length);
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(name)) {
      throw new ConfigError(
        `${source}: the file name is the policy's name and must use letters, digits, "-", "_"`,
      );
    }
    const text = readFileSync(file, 'utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`${source}: not valid JSON: ${(error as Error).message}`);
    }
    const duplicates = duplicateKeys(text);
    if (duplicates.length) {
      throw new ConfigError(
        duplicates
          .map(
            (d) =>
              `${source}: ${formatPath(d.path)}: duplicate key "${d.key}" (Organizations rejects it; JSON.parse would silently keep the last)`,
          )
          .join('\n'),
      );
    }
    policies.set(name, { name, file, document: parseBackupPolicy(raw, source) });
  }
  return policies;
}

/** Finds keys that appear twice in one object of (syntactically valid) JSON text. */
function duplicateKeys(text: string): { path: string[]; key: string }[] {
  const found: { path: string[]; key: string }[] = [];
  const stack: { keys?: Set<string>; key?: string; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ expectKey: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && top?.keys) top.expectKey = true;
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) {
          found.push({ path: stack.slice(0, -1).map((f) => f.key ?? '[]'), key });
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    }
  }
  return found;
}

/** Profiles that name a policy for which there is no file. */
export function checkProfilesReferToPolicies(
  config: Config,
  policies: ReadonlyMap<string, LoadedBackupPolicy>,
): string[] {
  const have = [...policies.keys()].join(', ') || 'none';
  return (config.onboarding?.profiles ?? []).flatMap((profile, i) =>
    profile.backupPolicies
      .filter((name) => !policies.has(name))
      .map(
        (name) =>
          `onboarding.profiles.${i}.backupPolicies: profile "${profile.name}" names backup policy "${name}" but there is no backup policy file ${name}.json (have: ${have})`,
      ),
  );
}

export interface ProfilePlans {
  policies: LoadedBackupPolicy[];
  effective: EffectivePolicy;
  plans: PlanDescription[];
  /** Incomplete plans, and regions where the profile's onboarding creates no vault. */
  problems: string[];
}

/**
 * The plans an account of this profile gets from the profile's policies (attached to the
 * account, merged in the order listed). Names without a file are left out (see
 * checkProfilesReferToPolicies).
 */
export function plansForProfile(
  profile: Profile,
  policies: ReadonlyMap<string, LoadedBackupPolicy>,
): ProfilePlans {
  const attached = profile.backupPolicies.flatMap((name) => policies.get(name) ?? []);
  const effective = effectivePlans(
    attached.map((p) => p.document),
    attached.map((p) => p.name),
  );
  const plans = describePlans(effective);
  const problems = plans.flatMap((plan) => [
    ...plan.problems.map((problem) => `plan ${plan.plan} ${problem}`),
    ...plan.regions
      .filter((region) => !profile.regions.includes(region))
      .map(
        (region) =>
          `plan ${plan.plan} backs up in ${region}, where profile "${profile.name}" creates no backup vault (its regions: ${profile.regions.join(', ')})`,
      ),
  ]);
  return { policies: attached, effective, plans, problems };
}
