import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import type { Config, Profile } from './config';
import { ConfigError } from './errors';

/**
 * AWS Organizations backup policies (policy type BACKUP_POLICY) as code: the files in
 * infra/backup-policies/, their syntax, and what they mean once merged into an account's
 * effective policy.
 *
 * Syntax: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_backup_syntax.html
 * Operators: https://docs.aws.amazon.com/organizations/latest/userguide/policy-operators.html
 */

export const BACKUP_POLICIES_DIR = join(__dirname, '..', '..', 'infra', 'backup-policies');

export const VALUE_OPERATORS = ['@@assign', '@@append', '@@remove'] as const;
export type ValueOperator = (typeof VALUE_OPERATORS)[number];
export const CHILD_CONTROL = '@@operators_allowed_for_child_policies';

/** AWS Backup runs scheduled backups at most once an hour and accepts cron() only. */
const MAX_WINDOW_MINUTES = 52_560_000; // 100 years, the API's maximum for both windows
const MAX_RETENTION_DAYS = 36_500;
/** Recovery points moved to cold storage stay there at least 90 days. */
const COLD_STORAGE_MINIMUM_DAYS = 90;
/** Point-in-time (continuous) backups are kept at most 35 days. */
const CONTINUOUS_MAX_DAYS = 35;
/** What AWS Backup uses when a rule gives no schedule_expression_timezone. */
const DEFAULT_TIMEZONE = 'UTC';

// ---------------------------------------------------------------------------------------------
// Syntax
// ---------------------------------------------------------------------------------------------

const ChildControlSchema = z
  .array(z.enum(['@@all', '@@none', ...VALUE_OPERATORS]), {
    error: 'must be a list such as ["@@none"], ["@@all"] or ["@@assign", "@@append"]',
  })
  .min(1, 'must name at least one operator, or "@@none"')
  .refine((ops) => ops.length === 1 || !ops.some((op) => op === '@@all' || op === '@@none'), {
    message: '"@@all" and "@@none" must stand alone',
  });
export type ChildControl = z.infer<typeof ChildControlSchema>;

/** A named collection (plans, rules, selections ...) that may also carry a child control. */
export type NamedMap<T> = { [CHILD_CONTROL]?: ChildControl } & { [name: string]: T };

/** One setting: exactly one value operator, optionally a child control. */
export interface Setting<T> {
  '@@assign'?: T;
  '@@append'?: T;
  '@@remove'?: T;
  [CHILD_CONTROL]?: ChildControl;
}

function objectError(what: string) {
  return (issue: z.core.$ZodRawIssue) => {
    if (issue.code !== 'invalid_type') return undefined;
    return issue.input === undefined ? 'is required' : `must be a JSON object (${what})`;
  };
}

/** An object with fixed keys; every key optional because a child policy may set only some. */
function container<S extends z.core.$ZodLooseShape>(what: string, shape: S) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(
    { ...shape, [CHILD_CONTROL]: ChildControlSchema.optional() },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? `allowed here: ${allowed}` : objectError(what)(issue),
    },
  );
}

/**
 * A setting such as {"@@assign": "35"}. Lists (regions, tag values, resource types) also take
 * "@@append" and "@@remove"; single values take "@@assign" only.
 */
function setting<T extends z.ZodType>(value: T, { list = false } = {}) {
  const operand = value.optional();
  const shape = list
    ? { '@@assign': operand, '@@append': operand, '@@remove': operand }
    : { '@@assign': operand };
  return z
    .strictObject(
      { ...shape, [CHILD_CONTROL]: ChildControlSchema.optional() },
      {
        error: (issue) => {
          if (issue.code === 'unrecognized_keys') {
            return `allowed here: ${Object.keys(shape).join(', ')}, ${CHILD_CONTROL}`;
          }
          if (issue.code !== 'invalid_type') return undefined;
          if (issue.input === undefined) return 'is required';
          return `must be wrapped in an inheritance operator: {"@@assign": ${JSON.stringify(issue.input)}}`;
        },
      },
    )
    .superRefine((node, ctx) => {
      const ops = VALUE_OPERATORS.filter((op) => op in node);
      if (ops.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'needs a value: {"@@assign": ...}' });
      } else if (ops.length > 1) {
        ctx.addIssue({
          code: 'custom',
          message: `use one operator, not ${ops.map((op) => `"${op}"`).join(' and ')}`,
        });
      }
    })
    .transform((node) => node as Setting<z.output<T>>);
}

interface NamedMapOptions<V> {
  what: string;
  name: RegExp;
  nameRule: string;
  /** A rule between an entry's name and its content (copy actions are keyed by their ARN). */
  check?: (name: string, entry: V) => { path: string[]; message: string } | undefined;
}

