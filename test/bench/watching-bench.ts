/**
 * Watching figures against moto (run by `npm run bench` in its own process, as the onboarding
 * bench): the daily check's AWS calls per account (drift through the read-only dry run of
 * onboarding, coverage of tagged resources, lost job events) for a 1-region and a 3-region
 * profile, the daily digest of N accounts, and an extrapolation to 10,000 accounts.
 *
 * Calls are counted twice: as the requests moto logs (the total; the log has only method and
 * path, so only AWS Backup's REST paths can be told apart there) and per service and operation
 * from the SDK's own requests (aws-calls.ts: SigV4 scope, X-Amz-Target, Action=). Both counts
 * cover the same window and are printed side by side.
 *
 * Accounts checked: onboarded for real, each with two DynamoDB tables carrying its backup
 * policy's selection tag and three backup jobs in its history (two COMPLETED, one FAILED, two
 * hours old, their events delivered through the notification flow first), i.e. a quiet day: no
 * drift, nothing to alert, nothing lost. The digest's other accounts are written straight into
 * the ledger (ready onboarding record, today's verified check) and get their jobs through the
 * launcher's /_sandbox/backup/jobs (no event), instead of being onboarded for real.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateAccountCommand } from '@aws-sdk/client-organizations';
import { startLocalAws, useLocalAwsEnvironment } from '../../tools/sandbox/local-aws';
import { memberClients } from '../../tools/sandbox/provision';
import {
  addOnboarding,
  buildWorld,
  drainNotifications,
  newMemberAccount,
  type OnboardingWorld,
} from '../../tools/sandbox/world';
import { loadBaseline } from '../../functions/onboard-account/baseline';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import { onboardAccount } from '../../functions/onboard-account/onboard';
import { buildSweepDeps } from '../../functions/reconcile/handler';
import { sweep } from '../../functions/reconcile/sweep';
import { buildDigestDeps } from '../../functions/send-digest/handler';
import { digestPeriod, sendDigest } from '../../functions/send-digest/send-digest';
import { BackupJobSummaries } from '../../functions/shared/adapters/backup-job-summaries';
import { dynamodbClient } from '../../functions/shared/adapters/clients';
import { DynamoDbCheckLedger } from '../../functions/shared/adapters/dynamodb-check-ledger';
import { DynamoDbOnboardingLedger } from '../../functions/shared/adapters/dynamodb-onboarding-ledger';
import { OrganizationsAdmin } from '../../functions/shared/adapters/organizations-admin';
import type { Config } from '../../functions/shared/config/schema';
import { readConfigFile } from '../../tools/config-file';
import { logger } from '../../functions/shared/logger';
import type { CheckRecord } from '../../functions/shared/ports';
import { buildWatchDeps } from '../../functions/watch-account/handler';
import { checkAccount } from '../../functions/watch-account/check';
import { callMark, callsSince, installCallRecorder } from './aws-calls';

installCallRecorder();

const ROOT = join(__dirname, '..', '..');
const WATCH_ACCOUNTS = Number(process.env.BENCH_WATCH_ACCOUNTS ?? 3);
const DIGEST_ACCOUNTS = Number(process.env.BENCH_DIGEST_ACCOUNTS ?? 200);
const DIGEST_JOBS = Number(process.env.BENCH_DIGEST_JOBS_PER_ACCOUNT ?? 3);
const TARGET_ACCOUNTS = 10_000;
const WATCH_CONCURRENCY = 5; // serverless.yml: watchAccount's maximumConcurrency
/** Assumed (not measured) latency of one AWS API call from Lambda, for the wall-clock bound. */
const ASSUMED_CALL_MS = Number(process.env.BENCH_ASSUMED_CALL_MS ?? 50);
const THREE_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function requests(logFile: string): number {
  return (readFileSync(logFile, 'utf8').match(/"[A-Z]+ \S+ HTTP\/1\.1" \d{3}/g) ?? []).length;
}

/** The requests moto logged since a line count, grouped the only way the log allows. */
function loggedSince(
  logFile: string,
  from: number,
): { total: number; byPath: Record<string, number> } {
  const lines = readFileSync(logFile, 'utf8').match(/"[A-Z]+ \S+ HTTP\/1\.1" \d{3}/g) ?? [];
  const byPath: Record<string, number> = {};
  for (const l of lines.slice(from)) {
    const [method, path] = l.slice(1).split(' ');
    const key = `${method} ${path!.split('?')[0]!.replace(/\/backup-vaults\/[^/]+/, '/backup-vaults/{name}')}`;
    byPath[key] = (byPath[key] ?? 0) + 1;
  }
  return { total: lines.length - from, byPath };
}

