import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decide } from '../../functions/notify-backup-event/decide';
import {
  awsDate,
  parseBackupEvent,
  statusMessage,
  type JobEvent,
} from '../../functions/notify-backup-event/schema';
import { MalformedEventError } from '../../functions/shared/errors';
import { exampleConfig, ROOT, sample } from '../helpers/fixtures';

type Expected = 'ignore' | 'error' | 'warning' | 'info' | 'rejected';

/** The "Decision" column of every table in events/README.md, by file. */
function readmeDecisions(): Map<string, Expected> {
  const readme = readFileSync(join(ROOT, 'events', 'README.md'), 'utf8');
  const decisions = new Map<string, Expected>();
  for (const line of readme.split('\n')) {
    const m = /^\|\s*`([a-z]+\/[^`]+\.json)`\s*\|.*\|\s*([a-z]+)[^|]*\|\s*$/.exec(line);
    if (m) decisions.set(m[1]!, m[2] as Expected);
  }
  return decisions;
}

function job(name: string, mutate: (raw: Raw) => void = () => {}): JobEvent {
  const raw = sample(name) as Raw;
  mutate(raw);
  const parsed = parseBackupEvent(raw);
  if (parsed.kind !== 'job') throw new Error(`expected a job event, got: ${parsed.reason}`);
  return parsed.event;
}

type Raw = Record<string, unknown> & { detail: Record<string, unknown> };

const decisions = readmeDecisions();
const backupFiles = readdirSync(join(ROOT, 'events', 'backup')).filter((f) => f.endsWith('.json'));
const cloudtrailFiles = readdirSync(join(ROOT, 'events', 'cloudtrail'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => `cloudtrail/${f}`);

describe('events/README.md decisions', () => {
  it('lists every sample in events/backup', () => {
    const missing = backupFiles.filter((f) => !decisions.has(`backup/${f}`));
    expect(missing).toEqual([]);
    expect(backupFiles.length).toBeGreaterThanOrEqual(30);
  });

  it('lists every sample in events/malformed', () => {
    const files = readdirSync(join(ROOT, 'events', 'malformed')).filter((f) => f.endsWith('.json'));
    expect(files.filter((f) => !decisions.has(`malformed/${f}`))).toEqual([]);
    expect(files.length).toBeGreaterThan(0);
  });

  it('lists every sample in events/cloudtrail', () => {
    expect(cloudtrailFiles.filter((f) => !decisions.has(f))).toEqual([]);
    expect(cloudtrailFiles.length).toBeGreaterThanOrEqual(10);
  });

  it.each([...backupFiles.map((f) => `backup/${f}`), ...cloudtrailFiles])(
    '%s gets the decision the README states',
    (file) => {
      const expected = decisions.get(file);
      const decision = decide(sample(file.replace(/\.json$/, '')), exampleConfig());
      if (expected === 'ignore') {
        expect(decision).toMatchObject({ flow: 'ignore', reason: expect.any(String) });
      } else {
        expect(decision).toMatchObject({ flow: 'notify', notice: { severity: expected } });
      }
    },
  );

  const malformed = [...decisions.entries()].filter(
    ([file]) => file.startsWith('malformed/') && file !== 'malformed/broken.json',
  );

  it.each(malformed)('%s is %s', async (file, expected) => {
    const event = sample(file.replace(/\.json$/, ''));
    if (expected === 'rejected') {
      expect(() => decide(event, exampleConfig())).toThrow(MalformedEventError);
    } else {
      expect(decide(event, exampleConfig())).toMatchObject({ flow: 'ignore' });
    }
  });

  it('broken.json is not JSON at all (the handler rejects its body)', () => {
    expect(decisions.get('malformed/broken.json')).toBe('rejected');
    const text = readFileSync(join(ROOT, 'events', 'malformed', 'broken.json'), 'utf8');
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });
});

describe('parseBackupEvent: real variants', () => {
  it('maps the envelope and the detail of a backup job', () => {
    const e = job('backup/backup-job-state-change.failed');
    expect(e).toMatchObject({
      eventId: 'e6aade39-02e1-4bab-ad90-823f456afa80',
      jobType: 'backup',
      jobId: 'd8da2bf5-6c6f-4581-ba20-1999ebcc985e',
      state: 'FAILED',
      accountId: '111122223333',
      region: 'us-east-1',
      resourceType: 'DynamoDB',
      resourceArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/customer-profiles',
      backupVaultName: 'org-backup-vault',
      statusMessage: 'Insufficient privileges to perform this action.',
      backupRuleId: '006185eb-5f7e-4af1-a5dd-ce65c3b754ef',
    });
    expect(e.completionDate?.toISOString()).toBe('2025-03-13T03:04:31.688Z');
  });

  it('reads `status` on restore jobs and `state` on the CREATED restore sample', () => {
    expect(job('backup/restore-job-state-change.failed')).toMatchObject({
      jobType: 'restore',
      state: 'FAILED',
      jobId: '17705E16-1664-4BBD-B080-9CCE61B03AEF',
    });
    expect(job('backup/restore-job-state-change.created-state-field').state).toBe('CREATED');
  });

  it('prefers `state` when both are present and upper-cases the value', () => {
    const e = job('backup/backup-job-state-change.failed', (raw) => {
      raw.detail.state = 'failed';
      raw.detail.status = 'RUNNING';
    });
    expect(e.state).toBe('FAILED');
  });

  it('accepts sizes as strings (backup jobs) and numbers (copy jobs)', () => {
    expect(job('backup/backup-job-state-change.completed')).toMatchObject({
      sizeBytes: 107374182400,
      bytesTransferred: 9663676416,
    });
    expect(job('backup/copy-job-state-change.completed').sizeBytes).toBe(107374182400);
  });

  it('drops sizes that are not non-negative numbers', () => {
    const e = job('backup/backup-job-state-change.completed', (raw) => {
      raw.detail.backupSizeInBytes = 'lots';
      raw.detail.bytesTransferred = -1;
    });
    expect(e.sizeBytes).toBeUndefined();
    expect(e.bytesTransferred).toBeUndefined();
  });

  it('accepts percentDone as a number or a string', () => {
    expect(job('backup/backup-job-state-change.running').percentDone).toBe(37);
    expect(job('backup/backup-job-state-change.running-percent-string').percentDone).toBe(60);
  });

  it('treats `{}` where an ARN should be as absent', () => {
    const running = job('backup/copy-job-state-change.running');
    expect(running).not.toHaveProperty('destinationRecoveryPointArn');
    expect(running.recoveryPointArn).toBe('arn:aws:ec2:us-east-1::snapshot/snap-6af80de0589f3d691');
    expect(job('backup/copy-job-state-change.completed').destinationRecoveryPointArn).toBe(
      'arn:aws:ec2:eu-west-1::snapshot/snap-d5e6f6fdd9780a7df',
    );
    expect(job('backup/copy-job-state-change.failed-empty-destination')).not.toHaveProperty(
      'destinationRecoveryPointArn',
    );
  });

  it('unwraps a statusMessage wrapped in literal quotes', () => {
    expect(job('backup/backup-job-state-change.failed-quoted-status-message').statusMessage).toBe(
      'The backup job failed because the AWS Backup service role could not be assumed.',
    );
  });

  it('keeps a message that only starts and ends with quoted words', () => {
    const e = job('backup/backup-job-state-change.failed', (raw) => {
      raw.detail.statusMessage = '"a" and "b"';
    });
    expect(e.statusMessage).toBe('"a" and "b"');
  });

  it.each([
    ['"\\"nested\\""', 'nested'],
    ["'single'", 'single'],
    ['  padded  ', 'padded'],
    ['""', undefined],
    ['', undefined],
    [42, undefined],
  ])('statusMessage(%j) is %j', (input, expected) => {
    expect(statusMessage(input)).toBe(expected);
  });

  it('treats an empty statusMessage as none', () => {
    expect(job('backup/backup-job-state-change.pending')).not.toHaveProperty('statusMessage');
  });

  it('reads the plan rule id from backupPlanRuleId and from backupRuleId', () => {
    expect(job('backup/backup-job-state-change.failed-backup-rule-id').backupRuleId).toBe(
      'b8eb52c6-2bab-492f-88d7-d4c36d524835',
    );
    expect(job('backup/backup-job-state-change.failed').backupRuleId).toBe(
      '006185eb-5f7e-4af1-a5dd-ce65c3b754ef',
    );
  });

  it('parses legacy "Mar 4, 2025 11:02:45 PM" dates as UTC and keeps the 13-digit account', () => {
    const e = job('backup/backup-job-state-change.failed-legacy-dates');
    expect(e.accountId).toBe('1112233445566');
    expect(e.creationDate?.toISOString()).toBe('2025-03-04T23:02:45.000Z');
    expect(e.completionDate?.toISOString()).toBe('2025-03-04T23:09:38.000Z');
  });

  it.each([
    ['Jul 15, 2020 9:39:07 PM', '2020-07-15T21:39:07.000Z'],
    ['Jul 15, 2020 9:39:07 AM', '2020-07-15T09:39:07.000Z'],
    ['Jan 1, 2021 12:00:05 AM', '2021-01-01T00:00:05.000Z'],
    ['Jan 1, 2021 12:00:05 PM', '2021-01-01T12:00:05.000Z'],
    ['2025-03-13T03:04:31.688Z', '2025-03-13T03:04:31.688Z'],
    [1594849147, '2020-07-15T21:39:07.000Z'],
    [1594849147000, '2020-07-15T21:39:07.000Z'],
  ])('awsDate(%j) is %s', (input, iso) => {
    expect(awsDate(input)?.toISOString()).toBe(iso);
  });

  it.each([['Foo 15, 2020 9:39:07 PM'], ['yesterday'], [''], [{}], [null]])(
    'awsDate(%j) is undefined',
    (input) => {
      expect(awsDate(input)).toBeUndefined();
    },
  );

  it('accepts a CREATED copy job without copyJobId', () => {
    const e = job('backup/copy-job-state-change.created');
    expect(e).toMatchObject({ jobType: 'copy', state: 'CREATED' });
    expect(e).not.toHaveProperty('jobId');
  });

  it('sends a later copy state without copyJobId, warning that the field is unreadable', () => {
    const raw = sample('backup/copy-job-state-change.failed') as Raw;
    delete raw.detail.copyJobId;
    const parsed = parseBackupEvent(raw);
    expect(parsed).toMatchObject({
      kind: 'job',
      warnings: ['field "detail.copyJobId" is unreadable; left out'],
    });
    expect(parsed.kind === 'job' && parsed.event).not.toHaveProperty('jobId');
  });

  it.each([
    ['time', 'x'.repeat(65)],
    ['time', 42],
    ['resources', 'not-a-list'],
    ['region', 'Mars'],
    ['id', 17],
  ])(
    'leaves an unreadable display field %s out, with a warning, and still notifies',
    (field, value) => {
      const raw = sample('backup/backup-job-state-change.failed') as Raw;
      (raw as Record<string, unknown>)[field] = value;
      const parsed = parseBackupEvent(raw);
      expect(parsed).toMatchObject({
        kind: 'job',
        warnings: [`field "${field}" is unreadable; left out`],
        event: { state: 'FAILED', accountId: '111122223333' },
      });
    },
  );

  it('gives an event without id a stable id, so its redeliveries deduplicate', () => {
    const raw = sample('backup/backup-job-state-change.failed') as Raw;
    delete (raw as Record<string, unknown>).id;
    const a = parseBackupEvent(raw);
    const b = parseBackupEvent(structuredClone(raw));
    expect(a.kind === 'job' && a.event.eventId).toMatch(/^no-id-[0-9a-f]{32}$/);
    expect(a.kind === 'job' && a.event.eventId).toBe(b.kind === 'job' && b.event.eventId);
  });

  it('repairs lone surrogates before anything can reach an SDK call', () => {
    const raw = sample('backup/backup-job-state-change.failed') as Raw;
    raw.detail.statusMessage = 'bad \ud800 text';
    const parsed = parseBackupEvent(raw);
    expect(parsed.kind === 'job' && parsed.event.statusMessage).toBe('bad \ufffd text');
  });

  it('leaves optional fields out instead of crashing when they are missing', () => {
    const e = job('backup/backup-job-state-change.created');
    expect(Object.keys(e).sort()).toEqual(
      [
        'accountId',
        'creationDate',
        'detailType',
        'eventId',
        'jobId',
        'jobType',
        'region',
        'state',
        'time',
      ].sort(),
    );
  });
});

describe('parseBackupEvent: rejected events', () => {
  function rejection(input: unknown): MalformedEventError {
    try {
      parseBackupEvent(input);
    } catch (error) {
      return error as MalformedEventError;
    }
    throw new Error('parseBackupEvent did not throw');
  }

  it.each([
    ['malformed/backup-job-missing-state', 'detail.state'],
    ['malformed/missing-detail', 'detail'],
  ])('%s throws MalformedEventError naming %s', (name, field) => {
    const error = rejection(sample(name));
    expect(error).toBeInstanceOf(MalformedEventError);
    expect(error.field).toBe(field);
    expect(error.message).toContain(`"${field}"`);
  });

  it('says a missing detail is missing', () => {
    expect(rejection(sample('malformed/missing-detail')).message).toMatch(/"detail" is missing/);
  });

  it('says a detail that is not an object is wrong', () => {
    const raw = sample('backup/backup-job-state-change.failed');
    raw.detail = 'FAILED';
    const error = rejection(raw);
    expect(error.field).toBe('detail');
    expect(error.message).toMatch(/"detail".*object/);
  });

  it.each([[[1, 2, 3]], ['text'], [null], [42]])('rejects a non-object event %j', (input) => {
    const error = rejection(input);
    expect(error).toBeInstanceOf(MalformedEventError);
    expect(error.message).toMatch(/object/);
  });

  it('names a bad account id', () => {
    const raw = sample('backup/backup-job-state-change.failed');
    raw.account = '12345';
    expect(rejection(raw).field).toBe('account');
  });

  it.each([
    ['source', undefined],
    ['detail-type', 7],
    ['account', undefined],
  ])('names a missing or broken %s', (field, value) => {
    const raw = sample('backup/backup-job-state-change.failed');
    if (value === undefined) delete raw[field];
    else raw[field] = value;
    expect(rejection(raw).field).toBe(field);
  });

  it('rejects a state that is not a string', () => {
    const raw = sample('backup/backup-job-state-change.failed') as Raw;
    raw.detail.state = 7;
    expect(rejection(raw).field).toBe('detail.state');
  });
});

describe('parseBackupEvent: ignored events', () => {
  it('ignores another source with a reason', () => {
    const parsed = parseBackupEvent(sample('malformed/wrong-source'));
    expect(parsed).toEqual(
      expect.objectContaining({ kind: 'ignored', reason: expect.stringContaining('aws.ec2') }),
    );
  });

  it('ignores an unknown detail-type with a reason naming it', () => {
    const parsed = parseBackupEvent(sample('backup/recovery-point-state-change.completed'));
    expect(parsed).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('Recovery Point State Change'),
    });
  });

  it('ignores an unknown state with a reason naming it', () => {
    const raw = sample('backup/backup-job-state-change.failed') as Raw;
    raw.detail.state = 'HIBERNATING';
    expect(parseBackupEvent(raw)).toMatchObject({
      kind: 'ignored',
      eventId: 'e6aade39-02e1-4bab-ad90-823f456afa80',
      reason: expect.stringContaining('HIBERNATING'),
    });
  });
});

describe('parseBackupEvent: someone else’s event is ignored before its envelope is checked', () => {
  it('ignores another source even when the rest of the envelope is unusual', () => {
    const odd = { id: 'x-1', source: 'aws.ec2', 'detail-type': 'Whatever', account: 'n/a' };
    expect(parseBackupEvent(odd)).toMatchObject({ kind: 'ignored', eventId: 'x-1' });
  });

  it('ignores another aws.backup detail-type without region or detail', () => {
    const odd = { id: 'x-2', source: 'aws.backup', 'detail-type': 'Scan Job State Change' };
    expect(parseBackupEvent(odd)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('Scan Job State Change'),
    });
  });

  it('still rejects a job event without its account, naming the field', () => {
    const raw = sample('backup/backup-job-state-change.failed');
    delete raw.account;
    expect(() => parseBackupEvent(raw)).toThrow(/account/);
  });
});

describe('parseBackupEvent: copy jobs', () => {
  it('takes the source recovery point from `resources` when the detail lacks it', () => {
    const parsed = parseBackupEvent(
      sample('backup/copy-job-state-change.failed-empty-destination'),
    );
    expect(parsed.kind).toBe('job');
    const event = (parsed as { event: JobEvent }).event;
    expect(event.recoveryPointArn).toMatch(/^arn:aws:/);
    expect(event.destinationRecoveryPointArn).toBeUndefined();
  });
});
