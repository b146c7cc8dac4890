import { StepFailure } from '../../functions/onboard-account/onboard';
import {
  decideRecord,
  processOnboardingRecord,
} from '../../functions/onboard-account/process-record';
import type { ChangeRecord, CheckRecord } from '../../functions/shared/ports';
import {
  checkAccount,
  isAccessDenied,
  type CheckContext,
  type WatchDeps,
} from '../../functions/watch-account/check';
import {
  awsError,
  MEMBER_ID,
  POLICY_IDS,
  READ_ONLY_ROLE,
  watchWorld,
  type WatchWorld,
} from '../helpers/onboarding-fakes';

/** The daily check of one ready account (functions/watch-account/check.ts), on the fakes. */

const NOW = '2025-03-13T03:05:00.000Z';
const DAY = '2025-03-13';
const RULE = 'backup-control-plane-forward-backup-events';
const VAULT = 'org-backup-vault';
const SERVICE = 'backup-control-plane-backup-service';
const FOR_RESTORES = 'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores';
const STATUS_TAG = 'backup-control-plane:status';
const MALLORY: ChangeRecord = {
  identity: `arn:aws:iam::${MEMBER_ID}:user/mallory`,
  action: 'DisableRule',
  time: '2025-03-12T22:10:00Z',
};

const check = (w: WatchWorld, deps: Partial<WatchDeps> = {}) =>
  checkAccount({ accountId: MEMBER_ID, day: DAY }, { ...w.watch, ...deps });

/** CloudTrail lookups the check made, as "region:resource". */
const trailReads = (w: WatchWorld) =>
  w
    .member()
    .reads.filter((r) => r.startsWith('trail:'))
    .map((r) => r.slice('trail:'.length));

/** What the member account saw changed: a daily check changes nothing. */
const memberWrites = (w: WatchWorld) => w.member().writes;

