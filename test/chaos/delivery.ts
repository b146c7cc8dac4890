import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { decide } from '../../functions/notify-backup-event/decide';
import { buildNotifyDeps, createHandler } from '../../functions/notify-backup-event/handler';
import type { Config } from '../../functions/shared/config/schema';
import { topicArnResolver } from '../../functions/shared/config/runtime';
import { planNotice } from '../../functions/shared/notices/send';
import { lambdaContext, sqsEvent } from '../helpers/lambda';
import {
  forgetCalls,
  installChannels,
  installOrganizations,
  installTable,
  throttled,
  type ChannelCall,
} from './aws';
import { expectedChannels, generateJobs, type GeneratedJob } from './events';
import { countBy, type ErrorLog } from './log';
import { percentile, Prng } from './prng';
import { Simulation } from './sim';

/**
 * Scenarios 1 and 2: job events delivered several times through a simulated SQS queue to
 * several concurrent Lambda containers, each its own `createHandler(() => buildNotifyDeps())`,
 * all sharing one in-memory delivery table, on simulated time (sim.ts).
 *
 * Simulated: SQS (visibility timeout, receive counts, maxReceiveCount → DLQ, partial batch
 * responses, batch size, maximumConcurrency as the number of containers), Lambda's timeout (at
 * 60 s the invocation's pending work is dropped, its batch returns to the queue after the
 * visibility timeout, the container is replaced), the latency of every AWS call, throttling and
 * stalled connections of SES and SNS (a stalled call honours the abortSignal the adapter gives
 * `send`). Real: the handler, Powertools' batch processing, parsing, routing, rendering, the
 * delivery ledger adapter and its conditional writes, the SES and SNS adapters and commands.
 */

export interface DeliveryOptions {
  name: string;
  seed: string;
  events: number;
  copies: number;
  concurrency: number;
  batchSize: number;
  /** Share of SES/SNS calls that fail with ThrottlingException (after the SDK's own retries). */
  throttle: number;
  /** Share of SES/SNS calls whose connection stalls for stallMs (until aborted). */
  stall: number;
  latencyMs: [number, number];
  stallMs: [number, number];
  ddbMs: [number, number];
  orgMs: [number, number];
  timeoutMs: number;
  visibilityTimeoutMs: number;
  maxReceiveCount: number;
  /** Copies of one event land within about this many queue positions of each other. */
  shuffleWindow: number;
  chatTopicArn: string;
  /**
   * A negative control, to show a figure can fail: claims that do not exclude each other
   * (duplicates expected), or SES/SNS calls that ignore the abort signal (timeouts expected).
   */
  control?: 'no-exclusion' | 'ignore-abort';
  config: Config;
  errors: ErrorLog;
  progress: (line: string) => void;
}

interface Message {
  id: string;
  job: number;
  body: string;
  receives: number;
  visibleAt: number;
  state: 'queued' | 'deleted' | 'dlq';
}

const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;

