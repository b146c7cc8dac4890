import { main, type Io } from '../../tools/backupctl/backupctl';
import { runSetup, setupText, type SetupStep } from '../../tools/backupctl/setup';
import type { OrganizationSetupWriter } from '../../tools/adapters/organization-setup';
import type { PrerequisiteReader } from '../../tools/adapters/prerequisites';
import { BACKUP_POLICIES_DIR, loadBackupPolicies } from '../../tools/backup-policy/load';
import { exampleConfig } from '../helpers/fixtures';

/** backupctl setup: reads first, changes only what is off, and a second run changes nothing. */

const documents = [...loadBackupPolicies(BACKUP_POLICIES_DIR).values()].map((p) => p.document);

/** An organization whose settings the writer changes, as Organizations and AWS Backup would. */
class FakeOrganization implements OrganizationSetupWriter {
  services: string[] = [];
  policyTypes: string[] = ['SERVICE_CONTROL_POLICY'];
  globalSettings: Record<string, string> = { isCrossAccountBackupEnabled: 'false' };
  stackSets = 'DISABLED';
  delegated: Record<string, string[]> = {};
  resourcePolicy: { Statement?: unknown } | undefined;
  writes: string[] = [];
  refuse = new Map<string, Error>();

  private write(what: string) {
    const error = this.refuse.get(what);
    if (error) throw error;
    this.writes.push(what);
  }

  reader(): PrerequisiteReader {
    return {
      trustedServices: async () => [...this.services],
      rootPolicyTypes: async () => ({ rootId: 'r-ab12', enabled: [...this.policyTypes] }),
      backupGlobalSettings: async () => ({ ...this.globalSettings }),
      stackSetsAccess: async () => this.stackSets,
      delegatedAdministrators: async (principal: string) => [...(this.delegated[principal] ?? [])],
      organization: async () => ({ id: 'o-exampleorg1', managementAccountId: '111122223333' }),
      organizationResourcePolicy: async () =>
        this.resourcePolicy && JSON.parse(JSON.stringify(this.resourcePolicy)),
    } as unknown as PrerequisiteReader;
  }

  async enableTrustedAccess(principal: string) {
    this.write(`trusted:${principal}`);
    this.services.push(principal);
  }
  async enablePolicyType(rootId: string, type: string) {
    this.write(`policy-type:${rootId}:${type}`);
    this.policyTypes.push(type);
  }
  async updateBackupGlobalSettings(settings: Record<string, string>) {
    this.write(`global-settings:${JSON.stringify(settings)}`);
    Object.assign(this.globalSettings, settings);
  }
  async activateStackSetsAccess() {
    this.write('stacksets');
    this.stackSets = 'ENABLED';
  }
  async registerDelegatedAdministrator(account: string, principal: string) {
    this.write(`delegate:${principal}:${account}`);
    (this.delegated[principal] ??= []).push(account);
  }
  async putOrganizationResourcePolicy(document: Record<string, unknown>) {
    this.write('resource-policy');
    this.resourcePolicy = document;
  }
}

const setup = (org: FakeOrganization, dryRun = false, config = exampleConfig()) =>
  runSetup(config, org.reader(), org, {
    dryRun,
    backupPolicyDocuments: documents,
    partition: 'aws',
  });
const statuses = (steps: SetupStep[]) => Object.fromEntries(steps.map((s) => [s.id, s.status]));

