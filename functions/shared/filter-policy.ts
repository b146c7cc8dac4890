/**
 * Amazon SNS subscription filter policies with FilterPolicyScope = MessageAttributes: whether SNS
 * delivers a message to a subscription, and what is wrong with a policy before SNS rejects it (or,
 * worse, accepts a policy that silently never matches). The rules follow the SNS developer guide
 * sections named in the comments below.
 */

/** SNS message attribute values by DataType: String, Number, String.Array (JSON array of strings). */
export type AttributeValue = string | number | readonly string[];
export type MessageAttributes = Readonly<Record<string, AttributeValue>>;
export type FilterPolicy = Readonly<Record<string, unknown>>;

export interface AttributeSpec {
  type: 'String' | 'Number' | 'String.Array';
  /** A closed set of values the attribute can take (undefined: open). */
  values?: readonly string[];
  /** Set on every message (so {exists:false} can never match). */
  alwaysPresent?: boolean;
}
export type AttributeSchema = Readonly<Record<string, AttributeSpec>>;

/** "Filter policy constraints": at most five keys and 150 combinations of values. */
const MAX_POLICY_KEYS = 5;
const MAX_POLICY_COMBINATIONS = 150;
/** "Filter policy constraints": numbers range over ±10^9 with five digits after the point. */
const NUMERIC_LIMIT = 1e9;
const NUMERIC_SCALE = 1e5;

const OPERATORS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
] as const;
type Operator = (typeof OPERATORS)[number];
const isOperator = (key: string): key is Operator => (OPERATORS as readonly string[]).includes(key);

type SubPolicy = Readonly<Record<string, unknown>>;
type Scalar = string | number;

const isObject = (value: unknown): value is SubPolicy =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * "OR operator": SNS reads "$or" as an operator only when it holds an array of at least two objects
 * none of whose keys is an operator keyword; otherwise "$or" is an ordinary attribute name.
 */
function isOrOperator(key: string, value: unknown): value is readonly SubPolicy[] {
  return (
    key === '$or' &&
    Array.isArray(value) &&
    value.length >= 2 &&
    value.every((branch) => isObject(branch) && !Object.keys(branch).some(isOperator))
  );
}

/** Does SNS deliver a message with these attributes to a subscription with this policy? */
export function matchesFilterPolicy(policy: FilterPolicy, attributes: MessageAttributes): boolean {
  return matchesSubPolicy(policy, attributes);
}

// "AND/OR logic": every key must match (AND), and within a key any one condition (OR). A policy
// SNS would reject (a leaf that is not an array) matches nothing, as no subscription could have it.
function matchesSubPolicy(policy: SubPolicy, attributes: MessageAttributes): boolean {
  return Object.entries(policy).every(([key, conditions]) => {
    if (isOrOperator(key, conditions)) {
      return conditions.some((branch) => matchesSubPolicy(branch, attributes));
    }
    if (!Array.isArray(conditions)) return false;
    return conditions.some((condition) => matchesCondition(condition, key, attributes));
  });
}

function matchesCondition(condition: unknown, name: string, attributes: MessageAttributes) {
  const present = Object.hasOwn(attributes, name);
  if (isObject(condition) && Object.keys(condition).length === 1 && 'exists' in condition) {
    return matchesExists(condition.exists, present ? attributes[name] : undefined, attributes);
  }
  // Every other condition needs the attribute: even anything-but fails on an absent one.
  if (!present) return false;
  const value = attributes[name] as AttributeValue;
  // "String value matching": each element of a String.Array is matched as a separate string.
  const candidates: readonly Scalar[] = typeof value === 'object' ? value : [value];
  return candidates.some((candidate) => matchesScalar(condition, candidate));
}

// "Key matching": exists:true needs a non-empty value; exists:false needs the attribute absent
// and, as the guide notes, at least one other attribute on the message.
function matchesExists(
  wanted: unknown,
  value: AttributeValue | undefined,
  attributes: MessageAttributes,
): boolean {
  if (wanted === true) return value !== undefined && value !== '' && !isEmptyArray(value);
  if (wanted === false) return value === undefined && Object.keys(attributes).length > 0;
  return false;
}

