import { BackupClient, paginateListBackupJobSummaries } from '@aws-sdk/client-backup';
import type { JobSummaries, JobSummaryRow } from '../ports';
import { CLIENT_DEFAULTS } from './clients';

/**
 * AWS Backup's job summaries across the organization (needs cross-account monitoring, from the
 * management account or the delegated administrator). One client per region.
 */
export class BackupJobSummaries implements JobSummaries {
  private readonly clients = new Map<string, BackupClient>();

  constructor(
    private readonly make = (region: string) => new BackupClient({ ...CLIENT_DEFAULTS, region }),
  ) {}

  private client(region: string): BackupClient {
    let c = this.clients.get(region);
    if (!c) this.clients.set(region, (c = this.make(region)));
    return c;
  }

  async daily(region: string): Promise<JobSummaryRow[]> {
    const rows: JobSummaryRow[] = [];
    for await (const page of paginateListBackupJobSummaries(
      { client: this.client(region) },
      { AccountId: 'ANY', State: 'ANY', MessageCategory: 'ANY', AggregationPeriod: 'ONE_DAY' },
    )) {
      for (const s of page.BackupJobSummaries ?? []) {
        if (!s.AccountId || !s.State || s.StartTime === undefined || s.EndTime === undefined) {
          continue;
        }
        rows.push({
          region: s.Region ?? region,
          accountId: s.AccountId,
          state: s.State,
          ...(s.ResourceType ? { resourceType: s.ResourceType } : {}),
          ...(s.MessageCategory ? { messageCategory: s.MessageCategory } : {}),
          count: s.Count ?? 0,
          start: s.StartTime,
          end: s.EndTime,
        });
      }
    }
    return rows;
  }
}
