import { regionPartition } from '../partition';
import {
  BackupClient,
  CreateBackupVaultCommand,
  CreateLogicallyAirGappedBackupVaultCommand,
  DescribeBackupVaultCommand,
  GetBackupVaultAccessPolicyCommand,
  PutBackupVaultAccessPolicyCommand,
  PutBackupVaultLockConfigurationCommand,
  DescribeRegionSettingsCommand,
  AlreadyExistsException as BackupAlreadyExists,
  paginateListBackupJobs,
  paginateListCopyJobs,
  paginateListProtectedResources,
  paginateListRestoreJobs,
} from '@aws-sdk/client-backup';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  ResourceGroupsTaggingAPIClient,
  paginateGetResources,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceNotFoundException as EventsNotFound,
} from '@aws-sdk/client-eventbridge';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
  paginateListAttachedRolePolicies,
} from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  AlreadyExistsException as KmsAlreadyExists,
  ListAliasesCommand,
  ListResourceTagsCommand,
  NotFoundException as KmsNotFound,
  PutKeyPolicyCommand,
  UpdateAliasCommand,
  paginateListKeys,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type {
  AccountAccess,
  ChangeRecord,
  JobHistoryEntry,
  MemberAccount,
  MemberBackup,
  VaultLockSettings,
  MemberTagging,
  MemberTrail,
  ProtectedResource,
  MemberEvents,
  MemberIam,
  MemberKms,
  PolicyDocument,
  RuleTarget,
} from '../ports';

/**
 * The one place that assumes a role in a member account and builds that account's clients.
 * Every method checks or acts on one resource; "already exists" answers count as success.
 */

/** Tag on the keys onboarding creates, naming the alias they are for. */
export const ALIAS_TAG = 'backup-control-plane:alias';

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
type ClientOptions = {
  region: string;
  credentials: Credentials;
  maxAttempts: number;
  retryMode: 'adaptive';
};

const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Backup's "not found" arrives under several names depending on the API and endpoint. */
function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return name === 'ResourceNotFoundException' || name === 'NotFoundException' || status === 404;
}

/** Policy documents as AWS returns them: JSON, URL-encoded by IAM. */
export function parsePolicy(text: string | undefined): PolicyDocument | undefined {
  if (!text) return undefined;
  const decoded = /^\s*%7B/i.test(text) || text.includes('%22') ? decodeURIComponent(text) : text;
  return JSON.parse(decoded) as PolicyDocument;
}

class Iam implements MemberIam {
  constructor(private readonly iam: IAMClient) {}

  async getRole(name: string) {
    try {
      const out = await this.iam.send(new GetRoleCommand({ RoleName: name }));
      return {
        arn: out.Role!.Arn!,
        trustPolicy: parsePolicy(out.Role!.AssumeRolePolicyDocument) ?? {},
      };
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  }

  async createRole(
    name: string,
    trustPolicy: PolicyDocument,
    description: string,
    tags: Record<string, string>,
  ) {
    try {
      const out = await this.iam.send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: JSON.stringify(trustPolicy),
          Description: description,
          Tags: tagList(tags),
        }),
      );
      return { arn: out.Role!.Arn! };
    } catch (error) {
      if (!(error instanceof EntityAlreadyExistsException)) throw error;
      await this.updateTrustPolicy(name, trustPolicy);
      return { arn: (await this.getRole(name))!.arn };
    }
  }

  async updateTrustPolicy(name: string, trustPolicy: PolicyDocument) {
    await this.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: name,
        PolicyDocument: JSON.stringify(trustPolicy),
      }),
    );
  }

  async attachedPolicyArns(roleName: string) {
    const arns: string[] = [];
    for await (const page of paginateListAttachedRolePolicies(
      { client: this.iam },
      { RoleName: roleName },
    )) {
      for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
    }
    return arns;
  }

  async attachPolicy(roleName: string, policyArn: string) {
    await this.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
  }

  async getInlinePolicy(roleName: string, policyName: string) {
    try {
      const out = await this.iam.send(
        new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }),
      );
      return parsePolicy(out.PolicyDocument);
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  }

  async putInlinePolicy(roleName: string, policyName: string, document: PolicyDocument) {
    await this.iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: policyName,
        PolicyDocument: JSON.stringify(document),
      }),
    );
  }
}

class Kms implements MemberKms {
  constructor(private readonly kms: KMSClient) {}

