import {
  departedNotice,
  PipelineNotifier,
  readyNotice,
} from '../../functions/onboard-account/notices';
import { AccountBusyError } from '../../functions/onboard-account/onboard';
import {
  decideRecord,
  processOnboardingRecord,
} from '../../functions/onboard-account/process-record';
import { MalformedEventError } from '../../functions/shared/errors';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import { renderEmail } from '../../functions/shared/notices/render-email';
import type { AccountRecord } from '../../functions/shared/ports';
import {
  FakeClock,
  FakeDirectory,
  FakeEmailSender,
  FakeTopicPublisher,
  InMemoryLedger,
} from '../helpers/fakes';
import { sample } from '../helpers/fixtures';
import { MEMBER_ID, onboardingWorld } from '../helpers/onboarding-fakes';

/**
 * Departures: an account that left, was removed or is being closed is recorded in the ledger and
 * admins hear it once, whichever event (service event, API call, the sweep) says it first.
 */

/** A sample from events/, about MEMBER_ID instead of the account it names. */
function about(name: string, accountId: string): unknown {
  return JSON.parse(JSON.stringify(sample(name)).split(accountId).join(MEMBER_ID)) as unknown;
}

const LEFT = () => about('organizations/account-departed-organization.left', '210987654321');
const REMOVED_CALL = () => about('organizations/remove-account-from-organization', '320198765432');
const CLOSED = () => about('organizations/close-account', '542310987654');
const CLEANED = () => about('organizations/account-departed-organization.cleaned', '431209876543');

const ready = (): AccountRecord => ({
  accountId: MEMBER_ID,
  status: 'ready',
  profile: 'default',
  baselineVersion: 3,
  steps: {},
  attempts: 1,
  updatedAt: '2026-06-01T00:00:00.000Z',
  attachedPolicies: ['p-daily'],
  notified: { status: 'ready', baselineVersion: 3 },
});

