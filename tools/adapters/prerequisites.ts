import { BackupClient, DescribeGlobalSettingsCommand } from '@aws-sdk/client-backup';
import {
  CloudFormationClient,
  DescribeOrganizationsAccessCommand,
  DescribeStacksCommand,
  paginateListStackInstances,
} from '@aws-sdk/client-cloudformation';
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { DescribeEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  DescribeOrganizationCommand,
  DescribeResourcePolicyCommand,
  ListAWSServiceAccessForOrganizationCommand,
  ListRootsCommand,
  paginateListDelegatedAdministrators,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  GetAccountSendingEnabledCommand,
  GetIdentityVerificationAttributesCommand,
  GetSendQuotaCommand,
  type SESClient,
} from '@aws-sdk/client-ses';
import { ListSubscriptionsByTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  AccountRecord,
  CheckRecord,
  PolicyDocument,
  VaultState,
} from '../../functions/shared/ports';
import { StsAccountAccess } from '../../functions/shared/adapters/member-account';
import { CLIENT_DEFAULTS } from '../../functions/shared/adapters/clients';
import { DynamoDbCheckLedger } from '../../functions/shared/adapters/dynamodb-check-ledger';
import { DynamoDbOnboardingLedger } from '../../functions/shared/adapters/dynamodb-onboarding-ledger';
import {
  EventBridgeRuleForwarding,
  type ForwardingRuleState,
} from '../../functions/shared/adapters/eventbridge-rule-forwarding';

/**
 * What `backupctl doctor` reads, read-only, with the operator's credentials: the organization's
 * settings the control plane depends on, SES, the topics' subscribers, the dead-letter queues,
 * the trails, the central bus and the stack's outputs. Each method is one question; the checks
 * (tools/backupctl/doctor.ts) judge the answers.
 */

export interface Subscription {
  protocol: string;
  endpoint: string;
  /** "PendingConfirmation" until an email or HTTPS subscriber confirms. */
  arn: string;
}

export interface Trail {
  name: string;
  arn: string;
  organization: boolean;
  multiRegion: boolean;
}

export interface PrerequisiteReader {
  callerAccount(): Promise<string>;
  organization(): Promise<{ id: string; managementAccountId: string }>;
  trustedServices(): Promise<string[]>;
  /** The accounts registered as delegated administrator for a service principal. */
  delegatedAdministrators(servicePrincipal: string): Promise<string[]>;
  /** The organization's resource-based delegation policy (undefined: none). */
  organizationResourcePolicy(): Promise<{ Statement?: unknown } | undefined>;
  rootPolicyTypes(): Promise<{ rootId: string; enabled: string[] }>;
  backupGlobalSettings(): Promise<Record<string, string>>;
  sesIdentityStatus(identity: string): Promise<string | undefined>;
  sesSending(): Promise<{ enabled: boolean; max24HourSend: number; sentLast24Hours: number }>;
  subscriptions(topicArn: string): Promise<Subscription[]>;
  queueDepth(queueUrl: string): Promise<number>;
  trails(): Promise<Trail[]>;
  trailLogging(trailArn: string): Promise<boolean>;
  busPolicy(busName: string): Promise<string | undefined>;
  stackOutputs(stackName: string): Promise<{ status: string; outputs: Record<string, string> }>;
  /**
   * CloudFormation StackSets' trusted access in the organization: ENABLED or DISABLED. `callAs`
   * DELEGATED_ADMIN from a delegated administrator account (StackSets asks who is asking).
   */
  stackSetsAccess(callAs?: 'SELF' | 'DELEGATED_ADMIN'): Promise<string>;
  /** A StackSet's stack instances: one per account (and region). */
  stackSetInstances(
    stackSetName: string,
    callAs?: 'SELF' | 'DELEGATED_ADMIN',
  ): Promise<StackSetInstance[]>;
  forwardingRule(region: string, name: string): Promise<ForwardingRuleState>;
  /** The ledger's accounts and their daily checks of a day (the stack's LedgerTableName). */
  ledgerAccounts(table: string): Promise<AccountRecord[]>;
  dailyChecks(table: string, accountIds: string[], day: string): Promise<Map<string, CheckRecord>>;
  /** One account's ledger record (undefined: never onboarded). */
  ledgerAccount(table: string, accountId: string): Promise<AccountRecord | undefined>;
  /**
   * The central vault in one region, read through the first of `roles` the caller may assume in
   * the central account (the administrator roles trust the management account).
   */
  centralVault(
    accountId: string,
    roles: readonly string[],
    region: string,
    vaultName: string,
  ): Promise<CentralVaultState>;
}

