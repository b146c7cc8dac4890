import { randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  MAX_LISTED,
  type AdmitOptions,
  type AdmitOutcome,
  type IncidentMember,
  type IncidentMeta,
  type IncidentStore,
  type RecoveredIncident,
  type SummaryWindow,
} from '../ports';

/**
 * Incidents in the shared table. Per group (pk `INCIDENT#<group>`):
 * - `CURRENT`: the open incident and its window (id, seq, windowEnd, closed, sentNow); opening
 *   an incident schedules its first window's summary, and each summary with followers the next;
 *   a window without followers closes the incident;
 * - `MEMBERS#<incident>#<seq>`: the window's folded alerts, appended atomically; sealing the
 *   window (sealedAt) makes later appends fail, so they go to the next window: none is lost;
 * - `ID#<incident>`: what it is, how many alerts, how many resources still failing, status;
 * - `JOB#<delivery key>`: an alert already taken in (a redelivery is not counted twice).
 * Per resource (pk `INCIDENT_RESOURCE#<resource>`, sk `<group>#<incident>`): its next success
 * counts toward the incident's recovery. Flood counters: pk `FLOOD#<scope>`, sk the window.
 */

const TTL_DAYS = 14;
/**
 * An incident whose window ended this long ago without its summary (the summary message kept
 * failing, see the DLQ alarm) no longer takes alerts in: the next one opens a new incident.
 */
const STALE_MS = 15 * 60 * 1000;
const ATTEMPTS = 8;

type Item = Record<string, AttributeValue>;

const S = (v: string): AttributeValue => ({ S: v });
const N = (v: number): AttributeValue => ({ N: String(v) });
const num = (v: AttributeValue | undefined) => (v?.N === undefined ? undefined : Number(v.N));

