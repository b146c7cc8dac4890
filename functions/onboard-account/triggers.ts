import {
  object,
  optional,
  record as jsonObject,
  string,
  validate,
  type Infer,
} from '../shared/validate';
import { MalformedEventError } from '../shared/errors';
import { dropUndefined } from '../shared/objects';
import { oneLine as flatten, truncate } from '../shared/format';
import type { DriftFinding } from './onboard';
import { isAccountId } from '../shared/patterns';

/**
 * Which account-lifecycle events start onboarding (see ../shared/design/aws-facts.md, "Event
 * delivery", and events/README.md for the shapes and how sure we are of each). Only the fields
 * the decision uses are validated. Real variants are accepted: `"requestParameters": "None"`
 * strings (Control Tower), accountId "Not Available" on failures, `serviceEventDetails` as a
 * JSON string (some log pipelines re-serialise it), state in any letter case. `accountName`
 * from Organizations is redacted to "****": the name is looked up later, never taken from here.
 */

export type Trigger =
  | 'CreateAccountResult'
  | 'AccountJoinedOrganization'
  | 'CreateManagedAccount'
  | 'UpdateManagedAccount'
  | 'MoveAccount'
  | 'Reconcile'
  | 'Manual'
  /** The daily check found the account no longer matches its baseline. */
  | 'Drift';

/** What says an account left the organization or is being closed. */
export type DepartureTrigger =
  | 'AccountDepartedOrganization'
  | 'RemoveAccountFromOrganization'
  | 'LeaveOrganization'
  | 'CloseAccount'
  /** The closure's outcome, logged when the account is closed (SUCCEEDED) or could not be. */
  | 'CloseAccountResult'
  /** The sweep found the account gone from the organization, or suspended or closed. */
  | 'Reconcile';

export type TriggerDecision =
  | {
      flow: 'onboard';
      eventId: string;
      accountId: string;
      trigger: Trigger;
      controlTower: boolean;
      move?: { sourceParentId?: string; destinationParentId?: string };
      /** Sent by the daily check with what differed from the baseline. */
      drift?: DriftFinding[];
    }
  | {
      /** The account left, was removed, or is being closed: told once, recorded in the ledger. */
      flow: 'offboard';
      eventId: string;
      accountId: string;
      trigger: DepartureTrigger;
      /** departed: no longer in the organization; closing: closed, suspended for 90 days. */
      departure: 'departed' | 'closing';
      /** Left, Removed or Cleaned as the event says (AccountDepartedOrganization). */
      method?: string;
      time?: string;
    }
  | {
      flow: 'alert';
      eventId: string;
      /** What failed: an account's creation, its Control Tower update, or its closure. */
      trigger: Trigger | 'CloseAccountResult';
      reason: string;
      accountId?: string;
      accountName?: string;
      requestId?: string;
      time?: string;
    }
  | { flow: 'ignore'; eventId?: string; reason: string };

const ORGANIZATIONS = 'aws.organizations';
const CONTROL_TOWER = 'aws.controltower';
const API_CALL = 'AWS API Call via CloudTrail';

/** Events from our sources that are known and deliberately not onboarding triggers. */
const IGNORED: Readonly<Record<string, string>> = {
  CreateAccount: 'CreateAccount is only the request: onboarding waits for CreateAccountResult',
  InviteAccountToOrganization:
    'an invitation is not membership: onboarding waits for AccountJoinedOrganization',
  AcceptHandshake:
    'AcceptHandshake is logged in the invited account: onboarding waits for AccountJoinedOrganization',
};

const EnvelopeCheck = object({
  id: string({ min: 1, max: 256 }),
  'detail-type': string({ min: 1, max: 256 }),
  source: string({ min: 1, max: 256 }),
  time: optional(string({ max: 64 })),
  detail: jsonObject(),
});
type Envelope = Infer<typeof EnvelopeCheck>;

const PARENT_ID = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;

/** What every decision about one event shares. */
interface Context {
  eventId: string;
  time?: string;
}

type Detail = Record<string, unknown>;