/** The central vault as read: absent, or its state and access policy. */
export interface CentralVaultState {
  vault?: VaultState;
  policy?: PolicyDocument;
}

export interface StackSetInstance {
  account: string;
  region: string;
  /** CURRENT, OUTDATED or INOPERABLE. */
  status: string;
  /** PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE, SKIPPED_SUSPENDED_ACCOUNT… */
  detailedStatus?: string;
  reason?: string;
}

export interface PrerequisiteClients {
  dynamodb: DynamoDBClient;
  organizations: OrganizationsClient;
  ses: SESClient;
  sns: SNSClient;
  sqs: SQSClient;
  sts: STSClient;
}

export class AwsPrerequisites implements PrerequisiteReader {
  private readonly backup = new BackupClient(CLIENT_DEFAULTS);
  private readonly cloudtrail = new CloudTrailClient(CLIENT_DEFAULTS);
  private readonly events = new EventBridgeClient(CLIENT_DEFAULTS);
  private readonly cloudformation = new CloudFormationClient(CLIENT_DEFAULTS);
  private readonly rules = new EventBridgeRuleForwarding();

  constructor(private readonly c: PrerequisiteClients) {}

  async callerAccount(): Promise<string> {
    return (await this.c.sts.send(new GetCallerIdentityCommand({}))).Account ?? '';
  }

  async organization(): Promise<{ id: string; managementAccountId: string }> {
    const out = await this.c.organizations.send(new DescribeOrganizationCommand({}));
    return {
      id: out.Organization?.Id ?? '',
      managementAccountId: out.Organization?.MasterAccountId ?? '',
    };
  }

  async trustedServices(): Promise<string[]> {
    const services: string[] = [];
    let NextToken: string | undefined;
    do {
      const out = await this.c.organizations.send(
        new ListAWSServiceAccessForOrganizationCommand({ NextToken }),
      );
      for (const s of out.EnabledServicePrincipals ?? []) {
        if (s.ServicePrincipal) services.push(s.ServicePrincipal);
      }
      NextToken = out.NextToken;
    } while (NextToken);
    return services;
  }

  async rootPolicyTypes(): Promise<{ rootId: string; enabled: string[] }> {
    const root = (await this.c.organizations.send(new ListRootsCommand({}))).Roots?.[0];
    return {
      rootId: root?.Id ?? '',
      enabled: (root?.PolicyTypes ?? [])
        .filter((p) => p.Status === 'ENABLED' && p.Type)
        .map((p) => p.Type!),
    };
  }

