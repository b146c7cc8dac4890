import type { Severity } from '../shared/config';
import { escapeHtml, oneLine, stripControl, truncate } from '../shared/format';
import type { MessageModel } from './message';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export const EMAIL_SUBJECT_MAX = 200;
const REASON_MAX = 4000;

const COLOURS: Readonly<Record<Severity, { band: string; badge: string }>> = {
  error: { band: '#d13212', badge: '#fde7e4' },
  warning: { band: '#b7791f', badge: '#fdf4e3' },
  info: { band: '#1d8102', badge: '#e8f5e3' },
};

/** `[FAILED] Backup job · orders-db · Production (111122223333) · us-east-1`, header-safe. */
export function emailSubject(m: MessageModel): string {
  const prefix = `[${m.label}] ${m.jobTypeLabel} · `;
  const suffix = ` · ${oneLine(m.accountLabel)} · ${m.region}`;
  const room = EMAIL_SUBJECT_MAX - Array.from(prefix + suffix).length;
  const resource = truncate(oneLine(m.subjectResource), Math.max(room, 8));
  return truncate(oneLine(prefix + resource + suffix), EMAIL_SUBJECT_MAX);
}

export function renderEmail(m: MessageModel): RenderedEmail {
  return { subject: emailSubject(m), html: renderHtml(m), text: renderText(m) };
}

function renderText(m: MessageModel): string {
  const lines = [`${m.jobTypeLabel} ${m.label}: ${oneLine(m.subjectResource)}`, ''];
  if (m.reason) lines.push(`Reason: ${oneLine(truncate(m.reason, REASON_MAX))}`, '');
  const width = Math.max(...m.facts.map((f) => f.label.length));
  for (const f of m.facts) lines.push(`${(f.label + ':').padEnd(width + 2)}${oneLine(f.value)}`);
  lines.push('', 'What to do:');
  m.nextSteps.forEach((s, i) => lines.push(`${i + 1}. ${oneLine(s)}`));
  lines.push('', `-- Backup control plane · event ${oneLine(m.event.eventId)}`);
  return lines.join('\n') + '\n';
}

/** Table layout and inline styles only: what Outlook, Gmail and Apple Mail all keep. */
function renderHtml(m: MessageModel): string {
  const c = COLOURS[m.severity];
  const h = (s: string) => escapeHtml(stripControl(s));
  const cell = 'padding:6px 12px;border-bottom:1px solid #eaeded;vertical-align:top;';
  const rows = m.facts
    .map((f) => {
      const value =
        f.kind === 'link'
          ? `<a href="${h(f.value)}" style="color:#0073bb;">Open in the AWS Backup console</a>`
          : f.kind === 'id'
            ? `<code style="font-family:Consolas,Menlo,monospace;font-size:12px;word-break:break-all;">${h(f.value)}</code>`
            : h(f.value);
      return `<tr><td style="${cell}color:#545b64;white-space:nowrap;">${h(f.label)}</td><td style="${cell}color:#16191f;">${value}</td></tr>`;
    })
    .join('\n');
  const reason = m.reason
    ? `<p style="margin:0 0 16px;padding:12px;background:${c.badge};border-left:4px solid ${c.band};color:#16191f;white-space:pre-wrap;">${h(truncate(m.reason, REASON_MAX))}</p>`
    : '';
  const steps = m.nextSteps.map((s) => `<li style="margin:0 0 6px;">${h(s)}</li>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${h(emailSubject(m))}</title></head>
<body style="margin:0;padding:0;background:#f2f3f3;font-family:Arial,Helvetica,sans-serif;font-size:14px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f2f3f3;"><tr><td align="center" style="padding:24px 8px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="max-width:640px;width:100%;background:#ffffff;border-top:6px solid ${c.band};">
<tr><td style="padding:20px 24px 8px;">
<p style="margin:0 0 4px;font-size:12px;font-weight:bold;color:${c.band};letter-spacing:1px;">${h(m.label)}</p>
<h1 style="margin:0 0 16px;font-size:20px;color:#16191f;">${h(m.jobTypeLabel)} · ${h(m.subjectResource)}</h1>
${reason}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:13px;">
${rows}
</table>
<h2 style="margin:20px 0 8px;font-size:15px;color:#16191f;">What to do</h2>
<ol style="margin:0 0 16px;padding-left:20px;color:#16191f;">${steps}</ol>
<p style="margin:16px 0;"><a href="${h(m.consoleUrl)}" style="display:inline-block;padding:10px 16px;background:#ec7211;color:#ffffff;text-decoration:none;font-weight:bold;">View job in AWS Backup</a></p>
</td></tr>
<tr><td style="padding:12px 24px;font-size:11px;color:#687078;border-top:1px solid #eaeded;">Sent by the backup control plane · event ${h(m.event.eventId)}</td></tr>
</table>
</td></tr></table>
</body></html>
`;
}
