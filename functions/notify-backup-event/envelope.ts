import { createHash } from 'node:crypto';
import { MalformedEventError } from '../shared/errors';
import { wellFormed } from '../shared/format';
import { isRegion } from '../shared/patterns';

/**
 * The EventBridge envelope and the lenient field readers every event parser of the notification
 * flow uses (job events, the other AWS Backup events, CloudTrail calls). Every string is made
 * well-formed here, before it can reach an SDK call. Only what leaves nothing to say is rejected.
 */

export interface Envelope {
  /** The event id, or a stable synthetic one so redeliveries still deduplicate. */
  eventId: string;
  /** The id as sent, when it was readable. */
  rawId?: string;
  source: string;
  /** Absent when missing: a parser that needs it rejects the event (requireDetailType). */
  detailType?: string;
  /** Absent when unreadable; parsers that need it say so. */
  accountId?: string;
  region?: string;
  time?: string;
  resources: unknown[];
  detail?: Record<string, unknown>;
  /** Display-only fields that were unreadable and left out (logged, never fatal). */
  warnings: string[];
}

const ACCOUNT = /^\d{12,13}$/;

/** Reads the envelope's fields; throws only without a source (nothing to even ignore by). */
export function readEnvelope(input: unknown): Envelope {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new MalformedEventError('event must be a JSON object', '(event)');
  }
  const raw = input as Record<string, unknown>;
  const rawId = typeof raw.id === 'string' ? text(raw.id)?.slice(0, 256) : undefined;
  const source = text(raw.source);
  if (!source) throw new MalformedEventError('field "source" is missing or not a string', 'source');
  const detailType = text(raw['detail-type']);
  const warnings: string[] = [];
  const unreadable = (field: string) => warnings.push(unreadableWarning(field));
  if (!rawId) unreadable('id');
  const account = text(raw.account);
  const region = text(raw.region);
  if (region !== undefined && !isRegion(region)) unreadable('region');
  const time = typeof raw.time === 'string' && raw.time.length <= 64 ? text(raw.time) : undefined;
  if (raw.time !== undefined && time === undefined) unreadable('time');
  if (raw.resources !== undefined && !Array.isArray(raw.resources)) unreadable('resources');
  return {
    eventId: rawId ?? syntheticId(raw),
    ...(rawId ? { rawId } : {}),
    source,
    ...(detailType ? { detailType } : {}),
    ...(account && ACCOUNT.test(account) ? { accountId: account } : {}),
    ...(region && isRegion(region) ? { region } : {}),
    ...(time ? { time } : {}),
    resources: Array.isArray(raw.resources) ? raw.resources : [],
    ...(record(raw.detail) ? { detail: record(raw.detail) } : {}),
    warnings,
  };
}

export const unreadableWarning = (field: string) => `field "${field}" is unreadable; left out`;

export function requireDetailType(envelope: Envelope): string {
  if (envelope.detailType) return envelope.detailType;
  throw new MalformedEventError('field "detail-type" is missing or not a string', 'detail-type');
}

/** The account, or MalformedEventError naming the field: without it nobody can be told. */
export function requireAccount(envelope: Envelope, raw: unknown): string {
  if (envelope.accountId) return envelope.accountId;
  const value = (raw as { account?: unknown }).account;
  throw new MalformedEventError(
    `field "account" ${value === undefined ? 'is missing' : 'must be an AWS account id (12 digits)'}`,
    'account',
  );
}

/** The detail, or MalformedEventError: an event without one says nothing. */
export function requireDetail(envelope: Envelope): Record<string, unknown> {
  if (envelope.detail) return envelope.detail;
  throw new MalformedEventError('field "detail" is missing or not a JSON object', 'detail');
}

/** A stable id for an event that has none, so its redeliveries still deduplicate. */
function syntheticId(raw: Record<string, unknown>): string {
  let json: string;
  try {
    json = JSON.stringify(raw) ?? '';
  } catch {
    json = '';
  }
  return `no-id-${createHash('sha256').update(wellFormed(json)).digest('hex').slice(0, 32)}`;
}

export function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** A non-empty trimmed, well-formed string, or undefined for anything else. */
export function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = wellFormed(v).trim();
  return t ? t : undefined;
}

/** ARNs arrive as `{}` or "" when absent (copy jobs, for one). */
export function arn(v: unknown): string | undefined {
  const t = text(v);
  return t?.startsWith('arn:') ? t : undefined;
}

/** Strips the literal quotes some events wrap around the message: "\"Access denied\"". */
export function statusMessage(v: unknown): string | undefined {
  let t = text(v);
  for (let unwrapped = t && unquote(t); t && unwrapped !== undefined; unwrapped = t && unquote(t)) {
    t = unwrapped.trim();
  }
  return t ? t : undefined;
}

/** The text inside one pair of wrapping quotes, or undefined when it is not wrapped. */
function unquote(t: string): string | undefined {
  if (t.length < 2) return undefined;
  const q = t[0];
  if ((q !== '"' && q !== "'") || t[t.length - 1] !== q) return undefined;
  if (q === '"') {
    try {
      const parsed: unknown = JSON.parse(t);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // not a JSON string literal: fall through to the plain rule
    }
  }
  const inner = t.slice(1, -1);
  // "a" and "b" is two quoted words, not one wrapped message.
  return inner.includes(q) ? undefined : inner;
}

/** Sizes are strings in backup jobs and numbers in copy jobs. */
export function count(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** percentDone is a number in events and "99.0" or "0.00%" strings in the API. */
export function percent(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseFloat(v) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
}

/** true/false, also as the strings "true"/"false" some events carry ("isLocked": "true"). */
export function flag(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const t = text(v)?.toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** ISO 8601, epoch seconds or milliseconds, or "Jul 15, 2020 9:39:07 PM" (taken as UTC). */
export function awsDate(v: unknown): Date | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) {
    return validDate(new Date(v < 1e11 ? v * 1000 : v));
  }
  if (typeof v !== 'string' || !v.trim()) return undefined;
  const s = v.trim();
  const legacy =
    /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})\s*([AaPp][Mm])?$/.exec(
      s,
    );
  if (legacy) {
    const [, mon, day, year, h, min, sec, ampm] = legacy;
    const month = MONTHS.indexOf(mon!.toLowerCase());
    if (month < 0) return undefined;
    let hour = Number(h);
    if (ampm) hour = (hour % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0);
    return validDate(
      new Date(Date.UTC(Number(year), month, Number(day), hour, Number(min), Number(sec))),
    );
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return validDate(new Date(s));
  return undefined;
}

function validDate(d: Date): Date | undefined {
  return Number.isNaN(d.getTime()) ? undefined : d;
}
