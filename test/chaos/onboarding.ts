import { PipelineNotifier } from '../../functions/onboard-account/notices';
import {
  onboardAccount,
  type OnboardDeps,
  type OnboardResult,
} from '../../functions/onboard-account/onboard';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import type { PipelineDeps } from '../../functions/shared/notices/send';
import type { MemberAccount } from '../../functions/shared/ports';
import { FakeEmailSender, FakeTopicPublisher, InMemoryLedger } from '../helpers/fakes';
import {
  MEMBER_ID,
  PRODUCTION_OU,
  RecordingLog,
  onboardingWorld,
  topicArnOf,
  type OnboardingWorld,
} from '../helpers/onboarding-fakes';

/**
 * Scenario 4: onboarding (functions/onboard-account/onboard.ts, real code) against the in-memory
 * fakes of test/helpers/onboarding-fakes.ts, its notices through the real notification
 * pipeline (PipelineNotifier, deliverAll) with an in-memory delivery ledger whose lease is the
 * deployed one (110 min). A run is killed after a step (the `afterStep` hook) or after any
 * write (a call that changes AWS, the ledger, or sends a notice): the kill is a promise that
 * never settles, so nothing after it runs, not even the lock's release, as when Lambda stops
 * the runtime. Then the account is onboarded again once the lock has expired (15 min), and if
 * that does not end ready, on the queue's next receives (visibility timeout 5,400 s,
 * maxReceiveCount 3): at most three runs after the killed one.
 */

const LEASE_MS = 110 * 60 * 1000;
const VISIBILITY_MS = 5400 * 1000;

/** Calls that change something, by the object they belong to. */
const WRITES: Readonly<Record<string, readonly string[]>> = {
  org: ['tagAccount', 'enableBackupPolicies', 'attachPolicy', 'detachPolicy'],
  iam: ['createRole', 'updateTrustPolicy', 'attachPolicy', 'putInlinePolicy'],
  kms: ['createKey', 'createAlias', 'putKeyPolicy', 'enableRotation'],
  backup: ['createVault'],
  events: ['putRule', 'putTarget'],
  ledger: ['acquire', 'save'],
  deliveries: ['claim', 'markDelivered', 'release'],
  email: ['send'],
  sns: ['publish'],
};

class Killer {
  count = 0;
  readonly points: string[] = [];
  killedAt: string | undefined;
  private signal!: () => void;
  readonly killed = new Promise<void>((resolve) => (this.signal = resolve));

  constructor(private readonly killAfter: number | ((point: string) => boolean)) {}

  /** After each write or step: the run stops here for good when it is the chosen point. */
  async after(point: string): Promise<void> {
    this.count += 1;
    this.points.push(point);
    const hit =
      typeof this.killAfter === 'number' ? this.count === this.killAfter : this.killAfter(point);
    if (hit && this.killedAt === undefined) {
      this.killedAt = point;
      this.signal();
      await new Promise<never>(() => {});
    }
  }

  /** From the next run on, nothing is killed. */
  disarm(): void {
    this.killedAt ??= '(none)';
  }

  get armed(): boolean {
    return this.killedAt === undefined;
  }
}

/** `target` with its write methods followed by `killer.after`. */
function killable<T extends object>(target: T, kind: string, killer: Killer): T {
  const writes = WRITES[kind] ?? [];
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (!writes.includes(String(prop))) return fn.bind(t);
      return async (...args: unknown[]) => {
        const out = await fn.apply(t, args);
        if (killer.armed) await killer.after(`${kind}.${String(prop)}`);
        return out;
      };
    },
  });
}

function killableMember(m: MemberAccount, killer: Killer): MemberAccount {
  return new Proxy(m, {
    get(t, prop) {
      if (prop === 'iam') return killable(t.iam, 'iam', killer);
      if (prop === 'kms' || prop === 'backup' || prop === 'events') {
        return (region: string) => killable(t[prop](region), prop, killer);
      }
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? (value as () => unknown).bind(t) : value;
    },
  });
}

interface Run {
  world: OnboardingWorld;
  email: FakeEmailSender;
  sns: FakeTopicPublisher;
  deps: OnboardDeps;
  killer: Killer;
  readyCalls: number;
}