/** The example configuration with the production profile in three regions. */
function benchConfig(): Config {
  const config = readConfigFile(join(ROOT, 'infra', 'config', 'example.yml'));
  const onboarding = config.onboarding!;
  onboarding.profiles = onboarding.profiles.map((p) =>
    p.name === 'production' ? { ...p, regions: THREE_REGIONS } : p,
  );
  return config;
}

interface Kind {
  profile: string;
  ou: string;
  /** The tag its backup policy selects on. */
  tag: { Key: string; Value: string };
  /** Where its two tables are: the regions its effective backup policy covers. */
  tableRegions: string[];
}

const KINDS: Kind[] = [
  {
    profile: 'default',
    ou: 'Workloads',
    tag: { Key: 'backup-plan', Value: 'daily' },
    tableRegions: ['us-east-1', 'us-east-1'],
  },
  {
    profile: 'production',
    ou: 'Workloads/Production',
    tag: { Key: 'Backup', Value: 'Production' },
    tableRegions: ['us-east-1', 'eu-west-1'],
  },
];

async function sandboxPost(endpoint: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${endpoint}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

/** Two tagged tables and three jobs two hours old (two COMPLETED, one FAILED), events emitted. */
async function seedAccount(world: OnboardingWorld, id: string, kind: Kind): Promise<void> {
  const at = Math.floor(Date.now() / 1000) - 2 * 3600;
  for (const [i, region] of kind.tableRegions.entries()) {
    const m = await memberClients(world.c, world.aws.endpoint, id, region);
    const table = `orders-${i}`;
    await m.dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        Tags: [kind.tag],
      }),
    );
    const arn = `arn:aws:dynamodb:${region}:${id}:table/${table}`;
    const jobs = i === 0 ? ['FAILED', 'COMPLETED'] : ['COMPLETED'];
    for (const [j, state] of jobs.entries()) {
      await sandboxPost(world.aws.endpoint, '/_sandbox/backup/jobs', {
        accountId: id,
        region,
        jobType: 'backup',
        state,
        resourceArn: arn,
        resourceType: 'DynamoDB',
        backupVaultName: 'org-backup-vault',
        ...(state === 'FAILED'
          ? { statusMessage: 'Insufficient privileges', messageCategory: 'AccessDenied' }
          : {}),
        creationDate: at - 1200 + j * 600,
        completionDate: at - 900 + j * 600,
        emit: true,
      });
    }
  }
}

interface Measured {
  calls: number;
  loggedCalls: number;
  ms: number;
  byService: Record<string, number>;
  byOperation: Record<string, number>;
  record: CheckRecord;
  /** What moto's log alone can tell: method and path. */
  logByPath: Record<string, number>;
}

function medianBreakdown(samples: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(samples.flatMap((s) => Object.keys(s)))].sort();
  return Object.fromEntries(keys.map((k) => [k, median(samples.map((s) => s[k] ?? 0))]));
}

function summarise(kind: Kind, regions: number, samples: Measured[]) {
  return {
    profile: `${kind.profile} (${regions} region${regions > 1 ? 's' : ''})`,
    accountsMeasured: samples.length,
    awsCallsMedian: median(samples.map((s) => s.calls)),
    awsCallsMotoLogMedian: median(samples.map((s) => s.loggedCalls)),
    awsCallsEach: samples.map((s) => s.calls),
    msOnMotoMedian: median(samples.map((s) => s.ms)),
    byServiceMedian: medianBreakdown(samples.map((s) => s.byService)),
    byOperationMedian: medianBreakdown(samples.map((s) => s.byOperation)),
    motoLogByPathMedian: medianBreakdown(samples.map((s) => s.logByPath)),
    outcome: samples.map((s) => ({
      status: s.record.status,
      resources: s.record.coverage?.resources,
      protected: s.record.coverage?.protected,
      jobsChecked: s.record.lostEvents?.jobsChecked,
      recovered: s.record.lostEvents?.recovered,
    }))[0],
  };
}

