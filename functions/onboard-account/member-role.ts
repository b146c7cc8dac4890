import type { Config } from '../shared/config/schema';
import type { PolicyDocument } from '../shared/ports';
import type { Baseline } from './baseline';

/**
 * The dedicated member role (`onboarding.memberRole`): what onboarding assumes in a member account
 * instead of an administrator role. It trusts only the control plane's onboarding role, from the
 * organization, and may touch only the baseline's own resources: the keys whose own policy names
 * it, the alias, the vaults and the two forwarding rules by name (targeting the central bus only).
 * It writes no IAM: the baseline's roles come from the StackSet or the administrator role. Derived from the baseline,
 * so a resource added there is covered here. One definition for every way the role arrives: the
 * StackSet template (infra/stage-config.js), the one-time bootstrap (steps.ts, access) and the
 * table-driven test of its permissions (test/unit/member-role.test.ts).
 */

/** The values filled in: literal ones for an account, `${AWS::…}` ones for a template. */
export interface MemberRoleVars {
  partition: string;
  accountId: string;
  organizationId: string;
  /** The account the control plane runs in (management or delegated administrator). */
  controlPlaneAccountId: string;
  controlPlaneRoleArn: string;
  /** The only target the member role may give the forwarding rules. */
  centralBusArn: string;
}

/** The tag every key, vault and role onboarding creates carries (resources/). */
export const MANAGED_TAG = { key: 'managed-by', value: 'backup-control-plane' } as const;

export interface MemberRoleDefinition {
  name: string;
  description: string;
  trust: PolicyDocument;
  inlinePolicyName: string;
  policy: PolicyDocument;
}

export const MEMBER_ROLE_POLICY_NAME = 'backup-baseline-only';

/** The vault names onboarding may create: the baseline's and the profiles' own. */
export function baselineVaultNames(
  baseline: Baseline,
  config: Pick<Config, 'onboarding'>,
): string[] {
  return [
    ...new Set([
      baseline.vault.name,
      ...(config.onboarding?.profiles ?? []).flatMap((p) =>
        p.baseline.vaultName ? [p.baseline.vaultName] : [],
      ),
    ]),
  ].sort();
}

