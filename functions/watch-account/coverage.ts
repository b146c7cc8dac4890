import { longestIntervalMs } from '../shared/backup-plans/cron';
import { readEffectivePolicy } from '../shared/backup-plans/merge';
import type { PlanDescription } from '../shared/backup-plans/describe';
import { errorMessage, isAccessDenied } from '../shared/errors';
import type {
  CoverageRow,
  CoverageStatus,
  CoverageSummary,
  MemberAccount,
  ProtectedResource,
} from '../shared/ports';

/**
 * Coverage: for each region of the account's profile and each backup-plan tag selection of its
 * effective backup policy, the resources that carry the selection's tags (Resource Groups
 * Tagging API) against their last backup (AWS Backup's protected resources). Each resource is
 * protected, late (no backup within the rule's interval and windows plus a grace period), never
 * backed up, or not opted in (the service is off in the region's AWS Backup opt-in settings).
 */

/** After the rule's interval and windows, how long before a backup counts as late. */
export const DEFAULT_GRACE_MS = 6 * 3600 * 1000;
const MAX_KEPT = 50;

/** AWS Backup's resource type for an ARN, or undefined for a type AWS Backup does not back up. */
export function backupResourceType(arn: string): string | undefined {
  const [, , service = '', , , ...rest] = arn.split(':');
  const resource = rest.join(':');
  const kind = resource.split(/[/:]/)[0] ?? '';
  switch (service) {
    case 'dynamodb':
      return kind === 'table' ? 'DynamoDB' : undefined;
    case 'ec2':
      return kind === 'instance' ? 'EC2' : kind === 'volume' ? 'EBS' : undefined;
    case 'rds':
      // Aurora, DocumentDB and Neptune clusters all have rds cluster ARNs; Aurora by far the most.
      return kind === 'db' ? 'RDS' : kind === 'cluster' ? 'Aurora' : undefined;
    case 'elasticfilesystem':
      return kind === 'file-system' ? 'EFS' : undefined;
    case 'fsx':
      return kind === 'file-system' ? 'FSx' : undefined;
    case 's3':
      return resource && !resource.includes('/') ? 'S3' : undefined;
    case 'storagegateway':
      // Only a gateway's volumes are backed up, not the gateway or its tapes.
      return /^gateway\/[^/]+\/volume\//.test(resource) ? 'Storage Gateway' : undefined;
    case 'redshift':
      return kind === 'cluster' ? 'Redshift' : undefined;
    case 'timestream':
      // Tables are backed up, not databases.
      return /^database\/[^/]+\/table\//.test(resource) ? 'Timestream' : undefined;
    case 'cloudformation':
      return kind === 'stack' ? 'CloudFormation' : undefined;
    default:
      return undefined;
  }
}

/** One tag selection of one plan, as coverage needs it. */
export interface Selection {
  policy: string;
  plan: string;
  rule: string;
  tagKey: string;
  tagValues: string[];
  /** The role the selection names ($account filled), to check it exists. */
  role?: string;
  /** The longest time a resource may go without a backup and still be on time. */
  dueWithinMs: number;
  vault?: string;
}

/** Tag selections of the plans that run in a region, with the longest gap between backups. */
export function selectionsFor(
  plans: readonly PlanDescription[],
  region: string,
  accountId: string,
  graceMs = DEFAULT_GRACE_MS,
): Selection[] {
  return plans.flatMap((plan) => {
    if (!plan.regions.includes(region)) return [];
    const rules = plan.rules.map((r) => ({
      rule: r.rule,
      vault: r.vault,
      dueWithinMs:
        (longestIntervalMs(r.schedule.expression) ?? 24 * 3600 * 1000) +
        ((r.startWindowMinutes ?? 480) + (r.completeWindowMinutes ?? 10080)) * 60_000 +
        graceMs,
    }));
    if (!rules.length) return [];
    // The most frequent rule decides when a resource is late.
    const due = rules.reduce((a, b) => (b.dueWithinMs < a.dueWithinMs ? b : a));
    return plan.selections.flatMap((s): Selection[] =>
      s.kind === 'tags' && s.tagKey
        ? [
            {
              policy: plan.plan,
              plan: plan.plan,
              rule: due.rule,
              tagKey: s.tagKey,
              tagValues: s.tagValues,
              ...(s.role ? { role: s.role.replace(/\$account/g, accountId) } : {}),
              dueWithinMs: due.dueWithinMs,
              ...(due.vault ? { vault: due.vault } : {}),
            },
          ]
        : [],
    );
  });
}

/** What is known about a region, besides the resources, to name the likely cause. */
export interface RegionFacts {
  accountId: string;
  region: string;
  optIn: Record<string, boolean>;
  protectedResources: ReadonlyMap<string, ProtectedResource>;
  /** Problems that stop any backup here: vault missing, service role missing, ... */
  blockers: string[];
  /** Selection roles that do not exist in the account. */
  missingRoles: ReadonlySet<string>;
  /** When each never-backed-up resource was first seen tagged. */
  firstSeen: ReadonlyMap<string, string>;
}

export interface Judged extends CoverageRow {
  severity: 'warning' | 'error' | 'none';
  /** Identifies the incident: a late resource's incident is its last backup. */
  incident: string;
}

