import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type ScanCommandOutput,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { AccountRecord, LockResult, OnboardingLedger } from '../ports';

/**
 * One item per account in the shared table: pk `ACCOUNT#<id>`, sk `ONBOARDING`. The record is
 * stored as JSON (read and written whole), with status and baseline version beside it for
 * people reading the table, and the lock as its own attributes so taking it is one conditional
 * update.
 */
export class DynamoDbOnboardingLedger implements OnboardingLedger {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  private key(accountId: string): Record<string, AttributeValue> {
    return { pk: { S: `ACCOUNT#${accountId}` }, sk: { S: 'ONBOARDING' } };
  }

  private static record(
    item: Record<string, AttributeValue> | undefined,
  ): AccountRecord | undefined {
    const json = item?.record?.S;
    return json ? (JSON.parse(json) as AccountRecord) : undefined;
  }

  async get(accountId: string): Promise<AccountRecord | undefined> {
    const out = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: this.key(accountId),
        ConsistentRead: true,
      }),
    );
    return DynamoDbOnboardingLedger.record(out.Item);
  }

  async getMany(accountIds: string[]): Promise<Map<string, AccountRecord>> {
    const found = new Map<string, AccountRecord>();
    for (let i = 0; i < accountIds.length; i += 100) {
      let keys: Record<string, AttributeValue>[] | undefined = accountIds
        .slice(i, i + 100)
        .map((id) => this.key(id));
      // Unprocessed keys (throttling) are asked for again, a bounded number of times.
      for (let attempt = 0; keys?.length && attempt < 8; attempt++) {
        if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const out: BatchGetItemCommandOutput = await this.dynamodb.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const r = DynamoDbOnboardingLedger.record(item);
          if (r) found.set(r.accountId, r);
        }
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
      if (keys?.length)
        throw new Error(`ledger: ${keys.length} accounts could not be read (throttled)`);
    }
    return found;
  }

  /**
   * Every onboarding record: a Scan of the shared table keeping the ONBOARDING items (the sweep
   * runs it once a day; the other items are small and expire).
   */
  async list(): Promise<AccountRecord[]> {
    const records: AccountRecord[] = [];
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const out: ScanCommandOutput = await this.dynamodb.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'sk = :sk',
          ProjectionExpression: 'pk, #record',
          ExpressionAttributeNames: { '#record': 'record' },
          ExpressionAttributeValues: { ':sk': { S: 'ONBOARDING' } },
          ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        const r = DynamoDbOnboardingLedger.record(item);
        if (r) records.push(r);
      }
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return records;
  }

  async acquire(accountId: string, owner: string, now: Date, lockMs: number): Promise<LockResult> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(accountId),
          UpdateExpression: 'SET lockOwner = :owner, lockUntil = :until, lockSince = :since',
          ConditionExpression:
            'attribute_not_exists(lockUntil) OR lockUntil < :now OR lockOwner = :owner',
          ExpressionAttributeValues: {
            ':owner': { S: owner },
            ':until': { N: String(now.getTime() + lockMs) },
            ':since': { S: now.toISOString() },
            ':now': { N: String(now.getTime()) },
          },
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const out = await this.dynamodb.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: this.key(accountId),
          ConsistentRead: true,
        }),
      );
      const until = Number(out.Item?.lockUntil?.N);
      return {
        acquired: false,
        owner: out.Item?.lockOwner?.S,
        since: out.Item?.lockSince?.S,
        until: Number.isFinite(until) ? new Date(until).toISOString() : undefined,
      };
    }
  }

  async release(accountId: string, owner: string): Promise<void> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(accountId),
          UpdateExpression: 'REMOVE lockOwner, lockUntil, lockSince',
          ConditionExpression: 'lockOwner = :owner',
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch (error) {
      // The lock expired and someone else holds it now: nothing of ours to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async save(record: AccountRecord): Promise<void> {
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(record.accountId),
        UpdateExpression:
          'SET #record = :record, #status = :status, baselineVersion = :version, updatedAt = :at',
        ExpressionAttributeNames: { '#record': 'record', '#status': 'status' },
        ExpressionAttributeValues: {
          ':record': { S: JSON.stringify(record) },
          ':status': { S: record.status },
          ':version': { N: String(record.baselineVersion ?? 0) },
          ':at': { S: record.updatedAt },
        },
      }),
    );
  }
}