export class DynamoDbIncidentStore implements IncidentStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    /** How many folded alerts a window lists (smaller in tests). */
    private readonly maxListed = MAX_LISTED,
  ) {}

  private key(pk: string, sk: string): Item {
    return { pk: S(pk), sk: S(sk) };
  }

  private expiresAt(now: Date): AttributeValue {
    return N(Math.floor(now.getTime() / 1000) + TTL_DAYS * 86_400);
  }

  private async get(pk: string, sk: string): Promise<Item | undefined> {
    const out = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: this.key(pk, sk),
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }

  /** An update that may lose a race: false when its condition failed. */
  private async tryUpdate(
    input: Omit<UpdateItemCommand['input'], 'TableName'>,
  ): Promise<Item | false> {
    try {
      const out = await this.dynamodb.send(
        new UpdateItemCommand({ TableName: this.tableName, ...input }),
      );
      return out.Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async tryPut(
    item: Item,
    condition: string,
    values?: Item,
    names?: Record<string, string>,
  ) {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ...(values ? { ExpressionAttributeValues: values } : {}),
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async admit(
    alert: { group: string; meta: IncidentMeta; member: IncidentMember; resource?: string },
    options: AdmitOptions,
  ): Promise<AdmitOutcome> {
    const pk = `INCIDENT#${alert.group}`;
    const now = options.now.getTime();
    const known = await this.get(pk, `JOB#${alert.member.k}`);
    if (known?.incidentId?.S) {
      const incidentId = known.incidentId.S;
      if (known.role?.S !== 'first') return { role: 'duplicate', incidentId };
      // Sent again (its send failed): its summary is scheduled again too, harmlessly.
      const current = await this.get(pk, 'CURRENT');
      const opener =
        current?.incidentId?.S === incidentId && num(current.seq) === 0 && !current.closed?.BOOL;
      return { role: 'first', incidentId, ...(opener ? { flushAt: num(current.windowEnd)! } : {}) };
    }
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      // A window being sealed right now: give the sealing a moment.
      if (attempt > 1) await new Promise((r) => setTimeout(r, 10 * attempt));
      const current = await this.get(pk, 'CURRENT');
      const active =
        current?.incidentId?.S !== undefined &&
        !current.closed?.BOOL &&
        now < (num(current.windowEnd) ?? 0) + STALE_MS;
      if (!active) {
        const opened = await this.open(pk, alert, options, current);
        if (!opened) continue; // another alert opened it first: join that one
        if (options.foldAll) {
          const folded = await this.fold(pk, opened.incidentId, opened.seq, alert, options);
          if (folded) return { ...folded, flushAt: opened.windowEnd };
          continue;
        }
        await this.track(pk, opened.incidentId, alert, options.now);
        await this.remember(pk, alert.member.k, 'first', opened.incidentId, options.now);
        return { role: 'first', incidentId: opened.incidentId, flushAt: opened.windowEnd };
      }
      const incidentId = current.incidentId!.S!;
      const seq = num(current.seq) ?? 0;
      if (!options.foldAll && (num(current.sentNow) ?? 0) < options.immediate) {
        const sent = await this.tryUpdate({
          Key: this.key(pk, 'CURRENT'),
          UpdateExpression: 'ADD sentNow :one',
          ConditionExpression: 'incidentId = :id AND sentNow < :immediate',
          ExpressionAttributeValues: {
            ':one': N(1),
            ':id': S(incidentId),
            ':immediate': N(options.immediate),
          },
        });
        if (sent) {
          await this.track(pk, incidentId, alert, options.now);
          await this.remember(pk, alert.member.k, 'first', incidentId, options.now);
          return { role: 'first', incidentId };
        }
      }
      const folded = await this.fold(pk, incidentId, seq, alert, options);
      if (folded) return folded;
    }
    throw new Error(`incident ${alert.group}: too much contention to take the alert in`);
  }

  /** Opens a new incident over the one just read (closed or stale), or the group's first. */
  private async open(
    pk: string,
    alert: { meta: IncidentMeta },
    options: AdmitOptions,
    previous: Item | undefined,
  ) {
    const now = options.now;
    const incidentId = `${now.toISOString().slice(0, 16).replace(/[-:T]/g, '')}-${randomBytes(4).toString('hex')}`;
    const windowEnd = now.getTime() + options.windowMs;
    const meta = JSON.stringify({ ...alert.meta, firstAt: now.toISOString() });
    const opened = await this.tryPut(
      {
        ...this.key(pk, 'CURRENT'),
        incidentId: S(incidentId),
        seq: N(0),
        windowEnd: N(windowEnd),
        closed: { BOOL: false },
        sentNow: N(options.foldAll ? 0 : 1),
        meta: S(meta),
        expiresAt: this.expiresAt(now),
      },
      previous?.incidentId?.S
        ? 'incidentId = :previous AND seq = :seq AND (closed = :true OR windowEnd < :stale)'
        : 'attribute_not_exists(pk)',
      previous?.incidentId?.S
        ? {
            ':previous': previous.incidentId,
            ':seq': previous.seq ?? N(0),
            ':true': { BOOL: true },
            ':stale': N(now.getTime() - STALE_MS),
          }
        : undefined,
    );
    if (!opened) return undefined;
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(pk, `ID#${incidentId}`),
          meta: S(meta),
          status: S('open'),
          openCount: N(0),
          alertCount: N(0),
          expiresAt: this.expiresAt(now),
        },
      }),
    );
    return { incidentId, seq: 0, windowEnd };
  }

  /** Appends the alert to window `seq`; undefined when that window was sealed meanwhile. */
  private async fold(
    pk: string,
    incidentId: string,
    seq: number,
    alert: { member: IncidentMember; resource?: string; group: string },
    options: AdmitOptions,
  ): Promise<Extract<AdmitOutcome, { role: 'follower' }> | undefined> {
    const membersKey = this.key(pk, `MEMBERS#${incidentId}#${seq}`);
    const account: Item = alert.member.a ? { ':account': { SS: [alert.member.a] } } : {};
    const appended = await this.tryUpdate({
      Key: membersKey,
      UpdateExpression: `SET members = list_append(if_not_exists(members, :empty), :member), listed = if_not_exists(listed, :zero) + :one, expiresAt = :ttl${alert.member.a ? ' ADD accounts :account' : ''}`,
      ConditionExpression:
        'attribute_not_exists(sealedAt) AND (attribute_not_exists(listed) OR listed < :cap)',
      ExpressionAttributeValues: {
        ':empty': { L: [] },
        ':member': { L: [S(JSON.stringify(alert.member))] },
        ':zero': N(0),
        ':one': N(1),
        ':cap': N(this.maxListed),
        ':ttl': this.expiresAt(options.now),
        ...account,
      },
    });
    if (!appended) {
      // Sealed (the caller goes to the next window) or full (counted, not listed).
      const counted = await this.tryUpdate({
        Key: membersKey,
        UpdateExpression: `ADD overflow :one${alert.member.a ? ', accounts :account' : ''}`,
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(sealedAt)',
        ExpressionAttributeValues: { ':one': N(1), ...account },
      });
      if (!counted) return undefined;
    }
    await this.track(pk, incidentId, alert, options.now);
    await this.remember(pk, alert.member.k, 'follower', incidentId, options.now);
    return { role: 'follower', incidentId, seq };
  }

  /** Counts the alert in its incident and links its resource to it, for recovery. */
  private async track(
    pk: string,
    incidentId: string,
    alert: { member: IncidentMember; resource?: string; group: string },
    now: Date,
  ): Promise<void> {
    let newlyOpen = false;
    if (alert.resource) {
      newlyOpen = await this.tryPut(
        {
          ...this.key(`INCIDENT_RESOURCE#${alert.resource}`, `${alert.group}#${incidentId}`),
          group: S(alert.group),
          incidentId: S(incidentId),
          recovered: { BOOL: false },
          expiresAt: this.expiresAt(now),
        },
        'attribute_not_exists(pk) OR recovered = :true',
        { ':true': { BOOL: true } },
      );
    }
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(pk, `ID#${incidentId}`),
        UpdateExpression: `ADD alertCount :one${newlyOpen ? ', openCount :one' : ''}${alert.member.a ? ', accounts :account' : ''} SET lastAt = :at`,
        ExpressionAttributeValues: {
          ':one': N(1),
          ':at': S(alert.member.t),
          ...(alert.member.a ? { ':account': { SS: [alert.member.a] } } : {}),
        },
      }),
    );
  }

  private async remember(pk: string, k: string, role: string, incidentId: string, now: Date) {
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(pk, `JOB#${k}`),
          role: S(role),
          incidentId: S(incidentId),
          expiresAt: this.expiresAt(now),
        },
      }),
    );
  }

  async seal(
    group: string,
    incidentId: string,
    seq: number,
    now: Date,
    windowMs: number,
  ): Promise<
    | (SummaryWindow & { next?: { seq: number; flushAt: number } })
    | { notBefore: number }
    | undefined
  > {
    const pk = `INCIDENT#${group}`;
    const record = await this.get(pk, `ID#${incidentId}`);
    if (!record?.meta?.S) return undefined;
    const current = await this.get(pk, 'CURRENT');
    const same = current?.incidentId?.S === incidentId;
    if (same && num(current.seq) === seq && (num(current.windowEnd) ?? 0) > now.getTime()) {
      return { notBefore: num(current.windowEnd)! };
    }
    // Sealed first: appends after this fail their condition and go to the next window.
    const out = await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(pk, `MEMBERS#${incidentId}#${seq}`),
        UpdateExpression: 'SET sealedAt = if_not_exists(sealedAt, :now), expiresAt = :ttl',
        ExpressionAttributeValues: { ':now': N(now.getTime()), ':ttl': this.expiresAt(now) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = out.Attributes ?? {};
    const members = (item.members?.L ?? []).flatMap((v) => {
      try {
        return [JSON.parse(v.S ?? '') as IncidentMember];
      } catch {
        return [];
      }
    });
    const overflow = num(item.overflow) ?? 0;
    let next: { seq: number; flushAt: number } | undefined;
    if (same && num(current.seq) === seq) {
      if (members.length + overflow === 0) {
        // A quiet window: the incident is over; the next alert opens a new one.
        await this.tryUpdate({
          Key: this.key(pk, 'CURRENT'),
          UpdateExpression: 'SET closed = :true',
          ConditionExpression: 'incidentId = :id AND seq = :seq',
          ExpressionAttributeValues: {
            ':true': { BOOL: true },
            ':id': S(incidentId),
            ':seq': N(seq),
          },
        });
      } else {
        const flushAt = now.getTime() + windowMs;
        const advanced = await this.tryUpdate({
          Key: this.key(pk, 'CURRENT'),
          UpdateExpression: 'SET seq = :next, windowEnd = :end',
          ConditionExpression: 'incidentId = :id AND seq = :seq',
          ExpressionAttributeValues: {
            ':next': N(seq + 1),
            ':end': N(flushAt),
            ':id': S(incidentId),
            ':seq': N(seq),
          },
        });
        if (advanced) next = { seq: seq + 1, flushAt };
      }
    } else if (same && num(current.seq) === seq + 1 && !current.closed?.BOOL) {
      // Sealed before, and the next window's summary may not be scheduled: schedule it again.
      next = { seq: seq + 1, flushAt: num(current.windowEnd)! };
    }
    return {
      incidentId,
      seq,
      members,
      overflow,
      meta: JSON.parse(record.meta.S) as IncidentMeta,
      ...(next ? { next } : {}),
    };
  }

  async recover(resource: string, now: Date): Promise<(RecoveredIncident & { group: string })[]> {
    const out = await this.dynamodb.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': S(`INCIDENT_RESOURCE#${resource}`) },
        ConsistentRead: true,
      }),
    );
    const recovered: (RecoveredIncident & { group: string })[] = [];
    for (const item of out.Items ?? []) {
      const group = item.group?.S;
      const incidentId = item.incidentId?.S;
      if (!group || !incidentId || item.done?.BOOL) continue;
      const pk = `INCIDENT#${group}`;
      if (item.recovered?.BOOL !== true) {
        const marked = await this.tryUpdate({
          Key: { pk: item.pk!, sk: item.sk! },
          UpdateExpression: 'SET recovered = :true',
          ConditionExpression: 'recovered = :false',
          ExpressionAttributeValues: { ':true': { BOOL: true }, ':false': { BOOL: false } },
        });
        if (marked) {
          const counted = await this.dynamodb.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: this.key(pk, `ID#${incidentId}`),
              UpdateExpression: 'ADD openCount :minus',
              ExpressionAttributeValues: { ':minus': N(-1) },
              ReturnValues: 'ALL_NEW',
            }),
          );
          const open = num(counted.Attributes?.openCount) ?? 0;
          if (open <= 0) {
            await this.tryUpdate({
              Key: this.key(pk, `ID#${incidentId}`),
              UpdateExpression: 'SET #status = :resolved, resolvedAt = :now',
              ConditionExpression: '#status = :open',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':resolved': S('resolved'),
                ':open': S('open'),
                ':now': S(now.toISOString()),
              },
            });
          }
        }
      }
      const record = await this.get(pk, `ID#${incidentId}`);
      if (record?.status?.S !== 'resolved' || !record.meta?.S) continue;
      if (record.notified?.BOOL) {
        // Told already: this resource need not be looked at again.
        await this.tryUpdate({
          Key: { pk: item.pk!, sk: item.sk! },
          UpdateExpression: 'SET done = :true',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': { BOOL: true } },
        });
        continue;
      }
      recovered.push({
        group,
        incidentId,
        meta: JSON.parse(record.meta.S) as IncidentMeta,
        total: num(record.alertCount) ?? 0,
        accounts: [...(record.accounts?.SS ?? [])].sort(),
        ...(record.lastAt?.S ? { lastAt: record.lastAt.S } : {}),
        recoveredAt: record.resolvedAt?.S ?? now.toISOString(),
      });
    }
    return recovered;
  }

  async markRecoveredSent(group: string, incidentId: string): Promise<void> {
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(`INCIDENT#${group}`, `ID#${incidentId}`),
        UpdateExpression: 'SET notified = :true',
        ExpressionAttributeValues: { ':true': { BOOL: true } },
      }),
    );
  }

  async countSent(scope: string, windowStart: number, windowMs: number): Promise<number> {
    const out = await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(`FLOOD#${scope}`, String(windowStart)),
        UpdateExpression: 'ADD n :one SET expiresAt = :ttl',
        ExpressionAttributeValues: {
          ':one': N(1),
          ':ttl': N(Math.floor((windowStart + 2 * windowMs) / 1000) + 86_400),
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return num(out.Attributes?.n) ?? 1;
  }
}
