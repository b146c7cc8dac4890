import { jobNotice } from '../../functions/notify-backup-event/job-notice';
import { parseConfig, type Config } from '../../functions/shared/config/schema';
import { CachedAccountContext, ouPathOf } from '../../functions/shared/notices/account-context';
import type { Notice } from '../../functions/shared/notices/notice';
import {
  enrichAccount,
  RoutingFactsUnavailableError,
  sendNotice,
  type PipelineDeps,
} from '../../functions/shared/notices/send';
import {
  FakeClock,
  FakeDirectory,
  FakeEmailSender,
  FakeTopicPublisher,
  InMemoryLedger,
  jobEvent,
} from '../helpers/fakes';
import { exampleConfig } from '../helpers/fixtures';

const PROD = '111122223333';
const TTL = 60_000;
const NONE = { ouPath: false, tags: false };
const ALL = { ouPath: true, tags: true };

function directory() {
  return new FakeDirectory({
    [PROD]: {
      name: 'Production',
      email: 'aws-prod@example.com',
      ouPath: 'Workloads/Production',
      tags: { team: 'payments' },
    },
    '444455556666': { name: 'Staging' },
  });
}

function setup() {
  const org = directory();
  const clock = new FakeClock();
  return { org, clock, context: new CachedAccountContext(org, TTL, clock) };
}

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });

describe('ouPathOf', () => {
  it('joins the OU names from the root down, leaving out the root', () => {
    expect(
      ouPathOf([
        { id: 'ou-2', name: 'Production', type: 'ORGANIZATIONAL_UNIT' },
        { id: 'ou-1', name: 'Workloads', type: 'ORGANIZATIONAL_UNIT' },
        { id: 'r-1', name: 'Root', type: 'ROOT' },
      ]),
    ).toBe('Workloads/Production');
  });

  it('is empty for an account directly under the root', () => {
    expect(ouPathOf([{ id: 'r-1', name: 'Root', type: 'ROOT' }])).toBe('');
  });
});

