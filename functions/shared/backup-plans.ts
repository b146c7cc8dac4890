/**
 * What an account's backup plans do, read from an effective backup policy (Organizations
 * DescribeEffectivePolicy at run time, or policies merged from infra/backup-policies/ at package
 * time): merging, plain-language description, cron schedules. No file access and no schema
 * library: the functions use it as well as the tooling (backup-policy.ts).
 */

export const VALUE_OPERATORS = ['@@assign', '@@append', '@@remove'] as const;
export type ValueOperator = (typeof VALUE_OPERATORS)[number];
export const CHILD_CONTROL = '@@operators_allowed_for_child_policies';

/** Recovery points moved to cold storage stay there at least 90 days. */
export const COLD_STORAGE_MINIMUM_DAYS = 90;
/** Point-in-time (continuous) backups are kept at most 35 days. */
export const CONTINUOUS_MAX_DAYS = 35;
/** What AWS Backup uses when a rule gives no schedule_expression_timezone. */
export const DEFAULT_TIMEZONE = 'UTC';

export const CONDITION_OPERATORS = [
  'string_equals',
  'string_not_equals',
  'string_like',
  'string_not_like',
] as const;

// ---------------------------------------------------------------------------------------------
// Effective policy: merging documents the way Organizations does
// ---------------------------------------------------------------------------------------------

type Leaf = string | number | boolean | string[];
export type EffectiveValue = Leaf | EffectiveNode;
export interface EffectiveNode {
  [key: string]: EffectiveValue;
}

export interface EffectivePolicy {
  plans: Record<string, EffectiveNode>;
  /** Settings a later policy tried to change but an earlier one's child control forbids. */
  ignored: string[];
}

interface MergeNode {
  name: string;
  /** The value operators later (child) policies may still use here. */
  allowed: ReadonlySet<ValueOperator>;
  value?: Leaf;
  children: Map<string, MergeNode>;
}

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isSetting = (v: unknown): v is Json => isRecord(v) && VALUE_OPERATORS.some((op) => op in v);

function newNode(name: string): MergeNode {
  return { name, allowed: new Set(VALUE_OPERATORS), children: new Map() };
}

function restrict(
  allowed: ReadonlySet<ValueOperator>,
  control: unknown,
): ReadonlySet<ValueOperator> {
  if (!Array.isArray(control) || control.includes('@@all')) return allowed;
  if (control.includes('@@none')) return new Set();
  // An inherited restriction cannot be reversed: intersect, never widen.
  return new Set([...allowed].filter((op) => control.includes(op)));
}

function asList(value: Leaf | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [String(value)];
}

function applyOperator(op: ValueOperator, current: Leaf | undefined, operand: unknown): Leaf {
  const given = operand as Leaf;
  if (op === '@@assign') return Array.isArray(given) ? [...given] : given;
  const items = asList(given);
  if (op === '@@append') {
    const list = asList(current);
    return [...list, ...items.filter((item) => !list.includes(item))];
  }
  return asList(current).filter((item) => !items.includes(item));
}

function describeAllowed(allowed: ReadonlySet<ValueOperator>): string {
  return allowed.size ? `only ${[...allowed].join(', ')}` : 'no change';
}

function mergeContainer(
  node: MergeNode,
  source: Json,
  path: string[],
  origin: string,
  ignored: string[],
): void {
  for (const [key, raw] of Object.entries(source)) {
    if (key.startsWith('@@')) continue;
    const where = [...path, key].join('.');
    // Organizations matches names without regard to case (its effective policies lower-case them).
    let child = node.children.get(key.toLowerCase());
    if (!child) {
      if (!node.allowed.has('@@append') && !node.allowed.has('@@assign')) {
        ignored.push(
          `${origin}: ${where} not added: an earlier policy allows ${describeAllowed(node.allowed)} at ${path.join('.')}`,
        );
        continue;
      }
      child = newNode(key);
      node.children.set(key.toLowerCase(), child);
    }
    if (isSetting(raw)) {
      const op = VALUE_OPERATORS.find((o) => o in raw) as ValueOperator;
      if (child.allowed.has(op)) child.value = applyOperator(op, child.value, raw[op]);
      else
        ignored.push(
          `${origin}: ${where}: ${op} ignored: an earlier policy allows ${describeAllowed(child.allowed)} here`,
        );
      child.allowed = restrict(child.allowed, raw[CHILD_CONTROL]);
    } else if (isRecord(raw)) {
      mergeContainer(child, raw, [...path, key], origin, ignored);
    }
  }
  // This document's own control binds the documents after it, not itself.
  node.allowed = restrict(node.allowed, source[CHILD_CONTROL]);
}

