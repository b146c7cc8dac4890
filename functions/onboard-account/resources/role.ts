import type { PolicyDocument } from '../../shared/ports';
import { samePolicy } from '../baseline';
import type { Act } from './change';

/**
 * Baseline resource: an IAM role (the backup service role, the read-only role, the forwarder
 * role, and with `bootstrap` the member role), its trust, managed and inline policies.
 */

/** The port: IAM in the member account (global). */
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

export interface RoleSpec {
  partition: string;
  name: string;
  description: string;
  trust: PolicyDocument;
  managed?: string[];
  inline?: { name: string; document: PolicyDocument };
  tags: Record<string, string>;
}

/** Makes the role as declared; returns its ARN (predicted in a dry run). */
export async function ensureRole(
  member: { accountId: string; iam: MemberIam },
  changes: string[],
  act: Act,
  want: RoleSpec,
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

/** Backup-ready: the service role exists and AWS Backup may assume it. */
export async function verifyServiceRole(iam: MemberIam, name: string): Promise<string[]> {
  const role = await iam.getRole(name);
  if (!role) return [`role ${name} is missing`];
  if (!JSON.stringify(role.trustPolicy).includes('backup.amazonaws.com')) {
    return [`role ${name} does not trust backup.amazonaws.com`];
  }
  return [];
}