describe('checkAccount: an account as onboarding left it', () => {
  it('is verified, saved once, with no repair and no message', async () => {
    const w = await watchWorld();
    const record = await check(w);

    expect(record).toEqual({
      accountId: MEMBER_ID,
      day: DAY,
      checkedAt: NOW,
      status: 'verified',
      profile: 'default',
      findings: [],
    });
    expect(w.checks.saved).toEqual([record]);
    expect(w.repairs.batches).toEqual([]);
    expect(w.sent.email.sent).toEqual([]);
    expect(w.sent.sns.published).toEqual([]);
    expect(trailReads(w)).toEqual([]);
    expect(memberWrites(w)).toEqual([]);
    expect(w.org.writes).toEqual([]);
  });

  it('reads the account through the baseline read-only role only', async () => {
    const w = await watchWorld();
    await check(w);
    // One AssumeRole per check: the dry run and the checks after it share the credentials.
    expect(w.access.calls.map((c) => c.role)).toEqual([READ_ONLY_ROLE]);
  });

  it('runs the extra checks with what it found and keeps their result in the record', async () => {
    const w = await watchWorld();
    const seen: CheckContext[] = [];
    const coverage = {
      resources: 1,
      protected: 1,
      late: 0,
      never: 0,
      notOptedIn: 0,
      missed: [],
      notes: [],
    };
    const record = await check(w, {
      extraChecks: async (ctx) => {
        seen.push(ctx);
        return { coverage, lostEvents: { jobsChecked: 3, recovered: 0 } };
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      accountId: MEMBER_ID,
      day: DAY,
      profileName: 'default',
      findings: [],
    });
    expect(seen[0]!.member.accountId).toBe(MEMBER_ID);
    expect(record).toMatchObject({
      status: 'verified',
      coverage,
      lostEvents: { jobsChecked: 3, recovered: 0 },
    });
    expect(w.checks.saved).toEqual([record]);
  });
});

describe('checkAccount: drift', () => {
  /** One kind of drift made behind onboarding's back, and what the check must call it. */
  const kinds: [
    string,
    (w: WatchWorld) => void,
    { what: string; resource: string; region?: string },
  ][] = [
    [
      'a disabled forwarding rule',
      (w) => {
        w.member().rule('us-east-1', RULE).state = 'DISABLED';
      },
      {
        what: `forwarding rule ${RULE} is DISABLED in us-east-1`,
        resource: RULE,
        region: 'us-east-1',
      },
    ],
    [
      'a deleted vault',
      (w) => {
        w.member().vaults.delete(`us-east-1|${VAULT}`);
      },
      {
        what: `backup vault ${VAULT} is missing in us-east-1`,
        resource: VAULT,
        region: 'us-east-1',
      },
    ],
    [
      'a detached service-role policy',
      (w) => {
        w.member().role(SERVICE).attached = [FOR_RESTORES];
      },
      {
        what: `policy AWSBackupServiceRolePolicyForBackup is not attached to role ${SERVICE}`,
        resource: SERVICE,
      },
    ],
    [
      'a changed trust policy',
      (w) => {
        w.member().role(SERVICE).trustPolicy = {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::999999999999:root' },
              Action: 'sts:AssumeRole',
            },
          ],
        };
      },
      {
        what: `the trust policy of role ${SERVICE} differs from the baseline`,
        resource: SERVICE,
      },
    ],
  ];

  it.each(kinds)('names %s, with who changed it, and queues one repair', async (_, drift, want) => {
    const w = await watchWorld();
    drift(w);
    // CloudTrail is asked in the finding's region; IAM's events are in us-east-1.
    w.member().changes.set(`us-east-1|${want.resource}`, { ...MALLORY });

    const record = await check(w);

    const finding = { ...want, who: MALLORY };
    expect(record).toEqual({
      accountId: MEMBER_ID,
      day: DAY,
      checkedAt: NOW,
      status: 'drift',
      profile: 'default',
      findings: [finding],
    });
    expect(trailReads(w)).toEqual([`us-east-1:${want.resource}`]);
    expect(w.repairs.batches).toEqual([
      [
        {
          kind: 'onboard-request',
          accountId: MEMBER_ID,
          trigger: 'Drift',
          requestedAt: NOW,
          drift: [finding],
        },
      ],
    ]);
    expect(w.checks.saved).toEqual([record]);
    // Drift is told once repaired (by onboarding), not by the check.
    expect(w.sent.email.sent).toEqual([]);
    expect(w.sent.sns.published).toEqual([]);
    expect(memberWrites(w)).toEqual([]);
  });

  it('says "not found in CloudTrail" plainly: no who when CloudTrail has nothing', async () => {
    const w = await watchWorld();
    w.member().rule('us-east-1', RULE).state = 'DISABLED';
    const record = await check(w);
    expect(record.findings).toEqual([
      {
        what: `forwarding rule ${RULE} is DISABLED in us-east-1`,
        resource: RULE,
        region: 'us-east-1',
      },
    ]);
  });

  it('lists several differences in one repair message', async () => {
    const w = await watchWorld();
    w.member().rule('us-east-1', RULE).state = 'DISABLED';
    w.member().vaults.delete(`us-east-1|${VAULT}`);
    const record = await check(w);
    expect(record.findings.map((f) => f.what)).toEqual([
      `backup vault ${VAULT} is missing in us-east-1`,
      `forwarding rule ${RULE} is DISABLED in us-east-1`,
    ]);
    expect(w.repairs.batches).toHaveLength(1);
    expect(w.repairs.batches[0]).toHaveLength(1);
    expect((w.repairs.batches[0]![0] as { drift: unknown[] }).drift).toEqual(record.findings);
  });

  it('asks CloudTrail nothing about Organizations resources (logged in the management account)', async () => {
    const w = await watchWorld();
    w.org.attachments.get(MEMBER_ID)!.delete(POLICY_IDS['daily-35-days']!);
    w.org.tags.set(MEMBER_ID, {});
    // Even if the member's trail had something under those names, it is not asked.
    w.member().changes.set('us-east-1|daily-35-days', { ...MALLORY });
    w.member().changes.set(`us-east-1|${MEMBER_ID}`, { ...MALLORY });

    const record = await check(w);

    expect(record.status).toBe('drift');
    expect(record.findings).toEqual([
      {
        what: 'backup policy daily-35-days is not attached to the account',
        resource: 'daily-35-days',
      },
      {
        what: expect.stringContaining(`account tags ${STATUS_TAG}=(none)`),
        resource: MEMBER_ID,
      },
    ]);
    expect(trailReads(w)).toEqual([]);
    expect(w.repairs.batches).toHaveLength(1);
  });

  it('still reports the drift, without who, when CloudTrail cannot be read', async () => {
    const w = await watchWorld();
    const m = w.member();
    m.rule('us-east-1', RULE).state = 'DISABLED';
    jest.spyOn(m, 'trail').mockReturnValue({
      lastChange: async () => {
        throw awsError(
          'AccessDeniedException',
          'User is not authorized to perform: cloudtrail:LookupEvents',
        );
      },
    });

    const record = await check(w);

    expect(record.status).toBe('drift');
    expect(record.findings).toEqual([
      {
        what: `forwarding rule ${RULE} is DISABLED in us-east-1`,
        resource: RULE,
        region: 'us-east-1',
      },
    ]);
    expect(w.repairs.batches).toHaveLength(1);
    expect(w.checks.saved).toEqual([record]);
    expect(w.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'CloudTrail lookup failed; reporting the drift without who',
      }),
    );
  });

  it('queues a repair the onboarding queue accepts, and onboarding then repairs and tells who', async () => {
    const w = await watchWorld();
    w.member().rule('us-east-1', RULE).state = 'DISABLED';
    w.member().changes.set(`us-east-1|${RULE}`, { ...MALLORY });
    await check(w);
    const message = w.repairs.batches[0]![0]!;
    expect(decideRecord(message)).toMatchObject({ flow: 'onboard', trigger: 'Drift' });

    const outcome = await processOnboardingRecord(message, undefined, w.deps);

    expect(outcome).toMatchObject({ flow: 'onboard', result: { outcome: 'ready' } });
    expect(w.member().rule('us-east-1', RULE).state).toBe('ENABLED');
    expect(w.notifier.driftNotices).toHaveLength(1);
    expect(w.notifier.driftNotices[0]).toMatchObject({
      drift: [{ what: `forwarding rule ${RULE} is DISABLED in us-east-1`, who: MALLORY }],
      detectedAt: NOW,
    });
    // The same repair asked again (the tamper alert and the daily check both ask): nothing to
    // change, nothing told twice.
    await processOnboardingRecord(message, undefined, w.deps);
    expect(w.notifier.driftNotices).toHaveLength(1);
    // The next day's check finds nothing.
    w.clock.advance(24 * 3600_000);
    expect((await checkAccount({ accountId: MEMBER_ID, day: '2025-03-14' }, w.watch)).status).toBe(
      'verified',
    );
  });
});

