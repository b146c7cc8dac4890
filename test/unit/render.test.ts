import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decide } from '../../functions/notify-backup-event/decide';
import { jobNotice } from '../../functions/notify-backup-event/job-notice';
import {
  creationFailedNotice,
  failedNotice,
  readyNotice,
} from '../../functions/onboard-account/notices';
import { readEffectivePolicy } from '../../functions/shared/backup-plans/merge';
import type { Severity } from '../../functions/shared/config/vocabulary';
import type { Notice } from '../../functions/shared/notices/notice';
import {
  renderSns,
  SNS_SUBJECT_MAX,
  type ChatNotification,
} from '../../functions/shared/notices/render-chat';
import { EMAIL_SUBJECT_MAX, renderEmail } from '../../functions/shared/notices/render-email';
import { jobEvent } from '../helpers/fakes';
import { exampleConfig, ROOT, sample } from '../helpers/fixtures';

const NAMES: Record<string, string> = {
  '111122223333': 'Production',
  '444455556666': 'Staging',
  '777788889999': 'Analytics',
};

const FAILED = 'backup/backup-job-state-change.failed';
const INJECTION = 'backup/backup-job-state-change.failed-html-injection';
const PAYMENTS = '222233334444';

/** A job notice as the pipeline renders it: the account name looked up (or unknown). */
function job(
  name: string,
  options: {
    severity?: Severity;
    label?: string;
    accountName?: string | null;
    detail?: Record<string, unknown>;
  } = {},
): Notice {
  const e = jobEvent(name, (raw) => Object.assign(raw.detail, options.detail ?? {}));
  const n = jobNotice(e, options.severity ?? 'error', options.label ?? e.state);
  const accountName = options.accountName === undefined ? NAMES[e.accountId] : options.accountName;
  return accountName ? { ...n, account: { id: e.accountId, name: accountName } } : n;
}

function ready(name = 'Payments'): Notice {
  const policy = JSON.parse(
    readFileSync(join(ROOT, 'infra', 'backup-policies', 'daily-35-days.json'), 'utf8'),
  ) as unknown;
  return readyNotice({
    account: { id: PAYMENTS, name, email: 'aws-payments@example.com', status: 'ACTIVE' },
    ouPath: 'Workloads/Payments',
    record: {
      accountId: PAYMENTS,
      status: 'ready',
      baselineVersion: 1,
      steps: {},
      attempts: 1,
      lastTrigger: 'CreateAccountResult',
      updatedAt: '2025-03-13T03:05:00.000Z',
      attachedPolicies: ['daily-35-days'],
    },
    profile: exampleConfig().onboarding!.profiles[1]!,
    vaultName: 'org-backup-vault',
    plans: readEffectivePolicy(policy),
    changes: ['baseline-iam: create role backup-control-plane-backup-service'],
  });
}

const creationFailed = (reason = 'EMAIL_ALREADY_EXISTS') =>
  creationFailedNotice({
    eventId: '6a1e8f2d-3c4b-4a5e-8d7f-9b0c1a2e3f4d',
    trigger: 'CreateAccountResult',
    reason,
    time: '2026-06-03T11:02:31Z',
  });

const chat = (n: Notice) => JSON.parse(renderSns(n).body) as ChatNotification;

/** C0 and C1 controls and Unicode line separators: nothing a header or a one-line field may hold. */
function hasControl(text: string): boolean {
  return Array.from(text).some((ch) => {
    const code = ch.codePointAt(0)!;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  });
}

/** Every string anywhere in a JSON value. */
function strings(value: unknown): string[] {
  return Object.values(stringsAt(value));
}

/** Every string (object keys included) in a JSON value, by its path. */
function stringsAt(value: unknown, path = ''): Record<string, string> {
  if (typeof value === 'string') return { [path]: value };
  if (Array.isArray(value)) {
    return Object.assign({}, ...value.map((v, i) => stringsAt(v, `${path}[${i}]`)));
  }
  if (value && typeof value === 'object') {
    return Object.assign(
      {},
      ...Object.entries(value).map(([k, v]) => ({
        [`${path}{key ${k}}`]: k,
        ...stringsAt(v, `${path}.${k}`),
      })),
    );
  }
  return {};
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Zero-width, bidirectional and tag characters (U+E0000 to U+E007F). */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u061C\uFEFF]|\uDB40[\uDC00-\uDC7F]/;

