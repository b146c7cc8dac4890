import { UsageError } from '../../tools/backupctl/usage-error';
import { main, type Io } from '../../tools/backupctl/backupctl';
import { parseSince, runDigest } from '../../tools/backupctl/watch-commands';
import { buildDigest, digestNotice, type Digest } from '../../functions/send-digest/digest';
import { ConfigError } from '../../functions/shared/errors';
import type { CheckRecord } from '../../functions/shared/ports';
import { exampleConfig, exampleConfigWithChannels } from '../helpers/fixtures';

/** `backupctl digest`: options, output formats and exit status, with the AWS part replaced. */

// runDigest reads Organizations, DynamoDB and AWS Backup: replaced; the rest is the real code.
jest.mock('../../tools/backupctl/watch-commands', () => ({
  ...jest.requireActual('../../tools/backupctl/watch-commands'),
  runDigest: jest.fn(),
}));
const runDigestMock = jest.mocked(runDigest);
const actual = jest.requireActual<typeof import('../../tools/backupctl/watch-commands')>(
  '../../tools/backupctl/watch-commands',
);

const A = '200000000001';
const B = '200000000002';
const HOUR = 3600 * 1000;

beforeEach(() => runDigestMock.mockReset());

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

const check = (accountId: string, over: Partial<CheckRecord> = {}): CheckRecord => ({
  accountId,
  day: '2025-03-13',
  checkedAt: '2025-03-13T03:05:00.000Z',
  status: 'verified',
  findings: [],
  ...over,
});

/** A real digest of two ready accounts; `checks` decides how each was checked. */
function digestWith(checks: CheckRecord[], failed = 0): Digest {
  return buildDigest({
    period: {
      start: new Date('2025-03-12T00:00:00.000Z'),
      end: new Date('2025-03-13T00:00:00.000Z'),
    },
    now: new Date('2025-03-13T08:00:00.000Z'),
    accounts: [
      { id: A, name: 'Payments', status: 'ACTIVE' },
      { id: B, name: 'Analytics', status: 'ACTIVE' },
    ],
    onboarding: new Map(
      [A, B].map((id) => [
        id,
        {
          accountId: id,
          status: 'ready' as const,
          steps: {},
          attempts: 1,
          updatedAt: '2025-03-01T00:00:00.000Z',
          attachedPolicies: [],
        },
      ]),
    ),
    checks: new Map(checks.map((c) => [c.accountId, c])),
    summaries: failed
      ? [
          {
            region: 'us-east-1',
            accountId: A,
            state: 'FAILED',
            messageCategory: 'AccessDenied',
            count: failed,
            start: new Date('2025-03-12T00:00:00.000Z'),
            end: new Date('2025-03-12T23:59:59.999Z'),
          },
        ]
      : [],
  });
}

function returns(digest: Digest): void {
  runDigestMock.mockResolvedValue({ digest, notice: digestNotice(digest, { kind: 'digest' }) });
}

describe('parseSince', () => {
  it.each([
    ['24h', 24 * HOUR],
    ['1h', HOUR],
    ['2d', 48 * HOUR],
    [' 36 h ', 36 * HOUR],
    ['9999h', 9999 * HOUR],
  ])('reads %j', (text, ms) => {
    expect(parseSince(text)).toBe(ms);
  });

  it.each(['0h', '0d', '24', 'h', '1w', '-1h', '1.5h', '10000h', '24hours', ''])(
    'refuses %j, naming --since',
    (text) => {
      // A usage mistake (exit 2, "usage:"), not a configuration one.
      expect(() => parseSince(text)).toThrow(UsageError);
      expect(() => parseSince(text)).toThrow(/^--since ".*" must be a number of hours or days/);
    },
  );
});

describe('runDigest', () => {
  it('needs the ledger table before it reads anything', async () => {
    await expect(actual.runDigest(exampleConfig(), {}, {})).rejects.toThrow(
      /set DELIVERY_TABLE_NAME \(stack output LedgerTableName\)/,
    );
  });
});