describe('CachedAccountContext', () => {
  it('gives the name and email, and reads the OU path and tags only when asked', async () => {
    const { org, context } = setup();
    await expect(context.lookup(PROD, NONE)).resolves.toEqual({
      id: PROD,
      name: 'Production',
      email: 'aws-prod@example.com',
    });
    expect(org.calls).toEqual([`describe:${PROD}`]);
  });

  it('adds the OU path and tags when asked', async () => {
    const { context } = setup();
    await expect(context.lookup(PROD, ALL)).resolves.toEqual({
      id: PROD,
      name: 'Production',
      email: 'aws-prod@example.com',
      ouPath: 'Workloads/Production',
      tags: { team: 'payments' },
    });
  });

  it('describes an account once per TTL', async () => {
    const { org, clock, context } = setup();
    await context.lookup(PROD, NONE);
    clock.advance(TTL - 1);
    await expect(context.lookup(PROD, NONE)).resolves.toMatchObject({ name: 'Production' });
    expect(org.calls).toEqual([`describe:${PROD}`]);
    clock.advance(1);
    await context.lookup(PROD, NONE);
    expect(org.calls).toEqual([`describe:${PROD}`, `describe:${PROD}`]);
  });

  it('caches the OU path and tags too, reading only what is missing', async () => {
    const { org, context } = setup();
    await context.lookup(PROD, NONE);
    await context.lookup(PROD, { ouPath: true, tags: false });
    await context.lookup(PROD, ALL);
    await context.lookup(PROD, ALL);
    expect(org.calls).toEqual([`describe:${PROD}`, `parents:${PROD}`, `tags:${PROD}`]);
  });

  it('does not extend the TTL when it adds to a cached entry', async () => {
    const { org, clock, context } = setup();
    await context.lookup(PROD, NONE);
    clock.advance(TTL - 1);
    await context.lookup(PROD, { ouPath: true, tags: false });
    clock.advance(1);
    await context.lookup(PROD, NONE);
    expect(org.calls.filter((c) => c.startsWith('describe'))).toHaveLength(2);
  });

  it('keeps the name when the OU look-up fails: the retry asks only for the OU path', async () => {
    const { org, context } = setup();
    org.failContextWith = throttled();
    await expect(context.lookup(PROD, { ouPath: true, tags: false })).rejects.toThrow(
      'Rate exceeded',
    );
    org.failContextWith = undefined;
    await expect(context.lookup(PROD, { ouPath: true, tags: false })).resolves.toMatchObject({
      name: 'Production',
      ouPath: 'Workloads/Production',
    });
    expect(org.calls).toEqual([`describe:${PROD}`, `parents:${PROD}`, `parents:${PROD}`]);
  });

  it('caches per account', async () => {
    const { org, context } = setup();
    await context.lookup(PROD, NONE);
    await expect(context.lookup('444455556666', NONE)).resolves.toEqual({
      id: '444455556666',
      name: 'Staging',
    });
    expect(org.calls).toEqual([`describe:${PROD}`, 'describe:444455556666']);
  });

  it('goes on with the id alone when describing fails, warns, and does not cache it', async () => {
    const { org, context } = setup();
    org.failWith = throttled();
    const warn = jest.fn();
    await expect(context.lookup(PROD, NONE, warn)).resolves.toEqual({ id: PROD });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('account lookup failed'), {
      accountId: PROD,
      error: 'Rate exceeded',
    });
    org.failWith = undefined;
    await expect(context.lookup(PROD, NONE)).resolves.toMatchObject({ name: 'Production' });
    expect(org.calls).toEqual([`describe:${PROD}`, `describe:${PROD}`]);
  });

  it('does not need a warn callback to survive a failed describe', async () => {
    const { org, context } = setup();
    org.failWith = new Error('boom');
    await expect(context.lookup(PROD, NONE)).resolves.toEqual({ id: PROD });
  });

  it('treats an unknown account like a failed describe', async () => {
    const { context } = setup();
    await expect(context.lookup('999999999999', NONE)).resolves.toEqual({ id: '999999999999' });
  });

  it.each([
    ['OU path', { ouPath: true, tags: false }],
    ['tags', { ouPath: false, tags: true }],
  ])('rejects when the %s was asked for and cannot be read', async (_what, needs) => {
    const { org, context } = setup();
    org.failContextWith = new Error('AccessDenied');
    await expect(context.lookup(PROD, needs)).rejects.toThrow('AccessDenied');
    org.failContextWith = undefined;
    await expect(context.lookup(PROD, needs)).resolves.toMatchObject({ name: 'Production' });
  });
});