describe('email', () => {
  it('has the subject shape [STATE] Job type · resource · account name (id) · region', () => {
    expect(renderEmail(job(FAILED)).subject).toBe(
      '[FAILED] Backup job · customer-profiles · Production (111122223333) · us-east-1',
    );
  });

  it('uses the label for completed-with-issues and the job type of copies', () => {
    const issues = job('backup/backup-job-state-change.completed-with-issues', {
      severity: 'warning',
      label: 'COMPLETED WITH ISSUES',
    });
    expect(renderEmail(issues).subject).toBe(
      '[COMPLETED WITH ISSUES] Backup job · i-094fffa48c273aef3 · Analytics (777788889999) · ap-southeast-2',
    );
    expect(renderEmail(job('backup/copy-job-state-change.failed')).subject).toMatch(
      /^\[FAILED\] Copy job · .+ · Staging \(444455556666\) · eu-west-1$/,
    );
  });

  it('keeps the account id alone when the name is unknown or redacted', () => {
    const expected = '[FAILED] Backup job · customer-profiles · 111122223333 · us-east-1';
    expect(renderEmail(job(FAILED, { accountName: null })).subject).toBe(expected);
    expect(renderEmail(job(FAILED, { accountName: '****' })).subject).toBe(expected);
  });

  it('escapes event text in the HTML part', () => {
    const { html } = renderEmail(job(INJECTION));
    expect(html).not.toMatch(/<script|<img|<b>injected|onerror=alert\(2\)>/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain(
      '&lt;b&gt;injected body&lt;/b&gt; &amp; &quot;quotes&quot; &#39;apostrophes&#39;',
    );
    // The only tags are the template's own.
    const tags = new Set(
      [...html.matchAll(/<\/?([a-zA-Z0-9!]+)/g)].map((t) => t[1]!.toLowerCase()),
    );
    expect([...tags].sort()).toEqual(
      [
        '!doctype',
        'a',
        'body',
        'code',
        'h1',
        'h2',
        'head',
        'html',
        'li',
        'meta',
        'ol',
        'p',
        'table',
        'td',
        'title',
        'tr',
      ].sort(),
    );
  });

  it('keeps the text part readable and free of carriage returns', () => {
    const { text } = renderEmail(job(INJECTION));
    expect(text).not.toContain('\r');
    expect(text).toMatch(/^Reason: .*Bcc: attacker@evil\[\.\]example .*apostrophes'$/m);
    expect(text).not.toMatch(/^Bcc:/m);
    expect(text).toContain('Account:       Production (111122223333)');
  });

  it('keeps the subject one header-safe line, whatever the event says', () => {
    const { subject } = renderEmail(job(INJECTION));
    expect(hasControl(subject)).toBe(false);
    expect(subject).not.toMatch(/\s{2}/);
    expect(subject.startsWith('[FAILED] Backup job · ')).toBe(true);
    expect(subject.endsWith(' · Production (111122223333) · us-east-1')).toBe(true);
  });

  it('keeps the subject within 200 characters with a huge resource name, keeping the account', () => {
    const n = job(FAILED, {
      detail: { resourceName: 'db-' + 'x'.repeat(5000) + '\r\nBcc: evil@example.com' },
    });
    const { subject } = renderEmail(n);
    expect(Array.from(subject).length).toBeLessThanOrEqual(EMAIL_SUBJECT_MAX);
    expect(subject).toContain('…');
    expect(subject.endsWith(' · Production (111122223333) · us-east-1')).toBe(true);
    expect(hasControl(subject)).toBe(false);
  });

  it('keeps the subject within 200 characters with a huge account name', () => {
    const { subject } = renderEmail(job(FAILED, { accountName: 'N\n'.repeat(400) }));
    expect(Array.from(subject).length).toBeLessThanOrEqual(EMAIL_SUBJECT_MAX);
    expect(hasControl(subject)).toBe(false);
  });

  it('lists next steps that fit the failure', () => {
    const { text, html } = renderEmail(job(FAILED));
    expect(text).toMatch(/^2\. Check that the IAM role used by the job/m);
    expect(html).toMatch(/<li [^>]*>Once fixed, start an on-demand backup/);
  });

  it.each([
    ['error', '#d13212'],
    ['warning', '#b7791f'],
    ['info', '#1d8102'],
  ] as const)('colours %s notices %s', (severity, colour) => {
    expect(renderEmail(job(FAILED, { severity })).html).toContain(`border-top:6px solid ${colour}`);
  });

  it('links the job in the HTML and the text part', () => {
    const url =
      'https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/backup/details/d8da2bf5-6c6f-4581-ba20-1999ebcc985e';
    const { html, text } = renderEmail(job(FAILED));
    expect(html).toContain(`<a href="${url}"`);
    expect(text).toContain(`View job in AWS Backup: ${url}`);
  });
});

describe('one layout for every kind', () => {
  const kinds: [string, () => Notice][] = [
    ['a job notice', () => job(FAILED)],
    ['a READY notice', () => ready()],
    [
      'an onboarding failure',
      () =>
        failedNotice({
          accountId: PAYMENTS,
          record: {
            accountId: PAYMENTS,
            status: 'failed',
            steps: {},
            attempts: 2,
            updatedAt: '2025-03-13T03:05:00.000Z',
            attachedPolicies: [],
          },
          step: 'access',
          error: 'AccessDenied',
          advice: 'Check the role.',
        }),
    ],
    ['a creation failure', () => creationFailed()],
  ];

  it.each(kinds)('renders %s through the same email template and chat schema', (_what, make) => {
    const n = make();
    const { subject, html, text } = renderEmail(n);
    expect(subject).toMatch(new RegExp(`^\\[${n.label}\\] `));
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('Sent by the backup control plane · ');
    expect(text.startsWith(`${n.label}: `)).toBe(true);
    expect(text).toMatch(/\n-- Backup control plane · .+\n$/);
    const c = chat(n);
    expect(c).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown' },
    });
    expect(c.metadata.additionalContext).toMatchObject({ kind: n.kind, severity: n.severity });
  });

  it('shows the READY notice with the tag to put on resources and the changes folded away', () => {
    const { html, text } = renderEmail(ready());
    expect(html).toContain('Have a resource backed up: tag it');
    expect(html).toMatch(/<th [^>]*>Tag to put on the resource<\/th>/);
    expect(html).toMatch(/<code [^>]*>backup-plan=daily<\/code>/);
    expect(html).toContain('daily at 05:00 UTC');
    expect(html).toContain('35 days');
    expect(html).toMatch(
      /<details[^>]*><summary[^>]*>Changes made \(1\)<\/summary>\n<table[^]*baseline-iam: create role backup-control-plane-backup-service[^]*<\/details>/,
    );
    expect(text).toContain(
      '  - org-daily-35-days / daily | daily at 05:00 UTC | 35 days | us-east-1 | backup-plan=daily',
    );
    expect(text).toContain('Changes made:\n  - baseline-iam: create role');
    expect(text).toMatch(/^1\. Tag the resources to protect .* e\.g\. backup-plan=daily;/m);
  });

  it('leaves collapsed sections out of chat', () => {
    const { description } = chat(ready()).content;
    expect(description).toContain('*Have a resource backed up: tag it:*');
    expect(description).toContain('`backup-plan=daily`');
    expect(description).not.toContain('Changes made');
    expect(description).not.toContain('baseline-iam');
  });

  it('shows EMAIL_ALREADY_EXISTS as code in chat, with no zero-width characters', () => {
    const rendered = renderSns(creationFailed());
    const c = JSON.parse(rendered.body) as ChatNotification;
    expect(c.content.title).toContain('`EMAIL_ALREADY_EXISTS`');
    expect(c.content.description).toContain('*Reason:* `EMAIL_ALREADY_EXISTS`');
    expect(rendered.body).not.toContain('\u200B');
    expect(rendered.body).not.toContain('\\u200b');
    expect(rendered.subject).toMatch(/^\[FAILED\] .*EMAIL_ALREADY_EXISTS/);
  });

  it('gives a creation failure without an account the organization-wide attributes', () => {
    const rendered = renderSns(creationFailed());
    expect(rendered.attributes).toEqual({
      severity: 'error',
      kind: 'onboarding',
      state: 'FAILED',
      jobType: 'onboarding',
      accountId: 'organization',
      region: 'global',
      resourceType: 'Account',
    });
    expect(JSON.parse(rendered.body).metadata.additionalContext).not.toHaveProperty('accountId');
  });
});