/** A map of user-chosen names to entries, validated entry by entry so issues keep their path. */
function namedMap<T extends z.ZodType>(entry: T, options: NamedMapOptions<z.output<T>>) {
  return z
    .record(z.string(), z.unknown(), { error: objectError(`${options.what} by name`) })
    .superRefine((map, ctx) => {
      for (const [name, raw] of Object.entries(map)) {
        if (name === CHILD_CONTROL) {
          forward(ChildControlSchema.safeParse(raw), [name], ctx);
          continue;
        }
        if (name.startsWith('@@')) {
          ctx.addIssue({
            code: 'custom',
            message: `"${name}" cannot stand here: a collection of ${options.what}s holds named entries (and "${CHILD_CONTROL}")`,
          });
          continue;
        }
        if (!options.name.test(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `${options.what} name ${options.nameRule}`,
          });
        }
        const parsed = entry.safeParse(raw);
        if (!parsed.success) forward(parsed, [name], ctx);
        else {
          const problem = options.check?.(name, parsed.data);
          if (problem) {
            ctx.addIssue({
              code: 'custom',
              path: [name, ...problem.path],
              message: problem.message,
            });
          }
        }
      }
    })
    .transform((map) => map as NamedMap<z.output<T>>);
}

function forward(
  result: { success: boolean; error?: z.ZodError },
  prefix: PropertyKey[],
  ctx: z.RefinementCtx,
): void {
  for (const line of flattenIssues(result.error?.issues ?? [])) {
    ctx.addIssue({ code: 'custom', path: [...prefix, ...line.path], message: line.message });
  }
}

const int = (min: number, max: number) =>
  z
    .union([z.number(), z.string()], { error: 'must be a whole number, e.g. "35"' })
    .superRefine((value, ctx) => {
      const n = toInt(value);
      if (n === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a whole number (AWS examples write it as a string, "35"), got ${JSON.stringify(value)}`,
        });
      } else if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${n}` });
      }
    });

const bool = z.union([z.boolean(), z.enum(['true', 'false'])], {
  error: 'must be true or false (or the strings "true", "false")',
});

const REGION = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be a region name such as us-east-1');
const VAULT_NAME = z
  .string()
  .regex(/^[A-Za-z0-9_-]{2,50}$/, 'must be a backup vault name: 2 to 50 letters, digits, "-", "_"');
const ACCOUNT = String.raw`(\$account|\d{12})`;
const REGION_OR_PLACEHOLDER = String.raw`(\$region|[a-z]{2}(-[a-z]+)+-\d{1,2})`;
const VAULT_ARN_PATTERN = new RegExp(
  String.raw`^arn:aws[a-z-]*:backup:${REGION_OR_PLACEHOLDER}:${ACCOUNT}:backup-vault:[A-Za-z0-9_.-]{2,50}$`,
);
const VAULT_ARN_RULE =
  'must be a backup vault ARN, arn:aws:backup:<region>:<account id or $account>:backup-vault:<name>';
const VAULT_ARN = z.string().regex(VAULT_ARN_PATTERN, VAULT_ARN_RULE);
const AIR_GAPPED_VAULT_ARN = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:backup:\$region:\$account:backup-vault:[A-Za-z0-9_.-]{2,50}$/,
    'must use the placeholders $region and $account: arn:aws:backup:$region:$account:backup-vault:<name>',
  );
const ROLE_ARN = z
  .string()
  .regex(
    new RegExp(String.raw`^arn:aws[a-z-]*:iam::${ACCOUNT}:role/[\w+=,.@/-]{1,512}$`),
    'must be an IAM role ARN, arn:aws:iam::$account:role/<name> ($account stands for each account)',
  );