function toEffective(node: MergeNode): EffectiveValue {
  if (node.value !== undefined) return node.value;
  const out: EffectiveNode = {};
  for (const child of node.children.values()) out[child.name] = toEffective(child);
  return out;
}

/**
 * Merges policy documents in inheritance order (root, then OUs, then the account) into the
 * effective policy: "@@assign" replaces, "@@append" adds to a list, "@@remove" takes from it,
 * and "@@operators_allowed_for_child_policies" limits what the later documents may do.
 */
export function effectivePlans(
  documents: readonly { plans: unknown }[],
  names: readonly string[] = [],
): EffectivePolicy {
  const root = newNode('plans');
  const ignored: string[] = [];
  documents.forEach((document, i) => {
    mergeContainer(root, document.plans as Json, ['plans'], names[i] ?? `policy ${i + 1}`, ignored);
  });
  const plans = toEffective(root) as Record<string, EffectiveNode>;
  return { plans, ignored };
}

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

// ---------------------------------------------------------------------------------------------
// Values and rules the service enforces
// ---------------------------------------------------------------------------------------------

/** Policies write numbers as strings ("35") in AWS's examples; both forms are accepted. */
export function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

export function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
}

export function coldStorageProblem(deleteAfter?: number, coldAfter?: number): string | undefined {
  if (deleteAfter === undefined || coldAfter === undefined) return undefined;
  if (deleteAfter >= coldAfter + COLD_STORAGE_MINIMUM_DAYS) return undefined;
  return `must be at least ${COLD_STORAGE_MINIMUM_DAYS} days more than move_to_cold_storage_after_days (${coldAfter}), so at least ${coldAfter + COLD_STORAGE_MINIMUM_DAYS}: recovery points stay in cold storage ${COLD_STORAGE_MINIMUM_DAYS} days or more; got ${deleteAfter}`;
}

