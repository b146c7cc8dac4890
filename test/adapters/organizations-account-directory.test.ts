import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { OrganizationsAccountDirectory } from '../../functions/shared/adapters/organizations-account-directory';

const organizations = mockClient(OrganizationsClient);

beforeEach(() => organizations.reset());

describe('OrganizationsAccountDirectory', () => {
  it('describes the account by id', async () => {
    organizations.on(DescribeAccountCommand, { AccountId: '111122223333' }).resolves({
      Account: {
        Id: '111122223333',
        Name: 'Production',
        Email: 'aws-prod@example.com',
        State: 'ACTIVE',
      },
    });
    const info = await new OrganizationsAccountDirectory(
      new OrganizationsClient({}),
    ).describeAccount('111122223333');
    expect(info).toEqual({
      id: '111122223333',
      name: 'Production',
      email: 'aws-prod@example.com',
      status: 'ACTIVE',
    });
    expect(organizations).toHaveReceivedCommandWith(DescribeAccountCommand, {
      AccountId: '111122223333',
    });
  });

  it('falls back to the older Status field', async () => {
    organizations
      .on(DescribeAccountCommand)
      .resolves({ Account: { Id: '111122223333', Status: 'SUSPENDED' } });
    const info = await new OrganizationsAccountDirectory(
      new OrganizationsClient({}),
    ).describeAccount('111122223333');
    expect(info).toEqual({
      id: '111122223333',
      status: 'SUSPENDED',
      name: undefined,
      email: undefined,
    });
  });

  it('lets lookup errors through', async () => {
    organizations.on(DescribeAccountCommand).rejects(
      Object.assign(new Error('You specified an account that does not exist.'), {
        name: 'AccountNotFoundException',
      }),
    );
    await expect(
      new OrganizationsAccountDirectory(new OrganizationsClient({})).describeAccount(
        '999999999999',
      ),
    ).rejects.toThrow('does not exist');
  });
});
