import { type PlanDescription, describePlans } from './describe';

/**
 * An account's effective backup policy: the policy documents merged the way Organizations merges
 * them (inheritance operators, child controls), and Organizations' own DescribeEffectivePolicy
 * answer read into the same form.
 */

export const VALUE_OPERATORS = ['@@assign', '@@append', '@@remove'] as const;
export type ValueOperator = (typeof VALUE_OPERATORS)[number];
export const CHILD_CONTROL = '@@operators_allowed_for_child_policies';

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

export const isRecord = (v: unknown): v is Json =>
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
