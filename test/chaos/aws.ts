import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SendEmailCommand, SESClient, type SendEmailCommandInput } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { inMemoryTable } from '../helpers/dynamodb-table';

/**
 * The real SDK clients with `send` stubbed (aws-sdk-client-mock), so the handler, its adapters
 * and their commands are the deployed code. aws-sdk-client-mock's own `callsFake(fn)` gives
 * `fn` only the command input, not the `{ abortSignal }` the adapters pass to `send`; the sinon
 * stub underneath receives it as its second argument, so the fakes here sit on that stub.
 *
 * DynamoDB: test/helpers/dynamodb-table.ts (conditional writes really exclude each other) on a
 * client instance of its own, behind the class-level stub that adds each call's latency. That
 * instance is mocked first: mocking an instance after its class would restore the class stub.
 */

const tableClient = new DynamoDBClient({ region: 'us-east-1' });
const tableStub = mockClient(tableClient);
const tableItems = inMemoryTable(tableStub);
export const dynamodb = mockClient(DynamoDBClient);
export const ses = mockClient(SESClient);
export const sns = mockClient(SNSClient);
export const organizations = mockClient(OrganizationsClient);

export type Item = ReturnType<typeof inMemoryTable> extends Map<string, infer I> ? I : never;

interface SendOptions {
  abortSignal?: AbortSignal;
}

/** The sinon stub under an AwsStub, typed for what the fakes need. */
interface RawStub {
  callsFake(fn: (command: unknown, options?: SendOptions) => unknown): unknown;
  resetHistory(): void;
}

const raw = (stub: { send: unknown }) => stub.send as RawStub;

/**
 * A fresh, empty table behind every DynamoDBClient; `delay` runs before and after each call.
 * `exclusive: false` (a negative control) drops the condition of every put.
 */
export function installTable(
  delay: () => Promise<void> | void,
  exclusive = true,
): {
  items: Map<string, Item>;
  inFlightConflicts: () => number;
} {
  // Not tableStub.reset(): re-mocking the instance would meet the class stub it inherits.
  tableItems.clear();
  const items = tableItems;
  let conflicts = 0;
  raw(dynamodb).callsFake(async (sent: unknown) => {
    await delay();
    const command =
      !exclusive && sent instanceof PutItemCommand
        ? new PutItemCommand({ ...sent.input, ConditionExpression: undefined })
        : sent;
    let out: unknown;
    try {
      out = await tableClient.send(command as Parameters<typeof tableClient.send>[0]);
    } catch (error) {
      const old = (error as { Item?: Item }).Item;
      if (old?.status?.S === 'IN_PROGRESS') conflicts += 1;
      await delay();
      throw error;
    }
    await delay();
    return out;
  });
  return { items, inFlightConflicts: () => conflicts };
}

export type ChannelCall =
  | { kind: 'email'; input: SendEmailCommandInput; signal: AbortSignal | undefined }
  | { kind: 'sns'; input: PublishCommandInput; signal: AbortSignal | undefined };

/** SES SendEmail and SNS Publish go to `fake`; any other SES/SNS command is a harness error. */
export function installChannels(fake: (call: ChannelCall) => Promise<string> | string): void {
  raw(ses).callsFake(async (command: unknown, options?: SendOptions) => {
    if (!(command instanceof SendEmailCommand)) throw new Error('unexpected SES command');
    return {
      MessageId: await fake({ kind: 'email', input: command.input, signal: options?.abortSignal }),
    };
  });
  raw(sns).callsFake(async (command: unknown, options?: SendOptions) => {
    if (!(command instanceof PublishCommand)) throw new Error('unexpected SNS command');
    return {
      MessageId: await fake({ kind: 'sns', input: command.input, signal: options?.abortSignal }),
    };
  });
}

/** DescribeAccount answers with `name(accountId)`, after `delay`. */
export function installOrganizations(
  name: (accountId: string) => string,
  delay: () => Promise<void> | void,
): void {
  raw(organizations).callsFake(async (command: unknown) => {
    if (!(command instanceof DescribeAccountCommand))
      throw new Error('unexpected Organizations command');
    await delay();
    const id = command.input.AccountId ?? '';
    return { Account: { Id: id, Name: name(id), Email: `aws-${id}@example.com`, State: 'ACTIVE' } };
  });
}

/** sinon keeps every call's arguments: forget them between batches (memory). */
export function forgetCalls(): void {
  for (const stub of [dynamodb, ses, sns, organizations, tableStub]) stub.resetHistory();
}

export const throttled = (kind: 'email' | 'sns'): Error =>
  Object.assign(new Error(kind === 'email' ? 'Maximum sending rate exceeded.' : 'Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