describe('checkAccount: an account that cannot be read', () => {
  it('is unverifiable when the read-only role cannot be assumed: role named, saved, one notice, one repair', async () => {
    const w = await watchWorld();
    w.access.assumable.delete(READ_ONLY_ROLE);

    const record = await check(w);

    expect(record).toEqual({
      accountId: MEMBER_ID,
      day: DAY,
      checkedAt: NOW,
      status: 'unverifiable',
      reason: expect.stringContaining(`cannot assume ${READ_ONLY_ROLE} in account ${MEMBER_ID}`),
      findings: [],
    });
    expect(record.reason).toMatch(/^access: /);
    expect(record.reason).toContain('not authorized to perform: sts:AssumeRole');
    expect(w.checks.saved).toEqual([record]);

    // One notice, on each channel the rules give errors (admins' email, the chat topic).
    expect(w.sent.email.sent).toHaveLength(1);
    expect(w.sent.sns.published).toHaveLength(1);
    const mail = w.sent.email.sent[0]!;
    expect(mail.to).toEqual(['platform-team@example.com']);
    expect(mail.subject).toContain('[UNVERIFIABLE]');
    expect(mail.subject).toContain(MEMBER_ID);
    expect(mail.text).toContain(READ_ONLY_ROLE);
    expect(w.sent.sns.published[0]!.attributes).toMatchObject({
      severity: 'error',
      state: 'UNVERIFIABLE',
      accountId: MEMBER_ID,
    });

    expect(w.repairs.batches).toEqual([
      [
        {
          kind: 'onboard-request',
          accountId: MEMBER_ID,
          trigger: 'Drift',
          requestedAt: NOW,
          drift: [
            {
              what: `the control plane cannot read the account through ${READ_ONLY_ROLE}: ${record.reason}`,
              resource: READ_ONLY_ROLE,
            },
          ],
        },
      ],
    ]);
    expect(decideRecord(w.repairs.batches[0]![0])).toMatchObject({ flow: 'onboard' });
  });

  it('tells the same unverifiable account once, not every day', async () => {
    const w = await watchWorld();
    w.access.assumable.delete(READ_ONLY_ROLE);
    await check(w);
    w.clock.advance(24 * 3600_000);
    await checkAccount({ accountId: MEMBER_ID, day: '2025-03-14' }, w.watch);
    expect(w.checks.saved.map((r) => r.status)).toEqual(['unverifiable', 'unverifiable']);
    expect(w.sent.email.sent).toHaveLength(1);
    expect(w.sent.sns.published).toHaveLength(1);
  });

  it('is unverifiable when a read is denied in a later step', async () => {
    const w = await watchWorld();
    jest
      .spyOn(w.member().iam, 'getRole')
      .mockRejectedValue(
        awsError(
          'AccessDenied',
          `User: arn:aws:sts::${MEMBER_ID}:assumed-role/${READ_ONLY_ROLE}/daily-check is not authorized to perform: iam:GetRole`,
        ),
      );

    const record = await check(w);

    expect(record.status).toBe('unverifiable');
    expect(record.reason).toMatch(/^baseline-iam: .*not authorized to perform: iam:GetRole/);
    expect(w.checks.saved).toEqual([record]);
    expect(w.sent.email.sent).toHaveLength(1);
    expect(w.repairs.batches).toHaveLength(1);
  });

  it('is unverifiable when the extra checks are denied', async () => {
    const w = await watchWorld();
    const record = await check(w, {
      extraChecks: async () => {
        throw awsError('AccessDeniedException', 'not authorized to perform: backup:ListBackupJobs');
      },
    });
    expect(record).toMatchObject({
      status: 'unverifiable',
      reason: 'coverage and job history: not authorized to perform: backup:ListBackupJobs',
    });
    expect(w.checks.saved).toEqual([record]);
    expect(w.repairs.batches).toHaveLength(1);
  });

  it('lets a throttling error through to be retried, saving, queuing and sending nothing', async () => {
    const w = await watchWorld();
    jest
      .spyOn(w.member().iam, 'getRole')
      .mockRejectedValue(awsError('ThrottlingException', 'Rate exceeded'));

    const result = check(w);

    await expect(result).rejects.toThrow(StepFailure);
    await expect(result).rejects.toThrow('Rate exceeded');
    expect(w.checks.saved).toEqual([]);
    expect(w.repairs.batches).toEqual([]);
    expect(w.sent.email.sent).toEqual([]);
    expect(w.sent.sns.published).toEqual([]);
  });

  // isAccessDenied: "Errors that mean 'not allowed', not 'try again': the check reports them, it
  // does not retry." A throttled AssumeRole is "try again", yet every failure of the access step
  // is read as unverifiable.
  it('lets a throttled AssumeRole through to be retried, rather than report the account unverifiable', async () => {
    const w = await watchWorld();
    jest.spyOn(w.access, 'assume').mockRejectedValue(awsError('Throttling', 'Rate exceeded'));

    await expect(check(w)).rejects.toThrow('Rate exceeded');
    expect(w.checks.saved).toEqual([]);
    expect(w.repairs.batches).toEqual([]);
    expect(w.sent.email.sent).toEqual([]);
  });

  it('lets a failure of the extra checks that is not a denial through, saving nothing', async () => {
    const w = await watchWorld();
    await expect(
      check(w, {
        extraChecks: async () => {
          throw awsError('ServiceUnavailableException', 'Service unavailable');
        },
      }),
    ).rejects.toThrow('Service unavailable');
    expect(w.checks.saved).toEqual([]);
    expect(w.repairs.batches).toEqual([]);
  });

  it('queues the repair of drift even when a coverage or lost-event send fails (retried)', async () => {
    const w = await watchWorld();
    w.member().rule('us-east-1', RULE).state = 'DISABLED';
    await expect(
      check(w, {
        extraChecks: async () => {
          throw new Error('SES: Daily message quota exceeded');
        },
      }),
    ).rejects.toThrow('Daily message quota exceeded');
    expect(w.repairs.batches).toHaveLength(1);
    expect(w.checks.saved).toEqual([]);
  });
});

