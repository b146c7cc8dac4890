import baselineJson from '../../infra/baseline/baseline.json';
import {
  fill,
  loadBaseline,
  samePolicy,
  type BaselineVars,
} from '../../functions/onboard-account/baseline';
import { ConfigError } from '../../functions/shared/errors';

const VARS: BaselineVars = {
  partition: 'aws',
  accountId: '222233334444',
  region: 'eu-west-1',
  organizationId: 'o-exampleorg1',
  managementAccountId: '111122223333',
  centralBusArn: 'arn:aws:events:us-east-1:111122223333:event-bus/backup-control-plane-dev',
  controlPlaneRoleArn: 'arn:aws:iam::111122223333:role/backup-control-plane-dev-onboarding',
  watchRoleArn: 'arn:aws:iam::111122223333:role/backup-control-plane-dev-watch',
};

/** A fresh, mutable copy of the shipped baseline. */
const rawBaseline = () => JSON.parse(JSON.stringify(baselineJson)) as Record<string, unknown>;

describe('loadBaseline', () => {
  it('loads the shipped baseline', () => {
    const baseline = loadBaseline();
    expect(baseline.version).toBeGreaterThanOrEqual(1);
    expect(baseline.key.alias).toBe('alias/backup-control-plane');
    expect(baseline.serviceRole.managedPolicies).toHaveLength(2);
    expect(baseline.accountTags).toEqual({
      status: 'backup-control-plane:status',
      baselineVersion: 'backup-control-plane:baseline-version',
      updatedAt: 'backup-control-plane:updated-at',
    });
  });

  it.each([
    [
      'an alias without the alias/ prefix',
      (b: Record<string, unknown>) => {
        (b.key as Record<string, unknown>).alias = 'backup-control-plane';
      },
      /^infra\/baseline\/baseline\.json: key\.alias: /,
    ],
    [
      'a missing version',
      (b: Record<string, unknown>) => {
        delete b.version;
      },
      /^infra\/baseline\/baseline\.json: version: /,
    ],
    [
      'a version 0',
      (b: Record<string, unknown>) => {
        b.version = 0;
      },
      /^infra\/baseline\/baseline\.json: version: /,
    ],
    [
      'a forwarding role without a name',
      (b: Record<string, unknown>) => {
        const forwarding = b.forwarding as { role: Record<string, unknown> };
        forwarding.role.name = '';
      },
      /^infra\/baseline\/baseline\.json: forwarding\.role\.name: /,
    ],
    [
      'managed policies that are not a list',
      (b: Record<string, unknown>) => {
        (b.serviceRole as Record<string, unknown>).managedPolicies = 'arn:aws:iam::aws:policy/x';
      },
      /^infra\/baseline\/baseline\.json: serviceRole\.managedPolicies: /,
    ],
    [
      'a section the code does not know (a new resource kind needs its module)',
      (b: Record<string, unknown>) => {
        b.snapshotSchedule = { name: 'x' };
      },
      /^infra\/baseline\/baseline\.json: \(top level\): unknown setting\(s\) "snapshotSchedule"$/,
    ],
    [
      'a misspelt setting inside a section',
      (b: Record<string, unknown>) => {
        (b.key as Record<string, unknown>).enableKeyRotaton = true;
      },
      /^infra\/baseline\/baseline\.json: key: unknown setting\(s\) "enableKeyRotaton"$/,
    ],
  ])('rejects %s, naming the path', (_name, breakIt, message) => {
    const raw = rawBaseline();
    breakIt(raw);
    expect(() => loadBaseline(raw)).toThrow(ConfigError);
    expect(() => loadBaseline(raw)).toThrow(message);
  });
});