export async function runDelivery(o: DeliveryOptions) {
  const rng = new Prng(`${o.seed}:${o.name}`);
  const jobs = generateJobs(rng.fork('jobs'), o.events, o.copies);
  const faults = rng.fork('faults');
  const timing = rng.fork('timing');

  // What should be sent: written down independently, and cross-checked with the code's plan.
  const expected = new Set<string>();
  let oracleMismatches = 0;
  const topicArn = topicArnResolver({ chat: o.chatTopicArn });
  for (const job of jobs) {
    const mine = expectedChannels(job.event, o.chatTopicArn);
    for (const c of mine) expected.add(`${job.index}|${c}`);
    const decision = decide(structuredClone(job.event), o.config);
    const planned =
      decision.flow === 'notify'
        ? planNotice(decision.notice, o.config, topicArn)
            .outgoing.map((x) =>
              x.channel === 'email'
                ? `email:${x.message.to.join(',')}`
                : `sns:${x.message.topicArn}`,
            )
            .sort()
        : [];
    if (JSON.stringify(planned) !== JSON.stringify(mine)) oracleMismatches += 1;
  }

  // The queue: every copy a message; copies of one event near each other, then shuffled.
  const byJobId = new Map(jobs.map((j) => [j.jobId, j]));
  const start = Date.parse('2025-06-01T00:00:00.000Z');
  const ordered = jobs.flatMap((job, i) =>
    job.copies.map((body, c) => ({
      key: i * o.copies + c + rng.next() * o.shuffleWindow,
      message: {
        id: `m-${job.index}-${c}`,
        job: job.index,
        body,
        receives: 0,
        visibleAt: start,
        state: 'queued' as Message['state'],
      },
    })),
  );
  const queue = ordered.sort((a, b) => a.key - b.key).map((x) => x.message);

  const sim = new Simulation(start);
  const between = (r: Prng, [lo, hi]: [number, number]) => sim.sleep(r.range(lo, hi));
  const table = installTable(() => between(timing, o.ddbMs), o.control !== 'no-exclusion');
  installOrganizations(
    (id) => `Workload ${id.slice(-4)}`,
    () => between(timing, o.orgMs),
  );

  const accepted = new Map<string, number>();
  let sends = 0;
  let sendsWithSignal = 0;
  let aborted = 0;
  let throttledCalls = 0;
  let stalls = 0;
  let unattributed = 0;
  let sentId = 0;
  installChannels(async (call: ChannelCall) => {
    sends += 1;
    if (call.signal) sendsWithSignal += 1;
    const stall = faults.chance(o.stall);
    const fail = !stall && faults.chance(o.throttle);
    const ms = stall ? faults.range(...o.stallMs) : faults.range(...o.latencyMs);
    if (stall) stalls += 1;
    try {
      await sim.sleep(ms, o.control === 'ignore-abort' ? undefined : call.signal);
    } catch (error) {
      aborted += 1;
      throw error;
    }
    if (fail) {
      throttledCalls += 1;
      throw throttled(call.kind);
    }
    // Accepted by the provider: which job is it about, and which channel?
    const text =
      call.kind === 'email'
        ? (call.input.Message?.Body?.Text?.Data ?? '')
        : (call.input.Message ?? '');
    const found = new Set<GeneratedJob>();
    for (const m of text.match(UUID) ?? []) {
      const job = byJobId.get(m);
      if (job) found.add(job);
    }
    const channel =
      call.kind === 'email'
        ? `email:${(call.input.Destination?.ToAddresses ?? []).join(',')}`
        : `sns:${call.input.TopicArn ?? ''}`;
    if (found.size !== 1) unattributed += 1;
    else {
      const key = `${[...found][0]!.index}|${channel}`;
      accepted.set(key, (accepted.get(key) ?? 0) + 1);
    }
    sentId += 1;
    return `sent-${sentId}`;
  });

  let invocations = 0;
  let timedOut = 0;
  let crashes = 0;
  let maxInvocationMs = 0;
  let coldStarts = 0;
  const errorsBefore = o.errors.entries.length;

  const queued = () => queue.some((m) => m.state === 'queued');
  const receive = (): Message[] => {
    const batch: Message[] = [];
    for (const m of queue) {
      if (batch.length >= o.batchSize) break;
      if (m.state !== 'queued' || m.visibleAt > sim.now) continue;
      if (m.receives >= o.maxReceiveCount) {
        m.state = 'dlq';
        continue;
      }
      m.receives += 1;
      m.visibleAt = sim.now + o.visibilityTimeoutMs;
      batch.push(m);
    }
    return batch;
  };
  const toRecord = (m: Message): SQSRecord => ({
    messageId: m.id,
    receiptHandle: `receipt-${m.id}-${m.receives}`,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receives),
      SentTimestamp: String(start),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: String(start),
    },
    messageAttributes: {},
    md5OfBody: '-',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:backup-control-plane-dev-notifications',
    awsRegion: 'us-east-1',
  });

  let lastProgress = 0;
  const container = async (slot: number) => {
    let handler = createHandler(() => buildNotifyDeps());
    coldStarts += 1;
    while (queued()) {
      await between(timing, [5, 50]); // ReceiveMessage
      const batch = receive();
      if (!batch.length) {
        const next = Math.min(...queue.filter((m) => m.state === 'queued').map((m) => m.visibleAt));
        if (Number.isFinite(next)) await sim.sleep(Math.max(1, next - sim.now));
        continue;
      }
      invocations += 1;
      const id = `inv-${slot}-${invocations}`;
      const began = sim.now;
      const context = lambdaContext({
        awsRequestId: id,
        getRemainingTimeInMillis: () => began + o.timeoutMs - Date.now(),
      });
      const run = sim.owner.run(id, () => handler(sqsEvent(...batch.map(toRecord)), context));
      const outcome = await Promise.race([
        run.then(
          (response: SQSBatchResponse) => ({ response }),
          (error: unknown) => ({ error }),
        ),
        sim.sleep(o.timeoutMs).then(() => 'timeout' as const),
      ]);
      if (outcome === 'timeout') {
        // Lambda stops the runtime: nothing of this invocation runs again; a new container.
        sim.kill(id);
        timedOut += 1;
        maxInvocationMs = Math.max(maxInvocationMs, o.timeoutMs);
        handler = createHandler(() => buildNotifyDeps());
        coldStarts += 1;
        continue;
      }
      maxInvocationMs = Math.max(maxInvocationMs, sim.now - began);
      if ('error' in outcome) {
        crashes += 1;
        continue;
      }
      const failed = new Set(outcome.response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const m of batch) if (!failed.has(m.id)) m.state = 'deleted';
      forgetCalls();
      const done = queue.filter((m) => m.state !== 'queued').length;
      if (done - lastProgress >= queue.length / 10) {
        lastProgress = done;
        o.progress(
          `${o.name}: ${done}/${queue.length} messages settled, ${invocations} invocations, t=${((sim.now - start) / 1000).toFixed(0)} s simulated`,
        );
      }
    }
  };

  sim.install();
  try {
    await sim.run(
      Promise.all(Array.from({ length: o.concurrency }, (_, slot) => container(slot))),
      48 * 3600_000,
    );
  } finally {
    sim.uninstall();
  }

  const dlqJobs = new Set(queue.filter((m) => m.state === 'dlq').map((m) => m.job));
  let duplicates = 0;
  let unexpected = 0;
  for (const [key, n] of accepted) {
    if (!expected.has(key)) unexpected += n;
    else duplicates += n - 1;
  }
  let undelivered = 0;
  let lost = 0;
  for (const key of expected) {
    if (accepted.has(key)) continue;
    undelivered += 1;
    if (!dlqJobs.has(Number(key.split('|')[0]))) lost += 1;
  }
  const receives = queue.map((m) => m.receives);
  const recordErrors = countBy(o.errors.entries.slice(errorsBefore).map((e) => e.name));
  return {
    events: jobs.length,
    notifiableEvents: new Set([...expected].map((k) => k.split('|')[0])).size,
    messages: queue.length,
    expectedDeliveries: expected.size,
    delivered: [...accepted.values()].reduce((a, b) => a + b, 0),
    duplicates,
    missing: undelivered,
    lost,
    unexpectedSends: unexpected,
    dlqMessages: queue.filter((m) => m.state === 'dlq').length,
    invocations,
    invocationsPastTimeout: timedOut,
    maxInvocationMs,
    handlerCrashes: crashes,
    coldStarts,
    receivesPerMessage: { p50: percentile(receives, 50), max: Math.max(...receives) },
    sesSnsCalls: sends,
    sesSnsCallsWithAbortSignal: sendsWithSignal,
    throttledCalls,
    stalledCalls: stalls,
    abortedCalls: aborted,
    inFlightClaimConflicts: table.inFlightConflicts(),
    recordFailuresByError: recordErrors,
    simulatedMinutes: Math.round((sim.now - start) / 600) / 100,
    harnessChecks: {
      oracleMismatches,
      unattributedSends: unattributed,
      ledgerItemsLeftInProgress: [...table.items.values()].filter(
        (i) => i.status?.S === 'IN_PROGRESS',
      ).length,
    },
  };
}
