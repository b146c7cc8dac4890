import { ACCOUNT_OWNER_LIST, effectiveRules } from '../../functions/shared/config/vocabulary';
import { parseConfig, type Config } from '../../functions/shared/config/schema';
import { ConfigError } from '../../functions/shared/errors';
import { exampleConfig } from '../helpers/fixtures';

/** The `watching` section: the daily digest, coverage grace and lost-event recovery. */

type Loose = Record<string, unknown>;

/**
 * The example configuration as raw data without a watching section, with the lists and topic
 * the digest defaults name (admins, chat) and one more of each. Fresh per call.
 */
function raw(watching?: unknown): Loose & { notifications: Loose & { email: Loose } } {
  const config = JSON.parse(JSON.stringify(exampleConfig())) as Loose & {
    notifications: Loose & { email: Loose };
  };
  delete config.watching;
  config.notifications.email.recipients = {
    admins: ['platform-team@example.com'],
    dba: ['dba-oncall@example.com'],
  };
  config.notifications.topics = { chat: {}, ops: {} };
  if (watching !== undefined) config.watching = watching;
  return config;
}

function errorOf(input: unknown): string {
  try {
    parseConfig(input, 'stage.yml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('parseConfig accepted the configuration');
}

const DEFAULTS: Config['watching'] = {
  digest: {
    schedule: 'cron(0 8 * * ? *)',
    email: ['admins'],
    sns: ['chat'],
    accountOwners: false,
    heartbeat: true,
  },
  coverageGraceHours: 6,
  lostEvents: { lookbackHours: 26, settleMinutes: 60 },
};

describe('watching defaults', () => {
  it.each<[string, unknown]>([
    ['without a watching section', undefined],
    ['with an empty one', {}],
    ['with an empty digest', { digest: {}, lostEvents: {} }],
  ])('are the documented ones %s', (_what, watching) => {
    expect(parseConfig(raw(watching), 'stage.yml').watching).toEqual(DEFAULTS);
  });

  it('keep the settings not given when some are', () => {
    const config = parseConfig(
      raw({
        digest: { heartbeat: false, sns: ['ops'] },
        coverageGraceHours: 0,
        lostEvents: { settleMinutes: 15 },
      }),
      'stage.yml',
    );
    expect(config.watching).toEqual({
      digest: { ...DEFAULTS.digest, heartbeat: false, sns: ['ops'] },
      coverageGraceHours: 0,
      lostEvents: { lookbackHours: 26, settleMinutes: 15 },
    });
  });

  it('accept an empty email list: a digest to chat only', () => {
    const config = parseConfig(raw({ digest: { email: [], sns: ['chat'] } }), 'stage.yml');
    expect(config.watching.digest.email).toEqual([]);
  });
});

describe('watching errors name the setting', () => {
  it.each<[string, unknown, RegExp]>([
    [
      'a digest list that does not exist',
      { digest: { email: ['nobody'] } },
      /^ {2}- watching\.digest\.email\.0: names recipient list "nobody" which is not under notifications\.email\.recipients/m,
    ],
    [
      'the second of two digest lists',
      { digest: { email: ['admins', 'nobody'] } },
      /^ {2}- watching\.digest\.email\.1: names recipient list "nobody"/m,
    ],
    [
      'a digest topic that does not exist',
      { digest: { sns: ['pager'] } },
      /^ {2}- watching\.digest\.sns\.0: names topic "pager" which is not under notifications\.topics/m,
    ],
    [
      'a schedule that is not an EventBridge schedule',
      { digest: { schedule: 'daily at 8' } },
      /^ {2}- watching\.digest\.schedule: must be an EventBridge schedule: rate\(\.\.\.\) or cron\(\.\.\.\)/m,
    ],
    [
      'an unknown digest setting',
      { digest: { hearbeat: false } },
      /^ {2}- watching\.digest: unknown setting\(s\) "hearbeat"/m,
    ],
    [
      'an unknown watching setting',
      { digests: {} },
      /^ {2}- watching: unknown setting\(s\) "digests"/m,
    ],
    [
      'an unknown lostEvents setting',
      { lostEvents: { lookback: 10 } },
      /^ {2}- watching\.lostEvents: unknown setting\(s\) "lookback"/m,
    ],
    ['a negative grace', { coverageGraceHours: -1 }, /^ {2}- watching\.coverageGraceHours: /m],
    ['a grace over a week', { coverageGraceHours: 169 }, /^ {2}- watching\.coverageGraceHours: /m],
    ['a fractional grace', { coverageGraceHours: 1.5 }, /^ {2}- watching\.coverageGraceHours: /m],
    [
      'a lookback of zero',
      { lostEvents: { lookbackHours: 0 } },
      /^ {2}- watching\.lostEvents\.lookbackHours: /m,
    ],
    [
      'heartbeat as a string',
      { digest: { heartbeat: 'yes' } },
      /^ {2}- watching\.digest\.heartbeat: /m,
    ],
  ])('%s', (_what, watching, message) => {
    const text = errorOf(raw(watching));
    expect(text).toMatch(/^invalid configuration in stage\.yml:/);
    expect(text).toMatch(message);
  });

  it('names the default digest list when the configuration has no admins list', () => {
    const config = raw();
    (config.notifications.email as Loose).recipients = { platform: ['platform@example.com'] };
    config.notifications.rules = [
      { name: 'errors', match: { severity: 'error' }, email: ['platform'], sns: ['chat'] },
    ];
    expect(errorOf(config)).toMatch(
      /watching\.digest\.email\.0: names recipient list "admins" .*\(the daily digest goes to watching\.digest\.email, default \[admins\]\)/,
    );
  });

  it('names the default digest topic when the configuration has no chat topic', () => {
    const config = raw({ digest: { email: ['admins'] } });
    config.notifications.topics = { ops: {} };
    config.notifications.rules = [{ name: 'errors', email: ['admins'], sns: ['ops'] }];
    expect(errorOf(config)).toMatch(/watching\.digest\.sns\.0: names topic "chat"/);
  });

  it('does not accept "account-owner" as the organization digest list', () => {
    expect(errorOf(raw({ digest: { email: [ACCOUNT_OWNER_LIST] } }))).toMatch(
      /watching\.digest\.email\.0: names recipient list "account-owner"/,
    );
  });
});

describe('effectiveRules from watching.digest', () => {
  it('adds the daily-digest rule with the digest lists and topics, last', () => {
    const config = parseConfig(raw({ digest: { email: ['dba'], sns: ['ops'] } }), 'stage.yml');
    const rules = effectiveRules(config);
    expect(rules.at(-1)).toEqual({
      name: 'daily-digest',
      match: { kind: ['digest'] },
      email: ['dba'],
      sns: ['ops'],
    });
    expect(rules.filter((r) => r.name === 'account-owner-digests')).toEqual([]);
  });

  it('adds the account-owner-digests rule only with accountOwners', () => {
    const config = parseConfig(raw({ digest: { accountOwners: true } }), 'stage.yml');
    expect(effectiveRules(config).slice(-2)).toEqual([
      { name: 'daily-digest', match: { kind: ['digest'] }, email: ['admins'], sns: ['chat'] },
      {
        name: 'account-owner-digests',
        match: { kind: ['account-digest'] },
        email: [ACCOUNT_OWNER_LIST],
        sns: [],
      },
    ]);
  });
});
