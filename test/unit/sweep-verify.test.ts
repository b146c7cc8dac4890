import { decideAccount, sweep, type SweepDeps } from '../../functions/reconcile/sweep';
import { createHandler, parseWatchRequest } from '../../functions/watch-account/handler';
import type { AccountRecord, OrgAccount } from '../../functions/shared/ports';
import { FakeClock } from '../helpers/fakes';
import { exampleConfig } from '../helpers/fixtures';
import { lambdaContext, sqsEvent, sqsRecord } from '../helpers/lambda';
import {
  FakeOrganization,
  InMemoryOnboardingLedger,
  MANAGEMENT_ID,
  MEMBER_ID,
  RecordingQueue,
  WORKLOADS_OU,
  watchWorld,
} from '../helpers/onboarding-fakes';

/** The sweep hands ready accounts to the daily check (functions/reconcile/sweep.ts). */

const NOW = new Date('2025-03-13T03:05:00.000Z');
const READY = '200000000005';
const READY_TOO = '200000000008';

const account = (id: string, overrides: Partial<OrgAccount> = {}): OrgAccount => ({
  id,
  name: `Account ${id}`,
  status: 'ACTIVE',
  ...overrides,
});

const record = (accountId: string, overrides: Partial<AccountRecord> = {}): AccountRecord => ({
  accountId,
  status: 'ready',
  baselineVersion: 2,
  steps: {},
  attempts: 1,
  updatedAt: '2025-03-12T03:05:00.000Z',
  attachedPolicies: [],
  ...overrides,
});

const ctx = (overrides: Partial<Parameters<typeof decideAccount>[2]> = {}) => ({
  managementAccountId: MANAGEMENT_ID,
  onboardManagementAccount: false,
  baselineVersion: 2,
  staleAfterMs: 1_800_000,
  now: NOW,
  ...overrides,
});

describe('decideAccount with verify', () => {
  const id = '222233334444';

  it('sends a ready account on the current baseline to its daily check', () => {
    expect(decideAccount(account(id), record(id), ctx({ verify: true }))).toEqual({
      accountId: id,
      name: `Account ${id}`,
      action: 'verify',
      reason: 'ready, baseline v2: checked against it today',
    });
  });

  it('leaves it "ok" without verify', () => {
    expect(decideAccount(account(id), record(id), ctx({ verify: false }))).toMatchObject({
      action: 'ok',
      reason: 'ready, baseline v2',
    });
  });

  it('repairs a ready account on an older baseline rather than check it', () => {
    expect(
      decideAccount(account(id), record(id, { baselineVersion: 1 }), ctx({ verify: true })),
    ).toMatchObject({ action: 'repair' });
  });

  it.each<[string, OrgAccount, AccountRecord | undefined]>([
    ['a suspended ready account', account(id, { status: 'SUSPENDED' }), record(id)],
    ['a failed account', account(id), record(id, { status: 'failed' })],
    ['a skipped account', account(id), record(id, { status: 'skipped' })],
    ['an account never onboarded', account(id), undefined],
    ['the management account', account(MANAGEMENT_ID), record(MANAGEMENT_ID)],
  ])('does not verify %s', (_, a, r) => {
    expect(decideAccount(a, r, ctx({ verify: true })).action).not.toBe('verify');
  });
});