/** The status of one tagged resource. A pure decision; `now` and the facts come in. */
export function judge(
  arn: string,
  selection: Selection,
  facts: RegionFacts,
  now: Date,
): Judged | undefined {
  const type = backupResourceType(arn);
  if (!type) return undefined;
  const last = facts.protectedResources.get(arn)?.lastBackupTime;
  const base = {
    accountId: facts.accountId,
    region: facts.region,
    resourceArn: arn,
    resourceType: type,
    policy: selection.policy,
    rule: selection.rule,
    lastBackupTime: last ? last.toISOString() : null,
  };
  const causes = [
    ...facts.blockers,
    ...(selection.role && facts.missingRoles.has(selection.role)
      ? [`the selection's role ${selection.role} does not exist in the account`]
      : []),
  ];
  const withCauses = (text: string) =>
    causes.length
      ? `${text}; likely cause: ${causes.join('; ')}`
      : `${text}; check the plan's jobs in AWS Backup (a rule that never started, a failing job)`;
  if (facts.optIn[type] === false) {
    return {
      ...base,
      status: 'not-opted-in',
      severity: 'error',
      incident: 'opt-in-off',
      reason: `AWS Backup is not opted in for ${type} in ${facts.region}: it is never backed up. Turn it on in AWS Backup → Settings → Service opt-in`,
    };
  }
  const due = selection.dueWithinMs;
  if (last) {
    const age = now.getTime() - last.getTime();
    if (age <= due) {
      return { ...base, status: 'protected', severity: 'none', incident: '', reason: 'on time' };
    }
    return {
      ...base,
      status: 'late',
      severity: 'error',
      incident: `late-since-${last.toISOString()}`,
      reason: withCauses(
        `last backup ${Math.round(age / 3600_000)} h ago, expected within ${Math.round(due / 3600_000)} h (rule ${selection.rule})`,
      ),
    };
  }
  const seen = facts.firstSeen.get(arn);
  const young = seen !== undefined && now.getTime() - Date.parse(seen) <= due;
  return {
    ...base,
    status: 'never',
    severity: young ? 'warning' : 'error',
    incident: `never-${young ? 'warning' : 'error'}`,
    reason: withCauses(
      young
        ? `tagged ${seen}, no backup yet (the first is due within ${Math.round(due / 3600_000)} h)`
        : `tagged for plan ${selection.plan}, never backed up`,
    ),
  };
}

export interface CoverageResult {
  rows: Judged[];
  summary: CoverageSummary;
}

export function summarise(rows: readonly Judged[], notes: string[]): CoverageSummary {
  const count = (s: CoverageStatus) => rows.filter((r) => r.status === s).length;
  const missed = rows
    .filter((r) => r.status !== 'protected')
    .slice(0, MAX_KEPT)
    .map(({ severity: _s, incident: _i, ...row }) => row);
  return {
    resources: rows.length,
    protected: count('protected'),
    late: count('late'),
    never: count('never'),
    notOptedIn: count('not-opted-in'),
    missed,
    notes,
  };
}

export interface CoverageDeps {
  /** The account's effective backup policy (parsed), undefined when none applies. */
  effectivePolicy(accountId: string): Promise<unknown>;
  firstSeen(accountId: string, arns: string[], now: Date): Promise<Map<string, string>>;
  now: Date;
  graceMs?: number;
}

/**
 * Coverage of one account in the regions given, read through the member access. A region or
 * selection that cannot be read is a note, not a crash; access denied propagates (the check
 * reports the account unverifiable).
 */
export async function accountCoverage(
  member: MemberAccount,
  regions: readonly string[],
  blockersByRegion: ReadonlyMap<string, string[]>,
  deps: CoverageDeps,
): Promise<CoverageResult> {
  const accountId = member.accountId;
  const content = await deps.effectivePolicy(accountId);
  const plans = content === undefined ? [] : readEffectivePolicy(content);
  const rows: Judged[] = [];
  const notes: string[] = [];
  const roleExists = new Map<string, boolean>();
  for (const region of regions) {
    const selections = selectionsFor(plans, region, accountId, deps.graceMs);
    if (!selections.length) continue;
    const backup = member.backup(region);
    let protectedList;
    let optIn;
    try {
      [protectedList, optIn] = await Promise.all([
        backup.protectedResources(),
        backup.optInPreferences(),
      ]);
    } catch (error) {
      if (isAccessDenied(error)) throw error;
      notes.push(
        `${region}: AWS Backup's protected resources could not be read: ${errorMessage(error)}`,
      );
      continue;
    }
    const protectedResources = new Map(protectedList.map((p) => [p.arn, p]));
    const tagged = new Map<string, Selection>();
    for (const selection of selections) {
      try {
        for (const r of await member
          .tagging(region)
          .taggedResources(selection.tagKey, selection.tagValues)) {
          if (!tagged.has(r.arn)) tagged.set(r.arn, selection);
        }
      } catch (error) {
        if (isAccessDenied(error)) throw error;
        notes.push(
          `${region}: resources tagged ${selection.tagKey} could not be listed: ${errorMessage(error)}`,
        );
      }
      if (selection.role && !roleExists.has(selection.role)) {
        const name = selection.role.split('/').pop() ?? selection.role;
        roleExists.set(selection.role, Boolean(await member.iam.getRole(name).catch(() => true)));
      }
    }
    const unprotected = [...tagged.keys()].filter(
      (arn) => !protectedResources.get(arn)?.lastBackupTime && backupResourceType(arn),
    );
    const firstSeen = unprotected.length
      ? await deps.firstSeen(accountId, unprotected.slice(0, 200), deps.now)
      : new Map<string, string>();
    const facts: RegionFacts = {
      accountId,
      region,
      optIn,
      protectedResources,
      blockers: blockersByRegion.get(region) ?? [],
      missingRoles: new Set([...roleExists].filter(([, ok]) => !ok).map(([role]) => role)),
      firstSeen,
    };
    for (const [arn, selection] of tagged) {
      const row = judge(arn, selection, facts, deps.now);
      if (row) rows.push(row);
    }
  }
  return { rows, summary: summarise(rows, notes) };
}