describe('SNS subject', () => {
  it('is a plain ASCII line under 100 characters', () => {
    expect(renderSns(job(FAILED)).subject).toBe(
      '[FAILED] Backup job - customer-profiles - Production (111122223333) - us-east-1',
    );
  });

  it.each([
    ['the injection sample', INJECTION, {}],
    ['a huge resource name', FAILED, { resourceName: 'ü'.repeat(500) + '\n' }],
  ])('stays ASCII, single-line and at most 99 characters for %s', (_what, name, detail) => {
    const { subject } = renderSns(job(name, { detail }));
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX);
    expect(subject).toMatch(/^\[FAILED\] Backup job - /);
  });

  it('keeps the account id and region when the resource name is 500 characters', () => {
    const { subject } = renderSns(job(FAILED, { detail: { resourceName: 'r'.repeat(500) } }));
    expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX);
    expect(subject).toMatch(
      /^\[FAILED\] Backup job - r+\.\.\. - Production \(111122223333\) - us-east-1$/,
    );
  });

  it('drops a long account name before the account id', () => {
    const { subject } = renderSns(job(FAILED, { accountName: 'Production ' + 'x'.repeat(80) }));
    expect(subject).toBe('[FAILED] Backup job - customer-profiles - 111122223333 - us-east-1');
  });

  it('transliterates accents instead of showing question marks', () => {
    const { subject } = renderSns(
      job(FAILED, { accountName: 'Zürich Café', detail: { resourceName: 'Crème brûlée' } }),
    );
    expect(subject).toBe(
      '[FAILED] Backup job - Creme brulee - Zurich Cafe (111122223333) - us-east-1',
    );
  });

  // The AWS account name is member-controlled: up to 50 printable ASCII characters.
  // BUG (render-chat.ts snsSubject, render-email.ts emailSubject): a notice with a headline gets
  // `[LABEL] headline` cut at the end, so the account id is lost (or never there).
  it.each([
    ['a READY notice', (name: string) => ready(name)],
    [
      'an onboarding failure',
      (name: string) =>
        failedNotice({
          accountId: PAYMENTS,
          account: { id: PAYMENTS, name },
          record: {
            accountId: PAYMENTS,
            status: 'failed',
            steps: {},
            attempts: 1,
            updatedAt: '2025-03-13T03:05:00.000Z',
            attachedPolicies: [],
          },
          step: 'baseline-vault',
          error: 'AccessDenied',
          advice: 'Check the role.',
        }),
    ],
    [
      'a creation failure naming its account',
      (name: string) =>
        creationFailedNotice({
          eventId: 'e-1',
          trigger: 'CreateManagedAccount',
          reason: 'AWS Control Tower cannot create the account',
          accountName: name,
          accountId: PAYMENTS,
        }),
    ],
  ])('keeps the account id of %s with a 50-character account name', (_what, make) => {
    const name = '<ops@pay.io> @here @team @oncall @dba @sre @x @y';
    expect(name.length).toBeLessThanOrEqual(50);
    const n = make(name);
    const { subject } = renderSns(n);
    expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX);
    expect(subject).toContain(PAYMENTS);
    expect(renderEmail(n).subject).toContain(PAYMENTS);
  });

  // Full-width look-alikes must not come back as live ASCII after transliteration.
  it('does not turn a full-width account name into a live link or mention', () => {
    const { subject } = renderSns(
      job(FAILED, { accountName: 'ｈｔｔｐｓ：／／evil．com ＜!channel＞' }),
    );
    expect(subject).not.toContain('https://');
    expect(subject).not.toContain('<!channel>');
  });
});

