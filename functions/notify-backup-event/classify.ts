import type { JobState, Severity } from '../shared/config/vocabulary';
import type { Classification } from '../shared/config/schema';
import type { JobEvent } from './schema';

export type Verdict =
  | { outcome: 'notify'; severity: Severity; label: string; completedWithIssues: boolean }
  | { outcome: 'ignore'; reason: string };

/** What each state means when the configuration does not say otherwise. */
export const DEFAULT_STATE_SEVERITY: Readonly<Record<JobState, Severity | 'ignore'>> = {
  FAILED: 'error',
  ABORTED: 'error',
  EXPIRED: 'error',
  PARTIAL: 'warning',
  COMPLETED: 'info',
  CREATED: 'ignore',
  PENDING: 'ignore',
  RUNNING: 'ignore',
  ABORTING: 'ignore',
};

/**
 * "Completed with issues" is not a state: AWS Backup reports a backup job COMPLETED with a
 * non-empty statusMessage, and its documentation says to watch for exactly that, for backup jobs
 * only (a copy or restore job's "completed successfully" message is no issue).
 */
export function classify(event: JobEvent, rules: Classification): Verdict {
  const completedWithIssues =
    event.jobType === 'backup' && event.state === 'COMPLETED' && Boolean(event.statusMessage);
  const outcome = completedWithIssues
    ? rules.completedWithIssues
    : (rules.states[event.state] ?? DEFAULT_STATE_SEVERITY[event.state]);
  const label = completedWithIssues ? 'COMPLETED WITH ISSUES' : event.state;
  if (outcome === 'ignore') {
    return { outcome: 'ignore', reason: `state ${label} is not notified (classification)` };
  }
  return { outcome: 'notify', severity: outcome, label, completedWithIssues };
}
