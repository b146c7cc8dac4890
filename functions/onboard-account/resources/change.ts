/**
 * How a baseline resource module reports a difference and repairs it: `act` records the change
 * and its finding, and applies it unless the run is a dry run (the daily drift check).
 */

/** What differed from the baseline, for the drift check and the tamper alert. */
export interface Finding {
  what: string;
  resource: string;
  region?: string;
}

export type Act = (
  changes: string[],
  what: string,
  apply: () => Promise<unknown>,
  finding: Finding,
) => Promise<void>;