  async findAlias(alias: string) {
    try {
      const out = await this.kms.send(new DescribeKeyCommand({ KeyId: alias }));
      const key = out.KeyMetadata!;
      if (key.KeyState === 'PendingDeletion') return undefined;
      return { keyId: key.KeyId!, keyArn: key.Arn! };
    } catch (error) {
      if (error instanceof KmsNotFound) return undefined;
      throw error;
    }
  }

  async createKey(description: string, policy: PolicyDocument, tags: Record<string, string>) {
    const out = await this.kms.send(
      new CreateKeyCommand({
        Description: description,
        Policy: JSON.stringify(policy),
        Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      }),
    );
    return { keyId: out.KeyMetadata!.KeyId!, keyArn: out.KeyMetadata!.Arn! };
  }

  async findUnaliasedKey(alias: string) {
    let scanned = 0;
    for await (const page of paginateListKeys({ client: this.kms }, {})) {
      for (const k of page.Keys ?? []) {
        // Bounded: an account with thousands of keys is not scanned to the end.
        if (++scanned > 500 || !k.KeyId) return undefined;
        const tags = await this.kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }));
        if (!tags.Tags?.some((t) => t.TagKey === ALIAS_TAG && t.TagValue === alias)) continue;
        const meta = (await this.kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
        if (meta?.KeyState !== 'Enabled') continue;
        const aliases = await this.kms.send(new ListAliasesCommand({ KeyId: k.KeyId }));
        if (aliases.Aliases?.length) continue;
        return { keyId: k.KeyId, keyArn: meta.Arn! };
      }
    }
    return undefined;
  }

  async createAlias(alias: string, keyId: string) {
    try {
      await this.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    } catch (error) {
      // The alias stays on a key pending deletion for up to 30 days: move it.
      if (!(error instanceof KmsAlreadyExists)) throw error;
      await this.kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    }
  }

  async getKeyPolicy(keyId: string) {
    const out = await this.kms.send(
      new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }),
    );
    return parsePolicy(out.Policy) ?? {};
  }

  async putKeyPolicy(keyId: string, policy: PolicyDocument) {
    await this.kms.send(
      new PutKeyPolicyCommand({
        KeyId: keyId,
        PolicyName: 'default',
        Policy: JSON.stringify(policy),
      }),
    );
  }

  async rotationEnabled(keyId: string) {
    const out = await this.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    return Boolean(out.KeyRotationEnabled);
  }

  async enableRotation(keyId: string) {
    await this.kms.send(new EnableKeyRotationCommand({ KeyId: keyId }));
  }
}

class Backup implements MemberBackup {
  constructor(private readonly backup: BackupClient) {}

