import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

/**
 * Just enough of a DynamoDB table for the delivery ledger, installed on an aws-sdk-client-mock
 * stub so conditional writes really exclude each other. It knows the ledger's three conditions
 * (claim, token match) rather than parsing expressions: a change to them should fail here.
 */
export function inMemoryTable(mock: AwsClientStub<DynamoDBClient>): Map<string, Item> {
  const items = new Map<string, Item>();
  const id = (key: Item | undefined) => `${key?.pk?.S}|${key?.sk?.S}`;
  const conditionFailed = (Item?: Item) =>
    new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item,
    });

  mock.on(PutItemCommand).callsFake((input: PutItemCommand['input']) => {
    const item = input.Item!;
    const existing = items.get(id(item));
    if (input.ConditionExpression) {
      if (
        input.ConditionExpression !==
        'attribute_not_exists(pk) OR (#status = :inProgress AND leaseUntil < :now)'
      ) {
        throw new Error(`the fake table does not know the condition ${input.ConditionExpression}`);
      }
      const now = Number(input.ExpressionAttributeValues![':now']!.N);
      const free =
        !existing || (existing.status?.S === 'IN_PROGRESS' && Number(existing.leaseUntil?.N) < now);
      if (!free) {
        throw conditionFailed(
          input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? existing : undefined,
        );
      }
    }
    items.set(id(item), { ...item });
    return {};
  });

  mock.on(GetItemCommand).callsFake((input: GetItemCommand['input']) => {
    const existing = items.get(id(input.Key));
    return existing ? { Item: { ...existing } } : {};
  });

  const tokenMatches = (input: { Key?: Item; ExpressionAttributeValues?: Item }) =>
    items.get(id(input.Key))?.token?.S === input.ExpressionAttributeValues?.[':token']?.S;

  mock.on(UpdateItemCommand).callsFake((input: UpdateItemCommand['input']) => {
    if (!tokenMatches(input)) throw conditionFailed();
    const values = input.ExpressionAttributeValues!;
    const updated = { ...items.get(id(input.Key))! };
    delete updated.leaseUntil;
    items.set(id(input.Key), {
      ...updated,
      status: values[':delivered']!,
      deliveredAt: values[':at']!,
      messageId: values[':messageId']!,
      expiresAt: values[':expiresAt']!,
    });
    return {};
  });

  mock.on(DeleteItemCommand).callsFake((input: DeleteItemCommand['input']) => {
    if (!tokenMatches(input)) throw conditionFailed();
    items.delete(id(input.Key));
    return {};
  });

  return items;
}
