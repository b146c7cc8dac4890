import {
  anyOf,
  array,
  formatIssues,
  integer,
  literal,
  object,
  oneOf,
  optional,
  record,
  string,
  validate,
  type Check,
} from '../../functions/shared/validate';

/** The functions' run-time validator: each rule, and the message that names what was wrong. */

const first = (c: Check<unknown>, value: unknown): string => {
  const result = validate(c, value);
  return result.ok ? 'ok' : `${result.issues[0]!.path.join('.')}: ${result.issues[0]!.message}`;
};

describe('validate', () => {
  it.each([
    [string(), 'x', 'ok'],
    [string(), undefined, ': is missing'],
    [string(), 3, ': must be a string, not a number'],
    [string({ min: 1 }), '', ': must not be empty'],
    [string({ max: 3 }), 'abcd', ': must be at most 3 characters'],
    [
      string({ pattern: /^\d{12}$/, rule: 'must be a 12-digit AWS account id' }),
      '1',
      ': must be a 12-digit AWS account id',
    ],
    [string({ startsWith: 'arn:' }), 'x', ': must start with "arn:"'],
    [integer({ min: 0 }), -1, ': must be at least 0'],
    [integer(), 1.5, ': must be an integer'],
    [integer(), Number.NaN, ': must be an integer, not a number'],
    [oneOf(['a', 'b']), 'c', ': must be one of "a", "b"'],
    [literal('x'), 'y', ': must be "x"'],
    [array(string(), { max: 1 }), ['a', 'b'], ': must have at most 1 items'],
    [array(string()), ['a', 2], '1: must be a string, not a number'],
    [record(string()), { a: 1 }, 'a: must be a string, not a number'],
    [record(), [], ': must be a JSON object, not a list'],
    [object({ a: string() }), {}, 'a: is missing'],
    [object({ a: optional(string()) }), {}, 'ok'],
    [object({ a: string() }, { strict: true }), { a: 'x', b: 1 }, ': unknown setting(s) "b"'],
    [object({ a: string() }), { a: 'x', b: 1 }, 'ok'],
    [anyOf<unknown>([string(), integer()]), true, ': must be a string, not a boolean'],
  ] as [Check<unknown>, unknown, string][])('%#: %p', (c, value, expected) => {
    expect(first(c, value)).toBe(expected);
  });

  it('does not read inherited keys as settings', () => {
    expect(first(object({ toString: string() }), {})).toBe('toString: is missing');
  });

  it('formats every issue with its path', () => {
    const result = validate(object({ a: string(), b: object({ c: integer() }) }), {
      b: { c: 'x' },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(formatIssues(result.issues, 'X')).toBe(
        'invalid configuration in X:\n  - a: is missing\n  - b.c: must be an integer, not a string',
      );
    }
  });
});
