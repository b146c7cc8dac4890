import { decideAccount, sweep, type SweepDeps } from '../../functions/reconcile/sweep';
import type { AccountRecord, OrgAccount } from '../../functions/shared/ports';
import { FakeClock } from '../helpers/fakes';
import { exampleConfig } from '../helpers/fixtures';
import {
  FakeOrganization,
  InMemoryOnboardingLedger,
  MANAGEMENT_ID,
  RecordingQueue,
  WORKLOADS_OU,
} from '../helpers/onboarding-fakes';

const NOW = new Date('2025-03-13T03:05:00.000Z');
const LOCK_MS = 900_000;

const ctx = (overrides: Partial<Parameters<typeof decideAccount>[2]> = {}) => ({
  managementAccountId: MANAGEMENT_ID,
  onboardManagementAccount: false,
  baselineVersion: 2,
  staleAfterMs: 2 * LOCK_MS,
  now: NOW,
  ...overrides,
});

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

describe('decideAccount', () => {
  const id = '222233334444';

  it.each(['SUSPENDED', 'PENDING_CLOSURE', 'CLOSED'])(
    'offboards a %s account it onboarded, once; skips one it never knew',
    (status) => {
      expect(
        decideAccount(account(id, { status }), record(id, { status: 'failed' }), ctx()),
      ).toEqual({
        accountId: id,
        name: `Account ${id}`,
        action: 'offboard',
        reason: `account is ${status}`,
        departure: 'closing',
      });
      expect(
        decideAccount(account(id, { status }), record(id, { status: 'closing' }), ctx()),
      ).toMatchObject({ action: 'skip', reason: `account is ${status}` });
      expect(decideAccount(account(id, { status }), undefined, ctx())).toMatchObject({
        action: 'skip',
      });
    },
  );

  it.each(['departed', 'closing'] as const)(
    'onboards again a %s account that is active in the organization again',
    (status) => {
      const gone = record(id, {
        status,
        departure: { trigger: 'AccountDepartedOrganization', at: '2025-03-01T00:00:00.000Z' },
      });
      expect(decideAccount(account(id), gone, ctx())).toMatchObject({
        action: 'onboard',
        reason: `${status} before (AccountDepartedOrganization), active in the organization again`,
      });
    },
  );

  it('skips the management account unless onboardManagementAccount is set', () => {
    expect(decideAccount(account(MANAGEMENT_ID), undefined, ctx())).toMatchObject({
      action: 'skip',
      reason: 'management account (onboardManagementAccount is false)',
    });
    expect(
      decideAccount(account(MANAGEMENT_ID), undefined, ctx({ onboardManagementAccount: true })),
    ).toMatchObject({ action: 'onboard' });
  });

  it('onboards an account without a ledger entry', () => {
    expect(decideAccount(account(id), undefined, ctx())).toEqual({
      accountId: id,
      name: `Account ${id}`,
      action: 'onboard',
      reason: 'no ledger entry',
    });
  });

  it('repairs a failed account, saying where it failed', () => {
    const failed = record(id, {
      status: 'failed',
      lastError: { step: 'access', message: 'AccessDenied', at: '2025-03-12T00:00:00.000Z' },
    });
    expect(decideAccount(account(id), failed, ctx())).toMatchObject({
      action: 'repair',
      reason: 'failed at access: AccessDenied',
    });
    expect(decideAccount(account(id), record(id, { status: 'failed' }), ctx())).toMatchObject({
      action: 'repair',
      reason: 'failed at ?: ?',
    });
  });

  it('repairs a run that stopped part way, once it is older than twice the lock', () => {
    const updatedAt = new Date(NOW.getTime() - 2 * LOCK_MS - 1).toISOString();
    expect(
      decideAccount(account(id), record(id, { status: 'onboarding', updatedAt }), ctx()),
    ).toMatchObject({
      action: 'repair',
      reason: `a run stopped part way (last step saved ${updatedAt})`,
    });
  });

  it('leaves a run in progress alone', () => {
    const updatedAt = new Date(NOW.getTime() - 2 * LOCK_MS).toISOString();
    expect(
      decideAccount(account(id), record(id, { status: 'onboarding', updatedAt }), ctx()),
    ).toMatchObject({ action: 'ok', reason: 'onboarding in progress' });
  });

  it('rechecks a skipped account (its opt-out tag may be gone)', () => {
    expect(
      decideAccount(
        account(id),
        record(id, { status: 'skipped', skipReason: 'opted out with tag x=true' }),
        ctx(),
      ),
    ).toMatchObject({ action: 'recheck', reason: 'skipped before: opted out with tag x=true' });
  });

  it('repairs a ready account on an older baseline', () => {
    expect(
      decideAccount(account(id), record(id, { status: 'ready', baselineVersion: 1 }), ctx()),
    ).toMatchObject({ action: 'repair', reason: 'baseline v1 → v2' });
    expect(
      decideAccount(
        account(id),
        record(id, { status: 'ready', baselineVersion: undefined }),
        ctx(),
      ),
    ).toMatchObject({ action: 'repair', reason: 'baseline v0 → v2' });
  });

  it('is satisfied with a ready account on the current baseline', () => {
    expect(decideAccount(account(id), record(id), ctx())).toMatchObject({
      action: 'ok',
      reason: 'ready, baseline v2',
    });
  });
});