/** Decides what onboarding does with one EventBridge event. Throws MalformedEventError naming the field. */
export function parseOnboardingEvent(input: unknown): TriggerDecision {
  const raw = record(input);
  if (!raw) throw new MalformedEventError('event must be a JSON object', '(event)');
  // Someone else's event is ignored whatever the rest of its envelope looks like.
  if (
    typeof raw.source === 'string' &&
    raw.source !== ORGANIZATIONS &&
    raw.source !== CONTROL_TOWER
  ) {
    return ignore(
      typeof raw.id === 'string' ? raw.id.slice(0, 256) : undefined,
      `source ${clip(raw.source)} is not aws.organizations or aws.controltower`,
    );
  }
  const e = envelope(input);
  const d = e.detail;
  const eventName = text(d.eventName);
  if (!eventName) {
    throw new MalformedEventError(
      'field "detail.eventName" is missing or not a string',
      'detail.eventName',
    );
  }
  const ctx: Context = { eventId: e.id, time: text(e.time) ?? text(d.eventTime)?.slice(0, 64) };

  if (e.source === ORGANIZATIONS) {
    if (eventName === 'CreateAccountResult') return createAccountResult(d, ctx);
    if (eventName === 'AccountJoinedOrganization') return accountJoined(d, e, ctx);
    if (eventName === 'MoveAccount') return moveAccount(d, ctx);
    if (eventName === 'AccountDepartedOrganization') return accountDeparted(d, e, ctx);
    if (eventName === 'CloseAccountResult') return closeAccountResult(d, e, ctx);
    if (
      eventName === 'RemoveAccountFromOrganization' ||
      eventName === 'LeaveOrganization' ||
      eventName === 'CloseAccount'
    ) {
      return departureCall(d, eventName, e, ctx);
    }
  } else if (eventName === 'CreateManagedAccount' || eventName === 'UpdateManagedAccount') {
    // Only the lifecycle event (a service event) says how the whole operation ended.
    if (e['detail-type'] === API_CALL) {
      return ignore(ctx.eventId, `${eventName} API call is not the Control Tower lifecycle event`);
    }
    return managedAccount(d, eventName, ctx);
  }
  const known = e.source === ORGANIZATIONS && Object.hasOwn(IGNORED, eventName);
  return ignore(
    ctx.eventId,
    known ? IGNORED[eventName]! : `${e.source} event ${clip(eventName)} does not start onboarding`,
  );
}

function createAccountResult(d: Detail, ctx: Context): TriggerDecision {
  const field = 'detail.serviceEventDetails.createAccountStatus';
  const status = objectAt(d, ['serviceEventDetails', 'createAccountStatus'], field);
  const state = requiredText(status.state, `${field}.state`).toUpperCase();
  if (state === 'SUCCEEDED') {
    return onboard(ctx, 'CreateAccountResult', accountId(status.accountId, `${field}.accountId`));
  }
  if (state === 'FAILED') {
    return alert(ctx, 'CreateAccountResult', {
      reason: oneLine(status.failureReason) ?? 'CreateAccountResult FAILED without a failureReason',
      accountId: optionalAccountId(status.accountId),
      requestId: oneLine(status.id),
    });
  }
  return ignore(ctx.eventId, notFinal('CreateAccountResult', state));
}

/**
 * The nesting of this event's fields is unverified (announced 2026-05-28, no published sample
 * found): the account id is looked for in every place a sample or a comparable event puts it.
 */
function accountJoined(d: Detail, e: Envelope, ctx: Context): TriggerDecision {
  const [field, value] = lifecycleAccountId(d, e);
  return onboard(ctx, 'AccountJoinedOrganization', accountId(value, field));
}

/**
 * AccountDepartedOrganization (logged in the management account only): Left, Removed or
 * Cleaned (a closed account finalised after 90 days). AWS's own docs spell its fields two ways
 * (departedMethod/departedTime and departureMethod/departureTime): both are read.
 */
