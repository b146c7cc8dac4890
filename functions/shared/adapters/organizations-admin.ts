import {
  AttachPolicyCommand,
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  DetachPolicyCommand,
  DuplicatePolicyAttachmentException,
  DescribePolicyCommand,
  EnablePolicyTypeCommand,
  ListParentsCommand,
  ListRootsCommand,
  PolicyNotAttachedException,
  PolicyNotFoundException,
  PolicyTypeAlreadyEnabledException,
  TagResourceCommand,
  DescribeOrganizationalUnitCommand,
  DescribeEffectivePolicyCommand,
  EffectivePolicyNotFoundException,
  paginateListAccounts,
  paginateListPolicies,
  paginateListPoliciesForTarget,
  paginateListTagsForResource,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { OrgAccount, OrgParent, OrganizationAdmin, PolicyRef } from '../ports';

/** Organizations as onboarding uses it. "Already so" answers count as success. */
export class OrganizationsAdmin implements OrganizationAdmin {
  /** OU names for a few minutes: a renamed OU is seen soon, a sweep does not ask per account. */
  private readonly ouNames = new Map<string, { name: string; until: number }>();
  private static readonly OU_NAME_TTL_MS = 5 * 60 * 1000;
  /**
   * What belongs to the organization's structure (an OU's parent, the policies on an OU or the
   * root, the root's policy types) changes rarely and is shared by every account: a sweep or a
   * run of daily checks in one container asks once per few minutes, not once per account.
   */
  private readonly structure = new Map<string, { value: Promise<unknown>; until: number }>();

  private remembered<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.structure.get(key);
    if (hit && hit.until > Date.now()) return hit.value as Promise<T>;
    const value = Promise.resolve().then(load);
    this.structure.set(key, { value, until: Date.now() + OrganizationsAdmin.OU_NAME_TTL_MS });
    // A failed call is not remembered.
    value.catch(() => this.structure.delete(key));
    return value;
  }

  /** An organization's id and management account never change: asked once per container. */
  private organization?: Promise<{ id: string; managementAccountId: string }>;

  constructor(private readonly organizations: OrganizationsClient) {}

  describeOrganization() {
    this.organization ??= this.organizations
      .send(new DescribeOrganizationCommand({}))
      .then((out) => ({
        id: out.Organization!.Id!,
        managementAccountId: out.Organization!.MasterAccountId!,
      }));
    // A failed call is not remembered: the next one asks again.
    this.organization.catch(() => (this.organization = undefined));
    return this.organization;
  }

  async effectiveBackupPolicy(accountId: string): Promise<unknown> {
    try {
      const out = await this.organizations.send(
        new DescribeEffectivePolicyCommand({ PolicyType: 'BACKUP_POLICY', TargetId: accountId }),
      );
      const content = out.EffectivePolicy?.PolicyContent;
      return content ? (JSON.parse(content) as unknown) : undefined;
    } catch (error) {
      if (error instanceof EffectivePolicyNotFoundException) return undefined;
      throw error;
    }
  }

  async describeAccount(accountId: string): Promise<OrgAccount> {
    const out = await this.organizations.send(new DescribeAccountCommand({ AccountId: accountId }));
    const a = out.Account;
    return { id: accountId, name: a?.Name, email: a?.Email, status: a?.State ?? a?.Status };
  }

  async parents(accountId: string): Promise<OrgParent[]> {
    const chain: OrgParent[] = [];
    let child = accountId;
    // An organization is at most 5 OU levels deep; the loop bound guards against a bad answer.
    for (let depth = 0; depth < 10; depth++) {
      const ask = () => this.organizations.send(new ListParentsCommand({ ChildId: child }));
      // An account may move at any time; an OU's place in the tree is shared and stable.
      const out = child.startsWith('ou-')
        ? await this.remembered(`parents:${child}`, ask)
        : await ask();
      const parent = out.Parents?.[0];
      if (!parent?.Id) break;
      if (parent.Type === 'ROOT') {
        chain.push({ id: parent.Id, name: 'Root', type: 'ROOT' });
        break;
      }
      chain.push({
        id: parent.Id,
        name: await this.ouName(parent.Id),
        type: 'ORGANIZATIONAL_UNIT',
      });
      child = parent.Id;
    }
    return chain;
  }

  private async ouName(id: string): Promise<string> {
    const cached = this.ouNames.get(id);
    if (cached && cached.until > Date.now()) return cached.name;
    const out = await this.organizations.send(
      new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: id }),
    );
    const name = out.OrganizationalUnit?.Name ?? id;
    this.ouNames.set(id, { name, until: Date.now() + OrganizationsAdmin.OU_NAME_TTL_MS });
    return name;
  }

  async accountTags(accountId: string): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    for await (const page of paginateListTagsForResource(
      { client: this.organizations },
      { ResourceId: accountId },
    )) {
      for (const t of page.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    }
    return tags;
  }

  async tagAccount(accountId: string, tags: Record<string, string>): Promise<void> {
    await this.organizations.send(
      new TagResourceCommand({
        ResourceId: accountId,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }

  async policyName(policyId: string): Promise<string | undefined> {
    try {
      const out = await this.organizations.send(new DescribePolicyCommand({ PolicyId: policyId }));
      return out.Policy?.PolicySummary?.Name;
    } catch (error) {
      if (error instanceof PolicyNotFoundException) return undefined;
      throw error;
    }
  }

  async backupPoliciesEnabled(rootId: string): Promise<boolean> {
    const out = await this.remembered('roots', () =>
      this.organizations.send(new ListRootsCommand({})),
    );
    const root = out.Roots?.find((r) => r.Id === rootId);
    return Boolean(
      root?.PolicyTypes?.some((p) => p.Type === 'BACKUP_POLICY' && p.Status === 'ENABLED'),
    );
  }

  async enableBackupPolicies(rootId: string): Promise<void> {
    this.structure.delete('roots');
    try {
      await this.organizations.send(
        new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: 'BACKUP_POLICY' }),
      );
    } catch (error) {
      if (!(error instanceof PolicyTypeAlreadyEnabledException)) throw error;
    }
  }

  async findBackupPolicy(name: string): Promise<PolicyRef | undefined> {
    for await (const page of paginateListPolicies(
      { client: this.organizations },
      { Filter: 'BACKUP_POLICY' },
    )) {
      const hit = page.Policies?.find((p) => p.Name === name);
      if (hit?.Id) return { id: hit.Id, name };
    }
    return undefined;
  }

  async backupPoliciesOn(targetId: string): Promise<PolicyRef[]> {
    // Policies on OUs and the root apply to many accounts; an account's own are read each time.
    if (/^(ou|r)-/.test(targetId)) {
      return this.remembered(`policies:${targetId}`, () => this.readPoliciesOn(targetId));
    }
    return this.readPoliciesOn(targetId);
  }

  private async readPoliciesOn(targetId: string): Promise<PolicyRef[]> {
    const out: PolicyRef[] = [];
    for await (const page of paginateListPoliciesForTarget(
      { client: this.organizations },
      { TargetId: targetId, Filter: 'BACKUP_POLICY' },
    )) {
      for (const p of page.Policies ?? []) if (p.Id) out.push({ id: p.Id, name: p.Name ?? p.Id });
    }
    return out;
  }

  async attachPolicy(policyId: string, targetId: string): Promise<void> {
    try {
      await this.organizations.send(
        new AttachPolicyCommand({ PolicyId: policyId, TargetId: targetId }),
      );
    } catch (error) {
      if (!(error instanceof DuplicatePolicyAttachmentException)) throw error;
    }
  }

  async detachPolicy(policyId: string, targetId: string): Promise<void> {
    try {
      await this.organizations.send(
        new DetachPolicyCommand({ PolicyId: policyId, TargetId: targetId }),
      );
    } catch (error) {
      if (!(error instanceof PolicyNotAttachedException)) throw error;
    }
  }

  async *listAccounts(): AsyncIterable<OrgAccount> {
    for await (const page of paginateListAccounts({ client: this.organizations }, {})) {
      for (const a of page.Accounts ?? []) {
        if (a.Id) yield { id: a.Id, name: a.Name, email: a.Email, status: a.State ?? a.Status };
      }
    }
  }
}
