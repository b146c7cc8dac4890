import { BackupClient, UpdateGlobalSettingsCommand } from '@aws-sdk/client-backup';
import {
  ActivateOrganizationsAccessCommand,
  CloudFormationClient,
} from '@aws-sdk/client-cloudformation';
import {
  EnableAWSServiceAccessCommand,
  EnablePolicyTypeCommand,
  PutResourcePolicyCommand,
  RegisterDelegatedAdministratorCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { CLIENT_DEFAULTS } from '../../functions/shared/adapters/clients';

/**
 * The organization-wide settings `backupctl setup` turns on, with the management account's
 * credentials (only it may make these calls). Reads go through the doctor's PrerequisiteReader.
 */
export interface OrganizationSetupWriter {
  enableTrustedAccess(servicePrincipal: string): Promise<void>;
  enablePolicyType(rootId: string, policyType: string): Promise<void>;
  updateBackupGlobalSettings(settings: Record<string, string>): Promise<void>;
  /** CloudFormation StackSets' trusted access (service-managed StackSets). */
  activateStackSetsAccess(): Promise<void>;
  registerDelegatedAdministrator(accountId: string, servicePrincipal: string): Promise<void>;
  /** Replaces the organization's resource-based delegation policy. */
  putOrganizationResourcePolicy(document: Record<string, unknown>): Promise<void>;
}

export class AwsOrganizationSetup implements OrganizationSetupWriter {
  private readonly backup = new BackupClient(CLIENT_DEFAULTS);
  private readonly cloudformation = new CloudFormationClient(CLIENT_DEFAULTS);

  constructor(private readonly organizations: OrganizationsClient) {}

  async enableTrustedAccess(servicePrincipal: string): Promise<void> {
    await this.organizations.send(
      new EnableAWSServiceAccessCommand({ ServicePrincipal: servicePrincipal }),
    );
  }

  async enablePolicyType(rootId: string, policyType: string): Promise<void> {
    await this.organizations.send(
      new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: policyType as 'BACKUP_POLICY' }),
    );
  }

  async updateBackupGlobalSettings(settings: Record<string, string>): Promise<void> {
    await this.backup.send(new UpdateGlobalSettingsCommand({ GlobalSettings: settings }));
  }

  async activateStackSetsAccess(): Promise<void> {
    await this.cloudformation.send(new ActivateOrganizationsAccessCommand({}));
  }

  async registerDelegatedAdministrator(accountId: string, servicePrincipal: string): Promise<void> {
    await this.organizations.send(
      new RegisterDelegatedAdministratorCommand({
        AccountId: accountId,
        ServicePrincipal: servicePrincipal,
      }),
    );
  }

  async putOrganizationResourcePolicy(document: Record<string, unknown>): Promise<void> {
    await this.organizations.send(
      new PutResourcePolicyCommand({ Content: JSON.stringify(document) }),
    );
  }
}