describe('enrichAccount', () => {
  const log = () => ({ info: jest.fn(), warn: jest.fn() });
  const failed = (): Notice =>
    jobNotice(jobEvent('backup/backup-job-state-change.failed'), 'error', 'FAILED');

  function ouConfig(): Config {
    const raw = exampleConfig();
    raw.notifications.rules = [
      { name: 'prod', match: { ouPath: ['Workloads/**'] }, email: ['admins'], sns: [] },
      { name: 'errors', match: { severity: ['error'] }, email: [], sns: ['chat'] },
    ];
    return parseConfig(raw, 'test');
  }

  it('adds the name and email the notice does not know', async () => {
    const { org, context } = setup();
    const notice = await enrichAccount(failed(), {
      config: exampleConfig(),
      accounts: context,
      log: log(),
    });
    expect(notice.account).toEqual({ id: PROD, name: 'Production', email: 'aws-prod@example.com' });
    expect(org.calls).toEqual([`describe:${PROD}`]);
  });

  it('reads the OU path only when a rule needs it', async () => {
    const { org, context } = setup();
    const notice = await enrichAccount(failed(), {
      config: ouConfig(),
      accounts: context,
      log: log(),
    });
    expect(notice.account?.ouPath).toBe('Workloads/Production');
    expect(org.calls).toEqual([`describe:${PROD}`, `parents:${PROD}`]);
  });

  it('keeps what the notice already knows and does not look up what it has', async () => {
    const { org, context } = setup();
    const known = { ...failed(), account: { id: PROD, name: 'Prod (from the event)' } };
    expect(
      await enrichAccount(known, { config: exampleConfig(), accounts: context, log: log() }),
    ).toBe(known);
    const partly = { ...failed(), account: { id: PROD, name: 'Prod (from the event)' } };
    const enriched = await enrichAccount(partly, {
      config: ouConfig(),
      accounts: context,
      log: log(),
    });
    expect(enriched.account).toMatchObject({
      name: 'Prod (from the event)',
      ouPath: 'Workloads/Production',
    });
    expect(org.calls).toEqual([`describe:${PROD}`, `parents:${PROD}`]);
  });

  it('leaves a notice without an account alone', async () => {
    const { org, context } = setup();
    const notice = { ...failed(), account: undefined };
    expect(await enrichAccount(notice, { config: ouConfig(), accounts: context, log: log() })).toBe(
      notice,
    );
    expect(org.calls).toEqual([]);
  });

  it('throws RoutingFactsUnavailableError when the OU path is needed and cannot be read', async () => {
    const { org, context } = setup();
    org.failContextWith = new Error('AccessDenied');
    const error = enrichAccount(failed(), { config: ouConfig(), accounts: context, log: log() });
    await expect(error).rejects.toBeInstanceOf(RoutingFactsUnavailableError);
    await expect(
      enrichAccount(failed(), { config: ouConfig(), accounts: context, log: log() }),
    ).rejects.toThrow(/OU path or tags of account 111122223333.*AccessDenied/);
  });

  it('routes with what it knows on the final attempt, and warns', async () => {
    const { org, context } = setup();
    org.failContextWith = new Error('AccessDenied');
    const warnings = log();
    const input = failed();
    const notice = await enrichAccount(
      input,
      { config: ouConfig(), accounts: context, log: warnings },
      { finalAttempt: true },
    );
    expect(notice).toBe(input);
    expect(warnings.warn).toHaveBeenCalledWith(
      'routing without the account OU path or tags',
      expect.objectContaining({ reason: 'last attempt', accountId: PROD, error: 'AccessDenied' }),
    );
  });
});

describe('sendNotice with rules on the OU path', () => {
  function deps(
    org: FakeDirectory,
    config: Config,
  ): PipelineDeps & {
    email: FakeEmailSender;
    sns: FakeTopicPublisher;
  } {
    const clock = new FakeClock();
    return {
      config,
      topicArn: (topic) => `arn:aws:sns:us-east-1:123456789012:${topic}`,
      accounts: new CachedAccountContext(org, TTL, clock),
      ledger: new InMemoryLedger(),
      email: new FakeEmailSender(),
      sns: new FakeTopicPublisher(),
      clock,
      log: { info: jest.fn(), warn: jest.fn() },
    };
  }

  function config(): Config {
    const raw = exampleConfig();
    raw.notifications.rules = [
      { name: 'prod', match: { ouPath: ['Workloads/*'] }, email: ['dba'], sns: [] },
      { name: 'everything', match: {}, email: [], sns: ['chat'] },
    ];
    return parseConfig(raw, 'test');
  }

  const failed = () =>
    jobNotice(jobEvent('backup/backup-job-state-change.failed'), 'error', 'FAILED');

  it('sends to the lists the account OU path selects, named in the subject', async () => {
    const d = deps(directory(), config());
    await sendNotice(failed(), d);
    expect(d.email.sent.map((m) => m.to)).toEqual([['dba-oncall@example.com']]);
    expect(d.email.sent[0]!.subject).toContain('Production (111122223333)');
    expect(d.sns.published).toHaveLength(1);
  });

  it('sends nothing and rejects while the OU path cannot be read, unless it is the final attempt', async () => {
    const org = directory();
    org.failContextWith = new Error('AccessDenied');
    const d = deps(org, config());
    await expect(sendNotice(failed(), d)).rejects.toBeInstanceOf(RoutingFactsUnavailableError);
    expect(d.email.sent).toEqual([]);
    expect(d.sns.published).toEqual([]);
    await sendNotice(failed(), d, { finalAttempt: true });
    expect(d.email.sent).toEqual([]);
    expect(d.sns.published).toHaveLength(1);
  });
});
