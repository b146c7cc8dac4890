import { loadBaseline } from '../../functions/onboard-account/baseline';
import type {
  CreationFailedFacts as CreationFailedNotice,
  DriftRepairedFacts,
  FailedFacts as FailedNotice,
  OnboardingNotifier,
  DepartedFacts,
  ReadyFacts as ReadyNotice,
} from '../../functions/onboard-account/notices';
import { effectivePlans } from '../../functions/shared/backup-plans/merge';
import { loadBackupPolicies } from '../../tools/backup-policy/load';
import type { OnboardDeps } from '../../functions/onboard-account/onboard';
import type { Log } from '../../functions/shared/ports';
import type { Config, Onboarding } from '../../functions/shared/config/schema';
import type {
  AccountAccess,
  AccountRecord,
  Clock,
  LockResult,
  MemberAccount,
  MemberBackup,
  MemberEvents,
  MemberIam,
  MemberKms,
  OnboardingLedger,
  OrgAccount,
  OrganizationAdmin,
  OrgParent,
  PolicyDocument,
  PolicyRef,
  RuleTarget,
  WorkQueue,
  ProtectedResource,
  JobHistoryEntry,
  MemberTagging,
  MemberTrail,
  ChangeRecord,
} from '../../functions/shared/ports';
import { FakeClock } from './fakes';
import { exampleConfig } from './fixtures';

/**
 * In-memory stand-ins for everything onboarding talks to. Each fake keeps the state a real
 * service would (so a second run sees what the first created) and a `writes` log of every
 * call that changes something, in order, so a test can say "exactly these changes, nothing
 * else". Tests change the state behind onboarding's back (drift) through the public maps,
 * which does not log.
 */

export const ORG_ID = 'o-exampleorg1';
export const MANAGEMENT_ID = '111122223333';
export const MEMBER_ID = '222233334444';
export const ROOT_ID = 'r-ab12';
export const WORKLOADS_OU = 'ou-ab12-workload1';
export const PRODUCTION_OU = 'ou-ab12-producti1';
export const CENTRAL_BUS_ARN =
  'arn:aws:events:us-east-1:111122223333:event-bus/backup-control-plane-dev';
export const CONTROL_PLANE_ROLE_ARN =
  'arn:aws:iam::111122223333:role/backup-control-plane-dev-onboarding';
export const WATCH_ROLE_ARN = 'arn:aws:iam::111122223333:role/backup-control-plane-dev-watch';
export const POLICY_IDS: Readonly<Record<string, string>> = {
  'daily-35-days': 'p-daily35days',
  'production-critical': 'p-prodcritical',
};

/** One change made through a fake: the operation, then its arguments. */
export type Write = [string, ...unknown[]];

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** An AWS-looking error (the name is what the code and the advice look at). */
export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** Throws the error registered for `op`, if any (it stays until the test deletes it). */
function failIf(failures: Map<string, Error>, op: string): void {
  const error = failures.get(op);
  if (error) throw error;
}

// ---------------------------------------------------------------------------------------------

/** Organizations: a root, Workloads and Workloads/Production OUs, the management account. */
export class FakeOrganization implements OrganizationAdmin {
  readonly writes: Write[] = [];
  readonly failures = new Map<string, Error>();
  readonly organization = { id: ORG_ID, managementAccountId: MANAGEMENT_ID };
  readonly accounts = new Map<string, OrgAccount>();
  /** child (account or OU) → parent id */
  readonly parentOf = new Map<string, string>();
  readonly nodes = new Map<string, OrgParent>();
  readonly tags = new Map<string, Record<string, string>>();
  /** policy name → id; a name missing here does not exist in Organizations */
  readonly policies = new Map<string, string>(Object.entries(POLICY_IDS));
  /** target id → attached policy ids */
  readonly attachments = new Map<string, Set<string>>();
  backupPolicyTypeEnabled = false;

  constructor() {
    this.nodes.set(ROOT_ID, { id: ROOT_ID, name: 'Root', type: 'ROOT' });
    this.addOu(WORKLOADS_OU, 'Workloads', ROOT_ID);
    this.addOu(PRODUCTION_OU, 'Production', WORKLOADS_OU);
    this.addAccount(
      { id: MANAGEMENT_ID, name: 'Management', email: 'aws-root@example.com', status: 'ACTIVE' },
      ROOT_ID,
    );
  }

  addOu(id: string, name: string, parentId: string): void {
    this.nodes.set(id, { id, name, type: 'ORGANIZATIONAL_UNIT' });
    this.parentOf.set(id, parentId);
  }