export function memberRoleDefinition(
  baseline: Baseline,
  name: string,
  vaultNames: readonly string[],
  v: MemberRoleVars,
  /** The central backup account's vaults (`centralBackup`): kept there, and only there. */
  central?: { accountId: string; vaultName: string; airGapped?: { name: string } },
): MemberRoleDefinition {
  const arn = (service: string, region: string, resource: string) =>
    `arn:${v.partition}:${service}:${region}:${v.accountId}:${resource}`;
  const roles = [
    baseline.serviceRole.name,
    baseline.readOnlyRole.name,
    baseline.forwarding.role.name,
  ];
  const ruleArns = [baseline.forwarding.ruleName, baseline.forwarding.watchdog.ruleName].map((r) =>
    arn('events', '*', `rule/${r}`),
  );
  return {
    name,
    description:
      'Lets the backup control plane keep the backup baseline of this account (its key, vaults and forwarding rules), nothing else',
    trust: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OnlyTheControlPlaneOnboardingRole',
          Effect: 'Allow',
          Principal: { AWS: `arn:${v.partition}:iam::${v.controlPlaneAccountId}:root` },
          Action: 'sts:AssumeRole',
          Condition: {
            ArnEquals: { 'aws:PrincipalArn': v.controlPlaneRoleArn },
            StringEquals: { 'aws:PrincipalOrgID': v.organizationId },
          },
        },
      ],
    },
    inlinePolicyName: MEMBER_ROLE_POLICY_NAME,
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          // Reads only. IAM is never written through this role: a role that may write another
          // role's policy or trust could make itself an administrator. The baseline roles come
          // from the StackSet (deploy: stackset) or the administrator role (deploy: bootstrap).
          Sid: 'ReadTheBaselineRolesAndItself',
          Effect: 'Allow',
          Action: ['iam:GetRole', 'iam:ListAttachedRolePolicies', 'iam:GetRolePolicy'],
          Resource: [...roles, name].map((r) => arn('iam', '', `role/${r}`)),
        },
        {
          Sid: 'TheForwarderRoleToEventBridgeOnly',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: arn('iam', '', `role/${baseline.forwarding.role.name}`),
          Condition: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
        },
        {
          // CreateKey has no resource to scope. The new key's own policy then names this role
          // (memberRoleKeyStatements): no permission here depends on a tag it could set.
          Sid: 'CreateTaggedKeys',
          Effect: 'Allow',
          Action: ['kms:CreateKey', 'kms:TagResource'],
          Resource: '*',
          Condition: {
            StringEquals: { [`aws:RequestTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value },
          },
        },
        {
          // The alias side; the key side is granted by the key's own policy.
          Sid: 'TheBaselineAlias',
          Effect: 'Allow',
          Action: ['kms:CreateAlias', 'kms:UpdateAlias'],
          Resource: arn('kms', '*', baseline.key.alias),
        },
        {
          // Reads only: finding the key by alias, or a tagged key a stopped run left unaliased.
          Sid: 'FindTheBaselineKey',
          Effect: 'Allow',
          Action: ['kms:DescribeKey', 'kms:ListResourceTags'],
          Resource: arn('kms', '*', 'key/*'),
        },
        {
          Sid: 'ListKeysAndAliases',
          Effect: 'Allow',
          Action: ['kms:ListKeys', 'kms:ListAliases'],
          Resource: '*',
        },
        {
          Sid: 'TheBaselineVaults',
          Effect: 'Allow',
          Action: ['backup:DescribeBackupVault', 'backup:CreateBackupVault', 'backup:TagResource'],
          Resource: vaultNames.map((n) => arn('backup', '*', `backup-vault:${n}`)),
        },
        ...(central
          ? [
              {
                // The account id is literal: in every other account this matches nothing.
                Sid: 'TheCentralVaultInTheCentralAccountOnly',
                Effect: 'Allow',
                Action: [
                  'backup:DescribeBackupVault',
                  'backup:CreateBackupVault',
                  ...(central.airGapped ? ['backup:CreateLogicallyAirGappedBackupVault'] : []),
                  'backup:TagResource',
                  'backup:GetBackupVaultAccessPolicy',
                  'backup:PutBackupVaultAccessPolicy',
                  'backup:PutBackupVaultLockConfiguration',
                ],
                Resource: [
                  central.vaultName,
                  ...(central.airGapped ? [central.airGapped.name] : []),
                ].map((n) => `arn:${v.partition}:backup:*:${central.accountId}:backup-vault:${n}`),
              },
            ]
          : []),
        {
          // CreateBackupVault mounts the vault's storage; the action has no resource type.
          Sid: 'VaultStorage',
          Effect: 'Allow',
          Action: 'backup-storage:MountCapsule',
          Resource: '*',
        },
        {
          Sid: 'TheBaselineRules',
          Effect: 'Allow',
          Action: ['events:DescribeRule', 'events:PutRule', 'events:ListTargetsByRule'],
          Resource: ruleArns,
        },
        {
          // Never destroy or lock out: whatever a key's own policy says, these stay denied.
          Sid: 'NeverDestroyKeysOrBypassTheLockoutCheck',
          Effect: 'Deny',
          Action: [
            'kms:ScheduleKeyDeletion',
            'kms:DisableKey',
            'kms:DisableKeyRotation',
            'kms:DeleteAlias',
            'kms:DeleteImportedKeyMaterial',
          ],
          Resource: '*',
        },
        {
          Sid: 'NeverBypassTheKeyPolicyLockoutCheck',
          Effect: 'Deny',
          Action: ['kms:CreateKey', 'kms:PutKeyPolicy'],
          Resource: '*',
          Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
        },
        {
          // Events go to the central bus and nowhere else.
          Sid: 'TheBaselineRulesTargetTheCentralBusOnly',
          Effect: 'Allow',
          Action: 'events:PutTargets',
          Resource: ruleArns,
          Condition: { ArnEquals: { 'events:TargetArn': v.centralBusArn } },
        },
      ],
    },
  };
}

/**
 * What the baseline key's own policy grants the member role (added to it when
 * `onboarding.memberRole` is set): keeping this key, and letting AWS Backup use it for a vault.
 * Granted by the key, so only the keys onboarding created name the role.
 */
export function memberRoleKeyStatements(memberRoleArn: string): Record<string, unknown>[] {
  return [
    {
      Sid: 'TheMemberRoleKeepsThisKey',
      Effect: 'Allow',
      Principal: { AWS: memberRoleArn },
      Action: [
        'kms:DescribeKey',
        'kms:GetKeyPolicy',
        'kms:PutKeyPolicy',
        'kms:GetKeyRotationStatus',
        'kms:EnableKeyRotation',
        'kms:CreateAlias',
        'kms:UpdateAlias',
      ],
      Resource: '*',
    },
    {
      // CreateBackupVault: AWS Backup creates its grant and data keys on the caller's behalf.
      Sid: 'TheMemberRoleLetsAwsBackupUseThisKey',
      Effect: 'Allow',
      Principal: { AWS: memberRoleArn },
      Action: ['kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:RetireGrant'],
      Resource: '*',
      Condition: { StringLike: { 'kms:ViaService': 'backup.*' } },
    },
  ];
}
