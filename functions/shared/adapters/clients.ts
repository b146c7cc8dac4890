import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SESClient } from '@aws-sdk/client-ses';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { regionPartition } from '../partition';

/**
 * The SDK clients the functions and the CLI use, each created by its caller once (per container)
 * and passed to the adapters. The SDK retries throttling itself (adaptive mode, a few attempts);
 * what still fails after that fails the record, which SQS retries later. AWS_ENDPOINT_URL (set
 * by the sandbox and the integration tests) points every client at the local AWS.
 */
export const CLIENT_DEFAULTS = { maxAttempts: 4, retryMode: 'adaptive' } as const;

export const dynamodbClient = () => new DynamoDBClient(CLIENT_DEFAULTS);
/**
 * The region the SDK resolves for this process: AWS_REGION (always set in Lambda), else the
 * CLI's profile configuration; us-east-1 when none is configured.
 */
export const resolvedRegion = (): Promise<string> =>
  new STSClient({}).config.region().catch(() => 'us-east-1');

/**
 * Organizations' API lives in one region per partition (us-east-1, us-gov-west-1,
 * cn-northwest-1): the one of the partition the resolved region is in.
 */
export const organizationsClient = () => {
  let region: Promise<string> | undefined;
  return new OrganizationsClient({
    ...CLIENT_DEFAULTS,
    region: () => (region ??= resolvedRegion().then((r) => regionPartition(r).organizationsRegion)),
  });
};
export const sesClient = () => new SESClient(CLIENT_DEFAULTS);
export const snsClient = () => new SNSClient(CLIENT_DEFAULTS);
export const sqsClient = () => new SQSClient(CLIENT_DEFAULTS);
export const stsClient = () => new STSClient(CLIENT_DEFAULTS);