  async describeVault(name: string) {
    try {
      const out = await this.backup.send(new DescribeBackupVaultCommand({ BackupVaultName: name }));
      return {
        arn: out.BackupVaultArn!,
        ...(out.EncryptionKeyArn ? { encryptionKeyArn: out.EncryptionKeyArn } : {}),
        ...(out.Locked !== undefined ? { locked: out.Locked } : {}),
        ...(out.MinRetentionDays !== undefined ? { minRetentionDays: out.MinRetentionDays } : {}),
        ...(out.MaxRetentionDays !== undefined ? { maxRetentionDays: out.MaxRetentionDays } : {}),
        ...(out.LockDate ? { lockDate: out.LockDate } : {}),
        ...(out.VaultType ? { vaultType: out.VaultType } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async createVault(name: string, keyArn: string, tags: Record<string, string>) {
    try {
      const out = await this.backup.send(
        new CreateBackupVaultCommand({
          BackupVaultName: name,
          EncryptionKeyArn: keyArn,
          BackupVaultTags: tags,
        }),
      );
      return { arn: out.BackupVaultArn! };
    } catch (error) {
      if (!(error instanceof BackupAlreadyExists)) throw error;
      return { arn: (await this.describeVault(name))!.arn };
    }
  }

  async vaultAccessPolicy(name: string): Promise<PolicyDocument | undefined> {
    try {
      const out = await this.backup.send(
        new GetBackupVaultAccessPolicyCommand({ BackupVaultName: name }),
      );
      return out.Policy ? (JSON.parse(out.Policy) as PolicyDocument) : undefined;
    } catch (error) {
      // AWS answers ResourceNotFoundException for a vault without a policy, too.
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putVaultAccessPolicy(name: string, policy: PolicyDocument): Promise<void> {
    await this.backup.send(
      new PutBackupVaultAccessPolicyCommand({
        BackupVaultName: name,
        Policy: JSON.stringify(policy),
      }),
    );
  }

  async putVaultLock(name: string, lock: VaultLockSettings): Promise<void> {
    await this.backup.send(
      new PutBackupVaultLockConfigurationCommand({
        BackupVaultName: name,
        MinRetentionDays: lock.minRetentionDays,
        ...(lock.maxRetentionDays !== undefined ? { MaxRetentionDays: lock.maxRetentionDays } : {}),
        ...(lock.changeableForDays !== undefined
          ? { ChangeableForDays: lock.changeableForDays }
          : {}),
      }),
    );
  }

  async createAirGappedVault(
    name: string,
    retention: { minRetentionDays: number; maxRetentionDays: number },
    tags: Record<string, string>,
  ) {
    try {
      const out = await this.backup.send(
        new CreateLogicallyAirGappedBackupVaultCommand({
          BackupVaultName: name,
          MinRetentionDays: retention.minRetentionDays,
          MaxRetentionDays: retention.maxRetentionDays,
          BackupVaultTags: tags,
        }),
      );
      return { arn: out.BackupVaultArn! };
    } catch (error) {
      if (!(error instanceof BackupAlreadyExists)) throw error;
      return { arn: (await this.describeVault(name))!.arn };
    }
  }

  async protectedResources(): Promise<ProtectedResource[]> {
    const out: ProtectedResource[] = [];
    for await (const page of paginateListProtectedResources({ client: this.backup }, {})) {
      for (const r of page.Results ?? []) {
        if (!r.ResourceArn) continue;
        out.push({
          arn: r.ResourceArn,
          ...(r.ResourceType ? { type: r.ResourceType } : {}),
          ...(r.ResourceName ? { name: r.ResourceName } : {}),
          ...(r.LastBackupTime ? { lastBackupTime: r.LastBackupTime } : {}),
        });
      }
    }
    return out;
  }

  async optInPreferences(): Promise<Record<string, boolean>> {
    const out = await this.backup.send(new DescribeRegionSettingsCommand({}));
    return { ...(out.ResourceTypeOptInPreference ?? {}) };
  }

  async jobs(jobType: 'backup' | 'copy' | 'restore', since: Date): Promise<JobHistoryEntry[]> {
    const out: JobHistoryEntry[] = [];
    // Bounded: a day of one account's jobs; beyond that the digest's summaries still count them.
    const LIMIT = 5000;
    const base = { client: this.backup, pageSize: 1000 };
    // Created in the window, and completed in it: a job that ran for hours was created before the
    // window and finished inside it (an EXPIRED job may have no completion date: the first).
    const windows = [{ ByCreatedAfter: since }, { ByCompleteAfter: since }];
    const seen = new Set<string>();
    const fresh = (id: string | undefined): id is string =>
      Boolean(id) && !seen.has(id!) && Boolean(seen.add(id!));
    if (jobType === 'backup') {
      for (const filter of windows)
        if (out.length < LIMIT)
          for await (const page of paginateListBackupJobs(base, filter)) {
            for (const j of page.BackupJobs ?? []) {
              if (!fresh(j.BackupJobId) || !j.State) continue;
              out.push(
                entry('backup', j.BackupJobId, j.State, {
                  accountId: j.AccountId,
                  statusMessage: j.StatusMessage,
                  messageCategory: j.MessageCategory,
                  resourceArn: j.ResourceArn,
                  resourceName: j.ResourceName,
                  resourceType: j.ResourceType,
                  backupVaultName: j.BackupVaultName,
                  backupVaultArn: j.BackupVaultArn,
                  recoveryPointArn: j.RecoveryPointArn,
                  backupPlanId: j.CreatedBy?.BackupPlanId,
                  backupPlanArn: j.CreatedBy?.BackupPlanArn,
                  backupRuleId: j.CreatedBy?.BackupRuleId,
                  iamRoleArn: j.IamRoleArn,
                  sizeBytes: j.BackupSizeInBytes,
                  creationDate: j.CreationDate,
                  completionDate: j.CompletionDate,
                }),
              );
            }
            if (out.length >= LIMIT) break;
          }
    } else if (jobType === 'copy') {
      for (const filter of windows)
        if (out.length < LIMIT)
          for await (const page of paginateListCopyJobs(base, filter)) {
            for (const j of page.CopyJobs ?? []) {
              if (!fresh(j.CopyJobId) || !j.State) continue;
              out.push(
                entry('copy', j.CopyJobId, j.State, {
                  accountId: j.AccountId,
                  statusMessage: j.StatusMessage,
                  messageCategory: j.MessageCategory,
                  resourceArn: j.ResourceArn,
                  resourceName: j.ResourceName,
                  resourceType: j.ResourceType,
                  sourceBackupVaultArn: j.SourceBackupVaultArn,
                  destinationBackupVaultArn: j.DestinationBackupVaultArn,
                  recoveryPointArn: j.SourceRecoveryPointArn,
                  backupPlanId: j.CreatedBy?.BackupPlanId,
                  backupPlanArn: j.CreatedBy?.BackupPlanArn,
                  backupRuleId: j.CreatedBy?.BackupRuleId,
                  iamRoleArn: j.IamRoleArn,
                  sizeBytes: j.BackupSizeInBytes,
                  creationDate: j.CreationDate,
                  completionDate: j.CompletionDate,
                }),
              );
            }
            if (out.length >= LIMIT) break;
          }
    } else {
      for (const filter of windows)
        if (out.length < LIMIT)
          for await (const page of paginateListRestoreJobs(base, filter)) {
            for (const j of page.RestoreJobs ?? []) {
              if (!fresh(j.RestoreJobId) || !j.Status) continue;
              out.push(
                entry('restore', j.RestoreJobId, j.Status, {
                  accountId: j.AccountId,
                  statusMessage: j.StatusMessage,
                  resourceType: j.ResourceType,
                  recoveryPointArn: j.RecoveryPointArn,
                  createdResourceArn: j.CreatedResourceArn,
                  restoreTestingPlanArn: j.CreatedBy?.RestoreTestingPlanArn,
                  iamRoleArn: j.IamRoleArn,
                  sizeBytes: j.BackupSizeInBytes,
                  creationDate: j.CreationDate,
                  completionDate: j.CompletionDate,
                }),
              );
            }
            if (out.length >= LIMIT) break;
          }
    }
    return out;
  }
}

/** A job history entry without the fields the API left out. */
function entry(
  jobType: JobHistoryEntry['jobType'],
  jobId: string,
  state: string,
  fields: Omit<JobHistoryEntry, 'jobType' | 'jobId' | 'state'>,
): JobHistoryEntry {
  const e: JobHistoryEntry = { jobType, jobId, state };
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && v !== null && v !== '') (e as unknown as Record<string, unknown>)[k] = v;
  }
  return e;
}

class Tagging implements MemberTagging {
  constructor(private readonly tagging: ResourceGroupsTaggingAPIClient) {}

  async taggedResources(key: string, values: string[]): Promise<{ arn: string }[]> {
    const out: { arn: string }[] = [];
    for await (const page of paginateGetResources(
      { client: this.tagging },
      { TagFilters: [{ Key: key, ...(values.length ? { Values: values } : {}) }] },
    )) {
      for (const r of page.ResourceTagMappingList ?? []) {
        if (r.ResourceARN) out.push({ arn: r.ResourceARN });
      }
    }
    return out;
  }
}

/** Calls made by the control plane's own roles are repairs, not what anyone is asking about. */
const OWN_ROLE = /backup-control-plane/;

class Trail implements MemberTrail {
  constructor(private readonly cloudtrail: CloudTrailClient) {}

  async lastChange(resourceName: string, since: Date): Promise<ChangeRecord | undefined> {
    let token: string | undefined;
    // Reads (the daily check's own, scanners') can fill whole pages: look a few pages deep.
    for (let page = 0; page < 5; page++) {
      const out = await this.cloudtrail.send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: resourceName }],
          StartTime: since,
          MaxResults: 50,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const e of out.Events ?? []) {
        const change = changeOf(e);
        if (change) return change;
      }
      token = out.NextToken;
      if (!token) break;
    }
    return undefined;
  }
}

/** A write by someone other than the control plane, readable; undefined for anything else. */
function changeOf(e: {
  ReadOnly?: string;
  Username?: string;
  CloudTrailEvent?: string;
  EventName?: string;
  EventTime?: Date;
}): ChangeRecord | undefined {
  if (e.ReadOnly === 'true') return undefined;
  let identity = e.Username ?? 'unknown';
  try {
    const detail = JSON.parse(e.CloudTrailEvent ?? '{}') as {
      readOnly?: boolean;
      userIdentity?: { arn?: string; principalId?: string; invokedBy?: string };
    };
    if (detail.readOnly) return undefined;
    identity =
      detail.userIdentity?.arn ??
      detail.userIdentity?.invokedBy ??
      detail.userIdentity?.principalId ??
      identity;
  } catch {
    // An unreadable detail still has the user name and the event name.
  }
  if (OWN_ROLE.test(identity)) return undefined;
  return {
    identity,
    action: e.EventName ?? 'unknown',
    time: e.EventTime?.toISOString() ?? 'unknown',
  };
}

class Events implements MemberEvents {
  constructor(private readonly events: EventBridgeClient) {}