const isEmptyArray = (value: AttributeValue) => typeof value === 'object' && value.length === 0;

function matchesScalar(condition: unknown, value: Scalar): boolean {
  if (typeof condition === 'string' || typeof condition === 'number') {
    return equalsExactly(condition, value);
  }
  if (!isObject(condition)) return false;
  const entries = Object.entries(condition);
  if (entries.length !== 1) return false;
  const [operator, operand] = entries[0] as [string, unknown];
  const text = typeof value === 'string' ? value : undefined;
  switch (operator) {
    case 'prefix':
      return typeof operand === 'string' && text !== undefined && text.startsWith(operand);
    case 'suffix':
      return typeof operand === 'string' && text !== undefined && text.endsWith(operand);
    case 'equals-ignore-case':
      return (
        typeof operand === 'string' &&
        text !== undefined &&
        text.toLowerCase() === operand.toLowerCase()
      );
    case 'anything-but':
      return matchesAnythingBut(operand, value);
    case 'numeric': {
      const range = parseNumericRange(operand);
      return typeof value === 'number' && 'test' in range && range.test(value);
    }
    case 'cidr': {
      const network = typeof operand === 'string' ? parseCidr(operand) : undefined;
      const address = text === undefined ? undefined : parseIp(text);
      return network !== undefined && address !== undefined && network.contains(address);
    }
    default:
      return false;
  }
}

// Strings match String values and numbers match Number values: SNS does not read "100" as 100.
function equalsExactly(expected: Scalar, value: Scalar): boolean {
  if (typeof expected === 'string') return value === expected;
  return typeof value === 'number' && scaled(value) === scaled(expected);
}

const scaled = (n: number) => Math.round(n * NUMERIC_SCALE);

// "anything-but": a string, a number, an array of them, or {"prefix": ...}. A String.Array matches
// when any element is outside the list (the guide's ["rugby", "baseball"] example).
function matchesAnythingBut(operand: unknown, value: Scalar): boolean {
  if (isObject(operand)) {
    const prefix = operand.prefix;
    const valid = Object.keys(operand).length === 1 && typeof prefix === 'string';
    return valid && typeof value === 'string' && !value.startsWith(prefix);
  }
  const excluded = Array.isArray(operand) ? operand : [operand];
  if (excluded.length === 0 || !excluded.every(isScalar)) return false;
  return !excluded.some((item) => equalsExactly(item, value));
}

const isScalar = (value: unknown): value is Scalar =>
  typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

type NumericRange = { test: (value: number) => boolean } | { problem: string };

const COMPARISONS: Readonly<Record<string, (value: number, bound: number) => boolean>> = {
  '=': (v, b) => v === b,
  '<': (v, b) => v < b,
  '<=': (v, b) => v <= b,
  '>': (v, b) => v > b,
  '>=': (v, b) => v >= b,
};

/**
 * "Numeric value matching": [op, n] with op one of = < <= > >=, or a range [> or >=, low, < or <=,
 * high] with low < high. Shared by the matcher and the validator so they agree on what is valid.
 */
function parseNumericRange(operand: unknown): NumericRange {
  const shape = 'needs [operator, number] or [">" or ">=", low, "<" or "<=", high]';
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    return { problem: `"numeric" ${shape}` };
  }
  const [firstOp, first, secondOp, second] = operand as unknown[];
  const compareFirst = typeof firstOp === 'string' ? COMPARISONS[firstOp] : undefined;
  if (compareFirst === undefined) {
    return {
      problem: `"numeric": unknown operator ${JSON.stringify(firstOp)} (use =, <, <=, >, >=)`,
    };
  }
  if (typeof first !== 'number' || !Number.isFinite(first)) {
    return { problem: `"numeric": ${JSON.stringify(first)} is not a number` };
  }
  if (operand.length === 2) {
    return { test: (v) => compareFirst(scaled(v), scaled(first)) };
  }
  if (firstOp !== '>' && firstOp !== '>=') {
    return { problem: `"numeric": a range must start with ">" or ">=", not "${firstOp}"` };
  }
  const compareSecond =
    secondOp === '<' || secondOp === '<=' ? COMPARISONS[secondOp as string] : undefined;
  if (compareSecond === undefined) {
    return {
      problem: `"numeric": a range must end with "<" or "<=", not ${JSON.stringify(secondOp)}`,
    };
  }
  if (typeof second !== 'number' || !Number.isFinite(second)) {
    return { problem: `"numeric": ${JSON.stringify(second)} is not a number` };
  }
  if (!(first < second)) {
    return { problem: `"numeric": the range is empty (${first} is not below ${second})` };
  }
  return {
    test: (v) => compareFirst(scaled(v), scaled(first)) && compareSecond(scaled(v), scaled(second)),
  };
}

