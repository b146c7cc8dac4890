import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { main } from '../../tools/backupctl/backupctl';
import { notifyBackupEvent } from '../../functions/notify-backup-event/notify';
import { jobNotice } from '../../functions/notify-backup-event/job-notice';
import { parseConfig, type Config } from '../../functions/shared/config/schema';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import type { AccountRef, Notice } from '../../functions/shared/notices/notice';
import { accountOwners, route, routeFacts } from '../../functions/shared/notices/route';
import { enrichAccount, planNotice, type PipelineDeps } from '../../functions/shared/notices/send';
import {
  FakeClock,
  FakeDirectory,
  FakeEmailSender,
  FakeTopicPublisher,
  InMemoryLedger,
  jobEvent,
} from '../helpers/fakes';
import { exampleConfig, ROOT, sample } from '../helpers/fixtures';

/** The "account-owner" list: configured owners, else the owner tag, else the account's email. */

const ACCOUNT = '111122223333';
const OWNER_TAG = 'backup-owner';
const topicArn = () => 'arn:aws:sns:us-east-1:123456789012:chat';

function ownerConfig(email: Partial<Config['notifications']['email']> = {}): Config {
  const raw = exampleConfig();
  Object.assign(raw.notifications.email, { accountOwners: {} }, email);
  raw.notifications.rules = [
    { name: 'errors', match: { severity: ['error'] }, email: ['admins', 'account-owner'], sns: [] },
  ];
  return parseConfig(raw, 'test');
}

const failed = (account: Partial<AccountRef> = {}): Notice => {
  const n = jobNotice(jobEvent('backup/backup-job-state-change.failed'), 'error', 'FAILED');
  return { ...n, account: { id: ACCOUNT, ...account } };
};

/** Who gets the account-owner email of this notice, after the pipeline's account lookup. */
async function ownerEmail(config: Config, org: FakeDirectory): Promise<string[] | undefined> {
  const notice = await enrichAccount(failed(), {
    config,
    accounts: new CachedAccountContext(org, 60_000, new FakeClock()),
    log: { info: jest.fn(), warn: jest.fn() },
  });
  const owner = planNotice(notice, config, topicArn).outgoing.find(
    (o) => o.channel === 'email' && o.target.list === 'account-owner',
  );
  return owner?.channel === 'email' ? owner.message.to : undefined;
}

const prodDirectory = (tags: Record<string, string> = {}) =>
  new FakeDirectory({
    [ACCOUNT]: { name: 'Production', email: 'aws-prod@example.com', tags },
  });

describe('accountOwners', () => {
  const email = (overrides: Partial<Config['notifications']['email']> = {}) =>
    ownerConfig(overrides).notifications.email;

  it('uses the owners configured for the account first', () => {
    const config = email({
      accountOwners: { [ACCOUNT]: ['payments-team@example.com'] },
      accountOwnerTag: OWNER_TAG,
    });
    expect(
      accountOwners(
        { id: ACCOUNT, email: 'aws-prod@example.com', tags: { [OWNER_TAG]: 'tag@example.com' } },
        config,
      ),
    ).toEqual(['payments-team@example.com']);
  });

  it('then the addresses in the owner tag, split by spaces, commas or semicolons', () => {
    const owners = accountOwners(
      {
        id: ACCOUNT,
        email: 'aws-prod@example.com',
        tags: { [OWNER_TAG]: 'a@example.com, b@example.com;c@example.com  d@example.com' },
      },
      email({ accountOwnerTag: OWNER_TAG }),
    );
    expect(owners).toEqual(['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com']);
  });

  it('leaves out what is not an address in the tag, and falls back to the account email', () => {
    const config = email({ accountOwnerTag: OWNER_TAG });
    expect(
      accountOwners(
        { id: ACCOUNT, email: 'aws-prod@example.com', tags: { [OWNER_TAG]: 'payments team, a@b' } },
        config,
      ),
    ).toEqual(['aws-prod@example.com']);
    expect(
      accountOwners(
        { id: ACCOUNT, email: 'aws-prod@example.com', tags: { [OWNER_TAG]: 'x a@example.com' } },
        config,
      ),
    ).toEqual(['a@example.com']);
  });

  it('ignores the tag when no owner tag is configured', () => {
    expect(
      accountOwners(
        { id: ACCOUNT, email: 'aws-prod@example.com', tags: { [OWNER_TAG]: 'a@example.com' } },
        email(),
      ),
    ).toEqual(['aws-prod@example.com']);
  });

  it('has no one without an account or any address', () => {
    expect(accountOwners(undefined, email())).toEqual([]);
    expect(accountOwners({ id: ACCOUNT }, email({ accountOwnerTag: OWNER_TAG }))).toEqual([]);
  });
});