  addAccount(account: OrgAccount, parentId: string, tags: Record<string, string> = {}): void {
    this.accounts.set(account.id, { ...account });
    this.parentOf.set(account.id, parentId);
    this.tags.set(account.id, { ...tags });
  }

  /** Attaches a policy as an administrator would (not logged as onboarding's write). */
  attachByHand(policyName: string, targetId: string): void {
    const id = this.policies.get(policyName)!;
    const set = this.attachments.get(targetId) ?? new Set<string>();
    set.add(id);
    this.attachments.set(targetId, set);
  }

  /** Names of the policies attached directly to a target. */
  policyNamesOn(targetId: string): string[] {
    const byId = new Map([...this.policies].map(([name, id]) => [id, name]));
    return [...(this.attachments.get(targetId) ?? [])].map((id) => byId.get(id) ?? id).sort();
  }

  async describeOrganization() {
    failIf(this.failures, 'describeOrganization');
    return { ...this.organization };
  }

  async describeAccount(accountId: string): Promise<OrgAccount> {
    failIf(this.failures, 'describeAccount');
    const account = this.accounts.get(accountId);
    if (!account) {
      throw awsError('AccountNotFoundException', "You specified an account that doesn't exist.");
    }
    return { ...account };
  }

  async parents(accountId: string): Promise<OrgParent[]> {
    const chain: OrgParent[] = [];
    for (let id = this.parentOf.get(accountId); id; id = this.parentOf.get(id)) {
      chain.push({ ...this.nodes.get(id)! });
    }
    return chain;
  }

  async accountTags(accountId: string): Promise<Record<string, string>> {
    return { ...(this.tags.get(accountId) ?? {}) };
  }

  async tagAccount(accountId: string, tags: Record<string, string>): Promise<void> {
    failIf(this.failures, 'tagAccount');
    this.writes.push(['tagAccount', accountId, { ...tags }]);
    this.tags.set(accountId, { ...this.tags.get(accountId), ...tags });
  }

  async backupPoliciesEnabled(rootId: string): Promise<boolean> {
    return rootId === ROOT_ID && this.backupPolicyTypeEnabled;
  }

  async enableBackupPolicies(rootId: string): Promise<void> {
    this.writes.push(['enableBackupPolicies', rootId]);
    this.backupPolicyTypeEnabled = true;
  }

  async findBackupPolicy(name: string): Promise<PolicyRef | undefined> {
    const id = this.policies.get(name);
    return id ? { id, name } : undefined;
  }

  async policyName(policyId: string): Promise<string | undefined> {
    failIf(this.failures, 'policyName');
    return [...this.policies].find(([, id]) => id === policyId)?.[0];
  }

  async backupPoliciesOn(targetId: string): Promise<PolicyRef[]> {
    const byId = new Map([...this.policies].map(([name, id]) => [id, name]));
    return [...(this.attachments.get(targetId) ?? [])].map((id) => ({
      id,
      name: byId.get(id) ?? id,
    }));
  }

  async attachPolicy(policyId: string, targetId: string): Promise<void> {
    failIf(this.failures, 'attachPolicy');
    this.writes.push(['attachPolicy', policyId, targetId]);
    const set = this.attachments.get(targetId) ?? new Set<string>();
    set.add(policyId);
    this.attachments.set(targetId, set);
  }

  async detachPolicy(policyId: string, targetId: string): Promise<void> {
    this.writes.push(['detachPolicy', policyId, targetId]);
    this.attachments.get(targetId)?.delete(policyId);
  }

  async *listAccounts(): AsyncIterable<OrgAccount> {
    for (const account of this.accounts.values()) yield { ...account };
  }

  /** Merges the policies of infra/backup-policies/ attached root first, then OUs, the account. */
  async effectiveBackupPolicy(accountId: string): Promise<unknown> {
    failIf(this.failures, 'effectiveBackupPolicy');
    const byId = new Map([...this.policies].map(([name, id]) => [id, name]));
    const chain = [...(await this.parents(accountId))].reverse().map((p) => p.id);
    const names = [...chain, accountId].flatMap((target) =>
      [...(this.attachments.get(target) ?? [])].map((id) => byId.get(id) ?? id),
    );
    if (!names.length) return undefined;
    const files = loadBackupPolicies();
    const docs = names.flatMap((n) => files.get(n)?.document ?? []);
    return { plans: effectivePlans(docs, names).plans };
  }
}

// ---------------------------------------------------------------------------------------------

