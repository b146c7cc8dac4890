import type { JobType } from './config/vocabulary';
import { currentPartition, regionPartition } from './partition';

/** Human-facing formatting and the sanitisers every channel relies on. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function humanBytes(bytes: number | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function humanDuration(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const CONSOLE_JOB_PATH: Readonly<Record<JobType, string>> = {
  backup: 'backup',
  copy: 'copy',
  restore: 'restore',
};

/**
 * A page of the AWS Backup console (open it signed in to the account it concerns): `fragment` is
 * the part after `#`. Without a region, the console's default region.
 */
export function consoleBackupUrl(region: string | undefined, fragment: string): string {
  return consoleUrl('backup', region, fragment);
}

/** The AWS Backup console page of one job; without an id, the list of jobs of its type. */
export function consoleJobUrl(
  jobType: JobType,
  region: string | undefined,
  jobId?: string,
): string {
  const base = `/jobs/${CONSOLE_JOB_PATH[jobType]}`;
  return consoleBackupUrl(region, jobId ? `${base}/details/${encodeURIComponent(jobId)}` : base);
}

/**
 * A service's console page in a region: GuardDuty findings, CloudTrail event history. The
 * console's host follows the region's partition (console.amazonaws-us-gov.com,
 * console.amazonaws.cn); without a region, the partition the code runs in.
 */
export function consoleUrl(service: string, region: string | undefined, fragment = ''): string {
  const host = region
    ? regionPartition(region).consoleHost(region)
    : currentPartition().partition === 'aws'
      ? 'console.aws.amazon.com'
      : currentPartition().consoleHost('');
  const query = region ? `?region=${encodeURIComponent(region)}` : '';
  return `https://${host}/${service}/home${query}${fragment ? `#${fragment}` : ''}`;
}

/** `arn:aws:ec2:…:instance/i-0abc` → `i-0abc`; `arn:aws:rds:…:db:orders` → `orders`. */
export function resourceName(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const resource = arn.split(':').slice(5).join(':');
  const last = resource.split(/[/:]/).filter(Boolean).pop();
  return last ?? (resource || arn);
}

const FORMAT_CONTROLS = new Set([0x2028, 0x2029]);

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || FORMAT_CONTROLS.has(code);
}

/**
 * Lone UTF-16 surrogates become U+FFFD. The AWS SDK's serializer throws URIError on them and
 * then keeps a partial buffer that corrupts the client's next request: no ill-formed string may
 * reach an SDK call.
 */
export function wellFormed(text: string): string {
  return text.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
}

/** Every string in a plain JSON-like value, well-formed. */
export function wellFormedDeep<T>(value: T): T {
  if (typeof value === 'string') return wellFormed(value) as T;
  if (Array.isArray(value)) return value.map(wellFormedDeep) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [wellFormed(k), wellFormedDeep(v)]),
    ) as T;
  }
  return value;
}

/**
 * Characters that show nothing but change what a reader sees or a client does: zero-width
 * spaces and joiners, bidirectional controls (U+202E turns text around, U+061C too), the
 * Hangul fillers, variation selectors, Unicode tag characters (U+E0000 to U+E007F).
 */
const INVISIBLE_RANGES: readonly [number, number][] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff0, 0xfff8],
  [0xe0000, 0xe007f],
  [0xe0100, 0xe01ef],
];

function isInvisible(code: number): boolean {
  return INVISIBLE_RANGES.some(([from, to]) => code >= from && code <= to);
}

export function stripInvisible(text: string): string {
  let out = '';
  for (const ch of text) if (!isInvisible(ch.codePointAt(0)!)) out += ch;
  return out;
}

/** Replaces C0/C1 control characters (CR, LF, tab, ESC, ...) and Unicode line separators. */
export function stripControl(text: string, replacement = ' '): string {
  let out = '';
  for (const ch of wellFormed(stripInvisible(text))) {
    out += isControl(ch.codePointAt(0)!) ? replacement : ch;
  }
  return out;
}

/** One line, single spaces, no control or invisible characters, well-formed. */
export function oneLine(text: string): string {
  return stripControl(text).replace(/\s+/g, ' ').trim();
}

/**
 * A `scheme://` anywhere: glued to a previous link (`(https://a.b)(https://evil.example)`) or to
 * an identifier (`snap-0589HTTPS://evil.com`), so no word boundary is required.
 */
const SCHEME = /([a-z][a-z0-9+.-]{1,15}):\/\//gi;
/** The host (and user@) after a defanged scheme: only what those are made of, so nothing runs on. */
const DEFANGED_HOST = /(hxxps?|[a-z][a-z0-9+.-]{0,15}-x):\/\/([\p{L}\p{N}._~%@-]+)/giu;
const WWW_HOST = /\bwww\.([a-z0-9-]+(?:\.[a-z0-9-]+)+)/gi;
/**
 * A bare host: labels ending in one of letters only, any top-level domain (.shop, .store, .pw):
 * linkifiers know them all. Taken whole, so `login.microsoftonline.com.evil.store` is defanged to
 * its end, not only up to the `.com` inside it. A file name (`report.txt`) is defanged too:
 * harmless.
 */