function setUp(profile: 'default' | 'production', killer: Killer, byStep: boolean): Run {
  const world = onboardingWorld();
  if (profile === 'production') world.org.parentOf.set(MEMBER_ID, PRODUCTION_OU);
  const email = new FakeEmailSender();
  const sns = new FakeTopicPublisher();
  const pipeline: PipelineDeps = {
    config: world.config,
    topicArn: topicArnOf,
    accounts: new CachedAccountContext(world.org, 60_000, world.clock),
    ledger: byStep
      ? new InMemoryLedger(LEASE_MS)
      : killable(new InMemoryLedger(LEASE_MS), 'deliveries', killer),
    email: byStep ? email : killable(email, 'email', killer),
    sns: byStep ? sns : killable(sns, 'sns', killer),
    clock: world.clock,
    log: new RecordingLog(),
  };
  const run: Run = { world, email, sns, deps: world.deps, killer, readyCalls: 0 };
  const notifier = new PipelineNotifier(pipeline);
  const deps: OnboardDeps = {
    ...world.deps,
    notifier: {
      departed: (facts) => notifier.departed(facts),
      ready: async (facts) => {
        run.readyCalls += 1;
        await notifier.ready(facts);
      },
      driftRepaired: (facts) => notifier.driftRepaired(facts),
      failed: (facts) => notifier.failed(facts),
      creationFailed: (facts) => notifier.creationFailed(facts),
    },
  };
  if (byStep) {
    deps.afterStep = async (step) => {
      if (killer.armed) await killer.after(`step ${step}`);
    };
  } else {
    deps.org = killable(world.org, 'org', killer);
    deps.ledger = killable(world.ledger, 'ledger', killer);
    deps.access = {
      assume: async (accountId, role) =>
        killableMember(await world.access.assume(accountId, role), killer),
    };
  }
  run.deps = deps;
  return run;
}

/** What the account and the organization look like, key ids left out. */
function endState(w: OnboardingWorld): string {
  const m = w.member();
  const keys = [...m.keys.values()].filter((k) => k.state === 'Enabled');
  const aliasOf = (keyArn: string) =>
    [...m.aliases].find(([, id]) => m.keys.get(id)?.keyArn === keyArn)?.[0] ?? 'unaliased';
  return JSON.stringify({
    roles: [...m.roles]
      .map(([n, r]) => [n, [...r.attached].sort(), [...r.inline.keys()].sort()])
      .sort(),
    keys: keys.map((k) => [k.region, k.rotation, aliasOf(k.keyArn)]).sort(),
    vaults: [...m.vaults].map(([n, v]) => [n, aliasOf(v.encryptionKeyArn)]).sort(),
    rules: [...m.rules].map(([n, r]) => [n, r.state, r.targets]).sort(),
    policies: w.org.policyNamesOn(MEMBER_ID),
    tags: Object.entries(w.org.tags.get(MEMBER_ID) ?? {})
      .filter(([k]) => !k.endsWith('updated-at'))
      .sort(),
    record: w.ledger.records.get(MEMBER_ID)?.status,
    notified: w.ledger.records.get(MEMBER_ID)?.notified?.status,
  });
}

/** Creations beyond the first of one resource: roles, keys, vaults, rules, policy attachments. */
function duplicates(w: OnboardingWorld): Record<string, number> {
  const m = w.member();
  const excess = (keys: string[]) => {
    const seen = new Map<string, number>();
    for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
    return [...seen.values()].reduce((a, n) => a + n - 1, 0);
  };
  const writes = (op: string) =>
    m.writes.filter((x) => x[0] === op).map((x) => JSON.stringify(x.slice(1)));
  const regions = [...m.keys.values()].map((k) => k.region);
  return {
    roles: excess(writes('iam.createRole')),
    keys: excess(regions),
    vaults: excess(
      writes('backup.createVault').map((x) => JSON.stringify(JSON.parse(x).slice(0, 2))),
    ),
    rules: excess(writes('events.putRule')),
    policyAttachments: excess(
      w.org.writes.filter((x) => x[0] === 'attachPolicy').map((x) => JSON.stringify(x.slice(1))),
    ),
  };
}

/** Messages per channel beyond the first (every run here ends in one ready notice). */
function noticesTwice(r: Run): { twice: number; channels: number } {
  const per = new Map<string, number>();
  for (const e of r.email.sent)
    per.set(`email:${e.to.join(',')}`, (per.get(`email:${e.to.join(',')}`) ?? 0) + 1);
  for (const p of r.sns.published)
    per.set(`sns:${p.topicArn}`, (per.get(`sns:${p.topicArn}`) ?? 0) + 1);
  return { twice: [...per.values()].reduce((a, n) => a + n - 1, 0), channels: per.size };
}

const request = { accountId: MEMBER_ID, trigger: 'Manual' as const };