export interface FakeRole {
  arn: string;
  trustPolicy: PolicyDocument;
  description: string;
  tags: Record<string, string>;
  attached: string[];
  inline: Map<string, PolicyDocument>;
}

export interface FakeKey {
  keyId: string;
  keyArn: string;
  region: string;
  description: string;
  policy: PolicyDocument;
  rotation: boolean;
  state: 'Enabled' | 'PendingDeletion';
  tags: Record<string, string>;
}

export interface FakeVault {
  arn: string;
  encryptionKeyArn: string;
  vaultType?: string;
  tags: Record<string, string>;
  accessPolicy?: PolicyDocument;
  lock?: { minRetentionDays: number; maxRetentionDays?: number; lockDate?: Date };
}

export interface FakeRule {
  arn: string;
  state: 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
  pattern: PolicyDocument;
  description: string;
  targets: RuleTarget[];
}

/**
 * One member account: IAM (global) and KMS, Backup, EventBridge per region. Operations fail
 * the way AWS does when they would conflict (creating what exists), so a flow that forgets to
 * check first fails here too. `failures` makes an operation (e.g. "kms.createKey") throw.
 */
export class FakeMemberAccount implements MemberAccount {
  readonly writes: Write[] = [];
  readonly failures = new Map<string, Error>();
  readonly roles = new Map<string, FakeRole>();
  /** by key id */
  readonly keys = new Map<string, FakeKey>();
  /** `${region}|${alias}` → key id */
  readonly aliases = new Map<string, string>();
  /** `${region}|${name}` */
  readonly vaults = new Map<string, FakeVault>();
  /** `${region}|${name}` */
  readonly rules = new Map<string, FakeRule>();
  readonly iam: MemberIam;
  /** What AWS Backup has backed up, by region (ListProtectedResources). */
  readonly protectedByRegion = new Map<string, ProtectedResource[]>();
  /** Region opt-in per resource type; a type not listed is opted in. */
  readonly optIn = new Map<string, Record<string, boolean>>();
  /** Job history, by region. */
  readonly jobHistory = new Map<string, JobHistoryEntry[]>();
  /** `${region}|${tagKey}=${value}` → resource ARNs carrying the tag. */
  readonly tagged = new Map<string, string[]>();
  /** CloudTrail: `${region}|${resourceName}` → the newest change. */
  readonly changes = new Map<string, ChangeRecord>();
  /** Reads that were made, e.g. "backup.jobs:us-east-1:backup". */
  readonly reads: string[] = [];
  private nextKey = 0;
  private readonly perRegion = new Map<
    string,
    { kms: MemberKms; backup: MemberBackup; events: MemberEvents }
  >();

  constructor(readonly accountId: string) {
    this.iam = this.makeIam();
  }

  role(name: string): FakeRole {
    const role = this.roles.get(name);
    if (!role) throw new Error(`test: role ${name} does not exist`);
    return role;
  }

  keyFor(region: string, alias: string): FakeKey {
    const key = this.keys.get(this.aliases.get(`${region}|${alias}`) ?? '');
    if (!key) throw new Error(`test: no key behind ${alias} in ${region}`);
    return key;
  }

  vault(region: string, name: string): FakeVault | undefined {
    return this.vaults.get(`${region}|${name}`);
  }

  rule(region: string, name: string): FakeRule {
    const rule = this.rules.get(`${region}|${name}`);
    if (!rule) throw new Error(`test: rule ${name} does not exist in ${region}`);
    return rule;
  }

  kms(region: string): MemberKms {
    return this.clientsFor(region).kms;
  }

  backup(region: string): MemberBackup {
    return this.clientsFor(region).backup;
  }

  events(region: string): MemberEvents {
    return this.clientsFor(region).events;
  }

  tagging(region: string): MemberTagging {
    return {
      taggedResources: async (key, values) => {
        failIf(this.failures, 'tagging.taggedResources');
        this.reads.push(`tagging:${region}:${key}`);
        const arns = new Set<string>();
        for (const [k, list] of this.tagged) {
          const [r, tag] = k.split('|');
          const [tagKey, value] = tag!.split('=');
          if (r === region && tagKey === key && (!values.length || values.includes(value!))) {
            list.forEach((a) => arns.add(a));
          }
        }
        return [...arns].map((arn) => ({ arn }));
      },
    };
  }

  trail(region: string): MemberTrail {
    return {
      lastChange: async (resourceName) => {
        this.reads.push(`trail:${region}:${resourceName}`);
        return this.changes.get(`${region}|${resourceName}`);
      },
    };
  }

