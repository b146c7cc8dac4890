import { z } from 'zod';
import baselineJson from '../../infra/baseline/baseline.json';
import { ConfigError } from '../shared/errors';

/**
 * The member baseline, declared as data in infra/baseline/baseline.json, and the pure functions
 * that fill its placeholders for one account and compare what exists with what is declared.
 */

const Doc = z.record(z.string(), z.unknown());
const RoleSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  trustPolicy: Doc,
});

export const BaselineSchema = z.object({
  version: z.number().int().min(1),
  serviceRole: RoleSchema.extend({ managedPolicies: z.array(z.string()) }),
  readOnlyRole: RoleSchema.extend({ inlinePolicyName: z.string(), inlinePolicy: Doc }),
  key: z.object({
    alias: z.string().startsWith('alias/'),
    description: z.string(),
    enableKeyRotation: z.boolean(),
    policy: Doc,
  }),
  vault: z.object({ name: z.string().min(2) }),
  forwarding: z.object({
    ruleName: z.string().min(1),
    description: z.string(),
    pattern: Doc,
    /**
     * The second rule: the CloudTrail calls for tamper alerts. Two rules watch each other: the
     * call that disables one reaches the control plane through the other.
     */
    watchdog: z.object({ ruleName: z.string().min(1), description: z.string(), pattern: Doc }),
    targetId: z.string().min(1),
    role: RoleSchema.extend({ inlinePolicyName: z.string(), inlinePolicy: Doc }),
  }),
  accountTags: z.object({ status: z.string(), baselineVersion: z.string(), updatedAt: z.string() }),
});
export type Baseline = z.infer<typeof BaselineSchema>;

export function loadBaseline(raw: unknown = baselineJson): Baseline {
  const parsed = BaselineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `infra/baseline/baseline.json: ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  return parsed.data;
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