export function continuousProblem(continuous?: boolean, deleteAfter?: number): string | undefined {
  if (!continuous || deleteAfter === undefined || deleteAfter <= CONTINUOUS_MAX_DAYS) {
    return undefined;
  }
  return `must be at most ${CONTINUOUS_MAX_DAYS} with enable_continuous_backup (point-in-time recovery keeps at most ${CONTINUOUS_MAX_DAYS} days); got ${deleteAfter}`;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// cron(minutes hours day-of-month month day-of-week year), as EventBridge and AWS Backup read it
// ---------------------------------------------------------------------------------------------

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Forms beyond numbers, ranges, lists and steps (L, W, #). */
  special?: RegExp;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, special: /^(L|LW|([1-9]|[12]\d|3[01])W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAYS,
    special: /^(L|[1-7]L|[1-7]#[1-5]|(SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$/,
  },
  { name: 'year', min: 1970, max: 2199 },
];

function cronValue(token: string, field: CronField): number | undefined {
  const index = field.names?.indexOf(token.toUpperCase()) ?? -1;
  // Names count from 1: JAN is month 1, SUN is day 1.
  const n = index >= 0 ? index + 1 : /^\d+$/.test(token) ? Number(token) : undefined;
  return n !== undefined && n >= field.min && n <= field.max ? n : undefined;
}

function cronFieldProblem(value: string, field: CronField): string | undefined {
  const bad = `${field.name} field "${value}" is not valid (${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : ''}, ",", "-", "*", "/")`;
  if (value === '*') return undefined;
  if (field.special?.test(value.toUpperCase())) return undefined;
  for (const part of value.split(',')) {
    const [range, step, ...extra] = part.split('/');
    if (extra.length || range === undefined) return bad;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return bad;
    if (range === '*') continue;
    const ends = range.split('-');
    if (ends.length > 2 || ends.some((end) => cronValue(end, field) === undefined)) return bad;
  }
  return undefined;
}

function cronFields(expression: string): string[] | undefined {
  const m = /^cron\((.*)\)$/.exec(expression.trim());
  return m ? m[1]!.trim().split(/\s+/) : undefined;
}

/** Why AWS Backup would refuse this schedule expression, or undefined when it is fine. */
export function cronProblem(expression: string): string | undefined {
  if (/^rate\(/.test(expression.trim())) {
    return 'AWS Backup takes cron(...) expressions only, not rate(...)';
  }
  const fields = cronFields(expression);
  if (!fields) {
    return 'must be cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 5 ? * * *)';
  }
  if (fields.length !== 6) {
    return `must have 6 fields, cron(minutes hours day-of-month month day-of-week year); got ${fields.length} in ${expression}`;
  }
  for (const [i, field] of CRON_FIELDS.entries()) {
    const value = fields[i]!;
    if (value === '?' && (field.name === 'day-of-month' || field.name === 'day-of-week')) continue;
    const problem = cronFieldProblem(value, field);
    if (problem) return `${problem} in ${expression}`;
  }
  const [minutes, , dayOfMonth, , dayOfWeek] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return `exactly one of day-of-month and day-of-week must be "?" in ${expression}`;
  }
  if (!/^\d+$/.test(minutes!)) {
    return `the minutes field must be one number: AWS Backup runs a rule at most once an hour; got "${minutes}" in ${expression}`;
  }
  return undefined;
}

/** Every value a numeric field takes, or undefined for forms this reader does not expand. */
function expand(value: string, field: CronField): number[] | undefined {
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const [range, step] = part.split('/');
    let from = field.min;
    let to = field.max;
    if (range !== '*') {
      const [a, b] = range!.split('-');
      const start = cronValue(a!, field);
      const end = b === undefined ? (step === undefined ? start : field.max) : cronValue(b, field);
      if (start === undefined || end === undefined) return undefined;
      from = start;
      to = end;
    }
    for (let n = from; n <= to; n += step ? Number(step) : 1) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

const two = (n: number) => String(n).padStart(2, '0');

function describeHours(hours: number[], minute: number, zone: string): string {
  const time = (h: number) => `${two(h)}:${two(minute)}`;
  if (hours.length === 24) return minute === 0 ? 'every hour' : `every hour at :${two(minute)}`;
  const step = hours.length > 1 ? hours[1]! - hours[0]! : 0;
  const even = hours.length > 1 && hours.every((h, i) => h === hours[0]! + i * step);
  if (even && step > 1 && hours[0]! < step && hours.length * step === 24) {
    const offset = hours[0] !== 0 || minute !== 0;
    return `every ${step} hours${offset ? ` from ${time(hours[0]!)} ${zone}` : ''}`;
  }
  if (even && step === 1 && hours.length > 2) {
    return `every hour from ${time(hours[0]!)} to ${time(hours[hours.length - 1]!)} ${zone}`;
  }
  return `at ${hours.map(time).join(', ')} ${zone}`;
}

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth'];

function describeDaysOfWeek(value: string): string | undefined {
  const v = value.toUpperCase();
  const field = CRON_FIELDS[4]!;
  const nth = /^(\w+)#([1-5])$/.exec(v);
  if (nth) {
    const day = cronValue(nth[1]!, field);
    return day === undefined
      ? undefined
      : `on the ${ORDINALS[Number(nth[2]) - 1]} ${DAY_NAMES[day - 1]} of the month`;
  }
  const last = /^(\w+)L$/.exec(v);
  if (last) {
    const day = cronValue(last[1]!, field);
    return day === undefined ? undefined : `on the last ${DAY_NAMES[day - 1]} of the month`;
  }
  const days = expand(v, field);
  if (!days) return undefined;
  if (days.join() === '2,3,4,5,6') return 'on weekdays';
  if (days.length === 1) return `weekly on ${DAY_NAMES[days[0]! - 1]}`;
  return `every ${days.map((d) => DAY_NAMES[d - 1]).join(', ')}`;
}

function describeDaysOfMonth(value: string): string | undefined {
  const v = value.toUpperCase();
  if (v === 'L') return 'on the last day';
  if (v === 'LW') return 'on the last weekday';
  const nearest = /^(\d+)W$/.exec(v);
  if (nearest) return `on the weekday nearest day ${nearest[1]}`;
  const days = expand(v, CRON_FIELDS[2]!);
  if (!days) return undefined;
  return `on day${days.length > 1 ? 's' : ''} ${days.join(', ')}`;
}

/** Human words for a cron expression: "daily at 05:00 UTC", "every 4 hours", ... */
export function describeSchedule(expression: string, timezone: string = DEFAULT_TIMEZONE): string {
  const fallback = `on the schedule ${expression} (${timezone})`;
  if (cronProblem(expression)) return fallback;
  const [minutes, hoursField, dayOfMonth, month, dayOfWeek, year] = cronFields(expression)!;
  const hours = expand(hoursField!, CRON_FIELDS[1]!);
  if (!hours) return fallback;
  const time = describeHours(hours, Number(minutes), timezone);
  const every = (d: string) => d === '*' || d === '?';
  const months = month === '*' ? undefined : expand(month!, CRON_FIELDS[3]!);
  if (month !== '*' && !months) return fallback;
  const monthText = months?.map((m) => MONTH_NAMES[m - 1]).join(', ');
  let when: string;
  if (every(dayOfMonth!) && every(dayOfWeek!)) {
    const daily = time.startsWith('at ') ? `daily ${time}` : time;
    when = monthText ? `${daily} in ${monthText}` : daily;
  } else if (!every(dayOfWeek!)) {
    const days = describeDaysOfWeek(dayOfWeek!);
    if (!days) return fallback;
    when = `${days}${monthText ? ` in ${monthText}` : ''} ${time}`;
  } else {
    const days = describeDaysOfMonth(dayOfMonth!);
    if (!days) return fallback;
    if (!months) when = `monthly ${days} ${time}`;
    else if (months.length === 1) when = `yearly ${days} of ${monthText} ${time}`;
    else when = `${days} of ${monthText} ${time}`;
  }
  return year === '*' ? when : `${when}, in ${year}`;
}

// ---------------------------------------------------------------------------------------------
// Reading what Organizations returns, and how often a rule runs
// ---------------------------------------------------------------------------------------------

/** Plain values become "@@assign" settings, so effectivePlans reads both forms alike. */
function asSettings(node: unknown): unknown {
  if (Array.isArray(node) || typeof node !== 'object' || node === null) {
    return { '@@assign': node };
  }
  if (VALUE_OPERATORS.some((op) => op in node)) return node;
  return Object.fromEntries(
    Object.entries(node as Record<string, unknown>).map(([k, v]) => [
      k,
      k.startsWith('@@') ? v : asSettings(v),
    ]),
  );
}

/**
 * The plans of an effective backup policy as DescribeEffectivePolicy returns it (its content
 * parsed from JSON). Values may be plain or still wrapped in "@@assign"; names are lower-cased
 * by Organizations. Anything without `plans` has no plans.
 */
export function readEffectivePolicy(content: unknown): PlanDescription[] {
  const plans =
    typeof content === 'object' && content !== null
      ? (content as { plans?: unknown }).plans
      : undefined;
  if (typeof plans !== 'object' || plans === null || Array.isArray(plans)) return [];
  return describePlans(effectivePlans([{ plans: asSettings(plans) }]));
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The largest gap between consecutive values on a cycle of `period` (e.g. hours of a day). */
function largestGap(values: readonly number[], period: number): number {
  if (values.length === 0) return period;
  const sorted = [...values].sort((a, b) => a - b);
  let gap = sorted[0]! + period - sorted[sorted.length - 1]!;
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i]! - sorted[i - 1]!);
  return gap;
}

/**
 * The longest time between two runs of a cron schedule, rounded up where the calendar varies (a
 * monthly rule counts 31 days, one restricted to some months a year). Undefined for an
 * expression this reader cannot expand. Coverage uses it to tell a late backup from a due one.
 */
export function longestIntervalMs(expression: string): number | undefined {
  if (cronProblem(expression)) return undefined;
  const [, hoursField, dayOfMonth, month, dayOfWeek] = cronFields(expression)!;
  if (month !== '*') return 366 * DAY_MS;
  const every = (d: string) => d === '*' || d === '?';
  if (!every(dayOfWeek!)) {
    const days = expand(dayOfWeek!.toUpperCase(), CRON_FIELDS[4]!);
    // "#" and "L" forms run once a month.
    return days ? largestGap(days, 7) * DAY_MS : 31 * DAY_MS;
  }
  if (!every(dayOfMonth!)) {
    const days = expand(dayOfMonth!, CRON_FIELDS[2]!);
    return days ? Math.max(largestGap(days, 31), 1) * DAY_MS : 31 * DAY_MS;
  }
  const hours = expand(hoursField!, CRON_FIELDS[1]!);
  return hours ? largestGap(hours, 24) * HOUR_MS : undefined;
}