  /** The same object per region, so a test can spy on one of its methods. */
  private clientsFor(region: string) {
    let clients = this.perRegion.get(region);
    if (!clients) {
      clients = {
        kms: this.makeKms(region),
        backup: this.makeBackup(region),
        events: this.makeEvents(region),
      };
      this.perRegion.set(region, clients);
    }
    return clients;
  }

  private act(op: string, ...args: unknown[]): void {
    failIf(this.failures, op);
    this.writes.push([op, ...args]);
  }

  private makeIam(): MemberIam {
    const noSuchRole = (name: string) =>
      awsError('NoSuchEntityException', `The role with name ${name} cannot be found.`);
    return {
      getRole: async (name) => {
        const role = this.roles.get(name);
        return role ? { arn: role.arn, trustPolicy: copy(role.trustPolicy) } : undefined;
      },
      createRole: async (name, trustPolicy, description, tags) => {
        this.act('iam.createRole', name);
        if (this.roles.has(name)) {
          throw awsError('EntityAlreadyExistsException', `Role with name ${name} already exists.`);
        }
        const arn = `arn:aws:iam::${this.accountId}:role/${name}`;
        this.roles.set(name, {
          arn,
          trustPolicy: copy(trustPolicy),
          description,
          tags: { ...tags },
          attached: [],
          inline: new Map(),
        });
        return { arn };
      },
      updateTrustPolicy: async (name, trustPolicy) => {
        this.act('iam.updateTrustPolicy', name);
        const role = this.roles.get(name);
        if (!role) throw noSuchRole(name);
        role.trustPolicy = copy(trustPolicy);
      },
      attachedPolicyArns: async (roleName) => {
        const role = this.roles.get(roleName);
        if (!role) throw noSuchRole(roleName);
        return [...role.attached];
      },
      attachPolicy: async (roleName, policyArn) => {
        this.act('iam.attachPolicy', roleName, policyArn);
        const role = this.roles.get(roleName);
        if (!role) throw noSuchRole(roleName);
        if (!role.attached.includes(policyArn)) role.attached.push(policyArn);
      },
      getInlinePolicy: async (roleName, policyName) => {
        const document = this.roles.get(roleName)?.inline.get(policyName);
        return document ? copy(document) : undefined;
      },
      putInlinePolicy: async (roleName, policyName, document) => {
        this.act('iam.putInlinePolicy', roleName, policyName);
        const role = this.roles.get(roleName);
        if (!role) throw noSuchRole(roleName);
        role.inline.set(policyName, copy(document));
      },
    };
  }

  private makeKms(region: string): MemberKms {
    const key = (keyId: string) => {
      const k = this.keys.get(keyId);
      if (!k) throw awsError('NotFoundException', `Key '${keyId}' does not exist`);
      return k;
    };
    return {
      findAlias: async (alias) => {
        const k = this.keys.get(this.aliases.get(`${region}|${alias}`) ?? '');
        return k && k.state !== 'PendingDeletion'
          ? { keyId: k.keyId, keyArn: k.keyArn }
          : undefined;
      },
      createKey: async (description, policy, tags) => {
        this.nextKey += 1;
        const keyId = `key-${region}-${this.nextKey}`;
        this.act('kms.createKey', region, keyId);
        const keyArn = `arn:aws:kms:${region}:${this.accountId}:key/${keyId}`;
        this.keys.set(keyId, {
          keyId,
          keyArn,
          region,
          description,
          policy: copy(policy),
          rotation: false,
          state: 'Enabled',
          tags: { ...tags },
        });
        return { keyId, keyArn };
      },
      findUnaliasedKey: async (alias) => {
        const aliased = new Set(this.aliases.values());
        const k = [...this.keys.values()].find(
          (x) =>
            x.region === region &&
            x.state === 'Enabled' &&
            x.tags['backup-control-plane:alias'] === alias &&
            !aliased.has(x.keyId),
        );
        return k ? { keyId: k.keyId, keyArn: k.keyArn } : undefined;
      },
      // As the adapter does: create the alias, or move it (UpdateAlias) when it exists.
      createAlias: async (alias, keyId) => {
        this.act('kms.createAlias', region, alias, keyId);
        key(keyId);
        this.aliases.set(`${region}|${alias}`, keyId);
      },
      getKeyPolicy: async (keyId) => copy(key(keyId).policy),
      putKeyPolicy: async (keyId, policy) => {
        this.act('kms.putKeyPolicy', region, keyId);
        key(keyId).policy = copy(policy);
      },
      rotationEnabled: async (keyId) => key(keyId).rotation,
      enableRotation: async (keyId) => {
        this.act('kms.enableRotation', region, keyId);
        key(keyId).rotation = true;
      },
    };
  }