async function main(): Promise<void> {
  logger.setLogLevel('SILENT');
  const aws = await startLocalAws();
  try {
    useLocalAwsEnvironment(aws.endpoint);
    const config = benchConfig();
    const world = await addOnboarding(await buildWorld(aws, config, 'bench'));
    const onboardDeps = buildOnboardingDeps(world.env);

    // Accounts for the daily check: one more of the first kind, to warm the container up.
    const accounts = new Map<Kind, string[]>();
    let n = 0;
    for (const [k, kind] of KINDS.entries()) {
      const ids: string[] = [];
      for (let i = 0; i < WATCH_ACCOUNTS + (k === 0 ? 1 : 0); i++, n++) {
        const id = await newMemberAccount(world, {
          name: `Watch${n}`,
          email: `aws-watch-${n}@example.com`,
          ou: kind.ou,
        });
        const r = await onboardAccount(
          { accountId: id, trigger: 'Manual' },
          { ...onboardDeps, owner: `bench-${n}` },
        );
        if (r.outcome !== 'ready' || r.record.profile !== kind.profile) {
          throw new Error(
            `bench account ${id}: ${r.outcome}, profile ${r.outcome === 'ready' ? r.record.profile : '?'}`,
          );
        }
        await seedAccount(world, id, kind);
        ids.push(id);
      }
      accounts.set(kind, ids);
    }
    // The jobs' events go through the notification flow: the check finds them delivered.
    const drained = await drainNotifications(world);

    const watchDeps = buildWatchDeps(world.env);
    const day = new Date().toISOString().slice(0, 10);
    const measure = async (accountId: string): Promise<Measured> => {
      const logged = requests(aws.logFile);
      const mark = callMark();
      const t = Date.now();
      const record = await checkAccount({ accountId, day }, watchDeps);
      const ms = Date.now() - t;
      const sdk = callsSince(mark);
      const log = loggedSince(aws.logFile, logged);
      return {
        calls: sdk.total,
        loggedCalls: log.total,
        logByPath: log.byPath,
        ms,
        byService: sdk.byService,
        byOperation: sdk.byOperation,
        record,
      };
    };
    const [warmUp, ...oneRegion] = accounts.get(KINDS[0]!)!;
    const first = await measure(warmUp!);
    const samples1: Measured[] = [];
    for (const id of oneRegion) samples1.push(await measure(id));
    const samples3: Measured[] = [];
    for (const id of accounts.get(KINDS[1]!)!) samples3.push(await measure(id));
    for (const s of [first, ...samples1, ...samples3]) {
      if (s.record.status !== 'verified' || s.calls !== s.loggedCalls) {
        process.stderr.write(
          `watching bench: check of ${s.record.accountId} is ${s.record.status}` +
            ` (${s.record.reason ?? s.record.findings.map((f) => f.what).join('; ')});` +
            ` SDK ${s.calls} vs moto log ${s.loggedCalls} requests\n`,
        );
      }
    }

    // The digest: accounts up to DIGEST_ACCOUNTS members, the others written into the ledger.
    const org = new OrganizationsAdmin(world.c.organizations);
    const existing = world.org.accounts.length;
    for (let i = existing; i < DIGEST_ACCOUNTS; i++) {
      await world.c.organizations.send(
        new CreateAccountCommand({
          AccountName: `Digest${i}`,
          Email: `aws-digest-${i}@example.com`,
        }),
      );
    }
    const members: string[] = [];
    for await (const a of org.listAccounts()) {
      if (a.id !== world.org.managementAccountId) members.push(a.id);
    }
    const checked = new Set([...accounts.values()].flat());
    const table = world.env.DELIVERY_TABLE_NAME!;
    const ledger = new DynamoDbOnboardingLedger(dynamodbClient(), table);
    const checks = new DynamoDbCheckLedger(dynamodbClient(), table);
    const now = new Date();
    const version = loadBaseline().version;
    const at = Math.floor(now.getTime() / 1000) - 3 * 3600;
    const written = members.filter((id) => !checked.has(id));
    for (const [i, id] of written.entries()) {
      await ledger.save({
        accountId: id,
        status: 'ready',
        baselineVersion: version,
        profile: 'default',
        steps: {},
        attempts: 1,
        lastTrigger: 'Reconcile',
        updatedAt: now.toISOString(),
        attachedPolicies: ['daily-35-days'],
      });
      await checks.saveCheck({
        accountId: id,
        day,
        checkedAt: now.toISOString(),
        status: 'verified',
        profile: 'default',
        findings: [],
        coverage: {
          resources: 2,
          protected: 2,
          late: 0,
          never: 0,
          notOptedIn: 0,
          missed: [],
          notes: [],
        },
        lostEvents: { jobsChecked: DIGEST_JOBS, recovered: 0 },
      });
      const jobs = Array.from({ length: DIGEST_JOBS }, (_, j) =>
        sandboxPost(aws.endpoint, '/_sandbox/backup/jobs', {
          accountId: id,
          region: 'us-east-1',
          jobType: 'backup',
          // One account in ten has a failed job.
          state: j === 0 && i % 10 === 0 ? 'FAILED' : 'COMPLETED',
          ...(j === 0 && i % 10 === 0 ? { messageCategory: 'AccessDenied' } : {}),
          resourceArn: `arn:aws:dynamodb:us-east-1:${id}:table/orders-${j % 2}`,
          resourceType: 'DynamoDB',
          backupVaultName: 'org-backup-vault',
          creationDate: at + j * 60,
          completionDate: at + j * 60 + 600,
          emit: false,
        }),
      );
      await Promise.all(jobs);
    }
    const regions = [...new Set(config.onboarding!.profiles.flatMap((p) => p.regions))].sort();
    const summaryRows: Record<string, number> = {};
    const summaries = new BackupJobSummaries();
    for (const r of regions) summaryRows[r] = (await summaries.daily(r)).length;

    const digestDeps = buildDigestDeps(world.env);
    let logged = requests(aws.logFile);
    let mark = callMark();
    let t = Date.now();
    const run = await sendDigest(digestDeps, digestPeriod(new Date(), 24 * 3600 * 1000));
    const digestMs = Date.now() - t;
    const digestCalls = callsSince(mark);
    const digestLogged = requests(aws.logFile) - logged;

    // The sweep that queues the daily checks, for the same accounts (all ready).
    logged = requests(aws.logFile);
    mark = callMark();
    t = Date.now();
    const swept = await sweep(buildSweepDeps(world.env));
    const sweepMs = Date.now() - t;
    const sweepCalls = callsSince(mark);
    const sweepLogged = loggedSince(aws.logFile, logged);

    process.stdout.write(
      JSON.stringify({
        watching: {
          dailyCheck: {
            howCounted:
              'SDK requests of one checkAccount() (the watchAccount handler body) with its deps built once (warm container); moto log count of the same window beside it',
            account:
              'onboarded for real; 2 DynamoDB tables with the policy selection tag, 3 backup jobs (2 COMPLETED, 1 FAILED) 2 h old, their events already delivered',
            notificationEventsDelivered: drained.succeeded,
            firstCheckInContainer: { awsCalls: first.calls, msOnMoto: first.ms },
            oneRegion: summarise(KINDS[0]!, 1, samples1),
            threeRegions: summarise(KINDS[1]!, 3, samples3),
          },
          digest: {
            accounts: run.digest.totals.accounts,
            ledgerWrittenDirectly: written.length,
            jobsPerWrittenAccount: DIGEST_JOBS,
            regionsQueried: regions,
            summaryRowsPerRegion: summaryRows,
            totals: {
              verified: run.digest.totals.verified,
              notChecked: run.digest.totals.notChecked,
              notReady: run.digest.totals.notReady,
              completed: run.digest.totals.completed,
              failed: run.digest.totals.failed,
            },
            sent: run.sent.flatMap((s) => s.deliveries.map((d) => `${d.channel}:${d.status}`)),
            awsCalls: digestCalls.total,
            awsCallsMotoLog: digestLogged,
            byOperation: digestCalls.byOperation,
            msOnMoto: digestMs,
          },
          sweepWithChecks: {
            accounts: swept.accounts,
            queuedChecks: swept.counts.verify,
            awsCalls: sweepCalls.total,
            awsCallsMotoLog: sweepLogged.total,
            byOperation: sweepCalls.byOperation,
            msOnMoto: sweepMs,
          },
          extrapolation: extrapolate(samples3, summaryRows, members.length),
        },
      }) + '\n',
    );
  } finally {
    await aws.stop();
  }
}

