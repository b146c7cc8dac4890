import { classify } from '../notify-backup-event/classify';
import { jobNotice } from '../notify-backup-event/job-notice';
import { JOB_DETAIL_TYPES, type JobEvent } from '../notify-backup-event/schema';
import { JOB_STATES, type JobState, type JobType } from '../shared/config/vocabulary';
import { ControlPlaneSideError, errorMessage } from '../shared/errors';
import { TAKEN_IN_CHANNEL } from '../shared/notices/deliver';
import { enrichAccount, planNotice, sendNotice, type PipelineDeps } from '../shared/notices/send';
import type { JobHistoryEntry, MemberAccount } from '../shared/ports';

/**
 * Lost events: AWS delivers job state changes best effort. The jobs AWS Backup ran in the last
 * day are compared with what the notification flow delivered; a job that would have notified
 * and was not is sent now, marked as recovered from the job history. It goes through the same
 * pipeline with the same delivery key as its event, so it is sent once, never twice: not on a
 * later run, and not if the event arrives after all.
 */

export const DEFAULT_LOOKBACK_MS = 26 * 3600 * 1000;
/** Events can take minutes to arrive: a job younger than this is not yet "lost". */
export const DEFAULT_SETTLE_MS = 60 * 60 * 1000;
const JOB_TYPES: readonly JobType[] = ['backup', 'copy', 'restore'];
const DETAIL_TYPE_OF = Object.fromEntries(
  Object.entries(JOB_DETAIL_TYPES).map(([detailType, jobType]) => [jobType, detailType]),
) as Record<JobType, string>;

/** The event AWS would have sent for a job of the history. */
export function eventFromHistory(
  job: JobHistoryEntry,
  accountId: string,
  region: string,
): JobEvent | undefined {
  const state = job.state.toUpperCase();
  if (!(JOB_STATES as readonly string[]).includes(state)) return undefined;
  const event: JobEvent = {
    eventId: `history-${job.jobType}-${job.jobId}-${state}`,
    detailType: DETAIL_TYPE_OF[job.jobType],
    jobType: job.jobType,
    jobId: job.jobId,
    state: state as JobState,
    accountId: job.accountId ?? accountId,
    region,
  };
  const optional: (keyof JobHistoryEntry & keyof JobEvent)[] = [
    'statusMessage',
    'messageCategory',
    'resourceArn',
    'resourceName',
    'resourceType',
    'backupVaultName',
    'backupVaultArn',
    'sourceBackupVaultArn',
    'destinationBackupVaultArn',
    'recoveryPointArn',
    'createdResourceArn',
    'backupPlanId',
    'backupPlanArn',
    'backupRuleId',
    'restoreTestingPlanArn',
    'iamRoleArn',
    'sizeBytes',
    'creationDate',
    'completionDate',
  ];
  for (const key of optional) {
    if (job[key] !== undefined) (event as unknown as Record<string, unknown>)[key] = job[key];
  }
  return event;
}

export interface LostEventsDeps {
  pipeline: PipelineDeps;
  now: Date;
  lookbackMs?: number;
  settleMs?: number;
}

export interface LostEventsResult {
  jobsChecked: number;
  recovered: number;
}

export async function recoverLostEvents(
  member: MemberAccount,
  regions: readonly string[],
  deps: LostEventsDeps,
): Promise<LostEventsResult> {
  const { pipeline } = deps;
  const since = new Date(deps.now.getTime() - (deps.lookbackMs ?? DEFAULT_LOOKBACK_MS));
  const settled = deps.now.getTime() - (deps.settleMs ?? DEFAULT_SETTLE_MS);
  let jobsChecked = 0;
  let recovered = 0;
  for (const region of regions) {
    for (const jobType of JOB_TYPES) {
      const jobs = await member.backup(region).jobs(jobType, since);
      const candidates = [];
      for (const job of jobs) {
        const at = job.completionDate ?? job.creationDate;
        if (!at || at.getTime() > settled) continue;
        const event = eventFromHistory(job, member.accountId, region);
        if (!event) continue;
        jobsChecked += 1;
        const verdict = classify(event, pipeline.config.notifications.classification);
        if (verdict.outcome === 'ignore') continue;
        const notice = await enrichAccount(
          jobNotice(event, verdict.severity, verdict.label, { recovered: true }),
          pipeline,
        );
        const { targets } = planNotice(notice, pipeline.config, pipeline.topicArn);
        if (targets.length) candidates.push({ notice, targets });
      }
      if (!candidates.length) continue;
      // One read for all: which channels each job already reached through its event.
      const delivered = await pipeline.ledger
        .delivered(
          candidates.flatMap((c) => [
            ...c.targets.map((t) => ({ eventKey: c.notice.dedupKey, channelKey: t.key })),
            // Folded into an incident or a flood window: told through the summary.
            { eventKey: c.notice.dedupKey, channelKey: TAKEN_IN_CHANNEL },
          ]),
        )
        .catch((error: unknown) => {
          throw new ControlPlaneSideError(`delivery ledger: ${errorMessage(error)}`, {
            cause: error,
          });
        });
      for (const c of candidates) {
        if (delivered.has(`${c.notice.dedupKey}|${TAKEN_IN_CHANNEL}`)) continue;
        const missing = c.targets.filter((t) => !delivered.has(`${c.notice.dedupKey}|${t.key}`));
        if (!missing.length) continue;
        try {
          const sent = await sendNotice(c.notice, pipeline);
          if (sent.deliveries.some((d) => d.status === 'sent')) recovered += 1;
        } catch (error) {
          // One job that cannot be sent now is retried with the record; say which.
          throw new ControlPlaneSideError(
            `recovering job ${c.notice.chat.context.jobId ?? '?'} in ${region}: ${errorMessage(error)}`,
            { cause: error },
          );
        }
      }
    }
  }
  return { jobsChecked, recovered };
}
