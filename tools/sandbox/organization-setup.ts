import { AwsOrganizationSetup } from '../adapters/organization-setup';
import { AwsPrerequisites } from '../adapters/prerequisites';
import type { LocalClients } from './provision';

const STACKSETS = 'member.org.stacksets.cloudformation.amazonaws.com';

/**
 * `backupctl setup`'s and doctor's adapters against moto, with the management account's clients:
 * StackSets' trusted access is read and turned on through those (the launcher answers
 * ActivateOrganizationsAccess / DescribeOrganizationsAccess too, gap 17, for by-hand runs; its
 * CloudFormation client here would carry the stack account's credentials).
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
