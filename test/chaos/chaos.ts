/**
 * `npm run chaos`: robustness figures of the notification flow and of onboarding, from fixed
 * seeds, in process, on simulated time. Progress goes to stderr, one JSON document to stdout:
 * one object per scenario with its figures and whether its target holds. Exits 0 whether or
 * not a target holds; non-zero only when the harness itself fails.
 *
 * Sizes: CHAOS_SEED, CHAOS_EVENTS (1000), CHAOS_COPIES (3), CHAOS_CONCURRENCY (5),
 * CHAOS_THROTTLE (0.3), CHAOS_STALL (0.02), CHAOS_FUZZ_EVENTS (10000), CHAOS_SCENARIOS
 * (e.g. "1,3").
 */
import '../helpers/env';
import { execFileSync } from 'node:child_process';
import { CONFIG_ENV } from '../../functions/shared/config/runtime';
import { exampleConfig } from '../helpers/fixtures';
import { runDelivery, type DeliveryOptions } from './delivery';
import { runFuzz } from './fuzz';
import { captureErrors } from './log';
import { runOnboarding } from './onboarding';

const CHAT_TOPIC = 'arn:aws:sns:us-east-1:123456789012:backup-control-plane-dev-chat';
const env = (name: string, fallback: number) => {
  const v = process.env[name];
  const n = v === undefined || v === '' ? fallback : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};
const SEED = process.env.CHAOS_SEED || 'chaos-2025';
const only = (process.env.CHAOS_SCENARIOS ?? '').split(',').filter(Boolean);
const wanted = (n: number) => !only.length || only.includes(String(n));

/** Which code ran: the commit and how many files differed from it (read-only git calls). */
function tree(): { commit: string; changedFiles: number } | string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['--no-optional-locks', ...args], { encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain').split('\n').filter(Boolean).length;
    return { commit: git('rev-parse', '--short', 'HEAD'), changedFiles: changed };
  } catch {
    return 'unknown (no git)';
  }
}

const progress = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

async function main(): Promise<void> {
  const config = exampleConfig();
  process.env[CONFIG_ENV] = JSON.stringify(config);
  process.env.DELIVERY_TABLE_NAME = 'backup-control-plane-dev';
  process.env.TOPIC_ARNS = JSON.stringify({ chat: CHAT_TOPIC });
  const errors = captureErrors();
  const began = Date.now();
  const results: Record<string, unknown>[] = [];
  const timed = async <T extends object>(fn: () => Promise<T>) => {
    const t = Date.now();
    const out = await fn();
    return { ...out, wallSeconds: Math.round((Date.now() - t) / 100) / 10 };
  };

  const delivery: Omit<DeliveryOptions, 'name' | 'throttle' | 'stall'> = {
    seed: SEED,
    events: env('CHAOS_EVENTS', 1000),
    copies: env('CHAOS_COPIES', 3),
    concurrency: env('CHAOS_CONCURRENCY', 5),
    batchSize: 10,
    latencyMs: [50, 400],
    stallMs: [5_000, 120_000],
    ddbMs: [3, 25],
    orgMs: [30, 150],
    timeoutMs: 60_000,
    visibilityTimeoutMs: 365_000,
    maxReceiveCount: 5,
    shuffleWindow: 50,
    chatTopicArn: CHAT_TOPIC,
    config,
    errors,
    progress,
  };

  if (wanted(1)) {
    progress('scenario 1: redelivery under concurrency');
    const r = await timed(() =>
      runDelivery({ ...delivery, name: 'redelivery', throttle: 0, stall: 0 }),
    );
    const control = await runDelivery({
      ...delivery,
      name: 'redelivery-control',
      events: Math.min(delivery.events, 200),
      throttle: 0,
      stall: 0,
      control: 'no-exclusion',
    });
    results.push({
      scenario: '1 redelivery under concurrency',
      target: '0 duplicates, 0 missing',
      holds: r.duplicates === 0 && r.missing === 0,
      ...r,
      negativeControl: {
        what: 'same, 200 events, claims without their condition: duplicates must be seen',
        duplicates: control.duplicates,
        detected: Number(control.duplicates) > 0,
      },
    });
  }
  if (wanted(2)) {
    progress('scenario 2: SES/SNS throttling, stalls and the Lambda timeout');
    const throttle = env('CHAOS_THROTTLE', 0.3);
    const stall = env('CHAOS_STALL', 0.02);
    const r = await timed(() => runDelivery({ ...delivery, name: 'throttling', throttle, stall }));
    const control = await runDelivery({
      ...delivery,
      name: 'throttling-control',
      events: Math.min(delivery.events, 200),
      throttle,
      stall: 0.1,
      control: 'ignore-abort',
    });
    results.push({
      scenario: `2 ${Math.round(throttle * 100)} % SES/SNS throttling, ${Math.round(stall * 100)} % stalled calls, 60 s timeout`,
      target: '0 lost, 0 duplicated, 0 invocations past the timeout',
      holds: r.lost === 0 && r.duplicates === 0 && r.invocationsPastTimeout === 0,
      ...r,
      negativeControl: {
        what: '200 events, 10 % stalls, calls that ignore the abort signal: timeouts must be seen',
        invocationsPastTimeout: control.invocationsPastTimeout,
        lost: control.lost,
        duplicates: control.duplicates,
        detected: Number(control.invocationsPastTimeout) > 0,
      },
    });
  }
  if (wanted(3)) {
    progress('scenario 3: fuzzed events');
    const r = await timed(() =>
      runFuzz({
        seed: SEED,
        events: env('CHAOS_FUZZ_EVENTS', 10_000),
        chatTopicArn: CHAT_TOPIC,
        config,
        errors,
        progress,
      }),
    );
    results.push({
      scenario: '3 fuzzed events',
      target:
        '0 batch crashes, 0 notifiable events rejected, 0 non-Malformed exceptions, 0 lone surrogates to SES/SNS, 0 live links or mentions',
      holds:
        r.batchCrashes === 0 &&
        r.notifiableRejected === 0 &&
        r.nonMalformedExceptions === 0 &&
        r.loneSurrogatesInRequests === 0 &&
        r.liveLinksOrMentions === 0,
      ...r,
    });
  }
  if (wanted(4)) {
    progress('scenario 4: onboarding killed after every step');
    const r = await timed(() => runOnboarding({ progress }));
    results.push({
      scenario: '4 onboarding killed after every step and every write',
      target: 'every run converges to ready, 0 duplicate resources, 0 notices sent twice',
      holds: r.converged === r.runs && r.duplicateResources === 0 && r.noticesSentTwice === 0,
      ...r,
    });
  }
  progress(`done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  process.stdout.write(
    `${JSON.stringify({ seed: SEED, tree: tree(), node: process.version, wallSeconds: Math.round((Date.now() - began) / 100) / 10, scenarios: results }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`[chaos] harness failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