  private makeBackup(region: string): MemberBackup {
    return {
      describeVault: async (name) => {
        const vault = this.vaults.get(`${region}|${name}`);
        if (!vault) return undefined;
        const { lock } = vault;
        return {
          arn: vault.arn,
          ...(vault.encryptionKeyArn ? { encryptionKeyArn: vault.encryptionKeyArn } : {}),
          ...(vault.vaultType ? { vaultType: vault.vaultType } : {}),
          locked: Boolean(lock),
          ...(lock ? { minRetentionDays: lock.minRetentionDays } : {}),
          ...(lock?.maxRetentionDays !== undefined
            ? { maxRetentionDays: lock.maxRetentionDays }
            : {}),
          ...(lock?.lockDate ? { lockDate: lock.lockDate } : {}),
        };
      },
      vaultAccessPolicy: async (name) => {
        const vault = this.vaults.get(`${region}|${name}`);
        if (!vault) throw awsError('ResourceNotFoundException', `Backup vault ${name} not found`);
        return vault.accessPolicy ? copy(vault.accessPolicy) : undefined;
      },
      putVaultAccessPolicy: async (name, policy) => {
        this.act('backup.putVaultAccessPolicy', region, name);
        const vault = this.vaults.get(`${region}|${name}`);
        if (!vault) throw awsError('ResourceNotFoundException', `Backup vault ${name} not found`);
        vault.accessPolicy = copy(policy);
      },
      createAirGappedVault: async (name, retention, tags) => {
        this.act('backup.createAirGappedVault', region, name, retention);
        if (this.vaults.has(`${region}|${name}`)) {
          throw awsError('AlreadyExistsException', `Backup vault ${name} already exists`);
        }
        const arn = `arn:aws:backup:${region}:${this.accountId}:backup-vault:${name}`;
        this.vaults.set(`${region}|${name}`, {
          arn,
          encryptionKeyArn: '',
          vaultType: 'LOGICALLY_AIR_GAPPED_BACKUP_VAULT',
          tags: { ...tags },
          lock: { ...retention },
        });
        return { arn };
      },
      putVaultLock: async (name, lock) => {
        this.act('backup.putVaultLock', region, name, lock);
        const vault = this.vaults.get(`${region}|${name}`);
        if (!vault) throw awsError('ResourceNotFoundException', `Backup vault ${name} not found`);
        if (vault.lock?.lockDate && vault.lock.lockDate.getTime() <= Date.now()) {
          throw awsError(
            'InvalidRequestException',
            'Vault Lock configuration is immutable and cannot be modified',
          );
        }
        vault.lock = {
          minRetentionDays: lock.minRetentionDays,
          ...(lock.maxRetentionDays !== undefined
            ? { maxRetentionDays: lock.maxRetentionDays }
            : {}),
          ...(lock.changeableForDays !== undefined
            ? { lockDate: new Date(Date.now() + lock.changeableForDays * 86_400_000) }
            : {}),
        };
      },
      createVault: async (name, keyArn, tags) => {
        this.act('backup.createVault', region, name, keyArn);
        if (this.vaults.has(`${region}|${name}`)) {
          throw awsError('AlreadyExistsException', `Backup vault ${name} already exists`);
        }
        const arn = `arn:aws:backup:${region}:${this.accountId}:backup-vault:${name}`;
        this.vaults.set(`${region}|${name}`, { arn, encryptionKeyArn: keyArn, tags: { ...tags } });
        return { arn };
      },
      protectedResources: async () => {
        failIf(this.failures, 'backup.protectedResources');
        this.reads.push(`backup.protectedResources:${region}`);
        return copy(this.protectedByRegion.get(region) ?? []).map((r) => ({
          ...r,
          ...(r.lastBackupTime ? { lastBackupTime: new Date(r.lastBackupTime) } : {}),
        }));
      },
      optInPreferences: async () => {
        failIf(this.failures, 'backup.optInPreferences');
        return { ...(this.optIn.get(region) ?? {}) };
      },
      jobs: async (jobType, since) => {
        failIf(this.failures, 'backup.jobs');
        this.reads.push(`backup.jobs:${region}:${jobType}`);
        return (this.jobHistory.get(region) ?? []).filter(
          (j) => j.jobType === jobType && (!j.creationDate || j.creationDate >= since),
        );
      },
    };
  }