  async delegatedAdministrators(servicePrincipal: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of paginateListDelegatedAdministrators(
      { client: this.c.organizations },
      { ServicePrincipal: servicePrincipal },
    )) {
      for (const a of page.DelegatedAdministrators ?? []) if (a.Id) ids.push(a.Id);
    }
    return ids;
  }

  async organizationResourcePolicy(): Promise<{ Statement?: unknown } | undefined> {
    try {
      const out = await this.c.organizations.send(new DescribeResourcePolicyCommand({}));
      const content = out.ResourcePolicy?.Content;
      return content ? (JSON.parse(content) as { Statement?: unknown }) : undefined;
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourcePolicyNotFoundException') return undefined;
      throw error;
    }
  }

  async backupGlobalSettings(): Promise<Record<string, string>> {
    return (await this.backup.send(new DescribeGlobalSettingsCommand({}))).GlobalSettings ?? {};
  }

  async sesIdentityStatus(identity: string): Promise<string | undefined> {
    const out = await this.c.ses.send(
      new GetIdentityVerificationAttributesCommand({ Identities: [identity] }),
    );
    return out.VerificationAttributes?.[identity]?.VerificationStatus;
  }

  async sesSending(): Promise<{
    enabled: boolean;
    max24HourSend: number;
    sentLast24Hours: number;
  }> {
    const enabled = await this.c.ses.send(new GetAccountSendingEnabledCommand({}));
    const quota = await this.c.ses.send(new GetSendQuotaCommand({}));
    return {
      enabled: enabled.Enabled !== false,
      max24HourSend: quota.Max24HourSend ?? 0,
      sentLast24Hours: quota.SentLast24Hours ?? 0,
    };
  }

  async subscriptions(topicArn: string): Promise<Subscription[]> {
    const found: Subscription[] = [];
    let NextToken: string | undefined;
    do {
      const out = await this.c.sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }),
      );
      for (const s of out.Subscriptions ?? []) {
        found.push({
          protocol: s.Protocol ?? '',
          endpoint: s.Endpoint ?? '',
          arn: s.SubscriptionArn ?? '',
        });
      }
      NextToken = out.NextToken;
    } while (NextToken);
    return found;
  }

  async queueDepth(queueUrl: string): Promise<number> {
    const out = await this.c.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const a = out.Attributes ?? {};
    return (
      Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }

  async trails(): Promise<Trail[]> {
    const out = await this.cloudtrail.send(
      new DescribeTrailsCommand({ includeShadowTrails: true }),
    );
    return (out.trailList ?? []).map((t) => ({
      name: t.Name ?? '',
      arn: t.TrailARN ?? '',
      organization: t.IsOrganizationTrail === true,
      multiRegion: t.IsMultiRegionTrail === true,
    }));
  }

  async trailLogging(trailArn: string): Promise<boolean> {
    return (
      (await this.cloudtrail.send(new GetTrailStatusCommand({ Name: trailArn }))).IsLogging === true
    );
  }

  async busPolicy(busName: string): Promise<string | undefined> {
    return (await this.events.send(new DescribeEventBusCommand({ Name: busName }))).Policy;
  }

  async forwardingRule(region: string, name: string): Promise<ForwardingRuleState> {
    return this.rules.inspect({ region, name });
  }

  async ledgerAccounts(table: string): Promise<AccountRecord[]> {
    return new DynamoDbOnboardingLedger(this.c.dynamodb, table).list();
  }

  async ledgerAccount(table: string, accountId: string): Promise<AccountRecord | undefined> {
    return (await new DynamoDbOnboardingLedger(this.c.dynamodb, table).getMany([accountId])).get(
      accountId,
    );
  }

  async centralVault(
    accountId: string,
    roles: readonly string[],
    region: string,
    vaultName: string,
  ): Promise<CentralVaultState> {
    const access = new StsAccountAccess(this.c.sts, 'backup-control-plane-doctor');
    let lastError: unknown = new Error(
      'no role to read the central account through (onboarding is not configured)',
    );
    for (const role of roles) {
      let member;
      try {
        member = await access.assume(accountId, role);
      } catch (error) {
        lastError = error;
        continue;
      }
      const backup = member.backup(region);
      const vault = await backup.describeVault(vaultName);
      if (!vault) return {};
      const policy = await backup.vaultAccessPolicy(vaultName);
      return { vault, ...(policy ? { policy } : {}) };
    }
    throw lastError;
  }

  async dailyChecks(
    table: string,
    accountIds: string[],
    day: string,
  ): Promise<Map<string, CheckRecord>> {
    return new DynamoDbCheckLedger(this.c.dynamodb, table).checks(accountIds, day);
  }

  async stackOutputs(
    stackName: string,
  ): Promise<{ status: string; outputs: Record<string, string> }> {
    const stack = (
      await this.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }))
    ).Stacks?.[0];
    return {
      status: stack?.StackStatus ?? 'UNKNOWN',
      outputs: Object.fromEntries(
        (stack?.Outputs ?? [])
          .filter((o) => o.OutputKey && o.OutputValue !== undefined)
          .map((o) => [o.OutputKey!, o.OutputValue!]),
      ),
    };
  }

  async stackSetsAccess(callAs: 'SELF' | 'DELEGATED_ADMIN' = 'SELF'): Promise<string> {
    return (
      (await this.cloudformation.send(new DescribeOrganizationsAccessCommand({ CallAs: callAs })))
        .Status ?? ''
    );
  }

  async stackSetInstances(
    stackSetName: string,
    callAs: 'SELF' | 'DELEGATED_ADMIN' = 'SELF',
  ): Promise<StackSetInstance[]> {
    const out: StackSetInstance[] = [];
    for await (const page of paginateListStackInstances(
      { client: this.cloudformation },
      { StackSetName: stackSetName, CallAs: callAs },
    )) {
      for (const i of page.Summaries ?? []) {
        out.push({
          account: i.Account ?? '',
          region: i.Region ?? '',
          status: i.Status ?? '',
          ...(i.StackInstanceStatus?.DetailedStatus
            ? { detailedStatus: i.StackInstanceStatus.DetailedStatus }
            : {}),
          ...(i.StatusReason ? { reason: i.StatusReason } : {}),
        });
      }
    }
    return out;
  }
}
