/**
 * AWS partitions, defined once: the commercial regions (aws), AWS GovCloud (US) (aws-us-gov) and
 * the China regions (aws-cn). An account lives in exactly one of them, so the partition of the
 * control plane's own region (or of any ARN it is given) is the partition of everything it
 * touches: ARNs, the region AWS Organizations sends its events in, IAM's endpoint, console links.
 */

export type Partition = 'aws' | 'aws-us-gov' | 'aws-cn';

export interface PartitionFacts {
  partition: Partition;
  /** Where AWS Organizations (and Control Tower's forwarded events) reach EventBridge. */
  organizationsRegion: string;
  /** Where IAM's control plane answers, and CloudTrail delivers global services' calls. */
  globalServicesRegion: string;
  /** The AWS console's host for a region of the partition. */
  consoleHost: (region: string) => string;
  /** The suffix of service endpoints (sqs.<region>.<suffix>). */
  dnsSuffix: string;
}

const PARTITIONS: Record<Partition, PartitionFacts> = {
  aws: {
    partition: 'aws',
    organizationsRegion: 'us-east-1',
    globalServicesRegion: 'us-east-1',
    consoleHost: (region) => `${encodeURIComponent(region)}.console.aws.amazon.com`,
    dnsSuffix: 'amazonaws.com',
  },
  'aws-us-gov': {
    partition: 'aws-us-gov',
    organizationsRegion: 'us-gov-west-1',
    globalServicesRegion: 'us-gov-west-1',
    consoleHost: () => 'console.amazonaws-us-gov.com',
    dnsSuffix: 'amazonaws.com',
  },
  'aws-cn': {
    partition: 'aws-cn',
    organizationsRegion: 'cn-northwest-1',
    // IAM's control plane for both China regions is in Beijing.
    globalServicesRegion: 'cn-north-1',
    consoleHost: () => 'console.amazonaws.cn',
    dnsSuffix: 'amazonaws.com.cn',
  },
};

/** Every region the control plane may be deployed in: one per partition. */
export const ORGANIZATIONS_REGIONS = Object.values(PARTITIONS).map((p) => p.organizationsRegion);

/** The partition a region belongs to (us-gov-west-1 → aws-us-gov, cn-north-1 → aws-cn). */
export function partitionOfRegion(region: string | undefined): Partition {
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  if (region?.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

/** The partition an ARN names (`arn:aws-us-gov:…`); aws when it is not an ARN of a known one. */
export function partitionOfArn(arn: string | undefined): Partition {
  const named = arn?.split(':')[1];
  return named === 'aws-us-gov' || named === 'aws-cn' ? named : 'aws';
}

export const partitionFacts = (partition: Partition): PartitionFacts => PARTITIONS[partition];

/** The facts of the partition a region belongs to. */
export const regionPartition = (region: string | undefined): PartitionFacts =>
  PARTITIONS[partitionOfRegion(region)];

/**
 * The partition the running code is in, from the region it runs in (AWS_REGION in Lambda, the
 * CLI's configured region). Lambda always sets AWS_REGION; elsewhere the commercial partition.
 */
export const currentPartition = (env: NodeJS.ProcessEnv = process.env): PartitionFacts =>
  regionPartition(env.AWS_REGION ?? env.AWS_DEFAULT_REGION);
