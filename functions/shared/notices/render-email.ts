import type { Severity } from '../config/vocabulary';
import {
  escapeHtml,
  inertId,
  inertText,
  noMentions,
  oneLine,
  truncate,
  wellFormedDeep,
} from '../format';
import { accountLabel, type Cell, type Fact, type Notice } from './notice';

/** The one email layout: every kind of notice looks the same and escapes the same way. */

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export const EMAIL_SUBJECT_MAX = 200;
const REASON_MAX = 4000;
/** A fact or cell shows at most this much (ARNs are at most 2,048 characters). */
export const FACT_MAX = 1024;

const COLOURS: Readonly<Record<Severity, { band: string; badge: string }>> = {
  error: { band: '#d13212', badge: '#fde7e4' },
  warning: { band: '#b7791f', badge: '#fdf4e3' },
  info: { band: '#1d8102', badge: '#e8f5e3' },
};

/** Outside text made inert, or an identifier kept exact (only made one well-formed line). */
const shown = (value: string, kind: Fact['kind'] = 'text') =>
  truncate(kind === 'text' ? inertText(value) : inertId(value), FACT_MAX);

/** The facts every notice shows first: the account and the region. */
export function allFacts(n: Notice): Fact[] {
  const lead: Fact[] = [];
  if (n.account) lead.push({ label: 'Account', value: accountLabel(n.account), kind: 'text' });
  if (n.account?.ouPath) lead.push({ label: 'OU', value: n.account.ouPath, kind: 'text' });
  if (n.region) lead.push({ label: 'Region', value: n.region, kind: 'id' });
  return [...lead, ...n.facts];
}

/**
 * `[FAILED] Backup job · orders-db · Production (111122223333) · eu-west-1`: header-safe, at most
 * 200 characters, no live link or mention.
 */
export function emailSubject(n: Notice): string {
  return structuredOrHeadline(n, EMAIL_SUBJECT_MAX, noMentions, ' · ', '…');
}

/**
 * A notice with its own headline ("Account X is backup-ready") says it best itself, as long as
 * that keeps the account id; otherwise the subject is built from its parts.
 */
export function structuredOrHeadline(
  n: Notice,
  max: number,
  clean: (s: string) => string,
  sep: string,
  ellipsis: string,
): string {
  if (n.headline) {
    const whole = clean(`[${oneLine(n.label)}] ${inertText(n.headline)}`);
    if (Array.from(whole).length <= max && (!n.account || whole.includes(n.account.id))) {
      return whole;
    }
  }
  const prefix = clean(`[${oneLine(n.label)}] ${oneLine(n.what)}`);
  const region = n.region ? `${sep}${clean(n.region)}` : '';
  const named = n.account ? `${sep}${clean(inertText(accountLabel(n.account)))}` : '';
  const bare = n.account ? `${sep}${clean(n.account.id)}` : '';
  const length = (s: string) => Array.from(s).length;
  // When room runs out: the item is shortened first, then the account name goes; never the id.
  for (const account of [named, bare]) {
    const suffix = account + region;
    if (!n.item) {
      if (length(prefix + suffix) <= max) return prefix + suffix;
      continue;
    }
    const room = max - length(prefix + suffix + sep);
    if (room >= 8) {
      return `${prefix}${sep}${truncate(clean(inertText(n.item)), room, ellipsis)}${suffix}`;
    }
  }
  return truncate(prefix + bare + region, max, ellipsis);
}

/** The heading inside the message (a long resource name is cut). */
export function headline(n: Notice): string {
  return truncate(inertText(n.headline ?? (n.item ? `${n.what} · ${n.item}` : n.what)), 300);
}

export function renderEmail(notice: Notice): RenderedEmail {
  // Every string well-formed, including our own labels: nothing ill-formed reaches SES.
  const n = wellFormedDeep(notice);
  return { subject: emailSubject(n), html: renderHtml(n), text: renderText(n) };
}

function cellText(c: Cell): string {
  return shown(c.value, c.kind);
}

