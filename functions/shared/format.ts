import type { JobType } from './config';

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

/** The AWS Backup console page of one job (open it signed in to the job's account). */
export function consoleJobUrl(jobType: JobType, region: string, jobId?: string): string {
  const r = encodeURIComponent(region);
  const base = `https://${r}.console.aws.amazon.com/backup/home?region=${r}#/jobs/${CONSOLE_JOB_PATH[jobType]}`;
  return jobId ? `${base}/details/${encodeURIComponent(jobId)}` : base;
}

/** `arn:aws:ec2:…:instance/i-0abc` → `i-0abc`; `arn:aws:rds:…:db:orders` → `orders`. */
export function resourceName(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const resource = arn.split(':').slice(5).join(':');
  const last = resource.split(/[/:]/).filter(Boolean).pop();
  return last ?? (resource || arn);
}

const FORMAT_CONTROLS = new Set([
  0x2028, 0x2029, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068,
  0x2069,
]);

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || FORMAT_CONTROLS.has(code);
}

/** Replaces C0/C1 control characters (CR, LF, tab, ESC, ...) and Unicode line/bidi controls. */
export function stripControl(text: string, replacement = ' '): string {
  let out = '';
  for (const ch of text) out += isControl(ch.codePointAt(0)!) ? replacement : ch;
  return out;
}

/** One line, single spaces, no control characters. */
export function oneLine(text: string): string {
  return stripControl(text).replace(/\s+/g, ' ').trim();
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

/**
 * Makes event text inert in chat markdown (Slack, Teams, Q Developer): no mentions
 * (`@here`, `<!channel>`, `<@U123>`), no links, no code spans or emphasis.
 */
export function inertMarkdown(text: string): string {
  return oneLine(text)
    .replace(/`/g, "'")
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/@/g, '@\u200b')
    .replace(/([*_~|[\]#])/g, '\u200b$1\u200b');
}

/** Plain text shown by chat clients: one line, no mentions, no code spans. */
export function noMentions(text: string): string {
  return oneLine(text)
    .replace(/`/g, "'")
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/@/g, '@\u200b');
}

/**
 * Text for a code span: nothing inside can close it or ping anyone (chat clients differ on
 * whether mentions inside code are live, so "@" is broken up here too).
 */
export function codeSpan(text: string): string {
  return (
    '`' +
    oneLine(text)
      .replace(/`/g, "'")
      .replace(/</g, '‹')
      .replace(/>/g, '›')
      .replace(/@/g, '@\u200b') +
    '`'
  );
}
