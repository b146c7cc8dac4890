import { createHash } from 'node:crypto';
import type { Config, Profile } from '../shared/config';
import { deliverAll, type DeliverDeps, type Outgoing } from '../shared/deliver';
import { escapeHtml, inertMarkdown, oneLine, stripControl, truncate } from '../shared/format';
import type { AccountRecord, EmailMessage, OrgAccount, TopicMessage } from '../shared/ports';

/**
 * What admins hear about onboarding: "account X is backup-ready" with what was done, or which
 * step failed, the AWS error and what to do; and a failed account creation. Email to the
 * configured lists (and the account's own address if configured), chat through the topics.
 */

export interface ReadyNotice {
  account: OrgAccount;
  record: AccountRecord;
  profile: Profile;
  changes: string[];
}

export interface FailedNotice {
  accountId: string;
  account?: OrgAccount;
  record: AccountRecord;
  step: string;
  error: string;
  advice: string;
}

export interface CreationFailedNotice {
  eventId: string;
  trigger: string;
  reason: string;
  accountName?: string;
  accountId?: string;
  time?: string;
}

export interface OnboardingNotifier {
  ready(notice: ReadyNotice): Promise<void>;
  failed(notice: FailedNotice): Promise<void>;
  creationFailed(notice: CreationFailedNotice): Promise<void>;
}

export interface OnboardingMessage {
  severity: 'info' | 'error';
  label: string;
  title: string;
  summary: string;
  facts: [string, string][];
  lines: string[];
  nextSteps: string[];
  accountId?: string;
  accountEmail?: string;
  threadId: string;
  eventType: string;
}

const accountLabel = (id: string, name?: string) =>
  name && name !== '****' ? `${name} (${id})` : id;

export function readyMessage(n: ReadyNotice): OnboardingMessage {
  const label = accountLabel(n.account.id, n.account.name);
  return {
    severity: 'info',
    label: 'READY',
    title: `Account ${label} is backup-ready`,
    summary: `Account ${label} is backup-ready (profile ${n.profile.name}, baseline v${n.record.baselineVersion ?? '?'})`,
    facts: [
      ['Account', label],
      ['Profile', n.profile.name],
      ['Regions', n.profile.regions.join(', ')],
      ['Backup policies', n.profile.backupPolicies.join(', ') || 'none'],
      ['Baseline version', String(n.record.baselineVersion ?? '?')],
      ['Trigger', n.record.lastTrigger ?? '?'],
    ],
    lines: n.changes.length ? n.changes : ['Everything was already in place.'],
    nextSteps: [
      'Tag resources with the selection tags of the attached backup policies to have them backed up.',
    ],
    accountId: n.account.id,
    accountEmail: n.account.email,
    threadId: `onboarding-${n.account.id}`,
    eventType: 'AccountBackupReady',
  };
}

export function failedMessage(n: FailedNotice): OnboardingMessage {
  const label = accountLabel(n.accountId, n.account?.name);
  return {
    severity: 'error',
    label: 'FAILED',
    title: `Onboarding of account ${label} failed at step ${n.step}`,
    summary: `Onboarding of ${label} failed at ${n.step}: ${n.error}`,
    facts: [
      ['Account', label],
      ['Failed step', n.step],
      ['Attempt', String(n.record.attempts)],
      ['Trigger', n.record.lastTrigger ?? '?'],
    ],
    lines: [`Error: ${n.error}`],
    nextSteps: [
      n.advice,
      `Retry by hand: npx backupctl onboard ${n.accountId}; the reconcile sweep also retries.`,
    ],
    accountId: n.accountId,
    accountEmail: n.account?.email,
    threadId: `onboarding-${n.accountId}`,
    eventType: 'AccountOnboardingFailed',
  };
}

export function creationFailedMessage(n: CreationFailedNotice): OnboardingMessage {
  const who = n.accountName && n.accountName !== '****' ? `"${n.accountName}"` : 'a new account';
  return {
    severity: 'error',
    label: 'FAILED',
    title: `Creating ${who} failed: ${n.reason}`,
    summary: `Account creation failed (${n.trigger}): ${n.reason}`,
    facts: [
      ['Trigger', n.trigger],
      ['Reason', n.reason],
      ...(n.accountId ? ([['Account', n.accountId]] as [string, string][]) : []),
      ...(n.time ? ([['Time', n.time]] as [string, string][]) : []),
      ['Event id', n.eventId],
    ],
    lines: [],
    nextSteps: [
      n.reason === 'EMAIL_ALREADY_EXISTS'
        ? 'The email address is already used by another AWS account: create the account with another address.'
        : 'Check the account request (Organizations console → Accounts, or Control Tower Account Factory) and retry.',
    ],
    threadId: `account-creation-${n.eventId}`,
    eventType: 'AccountCreationFailed',
  };
}

