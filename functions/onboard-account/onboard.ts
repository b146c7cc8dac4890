import { isInactive } from '../shared/accounts';
import type { Config, Onboarding, Profile } from '../shared/config/schema';
import { errorMessage } from '../shared/errors';
import type {
  AccountAccess,
  AccountRecord,
  Clock,
  Log,
  MemberAccount,
  MemberIam,
  OrganizationAdmin,
  OrgAccount,
  OnboardingLedger,
  PolicyDocument,
  StepRecord,
} from '../shared/ports';
import { partitionFacts, partitionOfArn } from '../shared/partition';
import {
  baselineVaultNames,
  MANAGED_TAG,
  memberRoleDefinition,
  memberRoleKeyStatements,
} from './member-role';
import { chooseProfile } from '../shared/profiles';
import {
  fill,
  forwardingRules,
  samePolicy,
  type Baseline,
  type BaselineVars,
  type ForwardingRule,
} from './baseline';
import type { OnboardingNotifier } from './notices';
import { readEffectivePolicy } from '../shared/backup-plans/merge';
import type { PlanDescription } from '../shared/backup-plans/describe';
import { ouPathOf } from '../shared/notices/account-context';
import type { Trigger } from './triggers';

/**
 * One account's onboarding: resolve → profile → access → baseline (IAM, then per region: key,
 * vault, forwarding) → organizations (backup policies) → verify → tags → notify. Every step
 * checks first and acts only on what differs, and its outcome is saved before the next starts,
 * so a run that dies anywhere is finished by the next trigger or the sweep.
 */

export interface OnboardDeps {
  config: Config;
  baseline: Baseline;
  org: OrganizationAdmin;
  access: AccountAccess;
  ledger: OnboardingLedger;
  notifier: OnboardingNotifier;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  log: Log;
  centralBusArn: string;
  controlPlaneRoleArn: string;
  /**
   * Assume the administrator access roles even when `onboarding.memberRole` is set: an
   * operator's `backupctl onboard`, whose credentials the member role does not trust.
   */
  accessViaAdminRoles?: boolean;
  /** The daily check's role, which the member read-only role trusts too. */
  watchRoleArn: string;
  /** Who holds the account's lock: the invocation's request id. */
  owner: string;
  /** Called after each step is recorded (tests inject faults here). */
  afterStep?: (step: string) => void | Promise<void>;
}

export interface OnboardRequest {
  accountId: string;
  trigger: Trigger;
  controlTower?: boolean;
  /** When the triggering event happened: a run that started later already covers it. */
  eventTime?: string;
  dryRun?: boolean;
  /** Roles to assume instead of the access roles: the read-only role for the daily check. */
  roles?: string[];
  /** What the daily check found different (it sent this run): admins hear it was repaired. */
  drift?: DriftFinding[];
}

/** A drift finding with who made the change, where CloudTrail could say so. */
export interface DriftFinding extends Finding {
  who?: { identity: string; action: string; time: string };
}

/** What differed from the baseline, for a change onboarding made (or, in a dry run, would make). */
export interface Finding {
  what: string;
  /** The resource's name (role, rule, vault, key alias or id, policy), to ask CloudTrail who. */
  resource: string;
  region?: string;
}

export type OnboardResult =
  | { outcome: 'ready' | 'skipped'; record: AccountRecord; changes: string[] }
  | {
      outcome: 'failed';
      record: AccountRecord;
      changes: string[];
      /** The same failure was reported before this run: admins already know. */
      alreadyReported: boolean;
    }
  | {
      outcome: 'planned';
      profile?: string;
      changes: string[];
      /** What differs from the baseline now: drift, for an account that was ready. */
      findings: Finding[];
      skipReason?: string;
    }
  | { outcome: 'busy'; covered: boolean; since?: string; until?: string };

export class AccountBusyError extends Error {
  override name = 'AccountBusyError';
}

