import {
  AttachPolicyCommand,
  ConcurrentModificationException,
  DescribeAccountCommand,
  DescribeOrganizationalUnitCommand,
  DescribeOrganizationCommand,
  DetachPolicyCommand,
  DuplicatePolicyAttachmentException,
  EnablePolicyTypeCommand,
  ListAccountsCommand,
  ListParentsCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  PolicyNotAttachedException,
  PolicyTypeAlreadyEnabledException,
  TagResourceCommand,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { OrganizationsAdmin } from '../../functions/shared/adapters/organizations-admin';

const organizations = mockClient(OrganizationsClient);
const admin = () => new OrganizationsAdmin(new OrganizationsClient({ region: 'us-east-1' }));

const ACCOUNT = '222233334444';
const ROOT = 'r-ab12';
const WORKLOADS = 'ou-ab12-workload1';
const PRODUCTION = 'ou-ab12-producti1';

beforeEach(() => organizations.reset());

/** account → Production → Workloads → root; a second account straight under Production. */
function orgTree(): void {
  const parentOf: Record<string, { Id: string; Type: 'ROOT' | 'ORGANIZATIONAL_UNIT' }> = {
    [ACCOUNT]: { Id: PRODUCTION, Type: 'ORGANIZATIONAL_UNIT' },
    '333344445555': { Id: PRODUCTION, Type: 'ORGANIZATIONAL_UNIT' },
    [PRODUCTION]: { Id: WORKLOADS, Type: 'ORGANIZATIONAL_UNIT' },
    [WORKLOADS]: { Id: ROOT, Type: 'ROOT' },
    '444455556666': { Id: ROOT, Type: 'ROOT' },
  };
  organizations
    .on(ListParentsCommand)
    .callsFake((input: { ChildId?: string }) => ({ Parents: [parentOf[input.ChildId!]] }));
  const names: Record<string, string> = { [PRODUCTION]: 'Production', [WORKLOADS]: 'Workloads' };
  organizations
    .on(DescribeOrganizationalUnitCommand)
    .callsFake((input: { OrganizationalUnitId?: string }) => ({
      OrganizationalUnit: {
        Id: input.OrganizationalUnitId,
        Name: names[input.OrganizationalUnitId!],
      },
    }));
}

const named = (name: string, message = name) =>
  Object.assign(new Error(message), { name, $metadata: {} });

describe('OrganizationsAdmin', () => {
  it('describes the organization', async () => {
    organizations.on(DescribeOrganizationCommand).resolves({
      Organization: { Id: 'o-exampleorg1', MasterAccountId: '111122223333' },
    });
    await expect(admin().describeOrganization()).resolves.toEqual({
      id: 'o-exampleorg1',
      managementAccountId: '111122223333',
    });
  });

  it('describes an account, preferring State to the older Status', async () => {
    organizations.on(DescribeAccountCommand, { AccountId: ACCOUNT }).resolves({
      Account: {
        Id: ACCOUNT,
        Name: 'Payments',
        Email: 'p@example.com',
        State: 'SUSPENDED',
        Status: 'ACTIVE',
      },
    });
    await expect(admin().describeAccount(ACCOUNT)).resolves.toEqual({
      id: ACCOUNT,
      name: 'Payments',
      email: 'p@example.com',
      status: 'SUSPENDED',
    });
  });

  describe('parents', () => {
    it('walks up to the root, parent first, with OU names', async () => {
      orgTree();
      await expect(admin().parents(ACCOUNT)).resolves.toEqual([
        { id: PRODUCTION, name: 'Production', type: 'ORGANIZATIONAL_UNIT' },
        { id: WORKLOADS, name: 'Workloads', type: 'ORGANIZATIONAL_UNIT' },
        { id: ROOT, name: 'Root', type: 'ROOT' },
      ]);
      expect(organizations).toHaveReceivedCommandTimes(ListParentsCommand, 3);
      expect(organizations).toHaveReceivedNthCommandWith(1, ListParentsCommand, {
        ChildId: ACCOUNT,
      });
    });

    it('asks for each OU name once within a few minutes', async () => {
      orgTree();
      const a = admin();
      await a.parents(ACCOUNT);
      await a.parents('333344445555');
      expect(organizations).toHaveReceivedCommandTimes(DescribeOrganizationalUnitCommand, 2);
      expect(organizations).toHaveReceivedCommandWith(DescribeOrganizationalUnitCommand, {
        OrganizationalUnitId: PRODUCTION,
      });
      expect(organizations).toHaveReceivedCommandWith(DescribeOrganizationalUnitCommand, {
        OrganizationalUnitId: WORKLOADS,
      });
    });

    it('asks again for OU names after five minutes (a renamed OU is seen)', async () => {
      orgTree();
      const a = admin();
      const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
      try {
        await a.parents(ACCOUNT);
        now.mockReturnValue(1_000_000 + 5 * 60 * 1000 + 1);
        await a.parents(ACCOUNT);
      } finally {
        now.mockRestore();
      }
      expect(organizations).toHaveReceivedCommandTimes(DescribeOrganizationalUnitCommand, 4);
    });

    it('returns only the root for an account under the root', async () => {
      orgTree();
      await expect(admin().parents('444455556666')).resolves.toEqual([
        { id: ROOT, name: 'Root', type: 'ROOT' },
      ]);
      expect(organizations).not.toHaveReceivedCommand(DescribeOrganizationalUnitCommand);
    });

    it('stops on an answer without a parent', async () => {
      organizations.on(ListParentsCommand).resolves({ Parents: [] });
      await expect(admin().parents(ACCOUNT)).resolves.toEqual([]);
    });

    it('stops after ten levels on an answer that never reaches the root', async () => {
      organizations
        .on(ListParentsCommand)
        .resolves({ Parents: [{ Id: WORKLOADS, Type: 'ORGANIZATIONAL_UNIT' }] });
      organizations
        .on(DescribeOrganizationalUnitCommand)
        .resolves({ OrganizationalUnit: { Name: 'Workloads' } });
      await expect(admin().parents(ACCOUNT)).resolves.toHaveLength(10);
    });
  });

  describe('the organization structure, shared by every account, is asked once per few minutes', () => {
    it('asks for an OU’s parent once, but an account’s own parent every time', async () => {
      orgTree();
      const a = admin();
      await a.parents(ACCOUNT);
      await a.parents('333344445555');
      const asked = organizations
        .commandCalls(ListParentsCommand)
        .map((c) => c.args[0].input.ChildId);
      expect(asked).toEqual([ACCOUNT, PRODUCTION, WORKLOADS, '333344445555']);
    });

    it('reads the policies on an OU or the root once, on an account every time', async () => {
      organizations.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
      const a = admin();
      for (let i = 0; i < 2; i++) {
        await a.backupPoliciesOn(PRODUCTION);
        await a.backupPoliciesOn(ROOT);
        await a.backupPoliciesOn(ACCOUNT);
      }
      const targets = organizations
        .commandCalls(ListPoliciesForTargetCommand)
        .map((c) => c.args[0].input.TargetId);
      expect(targets).toEqual([PRODUCTION, ROOT, ACCOUNT, ACCOUNT]);
    });

    it('reads the root’s policy types once, and again right after enabling one', async () => {
      organizations.on(ListRootsCommand).resolves({ Roots: [{ Id: ROOT, PolicyTypes: [] }] });
      organizations.on(EnablePolicyTypeCommand).resolves({});
      const a = admin();
      await a.backupPoliciesEnabled(ROOT);
      await a.backupPoliciesEnabled(ROOT);
      expect(organizations).toHaveReceivedCommandTimes(ListRootsCommand, 1);
      await a.enableBackupPolicies(ROOT);
      await a.backupPoliciesEnabled(ROOT);
      expect(organizations).toHaveReceivedCommandTimes(ListRootsCommand, 2);
    });

    it('does not remember a failed call', async () => {
      organizations
        .on(ListRootsCommand)
        .rejectsOnce(named('TooManyRequestsException'))
        .resolves({ Roots: [{ Id: ROOT, PolicyTypes: [] }] });
      const a = admin();
      await expect(a.backupPoliciesEnabled(ROOT)).rejects.toThrow('TooManyRequestsException');
      await expect(a.backupPoliciesEnabled(ROOT)).resolves.toBe(false);
    });
  });

  it('reads every page of an account’s tags', async () => {
    organizations
      .on(ListTagsForResourceCommand)
      .callsFake((input: { NextToken?: string }) =>
        input.NextToken === 'page-2'
          ? { Tags: [{ Key: 'team', Value: 'payments' }] }
          : { Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'empty' }], NextToken: 'page-2' },
      );
    await expect(admin().accountTags(ACCOUNT)).resolves.toEqual({
      env: 'prod',
      empty: '',
      team: 'payments',
    });
    expect(organizations).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 2);
    expect(organizations).toHaveReceivedCommandWith(ListTagsForResourceCommand, {
      ResourceId: ACCOUNT,
      NextToken: 'page-2',
    });
  });

  it('tags the account', async () => {
    organizations.on(TagResourceCommand).resolves({});
    await admin().tagAccount(ACCOUNT, { 'backup-control-plane:status': 'ready', v: '1' });
    expect(organizations).toHaveReceivedCommandWith(TagResourceCommand, {
      ResourceId: ACCOUNT,
      Tags: [
        { Key: 'backup-control-plane:status', Value: 'ready' },
        { Key: 'v', Value: '1' },
      ],
    });
  });

  describe('backup policy type', () => {
    it.each([
      [[{ Type: 'BACKUP_POLICY', Status: 'ENABLED' }], true],
      [[{ Type: 'BACKUP_POLICY', Status: 'PENDING_ENABLE' }], false],
      [[{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }], false],
      [undefined, false],
    ] as const)('with %j on the root is enabled: %s', async (types, expected) => {
      organizations.on(ListRootsCommand).resolves({
        Roots: [
          { Id: 'r-other', PolicyTypes: [{ Type: 'BACKUP_POLICY', Status: 'ENABLED' }] },
          { Id: ROOT, PolicyTypes: types ? [...types] : undefined },
        ],
      });
      await expect(admin().backupPoliciesEnabled(ROOT)).resolves.toBe(expected);
    });

    it('enables it on the root', async () => {
      organizations.on(EnablePolicyTypeCommand).resolves({});
      await admin().enableBackupPolicies(ROOT);
      expect(organizations).toHaveReceivedCommandWith(EnablePolicyTypeCommand, {
        RootId: ROOT,
        PolicyType: 'BACKUP_POLICY',
      });
    });

    it('counts "already enabled" as success', async () => {
      organizations.on(EnablePolicyTypeCommand).rejects(
        new PolicyTypeAlreadyEnabledException({
          message: 'The specified policy type is already enabled.',
          $metadata: {},
        }),
      );
      await expect(admin().enableBackupPolicies(ROOT)).resolves.toBeUndefined();
    });

    it('lets other errors through', async () => {
      organizations.on(EnablePolicyTypeCommand).rejects(
        new ConcurrentModificationException({
          message: 'The target of the operation is currently being modified.',
          $metadata: {},
        }),
      );
      await expect(admin().enableBackupPolicies(ROOT)).rejects.toThrow('currently being modified');
    });
  });

  describe('backup policies', () => {
    it('finds a policy by name across pages, and stops there', async () => {
      organizations.on(ListPoliciesCommand).callsFake((input: { NextToken?: string }) => {
        if (!input.NextToken) return { Policies: [{ Id: 'p-1', Name: 'other' }], NextToken: 't2' };
        if (input.NextToken === 't2')
          return { Policies: [{ Id: 'p-daily', Name: 'daily-35-days' }], NextToken: 't3' };
        return { Policies: [{ Id: 'p-3', Name: 'late' }] };
      });
      await expect(admin().findBackupPolicy('daily-35-days')).resolves.toEqual({
        id: 'p-daily',
        name: 'daily-35-days',
      });
      expect(organizations).toHaveReceivedCommandTimes(ListPoliciesCommand, 2);
      expect(organizations).toHaveReceivedCommandWith(ListPoliciesCommand, {
        Filter: 'BACKUP_POLICY',
      });
    });

    it('returns undefined for a policy that does not exist', async () => {
      organizations.on(ListPoliciesCommand).resolves({ Policies: [{ Id: 'p-1', Name: 'other' }] });
      await expect(admin().findBackupPolicy('daily-35-days')).resolves.toBeUndefined();
    });

    it('lists the backup policies attached to a target, every page', async () => {
      organizations.on(ListPoliciesForTargetCommand).callsFake((input: { NextToken?: string }) =>
        input.NextToken
          ? { Policies: [{ Id: 'p-2' }] }
          : {
              Policies: [{ Id: 'p-1', Name: 'daily-35-days' }, { Name: 'no-id' }],
              NextToken: 'n',
            },
      );
      await expect(admin().backupPoliciesOn(WORKLOADS)).resolves.toEqual([
        { id: 'p-1', name: 'daily-35-days' },
        { id: 'p-2', name: 'p-2' },
      ]);
      expect(organizations).toHaveReceivedCommandWith(ListPoliciesForTargetCommand, {
        TargetId: WORKLOADS,
        Filter: 'BACKUP_POLICY',
      });
    });

    it('attaches, counting a duplicate attachment as success', async () => {
      organizations
        .on(AttachPolicyCommand)
        .resolvesOnce({})
        .rejects(
          new DuplicatePolicyAttachmentException({
            message: 'The selected policy is already attached to the specified target.',
            $metadata: {},
          }),
        );
      await admin().attachPolicy('p-daily', ACCOUNT);
      await expect(admin().attachPolicy('p-daily', ACCOUNT)).resolves.toBeUndefined();
      expect(organizations).toHaveReceivedCommandWith(AttachPolicyCommand, {
        PolicyId: 'p-daily',
        TargetId: ACCOUNT,
      });
    });

    it('lets other attach errors through', async () => {
      organizations
        .on(AttachPolicyCommand)
        .rejects(named('ConstraintViolationException', 'too many policies'));
      await expect(admin().attachPolicy('p-daily', ACCOUNT)).rejects.toThrow('too many policies');
    });

    it('detaches, counting "not attached" as success', async () => {
      organizations.on(DetachPolicyCommand).rejects(
        new PolicyNotAttachedException({
          message: 'The policy is not attached to the target.',
          $metadata: {},
        }),
      );
      await expect(admin().detachPolicy('p-daily', ACCOUNT)).resolves.toBeUndefined();
      expect(organizations).toHaveReceivedCommandWith(DetachPolicyCommand, {
        PolicyId: 'p-daily',
        TargetId: ACCOUNT,
      });
    });

    it('lets other detach errors through', async () => {
      organizations.on(DetachPolicyCommand).rejects(named('AccessDeniedException', 'denied'));
      await expect(admin().detachPolicy('p-daily', ACCOUNT)).rejects.toThrow('denied');
    });
  });

  it('lists every account on every page, preferring State to Status', async () => {
    organizations.on(ListAccountsCommand).callsFake((input: { NextToken?: string }) =>
      input.NextToken === 'more'
        ? { Accounts: [{ Id: '333344445555', Name: 'Old', Status: 'SUSPENDED' }] }
        : {
            Accounts: [
              {
                Id: ACCOUNT,
                Name: 'Payments',
                Email: 'p@example.com',
                State: 'PENDING_CLOSURE',
                Status: 'ACTIVE',
              },
              { Name: 'no id' },
            ],
            NextToken: 'more',
          },
    );
    const accounts = [];
    for await (const a of admin().listAccounts()) accounts.push(a);
    expect(accounts).toEqual([
      { id: ACCOUNT, name: 'Payments', email: 'p@example.com', status: 'PENDING_CLOSURE' },
      { id: '333344445555', name: 'Old', email: undefined, status: 'SUSPENDED' },
    ]);
    expect(organizations).toHaveReceivedCommandTimes(ListAccountsCommand, 2);
  });
});
