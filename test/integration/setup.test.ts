import { runDoctor } from '../../tools/backupctl/doctor';
import { runSetup } from '../../tools/backupctl/setup';
import { useLocalAwsEnvironment } from '../../tools/sandbox/local-aws';
import { AwsOrganizationSetup } from '../../tools/adapters/organization-setup';
import { AwsPrerequisites } from '../../tools/adapters/prerequisites';
import { BACKUP_POLICIES_DIR, loadBackupPolicies } from '../../tools/backup-policy/load';
import { exampleConfig } from '../helpers/fixtures';
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DescribeAccountCommand,
  EnableAWSServiceAccessCommand,
  ListPoliciesForTargetCommand,
} from '@aws-sdk/client-organizations';
import { localSetupAdapters } from '../../tools/sandbox/organization-setup';
import { memberClients } from '../../tools/sandbox/provision';
import { freshWorld } from './harness';

/**
 * backupctl setup against moto's Organizations and AWS Backup (global settings from the project's
 * launcher): a fresh organization gets what the control plane needs, a second run changes
 * nothing, and doctor then finds those checks passing.
 */

jest.setTimeout(120_000);

it('turns on trusted access, the policy type and cross-account backup, once', async () => {
  const world = await freshWorld(exampleConfig());
  useLocalAwsEnvironment(world.aws.endpoint);
  const config = { ...world.config, organizationId: world.org.id };
  const reader = new AwsPrerequisites(world.c);
  const writer = new AwsOrganizationSetup(world.c.organizations);
  const documents = [...loadBackupPolicies(BACKUP_POLICIES_DIR).values()].map((p) => p.document);
  const setup = () =>
    runSetup(config, reader, writer, {
      dryRun: false,
      backupPolicyDocuments: documents,
      partition: 'aws',
    });

  const first = await setup();
  expect(first.find((s) => s.id === 'trusted-access')).toMatchObject({ status: 'changed' });
  expect(first.find((s) => s.id === 'backup-global-settings')).toMatchObject({
    status: 'changed',
  });
  expect(first.filter((s) => s.status === 'failed')).toEqual([]);

  const second = await setup();
  expect(second.map((s) => s.status)).toEqual(second.map(() => 'unchanged'));

  const checks = new Map(
    (await runDoctor(config, reader, { topicArns: {}, deadLetterQueues: {} }, documents)).map(
      (c) => [c.id, c.status],
    ),
  );
  expect(checks.get('trusted-access')).toBe('pass');
  expect(checks.get('backup-policy-type')).toBe('pass');
  expect(checks.get('backup-global-settings')).toBe('pass');
});

it('delegated-admin: registers the account, syncs AWS Backup and delegates backup policies, once; doctor from the management account finds it so', async () => {
  const world = await freshWorld(exampleConfig());
  useLocalAwsEnvironment(world.aws.endpoint);
  const admin = world.org.accounts[0]!.id;
  const config = {
    ...world.config,
    organizationId: world.org.id,
    deployment: {
      mode: 'delegated-admin' as const,
      managementAccountId: world.org.managementAccountId,
      delegatedAdministratorAccountId: admin,
    },
    onboarding: {
      ...world.config.onboarding!,
      memberRole: {
        name: 'backup-control-plane-member',
        deploy: 'stackset' as const,
        organizationalUnitIds: [world.org.rootId],
      },
    },
  };
  const { reader, writer } = localSetupAdapters(world.c);
  // Before setup, the account is a member like any other: moto's own, empty answer.
  const asAdmin = (await memberClients(world.c, world.aws.endpoint, admin, 'us-east-1'))
    .organizations;
  const other = world.org.accounts[1]!.id;
  await expect(asAdmin.send(new DescribeAccountCommand({ AccountId: other }))).rejects.toThrow();
  const documents = [...loadBackupPolicies(BACKUP_POLICIES_DIR).values()].map((p) => p.document);
  const setup = () =>
    runSetup(config, reader, writer, {
      dryRun: false,
      backupPolicyDocuments: documents,
      partition: 'aws',
    });

  const first = await setup();
  expect(first.filter((s) => s.status === 'failed')).toEqual([]);
  expect(Object.fromEntries(first.map((s) => [s.id, s.status]))).toMatchObject({
    'stacksets-trusted-access': 'changed',
    'backup-delegated-administrator': 'changed',
    'stacksets-delegated-administrator': 'changed',
    'backup-delegated-administrator-setting': 'changed',
    'backup-policy-delegation': 'changed',
  });
  expect(await reader.delegatedAdministrators('backup.amazonaws.com')).toEqual([admin]);
  expect(await reader.backupGlobalSettings()).toMatchObject({
    isDelegatedAdministratorEnabled: 'true',
  });

  const second = await setup();
  expect(second.map((s) => s.status)).toEqual(second.map(() => 'unchanged'));

  const checks = new Map(
    (await runDoctor(config, reader, { topicArns: {}, deadLetterQueues: {} }, documents)).map(
      (c) => [c.id, c.status],
    ),
  );
  expect(checks.get('deployment-mode')).toBe('pass');
  expect(checks.get('backup-policy-delegation')).toBe('pass');

  // Now the delegated administrator reads the organization and manages backup policies, as
  // the resource policy lets it (launcher gap 15), and nothing else.
  const read = await asAdmin.send(new DescribeAccountCommand({ AccountId: other }));
  expect(read.Account?.Id).toBe(other);
  const created = await asAdmin.send(
    new CreatePolicyCommand({
      Name: 'delegated-policy',
      Description: 'made by the delegated administrator',
      Type: 'BACKUP_POLICY',
      Content: JSON.stringify({ plans: {} }),
    }),
  );
  await asAdmin.send(
    new AttachPolicyCommand({ PolicyId: created.Policy!.PolicySummary!.Id!, TargetId: other }),
  );
  const attached = await world.c.organizations.send(
    new ListPoliciesForTargetCommand({ TargetId: other, Filter: 'BACKUP_POLICY' }),
  );
  expect(attached.Policies!.map((p) => p.Name)).toContain('delegated-policy');
  await expect(
    asAdmin.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'ssm.amazonaws.com' })),
  ).rejects.toMatchObject({ name: 'AccessDeniedException' });
});

it('reads and turns on StackSets trusted access through CloudFormation, as by hand (launcher gap 17)', async () => {
  const world = await freshWorld(exampleConfig());
  useLocalAwsEnvironment(world.aws.endpoint);
  const reader = new AwsPrerequisites(world.c);
  expect(await reader.stackSetsAccess()).toBe('DISABLED');
  await new AwsOrganizationSetup(world.c.organizations).activateStackSetsAccess();
  expect(await reader.stackSetsAccess()).toBe('ENABLED');
  // Organizations says the same: the service principal's trusted access is on.
  expect(await reader.trustedServices()).toContain(
    'member.org.stacksets.cloudformation.amazonaws.com',
  );
});
