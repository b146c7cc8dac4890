import {
  decideRecord,
  OnboardingFailedError,
  processOnboardingRecord,
  type ProcessDeps,
} from '../../functions/onboard-account/process-record';
import { MalformedEventError } from '../../functions/shared/errors';
import { PipelineNotifier } from '../../functions/onboard-account/notices';
import { CachedAccountContext } from '../../functions/shared/notices/account-context';
import {
  FakeDirectory,
  FakeEmailSender,
  FakeTopicPublisher,
  InMemoryLedger,
} from '../helpers/fakes';

const CHAT_ARN = 'arn:aws:sns:us-east-1:111122223333:chat';
import { sample } from '../helpers/fixtures';
import { MEMBER_ID, onboardingWorld, type OnboardingWorld } from '../helpers/onboarding-fakes';

const FAILED_EVENT_ID = '6a1e8f2d-3c4b-4a5e-8d7f-9b0c1a2e3f4d';

function setUp(): { w: OnboardingWorld; deliveries: InMemoryLedger; deps: ProcessDeps } {
  const w = onboardingWorld();
  const deliveries = new InMemoryLedger(120_000);
  return { w, deliveries, deps: w.deps };
}

/** A sample from events/, about MEMBER_ID instead of the account it names. */
function about(name: string, accountId: string): Record<string, unknown> {
  return JSON.parse(JSON.stringify(sample(name)).split(accountId).join(MEMBER_ID)) as Record<
    string,
    unknown
  >;
}

const request = (overrides: Record<string, unknown> = {}) => ({
  kind: 'onboard-request',
  accountId: MEMBER_ID,
  trigger: 'Reconcile',
  requestedAt: '2025-03-13T03:00:00.000Z',
  ...overrides,
});

/** decideRecord's rejection, as a promise (so a missing throw fails the test). */
const decided = (body: unknown) => expect(async () => decideRecord(body)).rejects;

describe('decideRecord', () => {
  it('turns an onboard request into an onboard decision', () => {
    expect(decideRecord(request())).toEqual({
      flow: 'onboard',
      eventId: `reconcile-${MEMBER_ID}-2025-03-13T03:00:00.000Z`,
      accountId: MEMBER_ID,
      trigger: 'Reconcile',
      controlTower: false,
    });
    expect(decideRecord(request({ trigger: 'Manual', requestedAt: undefined }))).toMatchObject({
      eventId: `manual-${MEMBER_ID}-`,
      trigger: 'Manual',
    });
  });

  it.each([
    [{ accountId: '2222' }, 'accountId', 'field "accountId" must be a 12-digit AWS account id'],
    [{ accountId: undefined }, 'accountId', 'field "accountId" '],
    [{ accountId: 222233334444 }, 'accountId', 'field "accountId" '],
    [{ trigger: 'CreateAccountResult' }, 'trigger', 'field "trigger" '],
    [{ requestedAt: 5 }, 'requestedAt', 'field "requestedAt" '],
  ])('rejects a malformed request %j naming the field', async (change, field, message) => {
    await decided(request(change)).toBeInstanceOf(MalformedEventError);
    await decided(request(change)).toMatchObject({
      field,
      message: expect.stringContaining(message),
    });
  });

  it('hands anything else to the event parser', async () => {
    expect(decideRecord(sample('organizations/create-account.request'))).toMatchObject({
      flow: 'ignore',
    });
    await decided(sample('malformed/create-account-result-missing-status')).toMatchObject({
      name: 'MalformedEventError',
      field: 'detail.serviceEventDetails.createAccountStatus',
    });
  });
});

