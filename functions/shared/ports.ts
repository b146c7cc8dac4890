/** What the flows need from the outside world. Adapters under ./adapters implement these. */

export interface EmailMessage {
  from: string;
  to: string[];
  replyTo?: string[];
  subject: string;
  html: string;
  text: string;
  configurationSet?: string;
  /** Headers and tags that help filtering and tracing. */
  tags?: Record<string, string>;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<{ messageId: string }>;
}

export interface TopicMessage {
  topicArn: string;
  subject: string;
  body: string;
  attributes: Record<string, string>;
}

export interface TopicPublisher {
  publish(message: TopicMessage): Promise<{ messageId: string }>;
}

export type ClaimResult =
  | { outcome: 'claimed'; token: string }
  | { outcome: 'already-delivered'; deliveredAt?: string; messageId?: string }
  | { outcome: 'in-flight'; leaseUntil?: string };

/** Records which (event, channel) pairs were delivered, so retries send nothing twice. */
export interface DeliveryLedger {
  claim(eventKey: string, channelKey: string, now: Date): Promise<ClaimResult>;
  markDelivered(
    eventKey: string,
    channelKey: string,
    token: string,
    messageId: string,
    now: Date,
  ): Promise<void>;
  release(eventKey: string, channelKey: string, token: string): Promise<void>;
}

/** Structured logging as the flows use it (the handlers pass Powertools Logger through). */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

// ---------------------------------------------------------------------------------------------
// Onboarding: the organization, the member accounts, and the per-account ledger.

export interface OrgAccount {
  id: string;
  name?: string;
  email?: string;
  /** ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED (the newer State field when present). */
  status?: string;
}

export interface OrgParent {
  id: string;
  name: string;
  type: 'ROOT' | 'ORGANIZATIONAL_UNIT';
}

export interface PolicyRef {
  id: string;
  name: string;
}

/** Organizations as every flow reads it: one port, one adapter (OrganizationsAdmin). */
export interface OrganizationReader {
  describeOrganization(): Promise<{ id: string; managementAccountId: string }>;
  describeAccount(accountId: string): Promise<OrgAccount>;
  /** The account's parent first, the root last. */
  parents(accountId: string): Promise<OrgParent[]>;
  accountTags(accountId: string): Promise<Record<string, string>>;
  listAccounts(): AsyncIterable<OrgAccount>;
  /**
   * The account's effective backup policy (DescribeEffectivePolicy, parsed JSON), or undefined
   * when no backup policy applies to it.
   */
  effectiveBackupPolicy(accountId: string): Promise<unknown>;
}

/** What onboarding also changes in Organizations. */
export interface OrganizationAdmin extends OrganizationReader {
  tagAccount(accountId: string, tags: Record<string, string>): Promise<void>;
  backupPoliciesEnabled(rootId: string): Promise<boolean>;
  enableBackupPolicies(rootId: string): Promise<void>;
  findBackupPolicy(name: string): Promise<PolicyRef | undefined>;
  backupPoliciesOn(targetId: string): Promise<PolicyRef[]>;
  attachPolicy(policyId: string, targetId: string): Promise<void>;
  detachPolicy(policyId: string, targetId: string): Promise<void>;
}

export type PolicyDocument = Record<string, unknown>;

export interface MemberIam {
  getRole(name: string): Promise<{ arn: string; trustPolicy: PolicyDocument } | undefined>;
  createRole(
    name: string,
    trustPolicy: PolicyDocument,
    description: string,
    tags: Record<string, string>,
  ): Promise<{ arn: string }>;
  updateTrustPolicy(name: string, trustPolicy: PolicyDocument): Promise<void>;
  attachedPolicyArns(roleName: string): Promise<string[]>;
  attachPolicy(roleName: string, policyArn: string): Promise<void>;
  getInlinePolicy(roleName: string, policyName: string): Promise<PolicyDocument | undefined>;
  putInlinePolicy(roleName: string, policyName: string, document: PolicyDocument): Promise<void>;
}

export interface MemberKms {
  findAlias(alias: string): Promise<{ keyId: string; keyArn: string } | undefined>;
  createKey(
    description: string,
    policy: PolicyDocument,
    tags: Record<string, string>,
  ): Promise<{ keyId: string; keyArn: string }>;
  /** A key this control plane created for `alias` that has no alias (a run stopped between). */
  findUnaliasedKey(alias: string): Promise<{ keyId: string; keyArn: string } | undefined>;
  /** Points the alias at the key, creating it or moving it from another key. */
  createAlias(alias: string, keyId: string): Promise<void>;
  getKeyPolicy(keyId: string): Promise<PolicyDocument>;
  putKeyPolicy(keyId: string, policy: PolicyDocument): Promise<void>;
  rotationEnabled(keyId: string): Promise<boolean>;
  enableRotation(keyId: string): Promise<void>;
}

export interface MemberBackup {
  describeVault(name: string): Promise<{ arn: string; encryptionKeyArn?: string } | undefined>;
  createVault(name: string, keyArn: string, tags: Record<string, string>): Promise<{ arn: string }>;
}

export interface RuleTarget {
  id: string;
  arn: string;
  roleArn?: string;
}

export interface MemberEvents {
  describeRule(
    name: string,
  ): Promise<
    { arn: string; state: string; pattern: PolicyDocument; description?: string } | undefined
  >;
  putRule(name: string, pattern: PolicyDocument, description: string): Promise<{ arn: string }>;
  targets(ruleName: string): Promise<RuleTarget[]>;
  putTarget(ruleName: string, target: RuleTarget): Promise<void>;
}

/** AWS access inside one member account, through the assumed role. */
export interface MemberAccount {
  accountId: string;
  iam: MemberIam;
  kms(region: string): MemberKms;
  backup(region: string): MemberBackup;
  events(region: string): MemberEvents;
}

export interface AccountAccess {
  /** Assumes `roleName` in the account; throws if it cannot (yet). */
  assume(accountId: string, roleName: string): Promise<MemberAccount>;
}

export type StepOutcome = 'unchanged' | 'changed' | 'failed' | 'skipped' | 'planned';

export interface StepRecord {
  outcome: StepOutcome;
  at: string;
  changes?: string[];
  error?: string;
}

export type AccountStatus = 'onboarding' | 'ready' | 'failed' | 'skipped';

/** One account's onboarding state in the ledger table. */
export interface AccountRecord {
  accountId: string;
  status: AccountStatus;
  baselineVersion?: number;
  profile?: string;
  steps: Record<string, StepRecord>;
  attempts: number;
  lastError?: { step: string; message: string; at: string };
  lastTrigger?: string;
  updatedAt: string;
  /** Backup policies this control plane attached to the account (so a profile change detaches). */
  attachedPolicies: string[];
  /** Set when admins were told; no second message for the same outcome. */
  notified?: { status: AccountStatus; baselineVersion?: number; error?: string };
  skipReason?: string;
}

export type LockResult =
  { acquired: true } | { acquired: false; owner?: string; since?: string; until?: string };

export interface OnboardingLedger {
  get(accountId: string): Promise<AccountRecord | undefined>;
  getMany(accountIds: string[]): Promise<Map<string, AccountRecord>>;
  /** One onboarding per account at a time; the lock expires if its holder dies. */
  acquire(accountId: string, owner: string, now: Date, lockMs: number): Promise<LockResult>;
  release(accountId: string, owner: string): Promise<void>;
  save(record: AccountRecord): Promise<void>;
}

/** The onboarding queue, as the sweep and the CLI fill it. */
export interface WorkQueue {
  enqueue(messages: Record<string, unknown>[]): Promise<void>;
}