const TAG_KEY = z.string().min(1).max(128);
const TAG_VALUE = z.string().max(256);
const SCHEDULE = z.string().superRefine((expression, ctx) => {
  const problem = cronProblem(expression);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const TIMEZONE = z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris');

const NAME = /^[A-Za-z0-9_.-]{1,50}$/;
const NAME_RULE = 'must be 1 to 50 letters, digits, "-", "_", "."';
const FREE_NAME = /^\S.{0,127}$/;
const FREE_NAME_RULE = 'must be 1 to 128 characters';

const LifecycleSchema = container('a lifecycle', {
  delete_after_days: setting(int(1, MAX_RETENTION_DAYS)).optional(),
  move_to_cold_storage_after_days: setting(int(1, MAX_RETENTION_DAYS)).optional(),
  opt_in_to_archive_for_supported_resources: setting(bool).optional(),
}).superRefine((lifecycle, ctx) => {
  const deleteAfter = toInt(lifecycle.delete_after_days?.['@@assign']);
  const coldAfter = toInt(lifecycle.move_to_cold_storage_after_days?.['@@assign']);
  const problem = coldStorageProblem(deleteAfter, coldAfter);
  if (problem) ctx.addIssue({ code: 'custom', path: ['delete_after_days'], message: problem });
});

const TagPairSchema = container('a tag', {
  tag_key: setting(TAG_KEY).optional(),
  tag_value: setting(TAG_VALUE).optional(),
});

const ConditionSchema = container('a condition', {
  condition_key: setting(z.string().min(1)).optional(),
  condition_value: setting(z.string()).optional(),
});

const conditionGroup = () =>
  namedMap(ConditionSchema, { what: 'condition', name: FREE_NAME, nameRule: FREE_NAME_RULE });

export const CONDITION_OPERATORS = [
  'string_equals',
  'string_not_equals',
  'string_like',
  'string_not_like',
] as const;

const ConditionsSchema = container('conditions', {
  string_equals: conditionGroup().optional(),
  string_not_equals: conditionGroup().optional(),
  string_like: conditionGroup().optional(),
  string_not_like: conditionGroup().optional(),
});

const TagSelectionSchema = container('a selection by tag', {
  iam_role_arn: setting(ROLE_ARN).optional(),
  tag_key: setting(TAG_KEY).optional(),
  tag_value: setting(z.union([TAG_VALUE, z.array(TAG_VALUE).min(1)]), { list: true }).optional(),
  conditions: ConditionsSchema.optional(),
});

const ResourceSelectionSchema = container('a selection by resource type', {
  iam_role_arn: setting(ROLE_ARN).optional(),
  resource_types: setting(z.array(z.string().min(1)).min(1), { list: true }).optional(),
  not_resource_types: setting(z.array(z.string().min(1)).min(1), { list: true }).optional(),
  conditions: ConditionsSchema.optional(),
});

const CopyActionSchema = container('a copy action', {
  target_backup_vault_arn: setting(VAULT_ARN).optional(),
  lifecycle: LifecycleSchema.optional(),
});

const RuleSchema = container('a backup rule', {
  schedule_expression: setting(SCHEDULE).optional(),
  schedule_expression_timezone: setting(TIMEZONE).optional(),
  start_backup_window_minutes: setting(int(60, MAX_WINDOW_MINUTES)).optional(),
  complete_backup_window_minutes: setting(int(60, MAX_WINDOW_MINUTES)).optional(),
  enable_continuous_backup: setting(bool).optional(),
  target_backup_vault_name: setting(VAULT_NAME).optional(),
  target_logically_air_gapped_backup_vault_arn: setting(AIR_GAPPED_VAULT_ARN).optional(),
  lifecycle: LifecycleSchema.optional(),
  copy_actions: namedMap(CopyActionSchema, {
    what: 'copy action',
    name: VAULT_ARN_PATTERN,
    nameRule: `(the key of a copy action) ${VAULT_ARN_RULE}`,
    check: (name, action) => {
      const target = action.target_backup_vault_arn?.['@@assign'];
      return target !== undefined && target !== name
        ? {
            path: ['target_backup_vault_arn'],
            message: `must equal the copy action's key "${name}" (copy actions are keyed by their destination vault ARN)`,
          }
        : undefined;
    },
  }).optional(),
  recovery_point_tags: namedMap(TagPairSchema, {
    what: 'tag',
    name: FREE_NAME,
    nameRule: FREE_NAME_RULE,
  }).optional(),
  index_actions: container('index actions', {
    resource_types: setting(z.array(z.enum(['EBS', 'S3'])).min(1), { list: true }).optional(),
  }).optional(),
}).superRefine((rule, ctx) => {
  const continuous = toBool(rule.enable_continuous_backup?.['@@assign']);
  const deleteAfter = toInt(rule.lifecycle?.delete_after_days?.['@@assign']);
  const problem = continuousProblem(continuous, deleteAfter);
  if (problem) {
    ctx.addIssue({ code: 'custom', path: ['lifecycle', 'delete_after_days'], message: problem });
  }
});

const PlanSchema = container('a backup plan', {
  regions: setting(z.array(REGION).min(1), { list: true }).optional(),
  rules: namedMap(RuleSchema, { what: 'rule', name: NAME, nameRule: NAME_RULE }).optional(),
  selections: container('selections', {
    tags: namedMap(TagSelectionSchema, {
      what: 'selection',
      name: NAME,
      nameRule: NAME_RULE,
    }).optional(),
    resources: namedMap(ResourceSelectionSchema, {
      what: 'selection',
      name: NAME,
      nameRule: NAME_RULE,
    }).optional(),
  }).optional(),
  advanced_backup_settings: container('advanced backup settings', {
    ec2: container('ec2 settings', {
      windows_vss: setting(z.enum(['enabled', 'disabled'])).optional(),
    }).optional(),
  }).optional(),
  backup_plan_tags: namedMap(TagPairSchema, {
    what: 'tag',
    name: FREE_NAME,
    nameRule: FREE_NAME_RULE,
  }).optional(),
});

export const BackupPolicySchema = z.strictObject(
  {
    plans: namedMap(PlanSchema, { what: 'plan', name: NAME, nameRule: NAME_RULE }),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? 'allowed here: plans'
        : issue.code === 'invalid_type'
          ? 'must be a JSON object with "plans"'
          : undefined,
  },
);
export type BackupPolicyDocument = z.infer<typeof BackupPolicySchema>;

export interface LoadedBackupPolicy {
  /** The file name without .json: the name profiles use in backupPolicies. */
  name: string;
  file: string;
  document: BackupPolicyDocument;
}

// ---------------------------------------------------------------------------------------------
// Issues: one line per problem, naming the field path
// ---------------------------------------------------------------------------------------------

interface IssueLine {
  path: PropertyKey[];
  message: string;
}

/** Field paths name settings, not the operator inside them: "lifecycle.delete_after_days". */
const withoutOperators = (path: readonly PropertyKey[]) =>
  path.filter((segment) => !(VALUE_OPERATORS as readonly PropertyKey[]).includes(segment));

function flattenIssues(issues: readonly z.core.$ZodIssue[]): IssueLine[] {
  return issues.flatMap((issue): IssueLine[] => {
    const path = withoutOperators(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        // An unknown operator is named in the message; the path stays on its setting.
        path: key.startsWith('@@') ? path : [...path, key],
        message: `${unknownKeyMessage(key)} (${issue.message})`,
      }));
    }
    if (issue.code === 'invalid_union' && issue.message === 'Invalid input') {
      // Report the most specific branch instead of "invalid input".
      const branch = issue.errors.find((errors) => errors.length > 0) ?? [];
      const nested = flattenIssues(branch);
      if (nested.length) return nested.map((line) => ({ ...line, path: [...path, ...line.path] }));
    }
    if (issue.code === 'invalid_value') {
      const values = issue.values.map((v) => JSON.stringify(v)).join(', ');
      return [{ path, message: `must be one of ${values}` }];
    }
    return [{ path, message: issue.message }];
  });
}

