/**
 * `npm run bench`: prints JSON figures for each function. Not a test: nothing here passes or
 * fails on speed; compare the numbers of one run with each other (2 shared cores, noisy).
 *
 * - bundleBytes: the handler bundled as serverless.yml bundles it (esbuild, minified, AWS SDK
 *   included).
 * - coldLoadMs: median time for a fresh `node` process to require that bundle, over N runs;
 *   sdkOnlyLoadMs: the same for a bundle of only the SDK clients the function imports.
 * - warmEventMs: median time per event through the real handler, SDK clients mocked with
 *   aws-sdk-client-mock, over 1,000 events (a mix of the samples in events/).
 * - then, each in a process of its own against its own moto: onboarding-bench.ts (calls per
 *   onboarded account, the sweep), watching-bench.ts (the daily check's calls per account,
 *   the digest, the extrapolation to 10,000 accounts) and aggregation-bench.ts (a storm of 500
 *   failures folded into incidents), merged into the same JSON.
 */
import { channelTopicKey, filteredChannels } from '../../functions/shared/notices/subscriptions';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dynamo from '@aws-sdk/client-dynamodb';
import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { buildSync } from 'esbuild';
import { handler } from '../../functions/notify-backup-event/handler';
import { readConfigFile } from '../../functions/shared/config-file';
import { logger } from '../../functions/shared/logger';

const ROOT = join(__dirname, '..', '..');
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);