  async describeRule(name: string) {
    try {
      const out = await this.events.send(new DescribeRuleCommand({ Name: name }));
      return {
        arn: out.Arn!,
        state: out.State ?? 'ENABLED',
        pattern: out.EventPattern ? (JSON.parse(out.EventPattern) as PolicyDocument) : {},
        description: out.Description,
      };
    } catch (error) {
      if (error instanceof EventsNotFound) return undefined;
      throw error;
    }
  }

  async putRule(name: string, pattern: PolicyDocument, description: string) {
    const out = await this.events.send(
      new PutRuleCommand({
        Name: name,
        EventPattern: JSON.stringify(pattern),
        Description: description,
        State: 'ENABLED',
      }),
    );
    return { arn: out.RuleArn! };
  }

  async targets(ruleName: string): Promise<RuleTarget[]> {
    const out = await this.events.send(new ListTargetsByRuleCommand({ Rule: ruleName }));
    return (out.Targets ?? []).map((t) => ({ id: t.Id!, arn: t.Arn!, roleArn: t.RoleArn }));
  }

  async putTarget(ruleName: string, target: RuleTarget) {
    const out = await this.events.send(
      new PutTargetsCommand({
        Rule: ruleName,
        Targets: [{ Id: target.id, Arn: target.arn, RoleArn: target.roleArn }],
      }),
    );
    if (out.FailedEntryCount) {
      const f = out.FailedEntries?.[0];
      throw new Error(`PutTargets failed for ${ruleName}: ${f?.ErrorCode} ${f?.ErrorMessage}`);
    }
  }
}

/** Assumes the role through STS and caches per-region clients for the account. */
export class StsAccountAccess implements AccountAccess {
  constructor(
    private readonly sts: STSClient,
    private readonly sessionName = 'backup-control-plane-onboarding',
  ) {}