describe('checkAccount: dry run (backupctl)', () => {
  it('reports drift and writes, queues and sends nothing', async () => {
    const w = await watchWorld();
    w.member().rule('us-east-1', RULE).state = 'DISABLED';
    const record = await check(w, { dryRun: true });
    expect(record.status).toBe('drift');
    expect(record.findings).toHaveLength(1);
    expect(w.checks.saved).toEqual([]);
    expect(w.repairs.batches).toEqual([]);
    expect(w.sent.email.sent).toEqual([]);
    expect(w.sent.sns.published).toEqual([]);
    expect(memberWrites(w)).toEqual([]);
    expect(w.org.writes).toEqual([]);
  });

  it('reports an unverifiable account and writes, queues and sends nothing', async () => {
    const w = await watchWorld();
    w.access.assumable.delete(READ_ONLY_ROLE);
    const record = await check(w, { dryRun: true });
    expect(record.status).toBe('unverifiable');
    expect(w.checks.saved).toEqual([]);
    expect(w.repairs.batches).toEqual([]);
    expect(w.sent.email.sent).toEqual([]);
    expect(w.sent.sns.published).toEqual([]);
  });

  it('falls back to the next role given, and is unverifiable only when none works', async () => {
    const w = await watchWorld();
    w.access.assumable.delete(READ_ONLY_ROLE);
    const roles = [READ_ONLY_ROLE, 'OrganizationAccountAccessRole'];
    expect((await check(w, { dryRun: true, roles })).status).toBe('verified');
    w.access.assumable.clear();
    expect((await check(w, { dryRun: true, roles })).status).toBe('unverifiable');
  });
});

