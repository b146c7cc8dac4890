import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  creationFailedNotice,
  failedNotice,
  PipelineNotifier,
  planRows,
  readyNotice,
  type CreationFailedFacts,
  type FailedFacts,
  type ReadyFacts,
} from '../../functions/onboard-account/notices';
import { readEffectivePolicy } from '../../functions/shared/backup-plans/merge';
import type { PlanDescription } from '../../functions/shared/backup-plans/describe';
import { TopicSchema, type Config } from '../../functions/shared/config/schema';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import type { AccountRecord } from '../../functions/shared/ports';
import {
  FakeClock,
  FakeDirectory,
  FakeEmailSender,
  FakeTopicPublisher,
  InMemoryLedger,
} from '../helpers/fakes';
import { exampleConfig, ROOT } from '../helpers/fixtures';

const ACCOUNT_ID = '222233334444';
const CHAT_ARN = 'arn:aws:sns:us-east-1:111122223333:chat';
const EVENT_ID = '6a1e8f2d-3c4b-4a5e-8d7f-9b0c1a2e3f4d';

/** The plans of an account whose effective backup policy is daily-35-days. */
function dailyPlans(): PlanDescription[] {
  const policy = JSON.parse(
    readFileSync(join(ROOT, 'infra', 'backup-policies', 'daily-35-days.json'), 'utf8'),
  ) as unknown;
  return readEffectivePolicy(policy);
}

const record = (overrides: Partial<AccountRecord> = {}): AccountRecord => ({
  accountId: ACCOUNT_ID,
  status: 'ready',
  baselineVersion: 1,
  profile: 'default',
  steps: {},
  attempts: 3,
  lastTrigger: 'CreateAccountResult',
  updatedAt: '2025-03-13T03:05:00.000Z',
  attachedPolicies: ['daily-35-days'],
  ...overrides,
});

function ready(overrides: Partial<ReadyFacts> = {}): ReadyFacts {
  return {
    account: {
      id: ACCOUNT_ID,
      name: 'Payments',
      email: 'aws-payments@example.com',
      status: 'ACTIVE',
    },
    ouPath: 'Workloads/Payments',
    record: record(),
    profile: exampleConfig().onboarding!.profiles[1]!,
    vaultName: 'org-backup-vault',
    plans: dailyPlans(),
    changes: ['baseline-iam: create role backup-control-plane-backup-service'],
    ...overrides,
  };
}

function failed(overrides: Partial<FailedFacts> = {}): FailedFacts {
  return {
    accountId: ACCOUNT_ID,
    record: record({ status: 'failed', lastTrigger: 'Reconcile' }),
    step: 'access',
    error: 'cannot assume OrganizationAccountAccessRole in account 222233334444: AccessDenied',
    advice: 'Check that the role exists in the account and trusts the management account.',
    ...overrides,
  };
}

function creation(overrides: Partial<CreationFailedFacts> = {}): CreationFailedFacts {
  return {
    eventId: EVENT_ID,
    trigger: 'CreateAccountResult',
    reason: 'EMAIL_ALREADY_EXISTS',
    time: '2026-06-03T11:02:31Z',
    ...overrides,
  };
}

describe('planRows', () => {
  it('gives one row per plan rule with the tag that selects a resource', () => {
    expect(planRows(dailyPlans())).toEqual([
      [
        { value: 'org-daily-35-days / daily', kind: 'id' },
        { value: 'daily at 05:00 UTC' },
        { value: '35 days' },
        { value: 'us-east-1' },
        { value: 'backup-plan=daily', kind: 'id' },
      ],
    ]);
  });

  it('says when any tag value will do and when no tag is needed', () => {
    const [plan] = dailyPlans();
    const rows = planRows([
      {
        ...plan!,
        selections: [
          { ...plan!.selections[0]!, kind: 'tags', tagKey: 'backup', tagValues: [] },
          {
            name: 'all-rds',
            kind: 'resources',
            resourceTypes: ['RDS'],
            notResourceTypes: [],
            conditions: [],
          },
        ],
      } as PlanDescription,
    ]);
    expect(rows[0]![4]).toEqual({
      value: 'backup=<any value> or (every RDS, no tag needed)',
      kind: 'id',
    });
  });
});

