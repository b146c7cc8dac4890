/**
 * Onboarding figures against moto (run by `npm run bench` in its own process, since the warm
 * notify bench mocks the SDK classes): AWS calls per onboarded account on the first run and on
 * an idempotent re-run, and the reconcile sweep's time and call count for N accounts.
 * Calls are counted as the HTTP requests moto logs, so every SDK call of the code is included.
 */
import { readFileSync } from 'node:fs';
import { CreateAccountCommand } from '@aws-sdk/client-organizations';
import { startLocalAws, useLocalAwsEnvironment } from '../../tools/sandbox/local-aws';
import { addOnboarding, buildWorld, newMemberAccount } from '../../tools/sandbox/world';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import { onboardAccount } from '../../functions/onboard-account/onboard';
import { buildSweepDeps } from '../../functions/reconcile/handler';
import { sweep } from '../../functions/reconcile/sweep';
import { readConfigFile } from '../../tools/config-file';
import { logger } from '../../functions/shared/logger';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SWEEP_ACCOUNTS = Number(process.env.BENCH_SWEEP_ACCOUNTS ?? 200);
const ONBOARD_SAMPLES = Number(process.env.BENCH_ONBOARD_ACCOUNTS ?? 5);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function requests(logFile: string): number {
  return (readFileSync(logFile, 'utf8').match(/"[A-Z]+ \S+ HTTP\/1\.1" \d{3}/g) ?? []).length;
}

async function main(): Promise<void> {
  logger.setLogLevel('SILENT');
  const aws = await startLocalAws();
  try {
    useLocalAwsEnvironment(aws.endpoint);
    const config = readConfigFile(join(ROOT, 'infra', 'config', 'example.yml'));
    const world = await addOnboarding(await buildWorld(aws, config, 'bench'));
    // The world gives the functions' environment (it no longer sets process.env).
    const deps = buildOnboardingDeps(world.env);

    const first: number[] = [];
    const again: number[] = [];
    const firstMs: number[] = [];
    for (let i = 0; i < ONBOARD_SAMPLES; i++) {
      const id = await newMemberAccount(world, {
        name: `Bench${i}`,
        email: `aws-bench-${i}@example.com`,
      });
      let before = requests(aws.logFile);
      const t = Date.now();
      const r1 = await onboardAccount(
        { accountId: id, trigger: 'Manual' },
        { ...deps, owner: `b${i}` },
      );
      firstMs.push(Date.now() - t);
      first.push(requests(aws.logFile) - before);
      before = requests(aws.logFile);
      const r2 = await onboardAccount(
        { accountId: id, trigger: 'Manual' },
        { ...deps, owner: `c${i}` },
      );
      again.push(requests(aws.logFile) - before);
      if (r1.outcome !== 'ready' || r2.outcome !== 'ready')
        throw new Error(`bench account ${id} not ready`);
    }

    // Accounts for the sweep: the rest up to SWEEP_ACCOUNTS, never onboarded (all get queued).
    const existing = world.org.accounts.length + 1;
    for (let i = existing; i < SWEEP_ACCOUNTS; i++) {
      await world.c.organizations.send(
        new CreateAccountCommand({ AccountName: `Sweep${i}`, Email: `aws-sweep-${i}@example.com` }),
      );
    }
    const sweepDeps = buildSweepDeps(world.env);
    const before = requests(aws.logFile);
    const t = Date.now();
    const result = await sweep(sweepDeps);
    const sweepMs = Date.now() - t;
    const sweepCalls = requests(aws.logFile) - before;
    const perThousand = (n: number) => Math.round((n / result.accounts) * 10_000);
    process.stdout.write(
      JSON.stringify({
        onboarding: {
          accountsMeasured: ONBOARD_SAMPLES,
          profile: 'default (1 region)',
          awsCallsFirstRun: median(first),
          awsCallsIdempotentRerun: median(again),
          firstRunMsOnMoto: median(firstMs),
        },
        sweep: {
          accounts: result.accounts,
          enqueued: result.enqueued,
          awsCalls: sweepCalls,
          msOnMoto: sweepMs,
          extrapolatedTo10000: {
            awsCalls: perThousand(sweepCalls),
            msOnMoto: perThousand(sweepMs),
          },
        },
      }) + '\n',
    );
  } finally {
    await aws.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`onboarding bench failed: ${String(error)}\n`);
  process.exitCode = 1;
});