describe('fill', () => {
  it('replaces every placeholder in nested strings and leaves everything else', () => {
    const doc = {
      Resource: 'arn:{{partition}}:iam::{{accountId}}:root',
      Condition: { StringEquals: { 'kms:ViaService': 'backup.{{region}}.amazonaws.com' } },
      List: ['{{organizationId}}', 3, true, null],
      Count: 2,
      Plain: 'no placeholder',
    };
    expect(fill(doc, VARS)).toEqual({
      Resource: 'arn:aws:iam::222233334444:root',
      Condition: { StringEquals: { 'kms:ViaService': 'backup.eu-west-1.amazonaws.com' } },
      List: ['o-exampleorg1', 3, true, null],
      Count: 2,
      Plain: 'no placeholder',
    });
    // The input is not changed.
    expect(doc.Resource).toBe('arn:{{partition}}:iam::{{accountId}}:root');
  });

  it('fills the same placeholder twice in one string', () => {
    expect(fill('{{accountId}}/{{accountId}}', VARS)).toBe('222233334444/222233334444');
  });

  it('throws naming a placeholder it does not know', () => {
    expect(() => fill({ a: ['x-{{accountName}}'] }, VARS)).toThrow(ConfigError);
    expect(() => fill({ a: ['x-{{accountName}}'] }, VARS)).toThrow(
      'baseline placeholder {{accountName}} has no value here',
    );
  });

  it('throws for a known placeholder that has no value in this context', () => {
    expect(() => fill('backup.{{region}}.amazonaws.com', { accountId: '1' })).toThrow(
      'baseline placeholder {{region}} has no value here',
    );
  });

  it('leaves no placeholder in the shipped baseline once every value is given', () => {
    const filled = fill(loadBaseline(), VARS);
    expect(JSON.stringify(filled)).not.toMatch(/\{\{\w+\}\}/);
    expect(JSON.stringify(filled)).toContain(VARS.centralBusArn);
    expect(JSON.stringify(filled)).toContain(VARS.controlPlaneRoleArn);
  });
});

describe('samePolicy', () => {
  const policy = () => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'backup.amazonaws.com' },
        Action: ['backup:ListBackupJobs', 'backup:DescribeBackupJob'],
        Resource: '*',
      },
    ],
  });

  it('is true for the same document', () => {
    expect(samePolicy(policy(), policy())).toBe(true);
  });

  it('ignores key order at every level', () => {
    const reordered = {
      Statement: [
        {
          Resource: '*',
          Action: ['backup:ListBackupJobs', 'backup:DescribeBackupJob'],
          Principal: { Service: 'backup.amazonaws.com' },
          Effect: 'Allow',
        },
      ],
      Version: '2012-10-17',
    };
    expect(samePolicy(policy(), reordered)).toBe(true);
  });

  it('takes a single value and a one-element list as the same', () => {
    const a = { Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'x' } }] };
    const b = { Statement: [{ Action: ['sts:AssumeRole'], Principal: { Service: ['x'] } }] };
    expect(samePolicy(a, b)).toBe(true);
  });

  it('ignores the order of Action, Resource and principal lists', () => {
    const a = {
      Statement: [
        {
          Action: ['b', 'a'],
          NotAction: ['d', 'c'],
          Resource: ['r2', 'r1'],
          Principal: { AWS: ['p2', 'p1'], Service: ['s2', 's1'] },
        },
      ],
    };
    const b = {
      Statement: [
        {
          Action: ['a', 'b'],
          NotAction: ['c', 'd'],
          Resource: ['r1', 'r2'],
          Principal: { AWS: ['p1', 'p2'], Service: ['s1', 's2'] },
        },
      ],
    };
    expect(samePolicy(a, b)).toBe(true);
  });

  it('sees a changed action, effect, principal or condition', () => {
    const changes: ((p: ReturnType<typeof policy>) => void)[] = [
      (p) => {
        p.Statement[0]!.Action = ['backup:ListBackupJobs'];
      },
      (p) => {
        p.Statement[0]!.Effect = 'Deny';
      },
      (p) => {
        p.Statement[0]!.Principal = { Service: 'ec2.amazonaws.com' };
      },
      (p) => {
        Object.assign(p.Statement[0]!, { Condition: { Bool: { 'aws:SecureTransport': 'true' } } });
      },
      (p) => {
        p.Statement.push({ ...p.Statement[0]! });
      },
    ];
    for (const change of changes) {
      const other = policy();
      change(other);
      expect(samePolicy(policy(), other)).toBe(false);
    }
  });

  it('keeps a one-statement Statement list a list (an object is another document)', () => {
    const statement = { Effect: 'Allow', Action: 'a', Resource: '*' };
    expect(samePolicy({ Statement: [statement] }, { Statement: statement })).toBe(false);
  });

  it('keeps the order of statements', () => {
    expect(
      samePolicy(
        { Statement: [{ Sid: 'a' }, { Sid: 'b' }] },
        { Statement: [{ Sid: 'b' }, { Sid: 'a' }] },
      ),
    ).toBe(false);
  });

  it('compares missing documents', () => {
    expect(samePolicy(undefined, undefined)).toBe(true);
    expect(samePolicy(undefined, policy())).toBe(false);
  });
});
