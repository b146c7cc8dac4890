import { classify, DEFAULT_STATE_SEVERITY } from '../../functions/notify-backup-event/classify';
import { JOB_STATES } from '../../functions/shared/config/vocabulary';
import { ClassificationSchema, type Classification } from '../../functions/shared/config/schema';
import { jobEvent } from '../helpers/fakes';

const defaults = (): Classification => ClassificationSchema.parse({});

describe('classify', () => {
  it.each([
    ['FAILED', 'error'],
    ['ABORTED', 'error'],
    ['EXPIRED', 'error'],
    ['PARTIAL', 'warning'],
    ['COMPLETED', 'info'],
  ] as const)('notifies %s as %s by default', (state, severity) => {
    const event = jobEvent('backup/backup-job-state-change.failed', (raw) => {
      raw.detail.state = state;
      delete raw.detail.statusMessage;
    });
    expect(classify(event, defaults())).toEqual({
      outcome: 'notify',
      severity,
      label: state,
      completedWithIssues: false,
    });
  });

  it.each(['CREATED', 'PENDING', 'RUNNING', 'ABORTING'] as const)(
    'ignores %s by default, with a reason naming the state',
    (state) => {
      const event = jobEvent('backup/backup-job-state-change.failed', (raw) => {
        raw.detail.state = state;
      });
      const verdict = classify(event, defaults());
      expect(verdict).toEqual({ outcome: 'ignore', reason: expect.stringContaining(state) });
    },
  );

  it('has a default for every job state', () => {
    expect(Object.keys(DEFAULT_STATE_SEVERITY).sort()).toEqual([...JOB_STATES].sort());
  });

  it('reports COMPLETED with a status message as COMPLETED WITH ISSUES (warning)', () => {
    const event = jobEvent('backup/backup-job-state-change.completed-with-issues');
    expect(classify(event, defaults())).toEqual({
      outcome: 'notify',
      severity: 'warning',
      label: 'COMPLETED WITH ISSUES',
      completedWithIssues: true,
    });
  });

  it.each([
    ['copy', 'copy-job-state-change.completed'],
    ['restore', 'restore-job-state-change.completed'],
  ])(
    'does not call a %s job with a status message "completed with issues" (backup jobs only)',
    (_, name) => {
      const event = jobEvent(`backup/${name}`, (raw) => {
        raw.detail.statusMessage = 'Restore job completed successfully';
      });
      expect(classify(event, defaults())).toEqual({
        outcome: 'notify',
        severity: 'info',
        label: 'COMPLETED',
        completedWithIssues: false,
      });
    },
  );

  it('uses completedWithIssues from the configuration, not the COMPLETED setting', () => {
    const event = jobEvent('backup/backup-job-state-change.completed-with-issues');
    const rules = ClassificationSchema.parse({
      states: { COMPLETED: 'ignore' },
      completedWithIssues: 'error',
    });
    expect(classify(event, rules)).toMatchObject({ outcome: 'notify', severity: 'error' });
    const quiet = ClassificationSchema.parse({ completedWithIssues: 'ignore' });
    expect(classify(event, quiet)).toMatchObject({
      outcome: 'ignore',
      reason: expect.stringContaining('COMPLETED WITH ISSUES'),
    });
  });

  it('lets the configuration override a state', () => {
    const rules = ClassificationSchema.parse({ states: { COMPLETED: 'ignore', RUNNING: 'info' } });
    expect(classify(jobEvent('backup/backup-job-state-change.completed'), rules)).toMatchObject({
      outcome: 'ignore',
    });
    expect(classify(jobEvent('backup/backup-job-state-change.running'), rules)).toMatchObject({
      outcome: 'notify',
      severity: 'info',
      label: 'RUNNING',
    });
  });

  it('classifies the README samples of each job type', () => {
    expect(classify(jobEvent('backup/copy-job-state-change.partial'), defaults())).toMatchObject({
      severity: 'warning',
    });
    expect(classify(jobEvent('backup/restore-job-state-change.aborted'), defaults())).toMatchObject(
      {
        severity: 'error',
      },
    );
  });
});
