import { readdirSync, readFileSync } from 'node:fs';
import { partitionOfRegion } from './partition';
import { join, relative } from 'node:path';
import { z } from 'zod';
import type { Config, Profile } from './config/schema';
import {
  CHILD_CONTROL,
  VALUE_OPERATORS,
  coldStorageProblem,
  continuousProblem,
  cronProblem,
  describePlans,
  effectivePlans,
  isTimeZone,
  toBool,
  toInt,
  type EffectivePolicy,
  type PlanDescription,
} from './backup-plans';
import { ConfigError } from './errors';

export * from './backup-plans';

/**
 * AWS Organizations backup policies (policy type BACKUP_POLICY) as code: the files in
 * infra/backup-policies/, their syntax, and what they mean once merged into an account's
 * effective policy.
 *
 * Syntax: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_backup_syntax.html
 * Operators: https://docs.aws.amazon.com/organizations/latest/userguide/policy-operators.html
 */

export const BACKUP_POLICIES_DIR = join(__dirname, '..', '..', 'infra', 'backup-policies');

/** AWS Backup runs scheduled backups at most once an hour and accepts cron() only. */
const MAX_WINDOW_MINUTES = 52_560_000; // 100 years, the API's maximum for both windows
const MAX_RETENTION_DAYS = 36_500;

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
/**
 * The central backup account's vault in a region, filled in at package time from
 * centralBackup in the configuration: policies never carry the central account's id.
 */
const CENTRAL_VAULT = /^\{\{central-vault:([a-z]{2}(?:-[a-z]+)+-\d{1,2})\}\}$/;
const VAULT_ARN_PATTERN = new RegExp(
  String.raw`^(arn:aws[a-z-]*:backup:${REGION_OR_PLACEHOLDER}:${ACCOUNT}:backup-vault:[A-Za-z0-9_.-]{2,50}|\{\{central-vault:[a-z]{2}(-[a-z]+)+-\d{1,2}\}\})$`,
);
const VAULT_ARN_RULE =
  'must be a backup vault ARN, arn:aws:backup:<region>:<account id or $account>:backup-vault:<name>, or {{central-vault:<region>}}';
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

export interface CentralBackup {
  accountId: string;
  vaultName: string;
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
    if (!central) {
      throw new ConfigError(
        `${source}: ${formatPath(path)}: ${text} needs the central backup account: set centralBackup.accountId in the configuration`,
      );
    }
    // The vault's partition is its region's (us-gov-west-1 → aws-us-gov).
    return `arn:${partitionOfRegion(m[1])}:backup:${m[1]}:${central.accountId}:backup-vault:${central.vaultName}`;
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
  return walk(document, []);
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
