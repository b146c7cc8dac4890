import type { SQSRecord } from 'aws-lambda';
import { decide } from '../../functions/notify-backup-event/decide';
import { buildNotifyDeps, createHandler } from '../../functions/notify-backup-event/handler';
import type { Config } from '../../functions/shared/config/schema';
import { lambdaContext, sqsEvent } from '../helpers/lambda';
import {
  forgetCalls,
  installChannels,
  installOrganizations,
  installTable,
  type ChannelCall,
} from './aws';
import { backupSamples, JOB_ID_FIELD, NOTIFYING_STATES, type Json } from './events';
import { countBy, type ErrorLog } from './log';
import { Prng } from './prng';

/**
 * Scenario 3: seeded mutations of every aws.backup sample through the deployed handler in
 * batches of 10 (one warm container, SDK mocked, real time). Account names from Organizations
 * are hostile too. Each SES and SNS request is inspected as the SDK would serialize it.
 */

export interface FuzzOptions {
  seed: string;
  events: number;
  chatTopicArn: string;
  config: Config;
  errors: ErrorLog;
  progress: (line: string) => void;
}

const LONE = ['\uD800', 'a\uDC00b', '\uDBFF', '\uDFFF\uD800', 'x\uD83D'];
const CONTROL = ['\r\n', '\n', '\u0000', '\u001b[31m', '\u0085', '\u2028', '\t', '\u007f'];
const INVISIBLE = ['\u200B', '\u200D', '\uFEFF', '\u2060', '\u00AD', '\u{E0041}\u{E007F}'];
const BIDI = ['\u202E', '\u2066', '\u061C', '\u202Dtxt.exe\u202C'];
const LINKS = [
  'https://evil.example/login',
  'http://evil.com',
  'HTTPS://EVIL.COM/a?b=c',
  'www.evil.com',
  'evil.com',
  'bit.ly/abc',
  'ｈｔｔｐｓ：／／evil.com',
  '<https://evil.com|click here>',
  '[click](https://evil.com)',
  'ftp://files.evil.net/x',
  'http://169.254.169.254/latest',
  '[docs](https://docs.example)(https://evil.example/login)',
];
const MENTIONS = [
  '@here',
  '@channel',
  '@everyone',
  '<!channel>',
  '<!here>',
  '<@U012ABCDEF>',
  '＠here',
];
const MARKUP = [
  '*bold*',
  '_x_',
  '`code`',
  '```',
  '~~x~~',
  '|',
  '<script>alert(1)</script>',
  '&amp;',
];
const PROTO = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
const ODD = [
  '',
  '   ',
  '🔥',
  'e\u0301',
  '111122223333',
  '1111222233334',
  '11112222333',
  '-1',
  'null',
];
const FRAGMENTS = [
  ...LONE,
  ...CONTROL,
  ...INVISIBLE,
  ...BIDI,
  ...LINKS,
  ...MENTIONS,
  ...MARKUP,
  ...PROTO,
  ...ODD,
];

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INVISIBLE_CHARS =
  /[\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF]|[\u{E0000}-\u{E007F}]/u;
const SCHEME = /\b([a-z][a-z0-9+.-]{1,15}):\/\//gi;
const WWW = /\bwww\.[a-z0-9-]+\.[a-z]{2,}/i;
const BARE = /\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|ly|ru|xyz|me|co|app|dev|info)\b/gi;
const MENTION =
  /(?:^|[^\w])@(?:here|channel|everyone)\b|<!(?:here|channel|everyone|subteam)|<@[UW][A-Z0-9]+>/i;
