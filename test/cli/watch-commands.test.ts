import { main, type Io } from '../../tools/backupctl/backupctl';
import { runReconcile } from '../../tools/backupctl/onboarding-commands';
import {
  coverageText,
  inParallel,
  runCoverage,
  verdictOf,
  verifyInPlace,
  type CoverageReport,
} from '../../tools/backupctl/watch-commands';
import type { SweepDecision, SweepResult } from '../../functions/reconcile/sweep';
import type { CheckRecord, CoverageRow } from '../../functions/shared/ports';
import { MANAGEMENT_ID, MEMBER_ID, READ_ONLY_ROLE, watchWorld } from '../helpers/onboarding-fakes';

/** backupctl's watching commands (tools/backupctl/watch-commands.ts) and their usage. */

// The commands that would call AWS are replaced; everything else is the real code.
jest.mock('../../tools/backupctl/watch-commands', () => ({
  ...jest.requireActual('../../tools/backupctl/watch-commands'),
  runCoverage: jest.fn(),
}));
jest.mock('../../tools/backupctl/onboarding-commands', () => ({
  ...jest.requireActual('../../tools/backupctl/onboarding-commands'),
  runReconcile: jest.fn(),
}));
const runCoverageMock = jest.mocked(runCoverage);
const runReconcileMock = jest.mocked(runReconcile);

beforeEach(() => {
  runCoverageMock.mockReset();
  runReconcileMock.mockReset();
});

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => '',
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

const RULE = 'backup-control-plane-forward-backup-events';
const verify = (accountId = MEMBER_ID): SweepDecision => ({
  accountId,
  name: 'Payments',
  action: 'verify',
  reason: 'ready, baseline v2: checked against it today',
});
const checkOf = (over: Partial<CheckRecord>): CheckRecord => ({
  accountId: MEMBER_ID,
  day: '2025-03-13',
  checkedAt: '2025-03-13T03:05:00.000Z',
  status: 'verified',
  findings: [],
  ...over,
});

describe('verdictOf', () => {
  it('turns a verified check into "ok", keeping the first part of the reason', () => {
    expect(verdictOf(verify(), checkOf({ status: 'verified' }))).toEqual({
      accountId: MEMBER_ID,
      name: 'Payments',
      action: 'ok',
      reason: 'ready, baseline v2, verified',
    });
  });

  it('turns drift into "repair", naming each difference', () => {
    const drift = checkOf({
      status: 'drift',
      findings: [
        { what: 'a is missing', resource: 'a' },
        { what: 'b is DISABLED', resource: 'b', region: 'us-east-1' },
      ],
    });
    expect(verdictOf(verify(), drift)).toMatchObject({
      action: 'repair',
      reason: 'a is missing; b is DISABLED',
    });
  });

  it('keeps why an account is unverifiable or skipped', () => {
    expect(
      verdictOf(verify(), checkOf({ status: 'unverifiable', reason: 'access: denied' })),
    ).toMatchObject({ action: 'unverifiable', reason: 'access: denied' });
    expect(verdictOf(verify(), checkOf({ status: 'unverifiable' }))).toMatchObject({
      action: 'unverifiable',
      reason: 'unknown',
    });
    expect(
      verdictOf(verify(), checkOf({ status: 'skipped', reason: 'account is SUSPENDED' })),
    ).toMatchObject({ action: 'skip', reason: 'account is SUSPENDED' });
  });
});

