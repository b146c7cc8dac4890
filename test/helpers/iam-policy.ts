/**
 * A small evaluator of IAM identity policies, for table-driven tests of what a role may do: one
 * request (action, resource, request context) against a policy's statements. It knows the
 * condition operators our policies use and throws on any other, so a policy using something it
 * cannot judge fails the test instead of passing it. Explicit Deny wins; otherwise some Allow
 * must match action, resource and every condition.
 */

export interface IamRequest {
  action: string;
  resource: string;
  /** Condition keys of the request (aws:RequestTag/…, aws:ResourceTag/…, iam:PassedToService). */
  context?: Record<string, string>;
}

interface Statement {
  Effect: 'Allow' | 'Deny';
  Principal?: { AWS?: string | string[] } | string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
  NotResource?: unknown;
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

const list = <T>(v: T | T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function glob(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, caseInsensitive ? 'i' : '').test(value);
}

function conditionHolds(
  operator: string,
  key: string,
  expected: string | string[] | boolean,
  context: Record<string, string>,
): boolean {
  const found = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  if (found === undefined) return false;
  const values = list(expected).map(String);
  switch (operator) {
    case 'StringEquals':
    case 'ArnEquals':
    case 'Bool':
      return values.includes(found);
    case 'StringLike':
    case 'ArnLike':
      return values.some((v) => glob(v, found, false));
    default:
      throw new Error(`the evaluator does not know the condition operator ${operator}`);
  }
}

function matches(s: Statement, req: IamRequest, principal?: string): boolean {
  if (s.NotAction !== undefined || s.NotResource !== undefined) {
    throw new Error('the evaluator does not judge NotAction or NotResource');
  }
  // A resource policy's statement (a KMS key policy) applies to the principals it names.
  if (s.Principal !== undefined) {
    const named = typeof s.Principal === 'string' ? [s.Principal] : list(s.Principal.AWS);
    if (!principal || !named.some((p) => p === '*' || p === principal)) return false;
  }
  if (!list(s.Action).some((a) => glob(a, req.action, true))) return false;
  if (!list(s.Resource).some((r) => glob(r, req.resource, false))) return false;
  return Object.entries(s.Condition ?? {}).every(([operator, block]) =>
    Object.entries(block).every(([key, expected]) =>
      conditionHolds(operator, key, expected, req.context ?? {}),
    ),
  );
}

/**
 * Whether the policy allows the request. `principal`: who asks, for a resource policy (a key
 * policy granting a role directly); identity policies name no principal.
 */
export function allows(
  policy: { Statement: unknown },
  req: IamRequest,
  principal?: string,
): boolean {
  const statements = list(policy.Statement as Statement | Statement[]);
  if (statements.some((s) => s.Effect === 'Deny' && matches(s, req, principal))) return false;
  return statements.some((s) => s.Effect === 'Allow' && matches(s, req, principal));
}

/** Whether the policy explicitly denies the request (an explicit Deny wins over any Allow). */
export function denies(
  policy: { Statement: unknown },
  req: IamRequest,
  principal?: string,
): boolean {
  return list(policy.Statement as Statement | Statement[]).some(
    (s) => s.Effect === 'Deny' && matches(s, req, principal),
  );
}
