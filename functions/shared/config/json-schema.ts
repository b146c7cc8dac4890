import {
  anyOf,
  array,
  boolean,
  check,
  integer,
  number,
  object,
  oneOf,
  optional,
  record,
  string,
  unknown,
  type Check,
  type Issue,
  type Path,
} from '../validate';

/**
 * Turns the subset of JSON Schema that `z.toJSONSchema` writes for the configuration into a run-time
 * check, so the functions check the configuration against the package-time schema itself (one
 * definition) without carrying zod. A keyword it does not know is an error when the check is built
 * (test/unit/config-schema.test.ts builds it), never silently skipped.
 */

export type JsonSchema = Readonly<Record<string, unknown>>;

/** Keywords that only apply under their `type` here. */
const TYPE_SPECIFIC = new Set([
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'items',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
]);

const IGNORED = new Set(['$schema', 'default', 'description', 'title', 'format', '$defs']);
const KNOWN = new Set([
  ...IGNORED,
  'type',
  'enum',
  'const',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'items',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
]);

export function compileJsonSchema(root: JsonSchema): Check<unknown> {
  const defs = (root.$defs ?? {}) as Record<string, JsonSchema>;
  const compiled = new Map<JsonSchema, Check<unknown>>();

  const build = (schema: JsonSchema, at: string): Check<unknown> => {
    const cachedCheck = compiled.get(schema);
    if (cachedCheck) return cachedCheck;
    const unknownKeys = Object.keys(schema).filter((k) => !KNOWN.has(k));
    if (unknownKeys.length) {
      throw new Error(`JSON Schema at ${at}: unsupported keyword(s) ${unknownKeys.join(', ')}`);
    }
    const typeSpecific = Object.keys(schema).filter((k) => TYPE_SPECIFIC.has(k));
    if (schema.type === undefined && typeSpecific.length) {
      // zod writes e.g. allOf: [{pattern}] for a second regex: refused rather than skipped.
      throw new Error(
        `JSON Schema at ${at}: ${typeSpecific.join(', ')} without a type is not supported`,
      );
    }
    const parts: Check<unknown>[] = [];
    if (typeof schema.$ref === 'string') {
      const name = /^#\/\$defs\/(.+)$/.exec(schema.$ref)?.[1];
      const target = name !== undefined ? defs[name] : undefined;
      if (!target) throw new Error(`JSON Schema at ${at}: unresolved $ref ${schema.$ref}`);
      // Resolved lazily: definitions may refer to themselves.
      parts.push(check((v, p, i) => build(target, schema.$ref as string)(v, p, i)));
    }
    if (schema.type !== undefined) parts.push(typed(schema, at));
    else if (schema.enum !== undefined) parts.push(oneOf(schema.enum as string[]));
    if (schema.const !== undefined) parts.push(oneOf([schema.const as string]));
    for (const key of ['anyOf', 'oneOf'] as const) {
      const list = schema[key] as JsonSchema[] | undefined;
      if (list) parts.push(anyOf(list.map((s, i) => build(s, `${at}.${key}[${i}]`))));
    }
    for (const [i, s] of ((schema.allOf ?? []) as JsonSchema[]).entries()) {
      parts.push(build(s, `${at}.allOf[${i}]`));
    }
    const result: Check<unknown> = parts.length === 1 ? parts[0]! : all(parts);
    compiled.set(schema, result);
    return result;
  };

  const typed = (schema: JsonSchema, at: string): Check<unknown> => {
    const types = ([] as unknown[]).concat(schema.type) as string[];
    const one = types.map((type) => byType(type, schema, at));
    return one.length === 1 ? one[0]! : anyOf(one);
  };

  const byType = (type: string, s: JsonSchema, at: string): Check<unknown> => {
    const withEnum = (c: Check<unknown>) =>
      s.enum !== undefined ? all([c, oneOf(s.enum as string[])]) : c;
    switch (type) {
      case 'string':
        return withEnum(
          string({
            ...(typeof s.minLength === 'number' ? { min: s.minLength } : {}),
            ...(typeof s.maxLength === 'number' ? { max: s.maxLength } : {}),
            ...(typeof s.pattern === 'string' ? { pattern: new RegExp(s.pattern) } : {}),
          }),
        );
      case 'integer':
      case 'number': {
        const rules = {
          ...(typeof s.minimum === 'number' ? { min: s.minimum } : {}),
          ...(typeof s.maximum === 'number' ? { max: s.maximum } : {}),
        };
        return withEnum(type === 'integer' ? integer(rules) : number(rules));
      }
      case 'boolean':
        return withEnum(boolean());
      case 'null':
        return oneOf([null]);
      case 'array':
        return array(s.items ? build(s.items as JsonSchema, `${at}.items`) : unknown(), {
          ...(typeof s.minItems === 'number' ? { min: s.minItems } : {}),
          ...(typeof s.maxItems === 'number' ? { max: s.maxItems } : {}),
        });
      case 'object':
        return objectCheck(s, at);
      default:
        throw new Error(`JSON Schema at ${at}: unsupported type ${type}`);
    }
  };

  const objectCheck = (s: JsonSchema, at: string): Check<unknown> => {
    const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((s.required ?? []) as string[]);
    const shape = Object.fromEntries(
      Object.entries(properties).map(([key, sub]) => {
        const inner = build(sub, `${at}.${key}`);
        return [key, required.has(key) ? inner : optional(inner)];
      }),
    );
    const extra = s.additionalProperties;
    const keys = s.propertyNames
      ? build(s.propertyNames as JsonSchema, `${at}.propertyNames`)
      : undefined;
    const declared = Object.keys(properties).length > 0;
    if (!declared) {
      // A map: every value against additionalProperties, every key against propertyNames.
      const values =
        typeof extra === 'object' && extra ? build(extra as JsonSchema, `${at}.*`) : undefined;
      if (extra === false) return object({}, { strict: true });
      return record(values, keys as Check<string> | undefined);
    }
    const strict = extra === false;
    const declaredKeys = keys
      ? all([
          object(shape, { strict }),
          check((value, path, issues) => {
            for (const k of Object.keys(value as Record<string, unknown>)) {
              keys(k, [...path, k], issues);
            }
          }),
        ])
      : undefined;
    const base = declaredKeys ?? object(shape, { strict });
    if (typeof extra !== 'object' || !extra) return base;
    const values = build(extra as JsonSchema, `${at}.*`);
    return all([
      base,
      check((value, path, issues) => {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (!Object.hasOwn(properties, k)) values(v, [...path, k], issues);
        }
      }),
    ]);
  };

  return build(root, '#');
}

/** Every check in turn; an object check that failed on the type stops the rest. */
function all(checks: readonly Check<unknown>[]): Check<unknown> {
  return check((value: unknown, path: Path, issues: Issue[]) => {
    for (const c of checks) {
      const before = issues.length;
      c(value, path, issues);
      if (issues.length > before) return;
    }
  });
}