describe('readyNotice', () => {
  it('says which account is backup-ready, with its profile, plans and what was done', () => {
    const n = readyNotice(ready());
    expect(n).toMatchObject({
      kind: 'onboarding',
      severity: 'info',
      label: 'READY',
      what: 'Account onboarding',
      headline: `Account Payments (${ACCOUNT_ID}) is backup-ready`,
      summary: `Account Payments (${ACCOUNT_ID}) is backup-ready (profile default, us-east-1)`,
      account: {
        id: ACCOUNT_ID,
        name: 'Payments',
        email: 'aws-payments@example.com',
        ouPath: 'Workloads/Payments',
      },
      state: 'READY',
      resourceType: 'Account',
      chat: {
        threadId: `onboarding-${ACCOUNT_ID}`,
        eventType: 'AccountBackupReady',
        keywords: ['onboarding', 'READY', ACCOUNT_ID],
      },
    });
    expect(n.facts).toEqual([
      { label: 'Profile', value: 'default', kind: 'text' },
      { label: 'Regions', value: 'us-east-1', kind: 'text' },
      { label: 'Backup vault', value: 'org-backup-vault', kind: 'id' },
      { label: 'Backup policies', value: 'daily-35-days', kind: 'text' },
      { label: 'Baseline version', value: '1', kind: 'text' },
      { label: 'Trigger', value: 'CreateAccountResult', kind: 'text' },
    ]);
    expect(n.sections).toEqual([
      {
        title: 'Have a resource backed up: tag it',
        columns: ['Plan / rule', 'When', 'Kept', 'Regions', 'Tag to put on the resource'],
        rows: planRows(dailyPlans()),
      },
      {
        title: 'Changes made',
        rows: [[{ value: 'baseline-iam: create role backup-control-plane-backup-service' }]],
        collapsed: true,
      },
    ]);
    expect(n.nextSteps[0]).toMatch(/e\.g\. backup-plan=daily/);
  });

  it('leaves out the plan table and the changes when there are none', () => {
    const n = readyNotice(ready({ plans: undefined, changes: [] }));
    expect(n.sections).toEqual([]);
    expect(n.nextSteps[0]).toBe(
      `See which tags select resources for backup: npx backupctl policies --account ${ACCOUNT_ID} --ou Workloads/Payments`,
    );
  });

  it('shows a redacted name as the id, and "none" for a profile without backup policies', () => {
    const profile = { ...exampleConfig().onboarding!.profiles[1]!, backupPolicies: [] };
    const n = readyNotice(ready({ account: { id: ACCOUNT_ID, name: '****' }, profile }));
    expect(n.headline).toBe(`Account ${ACCOUNT_ID} is backup-ready`);
    expect(n.facts).toContainEqual({ label: 'Backup policies', value: 'none', kind: 'text' });
  });

  it('is the same notice on a retry and a new one for a new outcome', () => {
    const first = readyNotice(ready());
    expect(readyNotice(ready()).dedupKey).toBe(first.dedupKey);
    const later = readyNotice(
      ready({ record: record({ notified: { status: 'failed', error: 'x' } }) }),
    );
    expect(later.dedupKey).not.toBe(first.dedupKey);
  });
});

