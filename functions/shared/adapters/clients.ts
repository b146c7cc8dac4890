import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SESClient } from '@aws-sdk/client-ses';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * SDK clients, created once per container. The SDK retries throttling itself (adaptive mode,
 * a few attempts); what still fails after that fails the record, which SQS retries later.
 * AWS_ENDPOINT_URL (set by the sandbox and integration tests) points all of them at moto.
 */
const common = { maxAttempts: 4, retryMode: 'adaptive' } as const;

export interface AwsClients {
  dynamodb: DynamoDBClient;
  organizations: OrganizationsClient;
  ses: SESClient;
  sns: SNSClient;
}

let clients: AwsClients | undefined;

/** Forget the clients (the sandbox and tests point a process at a new local AWS). */
export function resetAwsClients(): void {
  clients = undefined;
}

export function awsClients(): AwsClients {
  clients ??= {
    dynamodb: new DynamoDBClient(common),
    // Organizations' API lives in us-east-1 whatever the function's region.
    organizations: new OrganizationsClient({ ...common, region: 'us-east-1' }),
    ses: new SESClient(common),
    sns: new SNSClient(common),
  };
  return clients;
}