export function renderOnboardingEmail(m: OnboardingMessage): {
  subject: string;
  html: string;
  text: string;
} {
  const subject = truncate(oneLine(`[${m.label}] ${m.title}`), 200);
  const h = (s: string) => escapeHtml(stripControl(s));
  const colour = m.severity === 'error' ? '#d13212' : '#1d8102';
  const rows = m.facts
    .map(
      ([k, v]) =>
        `<tr><td style="padding:4px 12px;color:#545b64;">${h(k)}</td><td style="padding:4px 12px;">${h(v)}</td></tr>`,
    )
    .join('');
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${h(subject)}</title></head>
<body style="margin:0;padding:16px;background:#f2f3f3;font-family:Arial,Helvetica,sans-serif;font-size:14px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="max-width:640px;width:100%;background:#ffffff;border-top:6px solid ${colour};"><tr><td style="padding:20px 24px;">
<p style="margin:0 0 4px;font-size:12px;font-weight:bold;color:${colour};">${h(m.label)}</p>
<h1 style="margin:0 0 16px;font-size:20px;color:#16191f;">${h(m.title)}</h1>
<table role="presentation" cellpadding="0" cellspacing="0" style="font-size:13px;">${rows}</table>
${m.lines.length ? `<ul style="margin:16px 0;padding-left:20px;">${m.lines.map((l) => `<li>${h(l)}</li>`).join('')}</ul>` : ''}
<h2 style="margin:16px 0 8px;font-size:15px;">What to do</h2>
<ol style="margin:0;padding-left:20px;">${m.nextSteps.map((s) => `<li>${h(s)}</li>`).join('')}</ol>
</td></tr></table></body></html>
`;
  const text = [
    oneLine(m.title),
    '',
    ...m.facts.map(([k, v]) => `${k}: ${oneLine(v)}`),
    '',
    ...m.lines.map((l) => `- ${oneLine(l)}`),
    '',
    'What to do:',
    ...m.nextSteps.map((s, i) => `${i + 1}. ${oneLine(s)}`),
    '',
  ].join('\n');
  return { subject, html, text };
}

export function renderOnboardingChat(m: OnboardingMessage): {
  subject: string;
  body: string;
  attributes: Record<string, string>;
} {
  const body = {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: `${m.severity === 'error' ? ':rotating_light:' : ':white_check_mark:'} ${inertMarkdown(m.title)}`,
      description: [
        ...m.facts.map(([k, v]) => `*${k}:* ${inertMarkdown(v)}`),
        ...m.lines.map((l) => `• ${inertMarkdown(l)}`),
      ]
        .join('\n')
        .slice(0, 3500),
      nextSteps: m.nextSteps.map(inertMarkdown),
      keywords: ['onboarding', m.label, ...(m.accountId ? [m.accountId] : [])],
    },
    metadata: {
      threadId: m.threadId,
      summary: inertMarkdown(m.summary),
      eventType: m.eventType,
      relatedResources: [],
      additionalContext: { ...(m.accountId ? { accountId: m.accountId } : {}) },
    },
  };
  const subject = truncate(
    stripControl(`[${m.label}] ${m.title}`)
      .replace(/[^\x20-\x7e]/g, '?')
      .replace(/\s+/g, ' '),
    99,
    '...',
  );
  return {
    subject,
    body: JSON.stringify(body),
    attributes: {
      severity: m.severity,
      state: m.label,
      jobType: 'onboarding',
      accountId: m.accountId ?? 'unknown',
      region: 'global',
      resourceType: 'Account',
    },
  };
}

/** A short stable id for a notice: the same notice on a retry gets the same key. */
function noticeKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/**
 * Sends onboarding messages to the lists and topics named in `onboarding`, each channel at most
 * once per notice (through the delivery ledger, as job notifications are): when one channel
 * fails, the retry sends only that one. The account's own address, with notifyAccountEmail, is
 * a separate email, so admins' addresses are not shown to it and its rejection fails only it.
 */
export class AdminNotifier implements OnboardingNotifier {
  constructor(
    private readonly config: Config,
    private readonly deps: DeliverDeps,
    private readonly topicArn: (topic: string) => string,
  ) {}

  ready(n: ReadyNotice) {
    // One "ready" per transition: keyed by what admins were told before it.
    const key = noticeKey('ready', n.account.id, JSON.stringify(n.record.notified ?? null));
    return this.send(readyMessage(n), `onboarding#${n.account.id}#${key}`);
  }

  failed(n: FailedNotice) {
    const key = noticeKey('failed', n.accountId, n.step, n.error);
    return this.send(failedMessage(n), `onboarding#${n.accountId}#${key}`);
  }

  creationFailed(n: CreationFailedNotice) {
    return this.send(creationFailedMessage(n), `alert#${n.eventId}`);
  }

  private async send(m: OnboardingMessage, dedupKey: string): Promise<void> {
    const onboarding = this.config.onboarding;
    const emailConfig = this.config.notifications.email;
    const lists = onboarding?.email ?? ['admins'];
    const admins = [...new Set(lists.flatMap((l) => emailConfig.recipients[l] ?? []))];
    const rendered = renderOnboardingEmail(m);
    const email = (to: string[]): EmailMessage => ({
      from: emailConfig.sender,
      to,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      tags: { flow: 'onboarding', severity: m.severity },
      ...(emailConfig.replyTo.length ? { replyTo: emailConfig.replyTo } : {}),
      ...(emailConfig.configurationSet ? { configurationSet: emailConfig.configurationSet } : {}),
    });
    const outgoing: Outgoing[] = [];
    if (admins.length) {
      outgoing.push({
        channel: 'email',
        target: { key: 'email:onboarding' },
        message: email(admins),
      });
    }
    const owner = m.accountEmail;
    if (onboarding?.notifyAccountEmail && owner && !admins.includes(owner)) {
      outgoing.push({
        channel: 'email',
        target: { key: 'email:account-owner' },
        message: email([owner]),
      });
    }
    const chat = renderOnboardingChat(m);
    for (const topic of onboarding?.sns ?? ['chat']) {
      const message: TopicMessage = {
        topicArn: this.topicArn(topic),
        subject: chat.subject,
        body: chat.body,
        attributes: chat.attributes,
      };
      outgoing.push({ channel: 'sns', target: { key: `sns:${topic}` }, message });
    }
    await deliverAll(dedupKey, outgoing, this.deps);
  }
}
