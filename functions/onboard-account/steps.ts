import { isInactive } from '../shared/accounts';
import type { Onboarding, Profile } from '../shared/config/schema';
import { errorMessage } from '../shared/errors';
import { ouPathOf } from '../shared/notices/account-context';
import { partitionOfArn } from '../shared/partition';
import type { AccountRecord, MemberAccount, OrgAccount, OrgParent } from '../shared/ports';
import { chooseProfile } from '../shared/profiles';
import { fill, type BaselineVars } from './baseline';
import { baselineVaultNames, MANAGED_TAG, memberRoleDefinition } from './member-role';
import type { OnboardDeps, OnboardRequest } from './onboard';
import { ensureAccountTags } from './resources/account-tags';
import type { Act } from './resources/change';
import { ensureForwarding, globalEventsRegion, verifyForwarding } from './resources/forwarding';
import { ensureKey } from './resources/key';
import { ensureRole, verifyServiceRole, type MemberIam } from './resources/role';
import { ensureVault, verifyVault } from './resources/vault';
import {
  centralVaultKeyStatements,
  ensureAirGappedVault,
  ensureCentralVault,
  verifyAirGappedVault,
  verifyCentralVault,
} from './resources/central-vault';
import { centralVault, type CentralVault } from '../shared/central-backup';

/**
 * The onboarding steps, in order. onboard.ts runs them: each one checks first and acts only on
 * what differs (through `act`, which a dry run only records), and its outcome is saved before the
 * next starts, so a run that dies anywhere is finished by the next trigger or the sweep.
 *
 * A new baseline resource kind is a module in resources/ (its port, ensure and verify) and a call
 * here, in the step that owns its scope (global IAM, or per region).
 */

/** Why a step failed, and what a person can do about it. */
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

interface Resolved {
  account: OrgAccount;
  organization: { id: string; managementAccountId: string };
  parents: OrgParent[];
  tags: Record<string, string>;
  ouPath: string;
}

/** What a run knows so far: each step reads what earlier steps found and adds its own. */
export class Progress {
  resolved!: Resolved;
  /** Set by `resolve` when the account is not to be onboarded: the run stops there. */
  skipReason?: string;
  profile!: Profile;
  vaultName!: string;
  member!: MemberAccount;
  memberRoleArn?: string;
  vars!: BaselineVars;
  /** The tags every baseline resource carries. */
  resourceTags!: Record<string, string>;
  forwarderRoleArn!: string;

  constructor(
    readonly req: OnboardRequest,
    readonly deps: OnboardDeps,
    readonly settings: Onboarding,
    readonly record: AccountRecord,
    readonly act: Act,
  ) {}
}

export interface OnboardingStep {
  /** The step's name in the ledger and in messages; a regional step's gets `-<region>`. */
  readonly name: string;
  /** A regional step runs once per region it returns (none: it does not run). */
  readonly regions?: (p: Progress) => readonly string[];
  run(p: Progress, changes: string[], region: string): Promise<void>;
}

export const stepName = (step: OnboardingStep, region: string): string =>
  step.regions ? `${step.name}-${region}` : step.name;

/** 1. Who the account is: its organization, OU path and tags; whether it is onboarded at all. */
async function resolve(p: Progress): Promise<void> {
  const { org } = p.deps;
  const [account, organization] = await Promise.all([
    org.describeAccount(p.req.accountId),
    org.describeOrganization(),
  ]);
  const [parents, tags] = await Promise.all([
    org.parents(p.req.accountId),
    org.accountTags(p.req.accountId),
  ]);
  p.resolved = { account, organization, parents, tags, ouPath: ouPathOf(parents) };
  const settings = p.settings;
  const skipReason = isInactive(account.status)
    ? `account is ${account.status}`
    : account.id === organization.managementAccountId && !settings.onboardManagementAccount
      ? 'the management account is not onboarded (onboarding.onboardManagementAccount is false)'
      : tags[settings.optOutTag]?.toLowerCase() === 'true'
        ? `opted out with tag ${settings.optOutTag}=true`
        : undefined;
  if (skipReason) p.skipReason = skipReason;
  else delete p.record.skipReason;
}

/** 2. Which onboarding profile applies (by OU path, tag, or the default). */
async function profile(p: Progress): Promise<void> {
  try {
    p.profile = chooseProfile(p.settings.profiles, {
      ouPath: p.resolved.ouPath,
      tags: p.resolved.tags,
      profileTag: p.settings.profileTag,
    }).profile;
  } catch (error) {
    throw new StepFailure(
      'profile',
      errorMessage(error),
      'Add a profile without `match` as the last one (a default), or one matching this OU.',
    );
  }
  p.record.profile = p.profile.name;
  p.vaultName = p.profile.baseline.vaultName ?? p.deps.baseline.vault.name;
}