describe('routing to the account owner', () => {
  it('uses the configured owners of the notice account', () => {
    const config = ownerConfig({ accountOwners: { [ACCOUNT]: ['payments-team@example.com'] } });
    const notice = failed();
    const targets = route(
      routeFacts(notice),
      config.notifications.rules!,
      config.notifications.email,
      notice.account,
    );
    expect(targets).toContainEqual(
      expect.objectContaining({ list: 'account-owner', to: ['payments-team@example.com'] }),
    );
  });

  it('sends to the account email in Organizations when no owner is configured', async () => {
    await expect(ownerEmail(ownerConfig(), prodDirectory())).resolves.toEqual([
      'aws-prod@example.com',
    ]);
  });

  it('reads the owner tag from Organizations when an owner tag is configured', async () => {
    const org = prodDirectory({ [OWNER_TAG]: 'payments-team@example.com' });
    await expect(ownerEmail(ownerConfig({ accountOwnerTag: OWNER_TAG }), org)).resolves.toEqual([
      'payments-team@example.com',
    ]);
    expect(org.calls).toEqual([`describe:${ACCOUNT}`, `tags:${ACCOUNT}`]);
  });

  it('does not read tags when no owner tag is configured', async () => {
    const org = prodDirectory({ [OWNER_TAG]: 'payments-team@example.com' });
    await ownerEmail(ownerConfig(), org);
    expect(org.calls).toEqual([`describe:${ACCOUNT}`]);
  });

  it('sends no second email when the owner is already an admin, and none without an address', () => {
    const config = ownerConfig();
    const admin = planNotice(failed({ email: 'Platform-Team@example.com' }), config, topicArn);
    expect(admin.outgoing.filter((o) => o.channel === 'email')).toHaveLength(1);
    const unknown = planNotice(failed(), config, topicArn);
    expect(unknown.outgoing.filter((o) => o.channel === 'email')).toHaveLength(1);
  });

  // BUG (route.ts route(): `listed.filter(...)` checks `addressed` before any address of the same
  // list is added), so one list naming an address twice sends it two copies.
  it('names an address listed twice in the owner tag only once', () => {
    const config = ownerConfig({ accountOwnerTag: OWNER_TAG });
    const { targets } = planNotice(
      failed({ tags: { [OWNER_TAG]: 'owner@example.com, Owner@example.com' } }),
      config,
      topicArn,
    );
    const owner = targets.find((t) => t.channel === 'email' && t.list === 'account-owner');
    expect(owner).toMatchObject({ to: ['owner@example.com'] });
  });

  it('still sends to the admins, and warns, when the account cannot be looked up', async () => {
    const warn = jest.fn();
    const org = new FakeDirectory();
    org.failWith = new Error('AccessDenied');
    const email = new FakeEmailSender();
    const deps: PipelineDeps = {
      config: ownerConfig(),
      topicArn,
      accounts: new CachedAccountContext(org, 60_000, new FakeClock()),
      ledger: new InMemoryLedger(),
      email,
      sns: new FakeTopicPublisher(),
      clock: new FakeClock(),
      log: { info: jest.fn(), warn },
    };
    await notifyBackupEvent(sample('backup/backup-job-state-change.failed'), deps);
    expect(email.sent.map((m) => m.to)).toEqual([['platform-team@example.com']]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('account lookup failed'),
      expect.objectContaining({ accountId: ACCOUNT, error: 'AccessDenied' }),
    );
  });
});

describe('configuration', () => {
  it('accepts "account-owner" in rules without a recipients entry, and names a bad owner id', () => {
    expect(() => ownerConfig()).not.toThrow();
    expect(() => ownerConfig({ accountOwners: { '12345': ['x@example.com'] } })).toThrow(
      /accountOwners\.12345/,
    );
  });

  it('takes an owner tag key', () => {
    expect(ownerConfig({ accountOwnerTag: OWNER_TAG }).notifications.email.accountOwnerTag).toBe(
      OWNER_TAG,
    );
    expect(() => ownerConfig({ accountOwnerTag: '' })).toThrow(/accountOwnerTag/);
  });
});

describe('backupctl plan', () => {
  it('shows the owner delivery with a placeholder address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owner-'));
    const file = join(dir, 'config.yml');
    writeFileSync(file, stringify(ownerConfig()));
    let stdout = '';
    const code = await main(
      ['plan', join(ROOT, 'events/backup/backup-job-state-change.failed.json'), '--config', file],
      { stdout: (t) => (stdout += t), stderr: () => undefined, readStdin: () => '' },
    );
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { deliveries: unknown[] }).deliveries).toContainEqual(
      expect.objectContaining({
        channel: 'email',
        to: [`(email of account ${ACCOUNT} in Organizations)`],
      }),
    );
  });
});