describe('backupctl digest', () => {
  it('prints the digest as JSON by default, for the previous UTC day', async () => {
    const digest = digestWith([check(A), check(B)]);
    returns(digest);
    const { code, stdout, stderr } = await run(['digest']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(digest)));
    expect(runDigestMock).toHaveBeenCalledTimes(1);
    expect(runDigestMock.mock.calls[0]![1]).toEqual({});
    expect(runDigestMock.mock.calls[0]![0]).toEqual(exampleConfigWithChannels());
  });

  it('passes --since on as milliseconds', async () => {
    returns(digestWith([check(A), check(B)]));
    expect((await run(['digest', '--since', '2d'])).code).toBe(0);
    expect(runDigestMock.mock.calls[0]![1]).toEqual({ sinceMs: 48 * HOUR });
  });

  it('prints the email as it would be sent with --format html or text', async () => {
    returns(digestWith([check(A), check(B)], 2));
    const html = await run(['digest', '--format', 'html']);
    expect(html.code).toBe(0);
    expect(html.stdout).toMatch(/^<!DOCTYPE html>/);
    expect(html.stdout).toContain('Backups in the organization: 2 backup jobs failed');
    expect(html.stdout).toContain(`Payments (${A})`);

    const text = await run(['digest', '--format', 'text']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^DIGEST: Backups in the organization: 2 backup jobs failed\n/);
    expect(text.stdout).toContain('Per account:');
    expect(text.stdout).not.toContain('<td');
  });

  it.each<[string, CheckRecord[], number]>([
    ['every account verified', [check(A), check(B)], 0],
    [
      'drift repaired',
      [check(A), check(B, { status: 'drift', findings: [{ what: 'x', resource: 'x' }] })],
      0,
    ],
    [
      'an account unverifiable',
      [check(A), check(B, { status: 'unverifiable', reason: 'denied' })],
      1,
    ],
    ['an account not checked', [check(A)], 1],
  ])('exit status with %s', async (_what, checks, code) => {
    returns(digestWith(checks));
    expect((await run(['digest'])).code).toBe(code);
  });

  it('exits 0 when jobs failed but every account was verified (failures are alerted on their own)', async () => {
    returns(digestWith([check(A), check(B)], 3));
    expect((await run(['digest', '--format', 'text'])).code).toBe(0);
  });

  it('exits 1 in every format when an account is unverifiable', async () => {
    returns(digestWith([check(A), check(B, { status: 'unverifiable' })]));
    for (const format of ['json', 'html', 'text']) {
      expect((await run(['digest', '--format', format])).code).toBe(1);
    }
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown option', ['digest', '--bogus'], /^backupctl: usage: .*--bogus/],
    [
      'a positional argument',
      ['digest', 'today'],
      /^backupctl: usage: unexpected argument "today"/,
    ],
    [
      'a bad format',
      ['digest', '--format', 'xml'],
      /^backupctl: usage: --format must be "json", "html" or "text"/,
    ],
    ['--since without a value', ['digest', '--since'], /^backupctl: usage: .*--since/],
    [
      'a bad --since',
      ['digest', '--since', '1w'],
      /^backupctl: usage: --since "1w" must be a number of hours or days/,
    ],
    ['a zero --since', ['digest', '--since', '0h'], /--since "0h"/],
    [
      'a missing configuration file',
      ['digest', '--config', '/nonexistent/stage.yml'],
      /^backupctl: config: cannot read configuration file \/nonexistent\/stage\.yml/,
    ],
  ])('exits 2 for %s, on one line, without reading anything', async (_what, args, message) => {
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(runDigestMock).not.toHaveBeenCalled();
  });

  it('exits 2 with the reason when the digest cannot be built', async () => {
    runDigestMock.mockRejectedValue(
      new ConfigError('set DELIVERY_TABLE_NAME (stack output LedgerTableName): ...'),
    );
    const { code, stderr } = await run(['digest']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^backupctl: config: set DELIVERY_TABLE_NAME/);
  });

  it('shows its help with --help, exit 0, reading nothing', async () => {
    const { code, stdout } = await run(['digest', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Usage: backupctl digest \[--since 24h\] \[--format json\|html\|text\]/,
    );
    expect(stdout).toContain(
      'Exit status: 0 done; 1 an account is unverifiable or was not checked',
    );
    expect(runDigestMock).not.toHaveBeenCalled();
  });

  it('is listed in the main help', async () => {
    const { stdout } = await run(['--help']);
    expect(stdout).toMatch(/^ {2}digest {2,}the daily digest/m);
  });
});