describe('backupctl setup', () => {
  it('turns on what is off, then a second run changes nothing', async () => {
    const org = new FakeOrganization();
    expect(statuses(await setup(org))).toEqual({
      'trusted-access': 'changed',
      'backup-policy-type': 'changed',
      // The example's production policy copies to the central backup account.
      'backup-global-settings': 'changed',
    });
    expect(org.writes).toEqual([
      'trusted:backup.amazonaws.com',
      'policy-type:r-ab12:BACKUP_POLICY',
      'global-settings:{"isCrossAccountBackupEnabled":"true"}',
    ]);
    org.writes = [];
    const again = await setup(org);
    expect(new Set(again.map((s) => s.status))).toEqual(new Set(['unchanged']));
    expect(org.writes).toEqual([]);
  });

  it('--dry-run says what it would change and changes nothing', async () => {
    const org = new FakeOrganization();
    org.services = ['backup.amazonaws.com'];
    const steps = await setup(org, true);
    expect(statuses(steps)).toEqual({
      'trusted-access': 'unchanged',
      'backup-policy-type': 'planned',
      'backup-global-settings': 'planned',
    });
    expect(org.writes).toEqual([]);
    expect(setupText(steps, true)).toMatch(
      /^PLANNED {4}backup-policy-type +would turn on: the BACKUP_POLICY policy type on root r-ab12$/m,
    );
    expect(setupText(steps, true)).toMatch(/2 to change, 1 already on, 0 failed \(dry run/);
  });

  it('reports a refused step with who may make the call, and runs the others', async () => {
    const org = new FakeOrganization();
    org.refuse.set(
      'trusted:backup.amazonaws.com',
      Object.assign(new Error('You don’t have permissions to access this resource.'), {
        name: 'AccessDeniedException',
      }),
    );
    const steps = await setup(org);
    expect(steps.find((s) => s.id === 'trusted-access')).toMatchObject({
      status: 'failed',
      fix: expect.stringMatching(/^only the management account may make this call/),
    });
    expect(statuses(steps)['backup-policy-type']).toBe('changed');
    expect(setupText(steps, false)).toMatch(/^FAILED +trusted-access/);
  });

  it('turns on trusted access for StackSets when the member role comes from one', async () => {
    const org = new FakeOrganization();
    const config = exampleConfig();
    config.onboarding!.memberRole = {
      name: 'backup-control-plane-member',
      deploy: 'stackset',
      organizationalUnitIds: ['r-ab12'],
    };
    expect(statuses(await setup(org, false, config))['stacksets-trusted-access']).toBe('changed');
    expect(org.writes).toContain('stacksets');
    expect(statuses(await setup(org, false, config))['stacksets-trusted-access']).toBe('unchanged');
  });

  it('shows its help with --help, exit 0, reading nothing', async () => {
    let stdout = '';
    const io: Io = { stdout: (t) => (stdout += t), stderr: () => undefined, readStdin: () => '' };
    expect(await main(['setup', '--help'], io)).toBe(0);
    expect(stdout).toMatch(/^Usage: backupctl setup \[--dry-run\]/);
    expect(stdout).toContain('Exit status: 0 every step done or already on; 1 a step failed');
    expect(await main(['setup', '--format', 'yaml'], io)).toBe(2);
  });

  describe('deployment.mode delegated-admin', () => {
    const ADMIN = '222233334444';
    const delegatedConfig = () => {
      const config = exampleConfig();
      config.deployment = {
        mode: 'delegated-admin',
        managementAccountId: '111122223333',
        delegatedAdministratorAccountId: ADMIN,
      };
      config.onboarding!.memberRole = {
        name: 'backup-control-plane-member',
        deploy: 'stackset',
        organizationalUnitIds: ['r-ab12'],
      };
      return config;
    };

    it('registers the account for AWS Backup and StackSets, syncs its permissions, and delegates backup policies; a second run changes nothing', async () => {
      const org = new FakeOrganization();
      const steps = await setup(org, false, delegatedConfig());
      // StackSets' trusted access first: registering its delegated administrator needs it.
      const ids = steps.map((s) => s.id);
      expect(ids.indexOf('stacksets-trusted-access')).toBeLessThan(
        ids.indexOf('stacksets-delegated-administrator'),
      );
      expect(statuses(steps)).toMatchObject({
        'backup-delegated-administrator': 'changed',
        'stacksets-delegated-administrator': 'changed',
        'backup-delegated-administrator-setting': 'changed',
        'backup-policy-delegation': 'changed',
      });
      expect(org.writes).toEqual(
        expect.arrayContaining([
          `delegate:backup.amazonaws.com:${ADMIN}`,
          `delegate:member.org.stacksets.cloudformation.amazonaws.com:${ADMIN}`,
          'global-settings:{"isDelegatedAdministratorEnabled":"true"}',
          'resource-policy',
        ]),
      );
      const statements = org.resourcePolicy!.Statement as Record<string, unknown>[];
      const manage = statements.find((s) => s.Sid === 'BackupControlPlaneManagesBackupPolicies')!;
      expect(manage).toMatchObject({
        Principal: { AWS: `arn:aws:iam::${ADMIN}:root` },
        Condition: { StringLikeIfExists: { 'organizations:PolicyType': 'BACKUP_POLICY' } },
      });
      expect(manage.Resource).toContain(
        'arn:aws:organizations::111122223333:policy/o-exampleorg1/backup_policy/*',
      );
      const tags = statements.find((s) => s.Sid === 'BackupControlPlaneTagsAccounts')!;
      expect(tags.Condition).toEqual({
        'ForAllValues:StringLike': { 'aws:TagKeys': 'backup-control-plane:*' },
      });
      org.writes = [];
      const again = await setup(org, false, delegatedConfig());
      expect(new Set(again.map((s) => s.status))).toEqual(new Set(['unchanged']));
      expect(org.writes).toEqual([]);
    });

    it('keeps the statements of an existing resource policy that are not its own', async () => {
      const org = new FakeOrganization();
      const theirs = {
        Sid: 'SecurityTeamReadsPolicies',
        Effect: 'Allow',
        Action: 'organizations:ListPolicies',
      };
      org.resourcePolicy = { Statement: [theirs] };
      await setup(org, false, delegatedConfig());
      const statements = org.resourcePolicy.Statement as Record<string, unknown>[];
      expect(statements[0]).toEqual(theirs);
      expect(statements.map((s) => s.Sid)).toEqual([
        'SecurityTeamReadsPolicies',
        'BackupControlPlaneBrowsesOrganization',
        'BackupControlPlaneReadsPolicies',
        'BackupControlPlaneManagesBackupPolicies',
        'BackupControlPlaneTagsAccounts',
      ]);
    });

    it('does none of it in the management mode', async () => {
      const org = new FakeOrganization();
      const steps = await setup(org);
      expect(steps.map((s) => s.id)).not.toContain('backup-delegated-administrator');
      expect(
        org.writes.filter((w) => w.startsWith('delegate:') || w === 'resource-policy'),
      ).toEqual([]);
    });
  });
});
