import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DisableRuleCommand } from '@aws-sdk/client-eventbridge';
import { buildDigestDeps } from '../../functions/send-digest/handler';
import { digestPeriod, sendDigest } from '../../functions/send-digest/send-digest';
import { buildSweepDeps } from '../../functions/reconcile/handler';
import { sweep } from '../../functions/reconcile/sweep';
import { dynamodbClient } from '../../functions/shared/adapters/clients';
import { DynamoDbCheckLedger } from '../../functions/shared/adapters/dynamodb-check-ledger';
import type { CheckRecord } from '../../functions/shared/ports';
import { memberClients } from './provision';
import { sandboxPost } from './local-aws';
import {
  drainNotifications,
  drainOnboarding,
  drainWatch,
  emitEvent,
  type EventToPut,
  type OnboardingWorld,
} from './world';

const ROOT = join(__dirname, '..', '..');

/**
 * The sandbox's watching story, after onboarding: someone disables the forwarding rule in one
 * account, a table tagged for the daily plan is never backed up in another, and a failed job's
 * event is dropped in a third. The sweep queues each ready account's daily check; the real
 * watchAccount handler finds all three; onboarding repairs the drift; then the daily digest.
 */

const RULE = 'backup-control-plane-forward-backup-events';

export interface WatchingRow {
  account: string;
  check: string;
  found: string;
  coverage: string;
  recovered: number;
}

export interface WatchingOutcome {
  rows: WatchingRow[];
  problems: string[];
  digest: { subject: string; quiet: boolean };
}

export async function playWatching(
  world: OnboardingWorld,
  progress: (line: string) => void,
): Promise<WatchingOutcome> {
  const [drifted, untagged, dropped] = world.org.accounts;
  if (!drifted || !untagged || !dropped) throw new Error('the sandbox needs three member accounts');
  const endpoint = world.aws.endpoint;

  progress(
    `      ${drifted.name}: a member admin (mallory) disables ${RULE}: tamper alert at once`,
  );
  const inDrifted = await memberClients(world.management, endpoint, drifted.id, 'us-east-1');
  await inDrifted.eventbridge.send(new DisableRuleCommand({ Name: RULE }));
  await sandboxPost(endpoint, '/_sandbox/cloudtrail/events', {
    accountId: drifted.id,
    region: 'us-east-1',
    eventName: 'DisableRule',
    eventSource: 'events.amazonaws.com',
    username: 'mallory',
    resources: [{ ResourceType: 'AWS::Events::Rule', ResourceName: RULE }],
    cloudTrailEvent: {
      userIdentity: { arn: `arn:aws:iam::${drifted.id}:user/mallory` },
      readOnly: false,
    },
  });

  // CloudTrail's record of that call (moto makes none): the other forwarding rule carries it.
  world.forwarding.add(`${drifted.id}/us-east-1`); // its baseline rules forward, not the sandbox's
  const trail = JSON.parse(
    readFileSync(join(ROOT, 'events', 'cloudtrail', 'disable-rule.forwarding-rule.json'), 'utf8'),
  ) as EventToPut & { account: string; detail: Record<string, unknown> };
  Object.assign(trail.detail, {
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDASANDBOXMALLORY01',
      arn: `arn:aws:iam::${trail.account}:user/mallory`,
      accountId: trail.account,
      userName: 'mallory',
    },
  });
  await emitEvent(world, { account: 'member', id: drifted.id }, { ...trail, region: 'us-east-1' });

  progress(`      ${untagged.name}: table "orders" tagged backup-plan=daily, never backed up`);
  const inUntagged = await memberClients(world.management, endpoint, untagged.id, 'us-east-1');
  await inUntagged.dynamodb.send(
    new CreateTableCommand({
      TableName: 'orders',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      Tags: [{ Key: 'backup-plan', Value: 'daily' }],
    }),
  );

  progress(`      ${dropped.name}: a backup job fails and EventBridge drops its event`);
  const at = Math.floor(Date.now() / 1000) - 2 * 3600;
  for (const [state, emit] of [
    ['COMPLETED', true],
    ['FAILED', false],
  ] as const) {
    await sandboxPost(endpoint, '/_sandbox/backup/jobs', {
      accountId: dropped.id,
      region: 'us-east-1',
      jobType: 'backup',
      state,
      ...(state === 'FAILED'
        ? {
            statusMessage: 'Insufficient privileges to perform this action.',
            messageCategory: 'AccessDenied',
          }
        : { messageCategory: 'Success' }),
      resourceArn: `arn:aws:dynamodb:us-east-1:${dropped.id}:table/ledger`,
      resourceType: 'DynamoDB',
      backupVaultName: 'org-backup-vault',
      creationDate: at - 600,
      completionDate: at,
      emit,
    });
  }

  // The emitted job's event goes through the notification flow as usual; the dropped one cannot.
  await drainNotifications(world);

  progress('      reconcile sweep → daily checks (watchAccount) → repairs (onboardAccount) ...');
  await sweep(buildSweepDeps(world.env));
  await drainWatch(world);
  await drainOnboarding(world);

  progress('      the daily digest ...');
  const run = await sendDigest(
    buildDigestDeps(world.env),
    digestPeriod(new Date(), 24 * 3600 * 1000),
  );

  const ledger = new DynamoDbCheckLedger(dynamodbClient(), world.env.DELIVERY_TABLE_NAME!);
  const checks = await ledger.checks(
    world.org.accounts.map((a) => a.id),
    new Date().toISOString().slice(0, 10),
  );
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => ok || problems.push(problem);
  const check = (id: string): CheckRecord | undefined => checks.get(id);
  expect(
    Boolean(check(drifted.id)?.findings.some((f) => f.what.includes('is DISABLED in us-east-1'))),
    `${drifted.name}: the disabled forwarding rule was not found`,
  );
  expect(
    check(untagged.id)?.coverage?.never === 1,
    `${untagged.name}: the tagged table was not reported as never backed up`,
  );
  expect(
    check(dropped.id)?.lostEvents?.recovered === 1,
    `${dropped.name}: the dropped job event was not recovered`,
  );
  expect(!run.digest.quiet, 'the digest found nothing to say');
  // Only the planted drift: any other finding is drift the check invented (or missed repairing).
  for (const a of world.org.accounts) {
    const extra = (check(a.id)?.findings ?? []).filter(
      (f) => !(a.id === drifted.id && f.what.includes('is DISABLED in us-east-1')),
    );
    expect(
      extra.length === 0,
      `${a.name}: the daily check found drift nobody made: ${extra.map((f) => f.what).join('; ')}`,
    );
  }
  const rows = world.org.accounts.map((a): WatchingRow => {
    const c = check(a.id);
    const cov = c?.coverage;
    return {
      account: `${a.name} ${a.id}`,
      check: c ? (c.status === 'drift' ? 'drift → repaired' : c.status) : 'not checked',
      found:
        c?.findings.map((f) => f.what + (f.who ? ` (by ${f.who.identity})` : '')).join('; ') || '-',
      coverage: cov ? `${cov.protected}/${cov.resources} protected, ${cov.never} never` : '-',
      recovered: c?.lostEvents?.recovered ?? 0,
    };
  });
  return {
    rows,
    problems,
    digest: {
      subject: run.sent[0]?.deliveries.length ? 'sent' : 'not sent',
      quiet: run.digest.quiet,
    },
  };
}