describe('sweep', () => {
  /** One account per decision, plus the management account. */
  function world(): SweepDeps & {
    org: FakeOrganization;
    ledger: InMemoryOnboardingLedger;
    queue: RecordingQueue;
  } {
    const org = new FakeOrganization();
    const ledger = new InMemoryOnboardingLedger();
    const add = (id: string, status = 'ACTIVE', rec?: Partial<AccountRecord>) => {
      org.addAccount(account(id, { status }), WORKLOADS_OU);
      if (rec) ledger.records.set(id, record(id, rec));
    };
    add('200000000001'); // new
    add('200000000002', 'ACTIVE', { status: 'failed' });
    add('200000000003', 'ACTIVE', { status: 'skipped', skipReason: 'opted out' });
    add('200000000004', 'ACTIVE', { status: 'ready', baselineVersion: 1 });
    add('200000000005', 'ACTIVE', { status: 'ready', baselineVersion: 2 });
    add('200000000006', 'SUSPENDED', { status: 'ready', baselineVersion: 1 });
    add('200000000007', 'ACTIVE', {
      status: 'onboarding',
      updatedAt: new Date(NOW.getTime() - 60_000).toISOString(),
    });
    // Known to the ledger only: one left the organization, one was recorded as departed.
    ledger.records.set('200000000008', record('200000000008'));
    ledger.records.set('200000000009', record('200000000009', { status: 'departed' }));
    return {
      config: exampleConfig(),
      baselineVersion: 2,
      org,
      ledger,
      queue: new RecordingQueue(),
      clock: new FakeClock(NOW),
    };
  }

  it('decides for every account and enqueues onboard, repair, recheck and offboard', async () => {
    const deps = world();
    const result = await sweep(deps);

    expect(result.accounts).toBe(8);
    expect(result.counts).toEqual({
      onboard: 1,
      repair: 2,
      recheck: 1,
      verify: 0,
      skip: 1,
      ok: 2,
      unverifiable: 0,
      offboard: 2,
    });
    expect(Object.fromEntries(result.decisions.map((d) => [d.accountId, d.action]))).toEqual({
      [MANAGEMENT_ID]: 'skip',
      '200000000001': 'onboard',
      '200000000002': 'repair',
      '200000000003': 'recheck',
      '200000000004': 'repair',
      '200000000005': 'ok',
      '200000000006': 'offboard',
      '200000000007': 'ok',
      '200000000008': 'offboard',
    });
    expect(result.enqueued).toBe(6);
    expect(deps.queue.batches).toEqual([
      [
        ...['200000000001', '200000000002', '200000000003', '200000000004'].map((accountId) => ({
          kind: 'onboard-request',
          accountId,
          trigger: 'Reconcile',
          requestedAt: NOW.toISOString(),
        })),
        {
          kind: 'offboard-request',
          accountId: '200000000006',
          departure: 'closing',
          seen: 'account is SUSPENDED',
          requestedAt: NOW.toISOString(),
        },
        {
          kind: 'offboard-request',
          accountId: '200000000008',
          departure: 'departed',
          seen: 'no longer in the organization',
          requestedAt: NOW.toISOString(),
        },
      ],
    ]);
  });

  it('in a dry run decides the same and enqueues nothing', async () => {
    const deps = world();
    const result = await sweep(deps, { dryRun: true });
    expect(result.enqueued).toBe(0);
    expect(result.counts).toEqual({
      onboard: 1,
      repair: 2,
      recheck: 1,
      verify: 0,
      skip: 1,
      ok: 2,
      unverifiable: 0,
      offboard: 2,
    });
    expect(deps.queue.batches).toEqual([]);
  });

  it('enqueues nothing when every account is in order', async () => {
    const deps = world();
    for (const id of deps.org.accounts.keys()) {
      if (id !== MANAGEMENT_ID) deps.ledger.records.set(id, record(id));
    }
    deps.org.accounts.get('200000000006')!.status = 'ACTIVE';
    deps.ledger.records.delete('200000000008');
    const result = await sweep(deps);
    expect(result.enqueued).toBe(0);
    expect(deps.queue.batches).toEqual([]);
  });

  it('treats a run older than twice lockSeconds as stopped', async () => {
    const deps = world();
    deps.config.onboarding!.lockSeconds = 20;
    const result = await sweep(deps, { dryRun: true });
    expect(result.decisions.find((d) => d.accountId === '200000000007')?.action).toBe('repair');
  });

  it('refuses to sweep another organization than the configuration’s', async () => {
    const deps = world();
    deps.config.organizationId = 'o-someoneelse1';
    await expect(sweep(deps)).rejects.toThrow(
      /configuration's organizationId is o-someoneelse1: nothing swept/,
    );
    expect(deps.queue.batches).toEqual([]);
  });

  it('does not call departed an account whose ledger entry was written after the listing began', async () => {
    const deps = world();
    deps.ledger.records.set(
      '200000000008',
      record('200000000008', { updatedAt: NOW.toISOString() }),
    );
    const result = await sweep(deps, { dryRun: true });
    expect(result.decisions.find((d) => d.accountId === '200000000008')).toBeUndefined();
  });

  it('refuses a configuration without onboarding', async () => {
    const deps = world();
    delete deps.config.onboarding;
    await expect(sweep(deps)).rejects.toThrow('configuration has no "onboarding" section');
  });

  it('lets a failure to read the organization through', async () => {
    const deps = world();
    deps.org.failures.set('describeOrganization', new Error('AWSOrganizationsNotInUseException'));
    await expect(sweep(deps)).rejects.toThrow('AWSOrganizationsNotInUseException');
    expect(deps.queue.batches).toEqual([]);
  });
});

describe('decideAccount: an unreadable ledger time', () => {
  it('repairs an "onboarding" record whose updatedAt cannot be read instead of waiting forever', () => {
    const id = '222233334444';
    expect(
      decideAccount(account(id), record(id, { status: 'onboarding', updatedAt: 'garbage' }), ctx()),
    ).toMatchObject({ action: 'repair' });
  });
});