describe('failedNotice', () => {
  it('names the step, the error, the advice and how to retry', () => {
    const n = failedNotice(failed());
    expect(n).toMatchObject({
      kind: 'onboarding',
      severity: 'error',
      label: 'FAILED',
      item: 'step access',
      headline: `Onboarding of account ${ACCOUNT_ID} failed at step access`,
      account: { id: ACCOUNT_ID },
      reason: 'cannot assume OrganizationAccountAccessRole in account 222233334444: AccessDenied',
      facts: [
        { label: 'Failed step', value: 'access', kind: 'id' },
        { label: 'Attempt', value: '3', kind: 'text' },
        { label: 'Trigger', value: 'Reconcile', kind: 'text' },
      ],
      nextSteps: [
        'Check that the role exists in the account and trusts the management account.',
        `Retry by hand: npx backupctl onboard ${ACCOUNT_ID}; the reconcile sweep also retries daily.`,
      ],
      chat: { threadId: `onboarding-${ACCOUNT_ID}`, eventType: 'AccountOnboardingFailed' },
    });
    expect(n.account).not.toHaveProperty('email');
  });

  it('uses the account name and email when it has them', () => {
    const n = failedNotice(
      failed({ account: { id: ACCOUNT_ID, name: 'Payments', email: 'a@example.com' } }),
    );
    expect(n.headline).toBe(`Onboarding of account Payments (${ACCOUNT_ID}) failed at step access`);
    expect(n.account).toEqual({ id: ACCOUNT_ID, name: 'Payments', email: 'a@example.com' });
  });

  it('is a new notice for another step or error, the same one on a retry', () => {
    const key = failedNotice(failed()).dedupKey;
    expect(failedNotice(failed()).dedupKey).toBe(key);
    expect(failedNotice(failed({ step: 'baseline-iam' })).dedupKey).not.toBe(key);
    expect(failedNotice(failed({ error: 'other' })).dedupKey).not.toBe(key);
  });
});

describe('creationFailedNotice', () => {
  it('gives the reason and, for a used email address, what to do', () => {
    const n = creationFailedNotice(creation());
    expect(n).toMatchObject({
      kind: 'onboarding',
      dedupKey: `alert#${EVENT_ID}`,
      severity: 'error',
      label: 'FAILED',
      what: 'Account creation',
      headline: 'Creating a new account failed: EMAIL_ALREADY_EXISTS',
      reason: 'EMAIL_ALREADY_EXISTS',
      facts: [
        { label: 'Trigger', value: 'CreateAccountResult', kind: 'text' },
        { label: 'Time', value: '2026-06-03T11:02:31Z', kind: 'text' },
        { label: 'Event id', value: EVENT_ID, kind: 'id' },
      ],
      nextSteps: [expect.stringMatching(/^The email address is already used/)],
      chat: { threadId: `account-creation-${EVENT_ID}`, eventType: 'AccountCreationFailed' },
    });
    expect(n).not.toHaveProperty('account');
    expect(n).not.toHaveProperty('item');
  });

  it('calls a failed Control Tower update an update of the enrolled account, not a creation', () => {
    const n = creationFailedNotice(
      creation({
        trigger: 'UpdateManagedAccount',
        reason: 'AWS Control Tower failed to update a managed account.',
        accountName: 'sandbox-analytics-07',
        accountId: '623904518762',
      }),
    );
    expect(n).toMatchObject({
      what: 'Control Tower account update',
      headline:
        'Updating "sandbox-analytics-07" in Control Tower failed: AWS Control Tower failed to update a managed account.',
      nextSteps: [expect.stringMatching(/update or re-register it/)],
      chat: { eventType: 'AccountUpdateFailed' },
    });
    expect(n.headline).not.toMatch(/Creating/);
    // A retried creation arrives as an update, with no account yet: still a creation.
    const retried = creationFailedNotice(
      creation({ trigger: 'UpdateManagedAccount', reason: 'failed', accountName: 'new-acct' }),
    );
    expect(retried).toMatchObject({
      what: 'Account creation',
      headline: 'Creating "new-acct" failed: failed',
    });
  });

  it('says a closure failed, that the account stays, and how to close it again', () => {
    const n = creationFailedNotice(
      creation({
        trigger: 'CloseAccountResult',
        reason: 'CLOSE_ACCOUNT_QUOTA_EXCEEDED',
        accountId: '623904518762',
      }),
    );
    expect(n).toMatchObject({
      what: 'Account closure',
      headline: 'Closing account 623904518762 failed: CLOSE_ACCOUNT_QUOTA_EXCEEDED',
      nextSteps: [expect.stringMatching(/stays in the organization.*close it again/)],
      chat: { eventType: 'AccountClosureFailed' },
    });
  });

  it('names the account when the event does, and points at Account Factory otherwise', () => {
    const n = creationFailedNotice(
      creation({
        trigger: 'CreateManagedAccount',
        reason: 'AWS Control Tower cannot create the account',
        accountName: 'payments-prod',
        accountId: '623904518762',
        time: undefined,
      }),
    );
    expect(n.headline).toBe(
      'Creating "payments-prod" failed: AWS Control Tower cannot create the account',
    );
    expect(n.item).toBe('"payments-prod"');
    expect(n.account).toEqual({ id: '623904518762' });
    expect(n.facts.map((f) => f.label)).not.toContain('Time');
    expect(n.nextSteps[0]).toMatch(/Account Factory/);
  });

  it('does not show a redacted account name', () => {
    expect(creationFailedNotice(creation({ accountName: '****' })).headline).toBe(
      'Creating a new account failed: EMAIL_ALREADY_EXISTS',
    );
  });
});