const FUNCTIONS = [
  {
    name: 'notifyBackupEvent',
    entry: 'functions/notify-backup-event/handler.ts',
    // The clients and commands the function's adapters use, re-exported so nothing is shaken out.
    sdk: {
      '@aws-sdk/client-dynamodb': [
        'DynamoDBClient',
        'PutItemCommand',
        'GetItemCommand',
        'UpdateItemCommand',
        'DeleteItemCommand',
        'QueryCommand',
      ],
      '@aws-sdk/client-organizations': [
        'OrganizationsClient',
        'DescribeAccountCommand',
        'DescribePolicyCommand',
      ],
      '@aws-sdk/client-ses': ['SESClient', 'SendEmailCommand'],
      '@aws-sdk/client-sns': ['SNSClient', 'PublishCommand'],
      '@aws-sdk/client-sqs': ['SQSClient', 'SendMessageBatchCommand'],
    } as Record<string, string[]>,
  },
  {
    name: 'onboardAccount',
    entry: 'functions/onboard-account/handler.ts',
    sdk: {
      '@aws-sdk/client-dynamodb': [
        'DynamoDBClient',
        'GetItemCommand',
        'UpdateItemCommand',
        'PutItemCommand',
      ],
      '@aws-sdk/client-organizations': [
        'OrganizationsClient',
        'DescribeAccountCommand',
        'ListParentsCommand',
        'AttachPolicyCommand',
      ],
      '@aws-sdk/client-ses': ['SESClient', 'SendEmailCommand'],
      '@aws-sdk/client-sns': ['SNSClient', 'PublishCommand'],
      '@aws-sdk/client-sts': ['STSClient', 'AssumeRoleCommand'],
      '@aws-sdk/client-iam': ['IAMClient', 'GetRoleCommand', 'CreateRoleCommand'],
      '@aws-sdk/client-kms': ['KMSClient', 'DescribeKeyCommand', 'CreateKeyCommand'],
      '@aws-sdk/client-backup': [
        'BackupClient',
        'DescribeBackupVaultCommand',
        'CreateBackupVaultCommand',
      ],
      '@aws-sdk/client-eventbridge': ['EventBridgeClient', 'PutRuleCommand', 'PutTargetsCommand'],
      // member-account.ts builds these clients for every member account too (daily check).
      '@aws-sdk/client-cloudtrail': ['CloudTrailClient', 'LookupEventsCommand'],
      '@aws-sdk/client-resource-groups-tagging-api': [
        'ResourceGroupsTaggingAPIClient',
        'GetResourcesCommand',
      ],
    } as Record<string, string[]>,
  },
  {
    name: 'watchAccount',
    entry: 'functions/watch-account/handler.ts',
    sdk: {
      '@aws-sdk/client-dynamodb': [
        'DynamoDBClient',
        'PutItemCommand',
        'GetItemCommand',
        'UpdateItemCommand',
        'DeleteItemCommand',
        'BatchGetItemCommand',
        'BatchWriteItemCommand',
      ],
      '@aws-sdk/client-organizations': [
        'OrganizationsClient',
        'DescribeAccountCommand',
        'DescribeOrganizationCommand',
        'DescribeOrganizationalUnitCommand',
        'DescribeEffectivePolicyCommand',
        'ListParentsCommand',
        'ListRootsCommand',
        'ListPoliciesCommand',
        'ListPoliciesForTargetCommand',
        'ListTagsForResourceCommand',
      ],
      '@aws-sdk/client-sts': ['STSClient', 'AssumeRoleCommand'],
      '@aws-sdk/client-sqs': ['SQSClient', 'SendMessageBatchCommand'],
      '@aws-sdk/client-ses': ['SESClient', 'SendEmailCommand'],
      '@aws-sdk/client-sns': ['SNSClient', 'PublishCommand'],
      // In member accounts, through the read-only role.
      '@aws-sdk/client-iam': [
        'IAMClient',
        'GetRoleCommand',
        'GetRolePolicyCommand',
        'ListAttachedRolePoliciesCommand',
      ],
      '@aws-sdk/client-kms': [
        'KMSClient',
        'DescribeKeyCommand',
        'GetKeyPolicyCommand',
        'GetKeyRotationStatusCommand',
      ],
      '@aws-sdk/client-backup': [
        'BackupClient',
        'DescribeBackupVaultCommand',
        'DescribeRegionSettingsCommand',
        'ListProtectedResourcesCommand',
        'ListBackupJobsCommand',
        'ListCopyJobsCommand',
        'ListRestoreJobsCommand',
      ],
      '@aws-sdk/client-eventbridge': [
        'EventBridgeClient',
        'DescribeRuleCommand',
        'ListTargetsByRuleCommand',
      ],
      '@aws-sdk/client-cloudtrail': ['CloudTrailClient', 'LookupEventsCommand'],
      '@aws-sdk/client-resource-groups-tagging-api': [
        'ResourceGroupsTaggingAPIClient',
        'GetResourcesCommand',
      ],
    } as Record<string, string[]>,
  },
  {
    name: 'sendDigest',
    entry: 'functions/send-digest/handler.ts',
    sdk: {
      '@aws-sdk/client-backup': ['BackupClient', 'ListBackupJobSummariesCommand'],
      '@aws-sdk/client-dynamodb': [
        'DynamoDBClient',
        'PutItemCommand',
        'GetItemCommand',
        'UpdateItemCommand',
        'DeleteItemCommand',
        'BatchGetItemCommand',
      ],
      '@aws-sdk/client-organizations': [
        'OrganizationsClient',
        'DescribeAccountCommand',
        'DescribeOrganizationCommand',
        'ListAccountsCommand',
        'ListTagsForResourceCommand',
      ],
      '@aws-sdk/client-ses': ['SESClient', 'SendEmailCommand'],
      '@aws-sdk/client-sns': ['SNSClient', 'PublishCommand'],
    } as Record<string, string[]>,
  },
  {
    name: 'reconcile',
    entry: 'functions/reconcile/handler.ts',
    sdk: {
      '@aws-sdk/client-dynamodb': ['DynamoDBClient', 'BatchGetItemCommand'],
      '@aws-sdk/client-organizations': ['OrganizationsClient', 'ListAccountsCommand'],
      '@aws-sdk/client-sqs': ['SQSClient', 'SendMessageBatchCommand'],
    } as Record<string, string[]>,
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (n: number) => Math.round(n * 100) / 100;

function bundle(entry: string, outfile: string, contents?: string): number {
  buildSync({
    ...(contents
      ? { stdin: { contents, resolveDir: ROOT, loader: 'ts' } }
      : { entryPoints: [join(ROOT, entry)] }),
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    logLevel: 'error',
  });
  return statSync(outfile).size;
}

function coldLoad(file: string): number {
  const samples: number[] = [];
  const probe = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  for (let i = 0; i < RUNS; i++) {
    samples.push(Number(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' })));
  }
  return median(samples);
}

async function warmNotify(): Promise<{ warmEventMs: number; events: number }> {
  const config = readConfigFile(join(ROOT, 'infra', 'config', 'example.yml'));
  process.env.BACKUP_CONTROL_PLANE_CONFIG = JSON.stringify(config);
  process.env.DELIVERY_TABLE_NAME = 'bench-table';
  // Every topic and filtered chat channel's own topic (the functions refuse a TOPIC_ARNS without).
  const topicKeys = Object.entries(config.notifications.topics).flatMap(([name, topic]) => [
    name,
    ...filteredChannels(topic).map((c) => channelTopicKey(name, c.name)),
  ]);
  process.env.TOPIC_ARNS = JSON.stringify(
    Object.fromEntries(
      topicKeys.map((k) => [k, `arn:aws:sns:us-east-1:123456789012:${k.replace('/', '-')}`]),
    ),
  );
  logger.setLogLevel('SILENT');

  mockClient(SESClient).on(SendEmailCommand).resolves({ MessageId: 'm' });
  mockClient(SNSClient).on(PublishCommand).resolves({ MessageId: 'm' });
  mockClient(OrganizationsClient)
    .on(DescribeAccountCommand)
    .resolves({ Account: { Name: 'Production', Email: 'prod@example.com' } });
  mockClient(dynamo.DynamoDBClient)
    .on(dynamo.PutItemCommand)
    .resolves({})
    .on(dynamo.UpdateItemCommand)
    .resolves({});

  const dir = join(ROOT, 'events', 'backup');
  const samples = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
  const context = { functionName: 'bench', awsRequestId: 'bench' } as never;
  const times: number[] = [];
  for (let i = 0; i < EVENTS + 50; i++) {
    const event = { ...samples[i % samples.length]!, id: `bench-${i}` };
    const record = {
      messageId: `m-${i}`,
      body: JSON.stringify(event),
      attributes: { ApproximateReceiveCount: '1' },
    };
    const t = process.hrtime.bigint();
    const out = await handler({ Records: [record] } as never, context);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (out.batchItemFailures.length) throw new Error(`event ${i} failed in the bench`);
    if (i >= 50) times.push(ms); // the first 50 warm up the JIT and caches
  }
  return { warmEventMs: round(median(times)), events: times.length };
}

/** A bench file run with tsx in a process of its own; it prints one JSON object. */
function subBench(file: string): Record<string, unknown> {
  return JSON.parse(
    execFileSync(process.execPath, [require.resolve('tsx/cli'), join(__dirname, file)], {
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    }),
  ) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const results = [];
  for (const fn of FUNCTIONS) {
    const file = join(dir, `${fn.name}.js`);
    const sdkFile = join(dir, `${fn.name}-sdk.js`);
    const bundleBytes = bundle(fn.entry, file);
    const sdkSource = Object.entries(fn.sdk)
      .map(([m, names]) => `export { ${names.join(', ')} } from ${JSON.stringify(m)};`)
      .join('\n');
    const sdkBytes = bundle('', sdkFile, sdkSource);
    const coldLoadMs = coldLoad(file);
    const sdkOnlyLoadMs = coldLoad(sdkFile);
    const warm = fn.name === 'notifyBackupEvent' ? await warmNotify() : undefined;
    results.push({
      function: fn.name,
      bundleBytes,
      sdkOnlyBundleBytes: sdkBytes,
      coldLoadMs: round(coldLoadMs),
      sdkOnlyLoadMs: round(sdkOnlyLoadMs),
      coldLoadRuns: RUNS,
      ...warm,
    });
  }
  // Onboarding and watching against moto, each in a process of its own (the warm bench above
  // mocks the SDK classes; each starts its own moto).
  const onboarding = subBench('onboarding-bench.ts');
  const watching = subBench('watching-bench.ts');
  const aggregation = subBench('aggregation-bench.ts');
  const out = {
    node: process.version,
    cpus: cpus().length,
    results,
    ...onboarding,
    ...watching,
    ...aggregation,
  };
  writeFileSync(join(dir, 'bench.json'), JSON.stringify(out));
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error)}\n`);
  process.exitCode = 1;
});
