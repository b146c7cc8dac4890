import { compose } from '../../functions/notify-backup-event/compose';
import { decide } from '../../functions/notify-backup-event/decide';
import { enrich } from '../../functions/notify-backup-event/enrich';
import { notifyBackupEvent } from '../../functions/notify-backup-event/notify';
import { route } from '../../functions/notify-backup-event/route';
import { parseConfig, type Config } from '../../functions/shared/config';
import { main } from '../../functions/cli/backupctl';
import { exampleConfig, sample, ROOT } from '../helpers/fixtures';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { stringify } from 'yaml';

/** The "account-owner" recipient list: configured owners, else the account's own address. */

const ACCOUNT = '111122223333';

function ownerConfig(owners: Record<string, string[]> = {}): Config {
  const raw = JSON.parse(JSON.stringify(exampleConfig())) as Config;
  raw.notifications.email.accountOwners = owners;
  raw.notifications.rules = [
    { name: 'errors', match: { severity: ['error'] }, email: ['admins', 'account-owner'], sns: [] },
  ];
  return parseConfig(raw, 'test');
}

const failed = () => sample('backup/backup-job-state-change.failed');
const topicArn = () => 'arn:aws:sns:us-east-1:123456789012:chat';

describe('routing to the account owner', () => {
  it('uses the configured owners of the event’s account', () => {
    const targets = route(
      {
        jobType: 'backup',
        state: 'FAILED',
        severity: 'error',
        accountId: ACCOUNT,
        region: 'us-east-1',
      },
      ownerConfig().notifications.rules!,
      { admins: ['platform-team@example.com'] },
      { [ACCOUNT]: ['payments-team@example.com'] },
    );
    expect(targets).toContainEqual(
      expect.objectContaining({ list: 'account-owner', to: ['payments-team@example.com'] }),
    );
  });

  it('sends to the account’s email in Organizations when no owner is configured', async () => {
    const config = ownerConfig();
    const decision = decide(failed(), config);
    if (decision.flow !== 'notify') throw new Error('expected notify');
    const enriched = await enrich(decision.event, {
      accounts: {
        describeAccount: async (id) => ({ id, name: 'Production', email: 'aws-prod@example.com' }),
      },
    });
    const out = compose(decision, enriched, config, topicArn);
    const owner = out.find((o) => o.channel === 'email' && o.target.list === 'account-owner');
    expect(owner?.message).toMatchObject({ to: ['aws-prod@example.com'] });
  });

  it('sends no second email when the owner is already an admin, and none without an address', async () => {
    const config = ownerConfig();
    const decision = decide(failed(), config);
    if (decision.flow !== 'notify') throw new Error('expected notify');
    const admin = await enrich(decision.event, {
      accounts: { describeAccount: async (id) => ({ id, email: 'platform-team@example.com' }) },
    });
    expect(
      compose(decision, admin, config, topicArn).filter((o) => o.channel === 'email'),
    ).toHaveLength(1);
    const unknown = await enrich(decision.event);
    expect(
      compose(decision, unknown, config, topicArn).filter((o) => o.channel === 'email'),
    ).toHaveLength(1);
  });

  it('logs a warning when the owner has no address, and still delivers the rest', async () => {
    const warnings: string[] = [];
    const sent: string[][] = [];
    await notifyBackupEvent(failed(), {
      config: ownerConfig(),
      topicArn,
      accounts: { describeAccount: async () => Promise.reject(new Error('AccessDenied')) },
      ledger: {
        claim: async () => ({ outcome: 'claimed', token: 't' }),
        markDelivered: async () => undefined,
        release: async () => undefined,
      },
      email: { send: async (m) => (sent.push(m.to), { messageId: 'm' }) },
      sns: { publish: async () => ({ messageId: 'm' }) },
      clock: { now: () => new Date() },
      log: { info: () => undefined, warn: (message) => warnings.push(message) },
    });
    expect(sent).toEqual([['platform-team@example.com']]);
    expect(warnings.some((w) => w.includes('account owner'))).toBe(true);
  });

  it('accepts "account-owner" in rules without a recipients entry, and names a bad owner id', () => {
    expect(() => ownerConfig()).not.toThrow();
    expect(() => ownerConfig({ '12345': ['x@example.com'] })).toThrow(/accountOwners\.12345/);
  });

  it('backupctl plan shows the owner delivery with a placeholder address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owner-'));
    const file = join(dir, 'config.yml');
    writeFileSync(file, stringify(ownerConfig()));
    let stdout = '';
    const code = await main(
      ['plan', join(ROOT, 'events/backup/backup-job-state-change.failed.json'), '--config', file],
      { stdout: (t) => (stdout += t), stderr: () => undefined, readStdin: () => '' },
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout).deliveries).toContainEqual(
      expect.objectContaining({
        channel: 'email',
        to: [`(email of account ${ACCOUNT} in Organizations)`],
      }),
    );
  });
});