interface IpAddress {
  bits: bigint;
  width: 32 | 128;
}

// Dotted quad with no leading zeros, so "010.0.0.1" is not silently read as 10.0.0.1.
function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let bits = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    bits = (bits << 8n) | BigInt(part);
  }
  return bits;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): string[] | undefined => {
    if (half === undefined || half === '') return [];
    const parts = half.split(':');
    const last = parts[parts.length - 1] as string;
    // An embedded IPv4 tail (::ffff:10.0.0.1) stands for two groups.
    if (last.includes('.')) {
      const v4 = parseIpv4(last);
      if (v4 === undefined) return undefined;
      parts.splice(-1, 1, (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
    }
    return parts.every((p) => /^[0-9a-f]{1,4}$/i.test(p)) ? parts : undefined;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(missing).fill('0'), ...tail];
  return all.reduce((bits, group) => (bits << 16n) | BigInt(`0x${group}`), 0n);
}

function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { bits: v4, width: 32 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { bits: v6, width: 128 };
}

interface Network {
  contains: (address: IpAddress) => boolean;
}

/** "IP address matching": an IPv4 or IPv6 prefix in CIDR notation, e.g. 10.0.0.0/24. */
function parseCidr(text: string): Network | undefined {
  const parts = text.split('/');
  if (parts.length !== 2 || !/^\d{1,3}$/.test(parts[1] as string)) return undefined;
  const base = parseIp(parts[0] as string);
  const length = Number(parts[1]);
  if (base === undefined || length > base.width) return undefined;
  const hostBits = BigInt(base.width - length);
  return {
    contains: (address) =>
      address.width === base.width && address.bits >> hostBits === base.bits >> hostBits,
  };
}

/**
 * What is wrong with the policy, each problem naming its path inside the policy, e.g.
 * 'severity[1]: "eror" is never a value of severity (error, warning, info)',
 * 'sevrity: unknown attribute (known: severity, kind, ...)'. Empty when the policy is fine.
 */
export function filterPolicyProblems(policy: unknown, schema: AttributeSchema): string[] {
  if (!isObject(policy)) {
    return ['policy: must be a JSON object mapping attribute names to arrays of conditions'];
  }
  const problems: string[] = [];
  checkSubPolicy(policy, '', schema, problems);

  const widest = keySets(policy).reduce((a, b) => (b.size > a.size ? b : a), new Set<string>());
  if (widest.size > MAX_POLICY_KEYS) {
    problems.push(
      `policy: ${widest.size} attribute names (${[...widest].join(', ')}) must match together; ` +
        `SNS allows at most ${MAX_POLICY_KEYS}`,
    );
  }
  const total = combinations(policy);
  if (total > MAX_POLICY_COMBINATIONS) {
    problems.push(
      `policy: ${total} combinations of values; SNS allows at most ${MAX_POLICY_COMBINATIONS}`,
    );
  }
  return problems;
}

function checkSubPolicy(
  policy: SubPolicy,
  pathPrefix: string,
  schema: AttributeSchema,
  problems: string[],
): void {
  const known = Object.keys(schema).join(', ');
  for (const [key, conditions] of Object.entries(policy)) {
    const path = pathPrefix + key;
    if (isOrOperator(key, conditions)) {
      conditions.forEach((branch, i) => checkSubPolicy(branch, `${path}[${i}].`, schema, problems));
      continue;
    }
    if (key === '$or') {
      problems.push(
        `${path}: needs an array of at least two sub-policies without operator keys; ` +
          'otherwise SNS reads "$or" as an attribute name',
      );
      continue;
    }
    const spec = schema[key];
    if (spec === undefined) problems.push(`${path}: unknown attribute (known: ${known})`);
    if (isObject(conditions)) {
      problems.push(`${path}: nested policies are not supported for message attributes`);
    } else if (!Array.isArray(conditions)) {
      problems.push(
        `${path}: must be an array of conditions, e.g. [${JSON.stringify(conditions)}]`,
      );
    } else if (conditions.length === 0) {
      problems.push(`${path}: empty array (SNS rejects it)`);
    } else if (spec !== undefined) {
      conditions.forEach((condition, i) => {
        const found = conditionProblems(condition, key, spec, conditions.length === 1);
        problems.push(...found.map((problem) => `${path}[${i}]: ${problem}`));
      });
    }
  }
}

const describeSet = (name: string, values: readonly string[]) => `${name} (${values.join(', ')})`;

function conditionProblems(
  condition: unknown,
  name: string,
  spec: AttributeSpec,
  onlyCondition: boolean,
): string[] {
  if (typeof condition === 'string' || typeof condition === 'number') {
    return scalarProblems(condition, name, spec);
  }
  if (!isObject(condition)) {
    return [`${JSON.stringify(condition)} never matches a ${spec.type} attribute`];
  }
  const keys = Object.keys(condition);
  if (keys.length !== 1) {
    return [`an operator object needs exactly one key, found ${keys.length}`];
  }
  const operator = keys[0] as string;
  const operand = condition[operator];
  if (!isOperator(operator)) {
    return [`unknown operator "${operator}" (known: ${OPERATORS.join(', ')})`];
  }
  const closedSet = spec.type === 'Number' ? undefined : spec.values;
  const quoted = JSON.stringify(operand);
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case': {
      if (typeof operand !== 'string') return [`"${operator}" needs a string, not ${quoted}`];
      if (spec.type === 'Number') return [`"${operator}" never matches a Number attribute`];
      const satisfies = {
        prefix: (v: string) => v.startsWith(operand),
        suffix: (v: string) => v.endsWith(operand),
        'equals-ignore-case': (v: string) => v.toLowerCase() === operand.toLowerCase(),
      }[operator];
      const relation = {
        prefix: 'starts with',
        suffix: 'ends with',
        'equals-ignore-case': 'equals, ignoring case,',
      }[operator];
      if (closedSet !== undefined && !closedSet.some(satisfies)) {
        return [
          `{"${operator}": ${quoted}} can never match: ` +
            `no value of ${describeSet(name, closedSet)} ${relation} ${quoted}`,
        ];
      }
      return [];
    }
    case 'anything-but':
      return anythingButProblems(operand, name, spec);
    case 'numeric': {
      const range = parseNumericRange(operand);
      if ('problem' in range) return [range.problem];
      if (spec.type !== 'Number') {
        return [
          `"numeric" never matches a ${spec.type} attribute (SNS compares numbers only with Number attributes)`,
        ];
      }
      return (operand as unknown[]).filter(isOutOfRange).map(outOfRange);
    }
    case 'cidr': {
      if (typeof operand !== 'string' || parseCidr(operand) === undefined) {
        return [`"cidr" needs an IP prefix such as "10.0.0.0/24", not ${quoted}`];
      }
      if (spec.type === 'Number') return ['"cidr" never matches a Number attribute'];
      const network = parseCidr(operand) as Network;
      const inside = (v: string) => {
        const address = parseIp(v);
        return address !== undefined && network.contains(address);
      };
      if (closedSet !== undefined && !closedSet.some(inside)) {
        return [
          `{"cidr": ${quoted}} can never match: ` +
            `no value of ${describeSet(name, closedSet)} is an address in it`,
        ];
      }
      return [];
    }
    case 'exists':
      if (typeof operand !== 'boolean') return [`"exists" needs true or false, not ${quoted}`];
      if (operand === false && spec.alwaysPresent && onlyCondition) {
        return [`{"exists": false} can never match: ${name} is set on every message`];
      }
      return [];
  }
}

