import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compose } from '../../functions/notify-backup-event/compose';
import { decide } from '../../functions/notify-backup-event/decide';
import { enrich } from '../../functions/notify-backup-event/enrich';
import { buildMessage, type MessageModel } from '../../functions/notify-backup-event/message';
import {
  renderSns,
  SNS_SUBJECT_MAX,
  type ChatNotification,
} from '../../functions/notify-backup-event/render-chat';
import { EMAIL_SUBJECT_MAX, renderEmail } from '../../functions/notify-backup-event/render-email';
import { parseBackupEvent, type JobEvent } from '../../functions/notify-backup-event/schema';
import { exampleConfig, ROOT, sample } from '../helpers/fixtures';
import { FakeAccountDirectory, jobEvent } from '../helpers/fakes';

const ACCOUNTS = {
  '111122223333': { name: 'Production' },
  '444455556666': { name: 'Staging' },
  '777788889999': { name: 'Analytics' },
};

async function model(
  event: JobEvent,
  severity: MessageModel['severity'] = 'error',
  label: string = event.state,
  accounts = ACCOUNTS,
): Promise<MessageModel> {
  const enriched = await enrich(event, { accounts: new FakeAccountDirectory(accounts) });
  return buildMessage(enriched, severity, label);
}

const INJECTION = 'backup/backup-job-state-change.failed-html-injection';
/** C0 and C1 controls and Unicode line separators: nothing a header or a one-line field may hold. */
function hasControl(text: string): boolean {
  return Array.from(text).some((ch) => {
    const code = ch.codePointAt(0)!;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  });
}