function unknownKeyMessage(key: string): string {
  if (key === '@@append' || key === '@@remove') {
    return `"${key}" works only on lists (regions, tag_value, resource_types); use "@@assign"`;
  }
  if (key.startsWith('@@')) {
    return `unknown operator "${key}": backup policies use "@@assign", "@@append", "@@remove" and "${CHILD_CONTROL}"`;
  }
  return `unknown key "${key}"`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(top level)';
}

/** Validates one policy document; the error names the source and each bad field's path. */
export function parseBackupPolicy(raw: unknown, source: string): BackupPolicyDocument {
  const result = BackupPolicySchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = flattenIssues(result.error.issues).map(
    (line) => `${source}: ${formatPath(line.path)}: ${line.message}`,
  );
  throw new ConfigError([...new Set(lines)].join('\n'));
}

/** Where a file is shown in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
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
  documents: readonly BackupPolicyDocument[],
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

// ---------------------------------------------------------------------------------------------
// Values and rules the service enforces
// ---------------------------------------------------------------------------------------------

/** Policies write numbers as strings ("35") in AWS's examples; both forms are accepted. */
export function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
}

function coldStorageProblem(deleteAfter?: number, coldAfter?: number): string | undefined {
  if (deleteAfter === undefined || coldAfter === undefined) return undefined;
  if (deleteAfter >= coldAfter + COLD_STORAGE_MINIMUM_DAYS) return undefined;
  return `must be at least ${COLD_STORAGE_MINIMUM_DAYS} days more than move_to_cold_storage_after_days (${coldAfter}), so at least ${coldAfter + COLD_STORAGE_MINIMUM_DAYS}: recovery points stay in cold storage ${COLD_STORAGE_MINIMUM_DAYS} days or more; got ${deleteAfter}`;
}

function continuousProblem(continuous?: boolean, deleteAfter?: number): string | undefined {
  if (!continuous || deleteAfter === undefined || deleteAfter <= CONTINUOUS_MAX_DAYS) {
    return undefined;
  }
  return `must be at most ${CONTINUOUS_MAX_DAYS} with enable_continuous_backup (point-in-time recovery keeps at most ${CONTINUOUS_MAX_DAYS} days); got ${deleteAfter}`;
}

function isTimeZone(zone: string): boolean {
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