  private makeEvents(region: string): MemberEvents {
    return {
      describeRule: async (name) => {
        const rule = this.rules.get(`${region}|${name}`);
        return rule
          ? {
              arn: rule.arn,
              state: rule.state,
              pattern: copy(rule.pattern),
              description: rule.description,
            }
          : undefined;
      },
      putRule: async (name, pattern, description) => {
        this.act('events.putRule', region, name);
        const arn = `arn:aws:events:${region}:${this.accountId}:rule/${name}`;
        const targets = this.rules.get(`${region}|${name}`)?.targets ?? [];
        this.rules.set(`${region}|${name}`, {
          arn,
          state: 'ENABLED',
          pattern: copy(pattern),
          description,
          targets,
        });
        return { arn };
      },
      targets: async (ruleName) => {
        const rule = this.rules.get(`${region}|${ruleName}`);
        if (!rule) throw awsError('ResourceNotFoundException', `Rule ${ruleName} does not exist.`);
        return copy(rule.targets);
      },
      putTarget: async (ruleName, target) => {
        this.act('events.putTarget', region, ruleName, { ...target });
        const rule = this.rules.get(`${region}|${ruleName}`);
        if (!rule) throw awsError('ResourceNotFoundException', `Rule ${ruleName} does not exist.`);
        rule.targets = [...rule.targets.filter((t) => t.id !== target.id), { ...target }];
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * STS: a role can be assumed when it is in `assumable` and the clock has reached
 * `assumableFrom` (a brand-new account's role appears minutes after the account).
 */
export class FakeAccountAccess implements AccountAccess {
  readonly members = new Map<string, FakeMemberAccount>();
  readonly calls: { accountId: string; role: string; at: string }[] = [];
  assumable = new Set(['OrganizationAccountAccessRole']);
  assumableFrom = 0;

  constructor(private readonly clock: Clock) {}

  member(accountId: string): FakeMemberAccount {
    let member = this.members.get(accountId);
    if (!member) {
      member = new FakeMemberAccount(accountId);
      this.members.set(accountId, member);
    }
    return member;
  }

  async assume(accountId: string, role: string): Promise<MemberAccount> {
    const now = this.clock.now();
    this.calls.push({ accountId, role, at: now.toISOString() });
    if (!this.assumable.has(role) || now.getTime() < this.assumableFrom) {
      throw awsError(
        'AccessDenied',
        `User: arn:aws:sts::${MANAGEMENT_ID}:assumed-role/onboarding/run is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${accountId}:role/${role}`,
      );
    }
    return this.member(accountId);
  }
}

// ---------------------------------------------------------------------------------------------

interface Lock {
  owner: string;
  since: string;
  until: number;
}

/**
 * The onboarding ledger's contract in memory, lock included: taken when free, expired, or
 * already ours; released only by its owner. Records are copied in and out like a table's.
 */
export class InMemoryOnboardingLedger implements OnboardingLedger {
  readonly records = new Map<string, AccountRecord>();
  readonly locks = new Map<string, Lock>();
  readonly writes: Write[] = [];
  readonly failures = new Map<string, Error>();

  async get(accountId: string): Promise<AccountRecord | undefined> {
    failIf(this.failures, 'get');
    const record = this.records.get(accountId);
    return record ? copy(record) : undefined;
  }

  async getMany(accountIds: string[]): Promise<Map<string, AccountRecord>> {
    const found = new Map<string, AccountRecord>();
    for (const id of accountIds) {
      const record = this.records.get(id);
      if (record) found.set(id, copy(record));
    }
    return found;
  }

  async list(): Promise<AccountRecord[]> {
    failIf(this.failures, 'list');
    return [...this.records.values()].map((r) => copy(r));
  }

  async acquire(accountId: string, owner: string, now: Date, lockMs: number): Promise<LockResult> {
    const held = this.locks.get(accountId);
    if (held && held.until >= now.getTime() && held.owner !== owner) {
      return {
        acquired: false,
        owner: held.owner,
        since: held.since,
        until: new Date(held.until).toISOString(),
      };
    }
    this.writes.push(['acquire', accountId, owner]);
    this.locks.set(accountId, { owner, since: now.toISOString(), until: now.getTime() + lockMs });
    return { acquired: true };
  }

  async release(accountId: string, owner: string): Promise<void> {
    this.writes.push(['release', accountId, owner]);
    if (this.locks.get(accountId)?.owner === owner) this.locks.delete(accountId);
  }

  async save(record: AccountRecord): Promise<void> {
    failIf(this.failures, 'save');
    this.writes.push(['save', record.accountId, record.status]);
    this.records.set(record.accountId, copy(record));
  }

  /** Another invocation holds the account's lock. */
  hold(accountId: string, owner: string, since: Date, lockMs: number): void {
    this.locks.set(accountId, {
      owner,
      since: since.toISOString(),
      until: since.getTime() + lockMs,
    });
  }
}

/** Records the notices; `failWith` makes every notice reject. */
export class RecordingNotifier implements OnboardingNotifier {
  readonly readyNotices: ReadyNotice[] = [];
  readonly failedNotices: FailedNotice[] = [];
  readonly creationFailedNotices: CreationFailedNotice[] = [];
  readonly driftNotices: DriftRepairedFacts[] = [];
  readonly departedNotices: DepartedFacts[] = [];
  failWith: Error | undefined;

  async departed(notice: DepartedFacts): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.departedNotices.push(copy(notice));
  }

  async driftRepaired(notice: DriftRepairedFacts): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.driftNotices.push(copy(notice));
  }

  async ready(notice: ReadyNotice): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.readyNotices.push(copy(notice));
  }

  async failed(notice: FailedNotice): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.failedNotices.push(copy(notice));
  }

  async creationFailed(notice: CreationFailedNotice): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.creationFailedNotices.push(copy(notice));
  }