/** Every string anywhere in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('email', () => {
  it('has the subject shape [STATE] Job type · resource · account name (id) · region', async () => {
    const m = await model(jobEvent('backup/backup-job-state-change.failed'));
    expect(renderEmail(m).subject).toBe(
      '[FAILED] Backup job · customer-profiles · Production (111122223333) · us-east-1',
    );
  });

  it('uses the label for completed-with-issues and the job type of copies', async () => {
    const issues = await model(
      jobEvent('backup/backup-job-state-change.completed-with-issues'),
      'warning',
      'COMPLETED WITH ISSUES',
    );
    expect(renderEmail(issues).subject).toBe(
      '[COMPLETED WITH ISSUES] Backup job · i-094fffa48c273aef3 · Analytics (777788889999) · ap-southeast-2',
    );
    const copy = await model(jobEvent('backup/copy-job-state-change.failed'));
    expect(renderEmail(copy).subject).toMatch(
      /^\[FAILED\] Copy job · .+ · Staging \(444455556666\) · eu-west-1$/,
    );
  });

  it('keeps the account id alone when the name is unknown', async () => {
    const m = await model(
      jobEvent('backup/backup-job-state-change.failed'),
      'error',
      'FAILED',
      {} as typeof ACCOUNTS,
    );
    expect(renderEmail(m).subject).toBe(
      '[FAILED] Backup job · customer-profiles · 111122223333 · us-east-1',
    );
  });

  it('escapes event text in the HTML part', async () => {
    const { html } = renderEmail(await model(jobEvent(INJECTION)));
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

  it('keeps the text part readable and free of carriage returns', async () => {
    const { text } = renderEmail(await model(jobEvent(INJECTION)));
    expect(text).not.toContain('\r');
    expect(text).toMatch(/^Reason: .*Bcc: attacker@evil\.example .*apostrophes'$/m);
    expect(text).not.toMatch(/^Bcc:/m);
    expect(text).toContain('Account:       Production (111122223333)');
  });

  it('keeps the subject one header-safe line, whatever the event says', async () => {
    const { subject } = renderEmail(await model(jobEvent(INJECTION)));
    expect(hasControl(subject)).toBe(false);
    expect(subject).not.toMatch(/\s{2}/);
    expect(subject.startsWith('[FAILED] Backup job · ')).toBe(true);
    expect(subject.endsWith(' · Production (111122223333) · us-east-1')).toBe(true);
  });

  it('keeps the subject within 200 characters with a huge resource name, keeping the account', async () => {
    const event = jobEvent('backup/backup-job-state-change.failed', (raw) => {
      raw.detail.resourceName = 'db-' + 'x'.repeat(5000) + '\r\nBcc: evil@example.com';
    });
    const { subject } = renderEmail(await model(event));
    expect(Array.from(subject).length).toBeLessThanOrEqual(EMAIL_SUBJECT_MAX);
    expect(subject).toContain('…');
    expect(subject.endsWith(' · Production (111122223333) · us-east-1')).toBe(true);
    expect(hasControl(subject)).toBe(false);
  });

  it('keeps the subject within 200 characters with a huge account name', async () => {
    const event = jobEvent('backup/backup-job-state-change.failed');
    const { subject } = renderEmail(
      await model(event, 'error', 'FAILED', {
        '111122223333': { name: 'N\n'.repeat(400) },
      } as never),
    );
    expect(Array.from(subject).length).toBeLessThanOrEqual(EMAIL_SUBJECT_MAX);
    expect(hasControl(subject)).toBe(false);
  });

  it('lists next steps that fit the failure', async () => {
    const { text } = renderEmail(await model(jobEvent('backup/backup-job-state-change.failed')));
    expect(text).toMatch(/IAM role used by the job/);
    expect(text).toMatch(/on-demand backup/);
    const kms = renderEmail(
      await model(jobEvent('backup/backup-job-state-change.failed-backup-rule-id')),
    );
    expect(kms.text).toMatch(/KMS key policy/);
  });
});

describe('SNS subject and attributes', () => {
  it('is a plain ASCII line under 100 characters', async () => {
    const { subject } = renderSns(await model(jobEvent('backup/backup-job-state-change.failed')));
    expect(subject).toBe(
      '[FAILED] Backup job - customer-profiles - Production (111122223333) - us-east-1',
    );
  });

  it.each([
    ['the injection sample', INJECTION, {}],
    [
      'a huge resource name',
      'backup/backup-job-state-change.failed',
      { resourceName: 'ü'.repeat(500) + '\n' },
    ],
  ])('stays ASCII, single-line and at most 99 characters for %s', async (_what, name, detail) => {
    const event = jobEvent(name, (raw) => Object.assign(raw.detail, detail));
    const { subject } = renderSns(await model(event));
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX);
    expect(subject).toMatch(/^\[FAILED\] Backup job - /);
  });

  const notifying = readdirSync(join(ROOT, 'events', 'backup'))
    .map((f) => `backup/${f.replace(/\.json$/, '')}`)
    .filter((name) => decide(sample(name), exampleConfig()).flow === 'notify');

  it.each(notifying)('has non-empty filter attributes for %s', async (name) => {
    const config = exampleConfig();
    const decision = decide(sample(name), config);
    if (decision.flow !== 'notify') throw new Error('expected a notify decision');
    const enriched = await enrich(decision.event);
    const sns = compose(
      decision,
      enriched,
      config,
      () => 'arn:aws:sns:us-east-1:123456789012:chat',
    ).find((o) => o.channel === 'sns');
    const attributes = sns!.message.attributes;
    expect(Object.keys(attributes).sort()).toEqual(
      ['accountId', 'jobType', 'region', 'resourceType', 'severity', 'state'].sort(),
    );
    for (const value of Object.values(attributes)) expect(value.trim()).not.toBe('');
    expect(attributes).toMatchObject({
      severity: decision.severity,
      state: decision.event.state,
      jobType: decision.event.jobType,
      accountId: decision.event.accountId,
      region: decision.event.region,
    });
  });
});

describe('chat notification (Amazon Q Developer custom notification)', () => {
  async function chat(
    event: JobEvent,
    severity: MessageModel['severity'] = 'error',
  ): Promise<ChatNotification> {
    const rendered = renderSns(await model(event, severity));
    return JSON.parse(rendered.body) as ChatNotification;
  }

  it('has the custom notification schema', async () => {
    const n = await chat(jobEvent('backup/backup-job-state-change.failed'));
    expect(n).toEqual({
      version: '1.0',
      source: 'custom',
      id: 'e6aade39-02e1-4bab-ad90-823f456afa80',
      content: {
        textType: 'client-markdown',
        title: expect.stringContaining('Backup job FAILED: customer-profiles'),
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
        additionalContext: expect.objectContaining({
          accountId: '111122223333',
          jobId: 'd8da2bf5-6c6f-4581-ba20-1999ebcc985e',
          consoleUrl: expect.stringContaining('#/jobs/backup/details/d8da2bf5'),
        }),
      },
    });
    for (const s of [...n.content.nextSteps, ...n.content.keywords])
      expect(typeof s).toBe('string');
  });

  it('threads by job: the same job shares a thread, another job does not', async () => {
    const running = await chat(jobEvent('backup/copy-job-state-change.running'), 'info');
    const completed = await chat(jobEvent('backup/copy-job-state-change.completed'), 'info');
    const other = await chat(jobEvent('backup/copy-job-state-change.failed'));
    expect(running.metadata.threadId).toBe('copy-job-594599DF-4C76-4C25-800A-7B1C33A5BB6F');
    expect(completed.metadata.threadId).toBe(running.metadata.threadId);
    expect(other.metadata.threadId).not.toBe(running.metadata.threadId);
  });

  it('neutralises mentions, links and code spans coming from event fields', async () => {
    const rendered = renderSns(await model(jobEvent(INJECTION)));
    expect(rendered.body).not.toMatch(/@here|<!channel>|<@U012AB3CD>|<script|\[click me\]\(/);
    const n = JSON.parse(rendered.body) as ChatNotification;
    for (const s of strings(n)) {
      expect(s).not.toMatch(/@here|<!|<@/);
      expect((s.match(/`/g) ?? []).length % 2).toBe(0);
    }
    for (const line of n.content.description.split('\n')) {
      expect((line.match(/`/g) ?? []).length % 2).toBe(0);
    }
    // Still says what happened.
    expect(n.content.description).toMatch(/Backup failed for 'prod'/);
  });

  it('keeps every field on one line except the description', async () => {
    const n = await chat(jobEvent(INJECTION));
    const { description, ...content } = n.content;
    for (const s of strings({ content, metadata: n.metadata })) expect(hasControl(s)).toBe(false);
    expect(description.split('\n').length).toBeGreaterThan(5);
    expect(description).not.toContain('\r');
  });

  it('stays far below the SNS size limit with a huge status message', async () => {
    const event = jobEvent('backup/backup-job-state-change.failed', (raw) => {
      raw.detail.statusMessage = 'x'.repeat(300_000);
    });
    const rendered = renderSns(await model(event));
    expect(Buffer.byteLength(rendered.body)).toBeLessThan(16 * 1024);
  });
});

describe('vault shown by name', () => {
  it('names the vault from its ARN when the event has no backupVaultName', async () => {
    const event = sample('backup/backup-job-state-change.failed');
    const detail = event.detail as Record<string, unknown>;
    delete detail.backupVaultName;
    detail.backupVaultArn = 'arn:aws:backup:us-east-1:111122223333:backup-vault:Default';
    const parsed = parseBackupEvent(event);
    if (parsed.kind !== 'job') throw new Error('expected a job');
    const model = buildMessage(await enrich(parsed.event), 'error', 'FAILED');
    expect(model.facts).toContainEqual({ label: 'Vault', value: 'Default', kind: 'id' });
  });
});
