/** The values backup policies hold, and the limits AWS Backup enforces on them. */

/** Recovery points moved to cold storage stay there at least 90 days. */
export const COLD_STORAGE_MINIMUM_DAYS = 90;
/** Point-in-time (continuous) backups are kept at most 35 days. */
export const CONTINUOUS_MAX_DAYS = 35;
/** What AWS Backup uses when a rule gives no schedule_expression_timezone. */
export const DEFAULT_TIMEZONE = 'UTC';

// ---------------------------------------------------------------------------------------------
// Values and rules the service enforces
// ---------------------------------------------------------------------------------------------

/** Policies write numbers as strings ("35") in AWS's examples; both forms are accepted. */
export function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

export function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
}

export function coldStorageProblem(deleteAfter?: number, coldAfter?: number): string | undefined {
  if (deleteAfter === undefined || coldAfter === undefined) return undefined;
  if (deleteAfter >= coldAfter + COLD_STORAGE_MINIMUM_DAYS) return undefined;
  return `must be at least ${COLD_STORAGE_MINIMUM_DAYS} days more than move_to_cold_storage_after_days (${coldAfter}), so at least ${coldAfter + COLD_STORAGE_MINIMUM_DAYS}: recovery points stay in cold storage ${COLD_STORAGE_MINIMUM_DAYS} days or more; got ${deleteAfter}`;
}

export function continuousProblem(continuous?: boolean, deleteAfter?: number): string | undefined {
  if (!continuous || deleteAfter === undefined || deleteAfter <= CONTINUOUS_MAX_DAYS) {
    return undefined;
  }
  return `must be at most ${CONTINUOUS_MAX_DAYS} with enable_continuous_backup (point-in-time recovery keeps at most ${CONTINUOUS_MAX_DAYS} days); got ${deleteAfter}`;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
