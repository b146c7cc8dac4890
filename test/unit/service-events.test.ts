import { decide, decideContext } from '../../functions/notify-backup-event/decide';
import {
  optedOut,
  scanOutcome,
  windowKeys,
} from '../../functions/notify-backup-event/service-events';
import { parseConfig, type Config } from '../../functions/shared/config/schema';
import { MalformedEventError } from '../../functions/shared/errors';
import { renderEmail } from '../../functions/shared/notices/render-email';
import { exampleConfig, sample } from '../helpers/fixtures';

/** The newer AWS Backup events: malware scans, indexes, opt-outs, baseline vault deletions. */

const config = exampleConfig();
const ctx = decideContext(config);
const decideSample = (name: string, c: Config = config) =>
  decide(sample(name), c, decideContext(c));

function withClassification(classification: Record<string, unknown>): Config {
  const raw = structuredClone(config) as unknown as Record<string, unknown>;
  const notifications = raw.notifications as Record<string, unknown>;
  notifications.classification = classification;
  return parseConfig(raw, 'test');
}

describe('Scan Job State Change', () => {
  it.each([
    ['threats-found', 'error', 'THREATS_FOUND'],
    ['failed', 'warning', 'FAILED'],
    ['completed-with-issues', 'warning', 'COMPLETED_WITH_ISSUES'],
    ['canceled', 'info', 'CANCELED'],
    ['no-threats-found', 'info', 'NO_THREATS_FOUND'],
  ])('%s is %s (outcome %s)', (variant, severity, outcome) => {
    const d = decideSample(`backup/scan-job-state-change.${variant}`);
    expect(d).toMatchObject({ flow: 'notify', notice: { kind: 'scan', severity, state: outcome } });
  });

  it('ignores a running scan', () => {
    expect(decideSample('backup/scan-job-state-change.running')).toMatchObject({
      flow: 'ignore',
      reason: 'scan state RUNNING is not notified',
    });
  });

  it('names the recovery point, resource and vault of THREATS_FOUND, with what to do', () => {
    const d = decideSample('backup/scan-job-state-change.threats-found');
    if (d.flow !== 'notify') throw new Error('expected an alert');
    const n = d.notice;
    expect(n.headline).toBe(
      'Malware found in a recovery point of i-0a1b2c3d4e5f60718 in account 444455556666 (eu-west-1)',
    );
    const facts = Object.fromEntries(n.facts.map((f) => [f.label, f.value]));
    expect(facts).toMatchObject({
      'Recovery point':
        'arn:aws:backup:eu-west-1:444455556666:recovery-point:3f1e2d4c-5b6a-4789-9abc-def012345678',
      Resource: 'arn:aws:ec2:eu-west-1:444455556666:instance/i-0a1b2c3d4e5f60718',
      Vault: 'org-backup-vault',
    });
    // AWS's "scan job was successful completed" is not the reason for an alert about malware.
    expect(n.reason).toMatch(/found threats in this recovery point/);
    expect(n.nextSteps[0]).toMatch(/^Do not restore this recovery point/);
    expect(n.nextSteps.join(' ')).toMatch(/last clean recovery point/);
    const email = renderEmail(n);
    expect(email.subject).toBe(
      '[THREATS FOUND] Malware found in a recovery point of i-0a1b2c3d4e5f60718 in account 444455556666 (eu-west-1)',
    );
  });

  it('decides THREATS_FOUND by the result whatever the state, and a COMPLETED scan without a result is not clean', () => {
    expect(scanOutcome('COMPLETED_WITH_ISSUES', 'THREATS_FOUND')).toBe('THREATS_FOUND');
    expect(scanOutcome('COMPLETED', undefined)).toBe('COMPLETED_WITH_ISSUES');
    expect(scanOutcome('COMPLETED', 'SOMETHING_NEW')).toBe('COMPLETED_WITH_ISSUES');
    expect(scanOutcome('CREATED', undefined)).toBeUndefined();
    const event = sample('backup/scan-job-state-change.no-threats-found');
    delete (event.detail as Record<string, unknown>).scanResult;
    const d = decide(event, config, ctx);
    expect(d).toMatchObject({ flow: 'notify', notice: { severity: 'warning' } });
    if (d.flow === 'notify') expect(d.notice.reason).toMatch(/not known to be clean/);
  });

  it('reads the state with spaces or in lower case', () => {
    const event = sample('backup/scan-job-state-change.completed-with-issues');
    (event.detail as Record<string, unknown>).state = 'completed with issues';
    expect(decide(event, config, ctx)).toMatchObject({
      notice: { state: 'COMPLETED_WITH_ISSUES' },
    });
  });

  it('follows the classification: an outcome can be ignored or raised', () => {
    const quiet = withClassification({
      scans: { NO_THREATS_FOUND: 'ignore', CANCELED: 'warning' },
    });
    expect(decideSample('backup/scan-job-state-change.no-threats-found', quiet)).toMatchObject({
      flow: 'ignore',
      reason: 'scan outcome NO_THREATS_FOUND is not notified (classification)',
    });
    expect(decideSample('backup/scan-job-state-change.canceled', quiet)).toMatchObject({
      notice: { severity: 'warning' },
    });
    // Unset outcomes keep their defaults.
    expect(decideSample('backup/scan-job-state-change.threats-found', quiet)).toMatchObject({
      notice: { severity: 'error' },
    });
  });

  it('one alert per scan job and outcome, whatever the event id', () => {
    const a = decideSample('backup/scan-job-state-change.threats-found');
    const again = sample('backup/scan-job-state-change.threats-found');
    again.id = 'redelivered-with-another-id';
    const b = decide(again, config, ctx);
    if (a.flow !== 'notify' || b.flow !== 'notify') throw new Error('expected alerts');
    expect(a.notice.dedupKey).toBe(b.notice.dedupKey);
  });

  it('rejects a scan event without an account or a detail, naming the field', () => {
    const noAccount = sample('backup/scan-job-state-change.threats-found');
    delete noAccount.account;
    expect(() => decide(noAccount, config, ctx)).toThrow(MalformedEventError);
    expect(() => decide(noAccount, config, ctx)).toThrow(/"account"/);
    const noDetail = sample('backup/scan-job-state-change.threats-found');
    noDetail.detail = 'oops';
    expect(() => decide(noDetail, config, ctx)).toThrow(/"detail"/);
  });

  it('survives hostile field shapes: the alert still goes out', () => {
    const event = sample('backup/scan-job-state-change.threats-found');
    const detail = event.detail as Record<string, unknown>;
    Object.assign(detail, {
      recoveryPointArn: { nested: true },
      resourceArn: 42,
      backupVaultName: ['x'],
      createdBy: 'none',
      creationDate: 'yesterday',
      scanJobId: null,
    });
    const d = decide(event, config, ctx);
    expect(d).toMatchObject({ flow: 'notify', notice: { severity: 'error' } });
    // The recovery point still comes from `resources`.
    if (d.flow === 'notify') {
      expect(d.notice.facts.find((f) => f.label === 'Recovery point')?.value).toMatch(
        /recovery-point:3f1e2d4c/,
      );
    }
  });
});

