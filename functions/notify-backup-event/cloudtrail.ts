import { record, text, type Envelope } from './envelope';
import { isRegion } from '../shared/patterns';
import { ACCOUNT_ID_PATTERN } from '../shared/patterns';

/**
 * CloudTrail management events as EventBridge delivers them (`AWS API Call via CloudTrail`),
 * read defensively: any field may be missing or differently shaped. Only what the tamper rules
 * use is kept, made well-formed.
 */

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';

export interface Identity {
  /** Who, readable: "alice@example.com (IAM Identity Center, AdministratorAccess)". */
  who: string;
  type?: string;
  /** The role behind an assumed-role session. */
  roleName?: string;
  sessionName?: string;
  arn?: string;
  accountId?: string;
  /** The AWS service that made the call for someone (cloudformation.amazonaws.com, ...). */
  invokedBy?: string;
}

export interface ApiCall {
  eventId: string;
  eventName: string;
  /** "backup", "events", "iam", "organizations": the service part of eventSource or source. */
  service: string;
  /** The account the call changed (recipientAccountId), else the envelope's. */
  accountId?: string;
  region?: string;
  time?: string;
  identity: Identity;
  sourceIp?: string;
  userAgent?: string;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
  /** Set when the call failed: nothing changed. */
  errorCode?: string;
  errorMessage?: string;
}

export function isApiCallEvent(envelope: Pick<Envelope, 'detailType'>): boolean {
  return envelope.detailType === CLOUDTRAIL_DETAIL_TYPE;
}

/** The call, or the reason it cannot be read (never thrown: an unreadable call is not an alert). */
export function readApiCall(envelope: Envelope): ApiCall | { unreadable: string } {
  const d = envelope.detail;
  if (!d) return { unreadable: 'no detail object' };
  const eventName = text(d.eventName);
  if (!eventName || !/^[A-Za-z0-9]{1,128}$/.test(eventName)) {
    return { unreadable: 'detail.eventName is missing or not an API name' };
  }
  const eventSource = text(d.eventSource);
  const service = (
    eventSource?.replace(/\.amazonaws\.com$/, '') ?? envelope.source.replace(/^aws\./, '')
  )
    .toLowerCase()
    .slice(0, 64);
  const recipient = text(d.recipientAccountId);
  const awsRegion = text(d.awsRegion);
  const call: ApiCall = {
    eventId: text(d.eventID) ?? envelope.eventId,
    eventName,
    service,
    ...(recipient && ACCOUNT_ID_PATTERN.test(recipient)
      ? { accountId: recipient }
      : envelope.accountId
        ? { accountId: envelope.accountId }
        : {}),
    ...(isRegion(awsRegion)
      ? { region: awsRegion }
      : envelope.region
        ? { region: envelope.region }
        : {}),
    ...((text(d.eventTime) ?? envelope.time)
      ? { time: (text(d.eventTime) ?? envelope.time)!.slice(0, 64) }
      : {}),
    identity: readIdentity(d.userIdentity),
    ...(text(d.sourceIPAddress) ? { sourceIp: text(d.sourceIPAddress)!.slice(0, 256) } : {}),
    ...(text(d.userAgent) ? { userAgent: text(d.userAgent)!.slice(0, 256) } : {}),
    request: record(d.requestParameters) ?? {},
    response: record(d.responseElements) ?? {},
    ...(text(d.errorCode) ? { errorCode: text(d.errorCode)!.slice(0, 128) } : {}),
    ...(text(d.errorMessage) ? { errorMessage: text(d.errorMessage)!.slice(0, 512) } : {}),
  };
  return call;
}

/** `arn:aws:sts::111122223333:assumed-role/Admin/alice` → role Admin, session alice. */
function assumedRoleParts(arn: string | undefined): { role?: string; session?: string } {
  const m = arn ? /:assumed-role\/(?:.*\/)?([^/]+)\/([^/]+)$/.exec(arn) : null;
  return m ? { role: m[1], session: m[2] } : {};
}

/** IAM Identity Center roles: AWSReservedSSO_<permission set>_<hex>. */
function permissionSet(role: string): string | undefined {
  const m = /^AWSReservedSSO_(.+)_[0-9a-f]{8,}$/.exec(role);
  return m?.[1];
}

/** Who made a call, in words an on-call engineer can act on, from CloudTrail's userIdentity. */
export function readIdentity(raw: unknown): Identity {
  const u = record(raw);
  if (!u) return { who: 'an unknown identity (the event has no userIdentity)' };
  const type = text(u.type);
  const arn = text(u.arn);
  const accountId = text(u.accountId);
  const invokedBy = text(u.invokedBy);
  const issuer = record(record(u.sessionContext)?.sessionIssuer);
  const base = {
    ...(type ? { type } : {}),
    ...(arn ? { arn } : {}),
    ...(accountId ? { accountId } : {}),
    ...(invokedBy ? { invokedBy } : {}),
  };
  const via = invokedBy ? `, through ${invokedBy}` : '';
  const inAccount = accountId ? ` of account ${accountId}` : '';
  switch (type) {
    case 'Root':
      return { ...base, who: `the root user${inAccount}${via}` };
    case 'IAMUser':
      return {
        ...base,
        who: `IAM user ${text(u.userName) ?? arn ?? '(unnamed)'}${inAccount}${via}`,
      };
    case 'AssumedRole': {
      const parts = assumedRoleParts(arn);
      const roleName = text(issuer?.userName) ?? parts.role;
      const sessionName = parts.session;
      const ps = roleName ? permissionSet(roleName) : undefined;
      const who = ps
        ? `${sessionName ?? 'a user'} (IAM Identity Center, permission set ${ps})${inAccount}${via}`
        : `role ${roleName ?? '(unknown)'}${sessionName ? `, session ${sessionName}` : ''}${inAccount}${via}`;
      return {
        ...base,
        ...(roleName ? { roleName } : {}),
        ...(sessionName ? { sessionName } : {}),
        who,
      };
    }
    case 'FederatedUser':
      return { ...base, who: `federated user ${arn ?? text(u.principalId) ?? '(unknown)'}${via}` };
    case 'AWSService':
      return { ...base, who: `AWS service ${invokedBy ?? '(unnamed)'}` };
    case 'AWSAccount':
      return { ...base, who: `account ${accountId ?? text(u.principalId) ?? '(unknown)'}${via}` };
    case 'IdentityCenterUser': {
      const user = text(record(u.onBehalfOf)?.userId);
      return { ...base, who: `IAM Identity Center user ${user ?? '(unknown)'}${via}` };
    }
    default:
      return {
        ...base,
        who: `${type ? `${type} ` : ''}${arn ?? text(u.principalId) ?? 'unknown identity'}${via}`,
      };
  }
}
