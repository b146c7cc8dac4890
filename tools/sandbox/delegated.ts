import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import type { Config } from '../../functions/shared/config/schema';
import { managementForwardingRegions } from '../../functions/reconcile/region-forwarding';
import { BACKUP_POLICIES_DIR, loadBackupPolicies } from '../backup-policy/load';
import { runSetup, type SetupStep } from '../backupctl/setup';
import { localClientConfig } from './local-aws';
import { localSetupAdapters } from './organization-setup';
import { credentialsIn, type Credentials, type LocalClients } from './provision';

/**
 * The delegated administrator topology (`deployment.mode: delegated-admin`), played on moto as an
 * operator deploys it (README, "Deploy: delegated administrator"): `backupctl setup` with the
 * management account's credentials; the stack in the delegated administrator account;
 * infra/management-forwarder.yml in the management account, per region; and the member role's
 * StackSet, whose stack instances are played by a CloudFormation stack of the same template in
 * each member account (moto has no service-managed StackSets; auto-deployment is played when the
 * sandbox creates an account).
 */

const ROOT = join(__dirname, '..', '..');

/** The delegated administrator account the sandbox adds, next to the central backup account. */
export const DELEGATED_ADMIN_ACCOUNT = {
  name: 'Operations',
  email: 'aws-operations@example.com',
  ou: 'Infrastructure',
} as const;

export const MEMBER_ROLE_NAME = 'backup-control-plane-member';
export const MANAGEMENT_FORWARDER_STACK = 'backup-control-plane-management-forwarder';

/**
 * The configuration made delegated-admin (the member role by StackSet, as the mode requires),
 * then the organization set up as `backupctl setup` does it. Answers the administrator's
 * credentials, for the stack's clients and the functions.
 */
export async function delegateAdministration(
  config: Config,
  management: LocalClients,
  org: { managementAccountId: string; rootId: string },
  adminAccountId: string,
): Promise<{ credentials: Credentials; setup: SetupStep[] }> {
  config.deployment = {
    mode: 'delegated-admin',
    managementAccountId: org.managementAccountId,
    delegatedAdministratorAccountId: adminAccountId,
  };
  if (config.onboarding) {
    config.onboarding.memberRole = {
      name: MEMBER_ROLE_NAME,
      deploy: 'stackset',
      organizationalUnitIds: [org.rootId],
    };
  }
  const { reader, writer } = localSetupAdapters(management);
  const documents = [...loadBackupPolicies(BACKUP_POLICIES_DIR).values()].map((p) => p.document);
  const setup = await runSetup(config, reader, writer, {
    dryRun: false,
    backupPolicyDocuments: documents,
    partition: 'aws',
  });
  const failed = setup.filter((s) => s.status === 'failed');
  if (failed.length) {
    throw new Error(
      `backupctl setup failed: ${failed.map((s) => `${s.id}: ${s.detail}`).join('; ')}`,
    );
  }
  return { credentials: await credentialsIn(management, adminAccountId), setup };
}

async function deployStack(
  endpoint: string,
  region: string,
  credentials: Credentials | undefined,
  stack: { name: string; body: string; parameters: Record<string, string> },
): Promise<void> {
  const cfn = new CloudFormationClient({
    ...localClientConfig(endpoint, region),
    ...(credentials ? { credentials } : {}),
  });
  await cfn.send(
    new CreateStackCommand({
      StackName: stack.name,
      TemplateBody: stack.body,
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      Parameters: Object.entries(stack.parameters).map(([k, v]) => ({
        ParameterKey: k,
        ParameterValue: v,
      })),
    }),
  );
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stack.name }));
  const status = out.Stacks?.[0]?.StackStatus;
  if (status !== 'CREATE_COMPLETE') {
    throw new Error(
      `stack ${stack.name} in ${region}: ${status} ${out.Stacks?.[0]?.StackStatusReason ?? ''}`,
    );
  }
}

/**
 * infra/management-forwarder.yml in the management account: in the Organizations region, in
 * Control Tower's home region (its lifecycle events) and in each region the management account
 * backs up in (its own jobs), as the README's deploy guide says.
 */
export async function deployManagementForwarder(
  endpoint: string,
  config: Config,
  centralBusArn: string,
): Promise<string[]> {
  const home = config.controlTower.homeRegion ?? 'us-east-1';
  const backupRegions = new Set(['us-east-1', ...managementForwardingRegions(config, 'us-east-1')]);
  const regions = [...new Set(['us-east-1', home, ...backupRegions])];
  const body = readFileSync(join(ROOT, 'infra', 'management-forwarder.yml'), 'utf8');
  for (const region of regions) {
    await deployStack(endpoint, region, undefined, {
      name: MANAGEMENT_FORWARDER_STACK,
      body,
      parameters: {
        CentralBusArn: centralBusArn,
        ForwardControlTowerEvents: String(region === home),
        ForwardBackupEvents: String(backupRegions.has(region)),
      },
    });
  }
  return regions;
}

/** The member role StackSet's template and parameters, as the stack packages them. */
export function memberRoleStackInstance(
  config: Config,
  prefix: string,
  stack: { accountId: string; onboardRoleArn: string; watchRoleArn: string; centralBusArn: string },
): { name: string; body: string; parameters: Record<string, string> } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const stageConfig = require(join(ROOT, 'infra', 'stage-config.js')) as {
    memberRoleStackSet(
      config: Config,
      prefix: string,
      region: string,
    ): { resources: { MemberRoleStackSet?: { Properties: { TemplateBody: string } } } };
  };
  const set = stageConfig.memberRoleStackSet(config, prefix, 'us-east-1').resources
    .MemberRoleStackSet;
  if (!set) throw new Error('onboarding.memberRole.deploy is not stackset: no StackSet to play');
  return {
    name: `StackSet-${prefix}-member-role`,
    body: set.Properties.TemplateBody,
    parameters: {
      ControlPlaneAccountId: stack.accountId,
      ControlPlaneRoleArn: stack.onboardRoleArn,
      WatchRoleArn: stack.watchRoleArn,
      CentralBusArn: stack.centralBusArn,
    },
  };
}

/** One stack instance of the member role StackSet: the template deployed in the account. */
export async function deployMemberRole(
  endpoint: string,
  management: LocalClients,
  accountId: string,
  instance: { name: string; body: string; parameters: Record<string, string> },
): Promise<void> {
  await deployStack(endpoint, 'us-east-1', await credentialsIn(management, accountId), instance);
}
