import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseOnboardingEvent,
  type TriggerDecision,
} from '../../functions/onboard-account/triggers';
import { MalformedEventError } from '../../functions/shared/errors';
import { ROOT, sample } from '../helpers/fixtures';

type Raw = Record<string, unknown> & { detail: Record<string, unknown> };

/** A fresh copy of a sample, with its detail typed for mutation. */
function raw(name: string): Raw {
  return sample(name) as Raw;
}

/** The nested status object of a service event, for mutation. */
function status(event: Raw, key: string): Record<string, unknown> {
  return (event.detail.serviceEventDetails as Record<string, Record<string, unknown>>)[key]!;
}

function rejection(input: unknown): MalformedEventError {
  let caught: unknown;
  try {
    parseOnboardingEvent(input);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(MalformedEventError);
  return caught as MalformedEventError;
}

/** Every sample in events/organizations and events/controltower, with its exact decision. */
const EXPECTED: Record<string, TriggerDecision> = {
  'organizations/create-account-result.succeeded': {
    flow: 'onboard',
    eventId: '0b9d6c3e-1f2a-4d8b-9e7c-5a4f3b2c1d0e',
    accountId: '210987654321',
    trigger: 'CreateAccountResult',
    controlTower: false,
  },
  'organizations/create-account-result.failed': {
    flow: 'alert',
    eventId: '6a1e8f2d-3c4b-4a5e-8d7f-9b0c1a2e3f4d',
    trigger: 'CreateAccountResult',
    reason: 'EMAIL_ALREADY_EXISTS',
    requestId: 'car-9e8d7c6b5a4f11f0b2c30a1b2c3d4e5f',
    time: '2026-06-03T11:02:31Z',
  },
  'organizations/create-account.request': {
    flow: 'ignore',
    eventId: '7d3f4b2e-5c61-4a0e-9f1d-2b8c6e4a9d10',
    reason: expect.stringContaining('waits for CreateAccountResult'),
  },
  'organizations/account-joined-organization.invited': {
    flow: 'onboard',
    eventId: '3c5e7a9b-1d2f-4a6c-8e0b-2d4f6a8c0e1a',
    accountId: '306412987655',
    trigger: 'AccountJoinedOrganization',
    controlTower: false,
  },
  'organizations/account-joined-organization.created': {
    flow: 'onboard',
    eventId: '8e0a2c4e-6f1b-4d3a-9c5e-7a9b1c3d5e7f',
    accountId: '210987654321',
    trigger: 'AccountJoinedOrganization',
    controlTower: false,
  },
  'organizations/account-joined-organization.variant-request-parameters': {
    flow: 'onboard',
    eventId: '5b7d9f1a-3c5e-4f7a-9b1d-3f5a7c9e1b3d',
    accountId: '487265019384',
    trigger: 'AccountJoinedOrganization',
    controlTower: false,
  },
  'organizations/account-joined-organization.variant-additional-event-data': {
    flow: 'onboard',
    eventId: '9d1f3b5d-7e9a-4b1c-8d3e-5f7a9b1c3d5e',
    accountId: '590318467202',
    trigger: 'AccountJoinedOrganization',
    controlTower: false,
  },
  'organizations/move-account': {
    flow: 'onboard',
    eventId: '2f4a6c8e-0a1c-4e3a-8b5d-7f9b1d3f5a7c',
    accountId: '210987654321',
    trigger: 'MoveAccount',
    controlTower: false,
    move: { sourceParentId: 'r-a1b2', destinationParentId: 'ou-a1b2-5hx8kd3m' },
  },
  'organizations/invite-account-to-organization': {
    flow: 'ignore',
    eventId: '4a6c8e0a-2b4d-4f6a-9c8e-0a2c4e6a8c0e',
    reason: expect.stringContaining('waits for AccountJoinedOrganization'),
  },
  'organizations/account-departed-organization.left': {
    flow: 'offboard',
    eventId: '4c6e8a0c-2e4a-4c6e-8a0c-2e4a6c8e0a21',
    accountId: '210987654321',
    trigger: 'AccountDepartedOrganization',
    departure: 'departed',
    method: 'Left',
    time: 'Jun 10, 2026, 11:42:07 AM',
  },
  'organizations/account-departed-organization.variant-departure-fields': {
    flow: 'offboard',
    eventId: '6e8a0c2e-4a6c-4e8a-9c2e-4a6c8e0a2c43',
    accountId: '320198765432',
    trigger: 'AccountDepartedOrganization',
    departure: 'departed',
    method: 'Removed',
    time: '2026-06-11T07:05:19Z',
  },
  'organizations/account-departed-organization.cleaned': {
    flow: 'offboard',
    eventId: '8a0c2e4a-6c8e-4a0c-8e4a-6c8e0a2c4e65',
    accountId: '431209876543',
    trigger: 'AccountDepartedOrganization',
    departure: 'departed',
    method: 'Cleaned',
    time: 'Sep 8, 2026, 2:11:45 AM',
  },
  'organizations/remove-account-from-organization': {
    flow: 'offboard',
    eventId: '0c2e4a6c-8e0a-4c2e-8a6c-8e0a2c4e6a87',
    accountId: '320198765432',
    trigger: 'RemoveAccountFromOrganization',
    departure: 'departed',
    method: 'Removed',
    time: '2026-06-11T07:05:18Z',
  },
  'organizations/leave-organization': {
    flow: 'offboard',
    eventId: '2e4a6c8e-0a2c-4e4a-9c8e-0a2c4e6a8ca9',
    accountId: '210987654321',
    trigger: 'LeaveOrganization',
    departure: 'departed',
    method: 'Left',
    time: '2026-06-10T11:42:05Z',
  },
  'organizations/close-account': {
    flow: 'offboard',
    eventId: '4a6c8e0a-2c4e-4a6c-8e0a-2c4e6a8cae0b',
    accountId: '542310987654',
    trigger: 'CloseAccount',
    departure: 'closing',
    time: '2026-06-12T16:30:02Z',
  },
  'organizations/close-account-result.succeeded': {
    flow: 'offboard',
    eventId: '7c2e4a6c-8e0a-4c2e-9a6c-8e0a2c4e6a81',
    accountId: '542310987654',
    trigger: 'CloseAccountResult',
    departure: 'closing',
    time: '2026-06-12T16:41:17Z',
  },
  'organizations/close-account-result.failed': {
    flow: 'alert',
    eventId: '7c2e4a6c-8e0a-4c2e-9a6c-8e0a2c4e6a82',
    trigger: 'CloseAccountResult',
    reason: 'CLOSE_ACCOUNT_QUOTA_EXCEEDED',
    accountId: '542310987654',
    time: '2026-06-12T16:41:17Z',
  },
  'organizations/close-account.failed': {
    flow: 'ignore',
    eventId: '6c8e0a2c-4e6a-4c8e-9a2c-4e6a8cae0c2d',
    reason: 'CloseAccount failed (ConstraintViolationException): nothing changed',
  },
  'controltower/create-managed-account.succeeded': {
    flow: 'onboard',
    eventId: '1e3a5c7e-9b1d-4f3b-8d5f-7b9d1f3b5d7f',
    accountId: '623904518762',
    trigger: 'CreateManagedAccount',
    controlTower: true,
  },
  'controltower/create-managed-account.failed': {
    flow: 'alert',
    eventId: '7c9e1a3c-5d7f-4b9d-8f1b-3d5f7b9d1f3b',
    trigger: 'CreateManagedAccount',
    reason: 'AWS Control Tower failed to create a managed account.',
    accountName: 'sandbox-analytics-07',
    time: '2026-06-07T14:18:55Z',
  },
  'controltower/update-managed-account.succeeded': {
    flow: 'onboard',
    eventId: '3e5a7c9e-1b3d-4f5b-9d7f-1b3d5f7b9d1f',
    accountId: '735019284613',
    trigger: 'UpdateManagedAccount',
    controlTower: true,
  },
  'controltower/update-managed-account.request-parameters-none': {
    flow: 'onboard',
    eventId: '5a7c9e1a-3d5f-4b7d-9f1b-5d7f9b1d3f5b',
    accountId: '846120395731',
    trigger: 'UpdateManagedAccount',
    controlTower: true,
  },
};

const sampleNames = ['organizations', 'controltower'].flatMap((dir) =>
  readdirSync(join(ROOT, 'events', dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => `${dir}/${f.replace(/\.json$/, '')}`),
);

/** The "Decision" column of events/README.md rows for onboarding samples, by sample name. */
function readmeDecisions(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'events', 'README.md'), 'utf8');
  const decisions = new Map<string, string>();
  for (const line of readme.split('\n')) {
    const m =
      /^\|\s*`((?:organizations|controltower)\/[^`]+)\.json`\s*\|.*\|\s*([a-z]+)[^|]*\|\s*$/.exec(
        line,
      );
    if (m) decisions.set(m[1]!, m[2]!);
  }
  return decisions;
}

describe('onboarding samples', () => {
  it('has an expected decision for every sample in events/organizations and events/controltower', () => {
    expect([...sampleNames].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s gets its decision', (name, expected) => {
    expect(parseOnboardingEvent(sample(name))).toEqual(expected);
  });

  it.each(sampleNames)('%s has a README row stating the same flow', (name) => {
    const decisions = readmeDecisions();
    expect(decisions.get(name)).toBe(parseOnboardingEvent(sample(name)).flow);
  });

  it.each(sampleNames)('%s: no decision carries the redacted account name', (name) => {
    expect(JSON.stringify(parseOnboardingEvent(sample(name)))).not.toContain('****');
  });

  it('rejects malformed/create-account-result-missing-status, naming the status field', () => {
    const error = rejection(sample('malformed/create-account-result-missing-status'));
    expect(error.field).toBe('detail.serviceEventDetails.createAccountStatus');
    expect(error.message).toContain('"detail.serviceEventDetails.createAccountStatus"');
  });
});

describe('CreateAccountResult', () => {
  const name = 'organizations/create-account-result.succeeded';

  it('ignores IN_PROGRESS', () => {
    const event = raw(name);
    status(event, 'createAccountStatus').state = 'IN_PROGRESS';
    delete status(event, 'createAccountStatus').accountId;
    expect(parseOnboardingEvent(event)).toEqual({
      flow: 'ignore',
      eventId: '0b9d6c3e-1f2a-4d8b-9e7c-5a4f3b2c1d0e',
      reason: expect.stringContaining('IN_PROGRESS'),
    });
  });

  it('ignores a state it does not know, naming it', () => {
    const event = raw(name);
    status(event, 'createAccountStatus').state = 'PENDING_REVIEW';
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'ignore',
      reason: expect.stringContaining('PENDING_REVIEW'),
    });
  });

  it('reads the state in any letter case', () => {
    const event = raw(name);
    status(event, 'createAccountStatus').state = 'succeeded';
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'onboard',
      accountId: '210987654321',
    });
  });

  it('alerts on FAILED without a failureReason, and without onboarding', () => {
    const event = raw('organizations/create-account-result.failed');
    delete status(event, 'createAccountStatus').failureReason;
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'alert',
      trigger: 'CreateAccountResult',
      reason: expect.stringContaining('FAILED'),
    });
  });

  it('never reports the redacted accountName on FAILED', () => {
    const decision = parseOnboardingEvent(sample('organizations/create-account-result.failed'));
    expect(decision).not.toHaveProperty('accountName');
    expect(decision).not.toHaveProperty('accountId');
  });

  it('accepts serviceEventDetails serialised as a JSON string', () => {
    const event = raw(name);
    event.detail.serviceEventDetails = JSON.stringify(event.detail.serviceEventDetails);
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'onboard',
      accountId: '210987654321',
    });
  });

  it.each([
    ['a number', 210987654321],
    ['11 digits', '21098765432'],
    ['"Not Available"', 'Not Available'],
    ['an empty string', ''],
  ])('rejects a SUCCEEDED account id that is %s, naming the field', (_label, value) => {
    const event = raw(name);
    status(event, 'createAccountStatus').accountId = value;
    const error = rejection(event);
    expect(error.field).toBe('detail.serviceEventDetails.createAccountStatus.accountId');
    expect(error.message).toMatch(/12-digit/);
  });

  it('rejects SUCCEEDED without an account id, saying it is missing', () => {
    const event = raw(name);
    delete status(event, 'createAccountStatus').accountId;
    const error = rejection(event);
    expect(error.field).toBe('detail.serviceEventDetails.createAccountStatus.accountId');
    expect(error.message).toMatch(/is missing/);
  });

  it('rejects a status without state, naming the field', () => {
    const event = raw(name);
    delete status(event, 'createAccountStatus').state;
    expect(rejection(event).field).toBe('detail.serviceEventDetails.createAccountStatus.state');
  });

  it('rejects an event without serviceEventDetails', () => {
    const event = raw(name);
    delete event.detail.serviceEventDetails;
    expect(rejection(event).field).toBe('detail.serviceEventDetails.createAccountStatus');
  });
});

describe('AccountJoinedOrganization: the account id is found wherever it is', () => {
  const name = 'organizations/account-joined-organization.invited';

  it('in a status object nested under serviceEventDetails', () => {
    const event = raw(name);
    event.detail.serviceEventDetails = {
      accountJoinedOrganizationStatus: {
        account: { accountId: '112233445566', accountName: '****' },
        joinedMethod: 'INVITED',
      },
    };
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'onboard',
      accountId: '112233445566',
      trigger: 'AccountJoinedOrganization',
    });
  });

  it.each([
    [
      'nested objects',
      {
        managementAccount: { accountId: '111122223333' },
        account: { accountId: '210987654321' },
        departedMethod: 'Left',
      },
    ],
    ['sibling keys', { managementAccountId: '111122223333', memberAccountId: '210987654321' }],
    ['the management account first', { accountId: '111122223333', memberId: '210987654321' }],
  ])(
    'takes the member, never the management account, when the event names both (%s)',
    (_, details) => {
      for (const name of [
        'organizations/account-joined-organization.created',
        'organizations/account-departed-organization.left',
      ]) {
        const event = raw(name);
        event.detail.serviceEventDetails = {
          ...details,
          ...(Object.hasOwn(details, 'memberId')
            ? { memberId: undefined, member: { accountId: '210987654321' } }
            : {}),
        };
        expect(parseOnboardingEvent(event)).toMatchObject({ accountId: '210987654321' });
      }
    },
  );

  it("takes the management account's own id when it is the only one (it joins at CreateOrganization)", () => {
    const event = raw('organizations/account-joined-organization.created');
    event.detail.serviceEventDetails = { accountId: '111122223333', joinedMethod: 'CREATED' };
    expect(parseOnboardingEvent(event)).toMatchObject({ accountId: '111122223333' });
  });

  it('with requestParameters "None" next to serviceEventDetails', () => {
    const event = raw(name);
    event.detail.requestParameters = 'None';
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'onboard',
      accountId: '306412987655',
    });
  });

  it('rejects an event with no account id anywhere, naming the first place looked', () => {
    const event = raw(name);
    event.detail.serviceEventDetails = { joinedMethod: 'Invited' };
    const error = rejection(event);
    expect(error.field).toBe('detail.serviceEventDetails.accountId');
    expect(error.message).toMatch(/requestParameters/);
  });

  it('rejects an account id given as a number, naming the field it was found in', () => {
    const event = raw('organizations/account-joined-organization.variant-request-parameters');
    (event.detail.requestParameters as Record<string, unknown>).accountId = 487265019384;
    expect(rejection(event).field).toBe('detail.requestParameters.accountId');
  });

  it('rejects a malformed id in additionalEventData, naming that field', () => {
    const event = raw('organizations/account-joined-organization.variant-additional-event-data');
    (event.detail.additionalEventData as Record<string, unknown>).newAccountId = '5903-1846-7202';
    expect(rejection(event).field).toBe('detail.additionalEventData.newAccountId');
  });
});

describe('CloseAccountResult (no published sample: read defensively)', () => {
  const name = 'organizations/close-account-result.failed';

  it('alerts on a FAILED closure that names no account, without an account', () => {
    const event = raw(name);
    delete status(event, 'closeAccountStatus').accountId;
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'alert',
      trigger: 'CloseAccountResult',
      reason: 'CLOSE_ACCOUNT_QUOTA_EXCEEDED',
    });
    expect(parseOnboardingEvent(event)).not.toHaveProperty('accountId');
  });

  it('reads the state and the id flat under serviceEventDetails too', () => {
    const event = raw('organizations/close-account-result.succeeded');
    event.detail.serviceEventDetails = { accountId: '542310987654', state: 'SUCCEEDED' };
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'offboard',
      accountId: '542310987654',
      departure: 'closing',
    });
  });

  it.each([
    ['no state', { closeAccountStatus: { accountId: '542310987654' } }, /without a state/],
    [
      'a SUCCEEDED without an account',
      { closeAccountStatus: { state: 'SUCCEEDED' } },
      /names no account/,
    ],
    [
      'another state',
      { closeAccountStatus: { state: 'IN_PROGRESS' } },
      /neither SUCCEEDED nor FAILED/,
    ],
  ])(
    'ignores, with the reason, an event it cannot make out (%s): not the DLQ',
    (_, details, reason) => {
      const event = raw(name);
      event.detail.serviceEventDetails = details;
      expect(parseOnboardingEvent(event)).toMatchObject({
        flow: 'ignore',
        reason: expect.stringMatching(reason),
      });
    },
  );
});

describe('LeaveOrganization', () => {
  it("takes the envelope's account when the detail names none (the account that left is where the call happened)", () => {
    const event = sample('organizations/leave-organization');
    const detail = event.detail as Record<string, unknown>;
    delete detail.recipientAccountId;
    delete detail.userIdentity;
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'offboard',
      accountId: '210987654321',
    });
  });
});

describe('MoveAccount', () => {
  const name = 'organizations/move-account';
  const params = (event: Raw) => event.detail.requestParameters as Record<string, unknown>;

  it('ignores a move that failed', () => {
    const event = raw(name);
    event.detail.errorCode = 'AccessDenied';
    event.detail.errorMessage = 'not authorized';
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'ignore',
      reason: expect.stringContaining('AccessDenied'),
    });
  });

  it('leaves out parent ids that are missing or not parent ids', () => {
    const event = raw(name);
    delete params(event).sourceParentId;
    params(event).destinationParentId = 42;
    expect(parseOnboardingEvent(event)).toEqual(
      expect.objectContaining({ flow: 'onboard', accountId: '210987654321', move: {} }),
    );
  });

  it('rejects a move without requestParameters', () => {
    const event = raw(name);
    event.detail.requestParameters = null;
    expect(rejection(event).field).toBe('detail.requestParameters');
  });

  it('rejects an account id given as a number, naming the field', () => {
    const event = raw(name);
    params(event).accountId = 210987654321;
    expect(rejection(event).field).toBe('detail.requestParameters.accountId');
  });
});

describe('Control Tower lifecycle events', () => {
  const created = 'controltower/create-managed-account.succeeded';
  const failed = 'controltower/create-managed-account.failed';
  const createStatus = (event: Raw) => status(event, 'createManagedAccountStatus');
  const account = (event: Raw) => createStatus(event).account as Record<string, unknown>;

  it('accepts requestParameters and responseElements as "None" strings', () => {
    const event = raw(created);
    event.detail.requestParameters = 'None';
    event.detail.responseElements = 'None';
    expect(parseOnboardingEvent(event)).toMatchObject({ flow: 'onboard', controlTower: true });
  });

  it('alerts on FAILED without any accountId field', () => {
    const event = raw(failed);
    delete account(event).accountId;
    const decision = parseOnboardingEvent(event);
    expect(decision).toMatchObject({ flow: 'alert', trigger: 'CreateManagedAccount' });
    expect(decision).not.toHaveProperty('accountId');
  });

  it('alerts on FAILED without an account object at all', () => {
    const event = raw(failed);
    delete createStatus(event).account;
    expect(parseOnboardingEvent(event)).toEqual({
      flow: 'alert',
      eventId: '7c9e1a3c-5d7f-4b9d-8f1b-3d5f7b9d1f3b',
      trigger: 'CreateManagedAccount',
      reason: 'AWS Control Tower failed to create a managed account.',
      time: '2026-06-07T14:18:55Z',
    });
  });

  it('keeps a real account id on FAILED', () => {
    const event = raw(failed);
    account(event).accountId = '998877665544';
    expect(parseOnboardingEvent(event)).toMatchObject({ flow: 'alert', accountId: '998877665544' });
  });

  it('drops a redacted account name and keeps the reason on one line', () => {
    const event = raw(failed);
    account(event).accountName = '****';
    createStatus(event).message = 'Provisioning failed:\r\nBcc: someone@example.com';
    const decision = parseOnboardingEvent(event);
    expect(decision).not.toHaveProperty('accountName');
    expect(decision).toMatchObject({ reason: 'Provisioning failed: Bcc: someone@example.com' });
  });

  it('alerts with a default reason when FAILED has no message', () => {
    const event = raw(failed);
    delete createStatus(event).message;
    expect(parseOnboardingEvent(event)).toMatchObject({ reason: 'CreateManagedAccount FAILED' });
  });

  it('ignores IN_PROGRESS', () => {
    const event = raw(created);
    createStatus(event).state = 'IN_PROGRESS';
    expect(parseOnboardingEvent(event)).toMatchObject({ flow: 'ignore' });
  });

  it('reads UpdateManagedAccount from updateManagedAccountStatus, not the create status', () => {
    const event = raw('controltower/update-managed-account.succeeded');
    event.detail.serviceEventDetails = {
      createManagedAccountStatus: status(event, 'updateManagedAccountStatus'),
    };
    expect(rejection(event).field).toBe('detail.serviceEventDetails.updateManagedAccountStatus');
  });

  it('rejects SUCCEEDED with accountId "Not Available", naming the field', () => {
    const event = raw(created);
    account(event).accountId = 'Not Available';
    expect(rejection(event).field).toBe(
      'detail.serviceEventDetails.createManagedAccountStatus.account.accountId',
    );
  });

  it('rejects SUCCEEDED with the account id as a number, naming the field', () => {
    const event = raw(created);
    account(event).accountId = 623904518762;
    expect(rejection(event).field).toBe(
      'detail.serviceEventDetails.createManagedAccountStatus.account.accountId',
    );
  });

  it('ignores the API call of the same name (only the lifecycle event is final)', () => {
    const event = raw(created);
    event['detail-type'] = 'AWS API Call via CloudTrail';
    delete event.detail.serviceEventDetails;
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'ignore',
      reason: expect.stringContaining('API call'),
    });
  });
});

describe('events onboarding does not act on', () => {
  it.each([
    ['organizations/create-account-result.succeeded', 'CreatePolicy'],
    ['organizations/move-account', 'AcceptHandshake'],
    ['controltower/create-managed-account.succeeded', 'EnableGuardrail'],
    ['controltower/create-managed-account.succeeded', 'SetupLandingZone'],
    ['organizations/move-account', 'constructor'],
  ])('%s renamed %s is ignored with a reason naming it', (name, eventName) => {
    const event = raw(name);
    event.detail.eventName = eventName;
    expect(parseOnboardingEvent(event)).toEqual({
      flow: 'ignore',
      eventId: event.id,
      reason: expect.stringContaining(eventName),
    });
  });

  it('ignores another source whatever its envelope looks like', () => {
    expect(parseOnboardingEvent(sample('malformed/wrong-source'))).toMatchObject({
      flow: 'ignore',
      eventId: '5ae7a424-7f22-4d8b-ab39-824fcd158b95',
      reason: expect.stringContaining('aws.ec2'),
    });
    expect(parseOnboardingEvent({ source: 'aws.backup' })).toMatchObject({ flow: 'ignore' });
  });
});

describe('rejected envelopes', () => {
  it.each([[[1, 2, 3]], ['text'], [null], [42]])('rejects a non-object event %j', (input) => {
    const error = rejection(input);
    expect(error.field).toBe('(event)');
    expect(error.message).toMatch(/object/);
  });

  it('rejects a missing detail, saying it is missing', () => {
    const event = raw('organizations/create-account-result.succeeded');
    delete (event as Record<string, unknown>).detail;
    const error = rejection(event);
    expect(error.field).toBe('detail');
    expect(error.message).toMatch(/"detail" is missing/);
  });

  it('rejects a detail that is not an object', () => {
    const event = raw('organizations/move-account') as Record<string, unknown>;
    event.detail = 'MoveAccount';
    expect(rejection(event).field).toBe('detail');
  });

  it.each([['id'], ['source']])('rejects an event without %s, naming it', (field) => {
    const event = raw('controltower/create-managed-account.succeeded') as Record<string, unknown>;
    delete event[field];
    expect(rejection(event).field).toBe(field);
  });

  it('rejects an event without eventName', () => {
    const event = raw('organizations/move-account');
    delete event.detail.eventName;
    expect(rejection(event).field).toBe('detail.eventName');
  });
});
