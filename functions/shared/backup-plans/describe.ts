import {
  CONDITION_OPERATORS,
  type EffectiveNode,
  type EffectivePolicy,
  type EffectiveValue,
  isRecord,
} from './merge';
import { DEFAULT_TIMEZONE, coldStorageProblem, continuousProblem, toBool, toInt } from './values';
import { describeSchedule } from './cron';

/** What an effective policy's plans do, in plain language: rules, schedules, copies, selections. */

// ---------------------------------------------------------------------------------------------
// Description: what an effective policy does, in plain terms
// ---------------------------------------------------------------------------------------------

export interface ScheduleDescription {
  expression: string;
  timezone: string;
  /** e.g. "daily at 05:00 UTC", "every 4 hours". */
  text: string;
}

export interface CopyDescription {
  /** The destination vault ARN ($account stands for the account itself). */
  to: string;
  retentionDays?: number;
  coldStorageAfterDays?: number;
  /** No lifecycle of its own: AWS Backup applies the source recovery point's. */
  sameLifecycleAsSource?: true;
}

export interface RuleDescription {
  rule: string;
  schedule: ScheduleDescription;
  startWindowMinutes?: number;
  completeWindowMinutes?: number;
  /** Days a recovery point is kept; absent means until someone deletes it. */
  retentionDays?: number;
  coldStorageAfterDays?: number;
  archiveSupportedResources?: boolean;
  vault?: string;
  airGappedVault?: string;
  copies: CopyDescription[];
  continuous: boolean;
}

export type SelectionDescription =
  | {
      name: string;
      kind: 'tags';
      role?: string;
      tagKey?: string;
      tagValues: string[];
      conditions: string[];
    }
  | {
      name: string;
      kind: 'resources';
      role?: string;
      resourceTypes: string[];
      notResourceTypes: string[];
      conditions: string[];
    };

export interface PlanDescription {
  plan: string;
  regions: string[];
  rules: RuleDescription[];
  selections: SelectionDescription[];
  /** What AWS would reject or what would back nothing up. Empty when the plan is complete. */
  problems: string[];
}

const CONDITION_SYMBOLS: Record<(typeof CONDITION_OPERATORS)[number], string> = {
  string_equals: '=',
  string_not_equals: '!=',
  string_like: 'like',
  string_not_like: 'not like',
};

function at(node: EffectiveValue | undefined, key: string): EffectiveValue | undefined {
  return isRecord(node) ? (node as EffectiveNode)[key] : undefined;
}

function named(node: EffectiveValue | undefined): [string, EffectiveValue][] {
  return isRecord(node) ? Object.entries(node as EffectiveNode) : [];
}

function text(value: EffectiveValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function list(value: EffectiveValue | undefined): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value : [];
}

function conditionsOf(node: EffectiveValue | undefined): string[] {
  return CONDITION_OPERATORS.flatMap((op) =>
    named(at(node, op)).map(
      ([, c]) =>
        `${text(at(c, 'condition_key')) ?? '?'} ${CONDITION_SYMBOLS[op]} ${JSON.stringify(text(at(c, 'condition_value')) ?? '')}`,
    ),
  );
}

function describeRule(name: string, rule: EffectiveValue, problems: string[]): RuleDescription {
  const expression = text(at(rule, 'schedule_expression'));
  const timezone = text(at(rule, 'schedule_expression_timezone')) ?? DEFAULT_TIMEZONE;
  if (!expression) problems.push(`rule ${name} has no schedule_expression`);
  const vault = text(at(rule, 'target_backup_vault_name'));
  if (!vault) problems.push(`rule ${name} has no target_backup_vault_name`);
  const lifecycle = at(rule, 'lifecycle');
  const retentionDays = toInt(at(lifecycle, 'delete_after_days'));
  const coldStorageAfterDays = toInt(at(lifecycle, 'move_to_cold_storage_after_days'));
  const continuous = toBool(at(rule, 'enable_continuous_backup')) ?? false;
  const ruleProblem =
    coldStorageProblem(retentionDays, coldStorageAfterDays) ??
    continuousProblem(continuous, retentionDays);
  if (ruleProblem) problems.push(`rule ${name}: delete_after_days ${ruleProblem}`);
  const copies = named(at(rule, 'copy_actions')).map(([key, action]): CopyDescription => {
    const to = text(at(action, 'target_backup_vault_arn')) ?? key;
    const own = at(action, 'lifecycle');
    if (own === undefined) {
      return { to, retentionDays, coldStorageAfterDays, sameLifecycleAsSource: true };
    }
    const copyRetention = toInt(at(own, 'delete_after_days'));
    const copyCold = toInt(at(own, 'move_to_cold_storage_after_days'));
    const copyProblem = coldStorageProblem(copyRetention, copyCold);
    if (copyProblem) problems.push(`rule ${name}: copy to ${to}: delete_after_days ${copyProblem}`);
    return { to, retentionDays: copyRetention, coldStorageAfterDays: copyCold };
  });
  return {
    rule: name,
    schedule: {
      expression: expression ?? '',
      timezone,
      text: expression ? describeSchedule(expression, timezone) : 'no schedule',
    },
    startWindowMinutes: toInt(at(rule, 'start_backup_window_minutes')),
    completeWindowMinutes: toInt(at(rule, 'complete_backup_window_minutes')),
    retentionDays,
    coldStorageAfterDays,
    archiveSupportedResources: toBool(at(lifecycle, 'opt_in_to_archive_for_supported_resources')),
    vault,
    airGappedVault: text(at(rule, 'target_logically_air_gapped_backup_vault_arn')),
    copies,
    continuous,
  };
}

function describeSelections(selections: EffectiveValue | undefined, problems: string[]) {
  const byTag = named(at(selections, 'tags')).map(([name, s]): SelectionDescription => {
    const selection: SelectionDescription = {
      name,
      kind: 'tags',
      role: text(at(s, 'iam_role_arn')),
      tagKey: text(at(s, 'tag_key')),
      tagValues: list(at(s, 'tag_value')),
      conditions: conditionsOf(at(s, 'conditions')),
    };
    for (const field of ['iam_role_arn', 'tag_key', 'tag_value']) {
      if (at(s, field) === undefined) problems.push(`selection ${name} has no ${field}`);
    }
    return selection;
  });
  const byResource = named(at(selections, 'resources')).map(([name, s]): SelectionDescription => {
    for (const field of ['iam_role_arn', 'resource_types']) {
      if (at(s, field) === undefined) problems.push(`selection ${name} has no ${field}`);
    }
    return {
      name,
      kind: 'resources',
      role: text(at(s, 'iam_role_arn')),
      resourceTypes: list(at(s, 'resource_types')),
      notResourceTypes: list(at(s, 'not_resource_types')),
      conditions: conditionsOf(at(s, 'conditions')),
    };
  });
  return [...byTag, ...byResource];
}

/** For each plan: where, how often, how long, where copies go and which resources. */
export function describePlans(effective: EffectivePolicy): PlanDescription[] {
  return Object.entries(effective.plans).map(([plan, node]) => {
    const problems: string[] = [];
    const regions = list(at(node, 'regions'));
    if (!regions.length) problems.push('has no regions');
    const rules = named(at(node, 'rules')).map(([name, rule]) =>
      describeRule(name, rule, problems),
    );
    if (!rules.length) problems.push('has no rules');
    const selections = describeSelections(at(node, 'selections'), problems);
    if (!selections.length) problems.push('has no selections, so it would back nothing up');
    return { plan, regions, rules, selections, problems };
  });
}
