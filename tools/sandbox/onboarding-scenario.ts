import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import { parseOnboardingEvent } from '../../functions/onboard-account/triggers';
import { buildReconcileDeps, buildSweepDeps } from '../../functions/reconcile/handler';
import { sweep } from '../../functions/reconcile/sweep';
import type { AccountRecord } from '../../functions/shared/ports';
import type { MotoSentEmail } from './local-aws';
import {
  addOnboarding,
  drainNotifications,
  drainOnboarding,
  emitEvent,
  newMemberAccount,
  type EventToPut,
  type OnboardingWorld,
  type World,
} from './world';

/**
 * The sandbox's onboarding story: Control Tower's Account Factory vends an account in the
 * Production OU, its lifecycle event arrives in the home region (eu-west-1) and is forwarded;
 * another creation fails; then the reconcile sweep finds the accounts that existed before the
 * control plane and onboards them too.
 */

const ROOT = join(__dirname, '..', '..');

export interface OnboardingRow {
  account: string;
  trigger: string;
  profile: string;
  regions: string;
  status: string;
  changes: number;
}

export interface OnboardingOutcome {
  rows: OnboardingRow[];
  problems: string[];
  newAccountId: string;
  sweep: { accounts: number; onboard: number; verify: number };
  /** The management account's failed job in eu-west-1 (forwarded by the rule there). */
  managementJob: { eventId: string; accountId: string; region: string };
  /** The world with onboarding added, for what the sandbox plays next. */
  world: OnboardingWorld;
}

function aimedSample(name: string, accountId: string): EventToPut {
  const raw = readFileSync(join(ROOT, 'events', `${name}.json`), 'utf8');
  const decision = parseOnboardingEvent(JSON.parse(raw));
  if (decision.flow !== 'onboard') throw new Error(`${name} is not an onboarding trigger`);
  return JSON.parse(raw.split(decision.accountId).join(accountId)) as EventToPut;
}

export async function playOnboarding(
  base: World,
  progress: (line: string) => void,
): Promise<OnboardingOutcome> {
  const world = await addOnboarding(base);
  // The landing zone's home region is not us-east-1, and the management account backs up in
  // other regions too: rules there forward Control Tower's lifecycle events and the management
  // account's jobs. In management mode the reconcile function's first run (as after a deploy)
  // creates them; in delegated-admin mode the management forwarder's stacks hold them.
  const home = world.config.controlTower.homeRegion ?? 'us-east-1';
  const forwarding = buildReconcileDeps(world.env).regionForwarding;
  if (forwarding) {
    const created = await forwarding();
    progress(`      Rules in other regions: ${created.join('; ') || 'as declared'} → created`);
  }
  // The management account's own backup fails in eu-west-1: the rule there carries it.
  const managementJob = await emitEvent(
    world,
    { account: 'management', region: 'eu-west-1' },
    JSON.parse(
      readFileSync(join(ROOT, 'events', 'backup', 'backup-job-state-change.failed.json'), 'utf8'),
    ) as EventToPut,
  );
  await drainNotifications(world);
  progress(
    `      the management account's own backup fails in eu-west-1: forwarded to us-east-1, alerted`,
  );
  const newAccountId = await newMemberAccount(world, {
    name: 'Payments',
    email: 'aws-payments@example.com',
    ou: 'Workloads/Production',
  });
  progress(
    `      Control Tower Account Factory (${home}): Payments ${newAccountId} in OU Workloads/Production`,
  );
  await emitEvent(
    world,
    { account: 'management', region: home },
    aimedSample('controltower/create-managed-account.succeeded', newAccountId),
  );
  const failed = JSON.parse(
    readFileSync(
      join(ROOT, 'events', 'organizations', 'create-account-result.failed.json'),
      'utf8',
    ),
  ) as EventToPut;
  await emitEvent(world, { account: 'management' }, failed);
  await drainOnboarding(world);

  progress('      reconcile sweep: finding the accounts no event announced ...');
  const swept = await sweep(buildSweepDeps(world.env));
  await drainOnboarding(world);

  const ledger = buildOnboardingDeps(world.env).ledger;
  const records = await ledger.getMany(world.org.accounts.map((a) => a.id));
  const problems: string[] = [];
  const rows: OnboardingRow[] = world.org.accounts.map((a) => {
    const r: AccountRecord | undefined = records.get(a.id);
    if (r?.status !== 'ready')
      problems.push(`account ${a.name} ${a.id} is ${r?.status ?? 'not onboarded'}, expected ready`);
    const regions = a.id === newAccountId ? 'us-east-1, eu-west-1' : 'us-east-1';
    return {
      account: `${a.name} ${a.id}`,
      trigger: r?.lastTrigger ?? '-',
      profile: r?.profile ?? '-',
      regions,
      status: r?.status ?? 'not onboarded',
      changes: Object.values(r?.steps ?? {}).reduce((n, s) => n + (s.changes?.length ?? 0), 0),
    };
  });
  const payments = records.get(newAccountId);
  if (payments?.profile !== 'production')
    problems.push(`Payments got profile ${payments?.profile}, expected production`);
  if (payments?.lastTrigger !== 'CreateManagedAccount') {
    problems.push(
      `Payments was onboarded by ${payments?.lastTrigger}, expected CreateManagedAccount (from ${home})`,
    );
  }
  if (swept.counts.onboard !== world.org.accounts.length - 1) {
    problems.push(
      `the sweep queued ${swept.counts.onboard} accounts for onboarding, expected the ${world.org.accounts.length - 1} older ones`,
    );
  }
  return {
    rows,
    problems,
    newAccountId,
    managementJob,
    sweep: { accounts: swept.accounts, onboard: swept.counts.onboard, verify: swept.counts.verify },
    world,
  };
}

export function verifyOnboardingMail(
  emails: MotoSentEmail[],
  outcome: OnboardingOutcome,
  accounts: number,
): string[] {
  const problems: string[] = [];
  const ready = emails.filter((e) => e.subject.startsWith('[READY]'));
  if (ready.length !== accounts)
    problems.push(`${ready.length} "backup-ready" emails, expected ${accounts}`);
  if (!ready.some((e) => e.subject.includes(outcome.newAccountId))) {
    problems.push('no "backup-ready" email for the new account');
  }
  const { accountId, region } = outcome.managementJob;
  if (
    !emails.some(
      (e) =>
        e.subject.startsWith('[FAILED] Backup job') &&
        e.subject.endsWith(`(${accountId}) · ${region}`),
    )
  ) {
    problems.push(
      `no alert for the management account's failed backup in ${region}: the forwarding rule there did not carry it`,
    );
  }
  const alerts = emails.filter((e) => e.subject.startsWith('[FAILED] Creating'));
  if (alerts.length !== 1)
    problems.push(`${alerts.length} account-creation failure emails, expected 1`);
  return problems;
}