describe('SNS attributes', () => {
  const notifying = ['backup', 'cloudtrail']
    .flatMap((dir) =>
      readdirSync(join(ROOT, 'events', dir)).map((f) => `${dir}/${f.replace(/\.json$/, '')}`),
    )
    .filter((name) => decide(sample(name), exampleConfig()).flow === 'notify');

  it('covers the notifying samples', () => {
    expect(notifying.length).toBeGreaterThan(10);
  });

  it.each(notifying)('are non-empty filter attributes for %s', (name) => {
    const decision = decide(sample(name), exampleConfig());
    if (decision.flow !== 'notify') throw new Error('expected an alert');
    const { attributes } = renderSns(decision.notice);
    expect(Object.keys(attributes).sort()).toEqual(
      ['accountId', 'jobType', 'kind', 'region', 'resourceType', 'severity', 'state'].sort(),
    );
    for (const value of Object.values(attributes)) expect(value.trim()).not.toBe('');
    expect(attributes).toMatchObject({
      severity: decision.notice.severity,
      kind: decision.notice.kind,
      state: decision.notice.state,
      accountId: decision.notice.account?.id,
    });
    // Job alerts: the job's own facts.
    if (!decision.event) return;
    expect(attributes).toMatchObject({
      severity: decision.notice.severity,
      kind: 'job',
      state: decision.event.state,
      jobType: decision.event.jobType,
      accountId: decision.event.accountId,
      region: decision.event.region,
    });
  });

  it('say "global" and "unknown" when the region and resource type are not known', () => {
    const n = job(FAILED, { detail: { resourceType: '' } });
    const { attributes } = renderSns({ ...n, region: undefined });
    expect(attributes).toMatchObject({ region: 'global', resourceType: 'unknown' });
  });
});

