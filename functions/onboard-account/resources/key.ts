import type { PolicyDocument } from '../../shared/ports';
import { fill, samePolicy, type Baseline, type BaselineVars } from '../baseline';
import { memberRoleKeyStatements } from '../member-role';
import type { Act } from './change';

/** Baseline resource: the KMS key of the baseline vault in one region, its alias, policy, rotation. */

/** The port: KMS in one region of the member account. */
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

/** Makes the key as declared; returns its ARN (predicted in a dry run). */
export async function ensureKey(
  member: { accountId: string; kms(region: string): MemberKms },
  region: string,
  changes: string[],
  act: Act,
  baseline: Baseline,
  vars: BaselineVars,
  tags: Record<string, string>,
  options: {
    memberRoleArn?: string | undefined;
    /** Statements this account's key needs besides the baseline's (the central account's). */
    extraStatements?: readonly Record<string, unknown>[];
  },
): Promise<string> {
  const kms = member.kms(region);
  // With the member role, the key's own policy grants it this key (and no other key).
  const declared = fill(baseline.key.policy, vars);
  const policy = {
    ...declared,
    Statement: [
      ...(declared.Statement as unknown[]),
      ...(options.memberRoleArn ? memberRoleKeyStatements(options.memberRoleArn) : []),
      ...(options.extraStatements ?? []),
    ],
  };
  const found = await kms.findAlias(baseline.key.alias);
  if (!found) {
    // A key created by a run that stopped before its alias: reuse it, never make a second one.
    const orphan = await kms.findUnaliasedKey(baseline.key.alias);
    let keyArn =
      orphan?.keyArn ?? `arn:${vars.partition}:kms:${region}:${member.accountId}:key/(new)`;
    const what = orphan
      ? `point ${baseline.key.alias} at the existing key ${orphan.keyId} in ${region}`
      : `create KMS key ${baseline.key.alias} in ${region}`;
    const finding = {
      what: `KMS key ${baseline.key.alias} is missing in ${region}`,
      resource: baseline.key.alias,
      region,
    };
    await act(
      changes,
      what,
      async () => {
        const key =
          orphan ??
          (await kms.createKey(baseline.key.description, policy, {
            ...tags,
            'backup-control-plane:alias': baseline.key.alias,
          }));
        await kms.createAlias(baseline.key.alias, key.keyId);
        if (baseline.key.enableKeyRotation) await kms.enableRotation(key.keyId);
        keyArn = key.keyArn;
      },
      finding,
    );
    return keyArn;
  }
  if (!samePolicy(await kms.getKeyPolicy(found.keyId), policy)) {
    await act(
      changes,
      `update the key policy of ${baseline.key.alias} in ${region}`,
      () => kms.putKeyPolicy(found.keyId, policy),
      {
        what: `the key policy of ${baseline.key.alias} in ${region} differs from the baseline`,
        resource: found.keyId,
        region,
      },
    );
  }
  if (baseline.key.enableKeyRotation && !(await kms.rotationEnabled(found.keyId))) {
    await act(
      changes,
      `enable rotation of ${baseline.key.alias} in ${region}`,
      () => kms.enableRotation(found.keyId),
      {
        what: `rotation of ${baseline.key.alias} is off in ${region}`,
        resource: found.keyId,
        region,
      },
    );
  }
  return found.keyArn;
}
