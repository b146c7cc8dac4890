/**
 * `npm run bench`: prints JSON figures for each function. Not a test: nothing here passes or
 * fails on speed; compare the numbers of one run with each other (2 shared cores, noisy).
 *
 * - bundleBytes: the handler bundled as serverless.yml bundles it (esbuild, minified, the SDK's
 *   ES module builds, AWS SDK included).
 * - coldLoadMs: median time for a fresh `node` process to require that bundle, over N runs;
 *   sdkOnlyLoadMs: the same for a bundle of only the SDK clients the function imports;
 *   coldLoadRatio: the one over the other (the target is at most 1.10 for each function).
 * - platformOnlyLoadMs: the same for the SDK clients plus the Powertools packages the function
 *   uses (a Logger made, a BatchProcessor), the libraries the conventions require; ownCodeRatio:
 *   coldLoadMs over it, what our own code and data add on top of the platform.
 * - largestInputs: the bundle's five largest inputs (packages, or our own files), in bytes.
 * - rssAfterLoadMb: the fresh process's resident memory once the bundle is loaded (median), and
 *   the same for the SDK clients alone.
 * - awsCallsPerEvent: the SDK calls the notification function makes per event of the warm run,
 *   by command (the account look-up is cached, the dedupe claim is one call per channel).
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
import {
  DescribeAccountCommand,
  ListParentsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { buildSync } from 'esbuild';
import { handler } from '../../functions/notify-backup-event/handler';
import { readConfigFile } from '../../tools/config-file';
import { logger } from '../../functions/shared/logger';

const ROOT = join(__dirname, '..', '..');
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 21);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);

const FUNCTIONS = [
  { name: 'notifyBackupEvent', entry: 'functions/notify-backup-event/handler.ts' },
  { name: 'onboardAccount', entry: 'functions/onboard-account/handler.ts' },
  { name: 'watchAccount', entry: 'functions/watch-account/handler.ts' },
  { name: 'sendDigest', entry: 'functions/send-digest/handler.ts' },
  { name: 'reconcile', entry: 'functions/reconcile/handler.ts' },
];

/**
 * The SDK-only bundle of a function: every name its own sources (the bundle's inputs outside
 * node_modules) import from an AWS SDK package, re-exported so nothing is shaken out. Derived
 * from the code, so a new client or command counts on both sides at once.
 */
function sdkImportsOf(inputs: ReadonlyMap<string, number>): string {
  // A package tree shaking dropped (imported by a module whose user was shaken out) costs
  // nothing; the SDK's CommonJS builds are kept or dropped whole.
  const kept = (pkg: string): boolean =>
    [...inputs].some(([path, bytes]) => bytes > 0 && path.includes(`node_modules/${pkg}/`));
  const names = new Map<string, Set<string>>();
  const IMPORT = /import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'(@aws-sdk\/[^']+)'/g;
  for (const input of inputs.keys()) {
    if (input.includes('node_modules') || !input.endsWith('.ts')) continue;
    for (const [, list, pkg] of readFileSync(join(ROOT, input), 'utf8').matchAll(IMPORT)) {
      for (const raw of list!.split(',')) {
        const item = raw.trim();
        // Types are erased: only values (clients, commands, paginators, enums) cost load time.
        if (!item || item.startsWith('type ')) continue;
        const name = item.split(/\s+as\s+/)[0]!;
        if (!kept(pkg!)) continue;
        if (!names.has(pkg!)) names.set(pkg!, new Set());
        names.get(pkg!)!.add(name);
      }
    }
  }
  return [...names]
    .map(
      // Aliased: two packages may export the same name (AlreadyExistsException).
      ([pkg, set], i) =>
        `export { ${[...set]
          .sort()
          .map((n) => `${n} as p${i}_${n}`)
          .join(', ')} } from ${JSON.stringify(pkg)};`,
    )
    .join('\n');
}