async function killAndRerun(
  profile: 'default' | 'production',
  byStep: boolean,
  killAfter: number | ((point: string) => boolean),
  reference: { state: string; channels: number },
) {
  const killer = new Killer(killAfter);
  const r = setUp(profile, killer, byStep);
  const first = onboardAccount(request, { ...r.deps, owner: 'run-1' });
  const ended = await Promise.race([
    killer.killed.then(() => 'killed' as const),
    first.then(
      () => 'finished' as const,
      () => 'finished' as const,
    ),
  ]);
  killer.disarm();
  let result: OnboardResult | Error | undefined;
  let runs = 1;
  // Counted from the killed run's start: the lock expires (the sweep or another trigger may
  // come then); SQS's second and third receives come after the visibility timeout.
  const start = r.world.clock.now().getTime();
  const at = [
    r.world.config.onboarding!.lockSeconds * 1000 + 1000,
    VISIBILITY_MS,
    2 * VISIBILITY_MS,
  ];
  for (const offset of ended === 'killed' ? at : []) {
    r.world.clock.advance(start + offset - r.world.clock.now().getTime());
    runs += 1;
    result = await onboardAccount(request, { ...r.deps, owner: `run-${runs}` }).catch(
      (e: unknown) => e as Error,
    );
    if (!(result instanceof Error) && result.outcome === 'ready') break;
  }
  const state = endState(r.world);
  const dup = duplicates(r.world);
  const notices = noticesTwice(r);
  return {
    point: killer.killedAt ?? '(none)',
    ended,
    runs,
    converged: state === reference.state && notices.channels === reference.channels,
    outcome:
      result instanceof Error ? `${result.name}: ${result.message}` : (result?.outcome ?? '-'),
    duplicateResources: Object.values(dup).reduce((a, b) => a + b, 0),
    duplicatesByKind: dup,
    noticesSentTwice: notices.twice,
    readyNotifierCalls: r.readyCalls,
  };
}

export async function runOnboarding(o: { progress: (line: string) => void }) {
  const rows: Awaited<ReturnType<typeof killAndRerun>>[] = [];
  const summary: Record<string, unknown> = {};
  for (const profile of ['default', 'production'] as const) {
    // The reference: one run, nothing killed; its steps and writes are the kill points.
    const stepKiller = new Killer(() => false);
    const stepRun = setUp(profile, stepKiller, true);
    const writeKiller = new Killer(() => false);
    const writeRun = setUp(profile, writeKiller, false);
    const a = await onboardAccount(request, { ...stepRun.deps, owner: 'ref' });
    const b = await onboardAccount(request, { ...writeRun.deps, owner: 'ref' });
    if (a.outcome !== 'ready' || b.outcome !== 'ready') {
      throw new Error(`reference onboarding (${profile}) ended ${a.outcome}/${b.outcome}`);
    }
    const reference = { state: endState(stepRun.world), channels: noticesTwice(stepRun).channels };
    if (endState(writeRun.world) !== reference.state) throw new Error('reference runs differ');
    const steps = stepKiller.points;
    const writes = writeKiller.points;
    for (const step of steps) {
      rows.push({
        ...(await killAndRerun(profile, true, (p) => p === step, reference)),
        point: `${profile}: ${step}`,
      });
    }
    for (let k = 1; k <= writes.length; k++) {
      const row = await killAndRerun(profile, false, k, reference);
      rows.push({ ...row, point: `${profile}: write ${k} ${row.point}` });
    }
    summary[profile] = { steps: steps.length, writes: writes.length, channels: reference.channels };
    o.progress(`onboarding (${profile}): ${steps.length} steps and ${writes.length} writes killed`);
  }
  // The provider took the message and the run died before the ledger recorded it: the window
  // the README accepts (a receive after the 110 min lease sends it again).
  const inWindow = (p: string) => /email\.send|sns\.publish$/.test(p);
  const failures = rows.filter(
    (r) =>
      !r.converged || r.duplicateResources > 0 || (r.noticesSentTwice > 0 && !inWindow(r.point)),
  );
  return {
    runs: rows.length,
    killPoints: summary,
    converged: rows.filter((r) => r.converged).length,
    runsToConverge: {
      max: Math.max(...rows.map((r) => r.runs)),
      distribution: rows.reduce<Record<string, number>>((acc, r) => {
        acc[r.runs] = (acc[r.runs] ?? 0) + 1;
        return acc;
      }, {}),
    },
    duplicateResources: rows.reduce((a, r) => a + r.duplicateResources, 0),
    noticesSentTwice: rows
      .filter((r) => !inWindow(r.point))
      .reduce((a, r) => a + r.noticesSentTwice, 0),
    noticesSentTwiceInDocumentedWindow: rows
      .filter((r) => inWindow(r.point))
      .reduce((a, r) => a + r.noticesSentTwice, 0),
    readyNotifierCallsAbove1: rows.filter((r) => r.readyNotifierCalls > 1).length,
    failures: failures.slice(0, 10),
  };
}
