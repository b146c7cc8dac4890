import type { Severity } from '../shared/config';
import {
  codeSpan,
  inertMarkdown,
  noMentions,
  oneLine,
  stripControl,
  truncate,
} from '../shared/format';
import type { MessageModel } from './message';

/**
 * The SNS message for chat: an Amazon Q Developer in chat applications custom notification.
 * A body that does not match that schema is dropped silently by the chat service, so the
 * shape is fixed here and tested.
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

const ICON: Readonly<Record<Severity, string>> = {
  error: ':rotating_light:',
  warning: ':warning:',
  info: ':white_check_mark:',
};

export function snsSubject(m: MessageModel): string {
  // Printable ASCII, and nothing a chat client could turn into a mention or markup.
  const ascii = (s: string) =>
    stripControl(s)
      .replace(/[^\x20-\x7e]/g, '?')
      .replace(/</g, '(')
      .replace(/>/g, ')')
      .replace(/`/g, "'")
      .replace(/@/g, '(at)');
  const prefix = ascii(`[${m.label}] ${m.jobTypeLabel} - `);
  const suffix = ascii(` - ${m.accountLabel} - ${m.region}`);
  const room = SNS_SUBJECT_MAX - prefix.length - suffix.length;
  const subject =
    room >= 8
      ? prefix + truncate(ascii(m.subjectResource), room, '...') + suffix
      : prefix + ascii(m.subjectResource);
  return truncate(subject.replace(/\s+/g, ' ').trim(), SNS_SUBJECT_MAX, '...');
}

/** Attributes for subscription filter policies. SNS rejects empty attribute values. */
export function messageAttributes(m: MessageModel): Record<string, string> {
  const e = m.event;
  return {
    severity: m.severity,
    state: e.state,
    jobType: e.jobType,
    accountId: e.accountId,
    region: e.region,
    resourceType: truncate(oneLine(e.resourceType ?? 'unknown'), 256) || 'unknown',
  };
}

function eventType(m: MessageModel): string {
  const words = `${m.jobTypeLabel} ${m.label}`.toLowerCase().split(/\s+/);
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
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

export function renderSns(m: MessageModel): RenderedSns {
  const e = m.event;
  const lines: string[] = [];
  if (m.reason) lines.push(`*Reason:* ${inertMarkdown(truncate(m.reason, REASON_MAX))}`);
  for (const f of m.facts) {
    if (f.kind === 'link') continue;
    const value = f.kind === 'id' ? codeSpan(f.value) : inertMarkdown(f.value);
    lines.push(`*${f.label}:* ${value}`);
  }
  // A bare URL: Slack and Teams both link it; markdown link syntax differs between them.
  lines.push(`*Console:* ${e.consoleUrl}`);

  const notification: ChatNotification = {
    version: '1.0',
    source: 'custom',
    id: oneLine(e.eventId),
    content: {
      textType: 'client-markdown',
      title: `${ICON[m.severity]} ${m.jobTypeLabel} ${m.label}: ${inertMarkdown(truncate(m.subjectResource, 120))}`,
      description: lines.join('\n'),
      nextSteps: m.nextSteps.map((s) => inertMarkdown(s)),
      keywords: [m.label, m.jobTypeLabel, e.resourceType, e.accountId, e.region]
        .filter((k): k is string => Boolean(k))
        .map((k) => inertMarkdown(truncate(k, 64))),
    },
    metadata: {
      threadId: `${e.jobType}-job-${oneLine(e.jobId ?? e.eventId)}`.slice(0, 128),
      // Plain text, but chat clients still expand mentions in it: neutralise them too.
      summary: noMentions(
        `${m.jobTypeLabel} ${m.label} for ${m.subjectResource} in ${m.accountLabel}, ${m.region}`,
      ),
      eventType: eventType(m),
      relatedResources: [e.resourceArn, e.recoveryPointArn, e.createdResourceArn]
        .filter((r): r is string => Boolean(r))
        .map((r) => noMentions(truncate(r, 512))),
      additionalContext: {
        accountId: e.accountId,
        region: e.region,
        jobType: e.jobType,
        ...(e.jobId ? { jobId: oneLine(e.jobId) } : {}),
        state: e.state,
        severity: m.severity,
        consoleUrl: e.consoleUrl,
        eventId: oneLine(e.eventId),
      },
    },
  };
  return {
    subject: snsSubject(m),
    body: withinSnsLimit(notification),
    notification,
    attributes: messageAttributes(m),
  };
}