/** 3. Access to the member account (the member role, or the administrator roles). */
async function access(p: Progress, changes: string[]): Promise<void> {
  const got = await assumeAccess(
    p.req,
    p.deps,
    p.settings,
    p.resolved.organization.id,
    changes,
    p.act,
  );
  p.member = got.member;
  if (got.memberRoleArn) p.memberRoleArn = got.memberRoleArn;
  const { deps } = p;
  p.vars = {
    partition: partitionOfArn(deps.centralBusArn),
    accountId: p.req.accountId,
    region: '',
    organizationId: p.resolved.organization.id,
    managementAccountId: p.resolved.organization.managementAccountId,
    centralBusArn: deps.centralBusArn,
    controlPlaneRoleArn: deps.controlPlaneRoleArn,
    watchRoleArn: deps.watchRoleArn,
  };
  p.resourceTags = {
    [MANAGED_TAG.key]: MANAGED_TAG.value,
    'backup-control-plane:baseline-version': String(deps.baseline.version),
  };
}

/** 4a. The baseline's roles (IAM is global): service role, read-only role, forwarder role. */
async function baselineIam(p: Progress, changes: string[]): Promise<void> {
  const { baseline } = p.deps;
  const { vars, resourceTags: tags } = p;
  await ensureRole(p.member, changes, p.act, {
    partition: vars.partition,
    name: baseline.serviceRole.name,
    description: baseline.serviceRole.description,
    trust: fill(baseline.serviceRole.trustPolicy, vars),
    managed: fill(baseline.serviceRole.managedPolicies, vars),
    tags,
  });
  await ensureRole(p.member, changes, p.act, {
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
  p.forwarderRoleArn = await ensureRole(p.member, changes, p.act, {
    partition: vars.partition,
    name: forwarder.name,
    description: forwarder.description,
    trust: fill(forwarder.trustPolicy, vars),
    inline: { name: forwarder.inlinePolicyName, document: fill(forwarder.inlinePolicy, vars) },
    tags,
  });
}

/** The central vault, when this account is the central backup account (`centralBackup`). */
function centralHere(p: Progress): CentralVault | undefined {
  const central = centralVault(p.deps.config);
  return central?.accountId === p.req.accountId ? central : undefined;
}

/** The baseline key in a region: one declaration, whichever step checks it. */
function regionKey(p: Progress, changes: string[], region: string): Promise<string> {
  const central = centralHere(p);
  return ensureKey(
    p.member,
    region,
    changes,
    p.act,
    p.deps.baseline,
    { ...p.vars, region },
    p.resourceTags,
    {
      memberRoleArn: p.memberRoleArn,
      // In the central account, the key of the central vault's regions lets copies in.
      ...(central?.regions.includes(region)
        ? { extraStatements: centralVaultKeyStatements(p.resolved.organization.id, region) }
        : {}),
    },
  );
}

/** 4b. Per region of the profile: the key, the vault, the forwarding rules. */
async function baselineRegion(p: Progress, changes: string[], region: string): Promise<void> {
  const { deps } = p;
  const keyArn = await regionKey(p, changes, region);
  await ensureVault(
    p.member.backup(region),
    { name: p.vaultName, region, keyArn, tags: p.resourceTags },
    changes,
    p.act,
    { accountId: p.req.accountId, dryRun: Boolean(p.req.dryRun), log: deps.log },
  );
  await ensureForwarding(
    p.member,
    region,
    changes,
    p.act,
    deps.baseline,
    deps.centralBusArn,
    p.forwarderRoleArn,
  );
}

/**
 * 4c. The central backup account only, per region of the central vault: the vault the backup
 * policies copy into, its access policy (the organization's copies) and Vault Lock.
 */
async function centralVaultRegion(p: Progress, changes: string[], region: string): Promise<void> {
  const central = centralHere(p)!;
  const keyArn = await regionKey(p, changes, region);
  await ensureCentralVault(
    p.member.backup(region),
    {
      central,
      region,
      keyArn,
      organizationId: p.resolved.organization.id,
      tags: p.resourceTags,
    },
    changes,
    p.act,
    {
      accountId: p.req.accountId,
      dryRun: Boolean(p.req.dryRun),
      log: p.deps.log,
      now: p.deps.clock.now(),
    },
  );
  await ensureAirGappedVault(
    p.member.backup(region),
    { central, region, organizationId: p.resolved.organization.id, tags: p.resourceTags },
    changes,
    p.act,
  );
}

/**
 * 4d. Calls on global services (IAM, Organizations) reach EventBridge only in the partition's
 * home region: a forwarding rule there too, so tamper alerts about the baseline's roles arrive.
 */
function forwardingOnlyRegions(p: Progress): readonly string[] {
  const home = globalEventsRegion(p.deps.centralBusArn);
  // And the central vault's regions outside the profile: its jobs and tamper alerts come too.
  return [...new Set([home, ...(centralHere(p)?.regions ?? [])])].filter(
    (r) => !p.profile.regions.includes(r),
  );
}

async function homeForwarding(p: Progress, changes: string[], region: string): Promise<void> {
  await ensureForwarding(
    p.member,
    region,
    changes,
    p.act,
    p.deps.baseline,
    p.deps.centralBusArn,
    p.forwarderRoleArn,
  );
}

/** 5. Organizations: the profile's backup policies attached (and ours no longer in it detached). */
async function backupPolicies(progress: Progress, changes: string[]): Promise<void> {
  const { req, record, profile, act, resolved } = progress;
  const { org } = progress.deps;
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
}

/** 6. Backup-ready, checked against what exists now (not in a dry run). */
async function verify(p: Progress): Promise<void> {
  if (p.req.dryRun) return;
  const problems = await verifyReady(
    p.member,
    p.profile,
    p.deps.baseline,
    p.vaultName,
    p.deps.centralBusArn,
  );
  const central = centralHere(p);
  for (const region of central?.regions ?? []) {
    if (!p.profile.regions.includes(region)) {
      problems.push(
        ...(await verifyForwarding(
          p.member.events(region),
          region,
          p.deps.baseline,
          p.deps.centralBusArn,
        )),
      );
    }
    problems.push(
      ...(await verifyCentralVault(
        p.member.backup(region),
        central!,
        region,
        p.resolved.organization.id,
        p.deps.clock.now(),
      )),
      ...(await verifyAirGappedVault(
        p.member.backup(region),
        central!,
        region,
        p.resolved.organization.id,
      )),
    );
  }
  if (problems.length) {
    throw new StepFailure(
      'verify',
      `not backup-ready: ${problems.join('; ')}`,
      problems.some((x) =>
        /immutable since|never weakens a lock|fixed at its creation|not logically air-gapped/.test(
          x,
        ),
      )
        ? "Onboarding never weakens Vault Lock, and some settings cannot change at all (a compliance lock past its grace time; a logically air-gapped vault's type and retention): set centralBackup to what the vault has (or give centralBackup.airGappedVault a new name), and redeploy; or change the lock yourself, while it is in governance mode or its grace time, if less protection is meant."
        : 'Check for a service control policy that denies these changes in the account, then let the sweep retry.',
    );
  }
}

/** 7. The account's status tags in Organizations. */
async function accountTags(p: Progress, changes: string[]): Promise<void> {
  await ensureAccountTags(
    p.deps.org,
    p.deps.baseline,
    { accountId: p.req.accountId, status: 'ready', now: p.deps.clock.now() },
    p.resolved.tags,
    changes,
    p.act,
  );
}

/** The steps, in the order they run. */
export const ONBOARDING_STEPS: readonly OnboardingStep[] = [
  { name: 'resolve', run: resolve },
  { name: 'profile', run: profile },
  { name: 'access', run: access },
  { name: 'baseline-iam', run: baselineIam },
  { name: 'baseline', regions: (p) => p.profile.regions, run: baselineRegion },
  { name: 'central-vault', regions: (p) => centralHere(p)?.regions ?? [], run: centralVaultRegion },
  { name: 'forwarding', regions: forwardingOnlyRegions, run: homeForwarding },
  { name: 'backup-policies', run: backupPolicies },
  { name: 'verify', run: verify },
  { name: 'tags', run: accountTags },
];

/** What "backup-ready" means, checked against what exists now: each resource kind's verify. */
export async function verifyReady(
  member: MemberAccount,
  profile: Profile,
  baseline: OnboardDeps['baseline'],
  vaultName: string,
  centralBusArn: string,
): Promise<string[]> {
  const problems = await verifyServiceRole(member.iam, baseline.serviceRole.name);
  for (const region of profile.regions) {
    problems.push(...(await verifyVault(member.backup(region), vaultName, region)));
    problems.push(
      ...(await verifyForwarding(member.events(region), region, baseline, centralBusArn)),
    );
  }
  return problems;
}

export function adviceFor(step: string, error: unknown): string {
  const name = (error as { name?: string })?.name ?? '';
  if (/AccessDenied|UnauthorizedOperation|AuthorizationError/i.test(name + errorMessage(error))) {
    return `The role used in the account is missing a permission for step ${step}, or a service control policy denies it.`;
  }
  if (/Throttl|TooManyRequests|Rate exceeded/i.test(name + errorMessage(error))) {
    return 'AWS throttled the calls; the next trigger or the sweep retries.';
  }
  return `Fix the cause, then run: npx backupctl onboard <account id> (or wait for the sweep).`;
}

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
  if (!wanted) return { member: await assumeWithPatience(req, deps, settings) };
  const partition = partitionOfArn(deps.controlPlaneRoleArn);
  const memberRoleArn = `arn:${partition}:iam::${req.accountId}:role/${wanted.name}`;
  // The daily check's dry run through its own role: the keys are expected to name the member
  // role, as onboarding made them (without it, every key would be drift every day); unless the
  // StackSet never made the role here: then an operator onboarded it through the administrator
  // role, whose keys cannot name a missing role.
  if (req.roles) {
    const member = await assumeWithPatience(req, deps, settings);
    const exists = wanted.deploy !== 'stackset' || Boolean(await member.iam.getRole(wanted.name));
    return { member, ...(exists ? { memberRoleArn } : {}) };
  }
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
    centralVault(deps.config),
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