function accountDeparted(d: Detail, e: Envelope, ctx: Context): TriggerDecision {
  const [field, value] = lifecycleAccountId(d, e);
  const details = objectish(d.serviceEventDetails) ?? {};
  // "Left", "REMOVED", "cleaned": one spelling for the notice.
  const raw = oneLine(details.departedMethod ?? details.departureMethod);
  const method = raw ? raw[0]!.toUpperCase() + raw.slice(1).toLowerCase() : undefined;
  const time = oneLine(details.departedTime ?? details.departureTime);
  return dropUndefined({
    flow: 'offboard' as const,
    eventId: ctx.eventId,
    accountId: accountId(value, field),
    trigger: 'AccountDepartedOrganization' as const,
    departure: 'departed' as const,
    method: method ? clip(method) : undefined,
    time: time ? clip(time) : ctx.time,
  });
}

/**
 * The calls behind a departure. RemoveAccountFromOrganization and CloseAccount are made in the
 * management account and name the account; LeaveOrganization is made by the member itself (its
 * own id is the caller's). A failed call changed nothing.
 */
function departureCall(
  d: Detail,
  eventName: 'RemoveAccountFromOrganization' | 'LeaveOrganization' | 'CloseAccount',
  e: Envelope,
  ctx: Context,
): TriggerDecision {
  const errorCode = oneLine(d.errorCode);
  if (errorCode) {
    return ignore(ctx.eventId, `${eventName} failed (${clip(errorCode)}): nothing changed`);
  }
  let account: string;
  if (eventName === 'LeaveOrganization') {
    const identity = objectish(d.userIdentity);
    const candidates: [string, unknown][] = [
      ['detail.recipientAccountId', d.recipientAccountId],
      ['detail.userIdentity.accountId', identity?.accountId],
      ['account', (e as { account?: unknown }).account],
    ];
    const found = candidates.find(([, v]) => isAccountId(v));
    account = accountId(found?.[1] ?? candidates[0]![1], found?.[0] ?? candidates[0]![0]);
  } else {
    const params = objectish(d.requestParameters);
    account = accountId(params?.accountId, 'detail.requestParameters.accountId');
  }
  return dropUndefined({
    flow: 'offboard' as const,
    eventId: ctx.eventId,
    accountId: account,
    trigger: eventName,
    departure: eventName === 'CloseAccount' ? ('closing' as const) : ('departed' as const),
    method:
      eventName === 'CloseAccount'
        ? undefined
        : eventName === 'LeaveOrganization'
          ? 'Left'
          : 'Removed',
    time: ctx.time,
  });
}

/** Keys that name the organization's management account, never the member the event is about. */
const MANAGEMENT_KEY = /^(management|master|payer)/i;

/**
 * Where the account-lifecycle service events put the member account's id. The event may name the
 * management account too (it is logged there): a real id other than the management account's
 * wins, in the order below; the management account's own id only when it is the only one (the
 * management account itself joins at CreateOrganization).
 */
function lifecycleAccountId(d: Detail, e: Envelope): [string, unknown] {
  const details = objectish(d.serviceEventDetails);
  const candidates: [string, unknown][] = [
    ['detail.serviceEventDetails.accountId', details?.accountId],
  ];
  for (const [key, value] of Object.entries(details ?? {})) {
    if (MANAGEMENT_KEY.test(key)) continue;
    // memberAccountId, joinedAccountId, ...
    if (/accountid$/i.test(key) && key !== 'accountId') {
      candidates.push([`detail.serviceEventDetails.${key}`, value]);
    }
    const nested = objectish(value);
    if (!nested) continue;
    candidates.push([`detail.serviceEventDetails.${key}.accountId`, nested.accountId]);
    const account = objectish(nested.account);
    candidates.push([`detail.serviceEventDetails.${key}.account.accountId`, account?.accountId]);
  }
  const params = objectish(d.requestParameters);
  const extra = objectish(d.additionalEventData);
  candidates.push(
    ['detail.requestParameters.accountId', params?.accountId],
    ['detail.additionalEventData.newAccountId', extra?.newAccountId],
    ['detail.additionalEventData.accountId', extra?.accountId],
  );
  const management = new Set(
    [(e as { account?: unknown }).account, d.recipientAccountId].filter(
      (v): v is string => typeof v === 'string',
    ),
  );
  const real = candidates.filter(
    ([, value]) => typeof value === 'string' && isAccountId(value.trim()),
  );
  // A real id wins over "Not Available" or a number elsewhere; the member's over the management's.
  const found =
    real.find(([, value]) => !management.has((value as string).trim())) ??
    real[0] ??
    candidates.find(([, value]) => value !== undefined && value !== null);
  if (!found) {
    throw new MalformedEventError(
      'field "detail.serviceEventDetails.accountId" is missing (also looked in ' +
        'detail.requestParameters and detail.additionalEventData)',
      'detail.serviceEventDetails.accountId',
    );
  }
  return found;
}