/** The Powertools part of the platform bundle: what the function's bundle holds of it, used. */
function powertoolsOf(inputs: ReadonlyMap<string, number>): string {
  const has = (pkg: string): boolean =>
    [...inputs].some(([path, bytes]) => bytes > 0 && path.includes(`node_modules/${pkg}/`));
  return [
    has('@aws-lambda-powertools/logger') &&
      `import { Logger } from '@aws-lambda-powertools/logger';\nexport const pLogger = new Logger();`,
    has('@aws-lambda-powertools/batch') &&
      `import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';\nexport const pBatch = [new BatchProcessor(EventType.SQS), processPartialResponse];`,
  ]
    .filter(Boolean)
    .join('\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Bundles like serverless-esbuild; returns the size and the five largest inputs. */
function bundle(
  entry: string,
  outfile: string,
  contents?: string,
): { bytes: number; largestInputs: Record<string, number>; inputs: Map<string, number> } {
  const { metafile } = buildSync({
    ...(contents
      ? { stdin: { contents, resolveDir: ROOT, loader: 'ts' } }
      : { entryPoints: [join(ROOT, entry)] }),
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // As serverless.yml's esbuild settings: the SDK's ES module builds, which shake better.
    mainFields: ['module', 'main'],
    logLevel: 'error',
    metafile: true,
  });
  // Inputs grouped by package (node_modules/<name>) or our own file, bytes in the output.
  const byInput = new Map<string, number>();
  const inputs = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      inputs.set(path, bytesInOutput);
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path;
      byInput.set(pkg, (byInput.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  const largestInputs = Object.fromEntries([...byInput].sort((a, b) => b[1] - a[1]).slice(0, 5));
  return { bytes: statSync(outfile).size, largestInputs, inputs };
}

/** Load time and resident memory after load, of `runs` fresh processes, added to `into`. */
function coldLoad(file: string, runs: number, into: { ms: number[]; rssMb: number[] }): void {
  const { ms, rssMb: rss } = into;
  const probe = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});const ms=Number(process.hrtime.bigint()-t)/1e6;process.stdout.write(JSON.stringify([ms,process.memoryUsage().rss]))`;
  for (let i = 0; i < runs; i++) {
    const [m, r] = JSON.parse(
      execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }),
    ) as [number, number];
    ms.push(m);
    rss.push(r / (1024 * 1024));
  }
}

async function warmNotify(): Promise<{
  warmEventMs: number;
  events: number;
  awsCallsPerEvent: Record<string, number>;
}> {
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

  const mocks = [
    mockClient(SESClient).on(SendEmailCommand).resolves({ MessageId: 'm' }),
    mockClient(SNSClient).on(PublishCommand).resolves({ MessageId: 'm' }),
    mockClient(OrganizationsClient)
      .on(DescribeAccountCommand)
      .resolves({ Account: { Name: 'Production', Email: 'prod@example.com' } })
      // The example's chat channels filter on ouPath: accounts directly under the root.
      .on(ListParentsCommand)
      .resolves({ Parents: [{ Id: 'r-exam', Type: 'ROOT' }] }),
    mockClient(dynamo.DynamoDBClient)
      .on(dynamo.PutItemCommand)
      .resolves({})
      .on(dynamo.UpdateItemCommand)
      .resolves({}),
  ];

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
    if (i === 49) for (const m of mocks) m.resetHistory();
  }
  const calls: Record<string, number> = {};
  for (const m of mocks) {
    for (const call of m.calls()) {
      const name = (call.args[0] as { constructor: { name: string } }).constructor.name;
      calls[name] = (calls[name] ?? 0) + 1;
    }
  }
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  const awsCallsPerEvent = Object.fromEntries(
    [['total', total], ...Object.entries(calls)].map(([k, v]) => [
      k,
      round(Number(v) / times.length),
    ]),
  );
  return { warmEventMs: round(median(times)), events: times.length, awsCallsPerEvent };
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
    const built = bundle(fn.entry, file);
    const sdkSource = sdkImportsOf(built.inputs);
    const sdkBytes = bundle('', sdkFile, sdkSource).bytes;
    const platformFile = join(dir, `${fn.name}-platform.js`);
    bundle('', platformFile, `${sdkSource}\n${powertoolsOf(built.inputs)}`);
    // Interleaved sample by sample (the order reversed each time), so a noisy moment of the shared
    // machine weighs on all alike; a ratio is the median of the samples' ratios.
    const loads = {
      fn: { ms: [], rssMb: [] },
      sdk: { ms: [], rssMb: [] },
      platform: { ms: [], rssMb: [] },
    };
    const files = new Map([
      [loads.fn, file],
      [loads.sdk, sdkFile],
      [loads.platform, platformFile],
    ]);
    for (let i = 0; i < RUNS; i++) {
      const order = [...files.keys()];
      for (const into of i % 2 ? order.reverse() : order) coldLoad(files.get(into)!, 1, into);
    }
    const pairRatios = loads.fn.ms.map((ms, i) => ms / loads.sdk.ms[i]!);
    const ownRatios = loads.fn.ms.map((ms, i) => ms / loads.platform.ms[i]!);
    const coldLoadMs = median(loads.fn.ms);
    const sdkOnlyLoadMs = median(loads.sdk.ms);
    const warm = fn.name === 'notifyBackupEvent' ? await warmNotify() : undefined;
    results.push({
      function: fn.name,
      bundleBytes: built.bytes,
      sdkOnlyBundleBytes: sdkBytes,
      coldLoadMs: round(coldLoadMs),
      sdkOnlyLoadMs: round(sdkOnlyLoadMs),
      coldLoadRatio: round(median(pairRatios)),
      platformOnlyLoadMs: round(median(loads.platform.ms)),
      ownCodeRatio: round(median(ownRatios)),
      coldLoadRuns: loads.fn.ms.length,
      sdkPackages: [...sdkSource.matchAll(/from "([^"]+)"/g)].map((m) => m[1]),
      rssAfterLoadMb: round(median(loads.fn.rssMb)),
      sdkOnlyRssAfterLoadMb: round(median(loads.sdk.rssMb)),
      largestInputs: built.largestInputs,
      ...warm,
    });
  }
  // Onboarding and watching against moto, each in a process of its own (the warm bench above
  // mocks the SDK classes; each starts its own moto). BENCH_LOAD_ONLY=1 stops before them.
  const loadOnly = process.env.BENCH_LOAD_ONLY === '1';
  const onboarding = loadOnly ? {} : subBench('onboarding-bench.ts');
  const watching = loadOnly ? {} : subBench('watching-bench.ts');
  const aggregation = loadOnly ? {} : subBench('aggregation-bench.ts');
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
