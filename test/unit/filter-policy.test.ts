import {
  filterPolicyProblems,
  matchesFilterPolicy,
  type AttributeSchema,
  type FilterPolicy,
  type MessageAttributes,
} from '../../functions/shared/filter-policy';

const matches = (policy: FilterPolicy, attributes: MessageAttributes) =>
  matchesFilterPolicy(policy, attributes);

describe('matchesFilterPolicy', () => {
  // SNS guide, "String value matching" > "Exact matching".
  describe('exact string matching', () => {
    const policy = { customer_interests: ['rugby', 'tennis'] };

    it('matches a String attribute equal to any listed value', () => {
      expect(matches(policy, { customer_interests: 'rugby' })).toBe(true);
      expect(matches(policy, { customer_interests: 'tennis' })).toBe(true);
    });

    it('matches a String.Array with an element equal to a listed value', () => {
      expect(matches(policy, { customer_interests: ['rugby', 'tennis'] })).toBe(true);
      expect(matches(policy, { customer_interests: ['baseball', 'tennis'] })).toBe(true);
    });

    it('does not match other values, near misses or a String.Array with no listed element', () => {
      expect(matches(policy, { customer_interests: 'baseball' })).toBe(false);
      expect(matches(policy, { customer_interests: ['baseball'] })).toBe(false);
      expect(matches(policy, { customer_interests: [] })).toBe(false);
      // "Filter policy constraints": string matching is case-sensitive.
      expect(matches(policy, { customer_interests: 'Rugby' })).toBe(false);
      expect(matches(policy, { customer_interests: 'rugby ' })).toBe(false);
    });

    it('does not match when the attribute is absent', () => {
      expect(matches(policy, { store: 'example_corp' })).toBe(false);
      expect(matches(policy, {})).toBe(false);
    });

    it('does not read a string in the policy as a number or a number as a string', () => {
      expect(matches({ price_usd: ['100'] }, { price_usd: 100 })).toBe(false);
      expect(matches({ price_usd: [100] }, { price_usd: '100' })).toBe(false);
      expect(matches({ price_usd: [100] }, { price_usd: 100 })).toBe(true);
    });
  });

  // SNS guide, "String value matching" > "Anything-but matching".
  describe('anything-but with strings', () => {
    const policy = { customer_interests: [{ 'anything-but': ['rugby', 'tennis'] }] };

    it('matches values outside the list', () => {
      expect(matches(policy, { customer_interests: 'baseball' })).toBe(true);
      expect(matches(policy, { customer_interests: 'football' })).toBe(true);
    });

    it('matches a String.Array holding a value outside the list', () => {
      expect(matches(policy, { customer_interests: ['rugby', 'baseball'] })).toBe(true);
    });

    it('does not match listed values or a String.Array of only listed values', () => {
      expect(matches(policy, { customer_interests: 'rugby' })).toBe(false);
      expect(matches(policy, { customer_interests: ['rugby', 'tennis'] })).toBe(false);
    });

    it('does not match an absent attribute unless combined with exists:false', () => {
      expect(matches(policy, { store: 'example_corp' })).toBe(false);
      const orAbsent = {
        customer_interests: [{ 'anything-but': ['rugby', 'tennis'] }, { exists: false }],
      };
      expect(matches(orAbsent, { store: 'example_corp' })).toBe(true);
      expect(matches(orAbsent, { customer_interests: 'rugby' })).toBe(false);
    });

    it('takes a single string as well as an array', () => {
      const single = { customer_interests: [{ 'anything-but': 'rugby' }] };
      expect(matches(single, { customer_interests: 'tennis' })).toBe(true);
      expect(matches(single, { customer_interests: 'rugby' })).toBe(false);
    });
  });

  // SNS guide, "String value matching" > "Anything-but matching" using a prefix.
  it('anything-but prefix matches values not starting with the prefix', () => {
    const policy = { event_type: [{ 'anything-but': { prefix: 'order-' } }] };
    expect(matches(policy, { event_type: 'data-entry' })).toBe(true);
    expect(matches(policy, { event_type: 'order-cancelled' })).toBe(false);
    expect(matches(policy, { event_type: 'order-' })).toBe(false);
    expect(matches(policy, {})).toBe(false);
  });

  // SNS guide, "String value matching" > "Prefix matching", "Suffix matching",
  // "Equals-ignore-case matching".
  describe('prefix, suffix and equals-ignore-case', () => {
    it('prefix matches values starting with it, case-sensitively', () => {
      const policy = { customer_interests: [{ prefix: 'bas' }] };
      expect(matches(policy, { customer_interests: 'baseball' })).toBe(true);
      expect(matches(policy, { customer_interests: 'basketball' })).toBe(true);
      expect(matches(policy, { customer_interests: 'rugby' })).toBe(false);
      expect(matches(policy, { customer_interests: 'Baseball' })).toBe(false);
      expect(matches(policy, { customer_interests: ['rugby', 'basketball'] })).toBe(true);
    });

    it('suffix matches values ending with it', () => {
      const policy = { customer_interests: [{ suffix: 'ball' }] };
      expect(matches(policy, { customer_interests: 'baseball' })).toBe(true);
      expect(matches(policy, { customer_interests: 'basketball' })).toBe(true);
      expect(matches(policy, { customer_interests: 'rugby' })).toBe(false);
      expect(matches(policy, { customer_interests: 'balls' })).toBe(false);
    });

    it('equals-ignore-case matches regardless of case but not other values', () => {
      const policy = { customer_interests: [{ 'equals-ignore-case': 'tennis' }] };
      expect(matches(policy, { customer_interests: 'TENNIS' })).toBe(true);
      expect(matches(policy, { customer_interests: 'Tennis' })).toBe(true);
      expect(matches(policy, { customer_interests: 'tennis ' })).toBe(false);
      expect(matches(policy, { customer_interests: 'rugby' })).toBe(false);
    });

    it('string operators never match a Number attribute', () => {
      expect(matches({ price_usd: [{ prefix: '1' }] }, { price_usd: 100 })).toBe(false);
      expect(matches({ price_usd: [{ suffix: '0' }] }, { price_usd: 100 })).toBe(false);
    });
  });

  // SNS guide, "Numeric value matching".
  describe('numeric matching', () => {
    it('numeric = matches an equal Number whatever its notation', () => {
      const policy = { price_usd: [{ numeric: ['=', 301.5] }] };
      expect(matches(policy, { price_usd: 301.5 })).toBe(true);
      expect(matches(policy, { price_usd: 3.015e2 })).toBe(true);
      expect(matches(policy, { price_usd: 301.51 })).toBe(false);
    });

    it('compares to five digits after the decimal point', () => {
      const policy = { price_usd: [{ numeric: ['=', 1.000001] }] };
      expect(matches(policy, { price_usd: 1 })).toBe(true);
      expect(matches(policy, { price_usd: 1.00001 })).toBe(false);
    });

    it('does not compare numbers with String attributes, even numeric-looking ones', () => {
      const policy = { price_usd: [{ numeric: ['=', 301.5] }] };
      expect(matches(policy, { price_usd: '301.5' })).toBe(false);
      expect(matches(policy, { price_usd: ['301.5'] })).toBe(false);
    });

    it('anything-but with numbers matches other numbers only', () => {
      const policy = { price: [{ 'anything-but': [100, 500] }] };
      expect(matches(policy, { price: 101 })).toBe(true);
      expect(matches(policy, { price: 100.1 })).toBe(true);
      expect(matches(policy, { price: 100 })).toBe(false);
      expect(matches(policy, { price: 500 })).toBe(false);
      expect(matches(policy, {})).toBe(false);
    });

    it('< 0 matches negative numbers only', () => {
      const policy = { price_usd: [{ numeric: ['<', 0] }] };
      expect(matches(policy, { price_usd: -0.5 })).toBe(true);
      expect(matches(policy, { price_usd: 0 })).toBe(false);
      expect(matches(policy, { price_usd: 1 })).toBe(false);
    });

    it('> 0, <= 150 excludes the lower bound and includes the upper', () => {
      const policy = { price_usd: [{ numeric: ['>', 0, '<=', 150] }] };
      expect(matches(policy, { price_usd: 0 })).toBe(false);
      expect(matches(policy, { price_usd: 0.001 })).toBe(true);
      expect(matches(policy, { price_usd: 150 })).toBe(true);
      expect(matches(policy, { price_usd: 150.001 })).toBe(false);
    });

    it('>= and < include the lower bound and exclude the upper', () => {
      const policy = { price_usd: [{ numeric: ['>=', 10, '<', 20] }] };
      expect(matches(policy, { price_usd: 10 })).toBe(true);
      expect(matches(policy, { price_usd: 9.99 })).toBe(false);
      expect(matches(policy, { price_usd: 19.99 })).toBe(true);
      expect(matches(policy, { price_usd: 20 })).toBe(false);
    });

    it('a malformed numeric condition matches nothing', () => {
      expect(matches({ price_usd: [{ numeric: ['<', 10, '>', 0] }] }, { price_usd: 5 })).toBe(
        false,
      );
      expect(matches({ price_usd: [{ numeric: ['~', 10] }] }, { price_usd: 10 })).toBe(false);
    });
  });

  // SNS guide, "Key matching".
  describe('exists', () => {
    const present = { store: 'fans', customer_interests: ['baseball', 'basketball'] };
    const absent = { customer_interests: ['baseball', 'basketball'] };

    it('exists:true matches only messages carrying the attribute', () => {
      expect(matches({ store: [{ exists: true }] }, present)).toBe(true);
      expect(matches({ store: [{ exists: true }] }, absent)).toBe(false);
    });

    it('exists:false matches only messages without the attribute', () => {
      expect(matches({ store: [{ exists: false }] }, present)).toBe(false);
      expect(matches({ store: [{ exists: false }] }, absent)).toBe(true);
    });

    it('exists:false does not match a message with no attributes at all', () => {
      expect(matches({ store: [{ exists: false }] }, {})).toBe(false);
    });
  });

  // SNS guide, "IP address matching".
  describe('cidr', () => {
    const policy = { source_ip: [{ cidr: '10.0.0.0/24' }] };

    it('matches IPv4 addresses inside the prefix, bounds included', () => {
      expect(matches(policy, { source_ip: '10.0.0.0' })).toBe(true);
      expect(matches(policy, { source_ip: '10.0.0.255' })).toBe(true);
    });

    it('does not match addresses outside it, non-addresses or Number attributes', () => {
      expect(matches(policy, { source_ip: '10.1.1.0' })).toBe(false);
      expect(matches(policy, { source_ip: '10.0.1.0' })).toBe(false);
      expect(matches(policy, { source_ip: '10.0.0.256' })).toBe(false);
      expect(matches(policy, { source_ip: 'not-an-ip' })).toBe(false);
      expect(matches(policy, { source_ip: 10 })).toBe(false);
    });

    it('matches IPv6 prefixes and not IPv4 addresses against them', () => {
      const v6 = { source_ip: [{ cidr: '2001:db8::/32' }] };
      expect(matches(v6, { source_ip: '2001:db8::1' })).toBe(true);
      expect(matches(v6, { source_ip: '2001:0db8:ffff:0:0:0:0:1' })).toBe(true);
      expect(matches(v6, { source_ip: '2001:db9::1' })).toBe(false);
      expect(matches(v6, { source_ip: '10.0.0.1' })).toBe(false);
    });
  });

  // SNS guide, "AND/OR logic".
  describe('AND/OR logic', () => {
    it('requires every key to match (AND)', () => {
      const policy = { customer_interests: ['rugby'], price_usd: [{ numeric: ['>', 100] }] };
      expect(matches(policy, { customer_interests: 'rugby', price_usd: 101 })).toBe(true);
      expect(matches(policy, { customer_interests: 'rugby', price_usd: 100 })).toBe(false);
      expect(matches(policy, { customer_interests: 'tennis', price_usd: 101 })).toBe(false);
      expect(matches(policy, { customer_interests: 'rugby' })).toBe(false);
    });

    it('accepts any one value of a key (OR)', () => {
      const policy = { customer_interests: ['rugby', 'football', 'baseball'] };
      expect(matches(policy, { customer_interests: 'football' })).toBe(true);
      expect(matches(policy, { customer_interests: 'tennis' })).toBe(false);
    });

    it('$or accepts any one sub-policy, ANDed with the other keys', () => {
      const policy = {
        source: ['aws.cloudwatch'],
        $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      };
      expect(matches(policy, { source: 'aws.cloudwatch', metricName: 'CPUUtilization' })).toBe(
        true,
      );
      expect(matches(policy, { source: 'aws.cloudwatch', namespace: 'AWS/EC2' })).toBe(true);
      expect(matches(policy, { source: 'aws.cloudwatch', namespace: 'AWS/RDS' })).toBe(false);
      expect(matches(policy, { source: 'aws.ec2', namespace: 'AWS/EC2' })).toBe(false);
    });

    it('$or nests inside a sub-policy', () => {
      const policy = {
        source: ['aws.cloudwatch'],
        $or: [
          { metricName: ['CPUUtilization', 'ReadLatency'] },
          { metricType: ['MetricType'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
        ],
      };
      const base = { source: 'aws.cloudwatch', metricType: 'MetricType' };
      expect(matches(policy, { ...base, spaceId: 1000 })).toBe(true);
      expect(matches(policy, { ...base, metricId: 1234 })).toBe(true);
      expect(matches(policy, { ...base, metricId: 4321 })).toBe(false);
      expect(matches(policy, { source: 'aws.cloudwatch', spaceId: 1000 })).toBe(false);
    });

    it('reads "$or" as an attribute name when its objects use operator keywords', () => {
      const policy = { $or: [{ numeric: ['=', 123] }, { prefix: 'abc' }] };
      expect(matches(policy, { $or: 'abcdef' })).toBe(true);
      expect(matches(policy, { other: 'abcdef' })).toBe(false);
    });
  });

  it('an empty policy matches every message', () => {
    expect(matches({}, { severity: 'info' })).toBe(true);
  });

  it('a policy SNS would reject (a leaf that is not an array) matches nothing', () => {
    expect(matches({ severity: 'error' }, { severity: 'error' })).toBe(false);
  });
});

describe('filterPolicyProblems', () => {
  const schema: AttributeSchema = {
    severity: { type: 'String', values: ['error', 'warning', 'info'], alwaysPresent: true },
    kind: { type: 'String', values: ['job', 'restore', 'copy'] },
    accountId: { type: 'String' },
    sourceIp: { type: 'String', values: ['10.0.0.1', '192.168.1.1'] },
    tags: { type: 'String.Array' },
    attempts: { type: 'Number' },
  };
  const problems = (policy: unknown) => filterPolicyProblems(policy, schema);

  it('accepts a well-formed policy', () => {
    expect(
      problems({
        severity: ['error', { prefix: 'warn' }],
        kind: [{ 'anything-but': ['copy'] }],
        accountId: [{ exists: true }],
        attempts: [{ numeric: ['>', 0, '<=', 5] }],
        $or: [{ tags: ['prod'] }, { sourceIp: [{ cidr: '10.0.0.0/24' }] }],
      }),
    ).toEqual([]);
  });

  it('rejects a policy that is not an object', () => {
    expect(problems(['severity'])).toEqual([
      'policy: must be a JSON object mapping attribute names to arrays of conditions',
    ]);
    expect(problems(null)).toHaveLength(1);
  });

  it('names unknown attributes and lists the known ones', () => {
    expect(problems({ sevrity: ['error'] })).toEqual([
      'sevrity: unknown attribute (known: severity, kind, accountId, sourceIp, tags, attempts)',
    ]);
  });

  // "Filter policy constraints": attribute policies are flat; values are arrays of conditions.
  it('requires arrays at the leaves, non-empty and not nested', () => {
    expect(problems({ severity: 'error' })).toEqual([
      'severity: must be an array of conditions, e.g. ["error"]',
    ]);
    expect(problems({ severity: [] })).toEqual(['severity: empty array (SNS rejects it)']);
    expect(problems({ severity: { level: ['error'] } })).toEqual([
      'severity: nested policies are not supported for message attributes',
    ]);
  });

  it('reports each exact value outside a closed set, naming its index', () => {
    expect(problems({ severity: ['error', 'eror', 'warn'] })).toEqual([
      'severity[1]: "eror" is never a value of severity (error, warning, info)',
      'severity[2]: "warn" is never a value of severity (error, warning, info)',
    ]);
  });

  it('accepts any exact value of an open attribute', () => {
    expect(problems({ accountId: ['111122223333'], tags: ['anything'] })).toEqual([]);
  });

  it('reports string operators no value of a closed set satisfies', () => {
    expect(problems({ kind: [{ prefix: 'bak' }] })).toEqual([
      'kind[0]: {"prefix": "bak"} can never match: no value of kind (job, restore, copy) starts with "bak"',
    ]);
    expect(problems({ kind: [{ suffix: 'ore' }, { suffix: 'x' }] })).toEqual([
      'kind[1]: {"suffix": "x"} can never match: no value of kind (job, restore, copy) ends with "x"',
    ]);
    expect(problems({ kind: [{ 'equals-ignore-case': 'JOB' }] })).toEqual([]);
    expect(problems({ kind: [{ 'equals-ignore-case': 'JOBS' }] })).toHaveLength(1);
  });

  it('reports unknown operators and malformed operator objects', () => {
    expect(problems({ severity: [{ contains: 'err' }] })).toEqual([
      'severity[0]: unknown operator "contains" (known: prefix, suffix, equals-ignore-case, anything-but, numeric, exists, cidr)',
    ]);
    expect(problems({ severity: [{ prefix: 'e', suffix: 'r' }] })).toEqual([
      'severity[0]: an operator object needs exactly one key, found 2',
    ]);
    expect(problems({ severity: [{ prefix: 1 }] })).toEqual([
      'severity[0]: "prefix" needs a string, not 1',
    ]);
    expect(problems({ accountId: [{ exists: 'yes' }] })).toEqual([
      'accountId[0]: "exists" needs true or false, not "yes"',
    ]);
  });

  // "Numeric value matching" and "Filter policy constraints".
  describe('numeric conditions', () => {
    it('reports bad operators, reversed or empty ranges and wrong shapes', () => {
      expect(problems({ attempts: [{ numeric: ['=>', 1] }] })).toEqual([
        'attempts[0]: "numeric": unknown operator "=>" (use =, <, <=, >, >=)',
      ]);
      expect(problems({ attempts: [{ numeric: ['<', 5, '>', 1] }] })).toEqual([
        'attempts[0]: "numeric": a range must start with ">" or ">=", not "<"',
      ]);
      expect(problems({ attempts: [{ numeric: ['>', 5, '<', 1] }] })).toEqual([
        'attempts[0]: "numeric": the range is empty (5 is not below 1)',
      ]);
      expect(problems({ attempts: [{ numeric: ['>', 1, '>', 5] }] })).toEqual([
        'attempts[0]: "numeric": a range must end with "<" or "<=", not ">"',
      ]);
      expect(problems({ attempts: [{ numeric: ['>', '1'] }] })).toEqual([
        'attempts[0]: "numeric": "1" is not a number',
      ]);
      expect(problems({ attempts: [{ numeric: ['>', 1, '<'] }] })).toHaveLength(1);
    });

    it('reports numbers outside ±1e9', () => {
      expect(problems({ attempts: [{ numeric: ['<', 2e9] }] })).toEqual([
        'attempts[0]: 2000000000 is outside the numbers SNS compares (-1e9 to 1e9)',
      ]);
    });

    it('reports numbers used against String attributes', () => {
      expect(problems({ accountId: [{ numeric: ['=', 111122223333] }] })).toEqual([
        'accountId[0]: "numeric" never matches a String attribute (SNS compares numbers only with Number attributes)',
      ]);
      expect(problems({ accountId: [123] })).toEqual([
        'accountId[0]: 123 never matches a String attribute (SNS compares numbers only with Number attributes)',
      ]);
    });

    it('reports strings used against Number attributes', () => {
      expect(problems({ attempts: ['3'] })).toEqual([
        'attempts[0]: "3" never matches a Number attribute; use a number or {"numeric": ["=", n]}',
      ]);
    });
  });

  describe('anything-but', () => {
    it('accepts a string, a number, an array of them, or a prefix', () => {
      expect(problems({ kind: [{ 'anything-but': 'copy' }] })).toEqual([]);
      expect(problems({ attempts: [{ 'anything-but': [1, 2] }] })).toEqual([]);
      expect(problems({ kind: [{ 'anything-but': { prefix: 're' } }] })).toEqual([]);
    });

    it('reports operands SNS does not take', () => {
      expect(problems({ kind: [{ 'anything-but': [] }] })).toEqual([
        'kind[0]: "anything-but" needs a string, a number, a non-empty array of them, or {"prefix": "..."}',
      ]);
      expect(problems({ kind: [{ 'anything-but': { suffix: 'ore' } }] })).toEqual([
        'kind[0]: "anything-but" takes only {"prefix": "..."} as an object (SNS does not support ["suffix"] there)',
      ]);
    });

    it('reports excluded values outside the closed set, and excluding every value', () => {
      expect(problems({ kind: [{ 'anything-but': ['jobs'] }] })).toEqual([
        'kind[0]: "jobs" is never a value of kind (job, restore, copy)',
      ]);
      expect(problems({ kind: [{ 'anything-but': ['job', 'restore', 'copy'] }] })).toEqual([
        'kind[0]: "anything-but" can never match: it excludes every value of kind (job, restore, copy)',
      ]);
      expect(problems({ severity: [{ 'anything-but': { prefix: '' } }] })).toHaveLength(1);
    });
  });

  // "IP address matching".
  describe('cidr', () => {
    it('reports prefixes that are not valid CIDR', () => {
      for (const cidr of ['10.0.0.0', '10.0.0.0/33', '10.0.0/24', 'fe80::/129', 'x/8']) {
        expect(problems({ accountId: [{ cidr }] })).toEqual([
          `accountId[0]: "cidr" needs an IP prefix such as "10.0.0.0/24", not "${cidr}"`,
        ]);
      }
    });

    it('accepts IPv6 prefixes', () => {
      expect(problems({ accountId: [{ cidr: '2001:db8::/32' }] })).toEqual([]);
    });

    it('reports a prefix no value of a closed set falls in', () => {
      expect(problems({ sourceIp: [{ cidr: '10.0.0.0/8' }] })).toEqual([]);
      expect(problems({ sourceIp: [{ cidr: '172.16.0.0/12' }] })).toEqual([
        'sourceIp[0]: {"cidr": "172.16.0.0/12"} can never match: no value of sourceIp (10.0.0.1, 192.168.1.1) is an address in it',
      ]);
    });
  });

  describe('exists', () => {
    it('reports exists:false alone on an attribute set on every message', () => {
      expect(problems({ severity: [{ exists: false }] })).toEqual([
        'severity[0]: {"exists": false} can never match: severity is set on every message',
      ]);
    });

    it('accepts exists:false beside other conditions or on optional attributes', () => {
      expect(problems({ severity: ['error', { exists: false }] })).toEqual([]);
      expect(problems({ kind: [{ exists: false }] })).toEqual([]);
    });
  });

  // "AND/OR logic" > "OR operator".
  describe('$or', () => {
    it('checks each sub-policy, naming its path', () => {
      expect(problems({ $or: [{ severity: ['eror'] }, { kind: ['job'] }] })).toEqual([
        '$or[0].severity[0]: "eror" is never a value of severity (error, warning, info)',
      ]);
    });

    it('reports a "$or" SNS would read as an attribute name', () => {
      const message =
        '$or: needs an array of at least two sub-policies without operator keys; ' +
        'otherwise SNS reads "$or" as an attribute name';
      expect(problems({ $or: [{ severity: ['error'] }] })).toEqual([message]);
      expect(problems({ $or: [{ numeric: 123 }, { prefix: 'abc' }] })).toEqual([message]);
    });
  });

  // "Filter policy constraints": at most five keys and 150 combinations of values.
  describe('limits', () => {
    const wide: AttributeSchema = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => [name, { type: 'String' } as const]),
    );

    it('accepts five keys and reports six', () => {
      const five = { a: ['1'], b: ['1'], c: ['1'], d: ['1'], e: ['1'] };
      expect(filterPolicyProblems(five, wide)).toEqual([]);
      expect(filterPolicyProblems({ ...five, f: ['1'] }, wide)).toEqual([
        'policy: 6 attribute names (a, b, c, d, e, f) must match together; SNS allows at most 5',
      ]);
    });

    it('counts the keys of each $or alternative with the keys around it', () => {
      const policy = { a: ['1'], b: ['1'], c: ['1'], $or: [{ d: ['1'] }, { e: ['1'], f: ['1'] }] };
      // a, b, c with d (4 names) or with e and f (5 names): each within the limit.
      expect(filterPolicyProblems(policy, wide)).toEqual([]);
      expect(
        filterPolicyProblems(
          { ...policy, $or: [{ d: ['1'] }, { d: ['2'], e: ['1'], f: ['1'] }] },
          wide,
        ),
      ).toEqual([
        'policy: 6 attribute names (a, b, c, d, e, f) must match together; SNS allows at most 5',
      ]);
    });

    it('counts combinations as the product of array lengths (the 3 x 1 x 2 example)', () => {
      const six = { a: ['1', '2', '3'], b: ['1'], c: ['1', '2'] };
      expect(filterPolicyProblems(six, wide)).toEqual([]);
    });

    it('reports more than 150 combinations', () => {
      const values = (n: number) => Array.from({ length: n }, (_, i) => String(i));
      expect(filterPolicyProblems({ a: values(10), b: values(15) }, wide)).toEqual([]);
      expect(filterPolicyProblems({ a: values(10), b: values(15), c: values(2) }, wide)).toEqual([
        'policy: 300 combinations of values; SNS allows at most 150',
      ]);
    });

    it('adds up the combinations of $or sub-policies', () => {
      const values = (n: number) => Array.from({ length: n }, (_, i) => String(i));
      // 2 x (50 + 25) = 150: at the limit.
      const atLimit = { a: values(2), $or: [{ b: values(50) }, { c: values(25) }] };
      expect(filterPolicyProblems(atLimit, wide)).toEqual([]);
      const over = { a: values(2), $or: [{ b: values(50) }, { c: values(26) }] };
      expect(filterPolicyProblems(over, wide)).toEqual([
        'policy: 152 combinations of values; SNS allows at most 150',
      ]);
    });
  });
});