describe('sweep with a watch queue', () => {
  function world(withWatchQueue = true) {
    const org = new FakeOrganization();
    const ledger = new InMemoryOnboardingLedger();
    const add = (id: string, status = 'ACTIVE', rec?: Partial<AccountRecord>) => {
      org.addAccount(account(id, { status }), WORKLOADS_OU);
      if (rec) ledger.records.set(id, record(id, rec));
    };
    add('200000000001'); // new
    add('200000000002', 'ACTIVE', { status: 'failed' });
    add('200000000004', 'ACTIVE', { status: 'ready', baselineVersion: 1 });
    add(READY, 'ACTIVE', { status: 'ready' });
    add('200000000006', 'SUSPENDED', { status: 'closing' }); // its closure already told
    add(READY_TOO, 'ACTIVE', { status: 'ready' });
    const queue = new RecordingQueue();
    const watchQueue = new RecordingQueue();
    const deps: SweepDeps = {
      config: exampleConfig(),
      baselineVersion: 2,
      org,
      ledger,
      queue,
      ...(withWatchQueue ? { watchQueue } : {}),
      clock: new FakeClock(NOW),
    };
    return { deps, queue, watchQueue };
  }

  it('queues one watch request per ready account for today, and onboarding for the rest', async () => {
    const { deps, queue, watchQueue } = world();
    const result = await sweep(deps);

    expect(watchQueue.batches).toEqual([
      [READY, READY_TOO].map((accountId) => ({
        kind: 'watch-request',
        accountId,
        day: '2025-03-13',
        requestedAt: NOW.toISOString(),
      })),
    ]);
    expect(queue.batches).toEqual([
      ['200000000001', '200000000002', '200000000004'].map((accountId) => ({
        kind: 'onboard-request',
        accountId,
        trigger: 'Reconcile',
        requestedAt: NOW.toISOString(),
      })),
    ]);
    expect(result.counts).toMatchObject({ verify: 2, ok: 0, onboard: 1, repair: 2, skip: 2 });
    expect(result.enqueued).toBe(5);
  });

  it('queues watch requests the watch handler accepts', async () => {
    const { deps, watchQueue } = world();
    await sweep(deps);
    for (const message of watchQueue.batches.flat()) {
      expect(parseWatchRequest(message)).toEqual(message);
    }
  });

  it('takes the day in UTC', async () => {
    const { deps, watchQueue } = world();
    deps.clock = new FakeClock(new Date('2025-03-13T23:59:59.999Z'));
    await sweep(deps);
    expect(watchQueue.batches[0]![0]).toMatchObject({ day: '2025-03-13' });
  });

  it('queues no watch request when no account is ready', async () => {
    const { deps, watchQueue } = world();
    deps.ledger = new InMemoryOnboardingLedger();
    const result = await sweep(deps);
    expect(watchQueue.batches).toEqual([]);
    expect(result.counts.verify).toBe(0);
  });

  it('without a watch queue, calls ready accounts ok and queues no check', async () => {
    const { deps, watchQueue } = world(false);
    const result = await sweep(deps);
    expect(result.counts).toMatchObject({ verify: 0, ok: 2 });
    expect(result.decisions.find((d) => d.accountId === READY)).toMatchObject({
      action: 'ok',
      reason: 'ready, baseline v2',
    });
    expect(result.enqueued).toBe(3);
    expect(watchQueue.batches).toEqual([]);
  });

  it('in a dry run asked to verify, decides "verify" and queues nothing', async () => {
    const { deps, queue } = world(false);
    const result = await sweep(deps, { dryRun: true, verify: true });
    expect(result.counts.verify).toBe(2);
    expect(result.enqueued).toBe(0);
    expect(queue.batches).toEqual([]);
  });

  it('in a dry run with a watch queue, queues nothing on either queue', async () => {
    const { deps, queue, watchQueue } = world();
    const result = await sweep(deps, { dryRun: true });
    expect(result.counts.verify).toBe(2);
    expect(result.enqueued).toBe(0);
    expect(queue.batches).toEqual([]);
    expect(watchQueue.batches).toEqual([]);
  });
});

describe('parseWatchRequest', () => {
  const valid = () => ({
    kind: 'watch-request',
    accountId: '222233334444',
    day: '2025-03-13',
    requestedAt: NOW.toISOString(),
  });

  it('accepts a request with or without requestedAt', () => {
    expect(parseWatchRequest(valid())).toEqual(valid());
    const bare: Record<string, unknown> = valid();
    delete bare.requestedAt;
    expect(parseWatchRequest(bare)).toEqual(bare);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['another kind', { kind: 'onboard-request' }, 'kind'],
    ['a short account id', { accountId: '12345' }, 'accountId'],
    ['a day that is a time', { day: '2025-03-13T00:00:00Z' }, 'day'],
  ])('rejects %s, naming the field', (_, change, field) => {
    expect(() => parseWatchRequest({ ...valid(), ...change })).toThrow(`field "${field}"`);
  });

  it('rejects what is not an object', () => {
    expect(() => parseWatchRequest('hello')).toThrow('field "(message)"');
  });
});

describe('the watch queue consumer (createHandler)', () => {
  it('checks the account of each request, builds its dependencies once, and reports a bad record alone', async () => {
    const w = await watchWorld();
    const build = jest.fn(() => w.watch);
    const handler = createHandler(build);
    const good = sqsRecord(
      { kind: 'watch-request', accountId: MEMBER_ID, day: '2025-03-13' },
      'good',
    );
    const again = sqsRecord(
      { kind: 'watch-request', accountId: MEMBER_ID, day: '2025-03-14' },
      'again',
    );
    const bad = sqsRecord({ kind: 'watch-request', accountId: 'nope', day: '2025-03-13' }, 'bad');

    const response = await handler(sqsEvent(good, bad, again), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(build).toHaveBeenCalledTimes(1);
    expect(w.checks.saved.map((r) => [r.accountId, r.day, r.status])).toEqual([
      [MEMBER_ID, '2025-03-13', 'verified'],
      [MEMBER_ID, '2025-03-14', 'verified'],
    ]);
  });

  it('reports a check that fails (to be retried) and one that succeeds apart', async () => {
    const w = await watchWorld();
    const handler = createHandler(() => ({
      ...w.watch,
      extraChecks: async (ctx) => {
        if (ctx.day === '2025-03-13') throw new Error('Rate exceeded');
        return {};
      },
    }));
    const response = await handler(
      sqsEvent(
        sqsRecord({ kind: 'watch-request', accountId: MEMBER_ID, day: '2025-03-13' }, 'first'),
        sqsRecord({ kind: 'watch-request', accountId: MEMBER_ID, day: '2025-03-14' }, 'second'),
      ),
      lambdaContext(),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'first' }] });
    expect(w.checks.saved.map((r) => r.day)).toEqual(['2025-03-14']);
  });
});