  get count(): number {
    return (
      this.readyNotices.length +
      this.failedNotices.length +
      this.creationFailedNotices.length +
      this.driftNotices.length +
      this.departedNotices.length
    );
  }
}

export class RecordingLog implements Log {
  readonly entries: { level: 'info' | 'warn'; message: string; extra?: Record<string, unknown> }[] =
    [];
  info(message: string, extra?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, extra });
  }
  warn(message: string, extra?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, extra });
  }
}

export class RecordingQueue implements WorkQueue {
  readonly batches: Record<string, unknown>[][] = [];
  async enqueue(messages: Record<string, unknown>[]): Promise<void> {
    this.batches.push(copy(messages));
  }
}

// ---------------------------------------------------------------------------------------------

export interface OnboardingWorld {
  config: Config;
  clock: FakeClock;
  org: FakeOrganization;
  access: FakeAccountAccess;
  ledger: InMemoryOnboardingLedger;
  notifier: RecordingNotifier;
  log: RecordingLog;
  /** Every sleep onboarding asked for, in ms (each moves the clock). */
  delays: number[];
  deps: OnboardDeps;
  /** The member account as it is in AWS (created on first use). */
  member(accountId?: string): FakeMemberAccount;
  /** Forgets every write and notice so far (state stays). */
  clearLogs(): void;
}

/**
 * The example configuration, the real baseline, and an organization with MEMBER_ID
 * ("Payments", ACTIVE) under Workloads: the default profile, us-east-1, daily-35-days.
 */
