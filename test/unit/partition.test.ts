import {
  currentPartition,
  ORGANIZATIONS_REGIONS,
  partitionOfArn,
  partitionOfRegion,
  regionPartition,
} from '../../functions/shared/partition';
import { consoleJobUrl, consoleUrl } from '../../functions/shared/format';
import { resolveCentralVault } from '../../tools/backup-policy/load';
import { organizationsClient } from '../../functions/shared/adapters/clients';
import { controlTowerForwardingSpec } from '../../functions/reconcile/region-forwarding';
import { globalEventsRegion } from '../../functions/onboard-account/onboard';

/** Partitions: one table of facts, and every place that used to assume `aws` and us-east-1. */

describe.each([
  {
    partition: 'aws',
    region: 'eu-west-1',
    organizations: 'us-east-1',
    iam: 'us-east-1',
    console: 'https://eu-west-1.console.aws.amazon.com/backup/home?region=eu-west-1',
  },
  {
    partition: 'aws-us-gov',
    region: 'us-gov-east-1',
    organizations: 'us-gov-west-1',
    iam: 'us-gov-west-1',
    console: 'https://console.amazonaws-us-gov.com/backup/home?region=us-gov-east-1',
  },
  {
    partition: 'aws-cn',
    region: 'cn-north-1',
    organizations: 'cn-northwest-1',
    iam: 'cn-north-1',
    console: 'https://console.amazonaws.cn/backup/home?region=cn-north-1',
  },
])('the $partition partition', ({ partition, region, organizations, iam, console }) => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  it('is named by its regions and its ARNs', () => {
    expect(partitionOfRegion(region)).toBe(partition);
    expect(partitionOfRegion(organizations)).toBe(partition);
    expect(partitionOfArn(`arn:${partition}:events:${region}:111122223333:rule/r`)).toBe(partition);
  });

  it('has its Organizations region, where the stack runs, and IAM’s', () => {
    expect(regionPartition(region).organizationsRegion).toBe(organizations);
    expect(regionPartition(region).globalServicesRegion).toBe(iam);
    expect(ORGANIZATIONS_REGIONS).toContain(organizations);
    expect(globalEventsRegion(`arn:${partition}:events:${organizations}:1:event-bus/b`)).toBe(iam);
  });

  it('links to its own console', () => {
    expect(consoleUrl('backup', region)).toBe(console);
    expect(consoleJobUrl('backup', region, 'J1')).toBe(`${console}#/jobs/backup/details/J1`);
  });

  it('calls Organizations in its region, from a function running there', async () => {
    process.env.AWS_REGION = organizations;
    expect(currentPartition().partition).toBe(partition);
    expect(await organizationsClient().config.region()).toBe(organizations);
  });

  it('fills the central vault with the partition of the vault’s region', () => {
    const filled = resolveCentralVault(
      { target: `{{central-vault:${region}}}` },
      { accountId: '444455556666', vaultName: 'org-backup-vault' },
      'policy.json',
    );
    expect(filled).toEqual({
      target: `arn:${partition}:backup:${region}:444455556666:backup-vault:org-backup-vault`,
    });
  });

  it('forwards Control Tower’s events to the Organizations region’s default bus', () => {
    const spec = controlTowerForwardingSpec(
      `arn:${partition}:events:${region}:111122223333:rule/ct`,
      `arn:${partition}:iam::111122223333:role/forwarder`,
    );
    expect(spec.targetArn).toBe(
      `arn:${partition}:events:${organizations}:111122223333:event-bus/default`,
    );
  });
});

it('takes anything unknown for the commercial partition', () => {
  expect(partitionOfRegion(undefined)).toBe('aws');
  expect(partitionOfArn('not-an-arn')).toBe('aws');
  expect(currentPartition({}).partition).toBe('aws');
});