describe('processOnboardingRecord: departures', () => {
  it('records the departure and tells admins once, however many events say it', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, ready());
    w.org.accounts.delete(MEMBER_ID);
    const out = await processOnboardingRecord(LEFT(), undefined, w.deps);
    expect(out).toMatchObject({ flow: 'offboard', result: { outcome: 'recorded' } });
    const record = w.ledger.records.get(MEMBER_ID)!;
    expect(record).toMatchObject({
      status: 'departed',
      attachedPolicies: [],
      notified: { status: 'departed' },
      departure: { trigger: 'AccountDepartedOrganization', method: 'Left' },
    });
    expect(w.notifier.departedNotices).toEqual([
      expect.objectContaining({
        accountId: MEMBER_ID,
        departure: 'departed',
        method: 'Left',
        governed: true,
        profile: 'default',
      }),
    ]);
    // The API call behind it, and the same event redelivered: nothing new.
    for (const again of [REMOVED_CALL(), LEFT()]) {
      expect(await processOnboardingRecord(again, undefined, w.deps)).toMatchObject({
        result: { outcome: 'unchanged' },
      });
    }
    // A late CloseAccount about an account already gone changes nothing either.
    expect(await processOnboardingRecord(CLOSED(), undefined, w.deps)).toMatchObject({
      result: { outcome: 'unchanged' },
    });
    expect(w.notifier.departedNotices).toHaveLength(1);
    expect(w.ledger.locks.size).toBe(0);
  });

  it('tells a closure, then the departure when the closed account is finally gone', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, ready());
    w.org.accounts.get(MEMBER_ID)!.status = 'PENDING_CLOSURE';
    await processOnboardingRecord(CLOSED(), undefined, w.deps);
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({
      status: 'closing',
      attachedPolicies: ['p-daily'],
    });
    // The closure's result, logged when it ends, says nothing new.
    expect(
      await processOnboardingRecord(
        about('organizations/close-account-result.succeeded', '542310987654'),
        undefined,
        w.deps,
      ),
    ).toMatchObject({ result: { outcome: 'unchanged' } });
    w.org.accounts.delete(MEMBER_ID);
    await processOnboardingRecord(CLEANED(), undefined, w.deps);
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({ status: 'departed' });
    expect(w.notifier.departedNotices.map((n) => [n.departure, n.method])).toEqual([
      ['closing', undefined],
      ['departed', 'Cleaned'],
    ]);
  });

  it('says when the account was never onboarded', async () => {
    const w = onboardingWorld();
    w.org.accounts.delete(MEMBER_ID);
    await processOnboardingRecord(LEFT(), undefined, w.deps);
    expect(w.notifier.departedNotices[0]).toMatchObject({ governed: false });
  });

  it('records nothing when the event is stale: the account is in the organization now (rejoined, or its closure failed)', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, ready());
    for (const event of [LEFT(), REMOVED_CALL(), CLOSED(), CLEANED()]) {
      expect(await processOnboardingRecord(event, undefined, w.deps)).toMatchObject({
        flow: 'offboard',
        result: { outcome: 'unchanged' },
      });
    }
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({ status: 'ready' });
    expect(w.notifier.departedNotices).toEqual([]);
    expect(w.log.entries).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(/in the organization now.*nothing recorded/),
      }),
    );
    expect(w.ledger.locks.size).toBe(0);
  });

  it('holds the account under a departure owner, which an onboarding trigger does not take for coverage', async () => {
    const w = onboardingWorld();
    w.org.accounts.delete(MEMBER_ID);
    await processOnboardingRecord(LEFT(), undefined, w.deps);
    expect(w.ledger.writes).toContainEqual([
      'acquire',
      MEMBER_ID,
      expect.stringMatching(/^offboard:/),
    ]);
    expect(w.ledger.locks.size).toBe(0);
  });

  it('waits for an onboarding that holds the account (retried)', async () => {
    const w = onboardingWorld();
    await w.ledger.acquire(MEMBER_ID, 'other-run', w.clock.now(), 900_000);
    await expect(processOnboardingRecord(LEFT(), undefined, w.deps)).rejects.toBeInstanceOf(
      AccountBusyError,
    );
    expect(w.notifier.departedNotices).toEqual([]);
  });

  it('tells on the retry when the notice could not be sent, and releases the lock', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, ready());
    w.org.accounts.delete(MEMBER_ID);
    w.notifier.failWith = new Error('SES throttled');
    await expect(processOnboardingRecord(LEFT(), undefined, w.deps)).rejects.toThrow(
      'SES throttled',
    );
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({ status: 'departed' });
    expect(w.ledger.records.get(MEMBER_ID)!.notified).toEqual({
      status: 'ready',
      baselineVersion: 3,
    });
    expect(w.ledger.locks.size).toBe(0);
    w.notifier.failWith = undefined;
    await processOnboardingRecord(LEFT(), undefined, w.deps);
    expect(w.notifier.departedNotices).toHaveLength(1);
    expect(w.ledger.records.get(MEMBER_ID)!.notified).toEqual({ status: 'departed' });
  });

  it('takes the sweep’s request once the account is really gone, and rejects a malformed one', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, ready());
    w.org.accounts.delete(MEMBER_ID);
    const request = {
      kind: 'offboard-request',
      accountId: MEMBER_ID,
      departure: 'departed',
      seen: 'no longer in the organization',
      requestedAt: '2026-06-12T05:00:00.000Z',
    };
    await processOnboardingRecord(request, undefined, w.deps);
    expect(w.notifier.departedNotices[0]).toMatchObject({
      trigger: 'Reconcile',
      method: 'no longer in the organization',
    });
    expect(() => decideRecord({ ...request, departure: 'vanished' })).toThrow(MalformedEventError);
    expect(() => decideRecord({ ...request, accountId: '12' })).toThrow(/field "accountId"/);
  });
});

describe('the sweep’s view, asked again', () => {
  const sweepSays = (departure: 'departed' | 'closing') => ({
    kind: 'offboard-request',
    accountId: MEMBER_ID,
    departure,
    seen: departure === 'departed' ? 'no longer in the organization' : 'account is SUSPENDED',
    requestedAt: '2026-06-12T05:00:00.000Z',
  });

  it('records nothing for an account that is in the organization and active after all', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, ready());
    for (const departure of ['departed', 'closing'] as const) {
      expect(await processOnboardingRecord(sweepSays(departure), undefined, w.deps)).toMatchObject({
        result: { outcome: 'unchanged' },
      });
    }
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({ status: 'ready' });
    expect(w.notifier.departedNotices).toEqual([]);
  });

  it('records a closure the account’s state confirms', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, ready());
    w.org.accounts.get(MEMBER_ID)!.status = 'SUSPENDED';
    await processOnboardingRecord(sweepSays('closing'), undefined, w.deps);
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({ status: 'closing' });
  });

  it('a request queued before the account left is not a failure, and tells nobody', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, {
      ...ready(),
      status: 'departed',
      notified: { status: 'departed' },
    });
    w.org.accounts.delete(MEMBER_ID);
    const out = await processOnboardingRecord(
      { kind: 'onboard-request', accountId: MEMBER_ID, trigger: 'Reconcile' },
      undefined,
      w.deps,
    );
    expect(out).toMatchObject({ flow: 'onboard', result: { outcome: 'skipped' } });
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({ status: 'departed' });
    expect(w.notifier.count).toBe(0);
  });
});