  async assume(accountId: string, roleName: string): Promise<MemberAccount> {
    const partition = regionPartition(await this.sts.config.region());
    const out = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:${partition.partition}:iam::${accountId}:role/${roleName}`,
        RoleSessionName: this.sessionName,
        DurationSeconds: 3600,
      }),
    );
    const c = out.Credentials!;
    const credentials: Credentials = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken,
    };
    return memberAccount(accountId, credentials, partition.globalServicesRegion);
  }
}

/** `iamRegion`: where IAM answers in the account's partition (us-east-1, us-gov-west-1, cn-north-1). */
export function memberAccount(
  accountId: string,
  credentials: Credentials,
  iamRegion = 'us-east-1',
): MemberAccount {
  const options = (region: string): ClientOptions => ({
    region,
    credentials,
    maxAttempts: 6,
    retryMode: 'adaptive',
  });
  const perRegion = <T>(make: (region: string) => T) => {
    const cache = new Map<string, T>();
    return (region: string) => {
      let v = cache.get(region);
      if (!v) cache.set(region, (v = make(region)));
      return v;
    };
  };
  return {
    accountId,
    iam: new Iam(new IAMClient(options(iamRegion))),
    kms: perRegion((r) => new Kms(new KMSClient(options(r)))),
    backup: perRegion((r) => new Backup(new BackupClient(options(r)))),
    events: perRegion((r) => new Events(new EventBridgeClient(options(r)))),
    tagging: perRegion((r) => new Tagging(new ResourceGroupsTaggingAPIClient(options(r)))),
    trail: perRegion((r) => new Trail(new CloudTrailClient(options(r)))),
  };
}