describe('verifyInPlace', () => {
  const NOW = new Date('2025-03-13T03:05:00.000Z');
  const sweepResult = (): SweepResult => {
    const decisions: SweepDecision[] = [
      { accountId: MANAGEMENT_ID, action: 'skip', reason: 'management account' },
      verify(),
      { accountId: '200000000001', action: 'onboard', reason: 'no ledger entry' },
    ];
    return {
      accounts: 3,
      enqueued: 0,
      counts: {
        onboard: 1,
        repair: 0,
        recheck: 0,
        verify: 1,
        skip: 1,
        ok: 0,
        unverifiable: 0,
        offboard: 0,
      },
      decisions,
    };
  };

  it('checks each "verify" account now and counts the verdicts again', async () => {
    const w = await watchWorld();
    const result = await verifyInPlace(sweepResult(), { ...w.watch, dryRun: true }, NOW);
    expect(result.decisions.map((d) => [d.accountId, d.action])).toEqual([
      [MANAGEMENT_ID, 'skip'],
      [MEMBER_ID, 'ok'],
      ['200000000001', 'onboard'],
    ]);
    expect(result.counts).toEqual({
      onboard: 1,
      repair: 0,
      recheck: 0,
      verify: 0,
      skip: 1,
      ok: 1,
      unverifiable: 0,
      offboard: 0,
    });
    expect(result.accounts).toBe(3);
    expect(w.checks.saved).toEqual([]);
  });

  it('counts drift as repair and an unreadable account as unverifiable', async () => {
    const w = await watchWorld();
    w.member().rule('us-east-1', RULE).state = 'DISABLED';
    const drift = await verifyInPlace(sweepResult(), { ...w.watch, dryRun: true }, NOW);
    expect(drift.counts).toMatchObject({ repair: 1, ok: 0, verify: 0 });
    expect(drift.decisions[1]).toMatchObject({
      action: 'repair',
      reason: `forwarding rule ${RULE} is DISABLED in us-east-1`,
    });

    w.access.assumable.delete(READ_ONLY_ROLE);
    const denied = await verifyInPlace(sweepResult(), { ...w.watch, dryRun: true }, NOW);
    expect(denied.counts).toMatchObject({ unverifiable: 1, repair: 0, verify: 0 });
    expect(denied.decisions[1]!.reason).toContain(READ_ONLY_ROLE);
    expect(w.repairs.batches).toEqual([]);
    expect(w.sent.email.sent).toEqual([]);
  });

  it('checks the day it is given', async () => {
    const w = await watchWorld();
    const seen: string[] = [];
    await verifyInPlace(
      sweepResult(),
      {
        ...w.watch,
        dryRun: true,
        extraChecks: async (ctx) => {
          seen.push(ctx.day);
          return {};
        },
      },
      new Date('2025-03-14T23:00:00.000Z'),
    );
    expect(seen).toEqual(['2025-03-14']);
  });
});

describe('inParallel', () => {
  /** A promise the test resolves by hand. */
  function deferred<T>() {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
  }

  it('returns the results in the order of the items, whatever order they finish in', async () => {
    const gates = [deferred<void>(), deferred<void>(), deferred<void>()];
    const result = inParallel([0, 1, 2], 3, async (i) => {
      await gates[i]!.promise;
      return `item ${i}`;
    });
    gates[2]!.resolve();
    gates[0]!.resolve();
    gates[1]!.resolve();
    expect(await result).toEqual(['item 0', 'item 1', 'item 2']);
  });

  it('runs at most `limit` at a time, and every item once', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const items = Array.from({ length: 10 }, (_, i) => i);
    const result = await inParallel(items, 3, async (i) => {
      started.push(i);
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((r) => setImmediate(r));
      running -= 1;
      return i * 2;
    });
    expect(most).toBe(3);
    expect(started.sort((a, b) => a - b)).toEqual(items);
    expect(result).toEqual(items.map((i) => i * 2));
  });

  it('works with fewer items than the limit, and with none', async () => {
    expect(await inParallel([1], 4, async (i) => i + 1)).toEqual([2]);
    expect(await inParallel([], 4, async (i: number) => i)).toEqual([]);
  });

  it('lets the first failure through', async () => {
    await expect(
      inParallel([1, 2], 2, async (i) => {
        if (i === 2) throw new Error('account 2 could not be read');
        return i;
      }),
    ).rejects.toThrow('account 2 could not be read');
  });
});

describe('coverageText', () => {
  const row = (over: Partial<CoverageRow> = {}): CoverageRow => ({
    accountId: MEMBER_ID,
    region: 'us-east-1',
    resourceArn: `arn:aws:dynamodb:us-east-1:${MEMBER_ID}:table/orders`,
    resourceType: 'DynamoDB',
    policy: 'org-daily-35-days',
    rule: 'daily',
    lastBackupTime: '2025-03-13T05:10:00.000Z',
    status: 'protected',
    reason: 'on time',
    ...over,
  });

  it('prints a header and one aligned line per resource', () => {
    const text = coverageText({
      rows: [
        row(),
        row({
          region: 'eu-west-1',
          status: 'never',
          lastBackupTime: null,
          reason: 'never backed up',
        }),
      ],
      unverifiable: [],
    });
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]!.split(/\s{2,}/)).toEqual([
      'account',
      'region',
      'status',
      'type',
      'last backup',
      'resource',
      'plan / rule',
      'reason',
    ]);
    expect(lines[2]!.split(/\s{2,}/)).toEqual([
      MEMBER_ID,
      'eu-west-1',
      'never',
      'DynamoDB',
      'never',
      `arn:aws:dynamodb:us-east-1:${MEMBER_ID}:table/orders`,
      'org-daily-35-days / daily',
      'never backed up',
    ]);
    // Columns line up: each column starts at the same place on every line.
    const at = (line: string, word: string) => line.indexOf(word);
    expect(at(lines[1]!, 'us-east-1')).toBe(at(lines[0]!, 'region'));
    expect(at(lines[2]!, 'never')).toBe(at(lines[0]!, 'status'));
    expect(text.endsWith('\n')).toBe(true);
  });

  it('lists the accounts it could not read', () => {
    const text = coverageText({
      rows: [row()],
      unverifiable: [{ accountId: '333344445555', reason: 'access: denied' }],
    });
    expect(text).toContain('UNVERIFIABLE 333344445555: access: denied\n');
  });

  it('says so when no resource is tagged', () => {
    const text = coverageText({ rows: [], unverifiable: [] });
    expect(text.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^account\s+region/),
      '(no resource is tagged for a backup plan)',
    ]);
  });
});