/**
 * The outcome of a CloseAccount (logged in the management account once the background closure
 * ends): SUCCEEDED records the closure (if the CloseAccount call did not already); FAILED is an
 * alert, since admins may have been told the account was closing and it stays in the organization.
 * AWS publishes no sample of this event: the state and the id are looked for where comparable
 * events put them, and an event this reader cannot make out is ignored with the reason (the
 * CloseAccount call and the daily sweep record closures anyway), not sent to the DLQ.
 */
function closeAccountResult(d: Detail, e: Envelope, ctx: Context): TriggerDecision {
  const details = objectish(d.serviceEventDetails) ?? {};
  const status = objectish(details.closeAccountStatus) ?? details;
  const state = oneLine(status.state)?.toUpperCase();
  let found: [string, unknown] | undefined;
  try {
    found = isAccountId(status.accountId)
      ? ['detail.serviceEventDetails.closeAccountStatus.accountId', status.accountId]
      : lifecycleAccountId(d, e);
  } catch {
    found = undefined;
  }
  const id = found && isAccountId(found[1]) ? (found[1] as string) : undefined;
  if (state === 'SUCCEEDED' && id) {
    return dropUndefined({
      flow: 'offboard' as const,
      eventId: ctx.eventId,
      accountId: id,
      trigger: 'CloseAccountResult' as const,
      departure: 'closing' as const,
      time: ctx.time,
    });
  }
  if (state === 'FAILED') {
    return alert(ctx, 'CloseAccountResult', {
      reason: oneLine(status.failureReason) ?? 'CloseAccountResult FAILED without a failureReason',
      accountId: id,
    });
  }
  return ignore(
    ctx.eventId,
    state === 'SUCCEEDED'
      ? 'CloseAccountResult SUCCEEDED names no account: the CloseAccount call and the daily sweep record the closure'
      : `CloseAccountResult ${state ? `state "${clip(state)}"` : 'without a state'} is neither SUCCEEDED nor FAILED`,
  );
}

function moveAccount(d: Detail, ctx: Context): TriggerDecision {
  const errorCode = oneLine(d.errorCode);
  if (errorCode)
    return ignore(ctx.eventId, `MoveAccount failed (${clip(errorCode)}): nothing moved`);
  const params = objectish(d.requestParameters);
  if (!params) {
    throw new MalformedEventError(
      'field "detail.requestParameters" is missing or not an object',
      'detail.requestParameters',
    );
  }
  const move = dropUndefined({
    sourceParentId: parentId(params.sourceParentId),
    destinationParentId: parentId(params.destinationParentId),
  });
  return {
    ...onboard(
      ctx,
      'MoveAccount',
      accountId(params.accountId, 'detail.requestParameters.accountId'),
    ),
    move,
  };
}

