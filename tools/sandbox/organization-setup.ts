import { AwsOrganizationSetup } from '../adapters/organization-setup';
import { AwsPrerequisites } from '../adapters/prerequisites';
import type { LocalClients } from './provision';

const STACKSETS = 'member.org.stacksets.cloudformation.amazonaws.com';

/**
 * `backupctl setup`'s and doctor's adapters against moto. moto has no CloudFormation
 * ActivateOrganizationsAccess / DescribeOrganizationsAccess: here they are what they do in
 * Organizations, StackSets' trusted access (moto_launcher.py, gap 14).
 */
export function localSetupAdapters(c: LocalClients): {
  reader: AwsPrerequisites;
  writer: AwsOrganizationSetup;
} {
  const reader = new (class extends AwsPrerequisites {
    override async stackSetsAccess() {
      return (await this.trustedServices()).includes(STACKSETS) ? 'ENABLED' : 'DISABLED';
    }
  })(c);
  const writer = new (class extends AwsOrganizationSetup {
    override async activateStackSetsAccess() {
      await this.enableTrustedAccess(STACKSETS);
    }
  })(c.organizations);
  return { reader, writer };
}