describe('backupctl onboard', () => {
  it('calls an account id that is not 12 digits a usage mistake, exit 2', async () => {
    const { code, stdout, stderr } = await run(['onboard', '12345', '--dry-run']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('backupctl: usage: "12345" is not a 12-digit account id\n');
  });
});

describe('backupctl coverage', () => {
  it.each<[string, string[], string]>([
    [
      'an account id that is not 12 digits',
      ['--account', '12345'],
      '--account "12345" is not a 12-digit account id',
    ],
    [
      'a region that is not a region',
      ['--region', 'nowhere'],
      '--region "nowhere" is not a region name',
    ],
    ['an unknown format', ['--format', 'xml'], '--format must be "json" or "text"'],
    ['an argument', ['222233334444'], 'unexpected argument "222233334444"'],
    ['an unknown option', ['--acount', '222233334444'], "Unknown option '--acount'"],
  ])('exits 2 for %s, naming the setting', async (_, args, message) => {
    const { code, stdout, stderr } = await run(['coverage', ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('backupctl: usage: ');
    expect(stderr).toContain(message);
    expect(runCoverageMock).not.toHaveBeenCalled();
  });

  it('prints its help and exits 0', async () => {
    const { code, stdout } = await run(['coverage', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: backupctl coverage/);
    expect(runCoverageMock).not.toHaveBeenCalled();
  });

  const report = (over: Partial<CoverageReport> = {}): CoverageReport => ({
    rows: [
      {
        accountId: MEMBER_ID,
        region: 'us-east-1',
        resourceArn: `arn:aws:dynamodb:us-east-1:${MEMBER_ID}:table/orders`,
        resourceType: 'DynamoDB',
        policy: 'org-daily-35-days',
        rule: 'daily',
        lastBackupTime: null,
        status: 'never',
        reason: 'never backed up',
      },
    ],
    unverifiable: [],
    ...over,
  });

  it('passes the account and region on and prints JSON by default, exit 0', async () => {
    runCoverageMock.mockResolvedValue(report());
    const { code, stdout } = await run([
      'coverage',
      '--account',
      MEMBER_ID,
      '--region',
      'eu-west-1',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(report());
    expect(runCoverageMock).toHaveBeenCalledWith(
      expect.objectContaining({ onboarding: expect.any(Object) }),
      {
        account: MEMBER_ID,
        region: 'eu-west-1',
      },
    );
  });

  it('prints the table with --format text', async () => {
    runCoverageMock.mockResolvedValue(report());
    const { code, stdout } = await run(['coverage', '--format', 'text']);
    expect(code).toBe(0);
    expect(stdout).toBe(coverageText(report()));
  });

  it('exits 1 when an account could not be read', async () => {
    runCoverageMock.mockResolvedValue(
      report({ unverifiable: [{ accountId: '333344445555', reason: 'access: denied' }] }),
    );
    const { code, stdout } = await run(['coverage']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).unverifiable).toEqual([
      { accountId: '333344445555', reason: 'access: denied' },
    ]);
  });
});

describe('backupctl reconcile', () => {
  const result = (unverifiable: number): SweepResult => ({
    accounts: 2,
    enqueued: 0,
    counts: {
      onboard: 0,
      repair: 0,
      recheck: 0,
      verify: 0,
      skip: 1,
      ok: 1 - unverifiable,
      unverifiable,
      offboard: 0,
    },
    decisions: [],
  });

  it('exits 1 when an account is unverifiable, 0 otherwise', async () => {
    runReconcileMock.mockResolvedValue(result(1));
    const bad = await run(['reconcile', '--dry-run']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).counts.unverifiable).toBe(1);
    expect(runReconcileMock).toHaveBeenCalledWith(expect.any(Object), { dryRun: true });

    runReconcileMock.mockResolvedValue(result(0));
    expect((await run(['reconcile', '--dry-run'])).code).toBe(0);
  });

  it('exits 2 for an argument', async () => {
    const { code, stderr } = await run(['reconcile', 'now']);
    expect(code).toBe(2);
    expect(stderr).toContain('unexpected argument "now"');
    expect(runReconcileMock).not.toHaveBeenCalled();
  });
});
