import { decide } from '../../functions/notify-backup-event/decide';
import { matches, route, type RouteFacts } from '../../functions/notify-backup-event/route';
import { DEFAULT_RULES, RouteRuleSchema, type RouteRule } from '../../functions/shared/config';
import { exampleConfig, sample } from '../helpers/fixtures';

const recipients = {
  admins: ['ops@example.com', 'Lead@example.com'],
  dba: ['dba@example.com', 'lead@example.com'],
  security: ['sec@example.com'],
};

const facts = (overrides: Partial<RouteFacts> = {}): RouteFacts => ({
  jobType: 'backup',
  state: 'FAILED',
  severity: 'error',
  accountId: '111122223333',
  region: 'us-east-1',
  resourceType: 'RDS',
  ...overrides,
});

const rule = (raw: unknown): RouteRule => RouteRuleSchema.parse(raw);

describe('route with the default rules', () => {
  it.each(['error', 'warning'] as const)('sends %s to admins by email and to chat', (severity) => {
    expect(route(facts({ severity }), DEFAULT_RULES, recipients)).toEqual([
      {
        channel: 'email',
        key: 'email:admins',
        list: 'admins',
        to: ['ops@example.com', 'Lead@example.com'],
        rules: ['errors-and-warnings'],
      },
      { channel: 'sns', key: 'sns:chat', topic: 'chat', rules: ['errors-and-warnings'] },
    ]);
  });

  it('sends info to chat only', () => {
    expect(
      route(facts({ severity: 'info', state: 'COMPLETED' }), DEFAULT_RULES, recipients),
    ).toEqual([{ channel: 'sns', key: 'sns:chat', topic: 'chat', rules: ['info-to-chat'] }]);
  });

  it('applies the defaults when the configuration has no rules', () => {
    const config = exampleConfig();
    delete config.notifications.rules;
    const decision = decide(sample('backup/backup-job-state-change.failed'), config);
    expect(decision).toMatchObject({ flow: 'notify' });
    if (decision.flow !== 'notify') return;
    expect(decision.targets.map((t) => t.key)).toEqual(['email:admins', 'sns:chat']);
  });
});

describe('route with several rules', () => {
  const rules = [
    rule({ name: 'all-errors', match: { severity: 'error' }, email: ['admins'], sns: ['chat'] }),
    rule({
      name: 'databases',
      match: { resourceType: ['rds', 'Aurora'] },
      email: ['dba'],
      sns: ['chat'],
    }),
    rule({ name: 'prod-account', match: { accountId: '111122223333' }, email: ['admins'] }),
    rule({ name: 'never', match: { region: 'eu-west-1' }, email: ['security'] }),
  ];

  it('merges every matching rule, each list and topic once, naming the rules', () => {
    const targets = route(facts(), rules, recipients);
    expect(targets).toEqual([
      {
        channel: 'email',
        key: 'email:admins',
        list: 'admins',
        to: ['ops@example.com', 'Lead@example.com'],
        rules: ['all-errors', 'prod-account'],
      },
      { channel: 'sns', key: 'sns:chat', topic: 'chat', rules: ['all-errors', 'databases'] },
      {
        channel: 'email',
        key: 'email:dba',
        list: 'dba',
        to: ['dba@example.com'],
        rules: ['databases'],
      },
    ]);
  });

  it('sends an address on two lists only once (case-insensitively)', () => {
    const targets = route(facts(), rules, recipients);
    const addresses = targets.flatMap((t) => (t.channel === 'email' ? t.to : []));
    expect(
      addresses.map((a) => a.toLowerCase()).filter((a) => a === 'lead@example.com'),
    ).toHaveLength(1);
  });

  it('drops a list whose addresses all went out through another list', () => {
    const onlyShared = { admins: ['a@example.com'], copy: ['A@example.com'] };
    const targets = route(facts(), [rule({ name: 'one', email: ['admins', 'copy'] })], onlyShared);
    expect(targets.map((t) => t.key)).toEqual(['email:admins']);
  });

  it('returns nothing when no rule matches', () => {
    expect(
      route(
        facts({ severity: 'info', resourceType: 'EBS', accountId: '444455556666' }),
        rules,
        recipients,
      ),
    ).toEqual([]);
  });

  it('makes decide ignore an event that no rule routes', () => {
    const config = exampleConfig();
    config.notifications.rules = [
      rule({ name: 'restores', match: { jobType: 'restore' }, sns: ['chat'] }),
    ];
    expect(decide(sample('backup/backup-job-state-change.failed'), config)).toMatchObject({
      flow: 'ignore',
      reason: 'no routing rule matches',
    });
  });
});

describe('matches', () => {
  it('matches everything with an empty match', () => {
    expect(matches({}, facts())).toBe(true);
  });

  it.each([
    ['jobType', { jobType: ['copy', 'restore'] }, { jobType: 'restore' }, { jobType: 'backup' }],
    ['state', { state: ['FAILED'] }, { state: 'FAILED' }, { state: 'EXPIRED' }],
    ['severity', { severity: ['warning'] }, { severity: 'warning' }, { severity: 'error' }],
    [
      'accountId',
      { accountId: ['444455556666'] },
      { accountId: '444455556666' },
      { accountId: '111122223333' },
    ],
    ['region', { region: ['eu-west-1'] }, { region: 'eu-west-1' }, { region: 'us-east-1' }],
    [
      'resourceType',
      { resourceType: ['DynamoDB'] },
      { resourceType: 'dynamodb' },
      { resourceType: 'EFS' },
    ],
  ] as const)('key %s matches only listed values', (_key, match, hit, miss) => {
    expect(matches(match as never, facts(hit as Partial<RouteFacts>))).toBe(true);
    expect(matches(match as never, facts(miss as Partial<RouteFacts>))).toBe(false);
  });

  it('does not match a resourceType rule when the event has no resource type', () => {
    expect(matches({ resourceType: ['EC2'] }, facts({ resourceType: undefined }))).toBe(false);
  });

  it('needs every key of a match to hold', () => {
    const match = { severity: ['error' as const], region: ['eu-west-1'] };
    expect(matches(match, facts({ region: 'eu-west-1' }))).toBe(true);
    expect(matches(match, facts({ region: 'eu-west-1', severity: 'info' }))).toBe(false);
  });

  it('accepts a single value or a list in the configuration', () => {
    expect(rule({ name: 'x', match: { state: 'FAILED' }, sns: ['chat'] }).match.state).toEqual([
      'FAILED',
    ]);
  });
});
