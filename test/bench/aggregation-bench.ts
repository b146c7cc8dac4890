/**
 * The aggregation figure (run by `npm run bench` in its own process, against its own moto): 500
 * failures from one cause across 10 accounts within 5 minutes, through the real notification
 * flow with aggregation on (scope organization, 5-minute windows), then the next job of every
 * resource succeeding. Prints one JSON object.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  localClientConfig,
  startLocalAws,
  useLocalAwsEnvironment,
} from '../../tools/sandbox/local-aws';
import { parseConfig } from '../../functions/shared/config/schema';
import { logger } from '../../functions/shared/logger';
import { exampleConfig } from '../helpers/fixtures';
import { createLedgerTable } from '../../tools/sandbox/provision';
import { runStorm } from '../../tools/sandbox/storm';
import { FakeDirectory, FakeEmailSender, FakeTopicPublisher } from '../helpers/fakes';

const FAILURES = Number(process.env.BENCH_STORM_FAILURES ?? 500);
const ACCOUNTS = Number(process.env.BENCH_STORM_ACCOUNTS ?? 10);

/** Accounts 200000000000, 200000000001, ... named Workload 0, 1, ... */
function stormAccounts(n: number) {
  const accounts = Array.from({ length: n }, (_, i) => String(200000000000 + i));
  return {
    accounts,
    directory: new FakeDirectory(
      Object.fromEntries(accounts.map((id, i) => [id, { name: `Workload ${i}` }])),
    ),
    email: new FakeEmailSender(),
    sns: new FakeTopicPublisher(),
    topicArn: (topic: string) => `arn:aws:sns:us-east-1:123456789012:${topic}`,
  };
}

async function main(): Promise<void> {
  logger.setLogLevel('SILENT');
  const aws = await startLocalAws();
  try {
    useLocalAwsEnvironment(aws.endpoint);
    const dynamodb = new DynamoDBClient(localClientConfig(aws.endpoint, 'us-east-1'));
    await createLedgerTable(dynamodb, 'storm');
    const raw = exampleConfig() as unknown as { notifications: Record<string, unknown> };
    raw.notifications.aggregation = { enabled: true, windowMinutes: 5, scope: 'organization' };
    const config = parseConfig(raw, 'bench');
    const t = Date.now();
    const storm = await runStorm({
      dynamodb,
      table: 'storm',
      config,
      failures: FAILURES,
      ...stormAccounts(ACCOUNTS),
      spreadMs: 5 * 60_000,
      recover: true,
    });
    const lists: number[] = Object.values(storm.emailsByList);
    process.stdout.write(
      JSON.stringify({
        aggregation: {
          what: `${FAILURES} failures (same cause, same vault) across ${ACCOUNTS} accounts within 5 minutes, aggregation on (organization scope, 5-minute windows), then the next job of every resource succeeds; real flow, incident store and delivery ledger on moto, simulated time`,
          target: 'at most 3 emails per recipient list and 3 chat messages; every job named',
          holds:
            lists.every((n) => n <= 3) && storm.chatMessages <= 3 && storm.missing.length === 0,
          ...storm,
          wallSeconds: Math.round((Date.now() - t) / 100) / 10,
        },
      }) + '\n',
    );
  } finally {
    await aws.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `aggregation bench failed: ${String(error)}\n${(error as Error)?.stack ?? ''}\n`,
  );
  process.exitCode = 1;
});