describe('checkAccount: accounts that are not checked', () => {
  it.each<[string, (w: WatchWorld) => void, string]>([
    [
      'a suspended account',
      (w) => {
        w.org.accounts.get(MEMBER_ID)!.status = 'SUSPENDED';
      },
      'account is SUSPENDED',
    ],
    [
      'an account that opted out',
      (w) => {
        w.org.tags.set(MEMBER_ID, { 'backup-control-plane:opt-out': 'true' });
      },
      'opted out with tag backup-control-plane:opt-out=true',
    ],
    [
      'an account that left the organization after the sweep',
      (w) => {
        w.org.accounts.delete(MEMBER_ID);
      },
      'the account is no longer in the organization',
    ],
  ])('records %s as skipped, without reading it', async (_, make, reason) => {
    const w = await watchWorld();
    make(w);
    const record = await check(w);
    const want: CheckRecord = {
      accountId: MEMBER_ID,
      day: DAY,
      checkedAt: NOW,
      status: 'skipped',
      reason,
      findings: [],
    };
    expect(record).toEqual(want);
    expect(w.checks.saved).toEqual([want]);
    expect(w.access.calls).toEqual([]);
    expect(w.repairs.batches).toEqual([]);
    expect(w.sent.email.sent).toEqual([]);
  });
});

describe('isAccessDenied', () => {
  it.each([
    ['AccessDenied', 'x'],
    ['AccessDeniedException', 'x'],
    ['UnauthorizedOperation', 'x'],
    ['Error', 'User: a is not authorized to perform: b'],
    ['InvalidClientTokenId', 'The security token included in the request is invalid'],
    ['ExpiredToken', 'The security token included in the request is expired'],
  ])('is true for %s: %s', (name, message) => {
    expect(isAccessDenied(awsError(name, message))).toBe(true);
  });

  it.each([
    ['ThrottlingException', 'Rate exceeded'],
    ['ServiceUnavailable', 'try again'],
  ])('is false for %s: %s', (name, message) => {
    expect(isAccessDenied(awsError(name, message))).toBe(false);
  });

  it('is false for what is not an error', () => {
    expect(isAccessDenied('a string')).toBe(false);
    expect(isAccessDenied(undefined)).toBe(false);
  });
});
