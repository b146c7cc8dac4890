import type { Severity } from '../config/vocabulary';
import {
  asciiText,
  codeSpan,
  inertMarkdown,
  noMentions,
  oneLine,
  plainId,
  truncate,
  wellFormedDeep,
} from '../format';
import { accountLabel, type Cell, type Notice } from './notice';
import { allFacts, structuredOrHeadline } from './render-email';

/**
 * The one chat renderer: an Amazon Q Developer in chat applications custom notification, for
 * every kind of notice. A body that does not match that schema is dropped silently by the chat
 * service, so the shape is fixed here and tested.
 */
export interface ChatNotification {
  version: '1.0';
  source: 'custom';
  id: string;
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    relatedResources: string[];
    additionalContext: Record<string, string>;
  };
}

export interface RenderedSns {
  subject: string;
  body: string;
  notification: ChatNotification;
  attributes: Record<string, string>;
}

/** SNS Subject: ASCII, no line breaks, under 100 characters. */
export const SNS_SUBJECT_MAX = 99;
const REASON_MAX = 1500;
const DEFAULT_CHAT_ROWS = 10;

const ICON: Readonly<Record<Severity, string>> = {
  error: ':rotating_light:',
  warning: ':warning:',
  info: ':white_check_mark:',
};

/** The SNS Subject in printable ASCII, under 100 characters, keeping the account id. */
export function snsSubject(n: Notice): string {
  return structuredOrHeadline(n, SNS_SUBJECT_MAX, asciiText, ' - ', '...');
}

/**
 * Attributes for subscription filter policies (MESSAGE_ATTRIBUTES in config/vocabulary.ts describes them).
 * SNS rejects empty values; outside text is made inert here too (a chat client may show them).
 */
export function messageAttributes(n: Notice): Record<string, string> {
  const attr = (value: string | undefined, fallback: string) =>
    truncate(noMentions(value ?? ''), 256) || fallback;
  return {
    severity: n.routeSeverity ?? n.severity,
    kind: n.kind,
    state: attr(n.state, 'unknown'),
    jobType: n.jobType ?? n.kind,
    accountId: attr(n.account?.id, 'organization'),
    region: attr(n.region, 'global'),
    resourceType: attr(n.resourceType, 'unknown'),
    // As Organizations names it, so filters match what routing rules match (never displayed).
    ...(n.account?.ouPath ? { ouPath: truncate(n.account.ouPath, 256) } : {}),
  };
}

/** Thread ids group updates; only characters no client can read as markup. */
function threadId(raw: string): string {
  return (
    oneLine(raw)
      .replace(/[^\w.:#-]/g, '-')
      .slice(0, 128) || 'backup-control-plane'
  );
}

function cell(c: Cell): string {
  return c.kind === 'id' ? codeSpan(truncate(c.value, 512)) : inertMarkdown(truncate(c.value, 512));
}

/** SNS takes 256 KiB with the attributes; stay well inside by shortening the description. */
const BODY_MAX_BYTES = 200 * 1024;

function withinSnsLimit(notification: ChatNotification): string {
  let body = JSON.stringify(notification);
  while (Buffer.byteLength(body, 'utf8') > BODY_MAX_BYTES) {
    const d = notification.content.description;
    if (Array.from(d).length < 2) break; // nothing left to cut: every other field is bounded
    notification.content.description = truncate(d, Math.floor(Array.from(d).length / 2));
    body = JSON.stringify(notification);
  }
  return body;
}

export function renderSns(notice: Notice): RenderedSns {
  // Every string well-formed, including our own labels: nothing ill-formed reaches SNS.
  const n = wellFormedDeep(notice);
  const lines: string[] = [];
  if (n.reason) lines.push(`*Reason:* ${inertMarkdown(truncate(n.reason, REASON_MAX))}`);
  for (const f of allFacts(n)) {
    lines.push(`*${f.label}:* ${cell({ value: f.value, kind: f.kind })}`);
  }
  for (const section of n.sections) {
    if (section.collapsed) continue;
    const max = section.chatRows ?? DEFAULT_CHAT_ROWS;
    lines.push(`*${section.title}:*`);
    for (const row of section.rows.slice(0, max)) lines.push(`• ${row.map(cell).join(' · ')}`);
    if (section.rows.length > max) {
      lines.push(
        max
          ? `• … and ${section.rows.length - max} more`
          : `• ${section.rows.length}, listed in the email`,
      );
    }
  }
  // A bare URL: Slack and Teams both link it; markdown link syntax differs between them.
  if (n.link) lines.push(`*${n.link.label}:* ${oneLine(n.link.url)}`);

  const title = n.headline ?? (n.item ? `${n.what} ${n.label}: ${n.item}` : `${n.what} ${n.label}`);
  const where = [n.account ? accountLabel(n.account) : undefined, n.region].filter(Boolean);
  const summary =
    n.summary ??
    (n.headline
      ? n.headline
      : `${n.what} ${n.label}${n.item ? ` for ${n.item}` : ''}${where.length ? ` in ${where.join(', ')}` : ''}`);
  const context: Record<string, string> = {
    kind: n.kind,
    severity: n.severity,
    ...(n.account ? { accountId: n.account.id } : {}),
    ...(n.region ? { region: n.region } : {}),
    ...n.chat.context,
  };
  const notification: ChatNotification = {
    version: '1.0',
    source: 'custom',
    id: threadId(n.dedupKey),
    content: {
      textType: 'client-markdown',
      title: `${ICON[n.severity]} ${inertMarkdown(truncate(title, 200))}`,
      description: lines.join('\n'),
      nextSteps: n.nextSteps.map((s) => inertMarkdown(s)),
      keywords: n.chat.keywords
        .filter(Boolean)
        .map((k) => truncate(noMentions(k), 64))
        .filter(Boolean),
    },
    metadata: {
      threadId: threadId(n.chat.threadId),
      summary: truncate(noMentions(summary), 500),
      eventType: n.chat.eventType.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || 'Notice',
      relatedResources: n.chat.relatedResources
        .filter(Boolean)
        .map((r) => truncate(plainId(r), 512)),
      additionalContext: {
        ...Object.fromEntries(
          Object.entries(context).map(([k, v]) => [k, truncate(noMentions(v), 512)]),
        ),
        // Our own link, built from checked parts: it must stay clickable.
        ...(n.link ? { consoleUrl: oneLine(n.link.url) } : {}),
      },
    },
  };
  return {
    subject: snsSubject(n),
    body: withinSnsLimit(notification),
    notification,
    attributes: messageAttributes(n),
  };
}