describe('Recovery Point Index State Change', () => {
  it('warns about a failed index and ignores the others', () => {
    const failed = decideSample('backup/recovery-point-index-state-change.failed');
    expect(failed).toMatchObject({
      flow: 'notify',
      notice: {
        kind: 'index',
        severity: 'warning',
        label: 'FAILED',
        item: 'vol-0f1e2d3c4b5a69788',
      },
    });
    if (failed.flow === 'notify') expect(failed.notice.reason).toMatch(/failed to create/);
    expect(decideSample('backup/recovery-point-index-state-change.active')).toMatchObject({
      flow: 'ignore',
    });
  });

  it('follows indexFailed in the classification', () => {
    const c = withClassification({ indexFailed: 'error' });
    expect(decideSample('backup/recovery-point-index-state-change.failed', c)).toMatchObject({
      notice: { severity: 'error' },
    });
  });
});

describe('Region Setting State Change', () => {
  it('warns when a resource type is turned off and names it', () => {
    const d = decideSample('backup/region-setting-state-change.opt-out');
    expect(d).toMatchObject({
      flow: 'notify',
      notice: { kind: 'region-setting', severity: 'warning', item: 'DynamoDB' },
    });
    if (d.flow === 'notify') {
      expect(d.notice.headline).toBe(
        'AWS Backup is turned off for DynamoDB in account 777788889999 (ap-southeast-2)',
      );
    }
    expect(decideSample('backup/region-setting-state-change.opt-in')).toMatchObject({
      flow: 'ignore',
      reason: 'no resource type is opted out in this change',
    });
  });

  it('reads "false" strings and ignores what is not a preference', () => {
    expect(optedOut({ EFS: 'false', RDS: 'true', S3: false, Bad: 0, '': false })).toEqual([
      'EFS',
      'S3',
    ]);
    expect(optedOut('nope')).toEqual([]);
    expect(optedOut(undefined)).toEqual([]);
  });
});