describe('PipelineNotifier', () => {
  function notifier(configure: (config: Config) => void = () => {}) {
    const config = exampleConfig();
    configure(config);
    const email = new FakeEmailSender();
    const sns = new FakeTopicPublisher();
    const topics: string[] = [];
    const clock = new FakeClock();
    const org = new FakeDirectory({
      '623904518762': { name: 'payments-prod', email: 'aws-payments-prod@example.com' },
    });
    const n = new PipelineNotifier({
      config,
      topicArn: (topic: string) => {
        topics.push(topic);
        return `arn:aws:sns:us-east-1:111122223333:${topic}`;
      },
      accounts: new CachedAccountContext(org, 60_000, clock),
      ledger: new InMemoryLedger(),
      email,
      sns,
      clock,
      log: { info: jest.fn(), warn: jest.fn() },
    });
    return { n, email, sns, topics, org };
  }

  it('emails the onboarding lists and publishes to the onboarding topics', async () => {
    const { n, email, sns, org } = notifier();
    await n.ready(ready());
    expect(email.sent).toEqual([
      {
        from: 'AWS Backup alerts <backup-alerts@example.com>',
        to: ['platform-team@example.com'],
        replyTo: ['platform-team@example.com'],
        subject: expect.stringMatching(/^\[READY\] .*Payments \(222233334444\)/),
        html: expect.stringContaining('<!DOCTYPE html>'),
        text: expect.stringContaining('is backup-ready'),
        tags: { kind: 'onboarding', severity: 'info', state: 'READY', accountId: ACCOUNT_ID },
      },
    ]);
    expect(sns.published).toEqual([
      {
        topicArn: CHAT_ARN,
        subject: expect.stringMatching(/^\[READY\] .*Payments \(222233334444\)/),
        body: expect.stringContaining('"source":"custom"'),
        attributes: expect.objectContaining({
          kind: 'onboarding',
          state: 'READY',
          accountId: ACCOUNT_ID,
        }),
      },
    ]);
    // The notice knows the account: no lookup.
    expect(org.calls).toEqual([]);
  });

  it('joins several lists into one email without duplicates', async () => {
    const { n, email } = notifier((c) => {
      c.onboarding!.email = ['admins', 'dba'];
      c.notifications.email.recipients.dba = [
        'dba-oncall@example.com',
        'platform-team@example.com',
      ];
    });
    await n.failed(failed());
    expect(email.sent.map((m) => m.to)).toEqual([
      ['platform-team@example.com'],
      ['dba-oncall@example.com'],
    ]);
    expect(email.sent[0]!.tags).toEqual({
      kind: 'onboarding',
      severity: 'error',
      state: 'FAILED',
      accountId: ACCOUNT_ID,
    });
  });

  it('writes to the account email, separately, only when notifyAccountEmail is set', async () => {
    const off = notifier();
    await off.n.ready(ready());
    expect(off.email.sent.map((m) => m.to)).toEqual([['platform-team@example.com']]);

    const on = notifier((c) => {
      c.onboarding!.notifyAccountEmail = true;
    });
    await on.n.ready(ready());
    // Its own message: the account's address never sees the admins' and fails alone.
    expect(on.email.sent.map((m) => m.to)).toEqual([
      ['platform-team@example.com'],
      ['aws-payments@example.com'],
    ]);
    await on.n.failed(failed({ account: { id: ACCOUNT_ID, email: 'aws-payments@example.com' } }));
    expect(on.email.sent.slice(2).map((m) => m.to)).toEqual([
      ['platform-team@example.com'],
      ['aws-payments@example.com'],
    ]);
    // A creation failure without an account has no account email to add.
    await on.n.creationFailed(creation());
    expect(on.email.sent.slice(4).map((m) => m.to)).toEqual([['platform-team@example.com']]);
  });

  it('looks up the email of a failed creation that names its account', async () => {
    const { n, email, org } = notifier((c) => {
      c.onboarding!.notifyAccountEmail = true;
    });
    await n.creationFailed(creation({ accountId: '623904518762' }));
    expect(org.calls).toEqual(['describe:623904518762']);
    expect(email.sent.map((m) => m.to)).toEqual([
      ['platform-team@example.com'],
      ['aws-payments-prod@example.com'],
    ]);
  });

  it('sends each channel once per notice: a retry after a failed channel sends only that one', async () => {
    const { n, email, sns } = notifier();
    sns.failures = 1;
    await expect(n.ready(ready())).rejects.toThrow(/Rate exceeded/);
    expect(email.sent).toHaveLength(1);
    await n.ready(ready());
    expect(email.sent).toHaveLength(1);
    expect(sns.published).toHaveLength(1);
  });

  it('does not add the account email twice', async () => {
    const { n, email } = notifier((c) => {
      c.onboarding!.notifyAccountEmail = true;
    });
    await n.ready(ready({ account: { id: ACCOUNT_ID, email: 'platform-team@example.com' } }));
    expect(email.sent.map((m) => m.to)).toEqual([['platform-team@example.com']]);
  });

  it('sends no email without recipients, and publishes to every configured topic', async () => {
    const { n, email, sns, topics } = notifier((c) => {
      c.notifications.topics.security = TopicSchema.parse({ chat: false });
      c.onboarding!.email = [];
      c.onboarding!.sns = ['chat', 'security'];
    });
    await n.creationFailed(creation());
    expect(email.sent).toEqual([]);
    expect(topics).toEqual(['chat', 'security']);
    expect(sns.published.map((p) => p.topicArn)).toEqual([
      CHAT_ARN,
      'arn:aws:sns:us-east-1:111122223333:security',
    ]);
  });

  it('uses the configuration set and leaves out an empty reply-to', async () => {
    const { n, email } = notifier((c) => {
      c.notifications.email.configurationSet = 'backup-alerts';
      c.notifications.email.replyTo = [];
    });
    await n.ready(ready());
    expect(email.sent[0]).toMatchObject({ configurationSet: 'backup-alerts' });
    expect(email.sent[0]).not.toHaveProperty('replyTo');
  });

  it('is not routed by alert rules: a failure does not reach the dba list', async () => {
    const { n, email } = notifier();
    await n.failed(failed());
    expect(email.sent.flatMap((m) => m.to)).not.toContain('dba-oncall@example.com');
  });
});