function renderText(n: Notice): string {
  const lines = [`${oneLine(n.label)}: ${headline(n)}`, ''];
  if (n.reason) lines.push(`Reason: ${truncate(inertText(n.reason), REASON_MAX)}`, '');
  const facts = allFacts(n);
  const width = Math.max(0, ...facts.map((f) => f.label.length));
  for (const f of facts)
    lines.push(`${(f.label + ':').padEnd(width + 2)}${shown(f.value, f.kind)}`);
  for (const section of n.sections) {
    lines.push('', `${section.title}:`);
    if (section.columns) lines.push(`  ${section.columns.join(' | ')}`);
    for (const row of section.rows) lines.push(`  - ${row.map(cellText).join(' | ')}`);
  }
  if (n.nextSteps.length) {
    lines.push('', 'What to do:');
    n.nextSteps.forEach((s, i) => lines.push(`${i + 1}. ${inertText(s)}`));
  }
  if (n.link) lines.push('', `${n.link.label}: ${n.link.url}`);
  lines.push('', `-- Backup control plane · ${inertText(n.reference)}`);
  return lines.join('\n') + '\n';
}

/** Table layout and inline styles only: what Outlook, Gmail and Apple Mail all keep. */
function renderHtml(n: Notice): string {
  const c = COLOURS[n.severity];
  const h = (s: string, kind: Fact['kind'] = 'text') => escapeHtml(shown(s, kind));
  const code = (s: string) =>
    `<code style="font-family:Consolas,Menlo,monospace;font-size:12px;word-break:break-all;">${h(s, 'id')}</code>`;
  const cell = 'padding:6px 12px;border-bottom:1px solid #eaeded;vertical-align:top;';
  const rows = allFacts(n)
    .map((f) => {
      const value = f.kind === 'id' ? code(f.value) : h(f.value);
      return `<tr><td style="${cell}color:#545b64;white-space:nowrap;">${h(f.label)}</td><td style="${cell}color:#16191f;">${value}</td></tr>`;
    })
    .join('\n');
  const reason = n.reason
    ? `<p style="margin:0 0 16px;padding:12px;background:${c.badge};border-left:4px solid ${c.band};color:#16191f;white-space:pre-wrap;">${escapeHtml(truncate(inertText(n.reason), REASON_MAX))}</p>`
    : '';
  const sections = n.sections
    .map((s) => {
      const head = s.columns
        ? `<tr>${s.columns.map((col) => `<th align="left" style="${cell}color:#545b64;">${h(col)}</th>`).join('')}</tr>`
        : '';
      const body = s.rows
        .map(
          (row) =>
            `<tr>${row.map((x) => `<td style="${cell}">${x.kind === 'id' ? code(x.value) : h(x.value)}</td>`).join('')}</tr>`,
        )
        .join('\n');
      const table = `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:13px;">${head}\n${body}</table>`;
      return s.collapsed
        ? `<details style="margin:16px 0;"><summary style="cursor:pointer;color:#545b64;">${h(s.title)} (${s.rows.length})</summary>\n${table}</details>`
        : `<h2 style="margin:20px 0 8px;font-size:15px;color:#16191f;">${h(s.title)}</h2>\n${table}`;
    })
    .join('\n');
  const steps = n.nextSteps.map((s) => `<li style="margin:0 0 6px;">${h(s)}</li>`).join('');
  const button = n.link
    ? `<p style="margin:16px 0;"><a href="${escapeHtml(oneLine(n.link.url))}" style="display:inline-block;padding:10px 16px;background:#ec7211;color:#ffffff;text-decoration:none;font-weight:bold;">${h(n.link.label)}</a></p>`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(emailSubject(n))}</title></head>
<body style="margin:0;padding:0;background:#f2f3f3;font-family:Arial,Helvetica,sans-serif;font-size:14px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f2f3f3;"><tr><td align="center" style="padding:24px 8px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="max-width:640px;width:100%;background:#ffffff;border-top:6px solid ${c.band};">
<tr><td style="padding:20px 24px 8px;">
<p style="margin:0 0 4px;font-size:12px;font-weight:bold;color:${c.band};letter-spacing:1px;">${h(n.label)}</p>
<h1 style="margin:0 0 16px;font-size:20px;color:#16191f;">${escapeHtml(headline(n))}</h1>
${reason}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:13px;">
${rows}
</table>
${sections}
${steps ? `<h2 style="margin:20px 0 8px;font-size:15px;color:#16191f;">What to do</h2>\n<ol style="margin:0 0 16px;padding-left:20px;color:#16191f;">${steps}</ol>` : ''}
${button}
</td></tr>
<tr><td style="padding:12px 24px;font-size:11px;color:#687078;border-top:1px solid #eaeded;">Sent by the backup control plane · ${h(n.reference)}</td></tr>
</table>
</td></tr></table>
</body></html>
`;
}
