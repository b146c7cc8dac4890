import type { Config, Profile } from '../../functions/shared/config/schema';
import { centralVault } from '../../functions/shared/central-backup';
import {
  BACKUP_POLICIES_DIR,
  checkProfilesReferToPolicies,
  displayPath,
  loadBackupPolicies,
  resolveCentralVault,
  plansForProfile,
} from '../backup-policy/load';
import type { BackupPolicyDocument, LoadedBackupPolicy } from '../backup-policy/syntax';
import type {
  PlanDescription,
  RuleDescription,
  SelectionDescription,
} from '../../functions/shared/backup-plans/describe';
import { ConfigError } from '../../functions/shared/errors';
import { chooseProfile, describeProfileMatch } from '../../functions/shared/profiles';
import { isAccountId } from '../../functions/shared/patterns';

/**
 * `backupctl policies`: which backup plans an account gets from its onboarding profile, read
 * from the configuration and infra/backup-policies/ without calling AWS.
 */

export interface PoliciesQuery {
  account?: string;
  ouPath?: string;
  tags: Record<string, string>;
  format: 'text' | 'json';
}

export interface PoliciesOptionValues {
  account?: string;
  ou?: string;
  tag?: string[];
  format?: string;
}

/** Checks the command line; `usage` makes the error backupctl reports as bad usage. */
export function policiesQuery(
  values: PoliciesOptionValues,
  usage: (message: string) => Error,
): PoliciesQuery {
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw usage('--format must be "text" or "json"');
  if (values.account !== undefined && !isAccountId(values.account)) {
    throw usage(`--account must be a 12-digit account id, got "${values.account}"`);
  }
  const tags: Record<string, string> = {};
  for (const pair of values.tag ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usage(`--tag must be key=value, got "${pair}"`);
    tags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const ouPath = values.ou?.split('/').filter(Boolean).join('/');
  return { account: values.account, ouPath, tags, format };
}

export interface ProfileView {
  profile: string;
  /** Why this profile was chosen (only when the command was asked about one account). */
  chosenBecause?: string;
  appliesTo: string;
  regions: string[];
  policies: { name: string; file: string }[];
  plans: PlanDescription[];
  /** Settings a policy could not change because an earlier one locks them. */
  ignored: string[];
}

function viewOf(
  profile: Profile,
  policies: ReadonlyMap<string, LoadedBackupPolicy>,
  chosenBecause?: string,
): ProfileView {
  const result = plansForProfile(profile, policies);
  if (result.problems.length) {
    throw new ConfigError(result.problems.map((p) => `profile "${profile.name}": ${p}`).join('\n'));
  }
  return {
    profile: profile.name,
    ...(chosenBecause ? { chosenBecause } : {}),
    appliesTo: describeProfileMatch(profile),
    regions: profile.regions,
    policies: result.policies.map((p) => ({ name: p.name, file: displayPath(p.file) })),
    plans: result.plans,
    ignored: result.effective.ignored,
  };
}

/** The central vault as deployed, when the configuration names the central account. */
function withCentralVault(
  policies: Map<string, LoadedBackupPolicy>,
  config: Config,
): Map<string, LoadedBackupPolicy> {
  if (!config.centralBackup) return policies;
  return new Map(
    [...policies].map(([name, p]) => [
      name,
      {
        ...p,
        document: resolveCentralVault(
          p.document,
          centralVault(config),
          p.file,
        ) as BackupPolicyDocument,
      },
    ]),
  );
}

/** The output of `backupctl policies`, as text or JSON. */
export function showPolicies(
  config: Config,
  query: PoliciesQuery,
  dir: string = BACKUP_POLICIES_DIR,
): string {
  const onboarding = config.onboarding;
  if (!onboarding) {
    throw new ConfigError('the configuration has no "onboarding" section, so no profiles');
  }
  const policies = withCentralVault(loadBackupPolicies(dir), config);
  const missing = checkProfilesReferToPolicies(config, policies);
  if (missing.length) throw new ConfigError(missing.join('\n'));

  const forOneAccount =
    query.account !== undefined || query.ouPath !== undefined || Object.keys(query.tags).length > 0;
  if (!forOneAccount) {
    const views = onboarding.profiles.map((p) => viewOf(p, policies));
    return query.format === 'json'
      ? JSON.stringify({ profiles: views }, null, 2) + '\n'
      : views.map(renderProfile).join('\n');
  }
  const choice = chooseProfile(onboarding.profiles, {
    ouPath: query.ouPath,
    tags: query.tags,
    profileTag: onboarding.profileTag,
  });
  const view = viewOf(choice.profile, policies, choice.reason);
  const account = { account: query.account, ouPath: query.ouPath, tags: query.tags };
  if (query.format === 'json') return JSON.stringify({ ...account, ...view }, null, 2) + '\n';
  return `${renderAccount(account)}\n${renderProfile(view)}`;
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

function renderAccount(a: { account?: string; ouPath?: string; tags: Record<string, string> }) {
  const tags = Object.entries(a.tags).map(([k, v]) => `${k}=${v}`);
  return [
    `Account ${a.account ?? '(not given)'}`,
    `OU path ${a.ouPath === undefined ? '(not given)' : a.ouPath || '(root)'}`,
    `tags ${tags.length ? tags.join(', ') : '(none given)'}`,
  ].join(' · ');
}

const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

function retention(retentionDays?: number, coldStorageAfterDays?: number): string {
  const kept = retentionDays === undefined ? 'kept until deleted' : `kept ${days(retentionDays)}`;
  return coldStorageAfterDays === undefined
    ? kept
    : `${kept}, cold storage after ${days(coldStorageAfterDays)}`;
}

function renderRule(rule: RuleDescription): string[] {
  const lines = [`    ${rule.rule}: ${rule.schedule.text}   [${rule.schedule.expression}]`];
  let kept = `      into vault ${rule.vault ?? '(none)'}, ${retention(rule.retentionDays, rule.coldStorageAfterDays)}`;
  if (rule.archiveSupportedResources) kept += ' (archive tier where supported)';
  lines.push(kept);
  if (rule.continuous)
    lines.push('      continuous backup (point-in-time restore) where supported');
  if (rule.airGappedVault)
    lines.push(`      straight to logically air-gapped vault ${rule.airGappedVault}`);
  for (const copy of rule.copies) {
    const kept = copy.sameLifecycleAsSource
      ? 'same lifecycle as the source'
      : retention(copy.retentionDays, copy.coldStorageAfterDays);
    lines.push(`      copy to ${copy.to}: ${kept}`);
  }
  return lines;
}

function renderSelection(s: SelectionDescription): string {
  const what =
    s.kind === 'tags'
      ? `resources tagged ${s.tagKey ?? '?'}=${s.tagValues.join(' or ')}`
      : `resource types ${s.resourceTypes.join(', ')}${s.notResourceTypes.length ? ` except ${s.notResourceTypes.join(', ')}` : ''}`;
  const conditions = s.conditions.length ? `, where ${s.conditions.join(' and ')}` : '';
  return `    ${what}${conditions} (selection ${s.name}, role ${s.role ?? '(none)'})`;
}

function renderPlan(plan: PlanDescription): string[] {
  return [
    `  Plan ${plan.plan}, in ${plan.regions.join(', ')}`,
    ...plan.rules.flatMap(renderRule),
    '    backs up:',
    ...plan.selections.map((s) => `  ${renderSelection(s)}`),
  ];
}

function renderProfile(view: ProfileView): string {
  const lines = [
    `Profile ${view.profile}${view.chosenBecause ? `, chosen by ${view.chosenBecause}` : ''}`,
    `  applies to ${view.appliesTo}`,
    `  onboarding regions: ${view.regions.join(', ')}`,
    `  backup policies: ${view.policies.map((p) => `${p.name} (${p.file})`).join(', ') || 'none: the baseline only, no backup plan'}`,
  ];
  for (const plan of view.plans) lines.push('', ...renderPlan(plan));
  for (const note of view.ignored) lines.push(`  note: ${note}`);
  return lines.join('\n') + '\n';
}
