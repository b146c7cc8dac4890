/**
 * What the flows need from the outside world. Adapters under ./adapters implement these. The
 * member baseline's ports live with their resource kinds (functions/onboard-account/resources/).
 */
import type { JobType, Severity } from './config/vocabulary';
import type { MemberEvents } from '../onboard-account/resources/forwarding';
import type { MemberKms } from '../onboard-account/resources/key';
import type { MemberIam } from '../onboard-account/resources/role';
export type { MemberEvents, RuleTarget } from '../onboard-account/resources/forwarding';
export type { MemberKms } from '../onboard-account/resources/key';
export type { MemberIam } from '../onboard-account/resources/role';

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
  /** `signal` aborts the call (and its retries) when the invocation's time runs out. */
  send(message: EmailMessage, options?: { signal?: AbortSignal }): Promise<{ messageId: string }>;
}

export interface TopicMessage {
  topicArn: string;
  subject: string;
  body: string;
  attributes: Record<string, string>;
}

export interface TopicPublisher {
  publish(
    message: TopicMessage,
    options?: { signal?: AbortSignal },
  ): Promise<{ messageId: string }>;
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
  /** Which of these (event, channel) pairs were delivered: "eventKey|channelKey" entries. */
  delivered(pairs: readonly { eventKey: string; channelKey: string }[]): Promise<Set<string>>;
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
  /** A policy's name (DescribePolicy), or undefined when no such policy exists (any more). */
  policyName(policyId: string): Promise<string | undefined>;
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

/** A backup vault as DescribeBackupVault shows it. */
export interface VaultState {
  arn: string;
  encryptionKeyArn?: string;
  /** Vault Lock is on (governance, or compliance still in or past its grace time). */
  locked?: boolean;
  minRetentionDays?: number;
  maxRetentionDays?: number;
  /** compliance mode: when the lock becomes (or became) immutable. */
  lockDate?: Date;
  /** BACKUP_VAULT, LOGICALLY_AIR_GAPPED_BACKUP_VAULT, RESTORE_ACCESS_BACKUP_VAULT. */
  vaultType?: string;
}

/** What PutBackupVaultLockConfiguration sets (changeableForDays: compliance mode). */
export interface VaultLockSettings {
  minRetentionDays: number;
  maxRetentionDays?: number;
  changeableForDays?: number;
}

export interface MemberBackup {
  describeVault(name: string): Promise<VaultState | undefined>;
  createVault(name: string, keyArn: string, tags: Record<string, string>): Promise<{ arn: string }>;
  /** The vault's access policy; undefined when it has none. */
  vaultAccessPolicy(name: string): Promise<PolicyDocument | undefined>;
  putVaultAccessPolicy(name: string, policy: PolicyDocument): Promise<void>;
  putVaultLock(name: string, lock: VaultLockSettings): Promise<void>;
  /** A logically air-gapped vault: locked with these limits from its creation, AWS-owned key. */
  createAirGappedVault(
    name: string,
    retention: { minRetentionDays: number; maxRetentionDays: number },
    tags: Record<string, string>,
  ): Promise<{ arn: string }>;
  /** Every resource AWS Backup has backed up in this region, with its last backup time. */
  protectedResources(): Promise<ProtectedResource[]>;
  /** The region's opt-in per resource type (a type not opted in is silently not backed up). */
  optInPreferences(): Promise<Record<string, boolean>>;
  /** Jobs of one kind created since a time, newest first (bounded). */
  jobs(jobType: 'backup' | 'copy' | 'restore', since: Date): Promise<JobHistoryEntry[]>;
}

export interface ProtectedResource {
  arn: string;
  type?: string;
  name?: string;
  lastBackupTime?: Date;
}

/** A job as AWS Backup's job history lists it (ListBackupJobs, ListCopyJobs, ListRestoreJobs). */
export interface JobHistoryEntry {
  jobType: 'backup' | 'copy' | 'restore';
  jobId: string;
  accountId?: string;
  state: string;
  statusMessage?: string;
  messageCategory?: string;
  resourceArn?: string;
  resourceName?: string;
  resourceType?: string;
  backupVaultName?: string;
  backupVaultArn?: string;
  sourceBackupVaultArn?: string;
  destinationBackupVaultArn?: string;
  recoveryPointArn?: string;
  createdResourceArn?: string;
  backupPlanId?: string;
  backupPlanArn?: string;
  backupRuleId?: string;
  restoreTestingPlanArn?: string;
  iamRoleArn?: string;
  sizeBytes?: number;
  creationDate?: Date;
  completionDate?: Date;
}

/** Resources carrying given tags (Resource Groups Tagging API), in one region. */
export interface MemberTagging {
  /** `values` empty: any value of the key. */
  taggedResources(key: string, values: string[]): Promise<{ arn: string }[]>;
}

/** Who changed what: CloudTrail's recent management events, in one region. */
export interface MemberTrail {
  /** The newest write call on a resource since a time, by anyone but the control plane. */
  lastChange(resourceName: string, since: Date): Promise<ChangeRecord | undefined>;
}

export interface ChangeRecord {
  /** The caller, readable: a role session or user ARN. */
  identity: string;
  action: string;
  time: string;
}

/** AWS access inside one member account, through the assumed role. */
export interface MemberAccount {
  accountId: string;
  iam: MemberIam;
  kms(region: string): MemberKms;
  backup(region: string): MemberBackup;
  events(region: string): MemberEvents;
  tagging(region: string): MemberTagging;
  trail(region: string): MemberTrail;
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

/** departed: no longer in the organization; closing: closed (suspended, then gone after 90 days). */
export type AccountStatus = 'onboarding' | 'ready' | 'failed' | 'skipped' | 'departed' | 'closing';

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
  /** How the account left, or that it is being closed (status departed or closing). */
  departure?: { trigger: string; method?: string; time?: string; at: string };
}

export type LockResult =
  { acquired: true } | { acquired: false; owner?: string; since?: string; until?: string };

export interface OnboardingLedger {
  get(accountId: string): Promise<AccountRecord | undefined>;
  getMany(accountIds: string[]): Promise<Map<string, AccountRecord>>;
  /** Every account the ledger knows (the sweep finds the ones that left the organization). */
  list(): Promise<AccountRecord[]>;
  /** One onboarding per account at a time; the lock expires if its holder dies. */
  acquire(accountId: string, owner: string, now: Date, lockMs: number): Promise<LockResult>;
  release(accountId: string, owner: string): Promise<void>;
  save(record: AccountRecord): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Watching: the daily check of every ready account.

export type CheckStatus = 'verified' | 'drift' | 'unverifiable' | 'skipped';

/** A difference from the baseline, and who made the change where CloudTrail can say. */
export interface CheckFinding {
  what: string;
  resource: string;
  region?: string;
  who?: ChangeRecord;
}

export type CoverageStatus = 'protected' | 'late' | 'never' | 'not-opted-in';

/** One resource a backup plan's tag selection should cover. */
export interface CoverageRow {
  accountId: string;
  region: string;
  resourceArn: string;
  resourceType: string;
  policy: string;
  rule: string;
  lastBackupTime: string | null;
  status: CoverageStatus;
  reason: string;
}

export interface CoverageSummary {
  resources: number;
  protected: number;
  late: number;
  never: number;
  notOptedIn: number;
  /** The late and never resources (at most 50 kept). */
  missed: CoverageRow[];
  /** Regions or selections that could not be read, with why. */
  notes: string[];
}

/** One account's daily check, kept for the digest (and a month, for reading back). */
export interface CheckRecord {
  accountId: string;
  /** The UTC day the check ran for, YYYY-MM-DD. */
  day: string;
  checkedAt: string;
  status: CheckStatus;
  profile?: string;
  /** Why the account could not be verified, naming the role or permission. */
  reason?: string;
  findings: CheckFinding[];
  coverage?: CoverageSummary;
  lostEvents?: { jobsChecked: number; recovered: number };
}

export interface CheckLedger {
  saveCheck(record: CheckRecord): Promise<void>;
  checks(accountIds: string[], day: string): Promise<Map<string, CheckRecord>>;
  /**
   * When each resource was first seen tagged for backup without a backup: remembered the first
   * time it is asked for, so "never backed up" can be a warning at first and an error later.
   */
  firstSeen(accountId: string, arns: string[], now: Date): Promise<Map<string, string>>;
  /** Which of these incident keys were not reported yet (one alert per resource and incident). */
  unreported(accountId: string, keys: string[]): Promise<string[]>;
  markReported(accountId: string, keys: string[], now: Date): Promise<void>;
}

/** One row of AWS Backup's daily job summaries (ListBackupJobSummaries, AccountId ANY). */
export interface JobSummaryRow {
  region: string;
  accountId: string;
  state: string;
  resourceType?: string;
  messageCategory?: string;
  count: number;
  start: Date;
  end: Date;
}

/** Backup job counts across the organization, from the deployment account. */
export interface JobSummaries {
  /** Daily rows of the last 14 days in a region, one per account, state and category. */
  daily(region: string): Promise<JobSummaryRow[]>;
}

export interface EnqueueOptions {
  /** Delivered no sooner than this (SQS: at most 900 s). */
  delaySeconds?: number;
}

/** A queue the functions fill: onboarding requests, daily checks, incident summaries. */
export interface WorkQueue {
  enqueue(messages: Record<string, unknown>[], options?: EnqueueOptions): Promise<void>;
}

// --- incidents (notify-backup-event/incidents.ts, aggregate.ts) ---------------------------------

/** One folded alert, as kept until its summary: compact (a window holds up to MAX_LISTED). */
export interface IncidentMember {
  /** The alert's delivery key: an alert that arrives again is listed once. */
  k: string;
  /** Account, region. */
  a?: string;
  r?: string;
  /** What and its outcome ("Backup job", "FAILED"), the item (resource name), severity. */
  w: string;
  l: string;
  i: string;
  s: Severity;
  /** Resource ARN, type and job id, when known. */
  arn?: string;
  y?: string;
  j?: string;
  /** When (ISO) and why (short). */
  t: string;
  m?: string;
}

/** What every notice of an incident says about it. */
export interface IncidentMeta {
  kind: 'incident' | 'flood';
  what: string;
  label: string;
  severity: Severity;
  jobType?: JobType;
  state: string;
  /** "AccessDenied", or the reason's opening words. */
  category?: string;
  /** Set when the incident is one account's (scope account, or flood control per account). */
  accountId?: string;
  region?: string;
  resourceType?: string;
  vault?: string;
  plan?: string;
  /** The first alert's reason, as AWS wrote it. */
  reason?: string;
  firstAt: string;
  windowMinutes: number;
}

/** How many folded alerts one window lists; beyond that they are counted (DynamoDB item size). */
export const MAX_LISTED = 800;

export interface SummaryWindow {
  incidentId: string;
  seq: number;
  members: readonly IncidentMember[];
  /** Alerts folded but not listed (beyond MAX_LISTED). */
  overflow: number;
  meta: IncidentMeta;
}

export interface RecoveredIncident {
  incidentId: string;
  meta: IncidentMeta;
  total: number;
  accounts: readonly string[];
  lastAt?: string;
  recoveredAt: string;
}

export type AdmitOutcome =
  /**
   * Send it now, in the incident's thread (the first alert, or one of the `immediate` ones). With
   * `flushAt`, it opened the incident: the caller schedules the first window's summary then.
   */
  | { role: 'first'; incidentId: string; flushAt?: number }
  /** Folded into window `seq` (with `flushAt`: it opened a flood window, schedule its summary). */
  | { role: 'follower'; incidentId: string; seq: number; flushAt?: number }
  /** The same alert again (a redelivery): already counted. */
  | { role: 'duplicate'; incidentId: string };

export interface AdmitOptions {
  now: Date;
  windowMs: number;
  /** How many alerts of an incident are sent at once. */
  immediate: number;
  /** Flood control: the incident has no first alert, everything is folded. */
  foldAll?: boolean;
}

/** Where incidents live between alerts (the ledger table; notify-backup-event/aggregate.ts). */
export interface IncidentStore {
  admit(
    alert: { group: string; meta: IncidentMeta; member: IncidentMember; resource?: string },
    options: AdmitOptions,
  ): Promise<AdmitOutcome>;
  /**
   * Seals window `seq` (idempotent) and returns its followers, with the next window when the
   * incident goes on (it had followers); `{ notBefore }` when the window has not ended yet;
   * undefined when the incident is not known (expired).
   */
  seal(
    group: string,
    incidentId: string,
    seq: number,
    now: Date,
    windowMs: number,
  ): Promise<
    | (SummaryWindow & { next?: { seq: number; flushAt: number } })
    | { notBefore: number }
    | undefined
  >;
  /** A job of this resource succeeded: the incidents it was the last open resource of. */
  recover(resource: string, now: Date): Promise<(RecoveredIncident & { group: string })[]>;
  markRecoveredSent(group: string, incidentId: string): Promise<void>;
  /** Counts one alert sent at once in the window starting at `windowStart`; the count so far. */
  countSent(scope: string, windowStart: number, windowMs: number): Promise<number>;
}
