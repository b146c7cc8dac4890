import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { createLedgerTable, localClients } from '../../tools/sandbox/provision';
import { DynamoDbIncidentStore } from '../../functions/shared/adapters/dynamodb-incident-store';
import type { IncidentMember, IncidentMeta } from '../../functions/shared/ports';
import { localAws } from './harness';

/**
 * The incident store against moto's DynamoDB: the conditions, list appends and counters as
 * DynamoDB evaluates them (the unit tests script the store; this is the store itself).
 */

jest.setTimeout(60_000);

const TABLE = 'incident-store-test';
const W = 5 * 60_000;
const T0 = new Date('2026-11-28T03:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

const meta: IncidentMeta = {
  kind: 'incident',
  what: 'Backup job',
  label: 'FAILED',
  severity: 'error',
  jobType: 'backup',
  state: 'FAILED',
  category: 'AccessDenied',
  firstAt: T0.toISOString(),
  windowMinutes: 5,
};
const member = (i: number, account = '444455556666'): IncidentMember => ({
  k: `job-${i}`,
  a: account,
  r: 'eu-west-1',
  w: 'Backup job',
  l: 'FAILED',
  i: `table-${i}`,
  s: 'error',
  t: at(i * 1000).toISOString(),
});
const alert = (i: number, account?: string) => ({
  group: 'job#g1',
  meta,
  member: member(i, account),
  resource: `res-${i}`,
});

let store: DynamoDbIncidentStore;

beforeAll(async () => {
  const aws = localAws();
  await aws.reset();
  const c = localClients(aws.endpoint);
  await c.dynamodb.send(new DeleteTableCommand({ TableName: TABLE })).catch(() => undefined);
  await createLedgerTable(c.dynamodb, TABLE);
  store = new DynamoDbIncidentStore(c.dynamodb, TABLE, 5);
});

describe('DynamoDbIncidentStore', () => {
  let incidentId = '';

  it('opens an incident with the first alert and folds the followers into window 0', async () => {
    const first = await store.admit(alert(0), { now: T0, windowMs: W, immediate: 1 });
    expect(first).toMatchObject({ role: 'first', flushAt: T0.getTime() + W });
    incidentId = first.incidentId;
    const followers = [];
    for (let i = 1; i <= 3; i++) {
      followers.push(
        await store.admit(alert(i, i === 3 ? '777788889999' : undefined), {
          now: at(i * 1000),
          windowMs: W,
          immediate: 1,
        }),
      );
    }
    expect(followers).toEqual([1, 2, 3].map(() => ({ role: 'follower', incidentId, seq: 0 })));
  });

  it('takes a redelivered alert in once, and repeats "first" for the first (its send is retried)', async () => {
    expect(await store.admit(alert(2), { now: at(5000), windowMs: W, immediate: 1 })).toEqual({
      role: 'duplicate',
      incidentId,
    });
    expect(await store.admit(alert(0), { now: at(5000), windowMs: W, immediate: 1 })).toEqual({
      role: 'first',
      incidentId,
      flushAt: T0.getTime() + W,
    });
  });

  it('does not seal a window before its end', async () => {
    expect(await store.seal('job#g1', incidentId, 0, at(60_000), W)).toEqual({
      notBefore: T0.getTime() + W,
    });
  });

  it('seals the window: its followers, and the next window since it had some', async () => {
    const sealedAt = at(W + 1000);
    const sealed = await store.seal('job#g1', incidentId, 0, sealedAt, W);
    expect(sealed).toMatchObject({
      incidentId,
      seq: 0,
      overflow: 0,
      meta: { category: 'AccessDenied' },
      next: { seq: 1, flushAt: sealedAt.getTime() + W },
    });
    expect(sealed && 'members' in sealed && sealed.members.map((m) => m.k)).toEqual([
      'job-1',
      'job-2',
      'job-3',
    ]);
    // Sealing again (a redelivered summary message) returns the same followers.
    const again = await store.seal('job#g1', incidentId, 0, at(W + 2000), W);
    expect(again && 'members' in again && again.members).toHaveLength(3);
  });

  it('puts later followers in the next window, counts those beyond the listing cap', async () => {
    const now = at(W + 5000);
    for (let i = 4; i <= 10; i++) {
      expect(await store.admit(alert(i), { now, windowMs: W, immediate: 1 })).toMatchObject({
        role: 'follower',
        seq: 1,
      });
    }
    const sealed = await store.seal('job#g1', incidentId, 1, at(2 * W + 2000), W);
    expect(sealed).toMatchObject({ seq: 1, overflow: 2, next: { seq: 2 } });
    expect(sealed && 'members' in sealed && sealed.members).toHaveLength(5);
  });

  it('closes the incident after a quiet window; the next failure opens a new one', async () => {
    const sealed = await store.seal('job#g1', incidentId, 2, at(3 * W + 3000), W);
    expect(sealed).toMatchObject({ seq: 2, members: [] });
    expect(sealed && 'next' in sealed).toBe(false);
    const next = await store.admit(alert(11), { now: at(3 * W + 4000), windowMs: W, immediate: 1 });
    expect(next.role).toBe('first');
    expect(next.incidentId).not.toBe(incidentId);
  });

  it('resolves the incident when every resource in it has succeeded again, and says so once', async () => {
    for (let i = 0; i < 10; i++) {
      const out = await store.recover(`res-${i}`, at(4 * W));
      expect(out).toEqual([]);
    }
    const last = await store.recover('res-10', at(4 * W));
    expect(last).toEqual([
      expect.objectContaining({
        group: 'job#g1',
        incidentId,
        total: 11,
        accounts: ['444455556666', '777788889999'],
      }),
    ]);
    // Not told yet (the send failed): the next success of any of its resources says it again.
    expect(await store.recover('res-3', at(4 * W + 1000))).toHaveLength(1);
    await store.markRecoveredSent('job#g1', incidentId);
    expect(await store.recover('res-3', at(4 * W + 2000))).toEqual([]);
    // A resource never in an incident.
    expect(await store.recover('res-unknown', at(4 * W))).toEqual([]);
  });

  it('opens a flood window whose every alert is folded', async () => {
    const flood = {
      group: 'flood#account#1',
      meta: { ...meta, kind: 'flood' as const },
      member: member(1),
    };
    const a = await store.admit(flood, { now: T0, windowMs: W, immediate: 0, foldAll: true });
    expect(a).toMatchObject({ role: 'follower', seq: 0, flushAt: T0.getTime() + W });
    const b = await store.admit(
      { ...flood, member: member(2) },
      { now: at(1000), windowMs: W, immediate: 0, foldAll: true },
    );
    expect(b).toEqual({ role: 'follower', incidentId: a.incidentId, seq: 0 });
  });

  it('counts alerts sent per window and scope', async () => {
    expect(await store.countSent('account#1', T0.getTime(), W)).toBe(1);
    expect(await store.countSent('account#1', T0.getTime(), W)).toBe(2);
    expect(await store.countSent('account#2', T0.getTime(), W)).toBe(1);
    expect(await store.countSent('account#1', T0.getTime() + W, W)).toBe(1);
  });

  it('loses no follower when the window is sealed while they arrive', async () => {
    const group = 'job#race';
    const first = await store.admit(
      { ...alert(100), group },
      { now: T0, windowMs: W, immediate: 1 },
    );
    const arrivals = Array.from({ length: 20 }, (_, i) =>
      store.admit({ ...alert(101 + i), group }, { now: at(W + 10), windowMs: W, immediate: 1 }),
    );
    const seal = store.seal(group, first.incidentId, 0, at(W + 10), W);
    const outcomes = await Promise.all(arrivals);
    const sealed = await seal;
    const listed = new Set<string>();
    if (sealed && 'members' in sealed) for (const m of sealed.members) listed.add(m.k);
    // Whatever did not make window 0 is in window 1 (or counted beyond the cap of 5).
    const next = await store.seal(group, first.incidentId, 1, at(3 * W), W);
    let overflow = sealed && 'overflow' in sealed ? sealed.overflow : 0;
    if (next && 'members' in next) {
      for (const m of next.members) listed.add(m.k);
      overflow += next.overflow;
    }
    expect(outcomes.every((o) => o.role === 'follower')).toBe(true);
    expect(listed.size + overflow).toBe(20);
  });
});