describe('an account that leaves, rejoins and leaves again', () => {
  it('is told each time: one DEPARTED per departure and one READY per return, not one per account', async () => {
    const w = onboardingWorld();
    const member = { ...w.org.accounts.get(MEMBER_ID)! };
    w.ledger.records.set(MEMBER_ID, ready());
    for (let round = 0; round < 2; round++) {
      w.org.accounts.delete(MEMBER_ID);
      await processOnboardingRecord(LEFT(), undefined, w.deps);
      w.clock.advance(3_600_000);
      w.org.accounts.set(MEMBER_ID, { ...member });
      await processOnboardingRecord(
        { kind: 'onboard-request', accountId: MEMBER_ID, trigger: 'Reconcile' },
        undefined,
        w.deps,
      );
      w.clock.advance(3_600_000);
    }
    const departures = w.notifier.departedNotices.map((n) => departedNotice(n).dedupKey);
    expect(departures).toHaveLength(2);
    expect(new Set(departures).size).toBe(2);
    const returns = w.notifier.readyNotices.map((n) => readyNotice(n).dedupKey);
    expect(returns).toHaveLength(2);
    expect(new Set(returns).size).toBe(2);
  });
});

describe('a closing account', () => {
  it('stays closing when an onboarding trigger queued before the closure arrives (a move, a retry)', async () => {
    const w = onboardingWorld();
    w.ledger.records.set(MEMBER_ID, ready());
    w.org.accounts.get(MEMBER_ID)!.status = 'SUSPENDED';
    await processOnboardingRecord(CLOSED(), undefined, w.deps);
    const closing = w.ledger.records.get(MEMBER_ID)!;
    expect(closing).toMatchObject({ status: 'closing' });
    const out = await processOnboardingRecord(
      about('organizations/move-account', '210987654321'),
      undefined,
      w.deps,
    );
    expect(out).toMatchObject({ flow: 'onboard', result: { outcome: 'skipped' } });
    expect(w.ledger.records.get(MEMBER_ID)).toEqual(closing);
    expect(w.notifier.departedNotices).toHaveLength(1);
  });
});

describe('departedNotice', () => {
  it('says what a departure means for the backups, in the onboarding audience', () => {
    const notice = departedNotice({
      accountId: MEMBER_ID,
      departure: 'departed',
      trigger: 'AccountDepartedOrganization',
      method: 'Removed',
      governed: true,
    });
    expect(notice).toMatchObject({
      kind: 'onboarding',
      severity: 'warning',
      label: 'DEPARTED',
      dedupKey: `offboard#${MEMBER_ID}#departed`,
      headline: `Account ${MEMBER_ID} was removed from the organization`,
    });
    const email = renderEmail(notice);
    expect(email.text).toMatch(/no longer governed by this control plane/);
    expect(email.text).toMatch(
      /copies in the central backup account are kept until their retention ends/,
    );
  });

  it('does not call a suspended account closed when only the sweep saw it', () => {
    const notice = departedNotice({
      accountId: MEMBER_ID,
      departure: 'closing',
      trigger: 'Reconcile',
      method: 'account is SUSPENDED',
      governed: true,
    });
    expect(notice.headline).toBe(`Account ${MEMBER_ID} is suspended or closed`);
    expect(notice.reason).toMatch(/lists it as SUSPENDED: .*also suspends accounts/);
  });

  it('reads the upper-case spelling of the departure method', () => {
    const decision = decideRecord(
      about('organizations/account-departed-organization.variant-departure-fields', '320198765432'),
    );
    expect(decision).toMatchObject({ method: 'Removed' });
    expect(
      departedNotice({
        accountId: MEMBER_ID,
        departure: 'departed',
        trigger: 'AccountDepartedOrganization',
        method: (decision as { method?: string }).method,
        governed: true,
      }).headline,
    ).toBe(`Account ${MEMBER_ID} was removed from the organization`);
  });

  it('is sent once per channel by the pipeline even when two runs tell it', async () => {
    const email = new FakeEmailSender();
    const sns = new FakeTopicPublisher();
    const ledger = new InMemoryLedger();
    const w = onboardingWorld();
    const notifier = new PipelineNotifier({
      config: w.config,
      topicArn: (t) => `arn:aws:sns:us-east-1:111122223333:${t}`,
      accounts: new CachedAccountContext(new FakeDirectory(), 60_000, new FakeClock()),
      ledger,
      email,
      sns,
      clock: new FakeClock(),
      log: { info: jest.fn(), warn: jest.fn() },
    });
    const facts = {
      accountId: MEMBER_ID,
      departure: 'closing' as const,
      trigger: 'CloseAccount',
      governed: true,
    };
    await notifier.departed(facts);
    await notifier.departed({ ...facts, trigger: 'Reconcile', method: 'account is SUSPENDED' });
    expect(email.sent.map((m) => m.subject)).toEqual([
      expect.stringMatching(/^\[CLOSING\] Account .*222233334444/),
    ]);
    expect(sns.published).toHaveLength(1);
  });
});