export class StepFailure extends Error {
  override name = 'StepFailure';
  constructor(
    readonly step: string,
    message: string,
    readonly advice: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A ledger that remembers nothing: dry runs never lock or save. */
export const NO_LEDGER: OnboardingLedger = {
  get: async () => undefined,
  getMany: async () => new Map<string, AccountRecord>(),
  list: async () => [],
  acquire: async () => ({ acquired: true }),
  release: async () => undefined,
  save: async () => undefined,
};

/** Dry runs tell nobody. */
export const SILENT_NOTIFIER: OnboardingNotifier = {
  ready: async () => undefined,
  driftRepaired: async () => undefined,
  failed: async () => undefined,
  creationFailed: async () => undefined,
  departed: async () => undefined,
};

export function onboardingConfig(config: Config): Onboarding {
  if (!config.onboarding) throw new Error('configuration has no "onboarding" section');
  return config.onboarding;
}

export { ouPathOf };

export async function onboardAccount(
  req: OnboardRequest,
  deps: OnboardDeps,
): Promise<OnboardResult> {
  const settings = onboardingConfig(deps.config);
  const now = () => deps.clock.now();
  if (!req.dryRun) {
    const lock = await deps.ledger.acquire(
      req.accountId,
      deps.owner,
      now(),
      settings.lockSeconds * 1000,
    );
    if (!lock.acquired) {
      // A run that started after this event happened will see the account as it is now.
      const covered =
        Boolean(req.eventTime && lock.since) &&
        Date.parse(lock.since!) >= Date.parse(req.eventTime!);
      if (covered) {
        deps.log.info('onboarding already running for this account; this trigger is covered', {
          accountId: req.accountId,
          since: lock.since,
        });
        return { outcome: 'busy', covered, since: lock.since, until: lock.until };
      }
      throw new AccountBusyError(
        `account ${req.accountId} is being onboarded by ${lock.owner ?? 'another run'} since ${lock.since ?? '?'} (lock until ${lock.until ?? '?'}); retried later`,
      );
    }
  }
  try {
    return await run(req, deps, settings);
  } finally {
    if (!req.dryRun) await deps.ledger.release(req.accountId, deps.owner);
  }
}

async function run(
  req: OnboardRequest,
  deps: OnboardDeps,
  settings: Onboarding,
): Promise<OnboardResult> {
  const { baseline, org } = deps;
  const stamp = () => deps.clock.now().toISOString();
  const previous = req.dryRun ? undefined : await deps.ledger.get(req.accountId);
  if (previous?.status === 'departed') {
    // A request queued before the account left (a retry, a move, a sweep): not a failure.
    try {
      await org.describeAccount(req.accountId);
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name !== 'AccountNotFoundException') throw error;
      deps.log.info('account left the organization; not onboarded', {
        accountId: req.accountId,
        trigger: req.trigger,
      });
      return { outcome: 'skipped', record: previous, changes: [] };
    }
  }
  const record: AccountRecord = {
    accountId: req.accountId,
    status: 'onboarding',
    steps: {},
    attachedPolicies: [],
    ...previous,
    attempts: (previous?.attempts ?? 0) + 1,
    lastTrigger: req.trigger,
    updatedAt: stamp(),
  };
  record.status = 'onboarding';
  record.steps = {};
  const allChanges: string[] = [];
  let account: OrgAccount | undefined;
  let ready: {
    account: OrgAccount;
    profile: Profile;
    ouPath: string;
    tags: Record<string, string>;
    vaultName: string;
  };

  const findings: Finding[] = [];
  /** Does (or, in a dry run, only lists) one change, and says what differed from the baseline. */
  const act: Act = async (changes, what, apply, finding) => {
    changes.push(what);
    findings.push(finding);
    if (!req.dryRun) await apply();
  };

  const step = async <T>(name: string, body: (changes: string[]) => Promise<T>): Promise<T> => {
    const changes: string[] = [];
    try {
      const result = await body(changes);
      const outcome: StepRecord['outcome'] = req.dryRun
        ? 'planned'
        : changes.length
          ? 'changed'
          : 'unchanged';
      record.steps[name] = { outcome, at: stamp(), ...(changes.length ? { changes } : {}) };
      allChanges.push(...changes.map((c) => `${name}: ${c}`));
      if (!req.dryRun) await save();
      await deps.afterStep?.(name);
      return result;
    } catch (error) {
      if (error instanceof StepFailure) throw error;
      throw new StepFailure(name, errorMessage(error), adviceFor(name, error), { cause: error });
    }
  };

  const save = async () => {
    record.updatedAt = stamp();
    await deps.ledger.save(record);
  };

  try {
    // 1. Resolve
    const resolved = await step('resolve', async () => {
      const [account, organization] = await Promise.all([
        org.describeAccount(req.accountId),
        org.describeOrganization(),
      ]);
      const [parents, tags] = await Promise.all([
        org.parents(req.accountId),
        org.accountTags(req.accountId),
      ]);
      return { account, organization, parents, tags, ouPath: ouPathOf(parents) };
    });
    account = resolved.account;
    const skipReason = isInactive(resolved.account.status)
      ? `account is ${resolved.account.status}`
      : resolved.account.id === resolved.organization.managementAccountId &&
          !settings.onboardManagementAccount
        ? 'the management account is not onboarded (onboarding.onboardManagementAccount is false)'
        : resolved.tags[settings.optOutTag]?.toLowerCase() === 'true'
          ? `opted out with tag ${settings.optOutTag}=true`
          : undefined;
    if (skipReason) {
      if (req.dryRun) return { outcome: 'planned', changes: [], findings: [], skipReason };
      record.status = 'skipped';
      record.skipReason = skipReason;
      await save();
      deps.log.info('account skipped', { accountId: req.accountId, reason: skipReason });
      return { outcome: 'skipped', record, changes: [] };
    }
    delete record.skipReason;

    // 2. Profile
    const profile = await step('profile', async () => {
      try {
        return chooseProfile(settings.profiles, {
          ouPath: resolved.ouPath,
          tags: resolved.tags,
          profileTag: settings.profileTag,
        }).profile;
      } catch (error) {
        throw new StepFailure(
          'profile',
          errorMessage(error),
          'Add a profile without `match` as the last one (a default), or one matching this OU.',
        );
      }
    });
    record.profile = profile.name;

    // 3. Access
    const { member, memberRoleArn } = await step('access', (changes) =>
      assumeAccess(req, deps, settings, resolved.organization.id, changes, act),
    );

    const vars: BaselineVars = {
      partition: partitionOfArn(deps.centralBusArn),
      accountId: req.accountId,
      region: '',
      organizationId: resolved.organization.id,
      managementAccountId: resolved.organization.managementAccountId,
      centralBusArn: deps.centralBusArn,
      controlPlaneRoleArn: deps.controlPlaneRoleArn,
      watchRoleArn: deps.watchRoleArn,
    };
    const tags = {
      [MANAGED_TAG.key]: MANAGED_TAG.value,
      'backup-control-plane:baseline-version': String(baseline.version),
    };

    // 4a. Baseline, IAM (global)
    const forwarderRoleArn = await step('baseline-iam', async (changes) => {
      await ensureRole(member, changes, act, {
        partition: vars.partition,
        name: baseline.serviceRole.name,
        description: baseline.serviceRole.description,
        trust: fill(baseline.serviceRole.trustPolicy, vars),
        managed: fill(baseline.serviceRole.managedPolicies, vars),
        tags,
      });
      await ensureRole(member, changes, act, {
        partition: vars.partition,
        name: baseline.readOnlyRole.name,
        description: baseline.readOnlyRole.description,
        trust: fill(baseline.readOnlyRole.trustPolicy, vars),
        inline: {
          name: baseline.readOnlyRole.inlinePolicyName,
          document: fill(baseline.readOnlyRole.inlinePolicy, vars),
        },
        tags,
      });
      const forwarder = baseline.forwarding.role;
      return ensureRole(member, changes, act, {
        partition: vars.partition,
        name: forwarder.name,
        description: forwarder.description,
        trust: fill(forwarder.trustPolicy, vars),
        inline: { name: forwarder.inlinePolicyName, document: fill(forwarder.inlinePolicy, vars) },
        tags,
      });
    });

    // 4b. Baseline, per region
    const vaultName = profile.baseline.vaultName ?? baseline.vault.name;
    for (const region of profile.regions) {
      const regional = { ...vars, region };
      await step(`baseline-${region}`, async (changes) => {
        const keyArn = await ensureKey(member, region, changes, act, baseline, regional, tags, {
          memberRoleArn,
        });
        const vault = await member.backup(region).describeVault(vaultName);
        if (!vault) {
          await act(
            changes,
            `create backup vault ${vaultName} in ${region}`,
            () => member.backup(region).createVault(vaultName, keyArn, tags),
            {
              what: `backup vault ${vaultName} is missing in ${region}`,
              resource: vaultName,
              region,
            },
          );
        } else if (vault.encryptionKeyArn && !req.dryRun && vault.encryptionKeyArn !== keyArn) {
          // A vault's key cannot change: report, do not replace a vault that may hold backups.
          deps.log.warn('vault is encrypted with another key; left as it is', {
            accountId: req.accountId,
            region,
            vault: vaultName,
            key: vault.encryptionKeyArn,
          });
        }
        await ensureForwarding(
          member,
          region,
          changes,
          act,
          baseline,
          deps.centralBusArn,
          forwarderRoleArn,
        );
      });
    }

    // 4c. Calls on global services (IAM, Organizations) reach EventBridge only in the partition's
    // home region: a forwarding rule there too, so tamper alerts about the baseline's roles arrive.
    const home = globalEventsRegion(deps.centralBusArn);
    if (!profile.regions.includes(home)) {
      await step(`forwarding-${home}`, (changes) =>
        ensureForwarding(
          member,
          home,
          changes,
          act,
          baseline,
          deps.centralBusArn,
          forwarderRoleArn,
        ),
      );
    }

    // 5. Organizations: backup policies
    await step('backup-policies', async (changes) => {
      const root = [...resolved.parents].reverse()[0];
      if (root && !(await org.backupPoliciesEnabled(root.id))) {
        await act(
          changes,
          'enable the BACKUP_POLICY policy type on the root',
          () => org.enableBackupPolicies(root.id),
          { what: 'the BACKUP_POLICY policy type is disabled on the root', resource: root.id },
        );
      }
      const attachedHere = await org.backupPoliciesOn(req.accountId);
      const inherited = new Set<string>();
      for (const parent of resolved.parents) {
        for (const p of await org.backupPoliciesOn(parent.id)) inherited.add(p.name);
      }
      const ours = new Set(
        record.attachedPolicies.filter(
          (n) => profile.backupPolicies.includes(n) && attachedHere.some((p) => p.name === n),
        ),
      );
      for (const name of profile.backupPolicies) {
        if (inherited.has(name) || attachedHere.some((p) => p.name === name)) continue;
        const policy = await org.findBackupPolicy(name);
        if (!policy) {
          throw new StepFailure(
            'backup-policies',
            `backup policy "${name}" does not exist in Organizations`,
            `Deploy the stack: it creates the policy from infra/backup-policies/${name}.json.`,
          );
        }
        await act(
          changes,
          `attach backup policy ${name}`,
          () => org.attachPolicy(policy.id, req.accountId),
          { what: `backup policy ${name} is not attached to the account`, resource: name },
        );
        ours.add(name);
      }
      // Policies this control plane attached for an earlier profile (the account moved OU).
      for (const name of record.attachedPolicies.filter(
        (n: string) => !profile.backupPolicies.includes(n),
      )) {
        const attached = attachedHere.find((p) => p.name === name);
        if (attached) {
          await act(
            changes,
            `detach backup policy ${name} (no longer in profile ${profile.name})`,
            () => org.detachPolicy(attached.id, req.accountId),
            {
              what: `backup policy ${name} is attached but not in profile ${profile.name}`,
              resource: name,
            },
          );
        }
      }
      // Only what this control plane attached: an administrator's attachment is never ours to detach.
      record.attachedPolicies = [...ours];
    });

    // 6. Verify backup-ready
    await step('verify', async () => {
      if (req.dryRun) return;
      const problems = await verifyReady(member, profile, baseline, vaultName, deps.centralBusArn);
      if (problems.length) {
        throw new StepFailure(
          'verify',
          `not backup-ready: ${problems.join('; ')}`,
          'Check for a service control policy that denies these changes in the account, then let the sweep retry.',
        );
      }
    });

    // 7. Tags on the account
    await step('tags', async (changes) => {
      await tagAccount(deps, req.accountId, resolved.tags, 'ready', changes, act);
    });

    if (req.dryRun) {
      // One finding per difference, however many changes it takes to repair.
      const unique = [...new Map(findings.map((f) => [f.what, f])).values()];
      return { outcome: 'planned', profile: profile.name, changes: allChanges, findings: unique };
    }

    record.status = 'ready';
    record.baselineVersion = baseline.version;
    delete record.lastError;
    await save();
    ready = {
      account: resolved.account,
      profile,
      ouPath: resolved.ouPath,
      tags: resolved.tags,
      vaultName,
    };
  } catch (error) {
    const failure =
      error instanceof StepFailure
        ? error
        : new StepFailure('onboarding', errorMessage(error), 'See the function logs.', {
            cause: error,
          });
    if (req.dryRun) throw failure;
    record.status = 'failed';
    record.lastError = { step: failure.step, message: failure.message, at: stamp() };
    record.steps[failure.step] = { outcome: 'failed', at: stamp(), error: failure.message };
    await save();
    deps.log.warn('onboarding failed', {
      accountId: req.accountId,
      step: failure.step,
      error: failure.message,
    });
    const key = `${failure.step}: ${failure.message}`;
    const alreadyReported = record.notified?.status === 'failed' && record.notified.error === key;
    if (!alreadyReported) {
      await deps.notifier.failed({
        accountId: req.accountId,
        ...(account ? { account } : {}),
        record,
        step: failure.step,
        error: failure.message,
        advice: failure.advice,
      });
      record.notified = { status: 'failed', error: key };
      await save();
    }
    await tagAccount(deps, req.accountId, undefined, 'failed', [], act).catch((error: unknown) =>
      deps.log.warn('could not tag the account as failed', {
        accountId: req.accountId,
        error: errorMessage(error),
      }),
    );
    return { outcome: 'failed', record, changes: allChanges, alreadyReported };
  }

  // The account is ready and saved as such. Told once: when it first becomes ready, or again
  // after a failure (not for every baseline upgrade: that would mail admins per account). A
  // notice that cannot be sent fails the record; the retry changes nothing and sends it then.
  if (record.notified?.status !== 'ready') {
    const plans = await accountPlans(deps, req.accountId);
    await deps.notifier.ready({ ...ready, record, changes: allChanges, plans });
    record.notified = { status: 'ready', baselineVersion: baseline.version };
    await save();
  } else if (req.drift?.length && !allChanges.length) {
    // Another run (a tamper alert's, or a human) put it back already: that run told admins.
    deps.log.info('drift already repaired; nothing to tell', {
      accountId: req.accountId,
      drift: req.drift.length,
    });
  } else if (req.drift?.length) {
    // The daily check (or a tamper alert) found drift and sent this run: what, who, fixed.
    await deps.notifier.driftRepaired({
      ...ready,
      record,
      drift: req.drift,
      changes: allChanges,
      detectedAt: req.eventTime ?? deps.clock.now().toISOString(),
    });
  }
  deps.log.info('account is backup-ready', {
    accountId: req.accountId,
    profile: ready.profile.name,
    changes: allChanges.length,
  });
  return { outcome: 'ready', record, changes: allChanges };
}

/** The account's backup plans, for the ready notice; a read that fails leaves them out. */
async function accountPlans(
  deps: OnboardDeps,
  accountId: string,
): Promise<PlanDescription[] | undefined> {
  try {
    const content = await deps.org.effectiveBackupPolicy(accountId);
    return content === undefined ? [] : readEffectivePolicy(content);
  } catch (error) {
    deps.log.warn('could not read the effective backup policy for the ready notice', {
      accountId,
      error: errorMessage(error),
    });
    return undefined;
  }
}

function adviceFor(step: string, error: unknown): string {
  const name = (error as { name?: string })?.name ?? '';
  if (/AccessDenied|UnauthorizedOperation|AuthorizationError/i.test(name + errorMessage(error))) {
    return `The role used in the account is missing a permission for step ${step}, or a service control policy denies it.`;
  }
  if (/Throttl|TooManyRequests|Rate exceeded/i.test(name + errorMessage(error))) {
    return 'AWS throttled the calls; the next trigger or the sweep retries.';
  }
  return `Fix the cause, then run: npx backupctl onboard <account id> (or wait for the sweep).`;
}

type Act = (
  changes: string[],
  what: string,
  apply: () => Promise<unknown>,
  finding: Finding,
) => Promise<void>;

/**
 * The member account, through the dedicated member role when `onboarding.memberRole` is set,
 * else through the administrator roles (the daily check's own `req.roles` are used as given, and
 * so are the administrator roles when `accessViaAdminRoles`: an operator's `backupctl onboard`).
 * The member role writes no IAM: with `stackset` the StackSet owns the baseline roles (a change
 * there fails, naming the fix); with `bootstrap` the administrator role keeps them, and the
 * member role itself.
 */
async function assumeAccess(
  req: OnboardRequest,
  deps: OnboardDeps,
  settings: Onboarding,
  organizationId: string,
  changes: string[],
  act: Act,
): Promise<{ member: MemberAccount; memberRoleArn?: string }> {
  const wanted = settings.memberRole;
  if (req.roles || !wanted) return { member: await assumeWithPatience(req, deps, settings) };
  const partition = partitionOfArn(deps.controlPlaneRoleArn);
  const memberRoleArn = `arn:${partition}:iam::${req.accountId}:role/${wanted.name}`;
  if (wanted.deploy === 'stackset' && !deps.accessViaAdminRoles) {
    const member = await assumeWithPatience(req, deps, settings, {
      roles: [wanted.name],
      advice: `The stack's StackSet (output MemberRoleStackSetName) creates ${wanted.name} in every account under onboarding.memberRole.organizationalUnitIds: check that this account is under one of them and that its stack instance succeeded (aws cloudformation list-stack-instances --stack-set-name <name>; backupctl doctor names failed ones). The sweep retries.`,
    });
    return { member: withIam(member, stackSetOwnsIam(member.iam)), memberRoleArn };
  }
  const admin = await assumeWithPatience(req, deps, settings);
  if (wanted.deploy === 'stackset') {
    // An operator through the administrator role: keys name the member role only if it is there
    // (KMS refuses a key policy naming a role that does not exist).
    const exists = await admin.iam.getRole(wanted.name);
    return { member: admin, ...(exists ? { memberRoleArn } : {}) };
  }
  const definition = memberRoleDefinition(
    deps.baseline,
    wanted.name,
    baselineVaultNames(deps.baseline, deps.config),
    {
      partition,
      accountId: req.accountId,
      organizationId,
      controlPlaneAccountId: deps.controlPlaneRoleArn.split(':')[4] ?? '',
      controlPlaneRoleArn: deps.controlPlaneRoleArn,
      centralBusArn: deps.centralBusArn,
    },
  );
  await ensureRole(admin, changes, act, {
    partition,
    name: definition.name,
    description: definition.description,
    trust: definition.trust,
    inline: { name: definition.inlinePolicyName, document: definition.policy },
    tags: { [MANAGED_TAG.key]: MANAGED_TAG.value },
  });
  if (req.dryRun || deps.accessViaAdminRoles) return { member: admin, memberRoleArn };
  // IAM takes a few seconds before a new or changed role can be assumed.
  const member = await assumeWithPatience(req, deps, settings, {
    roles: [wanted.name],
    patientSeconds: 60,
  });
  return { member: withIam(member, admin.iam), memberRoleArn };
}

/** The account with IAM through another role: everything else through the member role. */
const withIam = (member: MemberAccount, iam: MemberIam): MemberAccount => ({
  accountId: member.accountId,
  iam,
  kms: (r) => member.kms(r),
  backup: (r) => member.backup(r),
  events: (r) => member.events(r),
  tagging: (r) => member.tagging(r),
  trail: (r) => member.trail(r),
});

/** IAM read through the member role; a change fails: the StackSet owns the baseline's roles. */
function stackSetOwnsIam(iam: MemberIam): MemberIam {
  const owned = (role: string, change: string) => {
    throw new StepFailure(
      'baseline-iam',
      `role ${role} needs a change (${change}), but with onboarding.memberRole.deploy: stackset the stack's StackSet owns the baseline roles and the member role writes no IAM`,
      "Put the role back with administrator credentials: npx backupctl onboard <account id> (it assumes the access role and repairs the baseline). CloudFormation does not revert drift by itself; deleting and recreating the account's stack instance also works.",
    );
  };
  return {
    getRole: (name) => iam.getRole(name),
    attachedPolicyArns: (name) => iam.attachedPolicyArns(name),
    getInlinePolicy: (name, policy) => iam.getInlinePolicy(name, policy),
    createRole: async (name) => owned(name, 'create it'),
    updateTrustPolicy: async (name) => owned(name, 'its trust policy'),
    attachPolicy: async (name, arn) => owned(name, `attach ${arn}`),
    putInlinePolicy: async (name, policy) => owned(name, `its policy ${policy}`),
  };
}

async function assumeWithPatience(
  req: OnboardRequest,
  deps: OnboardDeps,
  settings: Onboarding,
  options: { roles?: string[]; patientSeconds?: number; advice?: string } = {},
): Promise<MemberAccount> {
  const roles =
    options.roles ??
    req.roles ??
    (req.controlTower
      ? [settings.controlTowerAccessRole, settings.accessRole]
      : [settings.accessRole, settings.controlTowerAccessRole]);
  // A brand-new account's role takes minutes to become assumable; the sweep does not wait.
  const patientSeconds =
    options.patientSeconds ??
    ([
      'CreateAccountResult',
      'CreateManagedAccount',
      'UpdateManagedAccount', // a retried Control Tower create arrives as an update
      'AccountJoinedOrganization',
    ].includes(req.trigger)
      ? settings.assumeRoleTimeoutSeconds
      : 0);
  const patient = patientSeconds > 0;
  const deadline = deps.clock.now().getTime() + patientSeconds * 1000;
  let delay = 2000;
  let lastError: unknown;
  for (;;) {
    for (const role of roles) {
      try {
        return await deps.access.assume(req.accountId, role);
      } catch (error) {
        lastError = error;
      }
    }
    if (deps.clock.now().getTime() + delay > deadline) break;
    await deps.sleep(delay);
    delay = Math.min(delay * 2, 30_000);
  }
  throw new StepFailure(
    'access',
    `cannot assume ${roles.join(' or ')} in account ${req.accountId}${patient ? ` after trying for ${patientSeconds} s` : ''}: ${errorMessage(lastError)}`,
    options.advice ??
      (patient
        ? "A new account's role can take several minutes to appear; the sweep retries. If it never works, check that the role exists and trusts the management account."
        : 'Check that the role exists in the account and trusts the management account (invited accounts must create OrganizationAccountAccessRole themselves).'),
    { cause: lastError },
  );
}

async function ensureRole(
  member: MemberAccount,
  changes: string[],
  act: Act,
  want: {
    partition: string;
    name: string;
    description: string;
    trust: PolicyDocument;
    managed?: string[];
    inline?: { name: string; document: PolicyDocument };
    tags: Record<string, string>;
  },
): Promise<string> {
  const iam = member.iam;
  const existing = await iam.getRole(want.name);
  let arn = existing?.arn ?? `arn:${want.partition}:iam::${member.accountId}:role/${want.name}`;
  if (!existing) {
    await act(
      changes,
      `create role ${want.name}`,
      async () => {
        arn = (await iam.createRole(want.name, want.trust, want.description, want.tags)).arn;
      },
      { what: `role ${want.name} is missing`, resource: want.name },
    );
  } else if (!samePolicy(existing.trustPolicy, want.trust)) {
    await act(
      changes,
      `update the trust policy of role ${want.name}`,
      () => iam.updateTrustPolicy(want.name, want.trust),
      {
        what: `the trust policy of role ${want.name} differs from the baseline`,
        resource: want.name,
      },
    );
  }
  const attached = existing ? await iam.attachedPolicyArns(want.name) : [];
  for (const policyArn of want.managed ?? []) {
    if (!attached.includes(policyArn)) {
      const policy = policyArn.split('/').pop()!;
      await act(
        changes,
        `attach ${policy} to role ${want.name}`,
        () => iam.attachPolicy(want.name, policyArn),
        {
          what: existing
            ? `policy ${policy} is not attached to role ${want.name}`
            : `role ${want.name} is missing`,
          resource: want.name,
        },
      );
    }
  }
  if (want.inline) {
    const current = existing ? await iam.getInlinePolicy(want.name, want.inline.name) : undefined;
    if (!current || !samePolicy(current, want.inline.document)) {
      const inline = want.inline;
      await act(
        changes,
        `${current ? 'update' : 'put'} policy ${inline.name} on role ${want.name}`,
        () => iam.putInlinePolicy(want.name, inline.name, inline.document),
        {
          what: !existing
            ? `role ${want.name} is missing`
            : current
              ? `policy ${inline.name} of role ${want.name} differs from the baseline`
              : `policy ${inline.name} of role ${want.name} is missing`,
          resource: want.name,
        },
      );
    }
  }
  return arn;
}

async function ensureKey(
  member: MemberAccount,
  region: string,
  changes: string[],
  act: Act,
  baseline: Baseline,
  vars: BaselineVars,
  tags: Record<string, string>,
  options: { memberRoleArn?: string | undefined },
): Promise<string> {
  const kms = member.kms(region);
  // With the member role, the key's own policy grants it this key (and no other key).
  const declared = fill(baseline.key.policy, vars);
  const policy = options.memberRoleArn
    ? {
        ...declared,
        Statement: [
          ...(declared.Statement as unknown[]),
          ...memberRoleKeyStatements(options.memberRoleArn),
        ],
      }
    : declared;
  const found = await kms.findAlias(baseline.key.alias);
  if (!found) {
    // A key created by a run that stopped before its alias: reuse it, never make a second one.
    const orphan = await kms.findUnaliasedKey(baseline.key.alias);
    let keyArn =
      orphan?.keyArn ?? `arn:${vars.partition}:kms:${region}:${member.accountId}:key/(new)`;
    const what = orphan
      ? `point ${baseline.key.alias} at the existing key ${orphan.keyId} in ${region}`
      : `create KMS key ${baseline.key.alias} in ${region}`;
    const finding = {
      what: `KMS key ${baseline.key.alias} is missing in ${region}`,
      resource: baseline.key.alias,
      region,
    };
    await act(
      changes,
      what,
      async () => {
        const key =
          orphan ??
          (await kms.createKey(baseline.key.description, policy, {
            ...tags,
            'backup-control-plane:alias': baseline.key.alias,
          }));
        await kms.createAlias(baseline.key.alias, key.keyId);
        if (baseline.key.enableKeyRotation) await kms.enableRotation(key.keyId);
        keyArn = key.keyArn;
      },
      finding,
    );
    return keyArn;
  }
  if (!samePolicy(await kms.getKeyPolicy(found.keyId), policy)) {
    await act(
      changes,
      `update the key policy of ${baseline.key.alias} in ${region}`,
      () => kms.putKeyPolicy(found.keyId, policy),
      {
        what: `the key policy of ${baseline.key.alias} in ${region} differs from the baseline`,
        resource: found.keyId,
        region,
      },
    );
  }
  if (baseline.key.enableKeyRotation && !(await kms.rotationEnabled(found.keyId))) {
    await act(
      changes,
      `enable rotation of ${baseline.key.alias} in ${region}`,
      () => kms.enableRotation(found.keyId),
      {
        what: `rotation of ${baseline.key.alias} is off in ${region}`,
        resource: found.keyId,
        region,
      },
    );
  }
  return found.keyArn;
}

/** Where CloudTrail delivers global services' calls to EventBridge, by the bus's partition. */
export const globalEventsRegion = (busArn: string): string =>
  partitionFacts(partitionOfArn(busArn)).globalServicesRegion;

/** Every forwarding rule in one region: enabled, with its pattern, targeting the central bus. */
async function ensureForwarding(
  member: MemberAccount,
  region: string,
  changes: string[],
  act: Act,
  baseline: Baseline,
  centralBusArn: string,
  roleArn: string,
): Promise<void> {
  for (const f of forwardingRules(baseline)) {
    await ensureForwardingRule(member, region, changes, act, f, baseline.forwarding.targetId, {
      centralBusArn,
      roleArn,
    });
  }
}

async function ensureForwardingRule(
  member: MemberAccount,
  region: string,
  changes: string[],
  act: Act,
  f: ForwardingRule,
  targetId: string,
  bus: { centralBusArn: string; roleArn: string },
): Promise<void> {
  const events = member.events(region);
  const rule = await events.describeRule(f.name);
  if (!rule) {
    await act(
      changes,
      `create rule ${f.name} in ${region}`,
      () => events.putRule(f.name, f.pattern, f.description),
      {
        what: `forwarding rule ${f.name} is missing in ${region}`,
        resource: f.name,
        region,
      },
    );
  } else if (rule.state !== 'ENABLED' || !samePolicy(rule.pattern, f.pattern)) {
    const disabled = rule.state !== 'ENABLED';
    await act(
      changes,
      `${disabled ? 'enable' : 'update the pattern of'} rule ${f.name} in ${region}`,
      () => events.putRule(f.name, f.pattern, f.description),
      {
        what: disabled
          ? `forwarding rule ${f.name} is ${rule.state} in ${region}`
          : `forwarding rule ${f.name} in ${region} has another event pattern`,
        resource: f.name,
        region,
      },
    );
  }
  const targets = rule ? await events.targets(f.name) : [];
  const target = targets.find((t) => t.id === targetId);
  const { centralBusArn, roleArn } = bus;
  // A bus in the same account and region needs no role; any other bus does.
  const sameAccountRegion = centralBusArn.includes(`:${region}:${member.accountId}:`);
  const want = { id: targetId, arn: centralBusArn, ...(sameAccountRegion ? {} : { roleArn }) };
  if (!target || target.arn !== want.arn || (target.roleArn ?? undefined) !== want.roleArn) {
    await act(
      changes,
      `point rule ${f.name} in ${region} at the central bus`,
      () => events.putTarget(f.name, want),
      {
        what: !rule
          ? `forwarding rule ${f.name} is missing in ${region}`
          : target
            ? `forwarding rule ${f.name} in ${region} targets ${target.arn}${target.roleArn !== want.roleArn ? ' with another role' : ''}, not the central bus`
            : `forwarding rule ${f.name} in ${region} has no target on the central bus`,
        resource: f.name,
        region,
      },
    );
  }
}

/** What "backup-ready" means, checked against what exists now. */
export async function verifyReady(
  member: MemberAccount,
  profile: Profile,
  baseline: Baseline,
  vaultName: string,
  centralBusArn: string,
): Promise<string[]> {
  const problems: string[] = [];
  const role = await member.iam.getRole(baseline.serviceRole.name);
  if (!role) problems.push(`role ${baseline.serviceRole.name} is missing`);
  else if (!JSON.stringify(role.trustPolicy).includes('backup.amazonaws.com')) {
    problems.push(`role ${baseline.serviceRole.name} does not trust backup.amazonaws.com`);
  }
  for (const region of profile.regions) {
    if (!(await member.backup(region).describeVault(vaultName))) {
      problems.push(`vault ${vaultName} is missing in ${region}`);
    }
    for (const f of forwardingRules(baseline)) {
      const rule = await member.events(region).describeRule(f.name);
      if (!rule || rule.state !== 'ENABLED') {
        problems.push(`rule ${f.name} is ${rule ? 'disabled' : 'missing'} in ${region}`);
      } else if (
        !(await member.events(region).targets(f.name)).some((t) => t.arn === centralBusArn)
      ) {
        problems.push(`rule ${f.name} in ${region} does not target the central bus`);
      }
    }
  }
  return problems;
}

async function tagAccount(
  deps: OnboardDeps,
  accountId: string,
  current: Record<string, string> | undefined,
  status: 'ready' | 'failed',
  changes: string[],
  act: Act,
): Promise<void> {
  const names = deps.baseline.accountTags;
  const version = String(deps.baseline.version);
  const tags = current ?? (await deps.org.accountTags(accountId));
  if (tags[names.status] === status && tags[names.baselineVersion] === version) return;
  await act(
    changes,
    `tag the account ${names.status}=${status}, ${names.baselineVersion}=${version}`,
    () =>
      deps.org.tagAccount(accountId, {
        [names.status]: status,
        [names.baselineVersion]: version,
        [names.updatedAt]: deps.clock.now().toISOString(),
      }),
    {
      what: `account tags ${names.status}=${tags[names.status] ?? '(none)'}, ${names.baselineVersion}=${tags[names.baselineVersion] ?? '(none)'}`,
      resource: accountId,
    },
  );
}
