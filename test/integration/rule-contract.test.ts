import { statSync, utimesSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateEventBusCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { packagedTemplate, templateIsStale, TEMPLATE } from '../helpers/package-template';
import { localClients } from '../../tools/sandbox/provision';
import { receiveAll } from '../../tools/sandbox/world';
import { ROOT } from '../helpers/fixtures';
import { SERVICE_DETAIL_TYPES } from '../../functions/notify-backup-event/service-events';
import { WATCHED_CALLS } from '../../functions/notify-backup-event/tamper';
import { localAws } from './harness';

/**
 * Rule contract: the EventBridge rules exactly as `osls package` generates them, installed in
 * moto with SQS targets (moto does the pattern matching), and every sample in events/ put on
 * every bus. Each sample must reach exactly the rules it should. The patterns are read from the
 * template, so this test follows serverless.yml without edits; what each rule is FOR is
 * declared below, independently of its pattern.
 */

jest.setTimeout(120_000);

const JOB_DETAIL_TYPES = [
  'Backup Job State Change',
  'Copy Job State Change',
  'Restore Job State Change',
];

interface Sample {
  file: string;
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
  resources?: string[];
}

const ACCOUNT_EVENTS = [
  'CreateAccountResult',
  'AccountJoinedOrganization',
  'MoveAccount',
  'CreateManagedAccount',
  'UpdateManagedAccount',
  // Departures (a failed call too: the handler ignores it, naming why).
  'AccountDepartedOrganization',
  'RemoveAccountFromOrganization',
  'LeaveOrganization',
  'CloseAccount',
  'CloseAccountResult',
];

/** Names the control plane gives its rules and roles: only calls on them are forwarded. */
const OWN_NAME = /^backup-control-plane-/;

/**
 * The notification flow's events: AWS Backup job state changes and the newer events it decides,
 * and CloudTrail calls it judges for tamper alerts (on the control plane's rules and roles only,
 * by name, so a busy organization's other IAM and EventBridge changes are not forwarded).
 */
function forNotifications(s: Sample): boolean {
  if (
    s.source === 'aws.backup' &&
    [...JOB_DETAIL_TYPES, ...SERVICE_DETAIL_TYPES].includes(s['detail-type'])
  ) {
    return true;
  }
  if (s['detail-type'] !== 'AWS API Call via CloudTrail') return false;
  const service = s.source.replace(/^aws\./, '');
  const eventName = String(s.detail.eventName);
  if (!(WATCHED_CALLS[service] ?? []).includes(eventName)) return false;
  const params = (s.detail.requestParameters ?? {}) as Record<string, unknown>;
  if (service === 'events') return OWN_NAME.test(String(params.name ?? params.rule ?? ''));
  if (service === 'iam') return OWN_NAME.test(String(params.roleName ?? ''));
  return true;
}

/** What each rule of the template is for. A new rule without an entry here fails the test. */
const PURPOSE: Record<string, (s: Sample) => boolean> = {
  AccountEventsRule: (s) =>
    ['aws.organizations', 'aws.controltower'].includes(s.source) &&
    ACCOUNT_EVENTS.includes(String(s.detail.eventName)),
  BackupJobsFromMembersRule: forNotifications,
  BackupJobsFromThisAccountRule: forNotifications,
};

interface TemplateRule {
  logicalId: string;
  bus: string;
  pattern: unknown;
}

function templateRules(): TemplateRule[] {
  const template = packagedTemplate();
  return (
    Object.entries(template.Resources)
      // Schedule rules (the reconcile sweep) match no events: only pattern rules are contracts.
      .filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern !== undefined)
      .map(([logicalId, r]) => {
        const busName = r.Properties?.EventBusName as { Ref?: string } | string | undefined;
        const bus =
          busName === undefined ? 'default' : typeof busName === 'string' ? busName : busName.Ref!;
        const pattern = r.Properties?.EventPattern;
        return {
          logicalId,
          bus,
          pattern: typeof pattern === 'string' ? JSON.parse(pattern) : pattern,
        };
      })
  );
}