describe('Backup Vault State Change', () => {
  it('is an error when a baseline vault is deleted, and ignores other vaults and states', () => {
    expect(decideSample('backup/backup-vault-state-change.deleted-baseline')).toMatchObject({
      flow: 'notify',
      notice: { kind: 'vault', severity: 'error', item: 'org-backup-vault' },
    });
    expect(decideSample('backup/backup-vault-state-change.deleted-other')).toMatchObject({
      flow: 'ignore',
      reason: 'vault team-scratch-vault is not a baseline vault',
    });
    expect(decideSample('backup/backup-vault-state-change.modified-locked')).toMatchObject({
      flow: 'ignore',
    });
    expect(decideSample('backup/backup-vault-state-change.created')).toMatchObject({
      flow: 'ignore',
    });
  });

  it("knows a profile's own vault name", () => {
    const raw = structuredClone(config) as unknown as {
      onboarding: { profiles: { baseline: { vaultName?: string } }[] };
    };
    raw.onboarding.profiles[0]!.baseline.vaultName = 'team-scratch-vault';
    const c = parseConfig(raw, 'test');
    expect(decideSample('backup/backup-vault-state-change.deleted-other', c)).toMatchObject({
      flow: 'notify',
    });
  });

  it('keys a fact by its 15-minute window, the windows around it as the same fact', () => {
    expect(windowKeys(['v'], '2026-11-28T00:02:11Z')).toEqual({
      dedupKey: 'v#2026-11-28T00:00',
      sameAs: ['v#2026-11-27T23:45', 'v#2026-11-28T00:15'],
    });
    // Not an ISO time (V8 would read "e-1" as 2001): keyed by what the event has, alone.
    expect(windowKeys(['v'], 'e-1')).toEqual({ dedupKey: 'v#e-1', sameAs: [] });
  });

  it('sends one alert for the vault event and the CloudTrail call of one deletion', () => {
    const fromBackup = decideSample('backup/backup-vault-state-change.deleted-baseline');
    const fromTrail = decideSample('cloudtrail/delete-backup-vault.baseline-vault');
    if (fromBackup.flow !== 'notify' || fromTrail.flow !== 'notify') throw new Error('alerts');
    expect(fromTrail.notice.dedupKey).toBe(fromBackup.notice.dedupKey);
    // The CloudTrail one says who.
    expect(fromTrail.notice.facts.find((f) => f.label === 'Deleted by')?.value).toBe(
      'IAM user deploy-bot of account 777788889999',
    );
  });
});

describe('Restore tests', () => {
  it('labels a failed restore job of a restore testing plan as a restore test, an error', () => {
    const d = decideSample('backup/restore-job-state-change.failed-restore-test');
    expect(d).toMatchObject({
      flow: 'notify',
      notice: { what: 'Restore test', severity: 'error', item: 'vol-0f1e2d3c4b5a69788' },
    });
    if (d.flow === 'notify') {
      expect(d.notice.nextSteps.join(' ')).toMatch(/A restore test failed/);
      expect(renderEmail(d.notice).subject).toMatch(
        /^\[FAILED\] Restore test · vol-0f1e2d3c4b5a69788/,
      );
    }
  });

  it('also reads restoreTestingPlanArn directly under detail', () => {
    const event = sample('backup/restore-job-state-change.failed-restore-test');
    const detail = event.detail as Record<string, unknown>;
    detail.restoreTestingPlanArn = (
      detail.createdBy as Record<string, unknown>
    ).restoreTestingPlanArn;
    delete detail.createdBy;
    expect(decide(event, config, ctx)).toMatchObject({ notice: { what: 'Restore test' } });
  });
});