function managedAccount(
  d: Detail,
  eventName: 'CreateManagedAccount' | 'UpdateManagedAccount',
  ctx: Context,
): TriggerDecision {
  const key =
    eventName === 'CreateManagedAccount'
      ? 'createManagedAccountStatus'
      : 'updateManagedAccountStatus';
  const field = `detail.serviceEventDetails.${key}`;
  const status = objectAt(d, ['serviceEventDetails', key], field);
  const state = requiredText(status.state, `${field}.state`).toUpperCase();
  const account = objectish(status.account);
  if (state === 'SUCCEEDED') {
    return onboard(
      ctx,
      eventName,
      accountId(account?.accountId, `${field}.account.accountId`),
      true,
    );
  }
  if (state === 'FAILED') {
    return alert(ctx, eventName, {
      reason: oneLine(status.message) ?? `${eventName} FAILED`,
      accountId: optionalAccountId(account?.accountId),
      accountName: displayName(account?.accountName),
    });
  }
  return ignore(ctx.eventId, notFinal(eventName, state));
}

function envelope(input: unknown): Envelope {
  const checked = validate(EnvelopeCheck, input);
  if (checked.ok) return checked.value;
  const issue = checked.issues[0];
  const field = issue?.path.map(String).join('.') || '(event)';
  throw new MalformedEventError(`field "${field}" ${issue?.message ?? 'is invalid'}`, field);
}

function onboard(
  ctx: Context,
  trigger: Trigger,
  accountId: string,
  controlTower = false,
): TriggerDecision & { flow: 'onboard' } {
  return { flow: 'onboard', eventId: ctx.eventId, accountId, trigger, controlTower };
}

function alert(
  ctx: Context,
  trigger: Trigger | 'CloseAccountResult',
  fields: { reason: string; accountId?: string; accountName?: string; requestId?: string },
): TriggerDecision {
  return dropUndefined({ flow: 'alert', eventId: ctx.eventId, trigger, time: ctx.time, ...fields });
}

function ignore(eventId: string | undefined, reason: string): TriggerDecision {
  return dropUndefined({ flow: 'ignore', eventId, reason });
}

function notFinal(eventName: string, state: string): string {
  return state === 'IN_PROGRESS'
    ? `${eventName} is still IN_PROGRESS`
    : `${eventName} state "${clip(state)}" is neither SUCCEEDED nor FAILED`;
}

/** A required 12-digit account id, or MalformedEventError naming the field. */
function accountId(value: unknown, field: string): string {
  if (value === undefined || value === null) {
    throw new MalformedEventError(`field "${field}" is missing`, field);
  }
  if (!isAccountId(value)) {
    throw new MalformedEventError(`field "${field}" must be a 12-digit AWS account id`, field);
  }
  return value;
}

/** Failed events may carry no id, "Not Available" or anything else: only a real id is kept. */
function optionalAccountId(value: unknown): string | undefined {
  return isAccountId(value) ? value : undefined;
}

function parentId(value: unknown): string | undefined {
  return typeof value === 'string' && PARENT_ID.test(value) ? value : undefined;
}

/** A name worth showing: not redacted ("****"), not "Not Available". Never used to decide. */
function displayName(value: unknown): string | undefined {
  const name = oneLine(value, 128);
  if (!name || /^\*+$/.test(name) || name.toLowerCase() === 'not available') return undefined;
  return name;
}

function objectAt(d: Detail, path: [string, string], field: string): Record<string, unknown> {
  const found = objectish(objectish(d[path[0]])?.[path[1]]);
  if (!found) throw new MalformedEventError(`field "${field}" is missing or not an object`, field);
  return found;
}

function requiredText(value: unknown, field: string): string {
  const t = text(value);
  if (!t) throw new MalformedEventError(`field "${field}" is missing or not a string`, field);
  return t;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** An object, or a JSON object serialised as a string; "None" and anything else are absent. */
function objectish(v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== 'string') return record(v);
  const t = v.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    return record(JSON.parse(t));
  } catch {
    return undefined;
  }
}

/** A non-empty trimmed string, or undefined for anything else. */
function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t ? t : undefined;
}

/** Text for a message: one line, no control characters (CR/LF included), length capped. */
function oneLine(v: unknown, max = 1024): string | undefined {
  const t = typeof v === 'string' ? flatten(v) : '';
  return t ? truncate(t, max) : undefined;
}

function clip(s: string): string {
  return s.slice(0, 64);
}