/** Our own console links (built from checked parts) are meant to be live. */
const OWN_LINK = /https:\/\/(?:[a-z0-9-]+\.)?console\.aws\.amazon\.com\/[^\s)`'"]*/g;

/**
 * Why a text would be live in a mail or chat client (a link or a mention, shown with what is
 * around it), or undefined. Look-alikes the code puts in on purpose (＠, ‹ ›, hxxps, [.]) are
 * not live; the text is read as the client gets it, not normalized.
 */
export function liveness(raw: string): string | undefined {
  const text = raw.replace(OWN_LINK, '');
  const around = (index: number, length: number) =>
    JSON.stringify(text.slice(Math.max(0, index - 25), index + length + 25));
  for (const m of text.matchAll(SCHEME)) {
    const s = m[1]!.toLowerCase();
    // A kept scheme before a defanged host ("https://evil[.]com") leads nowhere: not live.
    const host = /^[^\s/?#<>"'`()[\]]*/.exec(text.slice(m.index + m[0].length))![0];
    if (/^hxxps?$/.test(s) || s.endsWith('-x') || !/[.:]|^localhost$/i.test(host)) continue;
    return `link ${around(m.index, m[0].length + host.length)}`;
  }
  const www = WWW.exec(text);
  if (www) return `link ${around(www.index, www[0].length)}`;
  for (const m of text.matchAll(BARE)) {
    if (!/(?:amazonaws\.com|aws\.amazon\.com|example\.com)$/i.test(m[0])) {
      return `link ${around(m.index, m[0].length)}`;
    }
  }
  const mention = MENTION.exec(text);
  if (mention) return `mention ${around(mention.index, mention[0].length)}`;
  return undefined;
}

/** C0 and C1 controls, CR and LF among them, and the Unicode line separators. */
function hasControl(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

/** Paths to every value of an event (top level, detail, createdBy, list items). */
function paths(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, String(i)]);
      paths(v, [...prefix, String(i)], out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      paths(v, [...prefix, k], out);
    }
  }
  return out;
}

function parentOf(root: Json, path: string[]): Record<string, unknown> | unknown[] | undefined {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

function hostile(rng: Prng, n = rng.range(1, 3)): string {
  return Array.from({ length: n }, () => rng.pick(FRAGMENTS)).join(rng.pick(['', ' ', '-']));
}

function giant(rng: Prng): string {
  const size = rng.range(20_000, 250_000);
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const p = rng.chance(0.3) ? hostile(rng) : rng.pick(['word ', 'x'.repeat(500), 'ab', '\u0301']);
    parts.push(p);
    length += p.length;
  }
  return parts.join('');
}

function oddValue(rng: Prng): unknown {
  return rng.pick<() => unknown>([
    () => rng.int(1e6),
    () => -1,
    () => 1e308,
    () => 12.5,
    () => true,
    () => null,
    () => [],
    () => [hostile(rng), 3],
    () => ({}),
    () => ({ nested: hostile(rng) }),
    () => hostile(rng),
    () => rng.pick(ODD),
    () => rng.pick(PROTO),
    () => giant(rng),
  ])();
}

/** One mutation of `event`, described in a few words. */
function mutate(rng: Prng, event: Json): string {
  const all = paths(event);
  const roll = rng.int(100);
  if (roll < 12) {
    // Display fields the README names: id, region, time, resources.
    const field = rng.pick(['id', 'region', 'time', 'resources']);
    const v = oddValue(rng);
    event[field] = v;
    return `${field}=${describe(v)}`;
  }
  if (roll < 18) {
    const field = rng.pick(['id', 'region', 'time', 'resources', 'version']);
    delete event[field];
    return `delete ${field}`;
  }
  if (!all.length) return 'nothing';
  const path = rng.pick(all);
  const parent = parentOf(event, path);
  if (!parent) return 'nothing';
  const key = path[path.length - 1]!;
  const current = (parent as Record<string, unknown>)[key];
  const name = path.join('.');
  if (roll < 30) {
    const v = oddValue(rng);
    (parent as Record<string, unknown>)[key] = v;
    return `${name}=${describe(v)}`;
  }
  if (roll < 38) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete (parent as Record<string, unknown>)[key];
    return `delete ${name}`;
  }
  if (roll < 85 && typeof current === 'string') {
    const at = rng.int(current.length + 1);
    const piece = hostile(rng);
    (parent as Record<string, unknown>)[key] = current.slice(0, at) + piece + current.slice(at);
    return `${name}+=${describe(piece)}`;
  }
  if (roll < 90 && typeof current === 'string') {
    (parent as Record<string, unknown>)[key] = current + giant(rng);
    return `${name}+=giant`;
  }
  const v =
    typeof current === 'string'
      ? rng.chance(0.5)
        ? Number(current) || 7
        : [current]
      : String(current);
  (parent as Record<string, unknown>)[key] = v;
  return `${name} retyped to ${describe(v)}`;
}

