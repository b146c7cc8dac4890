import { TAKEN_IN_CHANNEL } from '../../functions/shared/notices/deliver';
import {
  deliverAlert,
  flushIncident,
  FLUSH_KIND,
  recoverResource,
  type AggregateDeps,
} from '../../functions/notify-backup-event/aggregate';
import { decide } from '../../functions/notify-backup-event/decide';
import {
  failureCategory,
  groupJobAlert,
  normaliseReason,
  recoveredNotice,
  summaryNotice,
  type GroupedAlert,
} from '../../functions/notify-backup-event/incidents';
import type { JobEvent } from '../../functions/notify-backup-event/schema';
import { AggregationSchema, parseConfig, type Config } from '../../functions/shared/config/schema';

import { renderEmail } from '../../functions/shared/notices/render-email';
import { renderSns } from '../../functions/shared/notices/render-chat';
import type {
  AdmitOutcome,
  EnqueueOptions,
  WorkQueue,
  IncidentMember,
  IncidentStore,
  SummaryWindow,
} from '../../functions/shared/ports';
import { FakeClock, FakeDirectory } from '../helpers/fakes';
import { exampleConfig, sample } from '../helpers/fixtures';
import { pipelineWorld } from '../helpers/onboarding-fakes';

const NOW = new Date('2026-11-28T03:00:00Z');
const on = AggregationSchema.parse({ enabled: true });

function configWith(aggregation: Record<string, unknown>): Config {
  const raw = structuredClone(exampleConfig()) as unknown as {
    notifications: Record<string, unknown>;
  };
  raw.notifications.aggregation = aggregation;
  return parseConfig(raw, 'test');
}

function failed(name = 'backup/backup-job-state-change.failed') {
  const d = decide(sample(name), exampleConfig());
  if (d.flow !== 'notify' || !d.event) throw new Error('expected a job alert');
  return { event: d.event, notice: d.notice };
}

describe('failureCategory', () => {
  it.each([
    ['Insufficient privileges to perform this action.', 'AccessDenied'],
    ['Access denied exception while trying to list tags', 'AccessDenied'],
    ['The KMS key arn:aws:kms:... is disabled', 'KMS'],
    [
      'Backup job failed because backup vault arn:aws:backup:us-west-2:1:backup-vault:x does not exist.',
      'VaultNotFound',
    ],
    ['Backup job failed because there was a running job for the same resource.', 'ResourceBusy'],
    ['Rate exceeded', 'Throttled'],
  ])('reads %p as %s', (statusMessage, label) => {
    expect(failureCategory({ statusMessage, state: 'FAILED' }).label).toBe(label);
  });

  it("prefers AWS Backup's MessageCategory, and keys other reasons by their gist", () => {
    expect(
      failureCategory({
        messageCategory: 'InvalidParameters',
        state: 'FAILED',
        statusMessage: 'x',
      }),
    ).toEqual({ key: 'category:INVALIDPARAMETERS', label: 'InvalidParameters' });
    const a = failureCategory({
      state: 'FAILED',
      statusMessage: 'Snapshot snap-0123 of vol-9 in state error after 3 tries',
    });
    const b = failureCategory({
      state: 'FAILED',
      statusMessage: 'Snapshot snap-0456 of vol-7 in state error after 5 tries',
    });
    expect(a.key).toBe(b.key);
    expect(a.label).toBeUndefined();
    expect(failureCategory({ state: 'EXPIRED' })).toEqual({ key: 'state:EXPIRED' });
  });

  it('normalises ARNs, ids, numbers and quoted names away', () => {
    expect(
      normaliseReason(
        'Role "Backup-X" for arn:aws:rds:eu-west-1:1:db:orders failed 3 times (i-0abc, 5f0c3a2e-8d71-4b6e-a1c9-2e7f4d8b9a10)',
      ),
    ).toBe('role <name> for <arn> failed <n> times (<id>, <id>)');
  });
});

