import { randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { ClaimResult, DeliveryLedger } from '../ports';

export interface DynamoDbDeliveryLedgerOptions {
  tableName: string;
  /** How long a claim protects a send in progress; longer than the function timeout. */
  leaseMs: number;
  /** How long delivered records are kept (DynamoDB TTL). */
  retentionDays: number;
}

const IN_PROGRESS = 'IN_PROGRESS';
const DELIVERED = 'DELIVERED';

/**
 * One item per (event, channel) in the shared table: pk `DELIVERY#<event key>`, sk the channel.
 * The claim is a conditional put, so two invocations never both send.
 */
export class DynamoDbDeliveryLedger implements DeliveryLedger {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly options: DynamoDbDeliveryLedgerOptions,
  ) {}

  private key(eventKey: string, channelKey: string): Record<string, AttributeValue> {
    return { pk: { S: `DELIVERY#${eventKey}` }, sk: { S: channelKey } };
  }

  private expiresAt(now: Date): AttributeValue {
    return { N: String(Math.floor(now.getTime() / 1000) + this.options.retentionDays * 86_400) };
  }

  async claim(eventKey: string, channelKey: string, now: Date): Promise<ClaimResult> {
    const token = randomUUID();
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: {
            ...this.key(eventKey, channelKey),
            status: { S: IN_PROGRESS },
            token: { S: token },
            leaseUntil: { N: String(now.getTime() + this.options.leaseMs) },
            claimedAt: { S: now.toISOString() },
            expiresAt: this.expiresAt(now),
          },
          // Free, or claimed by an invocation that died before finishing its lease.
          ConditionExpression:
            'attribute_not_exists(pk) OR (#status = :inProgress AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':inProgress': { S: IN_PROGRESS },
            ':now': { N: String(now.getTime()) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'claimed', token };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing =
        error.Item ??
        (
          await this.dynamodb.send(
            new GetItemCommand({
              TableName: this.options.tableName,
              Key: this.key(eventKey, channelKey),
              ConsistentRead: true,
            }),
          )
        ).Item;
      if (existing?.status?.S === DELIVERED) {
        return {
          outcome: 'already-delivered',
          deliveredAt: existing.deliveredAt?.S,
          messageId: existing.messageId?.S,
        };
      }
      const leaseUntil = Number(existing?.leaseUntil?.N);
      return {
        outcome: 'in-flight',
        leaseUntil: Number.isFinite(leaseUntil) ? new Date(leaseUntil).toISOString() : undefined,
      };
    }
  }

  async markDelivered(
    eventKey: string,
    channelKey: string,
    token: string,
    messageId: string,
    now: Date,
  ): Promise<void> {
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: this.key(eventKey, channelKey),
        UpdateExpression:
          'SET #status = :delivered, deliveredAt = :at, messageId = :messageId, expiresAt = :expiresAt REMOVE leaseUntil',
        ConditionExpression: '#token = :token',
        ExpressionAttributeNames: { '#status': 'status', '#token': 'token' },
        ExpressionAttributeValues: {
          ':delivered': { S: DELIVERED },
          ':at': { S: now.toISOString() },
          ':messageId': { S: messageId || '-' },
          ':expiresAt': this.expiresAt(now),
          ':token': { S: token },
        },
      }),
    );
  }

  async delivered(
    pairs: readonly { eventKey: string; channelKey: string }[],
  ): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < pairs.length; i += 100) {
      let keys: Record<string, AttributeValue>[] | undefined = pairs
        .slice(i, i + 100)
        .map((p) => this.key(p.eventKey, p.channelKey));
      // Unprocessed keys (throttling) are asked for again, a bounded number of times.
      for (let attempt = 0; keys?.length && attempt < 8; attempt++) {
        if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const out: BatchGetItemCommandOutput = await this.dynamodb.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.options.tableName]: {
                Keys: keys,
                ProjectionExpression: 'pk, sk, #status',
                ExpressionAttributeNames: { '#status': 'status' },
              },
            },
          }),
        );
        for (const item of out.Responses?.[this.options.tableName] ?? []) {
          if (item.status?.S !== DELIVERED) continue;
          const eventKey = (item.pk?.S ?? '').replace(/^DELIVERY#/, '');
          found.add(`${eventKey}|${item.sk?.S ?? ''}`);
        }
        keys = out.UnprocessedKeys?.[this.options.tableName]?.Keys;
      }
      if (keys?.length) {
        throw new Error(`delivery ledger: ${keys.length} records could not be read (throttled)`);
      }
    }
    return found;
  }

  async release(eventKey: string, channelKey: string, token: string): Promise<void> {
    try {
      await this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: this.key(eventKey, channelKey),
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': { S: token } },
        }),
      );
    } catch (error) {
      // Someone else holds it now: nothing of ours to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