const isOutOfRange = (value: unknown) =>
  typeof value === 'number' && Math.abs(value) > NUMERIC_LIMIT;
const outOfRange = (value: unknown) =>
  `${String(value)} is outside the numbers SNS compares (-1e9 to 1e9)`;

// An exact value that no allowed value equals is surely a typo, so each one is reported.
function scalarProblems(value: Scalar, name: string, spec: AttributeSpec): string[] {
  if (typeof value === 'number') {
    if (spec.type !== 'Number') {
      return [
        `${value} never matches a ${spec.type} attribute (SNS compares numbers only with Number attributes)`,
      ];
    }
    return isOutOfRange(value) ? [outOfRange(value)] : [];
  }
  if (spec.type === 'Number') {
    return [`"${value}" never matches a Number attribute; use a number or {"numeric": ["=", n]}`];
  }
  if (spec.values !== undefined && !spec.values.includes(value)) {
    return [`"${value}" is never a value of ${describeSet(name, spec.values)}`];
  }
  return [];
}

function anythingButProblems(operand: unknown, name: string, spec: AttributeSpec): string[] {
  const closedSet = spec.type === 'Number' ? undefined : spec.values;
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const prefix = operand.prefix;
    if (keys.length !== 1 || typeof prefix !== 'string') {
      return [
        `"anything-but" takes only {"prefix": "..."} as an object (SNS does not support ${JSON.stringify(keys)} there)`,
      ];
    }
    if (spec.type === 'Number')
      return ['"anything-but" with "prefix" never matches a Number attribute'];
    if (closedSet !== undefined && closedSet.every((v) => v.startsWith(prefix))) {
      return [
        `{"anything-but": {"prefix": ${JSON.stringify(prefix)}}} can never match: ` +
          `every value of ${describeSet(name, closedSet)} starts with it`,
      ];
    }
    return [];
  }
  const excluded = Array.isArray(operand) ? operand : [operand];
  if (excluded.length === 0 || !excluded.every(isScalar)) {
    return [
      '"anything-but" needs a string, a number, a non-empty array of them, or {"prefix": "..."}',
    ];
  }
  // A value of the wrong type or outside a closed set excludes nothing: surely a typo.
  const problems = excluded.flatMap((item) => scalarProblems(item, name, spec));
  if (closedSet !== undefined && closedSet.every((v) => excluded.includes(v))) {
    problems.push(
      `"anything-but" can never match: it excludes every value of ${describeSet(name, closedSet)}`,
    );
  }
  return problems;
}

/**
 * "Filter policy constraints": the product of the number of values in each array; a "$or" adds
 * up the combinations of its sub-policies before multiplying.
 */
function combinations(policy: SubPolicy): number {
  let product = 1;
  for (const [key, conditions] of Object.entries(policy)) {
    if (isOrOperator(key, conditions)) {
      product *= conditions.reduce((sum, branch) => sum + combinations(branch), 0);
    } else if (Array.isArray(conditions)) {
      product *= Math.max(conditions.length, 1);
    }
  }
  return product;
}

/** The attribute names each alternative of the policy (one choice per "$or") must match together. */
function keySets(policy: SubPolicy): Set<string>[] {
  let sets: Set<string>[] = [new Set()];
  for (const [key, conditions] of Object.entries(policy)) {
    if (isOrOperator(key, conditions)) {
      const branchSets = conditions.flatMap(keySets);
      sets = sets
        .flatMap((set) => branchSets.map((branch) => new Set([...set, ...branch])))
        // Enough alternatives to find one over the limit without a hostile policy exploding.
        .slice(0, 1000);
    } else {
      sets = sets.map((set) => new Set([...set, key]));
    }
  }
  return sets;
}