function describe(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 40)}…(${s.length} chars)` : s;
}

/**
 * Notifiable by the README's rule, read independently of the parser: source aws.backup, a job
 * detail-type, a 12 or 13 digit account, a detail object and a state (or restore status) that
 * notifies. Such an event must never be rejected for what else it carries.
 */
export function notifiable(event: unknown): boolean {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return false;
  const e = event as Json;
  const d = e.detail;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return false;
  const detail = d as Json;
  const state = typeof detail.state === 'string' ? detail.state : detail.status;
  return (
    e.source === 'aws.backup' &&
    typeof e['detail-type'] === 'string' &&
    Object.hasOwn(JOB_ID_FIELD, e['detail-type']) &&
    typeof e.account === 'string' &&
    /^\d{12,13}$/.test(e.account) &&
    typeof state === 'string' &&
    (NOTIFYING_STATES as readonly string[]).includes(state)
  );
}

interface Case {
  body: string;
  event: unknown;
  mutations: string[];
}

/** Made ten at a time as the batches need them: giant strings are not all held at once. */
function* generate(rng: Prng, count: number): Generator<Case> {
  const templates = backupSamples();
  const accounts = Array.from({ length: 200 }, (_, i) => rng.digits(i % 10 === 0 ? 13 : 12));
  for (let i = 0; i < count; i++) {
    const event = structuredClone(rng.pick(templates).event);
    event.id = rng.uuid();
    event.account = rng.pick(accounts);
    const detail = event.detail as Json | undefined;
    const field = JOB_ID_FIELD[String(event['detail-type'])];
    if (detail && field) {
      detail[field] = rng.uuid();
      if (rng.chance(0.6)) {
        const key = 'status' in detail && !('state' in detail) ? 'status' : 'state';
        detail[key] = rng.pick(NOTIFYING_STATES);
      }
    }
    const mutations = Array.from({ length: rng.range(1, 4) }, () => mutate(rng, event));
    let body = JSON.stringify(event);
    if (rng.chance(0.05)) {
      body = JSON.stringify({ Type: 'Notification', Message: body });
      mutations.push('in an SNS envelope');
    } else if (rng.chance(0.01)) {
      body = body.slice(0, rng.int(body.length));
      mutations.push('truncated body');
    }
    // What the handler will read: the event after a JSON round trip.
    yield { body, event: JSON.parse(JSON.stringify(event)) as unknown, mutations };
  }
}

export async function runFuzz(o: FuzzOptions) {
  const rng = new Prng(`${o.seed}:fuzz`);
  const cases = generate(rng.fork('events'), o.events);
  const take = (n: number) => {
    const out: Case[] = [];
    while (out.length < n) {
      const next = cases.next();
      if (next.done) break;
      out.push(next.value);
    }
    return out;
  };
  const names = rng.fork('names');
  const accountNames = new Map<string, string>();
  const { items } = installTable(() => undefined);
  installOrganizations(
    (id) => {
      let name = accountNames.get(id);
      if (name === undefined) {
        name = names.chance(0.5) ? `Team ${hostile(names)} prod` : `Workload ${id.slice(-4)}`;
        accountNames.set(id, name);
      }
      return name;
    },
    () => undefined,
  );

  let sends = 0;
  let loneSurrogates = 0;
  const live: Record<string, number> = {};
  const liveExamples: string[] = [];
  const liveChat: Record<string, number> = {};
  const liveChatExamples: string[] = [];
  let invisible = 0;
  let control = 0;
  let subjectLimits = 0;
  const note = (where: string, text: string | undefined, chatBody: boolean) => {
    if (text === undefined) return;
    const why = liveness(text);
    if (!why) return;
    const tally = chatBody ? liveChat : live;
    const examples = chatBody ? liveChatExamples : liveExamples;
    tally[where] = (tally[where] ?? 0) + 1;
    if (tally[where]! <= 2 && examples.length < 10) examples.push(`${where}: ${why}`);
  };
  installChannels((call: ChannelCall) => {
    sends += 1;
    if (strings(call.input).some((s) => LONE_SURROGATE.test(s))) loneSurrogates += 1;
    if (call.kind === 'email') {
      const subject = call.input.Message?.Subject?.Data ?? '';
      note('email subject', subject, false);
      if (INVISIBLE_CHARS.test(subject)) invisible += 1;
      if (hasControl(subject)) control += 1;
      if (Array.from(subject).length > 200) subjectLimits += 1;
    } else {
      const subject = call.input.Subject ?? '';
      note('sns subject', subject, false);
      if (!/^[\x20-\x7e]{0,99}$/.test(subject)) subjectLimits += 1;
      for (const [k, v] of Object.entries(call.input.MessageAttributes ?? {})) {
        note(`sns attribute ${k}`, v.StringValue, false);
        if (INVISIBLE_CHARS.test(v.StringValue ?? '') || hasControl(v.StringValue ?? '')) {
          invisible += 1;
        }
      }
      const body = JSON.parse(call.input.Message ?? '{}') as {
        content?: { title?: string; description?: string; keywords?: string[] };
        metadata?: {
          threadId?: string;
          summary?: string;
          additionalContext?: Record<string, string>;
        };
      };
      note('chat title', body.content?.title, true);
      note('chat description', body.content?.description, true);
      for (const k of body.content?.keywords ?? []) note('chat keyword', k, true);
      note('chat threadId', body.metadata?.threadId, true);
      note('chat summary', body.metadata?.summary, true);
      for (const [k, v] of Object.entries(body.metadata?.additionalContext ?? {})) {
        if (k !== 'consoleUrl') note(`chat context ${k}`, v, true);
      }
    }
    return `sent-${sends}`;
  });

  // decide() on its own: which exceptions does parsing and classification throw?
  const decideThrows: string[] = [];
  const decideExamples: string[] = [];
  const decideAlone = (c: Case) => {
    let input: unknown;
    try {
      input = JSON.parse(c.body);
      if ((input as Json)?.Type === 'Notification') {
        input = JSON.parse(String((input as Json).Message));
      }
    } catch {
      return;
    }
    try {
      decide(input, o.config);
    } catch (error) {
      const name = (error as Error)?.name ?? typeof error;
      if (name !== 'MalformedEventError') {
        decideThrows.push(name);
        if (decideExamples.length < 5) {
          decideExamples.push(
            `${name}: ${(error as Error)?.message} after ${c.mutations.join('; ')}`,
          );
        }
      }
    }
  };

  const handler = createHandler(() => buildNotifyDeps());
  let batchCrashes = 0;
  const crashExamples: string[] = [];
  let notifiableCount = 0;
  let notifiableRejected = 0;
  const rejectedExamples: string[] = [];
  let notifiableNothingSent = 0;
  const silentExamples: string[] = [];
  let failedRecords = 0;
  let errorMapMismatch = 0;
  const failureNames: string[] = [];
  const nonMalformedExamples: string[] = [];
  const toCheck: { key: string | undefined; why: string }[] = [];
  let total = 0;
  for (let i = 0; i < o.events; i += 10) {
    const batch = take(Math.min(10, o.events - i));
    total += batch.length;
    batch.forEach(decideAlone);
    const records: SQSRecord[] = batch.map((c, j) => ({
      messageId: `f-${i + j}`,
      receiptHandle: `r-${i + j}`,
      body: c.body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1748736000000',
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: '1748736000000',
      },
      messageAttributes: {},
      md5OfBody: '-',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:backup-control-plane-dev-notifications',
      awsRegion: 'us-east-1',
    }));
    const logged = o.errors.entries.length;
    let failedIds: string[];
    try {
      const response = await handler(
        sqsEvent(...records),
        lambdaContext({ getRemainingTimeInMillis: () => 60_000 }),
      );
      failedIds = response.batchItemFailures.map((f) => f.itemIdentifier);
    } catch (error) {
      batchCrashes += 1;
      if (crashExamples.length < 5) crashExamples.push(String((error as Error)?.stack ?? error));
      continue;
    }
    const errors = o.errors.entries.slice(logged);
    if (errors.length !== failedIds.length) errorMapMismatch += 1;
    const errorOf = new Map(failedIds.map((id, k) => [id, errors[k]]));
    batch.forEach((c, j) => {
      const id = `f-${i + j}`;
      const failed = errorOf.has(id);
      const error = errorOf.get(id);
      if (failed) {
        failedRecords += 1;
        failureNames.push(error?.name ?? '?');
        if (error?.name !== 'MalformedEventError' && nonMalformedExamples.length < 5) {
          nonMalformedExamples.push(
            `${error?.name}: ${error?.message} after ${c.mutations.join('; ')}`,
          );
        }
      }
      if (!notifiable(c.event) || c.mutations.includes('truncated body')) return;
      notifiableCount += 1;
      if (failed) {
        notifiableRejected += 1;
        if (rejectedExamples.length < 8) {
          rejectedExamples.push(
            `${error?.name}: ${error?.message} after ${c.mutations.join('; ')}`,
          );
        }
        return;
      }
      const decision = decide(structuredClone(c.event), o.config);
      toCheck.push({
        key: decision.flow === 'notify' ? `DELIVERY#${decision.notice.dedupKey}` : undefined,
        why: `${decision.flow === 'ignore' ? `ignored (${decision.reason})` : 'no delivery'} after ${c.mutations.join('; ')}`,
      });
    });
    forgetCalls();
    if ((i / 10) % 100 === 99) o.progress(`fuzz: ${i + 10}/${o.events} events`);
  }

  // Notifiable events that went through: is there a delivered record for their key?
  const delivered = new Set(
    [...items.values()].filter((i) => i.status?.S === 'DELIVERED').map((i) => i.pk?.S),
  );
  for (const c of toCheck) {
    if (c.key !== undefined && delivered.has(c.key)) continue;
    notifiableNothingSent += 1;
    if (silentExamples.length < 5) silentExamples.push(c.why);
  }

  const liveCount = Object.values(live).reduce((a, b) => a + b, 0);
  const nonMalformed = failureNames.filter((n) => n !== 'MalformedEventError').length;
  return {
    events: total,
    batches: Math.ceil(total / 10),
    batchCrashes,
    notifiableEvents: notifiableCount,
    notifiableRejected,
    notifiableNothingSent,
    failedRecords,
    failuresByError: countBy(failureNames),
    nonMalformedExceptions: nonMalformed,
    decideNonMalformedExceptions: decideThrows.length,
    sesSnsRequests: sends,
    loneSurrogatesInRequests: loneSurrogates,
    liveLinksOrMentions: liveCount,
    liveLinksOrMentionsByField: live,
    liveLinksOrMentionsInChatBody: Object.values(liveChat).reduce((a, b) => a + b, 0),
    liveLinksOrMentionsInChatBodyByField: liveChat,
    invisibleOrControlCharsInSubjectsOrAttributes: invisible + control,
    subjectLimitViolations: subjectLimits,
    examples: {
      crashes: crashExamples,
      notifiableRejected: rejectedExamples,
      notifiableNothingSent: silentExamples,
      nonMalformed: nonMalformedExamples,
      decideNonMalformed: decideExamples,
      live: liveExamples,
      liveInChatBody: liveChatExamples,
    },
    harnessChecks: { batchesWhereLoggedErrorsDidNotMatchFailures: errorMapMismatch },
  };
}
