import { ControlPlaneSideError, errorMessage } from '../shared/errors';
import { sendNotice, type PipelineDeps } from '../shared/notices/send';
import type { CheckLedger, CheckRecord, OrganizationReader } from '../shared/ports';
import type { CheckContext } from './check';
import { accountCoverage, type Judged } from './coverage';
import { recoverLostEvents } from './lost-events';
import { coverageNotice } from './notices';

/**
 * The checks that run once the account can be read: coverage of tagged resources (with one
 * alert per resource and incident) and lost job events (sent late, once).
 */

export interface ExtraCheckDeps {
  org: Pick<OrganizationReader, 'effectiveBackupPolicy'>;
  checks: CheckLedger;
  pipeline: PipelineDeps;
  now: () => Date;
  /** Alert on new coverage gaps (the deployed check); backupctl only reports. */
  alert: boolean;
  /** Send lost events (the deployed check); backupctl only reports. */
  recover: boolean;
  /** Every coverage row, for backupctl coverage. */
  onCoverage?: (rows: Judged[]) => void;
}

/** The drift that stops backups in a region: what coverage names as the likely cause. */
function blockers(ctx: CheckContext): Map<string, string[]> {
  const byRegion = new Map<string, string[]>();
  for (const f of ctx.findings) {
    if (!/vault .* is missing|backup-service is missing|backup-service|KMS key/.test(f.what))
      continue;
    const regions = f.region ? [f.region] : ['*'];
    for (const r of regions) byRegion.set(r, [...(byRegion.get(r) ?? []), f.what]);
  }
  return byRegion;
}

export function extraChecks(deps: ExtraCheckDeps) {
  return async (ctx: CheckContext): Promise<Partial<CheckRecord>> => {
    const config = deps.pipeline.config;
    const profile = config.onboarding?.profiles.find((p) => p.name === ctx.profileName);
    const regions = profile?.regions ?? [];
    const now = deps.now();
    const found = blockers(ctx);
    const everywhere = found.get('*') ?? [];
    const byRegion = new Map(regions.map((r) => [r, [...everywhere, ...(found.get(r) ?? [])]]));
    const watching = config.watching;
    const coverage = await accountCoverage(ctx.member, regions, byRegion, {
      effectivePolicy: (id) => deps.org.effectiveBackupPolicy(id),
      firstSeen: (id, arns, at) => deps.checks.firstSeen(id, arns, at),
      now,
      graceMs: watching.coverageGraceHours * 3600_000,
    });
    deps.onCoverage?.(coverage.rows);
    if (deps.alert) await alertNewGaps(ctx, coverage.rows, coverage.summary, deps);
    let lostEvents: CheckRecord['lostEvents'];
    if (deps.recover) {
      lostEvents = await recoverLostEvents(ctx.member, regions, {
        pipeline: deps.pipeline,
        now,
        lookbackMs: watching.lostEvents.lookbackHours * 3600_000,
        settleMs: watching.lostEvents.settleMinutes * 60_000,
      });
    }
    return { coverage: coverage.summary, ...(lostEvents ? { lostEvents } : {}) };
  };
}

async function alertNewGaps(
  ctx: CheckContext,
  rows: Judged[],
  totals: { resources: number; protected: number },
  deps: ExtraCheckDeps,
): Promise<void> {
  const missed = rows.filter((r) => r.status !== 'protected');
  if (!missed.length) return;
  const key = (r: Judged) => `coverage#${r.resourceArn}#${r.incident}`;
  const fresh = new Set(
    await deps.checks.unreported(ctx.accountId, missed.map(key)).catch((error: unknown) => {
      throw new ControlPlaneSideError(`reading reported incidents: ${errorMessage(error)}`, {
        cause: error,
      });
    }),
  );
  const rowsToTell = missed.filter((r) => fresh.has(key(r)));
  if (!rowsToTell.length) return;
  try {
    await sendNotice(
      coverageNotice({ accountId: ctx.accountId, day: ctx.day, rows: rowsToTell, totals }),
      deps.pipeline,
    );
  } catch (error) {
    throw new ControlPlaneSideError(`coverage alert for ${ctx.accountId}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  await deps.checks.markReported(ctx.accountId, [...fresh], deps.now()).catch((error: unknown) => {
    throw new ControlPlaneSideError(`recording the coverage alert: ${errorMessage(error)}`, {
      cause: error,
    });
  });
}