export function onboardingWorld(
  configure: (onboarding: Onboarding) => void = () => {},
): OnboardingWorld {
  const config = exampleConfig();
  configure(config.onboarding!);
  const clock = new FakeClock();
  const org = new FakeOrganization();
  org.addAccount(
    { id: MEMBER_ID, name: 'Payments', email: 'aws-payments@example.com', status: 'ACTIVE' },
    WORKLOADS_OU,
  );
  const access = new FakeAccountAccess(clock);
  const ledger = new InMemoryOnboardingLedger();
  const notifier = new RecordingNotifier();
  const log = new RecordingLog();
  const delays: number[] = [];
  const deps: OnboardDeps = {
    config,
    baseline: loadBaseline(),
    org,
    access,
    ledger,
    notifier,
    clock,
    sleep: async (ms) => {
      delays.push(ms);
      clock.advance(ms);
    },
    log,
    centralBusArn: CENTRAL_BUS_ARN,
    controlPlaneRoleArn: CONTROL_PLANE_ROLE_ARN,
    watchRoleArn: WATCH_ROLE_ARN,
    owner: 'run-1',
  };
  return {
    config,
    clock,
    org,
    access,
    ledger,
    notifier,
    log,
    delays,
    deps,
    member: (accountId = MEMBER_ID) => access.member(accountId),
    clearLogs() {
      org.writes.length = 0;
      ledger.writes.length = 0;
      for (const m of access.members.values()) m.writes.length = 0;
      access.calls.length = 0;
      notifier.readyNotices.length = 0;
      notifier.failedNotices.length = 0;
      notifier.creationFailedNotices.length = 0;
      log.entries.length = 0;
      delays.length = 0;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The daily check: its ledger, the notification pipeline, and an onboarded account to check.

import { onboardAccount } from '../../functions/onboard-account/onboard';
import type { WatchDeps } from '../../functions/watch-account/check';
import type { CheckLedger, CheckRecord, OrganizationReader } from '../../functions/shared/ports';
import type { PipelineDeps } from '../../functions/shared/notices/send';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import { FakeEmailSender, FakeTopicPublisher, InMemoryLedger } from './fakes';

/** The check ledger's contract in memory; `saved` lists every record saved, in order. */
export class InMemoryCheckLedger implements CheckLedger {
  readonly saved: CheckRecord[] = [];
  /** `${accountId}|${arn}` → first seen (ISO) */
  readonly seen = new Map<string, string>();
  /** `${accountId}|${key}` → reported at (ISO) */
  readonly reported = new Map<string, string>();
  readonly failures = new Map<string, Error>();

  async saveCheck(record: CheckRecord): Promise<void> {
    failIf(this.failures, 'saveCheck');
    this.saved.push(copy(record));
  }

  async checks(accountIds: string[], day: string): Promise<Map<string, CheckRecord>> {
    const found = new Map<string, CheckRecord>();
    for (const r of this.saved) {
      if (r.day === day && accountIds.includes(r.accountId)) found.set(r.accountId, copy(r));
    }
    return found;
  }

  async firstSeen(accountId: string, arns: string[], now: Date): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const arn of arns) {
      const key = `${accountId}|${arn}`;
      if (!this.seen.has(key)) this.seen.set(key, now.toISOString());
      out.set(arn, this.seen.get(key)!);
    }
    return out;
  }

  async unreported(accountId: string, keys: string[]): Promise<string[]> {
    return keys.filter((k) => !this.reported.has(`${accountId}|${k}`));
  }

  async markReported(accountId: string, keys: string[], now: Date): Promise<void> {
    for (const k of keys) this.reported.set(`${accountId}|${k}`, now.toISOString());
  }
}

export const TOPIC_ACCOUNT = '111122223333';
export const topicArnOf = (topic: string) => `arn:aws:sns:us-east-1:${TOPIC_ACCOUNT}:${topic}`;

export interface PipelineWorld {
  pipeline: PipelineDeps;
  email: FakeEmailSender;
  sns: FakeTopicPublisher;
  ledger: InMemoryLedger;
  log: RecordingLog;
}

/** The notification pipeline with in-memory channels and ledger; accounts looked up in `org`. */
export function pipelineWorld(
  config: Config,
  clock: Clock,
  org: Pick<OrganizationReader, 'describeAccount' | 'parents' | 'accountTags'>,
): PipelineWorld {
  const email = new FakeEmailSender();
  const sns = new FakeTopicPublisher();
  const ledger = new InMemoryLedger();
  const log = new RecordingLog();
  return {
    pipeline: {
      config,
      topicArn: topicArnOf,
      accounts: new CachedAccountContext(org, 60_000, clock),
      ledger,
      email,
      sns,
      clock,
      log,
    },
    email,
    sns,
    ledger,
    log,
  };
}

export const READ_ONLY_ROLE = 'backup-control-plane-read-only';

/** Onboarding's dependencies without what the check replaces (its own ledger, no notifier). */
const checkDepsOf = ({
  owner: _owner,
  ledger: _ledger,
  notifier: _notifier,
  ...rest
}: OnboardDeps) => rest;

export interface WatchWorld extends OnboardingWorld {
  checks: InMemoryCheckLedger;
  repairs: RecordingQueue;
  sent: PipelineWorld;
  /** The daily check's dependencies, through the read-only role (assumable here). */
  watch: WatchDeps;
}

/**
 * onboardingWorld with MEMBER_ID onboarded (ready, logs cleared), its read-only role
 * assumable, and the daily check's dependencies around it.
 */
export async function watchWorld(
  configure: (onboarding: Onboarding) => void = () => {},
): Promise<WatchWorld> {
  const w = onboardingWorld(configure);
  const first = await onboardAccount({ accountId: MEMBER_ID, trigger: 'Manual' }, w.deps);
  if (first.outcome !== 'ready') throw new Error(`test: onboarding ended ${first.outcome}`);
  w.clearLogs();
  w.notifier.driftNotices.length = 0;
  w.member().reads.length = 0;
  w.access.assumable.add(READ_ONLY_ROLE);
  const checks = new InMemoryCheckLedger();
  const repairs = new RecordingQueue();
  const sent = pipelineWorld(w.config, w.clock, w.org);
  return {
    ...w,
    checks,
    repairs,
    sent,
    watch: { ...checkDepsOf(w.deps), checks, repairs, pipeline: sent.pipeline },
  };
}
