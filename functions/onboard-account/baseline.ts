import baselineJson from '../../infra/baseline/baseline.json';
import { ConfigError } from '../shared/errors';
import {
  array,
  boolean,
  integer,
  object,
  optional,
  record,
  string,
  validate,
  type Check,
  type Infer,
} from '../shared/validate';

/**
 * The member baseline, declared as data in infra/baseline/baseline.json, and the pure functions
 * that fill its placeholders for one account and compare what exists with what is declared.
 *
 * Strict: a section or setting the code does not know is an error, not silently dropped (adding a
 * resource kind means code too: see the README's layout section).
 */

const Doc = record();
const strict = <S extends Record<string, Check<unknown>>>(shape: S) =>
  object(shape, { strict: true });
const roleShape = {
  name: string({ min: 1 }),
  description: string(),
  trustPolicy: Doc,
};
const InlineRole = strict({
  ...roleShape,
  inlinePolicyName: string(),
  inlinePolicy: Doc,
});
const Rule = { ruleName: string({ min: 1 }), description: string(), pattern: Doc };

export const BaselineCheck = strict({
  /** What the file says of itself, for its readers. */
  $comment: optional(string()),
  version: integer({ min: 1 }),
  serviceRole: strict({ ...roleShape, managedPolicies: array(string()) }),
  readOnlyRole: InlineRole,
  key: strict({
    alias: string({ startsWith: 'alias/' }),
    description: string(),
    enableKeyRotation: boolean(),
    policy: Doc,
  }),
  vault: strict({ name: string({ min: 2 }) }),
  forwarding: strict({
    ...Rule,
    /**
     * The second rule: the CloudTrail calls for tamper alerts. Two rules watch each other: the
     * call that disables one reaches the control plane through the other.
     */
    watchdog: strict(Rule),
    targetId: string({ min: 1 }),
    role: InlineRole,
  }),
  accountTags: strict({ status: string(), baselineVersion: string(), updatedAt: string() }),
});
export type Baseline = Infer<typeof BaselineCheck>;

export function loadBaseline(raw: unknown = baselineJson): Baseline {
  const checked = validate(BaselineCheck, raw);
  if (!checked.ok) {
    const issue = checked.issues[0]!;
    throw new ConfigError(
      `infra/baseline/baseline.json: ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
  }
  // A copy: callers may fill or change it without touching the module's JSON.
  return structuredClone(checked.value);
}

export interface ForwardingRule {
  name: string;
  description: string;
  pattern: Record<string, unknown>;
}

/** The member account's forwarding rules, the job events' first. */
export function forwardingRules(baseline: Baseline): ForwardingRule[] {
  const f = baseline.forwarding;
  return [
    { name: f.ruleName, description: f.description, pattern: f.pattern },
    { name: f.watchdog.ruleName, description: f.watchdog.description, pattern: f.watchdog.pattern },
  ];
}

/** What the central rules match: every forwarding rule's pattern (infra/stage-config.js too). */
export function forwardedPattern(baseline: Baseline): Record<string, unknown> {
  return {
    $or: forwardingRules(baseline).flatMap((r) =>
      Array.isArray(r.pattern.$or) ? (r.pattern.$or as unknown[]) : [r.pattern],
    ),
  };
}

export interface BaselineVars {
  partition: string;
  accountId: string;
  region: string;
  organizationId: string;
  managementAccountId: string;
  centralBusArn: string;
  controlPlaneRoleArn: string;
  /** The daily check's role (watchAccount): the read-only role trusts it too. */
  watchRoleArn: string;
}

/** Replaces every {{name}} in strings of a document; an unknown name is a bug in the baseline. */
export function fill<T>(value: T, vars: Partial<BaselineVars>): T {
  if (typeof value === 'string') {
    return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const v = (vars as Record<string, string | undefined>)[name];
      if (v === undefined)
        throw new ConfigError(`baseline placeholder {{${name}}} has no value here`);
      return v;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)])) as T;
  }
  return value;
}

/**
 * Policy documents are equal when they say the same thing: key order, single values versus
 * one-element lists, and the order of Action/Resource lists do not matter. IAM returns trust
 * policies URL-encoded and may reorder them, so a naive comparison would "repair" forever.
 */
export function samePolicy(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

const UNORDERED = new Set(['Action', 'NotAction', 'Resource', 'NotResource', 'Service', 'AWS']);

function normalise(value: unknown, key?: string): unknown {
  // "Principal": "*" and {"AWS": "*"} mean the same; services may store either.
  if (key === 'Principal' && value === '*') return { AWS: '*' };
  if (Array.isArray(value)) {
    const items = value.map((v) => normalise(v));
    if (items.length === 1 && key !== 'Statement') return items[0];
    return key && UNORDERED.has(key)
      ? [...items].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))
      : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, normalise((value as Record<string, unknown>)[k], k)]),
    );
  }
  return value;
}
