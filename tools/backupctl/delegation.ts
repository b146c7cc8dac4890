import { samePolicy } from '../../functions/onboard-account/baseline';

/**
 * The Organizations resource-based delegation policy of the delegated administrator mode: what
 * `backupctl setup` writes (with the management account's credentials) and doctor checks.
 */

/** The statements of the Organizations resource policy that are this control plane's. */
export const DELEGATION_SIDS = [
  'BackupControlPlaneBrowsesOrganization',
  'BackupControlPlaneReadsPolicies',
  'BackupControlPlaneManagesBackupPolicies',
  'BackupControlPlaneTagsAccounts',
] as const;

/**
 * What the delegated administrator may do in Organizations beyond the reads every delegated
 * administrator has: manage BACKUP_POLICY policies (the stack creates them, onboarding attaches
 * them) and tag accounts with the control plane's own tags (their onboarding status).
 */
export function delegationStatements(
  partition: string,
  organization: { id: string; managementAccountId: string },
  adminAccountId: string,
): Record<string, unknown>[] {
  const arn = (resource: string) =>
    `arn:${partition}:organizations::${organization.managementAccountId}:${resource}`;
  const principal = { AWS: `arn:${partition}:iam::${adminAccountId}:root` };
  return [
    {
      // AWS: delegate navigating the structure before delegating policies (a delegated
      // administrator of a service has these reads anyway; this keeps the policy whole).
      Sid: 'BackupControlPlaneBrowsesOrganization',
      Effect: 'Allow',
      Principal: principal,
      Action: [
        'organizations:DescribeOrganization',
        'organizations:DescribeOrganizationalUnit',
        'organizations:DescribeAccount',
        'organizations:ListAccounts',
        'organizations:ListAccountsForParent',
        'organizations:ListChildren',
        'organizations:ListOrganizationalUnitsForParent',
        'organizations:ListParents',
        'organizations:ListRoots',
        'organizations:ListTagsForResource',
      ],
      Resource: '*',
    },
    {
      Sid: 'BackupControlPlaneReadsPolicies',
      Effect: 'Allow',
      Principal: principal,
      Action: [
        'organizations:DescribePolicy',
        'organizations:DescribeEffectivePolicy',
        'organizations:ListPolicies',
        'organizations:ListPoliciesForTarget',
        'organizations:ListTargetsForPolicy',
      ],
      Resource: '*',
    },
    {
      Sid: 'BackupControlPlaneManagesBackupPolicies',
      Effect: 'Allow',
      Principal: principal,
      Action: [
        'organizations:CreatePolicy',
        'organizations:UpdatePolicy',
        'organizations:DeletePolicy',
        'organizations:AttachPolicy',
        'organizations:DetachPolicy',
      ],
      Resource: [
        arn(`root/${organization.id}/r-*`),
        arn(`ou/${organization.id}/ou-*`),
        arn(`account/${organization.id}/*`),
        arn(`policy/${organization.id}/backup_policy/*`),
      ],
      Condition: { StringLikeIfExists: { 'organizations:PolicyType': 'BACKUP_POLICY' } },
    },
    {
      Sid: 'BackupControlPlaneTagsAccounts',
      Effect: 'Allow',
      Principal: principal,
      // Accounts (their onboarding status) and the stack's backup policies (CloudFormation's
      // policy handler tags through it, with no tags of ours today).
      Action: 'organizations:TagResource',
      Resource: [
        arn(`account/${organization.id}/*`),
        arn(`policy/${organization.id}/backup_policy/*`),
      ],
      Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': 'backup-control-plane:*' } },
    },
  ];
}

/** The resource policy with our statements as wanted, and anyone else's kept as they are. */
export function withDelegation(
  current: { Statement?: unknown } | undefined,
  ours: Record<string, unknown>[],
): { document: Record<string, unknown>; same: boolean } {
  const statements = Array.isArray(current?.Statement)
    ? (current.Statement as Record<string, unknown>[])
    : [];
  const others = statements.filter((s) => !(DELEGATION_SIDS as readonly unknown[]).includes(s.Sid));
  const mine = statements.filter((s) => (DELEGATION_SIDS as readonly unknown[]).includes(s.Sid));
  // As IAM reads them: key order, a one-item list and a string, the order of actions differ freely.
  const same = samePolicy({ Statement: mine }, { Statement: ours });
  return { document: { Version: '2012-10-17', Statement: [...others, ...ours] }, same };
}
