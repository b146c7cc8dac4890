import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { CheckLedger, CheckRecord } from '../ports';

/** Daily checks are kept this long: the digest reads yesterday's, people read back a month. */
const CHECK_RETENTION_DAYS = 40;
/** A resource not seen again for this long is forgotten (it was untagged or backed up). */
const SEEN_RETENTION_DAYS = 90;

/**
 * The daily checks in the shared table, beside the account's onboarding record: pk
 * `ACCOUNT#<id>`, sk `CHECK#<day>` (the record as JSON), and `SEEN#<resource ARN>` for when a
 * resource tagged for backup was first seen without a backup.
 */
export class DynamoDbCheckLedger implements CheckLedger {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  private expiresAt(now: Date, days: number): AttributeValue {
    return { N: String(Math.floor(now.getTime() / 1000) + days * 86_400) };
  }

  async saveCheck(record: CheckRecord): Promise<void> {
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: `ACCOUNT#${record.accountId}` },
          sk: { S: `CHECK#${record.day}` },
          status: { S: record.status },
          record: { S: JSON.stringify(record) },
          expiresAt: this.expiresAt(new Date(record.checkedAt), CHECK_RETENTION_DAYS),
        },
      }),
    );
  }

  async checks(accountIds: string[], day: string): Promise<Map<string, CheckRecord>> {
    const found = new Map<string, CheckRecord>();
    for (let i = 0; i < accountIds.length; i += 100) {
      let keys: Record<string, AttributeValue>[] | undefined = accountIds
        .slice(i, i + 100)
        .map((id) => ({ pk: { S: `ACCOUNT#${id}` }, sk: { S: `CHECK#${day}` } }));
      // Unprocessed keys (throttling) are asked for again, a bounded number of times.
      for (let attempt = 0; keys?.length && attempt < 8; attempt++) {
        if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const out: BatchGetItemCommandOutput = await this.dynamodb.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const json = item.record?.S;
          if (!json) continue;
          const record = JSON.parse(json) as CheckRecord;
          found.set(record.accountId, record);
        }
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
      if (keys?.length) {
        throw new Error(`ledger: ${keys.length} daily checks could not be read (throttled)`);
      }
    }
    return found;
  }

  async firstSeen(accountId: string, arns: string[], now: Date): Promise<Map<string, string>> {
    const seen = new Map<string, string>();
    for (const arn of arns) {
      const out = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: `ACCOUNT#${accountId}` }, sk: { S: `SEEN#${arn}` } },
          UpdateExpression: 'SET firstSeen = if_not_exists(firstSeen, :now), expiresAt = :ttl',
          ExpressionAttributeValues: {
            ':now': { S: now.toISOString() },
            ':ttl': this.expiresAt(now, SEEN_RETENTION_DAYS),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      seen.set(arn, out.Attributes?.firstSeen?.S ?? now.toISOString());
    }
    return seen;
  }

  async unreported(accountId: string, keys: string[]): Promise<string[]> {
    const reported = new Set<string>();
    for (let i = 0; i < keys.length; i += 100) {
      const out = await this.dynamodb.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: {
              Keys: keys
                .slice(i, i + 100)
                .map((k) => ({ pk: { S: `ACCOUNT#${accountId}` }, sk: { S: `REPORTED#${k}` } })),
              ProjectionExpression: 'sk',
            },
          },
        }),
      );
      if (Object.keys(out.UnprocessedKeys ?? {}).length) {
        throw new Error('ledger: reported incidents could not be read (throttled)');
      }
      for (const item of out.Responses?.[this.tableName] ?? []) {
        reported.add((item.sk?.S ?? '').replace(/^REPORTED#/, ''));
      }
    }
    return keys.filter((k) => !reported.has(k));
  }

  async markReported(accountId: string, keys: string[], now: Date): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((k) => ({
        PutRequest: {
          Item: {
            pk: { S: `ACCOUNT#${accountId}` },
            sk: { S: `REPORTED#${k}` },
            reportedAt: { S: now.toISOString() },
            expiresAt: this.expiresAt(now, SEEN_RETENTION_DAYS),
          },
        },
      }));
      for (let attempt = 0; requests.length && attempt < 8; attempt++) {
        if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const out = await this.dynamodb.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
      if (requests.length) throw new Error('ledger: reported incidents could not be written');
    }
  }
}
