import { DescribeAccountCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import type { AccountDirectory, AccountInfo } from '../ports';

export class OrganizationsAccountDirectory implements AccountDirectory {
  constructor(private readonly organizations: OrganizationsClient) {}

  async describeAccount(accountId: string): Promise<AccountInfo> {
    const out = await this.organizations.send(new DescribeAccountCommand({ AccountId: accountId }));
    return {
      id: accountId,
      name: out.Account?.Name,
      email: out.Account?.Email,
      status: out.Account?.State ?? out.Account?.Status,
    };
  }
}