/**
 * 10,000 accounts x 3 regions per day, from the 3-region accounts' median calls per operation.
 * The sweep and the digest are computed from their paging with AWS's page sizes (moto pages
 * ListAccounts by 100, AWS by at most 20), not measured.
 */
function extrapolate(samples3: Measured[], summaryRows: Record<string, number>, accounts: number) {
  const N = TARGET_ACCOUNTS;
  const perCheck = medianBreakdown(samples3.map((s) => s.byService));
  const perCheckOps = medianBreakdown(samples3.map((s) => s.byOperation));
  const checkCalls = median(samples3.map((s) => s.calls));
  const checkMsOnMoto = median(samples3.map((s) => s.ms));
  const op = (name: string) => perCheckOps[name] ?? 0;
  const listAccountsPages = Math.ceil(N / 20);
  // Sweep: DescribeOrganization, ListAccounts, BatchGetItem by 100, SendMessageBatch by 10
  // (every ready account gets its check queued).
  const sweep = {
    organizations: 1 + listAccountsPages,
    dynamodb: Math.ceil(N / 100),
    sqs: Math.ceil(N / 10),
  };
  // Digest: the same listing, BatchGetItem for the onboarding records and today's and yesterday's
  // checks, ListBackupJobSummaries (ONE_DAY answers the last 14 days: rows per account and day
  // as measured, x 14) by pages of 1,000 (moto's default; AWS's default page size not verified),
  // and one send (a few delivery-ledger writes, one SES, one SNS).
  const rowsPerAccountDay =
    Object.values(summaryRows).reduce((a, b) => a + b, 0) / Math.max(1, accounts);
  const summaryPages = Math.max(3, Math.ceil((rowsPerAccountDay * 14 * N) / 1000));
  const digest = {
    organizations: 1 + listAccountsPages,
    dynamodb: 3 * Math.ceil(N / 100) + 4,
    backup: summaryPages,
    ses: 1,
    sns: 1,
  };
  const services = [
    'sts',
    'organizations',
    'backup',
    'tagging',
    'cloudtrail',
    'iam',
    'kms',
    'events',
    'dynamodb',
    'sqs',
    'ses',
    'sns',
  ];
  const perDay = Object.fromEntries(
    services.map((s) => {
      const checks = (perCheck[s] ?? 0) * N;
      const other = (sweep[s as keyof typeof sweep] ?? 0) + (digest[s as keyof typeof digest] ?? 0);
      return [s, { dailyChecks: checks, sweepAndDigest: other, total: checks + other }];
    }),
  );
  const checkMsAssumed = checkCalls * ASSUMED_CALL_MS;
  const orgPerCheck = perCheck.organizations ?? 0;
  return {
    accounts: N,
    regionsPerAccount: 3,
    perCheck: { awsCalls: checkCalls, byService: perCheck },
    callsPerDayByService: perDay,
    callsPerDayTotal: Object.values(perDay).reduce((a, v) => a + v.total, 0),
    // Who pays: the control plane's own account for STS, Organizations (management account),
    // DynamoDB, SQS; each member account for its own Backup, Tagging, CloudTrail, IAM, KMS,
    // EventBridge calls (made with the member's role credentials).
    centralAccountPerDay: {
      stsAssumeRole: op('sts:AssumeRole') * N,
      organizations: orgPerCheck * N + sweep.organizations + digest.organizations,
    },
    memberAccountPerAccountPerDay: Object.fromEntries(
      ['backup', 'tagging', 'cloudtrail', 'iam', 'kms', 'events'].map((s) => [s, perCheck[s] ?? 0]),
    ),
    sweepCalls: sweep.organizations + sweep.dynamodb + sweep.sqs,
    digestCalls: Object.values(digest).reduce((a, b) => a + b, 0),
    digestSummaryPages: summaryPages,
    wallClock: {
      watchConcurrency: WATCH_CONCURRENCY,
      checkMsOnMoto: checkMsOnMoto,
      hoursAtMotoLatency: round((N * checkMsOnMoto) / WATCH_CONCURRENCY / 3_600_000),
      assumedMsPerCall: ASSUMED_CALL_MS,
      checkSecondsAtAssumedLatency: round(checkMsAssumed / 1000),
      hoursAtAssumedLatency: round((N * checkMsAssumed) / WATCH_CONCURRENCY / 3_600_000),
      organizationsPerSecondAtThatPace: round(
        (WATCH_CONCURRENCY * orgPerCheck) / (checkMsAssumed / 1000),
      ),
      stsPerSecondAtThatPace: round(
        (WATCH_CONCURRENCY * op('sts:AssumeRole')) / (checkMsAssumed / 1000),
      ),
      // If Organizations sustains only R requests per second for this caller, the checks take at
      // least (calls / R): hours for R = 1, 2, 5, 10.
      hoursIfOrganizationsAllows: Object.fromEntries(
        [1, 2, 5, 10].map((r) => [`${r}/s`, round((orgPerCheck * N) / r / 3600)]),
      ),
    },
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

main().catch((error: unknown) => {
  process.stderr.write(
    `watching bench failed: ${String(error)}\n${(error as Error)?.stack ?? ''}\n`,
  );
  process.exitCode = 1;
});
