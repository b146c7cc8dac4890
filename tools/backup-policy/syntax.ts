import { z } from 'zod';
import { CHILD_CONTROL, VALUE_OPERATORS } from '../../functions/shared/backup-plans/merge';
import { ConfigError } from '../../functions/shared/errors';
import {
  coldStorageProblem,
  continuousProblem,
  isTimeZone,
  toBool,
  toInt,
} from '../../functions/shared/backup-plans/values';
import { cronProblem } from '../../functions/shared/backup-plans/cron';
import { ACCOUNT_ID_PATTERN, REGION_PATTERN, REGION_RULE } from '../../functions/shared/patterns';

/**
 * The syntax of AWS Organizations backup policies (policy type BACKUP_POLICY): a schema for the
 * files in infra/backup-policies/, with one message per problem naming the field path.
 *
 * Syntax: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_backup_syntax.html
 * Operators: https://docs.aws.amazon.com/organizations/latest/userguide/policy-operators.html
 */

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

const REGION = z.string().regex(REGION_PATTERN, REGION_RULE);
const VAULT_NAME = z
  .string()
  .regex(/^[A-Za-z0-9_-]{2,50}$/, 'must be a backup vault name: 2 to 50 letters, digits, "-", "_"');
const ACCOUNT = `(\\$account|${ACCOUNT_ID_PATTERN.source.slice(1, -1)})`;
const REGION_NAME = REGION_PATTERN.source.slice(1, -1);
const REGION_OR_PLACEHOLDER = `(\\$region|${REGION_NAME})`;
/**
 * The central backup account's vault in a region ({{central-vault:<region>}}), or its logically
 * air-gapped vault ({{central-air-gapped-vault:<region>}}), filled in at package time from
 * centralBackup in the configuration: policies never carry the central account's id. Groups: the
 * kind (vault, air-gapped-vault), the region.
 */
export const CENTRAL_VAULT = new RegExp(
  `^\\{\\{central-(vault|air-gapped-vault):(${REGION_NAME})\\}\\}$`,
);
const VAULT_ARN_PATTERN = new RegExp(
  String.raw`^(arn:aws[a-z-]*:backup:${REGION_OR_PLACEHOLDER}:${ACCOUNT}:backup-vault:[A-Za-z0-9_.-]{2,50}|\{\{central-(vault|air-gapped-vault):${REGION_NAME}\}\})$`,
);
const VAULT_ARN_RULE =
  'must be a backup vault ARN, arn:aws:backup:<region>:<account id or $account>:backup-vault:<name>, {{central-vault:<region>}} or {{central-air-gapped-vault:<region>}}';
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

export function formatPath(path: readonly PropertyKey[]): string {
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
