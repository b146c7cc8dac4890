/**
 * A small validator for what the functions read at run time: queue messages, event envelopes, the
 * deployed environment and the configuration JSON the stack hands them (checked against the JSON
 * Schema generated from the package-time schema, config/config.schema.json).
 *
 * Why not zod here: zod is about 455 KB of each bundle and most of the functions' cold load beyond
 * the AWS SDK. The full, friendly validation of the configuration happens once, at package time
 * (functions/shared/config/schema.ts); this is the run-time guard.
 */

export type Path = readonly (string | number)[];

export interface Issue {
  path: Path;
  /** Says what is wrong or expected, e.g. "is missing", "must be at most 256 characters". */
  message: string;
}

/** Checks a value, adding issues at `path`; a check never throws and never changes the value. */
export interface Check<T> {
  (value: unknown, path: Path, issues: Issue[]): void;
  /** Marks a key of `object()` as optional. */
  readonly optional?: boolean;
  /** Only for typing: the type a value that passes has. */
  readonly __type?: T;
}

export type Infer<C> = C extends Check<infer T> ? T : never;

export const check = <T>(fn: (value: unknown, path: Path, issues: Issue[]) => void): Check<T> =>
  fn as Check<T>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function typeIssue(value: unknown, expected: string, path: Path, issues: Issue[]): void {
  issues.push({
    path,
    message: value === undefined ? 'is missing' : `must be ${expected}, not ${describe(value)}`,
  });
}

export interface StringRules {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** What the pattern means, for the message ("must be a 12-digit AWS account id"). */
  rule?: string;
  startsWith?: string;
}

export const string = (rules: StringRules = {}): Check<string> =>
  check((value, path, issues) => {
    if (typeof value !== 'string') return typeIssue(value, 'a string', path, issues);
    if (rules.min !== undefined && value.length < rules.min) {
      issues.push({
        path,
        message: rules.min === 1 ? 'must not be empty' : `must be at least ${rules.min} characters`,
      });
    } else if (rules.max !== undefined && value.length > rules.max) {
      issues.push({ path, message: `must be at most ${rules.max} characters` });
    } else if (rules.startsWith !== undefined && !value.startsWith(rules.startsWith)) {
      issues.push({ path, message: rules.rule ?? `must start with "${rules.startsWith}"` });
    } else if (rules.pattern && !rules.pattern.test(value)) {
      issues.push({ path, message: rules.rule ?? `must match ${String(rules.pattern)}` });
    }
  });

export const number = (rules: { min?: number; max?: number; integer?: boolean } = {}) =>
  check<number>((value, path, issues) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return typeIssue(value, rules.integer ? 'an integer' : 'a number', path, issues);
    }
    if (rules.integer && !Number.isInteger(value)) {
      issues.push({ path, message: 'must be an integer' });
    } else if (rules.min !== undefined && value < rules.min) {
      issues.push({ path, message: `must be at least ${rules.min}` });
    } else if (rules.max !== undefined && value > rules.max) {
      issues.push({ path, message: `must be at most ${rules.max}` });
    }
  });

export const integer = (rules: { min?: number; max?: number } = {}) =>
  number({ ...rules, integer: true });

export const boolean = (): Check<boolean> =>
  check((value, path, issues) => {
    if (typeof value !== 'boolean') typeIssue(value, 'true or false', path, issues);
  });

export const unknown = (): Check<unknown> => check(() => undefined);

export const oneOf = <const T extends readonly (string | number | boolean | null)[]>(
  values: T,
): Check<T[number]> =>
  check((value, path, issues) => {
    if (!values.includes(value as T[number])) {
      issues.push({
        path,
        message:
          value === undefined
            ? 'is missing'
            : `must be ${values.length === 1 ? '' : 'one of '}${values.map((v) => JSON.stringify(v)).join(', ')}`,
      });
    }
  });

export const literal = <const T extends string | number | boolean>(value: T): Check<T> =>
  oneOf([value]);

export const array = <T>(item: Check<T>, rules: { min?: number; max?: number } = {}) =>
  check<T[]>((value, path, issues) => {
    if (!Array.isArray(value)) return typeIssue(value, 'a list', path, issues);
    if (rules.min !== undefined && value.length < rules.min) {
      issues.push({ path, message: `must have at least ${rules.min} item(s)` });
    } else if (rules.max !== undefined && value.length > rules.max) {
      issues.push({ path, message: `must have at most ${rules.max} items` });
    }
    value.forEach((v, i) => item(v, [...path, i], issues));
  });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON object; `values` checks each value, `keys` each key. */
export const record = <T = unknown>(values?: Check<T>, keys?: Check<string>) =>
  check<Record<string, T>>((value, path, issues) => {
    if (!isObject(value)) return typeIssue(value, 'a JSON object', path, issues);
    for (const [k, v] of Object.entries(value)) {
      keys?.(k, [...path, k], issues);
      values?.(v, [...path, k], issues);
    }
  });

export const optional = <T>(inner: Check<T>): Check<T | undefined> =>
  Object.assign(
    check<T | undefined>((value, path, issues) => {
      if (value !== undefined) inner(value, path, issues);
    }),
    { optional: true },
  );

type Shape = Record<string, Check<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: undefined extends Infer<S[K]> ? K : never;
}[keyof S];
export type ObjectOf<S extends Shape> = {
  [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]>;
} & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** An object with these keys; `strict` refuses others (naming them). */
export const object = <S extends Shape>(shape: S, options: { strict?: boolean } = {}) =>
  check<ObjectOf<S>>((value, path, issues) => {
    if (!isObject(value)) return typeIssue(value, 'a JSON object', path, issues);
    for (const [key, inner] of Object.entries(shape)) {
      inner(Object.hasOwn(value, key) ? value[key] : undefined, [...path, key], issues);
    }
    if (options.strict) {
      const unknownKeys = Object.keys(value).filter((k) => !Object.hasOwn(shape, k));
      if (unknownKeys.length) {
        issues.push({
          path,
          message: `unknown setting(s) ${unknownKeys.map((k) => `"${k}"`).join(', ')}`,
        });
      }
    }
  });

/** Passes when any of the checks passes; else the issues of the closest one (fewest issues). */
export const anyOf = <T>(checks: readonly Check<T>[]): Check<T> =>
  check((value, path, issues) => {
    let best: Issue[] | undefined;
    for (const c of checks) {
      const found: Issue[] = [];
      c(value, path, found);
      if (!found.length) return;
      if (!best || found.length < best.length) best = found;
    }
    issues.push(...(best ?? []));
  });

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

export function validate<T>(c: Check<T>, value: unknown): Validated<T> {
  const issues: Issue[] = [];
  c(value, [], issues);
  return issues.length ? { ok: false, issues } : { ok: true, value: value as T };
}

export const pathText = (path: Path, top = '(top level)'): string =>
  path.length ? path.map(String).join('.') : top;

/** One message naming each bad setting: "invalid configuration in X:\n  - a.b: is missing". */
export function formatIssues(issues: readonly Issue[], source: string): string {
  return `invalid configuration in ${source}:\n${issues.map((i) => `  - ${pathText(i.path)}: ${i.message}`).join('\n')}`;
}
