import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decide } from '../../functions/notify-backup-event/decide';
import { planNotice } from '../../functions/shared/notices/send';
import { parseOnboardingEvent } from '../../functions/onboard-account/triggers';
import { parseConfig } from '../../functions/shared/config/schema';
import { MalformedEventError } from '../../functions/shared/errors';
import { exampleConfig, ROOT, sample } from '../helpers/fixtures';

/**
 * Every field of every sample replaced by hostile values: the parsers either decide or reject
 * with MalformedEventError (which names a field), never crash with a TypeError; and whatever is
 * notified renders with header-safe subjects and a chat body that stays valid JSON.
 */

const HOSTILE: unknown[] = [
  null,
  42,
  -1,
  true,
  [],
  {},
  [1, 'two'],
  '',
  ' ',
  '"',
  'x'.repeat(100_000),
  'line1\r\nBcc: victim@example.com',
  '<script>alert(1)</script> @here <!channel> `rm -rf` *bold* _it_',
  '\u0000\u001b[31m\u202e',
  'lone \ud800 surrogate \udfff',
  'Prod https://evil.example <!channel> \u200b\u061c\u{e0041}',
  'constructor',
  '__proto__',
];

type Json = Record<string, unknown>;

function paths(value: unknown, prefix: string[] = []): string[][] {
  if (!value || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))].filter((p) => p.length);
}

function withValue(event: Json, path: string[], value: unknown): Json {
  const copy = JSON.parse(JSON.stringify(event)) as Json;
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

function samplesIn(dir: string): [string, Json][] {
  return readdirSync(join(ROOT, 'events', dir))
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        const v = JSON.parse(readFileSync(join(ROOT, 'events', dir, f), 'utf8')) as unknown;
        return v && typeof v === 'object' && !Array.isArray(v)
          ? [[`${dir}/${f}`, v as Json] as [string, Json]]
          : [];
      } catch {
        return [];
      }
    });
}

const config = exampleConfig();

/** Every message the flow would send for a notify decision (no account name lookup). */
async function outgoing(decision: Extract<ReturnType<typeof decide>, { flow: 'notify' }>) {
  const topicArn = () => 'arn:aws:sns:us-east-1:123456789012:chat';
  return planNotice(decision.notice, config, topicArn).outgoing;
}

/** The only fields without which an alert has nothing to say (issue: display fields never block). */
const ESSENTIAL = ['(event)', 'source', 'detail-type', 'account', 'detail', 'detail.state'];
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('hostile variants of the backup samples', () => {
  const samples = samplesIn('backup').filter(([f]) =>
    /(failed|completed-with-issues|partial)\.json$/.test(f),
  );

  it.each(samples)('%s: decide or reject by name, render safely', async (_file, sample) => {
    let checked = 0;
    for (const path of paths(sample)) {
      for (const value of HOSTILE) {
        const event = withValue(sample, path, value);
        let decision;
        try {
          decision = decide(event, config);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedEventError);
          expect(ESSENTIAL).toContain((error as MalformedEventError).field);
          continue;
        }
        if (decision.flow !== 'notify') continue;
        const out = await outgoing(decision);
        for (const o of out) {
          // Nothing ill-formed may reach an SDK call.
          expect(JSON.stringify(o.message)).not.toMatch(LONE_SURROGATE);
          expect(JSON.stringify(o.message)).not.toMatch(/https:\/\/evil|\u200b|\u061c/);
          expect([...o.message.subject].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
          if (o.channel === 'email') {
            expect(o.message.subject.length).toBeLessThanOrEqual(200);
            expect(o.message.html).not.toMatch(/<script/i);
          } else {
            expect(o.message.subject.length).toBeLessThan(100);
            expect(o.message.subject).toMatch(/^[\x20-\x7e]+$/);
            const body = JSON.parse(o.message.body) as { content: { description: string } };
            expect(body.content.description).not.toMatch(/@here|<!channel>/);
            expect(Object.values(o.message.attributes).every((v) => v.length > 0)).toBe(true);
          }
        }
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('hostile variants of the account-event samples', () => {
  const samples = [...samplesIn('organizations'), ...samplesIn('controltower')];

  it.each(samples)('%s: decide or reject by name', (_file, sample) => {
    for (const path of paths(sample)) {
      for (const value of HOSTILE) {
        try {
          const d = parseOnboardingEvent(withValue(sample, path, value));
          if (d.flow === 'onboard') expect(d.accountId).toMatch(/^\d{12}$/);
          if (d.flow === 'alert') expect(d.reason).not.toMatch(/[\r\n]/);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedEventError);
        }
      }
    }
  });
});

describe('hostile names and values that look like something else', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'ignores detail-type "%s" (an Object built-in, not a job type)',
    (detailType) => {
      const event = {
        ...sample('backup/backup-job-state-change.failed'),
        'detail-type': detailType,
      };
      expect(decide(event, config)).toMatchObject({ flow: 'ignore' });
    },
  );

  it('takes the first valid account id of AccountJoinedOrganization, past "Not Available"', () => {
    const event = sample('organizations/account-joined-organization.invited') as Json;
    const detail = event.detail as Json;
    const decision = parseOnboardingEvent(event);
    if (decision.flow !== 'onboard') throw new Error('expected onboard');
    detail.serviceEventDetails = { accountId: 'Not Available' };
    detail.requestParameters = { accountId: decision.accountId };
    expect(parseOnboardingEvent(event)).toMatchObject({
      flow: 'onboard',
      accountId: decision.accountId,
    });
  });

  it('refuses a recipient list longer than SES takes in one message, naming it', () => {
    const raw = JSON.parse(JSON.stringify(exampleConfig())) as Json & {
      notifications: { email: { recipients: Record<string, string[]> } };
    };
    raw.notifications.email.recipients.admins = Array.from(
      { length: 51 },
      (_, i) => `a${i}@example.com`,
    );
    expect(() => parseConfig(raw, 'test')).toThrow(
      /notifications\.email\.recipients\.admins: at most 50/,
    );
  });
});

describe('giant event fields', () => {
  it.each(['resourceArn', 'resourceType', 'resourceName', 'backupVaultName', 'statusMessage'])(
    'a 200 KB %s still gives an SNS body under 256 KiB and a short email subject',
    async (field) => {
      const event = sample('backup/backup-job-state-change.failed');
      const huge =
        field === 'resourceArn'
          ? `arn:aws:ec2:us-east-1:111122223333:instance/${'i'.repeat(200_000)}`
          : '<x@here>'.repeat(25_000);
      (event.detail as Json)[field] = huge;
      const decision = decide(event, config);
      if (decision.flow !== 'notify') throw new Error('expected notify');
      const out = await outgoing(decision);
      for (const o of out) {
        if (o.channel === 'sns') {
          const size =
            Buffer.byteLength(o.message.body) +
            Buffer.byteLength(JSON.stringify(o.message.attributes));
          expect(size).toBeLessThan(256 * 1024);
          expect(() => JSON.parse(o.message.body)).not.toThrow();
        } else {
          expect(o.message.subject.length).toBeLessThanOrEqual(200);
        }
      }
    },
  );
});