const BARE_DOMAIN = /\b(?:[a-z0-9-]+\.)+[a-z]{2,63}\b/gi;
/** Service principals (backup.amazonaws.com) name no page anyone could serve. */
const SERVICE_PRINCIPAL = /^[a-z0-9-]+\.amazonaws\.com$/i;

/** Dots that are not defanged yet (defanging twice changes nothing). */
const defangHost = (host: string) => host.replace(/(?<!\[)\.(?!\])/g, '[.]');

/**
 * Makes links in outside text unclickable and still readable: `https://evil.example/x` →
 * `hxxps://evil[.]example/x`, `www.evil.com` → `www[.]evil[.]com`, `evil.com` → `evil[.]com`.
 */
export function defang(text: string): string {
  return inertId(text)
    .replace(WWW_HOST, (_, rest: string) => `www[.]${defangHost(rest)}`)
    .replace(BARE_DOMAIN, (match: string) =>
      SERVICE_PRINCIPAL.test(match) ? match : defangHost(match),
    );
}

/**
 * An identifier (ARN, job id) kept exact and copy-pasteable, but never a live link: only a
 * `scheme://` inside it is defanged, which no real identifier contains.
 */
export function inertId(text: string): string {
  // Every scheme first (one pass over the whole text, so a link glued onto another is found),
  // then the dots of every host that follows a defanged scheme.
  return oneLine(text)
    .replace(SCHEME, (match: string, scheme: string) => {
      const s = scheme.toLowerCase();
      if (/^hxxps?$|-x$/.test(s)) return match; // defanged already
      return `${s === 'http' || s === 'https' ? s.replace('tt', 'xx') : `${s}-x`}://`;
    })
    .replace(
      DEFANGED_HOST,
      (_: string, scheme: string, host: string) => `${scheme}://${defangHost(host)}`,
    );
}

/**
 * Text that came from outside (account names, status messages, resource names, tags) made
 * inert for every channel: one line, well-formed, nothing invisible, no clickable link. Each
 * renderer then escapes it for its own medium.
 */
export function inertText(text: string): string {
  // Full-width look-alikes (ｈｔｔｐｓ：／／, ＠) fold to ASCII first, so they are caught too.
  return defang(oneLine(text.normalize('NFKC')));
}

/** Cuts at `max` characters (code points), ending with an ellipsis when cut. */
export function truncate(text: string, max: number, ellipsis = '…'): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - Array.from(ellipsis).length)).join('') + ellipsis;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Mentions and markup tokens out of plain chat text: `@here`, `<!channel>`, `<@U123>`. */
function noMentionChars(text: string): string {
  return text.replace(/`/g, "'").replace(/</g, '‹').replace(/>/g, '›').replace(/@/g, '＠');
}

/**
 * Plain text shown by chat clients (summaries, thread ids, context, attributes): one line, no
 * link, no mention. Visible look-alikes, never invisible characters.
 */
export function noMentions(text: string): string {
  return noMentionChars(inertText(text));
}

/** A token that reads as an identifier (EMAIL_ALREADY_EXISTS, my_table): shown as code. */
const IDENTIFIER_TOKEN = /^[A-Za-z0-9][\w.:/-]*_[\w.:/-]*[A-Za-z0-9]$/;
const MARKDOWN_LOOKALIKES: Readonly<Record<string, string>> = {
  '*': '∗',
  _: '＿',
  '~': '∼',
  '|': '∣',
};

/**
 * Makes outside text inert in chat markdown (Slack, Teams, Q Developer): no mentions, no links,
 * no emphasis or code from the text itself. Identifier-like words become code spans, so they
 * stay copy-pasteable; other markup characters become visible look-alikes.
 */
export function inertMarkdown(text: string): string {
  return noMentions(text)
    .split(' ')
    .map((word) =>
      IDENTIFIER_TOKEN.test(word)
        ? '`' + word + '`'
        : word.replace(/[*_~|]/g, (c) => MARKDOWN_LOOKALIKES[c]!),
    )
    .join(' ')
    .replace(/\]\(/g, '］('); // [text](url) is a link in Teams
}

/**
 * Text for a code span: nothing inside can close it, ping anyone or link (chat clients differ
 * on whether mentions and links inside code are live).
 */
export function codeSpan(text: string): string {
  return '`' + plainId(text) + '`';
}

/** An identifier in plain chat text: exact, but no mention and no live link. */
export function plainId(text: string): string {
  return noMentionChars(inertId(text));
}

/** Printable ASCII for SNS subjects: accents dropped (é → e), anything else "?". */
export function asciiText(text: string): string {
  return noMentionChars(inertText(text))
    .replace(/＠/g, '(at)')
    .replace(/[‹›]/g, (c) => (c === '‹' ? '(' : ')'))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?');
}