describe('processOnboardingRecord', () => {
  it('onboards the account an onboard request names', async () => {
    const { w, deps } = setUp();
    const outcome = await processOnboardingRecord(request(), undefined, deps);
    expect(outcome).toMatchObject({ flow: 'onboard', result: { outcome: 'ready' } });
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({
      status: 'ready',
      lastTrigger: 'Reconcile',
    });
    expect(w.notifier.readyNotices).toHaveLength(1);
  });

  it('onboards the account a CreateAccountResult event names', async () => {
    const { w, deps } = setUp();
    const event = about('organizations/create-account-result.succeeded', '210987654321');
    const outcome = await processOnboardingRecord(event, String(event.time), deps);
    expect(outcome).toMatchObject({ flow: 'onboard', result: { outcome: 'ready' } });
    expect(w.ledger.records.get(MEMBER_ID)?.lastTrigger).toBe('CreateAccountResult');
    expect(w.access.calls.map((c) => c.role)).toEqual(['OrganizationAccountAccessRole']);
  });

  it('uses the Control Tower role first for a Control Tower account', async () => {
    const { w, deps } = setUp();
    w.access.assumable = new Set(['AWSControlTowerExecution']);
    const event = about('controltower/create-managed-account.succeeded', '623904518762');
    await processOnboardingRecord(event, String(event.time), deps);
    expect(w.access.calls.map((c) => c.role)).toEqual(['AWSControlTowerExecution']);
    expect(w.ledger.records.get(MEMBER_ID)).toMatchObject({
      status: 'ready',
      lastTrigger: 'CreateManagedAccount',
    });
  });

  it('passes the event time on: a run that started after the event covers it', async () => {
    const { w, deps } = setUp();
    w.ledger.hold(MEMBER_ID, 'other', new Date('2026-06-03T09:30:00.000Z'), 900_000);
    w.clock.advance(Date.parse('2026-06-03T09:31:00.000Z') - w.clock.now().getTime());
    const event = about('organizations/create-account-result.succeeded', '210987654321');
    const outcome = await processOnboardingRecord(event, '2026-06-03T09:21:53Z', deps);
    expect(outcome).toEqual({
      flow: 'onboard',
      result: {
        outcome: 'busy',
        covered: true,
        since: '2026-06-03T09:30:00.000Z',
        until: '2026-06-03T09:45:00.000Z',
      },
    });
    expect(w.access.calls).toEqual([]);
  });

  it('throws OnboardingFailedError for a failed onboarding, after telling admins', async () => {
    const { w, deps } = setUp();
    w.access.assumable.clear();
    const attempt = processOnboardingRecord(request(), undefined, deps);
    await expect(attempt).rejects.toBeInstanceOf(OnboardingFailedError);
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `^onboarding of ${MEMBER_ID} failed at access: cannot assume OrganizationAccountAccessRole or AWSControlTowerExecution in account ${MEMBER_ID}: .* \\(admins told; retried\\)$`,
      ),
    );
    expect(w.notifier.failedNotices).toHaveLength(1);
  });

  it('the sweep’s daily retry of an already reported failure does not throw (no DLQ message a day)', async () => {
    const { w, deps } = setUp();
    w.access.assumable.clear();
    await expect(processOnboardingRecord(request(), undefined, deps)).rejects.toBeInstanceOf(
      OnboardingFailedError,
    );
    // Next day: same failure, already reported.
    await expect(
      processOnboardingRecord(
        request({ requestedAt: '2025-03-14T03:00:00.000Z' }),
        undefined,
        deps,
      ),
    ).resolves.toMatchObject({
      flow: 'onboard',
      result: { outcome: 'failed', alreadyReported: true },
    });
    expect(w.notifier.failedNotices).toHaveLength(1);
  });

  it('an event-triggered run still throws on an already reported failure (its retries end in the DLQ)', async () => {
    const { w, deps } = setUp();
    w.access.assumable.clear();
    await expect(processOnboardingRecord(request(), undefined, deps)).rejects.toBeInstanceOf(
      OnboardingFailedError,
    );
    const event = about('organizations/create-account-result.succeeded', '210987654321');
    await expect(processOnboardingRecord(event, undefined, deps)).rejects.toBeInstanceOf(
      OnboardingFailedError,
    );
  });

  /** The deployed notifier (the one pipeline) with in-memory channels and delivery ledger. */
  function withPipeline() {
    const { w, deps, deliveries } = setUp();
    const email = new FakeEmailSender();
    const sns = new FakeTopicPublisher();
    const notifier = new PipelineNotifier({
      config: w.deps.config,
      topicArn: () => CHAT_ARN,
      accounts: new CachedAccountContext(new FakeDirectory(), 60_000, w.clock),
      ledger: deliveries,
      email,
      sns,
      clock: w.clock,
      log: w.log,
    });
    return { w, deliveries, email, sns, deps: { ...deps, notifier } };
  }

  it('alerts admins of a failed account creation once per channel, however often it is delivered', async () => {
    const { w, deps, deliveries, email, sns } = withPipeline();
    const event = sample('organizations/create-account-result.failed');

    for (let i = 0; i < 2; i++) {
      await expect(processOnboardingRecord(event, undefined, deps)).resolves.toEqual({
        flow: 'alert',
        sent: true,
      });
    }
    expect(email.sent).toHaveLength(1);
    expect(email.sent[0]!.subject).toContain('EMAIL_ALREADY_EXISTS');
    expect(sns.published).toHaveLength(1);
    // One claim per channel, in the pipeline's ledger: no second, outer claim.
    expect([...deliveries.entries.keys()].sort()).toEqual([
      `alert#${FAILED_EVENT_ID}|email:admins`,
      `alert#${FAILED_EVENT_ID}|sns:chat`,
    ]);
    // An alert onboards nothing.
    expect(w.ledger.writes).toEqual([]);
    expect(w.access.calls).toEqual([]);
  });

  it('fails an alert another invocation is sending, without sending it', async () => {
    const { w, deps, deliveries, email, sns } = withPipeline();
    for (const channel of ['email:admins', 'sns:chat']) {
      deliveries.holdInFlight(
        `alert#${FAILED_EVENT_ID}`,
        channel,
        new Date(w.clock.now().getTime() + 60_000),
      );
    }
    await expect(
      processOnboardingRecord(
        sample('organizations/create-account-result.failed'),
        undefined,
        deps,
      ),
    ).rejects.toThrow('another invocation is delivering this message');
    expect(email.sent).toEqual([]);
    expect(sns.published).toEqual([]);
  });

  it('releases the alert when a channel cannot be sent, so the retry sends only that one', async () => {
    const { deps, email, sns } = withPipeline();
    const event = sample('organizations/create-account-result.failed');
    email.failures = 1;
    await expect(processOnboardingRecord(event, undefined, deps)).rejects.toThrow(
      'Maximum sending rate exceeded.',
    );
    expect(sns.published).toHaveLength(1);

    await expect(processOnboardingRecord(event, undefined, deps)).resolves.toEqual({
      flow: 'alert',
      sent: true,
    });
    expect(email.sent).toHaveLength(1);
    expect(sns.published).toHaveLength(1);
  });

  it('ignores an event that does not start onboarding, touching nothing', async () => {
    const { w, deps, deliveries } = setUp();
    const outcome = await processOnboardingRecord(
      sample('organizations/create-account.request'),
      undefined,
      deps,
    );
    expect(outcome).toEqual({
      flow: 'ignore',
      reason: 'CreateAccount is only the request: onboarding waits for CreateAccountResult',
    });
    expect(w.ledger.writes).toEqual([]);
    expect(deliveries.entries.size).toBe(0);
    expect(w.notifier.count).toBe(0);
    expect(w.log.entries).toContainEqual({
      level: 'info',
      message: 'event ignored',
      extra: {
        eventId: '7d3f4b2e-5c61-4a0e-9f1d-2b8c6e4a9d10',
        reason: outcome.flow === 'ignore' ? outcome.reason : '',
      },
    });
  });

  it('rejects a malformed request naming the field, and onboards nothing', async () => {
    const { w, deps } = setUp();
    const attempt = processOnboardingRecord(request({ accountId: 'abc' }), undefined, deps);
    await expect(attempt).rejects.toBeInstanceOf(MalformedEventError);
    await expect(attempt).rejects.toMatchObject({ field: 'accountId' });
    expect(w.ledger.writes).toEqual([]);
  });
});