describe('chat notification (Amazon Q Developer custom notification)', () => {
  it('has the custom notification schema', () => {
    const n = chat(job(FAILED));
    expect(n).toEqual({
      version: '1.0',
      source: 'custom',
      id: '111122223333#us-east-1#backup#d8da2bf5-6c6f-4581-ba20-1999ebcc985e#FAILED',
      content: {
        textType: 'client-markdown',
        title: ':rotating_light: Backup job FAILED: customer-profiles',
        description: expect.stringContaining(
          '*Reason:* Insufficient privileges to perform this action.',
        ),
        nextSteps: expect.arrayContaining([expect.stringContaining('IAM role')]),
        keywords: ['FAILED', 'Backup job', 'DynamoDB', '111122223333', 'us-east-1'],
      },
      metadata: {
        threadId: 'backup-job-d8da2bf5-6c6f-4581-ba20-1999ebcc985e',
        summary: 'Backup job FAILED for customer-profiles in Production (111122223333), us-east-1',
        eventType: 'BackupJobFailed',
        relatedResources: ['arn:aws:dynamodb:us-east-1:111122223333:table/customer-profiles'],
        additionalContext: {
          kind: 'job',
          severity: 'error',
          accountId: '111122223333',
          region: 'us-east-1',
          jobType: 'backup',
          state: 'FAILED',
          jobId: 'd8da2bf5-6c6f-4581-ba20-1999ebcc985e',
          eventId: 'e6aade39-02e1-4bab-ad90-823f456afa80',
          consoleUrl:
            'https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/backup/details/d8da2bf5-6c6f-4581-ba20-1999ebcc985e',
        },
      },
    });
  });

  it('uses the severity icon in the title', () => {
    expect(chat(ready()).content.title).toBe(
      `:white_check_mark: Account Payments (${PAYMENTS}) is backup-ready`,
    );
    expect(chat(job(FAILED, { severity: 'warning' })).content.title).toMatch(/^:warning: /);
  });

  it('neutralises mentions, links and code spans coming from event fields', () => {
    const rendered = renderSns(job(INJECTION));
    expect(rendered.body).not.toMatch(/@here|<!channel>|<@U012AB3CD>|<script|\[click me\]\(/);
    const n = JSON.parse(rendered.body) as ChatNotification;
    for (const s of strings(n)) {
      expect(s).not.toMatch(/@here|<!|<@|https:\/\/evil/);
      expect((s.match(/`/g) ?? []).length % 2).toBe(0);
    }
    for (const line of n.content.description.split('\n')) {
      expect((line.match(/`/g) ?? []).length % 2).toBe(0);
    }
    // Still says what happened.
    expect(n.content.description).toMatch(/Backup failed for 'prod'/);
  });

  it('keeps every field on one line except the description', () => {
    const n = chat(job(INJECTION));
    const { description, ...content } = n.content;
    for (const s of strings({ content, metadata: n.metadata })) expect(hasControl(s)).toBe(false);
    expect(description.split('\n').length).toBeGreaterThan(5);
    expect(description).not.toContain('\r');
  });

  it('stays far below the SNS size limit with a huge status message', () => {
    const rendered = renderSns(job(FAILED, { detail: { statusMessage: 'x'.repeat(300_000) } }));
    expect(Buffer.byteLength(rendered.body)).toBeLessThan(16 * 1024);
  });

  it('shortens the description to stay within 200 KiB, keeping the rest', () => {
    const n = job(FAILED);
    n.facts = Array.from({ length: 2000 }, (_, i) => ({
      label: `Fact ${i}`,
      value: 'v'.repeat(500),
      kind: 'text' as const,
    }));
    const rendered = renderSns(n);
    expect(Buffer.byteLength(rendered.body)).toBeLessThanOrEqual(200 * 1024);
    const parsed = JSON.parse(rendered.body) as ChatNotification;
    expect(parsed.content.title).toBe(':rotating_light: Backup job FAILED: customer-profiles');
    expect(parsed.content.description.startsWith('*Reason:* Insufficient privileges')).toBe(true);
    expect(parsed.content.description.endsWith('…')).toBe(true);
  });

  it('lists the first rows of a section and counts the rest', () => {
    const n = ready();
    n.sections = [
      { title: 'Resources', rows: Array.from({ length: 25 }, (_, i) => [{ value: `r-${i}` }]) },
      { title: 'Short', rows: [[{ value: 'a' }], [{ value: 'b' }]], chatRows: 1 },
    ];
    const lines = chat(n).content.description.split('\n');
    expect(lines.filter((l) => /^• r-\d+$/.test(l))).toHaveLength(10);
    expect(lines).toContain('• … and 15 more');
    expect(lines).toContain('• … and 1 more');
  });

  it('threads by a sanitised id', () => {
    const n = job(FAILED);
    n.chat.threadId = 'job <!channel> @here\u200B/évil\n' + 'x'.repeat(300);
    const { threadId } = chat(n).metadata;
    expect(threadId).toMatch(/^[\w.:#-]{1,128}$/);
  });

  it('keeps our console link clickable', () => {
    const c = chat(job(FAILED));
    const url = c.metadata.additionalContext.consoleUrl!;
    expect(url).toMatch(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/backup\/home\?/);
    expect(c.content.description).toContain(`*View job in AWS Backup:* ${url}`);
  });
});

describe('member-controlled text', () => {
  const HOSTILE =
    'Pro\u200Bd https://evil.example\u061C <!channel>\u202E @here\u{E0041}\u{E0042}\u2060\uFEFF';
  const LIVE = /https:\/\/evil|evil\.example/;

  function hostileJob(): Notice {
    return job(FAILED, {
      accountName: HOSTILE,
      detail: { resourceName: HOSTILE, resourceType: HOSTILE, statusMessage: HOSTILE },
    });
  }

  const notices: [string, () => Notice][] = [
    ['a job notice', hostileJob],
    ['a READY notice', () => ready(HOSTILE)],
    [
      'a creation failure',
      () =>
        creationFailedNotice({
          eventId: 'e-1',
          trigger: 'CreateManagedAccount',
          reason: HOSTILE,
          accountName: HOSTILE,
          accountId: '111122223333',
        }),
    ],
  ];

  it.each(notices)('is inert everywhere in the email of %s', (_what, make) => {
    const { subject, html, text } = renderEmail(make());
    for (const part of [subject, html, text]) {
      expect(part).not.toMatch(LIVE);
      expect(part).not.toMatch(INVISIBLE);
    }
    expect(html).not.toContain('<!channel>');
    expect(subject).toContain('hxxps://evil[.]example');
  });

  it.each(notices)('is inert everywhere in the chat message of %s', (_what, make) => {
    const rendered = renderSns(make());
    const parsed = JSON.parse(rendered.body) as ChatNotification;
    const { consoleUrl, ...context } = parsed.metadata.additionalContext;
    const fields = {
      subject: rendered.subject,
      attributes: rendered.attributes,
      title: parsed.content.title,
      description: parsed.content.description,
      nextSteps: parsed.content.nextSteps,
      keywords: parsed.content.keywords,
      summary: parsed.metadata.summary,
      threadId: parsed.metadata.threadId,
      relatedResources: parsed.metadata.relatedResources,
      context,
    };
    for (const [field, value] of Object.entries(fields)) {
      for (const s of strings(value)) {
        expect({ field, s, live: LIVE.test(s) }).toMatchObject({ live: false });
        expect({ field, s }).not.toMatchObject({ s: expect.stringMatching(INVISIBLE) });
        expect({ field, s }).not.toMatchObject({
          s: expect.stringMatching(/<!channel>|@here/),
        });
      }
    }
    expect(consoleUrl === undefined || consoleUrl.startsWith('https://')).toBe(true);
  });

  it('reaches the threadId, keywords, context and attributes of a job notice, inert', () => {
    const n = hostileJob();
    n.chat.threadId = `backup-job-${HOSTILE}`;
    const parsed = chat(n);
    expect(parsed.content.keywords.join(' ')).toContain('hxxps://evil[.]example');
    expect(renderSns(n).attributes.resourceType).toContain('＠here');
    expect(parsed.metadata.threadId).toMatch(/^[\w.:#-]+$/);
  });

  it('leaves ARNs and ids exactly copy-pasteable', () => {
    const bucket = 'arn:aws:s3:::assets.example.com';
    const role = 'arn:aws:iam::111122223333:role/service-role/AWSBackupDefaultServiceRole';
    const jobId = 'd8da2bf5-6c6f-4581-ba20-1999ebcc985e';
    const n = job(FAILED, {
      accountName: HOSTILE,
      detail: { resourceArn: bucket, resourceType: 'S3', iamRoleArn: role },
    });
    const { html, text } = renderEmail(n);
    const { description } = chat(n).content;
    for (const id of [bucket, role, jobId]) {
      expect(html).toMatch(
        new RegExp(`<code [^>]*>${id.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}</code>`),
      );
      expect(text).toContain(`${id}\n`);
      expect(description).toContain('`' + id + '`');
    }
  });
});

describe('lone surrogates', () => {
  const L = 'a\uD800b\uDC00c';

  /** A notice with a lone surrogate in every string that can come from outside. */
  function outsideText(): Notice {
    return {
      kind: 'job',
      dedupKey: `key-${L}`,
      severity: 'error',
      label: 'FAILED',
      what: 'Backup job',
      item: `item-${L}`,
      summary: `summary-${L}`,
      account: {
        id: '111122223333',
        name: `name-${L}`,
        email: `e${L}@example.com`,
        ouPath: `Workloads/${L}`,
        tags: { team: L },
      },
      region: `region-${L}`,
      reason: `reason-${L}`,
      facts: [
        { label: 'Text', value: `text-${L}`, kind: 'text' },
        { label: 'Id', value: `id-${L}`, kind: 'id' },
      ],
      sections: [
        { title: 'Open', rows: [[{ value: `cell-${L}` }, { value: `id-${L}`, kind: 'id' }]] },
        { title: 'Folded', rows: [[{ value: `folded-${L}` }]], collapsed: true },
      ],
      nextSteps: [`step-${L}`],
      link: { url: 'https://console.aws.amazon.com/backup/home', label: 'Open' },
      jobType: 'backup',
      state: `FAILED${L}`,
      resourceType: `type-${L}`,
      chat: {
        threadId: `thread-${L}`,
        eventType: `Event${L}`,
        keywords: [`keyword-${L}`],
        relatedResources: [`arn:aws:s3:::${L}`],
        context: { extra: `context-${L}` },
      },
      reference: `event ${L}`,
    };
  }

  /** The fields the flows fill from their own words, given a lone surrogate all the same. */
  function ownText(): Notice {
    const n = outsideText();
    return {
      ...n,
      label: `FAILED${L}`,
      what: `Backup ${L}`,
      headline: `headline-${L}`,
      account: { ...n.account!, id: `1111${L}` },
      facts: [{ label: `Label-${L}`, value: 'v', kind: 'text' }],
      sections: [{ title: `Title-${L}`, columns: [`Column-${L}`], rows: [[{ value: 'x' }]] }],
      link: { url: `https://console.aws.amazon.com/${L}`, label: `Open ${L}` },
      chat: { ...n.chat, context: { [`key-${L}`]: 'v' } },
    };
  }

  function rendered(n: Notice): Record<string, string> {
    const email = renderEmail(n);
    const sns = renderSns(n);
    return {
      'email subject': email.subject,
      'email html': email.html,
      'email text': email.text,
      'sns subject': sns.subject,
      ...stringsAt(sns.attributes, 'attributes'),
      ...stringsAt(JSON.parse(sns.body), 'chat'),
    };
  }

  const leaks = (n: Notice) =>
    Object.entries(rendered(n))
      .filter(([, s]) => LONE_SURROGATE.test(s))
      .map(([where]) => where.replace(/key-.*\}$/, 'key-…}'));

  it('never reach the rendered output from outside text', () => {
    expect(leaks(outsideText())).toEqual([]);
  });

  // BUG (render-email.ts renderText, render-chat.ts renderSns/messageAttributes): fact labels,
  // section titles and columns, the link, context keys and the account id are used raw.
  it('never reach the rendered output from any other field either', () => {
    expect(leaks(ownText())).toEqual([]);
  });
});