function samples(): Sample[] {
  const out: Sample[] = [];
  const dir = join(ROOT, 'events');
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const file = join(entry.parentPath, entry.name);
    let event: unknown;
    try {
      event = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // not JSON: EventBridge would never carry it
    }
    const e = event as Partial<Sample> | null;
    if (
      !e ||
      typeof e !== 'object' ||
      typeof e.source !== 'string' ||
      typeof e['detail-type'] !== 'string'
    )
      continue;
    if (!e.detail || typeof e.detail !== 'object') continue; // PutEvents requires a detail
    out.push({ ...(e as Sample), file: file.slice(dir.length + 1) });
  }
  return out;
}

describe('the packaged template', () => {
  // `npm run test:integration` right after editing serverless.yml or infra/ packages again, in a
  // clean environment, whatever the order of the tests.
  it('is packaged again when an input is newer, and the new template is read', () => {
    const now = new Date(Date.now() + 2000);
    utimesSync(join(ROOT, 'serverless.yml'), now, now);
    expect(templateIsStale()).toBe(true);
    const template = packagedTemplate();
    expect(templateIsStale()).toBe(false);
    expect(statSync(TEMPLATE).mtimeMs).toBeGreaterThanOrEqual(now.getTime() - 1000);
    expect(Object.keys(template.Resources)).toContain('WatchQueue');
  });
});

describe('EventBridge rule contract (patterns from the packaged template, matched by moto)', () => {
  const rules = templateRules();
  const all = samples();

  it('finds rules and samples to check', () => {
    expect(rules.length).toBeGreaterThan(0);
    expect(all.length).toBeGreaterThan(20);
  });

  it('declares a purpose for every rule of the template', () => {
    expect(rules.map((r) => r.logicalId).filter((id) => !PURPOSE[id])).toEqual([]);
  });

  it('every sample reaches exactly the rules it should, on each bus', async () => {
    const aws = localAws();
    await aws.reset();
    const c = localClients(aws.endpoint);
    const buses = [...new Set(['default', ...rules.map((r) => r.bus)])];
    for (const bus of buses.filter((b) => b !== 'default')) {
      await c.eventbridge.send(new CreateEventBusCommand({ Name: bus }));
    }
    const queues: Record<string, string> = {};
    for (const rule of rules) {
      const { QueueUrl } = await c.sqs.send(
        new CreateQueueCommand({ QueueName: `contract-${rule.logicalId}` }),
      );
      const arn = (
        await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))
      ).Attributes!.QueueArn!;
      await c.eventbridge.send(
        new PutRuleCommand({
          Name: rule.logicalId,
          EventBusName: rule.bus,
          EventPattern: JSON.stringify(rule.pattern),
        }),
      );
      await c.eventbridge.send(
        new PutTargetsCommand({
          Rule: rule.logicalId,
          EventBusName: rule.bus,
          Targets: [{ Id: 'q', Arn: arn }],
        }),
      );
      queues[rule.logicalId] = QueueUrl!;
    }

    // event id → which sample on which bus
    const put = new Map<string, { sample: Sample; bus: string }>();
    for (const sample of all) {
      for (const bus of buses) {
        const out = await c.eventbridge.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: bus,
                Source: sample.source,
                DetailType: sample['detail-type'],
                Detail: JSON.stringify(sample.detail),
                Resources: sample.resources,
              },
            ],
          }),
        );
        put.set(out.Entries![0]!.EventId!, { sample, bus });
      }
    }

    const got = new Set<string>();
    for (const rule of rules) {
      for (const m of await receiveAll(c, queues[rule.logicalId]!)) {
        const hit = put.get((JSON.parse(m.Body!) as { id: string }).id);
        if (hit) got.add(`${rule.logicalId} ← ${hit.sample.file} on ${hit.bus}`);
      }
    }
    const expected = new Set<string>();
    for (const rule of rules) {
      for (const sample of all) {
        if (PURPOSE[rule.logicalId]?.(sample))
          expected.add(`${rule.logicalId} ← ${sample.file} on ${rule.bus}`);
      }
    }
    const missing = [...expected].filter((k) => !got.has(k)).sort();
    const unexpected = [...got].filter((k) => !expected.has(k)).sort();
    expect({ missing, unexpected }).toEqual({ missing: [], unexpected: [] });
    // Positive and negative cases both exist.
    expect(expected.size).toBeGreaterThan(0);
    expect(all.some((s) => rules.every((r) => !PURPOSE[r.logicalId]!(s)))).toBe(true);
  });
});
