import type { Config } from '../shared/config';
import type { PolicyDocument } from '../shared/ports';
import type { Baseline } from './baseline';

/**
 * The dedicated member role (`onboarding.memberRole`): what onboarding assumes in a member account
 * instead of an administrator role. It trusts only the control plane's onboarding role, from the
 * organization, and may touch only the baseline's own resources: its three roles by name, the key
 * by tag and alias, the vaults and the two forwarding rules by name. Derived from the baseline,
 * so a resource added there is covered here. One definition for every way the role arrives: the
 * StackSet template (infra/stage-config.js), the one-time bootstrap (onboard.ts) and the
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
}

/** The tag every key, vault and role onboarding creates carries (onboard.ts). */
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
): MemberRoleDefinition {
  const arn = (service: string, region: string, resource: string) =>
    `arn:${v.partition}:${service}:${region}:${v.accountId}:${resource}`;
  const fill = (text: string) => text.replace(/\{\{partition\}\}/g, v.partition);
  const roles = [
    baseline.serviceRole.name,
    baseline.readOnlyRole.name,
    baseline.forwarding.role.name,
  ];
  const roleArns = roles.map((r) => arn('iam', '', `role/${r}`));
  const ruleArns = [baseline.forwarding.ruleName, baseline.forwarding.watchdog.ruleName].map((r) =>
    arn('events', '*', `rule/${r}`),
  );
  const keyArns = arn('kms', '*', 'key/*');
  const managed = { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value };
  return {
    name,
    description:
      'Lets the backup control plane keep the backup baseline of this account (its roles, key, vaults and forwarding rules), nothing else',
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
          Sid: 'TheBaselineRoles',
          Effect: 'Allow',
          Action: [
            'iam:GetRole',
            'iam:CreateRole',
            'iam:TagRole',
            'iam:UpdateAssumeRolePolicy',
            'iam:ListAttachedRolePolicies',
            'iam:GetRolePolicy',
            'iam:PutRolePolicy',
          ],
          Resource: roleArns,
        },
        {
          Sid: 'OnlyTheBaselineManagedPolicies',
          Effect: 'Allow',
          Action: 'iam:AttachRolePolicy',
          Resource: roleArns,
          Condition: {
            ArnEquals: { 'iam:PolicyARN': baseline.serviceRole.managedPolicies.map(fill) },
          },
        },
        {
          Sid: 'TheForwarderRoleToEventBridgeOnly',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: arn('iam', '', `role/${baseline.forwarding.role.name}`),
          Condition: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
        },
        {
          // CreateKey has no resource to scope: only keys created with the control plane's tag.
          Sid: 'CreateOnlyTaggedKeys',
          Effect: 'Allow',
          Action: ['kms:CreateKey', 'kms:TagResource'],
          Resource: '*',
          Condition: {
            StringEquals: { [`aws:RequestTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value },
          },
        },
        {
          // Key policy, rotation, the alias's target, and what AWS Backup needs to encrypt a
          // new vault with it: only on the keys the control plane tagged.
          Sid: 'OnlyTheControlPlaneKeys',
          Effect: 'Allow',
          Action: [
            'kms:GetKeyPolicy',
            'kms:PutKeyPolicy',
            'kms:GetKeyRotationStatus',
            'kms:EnableKeyRotation',
            'kms:CreateAlias',
            'kms:UpdateAlias',
            'kms:CreateGrant',
            'kms:GenerateDataKey',
            'kms:Decrypt',
            'kms:RetireGrant',
          ],
          Resource: keyArns,
          Condition: { StringEquals: managed },
        },
        {
          Sid: 'TheBaselineAlias',
          Effect: 'Allow',
          Action: ['kms:CreateAlias', 'kms:UpdateAlias'],
          Resource: arn('kms', '*', baseline.key.alias),
        },
        {
          // Reads only: onboarding checks that this role is as declared, and repairs it (through
          // the administrator role, with `bootstrap`) when not. It can change nothing of itself.
          Sid: 'ReadItself',
          Effect: 'Allow',
          Action: ['iam:GetRole', 'iam:GetRolePolicy'],
          Resource: arn('iam', '', `role/${name}`),
        },
        {
          // Reads only: finding the key by alias, or a tagged key a stopped run left unaliased.
          Sid: 'FindTheBaselineKey',
          Effect: 'Allow',
          Action: ['kms:DescribeKey', 'kms:ListResourceTags'],
          Resource: keyArns,
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
          Action: [
            'events:DescribeRule',
            'events:PutRule',
            'events:ListTargetsByRule',
            'events:PutTargets',
          ],
          Resource: ruleArns,
        },
      ],
    },
  };
}