describe('groupJobAlert', () => {
  it('groups nothing while aggregation is off (the default)', () => {
    const { event, notice } = failed();
    expect(
      groupJobAlert(event, notice, exampleConfig().notifications.aggregation, NOW),
    ).toBeUndefined();
  });

  it('puts failures of one cause and vault in one group across accounts, and keeps causes apart', () => {
    const { event, notice } = failed();
    const other: JobEvent = {
      ...event,
      accountId: '777788889999',
      jobId: 'another',
      resourceArn: 'arn:aws:dynamodb:us-east-1:777788889999:table/x',
    };
    const a = groupJobAlert(event, notice, on, NOW)!;
    const b = groupJobAlert(other, { ...notice, dedupKey: 'other' }, on, NOW)!;
    expect(a.group).toBe(b.group);
    const kms = groupJobAlert({ ...event, statusMessage: 'KMS key is disabled' }, notice, on, NOW)!;
    expect(kms.group).not.toBe(a.group);
    // Per account when asked.
    const perAccount = AggregationSchema.parse({ enabled: true, scope: 'account' });
    expect(groupJobAlert(event, notice, perAccount, NOW)!.group).not.toBe(
      groupJobAlert(other, notice, perAccount, NOW)!.group,
    );
    expect(a.resource).toMatch(/^111122223333#backup#[0-9a-f]{24}$/);
    expect(a.meta).toMatchObject({ kind: 'incident', category: 'AccessDenied', label: 'FAILED' });
  });

  it('leaves info and unlisted severities alone', () => {
    const d = decide(sample('backup/backup-job-state-change.completed'), exampleConfig());
    if (d.flow !== 'notify' || !d.event) throw new Error('expected a notice');
    expect(groupJobAlert(d.event, d.notice, on, NOW)).toBeUndefined();
  });
});

const member = (i: number, account = '444455556666'): IncidentMember => ({
  k: `job-${i}`,
  a: account,
  r: 'eu-west-1',
  w: 'Backup job',
  l: 'FAILED',
  i: `table-${i}`,
  s: 'error',
  j: `job-id-${i}`,
  t: new Date(NOW.getTime() + i * 1000).toISOString(),
});

describe('summaryNotice', () => {
  const { event, notice } = failed();
  const meta = groupJobAlert(event, notice, on, NOW)!.meta;

  it('says how many more, of what, why and where, and lists every one in the email', () => {
    const accounts = ['111122223333', '444455556666', '777788889999', '999900001111'];
    const members = Array.from({ length: 37 }, (_, i) => member(i, accounts[i % 4]));
    const n = summaryNotice({ incidentId: 'inc-1', seq: 0, members, overflow: 0, meta })!;
    expect(n.headline).toBe('37 more backup jobs failed with AccessDenied in 4 accounts');
    expect(n.account).toBeUndefined();
    expect(n.dedupKey).toBe('incident#inc-1#0');
    expect(n.chat.threadId).toBe('incident-inc-1');
    const email = renderEmail(n);
    expect(email.subject).toBe(
      '[FAILED] 37 more backup jobs failed with AccessDenied in 4 accounts',
    );
    for (let i = 0; i < 37; i++) expect(email.text).toContain(`table-${i}`);
    // Chat: the count and the top items.
    const chat = JSON.stringify(renderSns(n));
    expect(chat).toContain('table-0');
    expect(chat).not.toContain('table-36');
    expect(chat).toMatch(/27 more/);
  });

  it('lists a redelivered alert once, and counts what was not listed', () => {
    const members = [member(1), member(1), member(2)];
    const n = summaryNotice({ incidentId: 'inc-1', seq: 3, members, overflow: 5, meta })!;
    expect(n.headline).toBe('7 more backup jobs failed with AccessDenied in account 444455556666');
    expect(n.account?.id).toBe('444455556666');
    expect(n.sections[0]!.rows).toHaveLength(2);
    expect(n.facts.find((f) => f.label === 'Not listed')?.value).toBe(
      '5 more beyond the 800 listed',
    );
  });

  it('is nothing when the window has nothing', () => {
    expect(
      summaryNotice({ incidentId: 'i', seq: 0, members: [], overflow: 0, meta }),
    ).toBeUndefined();
  });

  it('routes the recovered notice to the incident audience, and shows it as good news', () => {
    const n = recoveredNotice({
      incidentId: 'inc-1',
      meta,
      total: 500,
      accounts: ['111122223333', '444455556666'],
      lastAt: '2026-11-28T03:04:00Z',
      recoveredAt: '2026-11-29T03:10:00Z',
    });
    expect(n).toMatchObject({ severity: 'info', routeSeverity: 'error', label: 'RECOVERED' });
    expect(n.headline).toBe(
      'Recovered: 500 backup jobs that failed with AccessDenied in 2 accounts have succeeded since',
    );
    expect(renderSns(n).attributes.severity).toBe('error');
  });
});

/** A scripted store: what each call returns, and what it was asked. */
class ScriptedStore implements IncidentStore {
  admits: { group: string; foldAll?: boolean }[] = [];
  admitOutcome: AdmitOutcome | Error = {
    role: 'first',
    incidentId: 'inc-1',
    flushAt: NOW.getTime() + 300_000,
  };
  sealResult: Awaited<ReturnType<IncidentStore['seal']>>;
  counts = new Map<string, number>();
  recovered: Awaited<ReturnType<IncidentStore['recover']>> = [];
  recoverError?: Error;
  marked: string[] = [];
  async admit(alert: GroupedAlert, options: { foldAll?: boolean }): Promise<AdmitOutcome> {
    this.admits.push({ group: alert.group, ...(options.foldAll ? { foldAll: true } : {}) });
    if (this.admitOutcome instanceof Error) throw this.admitOutcome;
    if (options.foldAll)
      return { role: 'follower', incidentId: 'flood-1', seq: 0, flushAt: NOW.getTime() + 300_000 };
    return this.admitOutcome;
  }
  async seal() {
    return this.sealResult;
  }
  async recover() {
    if (this.recoverError) throw this.recoverError;
    return this.recovered;
  }
  async markRecoveredSent(_group: string, incidentId: string) {
    this.marked.push(incidentId);
  }
  async countSent(scope: string) {
    const n = (this.counts.get(scope) ?? 0) + 1;
    this.counts.set(scope, n);
    return n;
  }
}

function world(config = configWith({ enabled: true })) {
  const clock = new FakeClock(NOW);
  const w = pipelineWorld(config, clock, new FakeDirectory({ '444455556666': { name: 'Prod' } }));
  const incidents = new ScriptedStore();
  const enqueued: { body: Record<string, unknown>; delaySeconds?: number }[] = [];
  const summaries: WorkQueue = {
    enqueue: async (messages: Record<string, unknown>[], options?: EnqueueOptions) => {
      for (const body of messages)
        enqueued.push({
          body,
          ...(options?.delaySeconds !== undefined ? { delaySeconds: options.delaySeconds } : {}),
        });
    },
  };
  const deps: AggregateDeps = { ...w.pipeline, incidents, summaries };
  return { ...w, deps, incidents, enqueued };
}

describe('deliverAlert', () => {
  it('sends at once when aggregation is off, without touching the store', async () => {
    const w = world(exampleConfig());
    const { event, notice } = failed();
    const out = await deliverAlert(notice, groupJobAlert(event, notice, on, NOW), w.deps);
    expect(out.delivery).toBe('sent');
    expect(w.incidents.admits).toEqual([]);
    expect(w.email.sent).toHaveLength(2);
  });

  it("opens an incident: schedules its summary, then sends the alert in the incident's thread", async () => {
    const w = world();
    const { event, notice } = failed();
    const out = await deliverAlert(notice, groupJobAlert(event, notice, on, NOW), w.deps);
    expect(out.delivery).toBe('sent');
    expect(w.enqueued).toEqual([
      {
        body: {
          kind: FLUSH_KIND,
          group: expect.stringMatching(/^job#/),
          incidentId: 'inc-1',
          seq: 0,
        },
        delaySeconds: 301,
      },
    ]);
    expect(w.sns.published[0]!.body).toContain('"threadId":"incident-inc-1"');
    expect(w.email.sent[0]!.text).toMatch(/Incident: +inc-1: more backup jobs that failed/);
  });

  it('folds a follower and sends nothing', async () => {
    const w = world();
    w.incidents.admitOutcome = { role: 'follower', incidentId: 'inc-1', seq: 0 };
    const { event, notice } = failed();
    const out = await deliverAlert(notice, groupJobAlert(event, notice, on, NOW), w.deps);
    expect(out).toEqual({ delivery: 'folded', incidentId: 'inc-1' });
    expect(w.email.sent).toHaveLength(0);
    expect(w.sns.published).toHaveLength(0);
    // Recorded as told (through the summary), so the lost-events check does not send it later;
    // a retry of the same record (the store answers duplicate) records it again, harmlessly.
    const taken = `${notice.dedupKey}|${TAKEN_IN_CHANNEL}`;
    const pair = [{ eventKey: notice.dedupKey, channelKey: TAKEN_IN_CHANNEL }];
    expect(await w.ledger.delivered(pair)).toEqual(new Set([taken]));
    w.incidents.admitOutcome = { role: 'duplicate', incidentId: 'inc-1' };
    expect(await deliverAlert(notice, groupJobAlert(event, notice, on, NOW), w.deps)).toEqual({
      delivery: 'duplicate',
      incidentId: 'inc-1',
    });
    expect(await w.ledger.delivered(pair)).toEqual(new Set([taken]));
  });

  it('fails open: the store unavailable, the alert goes out on its own', async () => {
    const w = world();
    w.incidents.admitOutcome = Object.assign(new Error('Throughput exceeded'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const { event, notice } = failed();
    const out = await deliverAlert(notice, groupJobAlert(event, notice, on, NOW), w.deps);
    expect(out.delivery).toBe('sent');
    expect(w.email.sent).toHaveLength(2);
    expect(w.log.entries.map((e) => e.message)).toContain(
      'incident store unavailable: the alert goes out on its own',
    );
  });

  it("holds back one account's storm beyond its allowance, into a flood summary, never dropped", async () => {
    const w = world(configWith({ enabled: true, floodControl: { perAccount: 2, total: 100 } }));
    const tamper = decide(
      sample('cloudtrail/delete-recovery-point.baseline-vault'),
      exampleConfig(),
    );
    if (tamper.flow !== 'notify') throw new Error('alert');
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        (await deliverAlert({ ...tamper.notice, dedupKey: `t-${i}` }, undefined, w.deps)).delivery,
      );
    }
    expect(outcomes).toEqual(['sent', 'sent', 'held', 'held']);
    const held = await w.ledger.delivered(
      [0, 1, 2, 3].map((i) => ({ eventKey: `t-${i}`, channelKey: TAKEN_IN_CHANNEL })),
    );
    expect([...held].sort()).toEqual([`t-2|${TAKEN_IN_CHANNEL}`, `t-3|${TAKEN_IN_CHANNEL}`]);
    expect(w.incidents.admits).toEqual([
      { group: 'flood#account#777788889999', foldAll: true },
      { group: 'flood#account#777788889999', foldAll: true },
    ]);
    expect(w.enqueued.map((e) => e.body)).toEqual([
      { kind: FLUSH_KIND, group: 'flood#account#777788889999', incidentId: 'flood-1', seq: 0 },
      { kind: FLUSH_KIND, group: 'flood#account#777788889999', incidentId: 'flood-1', seq: 0 },
    ]);
  });
});

describe('flushIncident', () => {
  const { event, notice } = failed();
  const grouped = groupJobAlert(event, notice, on, NOW)!;
  const window = (members: IncidentMember[]): SummaryWindow => ({
    incidentId: 'inc-1',
    seq: 0,
    members,
    overflow: 0,
    meta: grouped.meta,
  });
  const msg = { kind: FLUSH_KIND, group: grouped.group, incidentId: 'inc-1', seq: 0 };

  it('sends the summary and schedules the next window while the incident goes on', async () => {
    const w = world();
    w.incidents.sealResult = {
      ...window([member(1), member(2)]),
      next: { seq: 1, flushAt: NOW.getTime() + 300_000 },
    };
    expect(await flushIncident(msg, w.deps)).toBe('sent');
    expect(w.enqueued.map((e) => e.body)).toEqual([{ ...msg, seq: 1 }]);
    expect(w.email.sent[0]!.subject).toBe(
      '[FAILED] 2 more backup jobs failed with AccessDenied in account 444455556666',
    );
  });

  it('waits for a window that has not ended, and ignores an expired incident', async () => {
    const w = world();
    w.incidents.sealResult = { notBefore: NOW.getTime() + 60_000 };
    expect(await flushIncident(msg, w.deps)).toBe('early');
    expect(w.enqueued).toEqual([{ body: msg, delaySeconds: 61 }]);
    w.incidents.sealResult = undefined;
    expect(await flushIncident(msg, w.deps)).toBe('unknown');
  });

  it('rejects a malformed summary message, naming what is wrong', async () => {
    const w = world();
    await expect(flushIncident({ kind: FLUSH_KIND, group: 'g' }, w.deps)).rejects.toThrow(
      /incident summary message is malformed/,
    );
  });
});

describe('recoverResource', () => {
  it('sends one recovered notice per incident it ended, then marks it told', async () => {
    const w = world();
    const { event, notice } = failed();
    const grouped = groupJobAlert(event, notice, on, NOW)!;
    w.incidents.recovered = [
      {
        group: grouped.group,
        incidentId: 'inc-1',
        meta: grouped.meta,
        total: 3,
        accounts: ['444455556666'],
        recoveredAt: NOW.toISOString(),
      },
    ];
    expect(await recoverResource('r', w.deps)).toBe(1);
    expect(w.incidents.marked).toEqual(['inc-1']);
    expect(w.email.sent.map((m) => m.subject)).toContain(
      '[RECOVERED] Recovered: 3 backup jobs that failed with AccessDenied in account 444455556666 have succeeded since',
    );
  });

  it('never fails the event when the store is unavailable', async () => {
    const w = world();
    w.incidents.recoverError = new Error('boom');
    expect(await recoverResource('r', w.deps)).toBe(0);
    expect(w.log.entries.map((e) => e.message)).toContain(
      'incident store unavailable: recovery of this resource not recorded',
    );
  });
});
