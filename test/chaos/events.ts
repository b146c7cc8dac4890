import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures';
import type { Prng } from './prng';

/** Job events built from the samples in events/backup/, varied by a seeded generator. */

export type Json = Record<string, unknown>;

export interface Template {
  name: string;
  event: Json;
}

export const JOB_ID_FIELD: Readonly<Record<string, string>> = {
  'Backup Job State Change': 'backupJobId',
  'Copy Job State Change': 'copyJobId',
  'Restore Job State Change': 'restoreJobId',
};

export const NOTIFYING_STATES = ['FAILED', 'ABORTED', 'EXPIRED', 'PARTIAL', 'COMPLETED'] as const;
export const QUIET_STATES = ['CREATED', 'PENDING', 'RUNNING', 'ABORTING'] as const;
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
const RESOURCE_TYPES = ['RDS', 'Aurora', 'DynamoDB', 'EFS', 'EC2', 'EBS', 'S3'];

/** Every sample of aws.backup events (job and other detail-types). */
export function backupSamples(): Template[] {
  const dir = join(ROOT, 'events', 'backup');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.json$/, ''),
      event: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Json,
    }));
}

/** The job samples that carry a job id (the basis of the delivery scenarios). */
export function jobTemplates(): Template[] {
  return backupSamples().filter((t) => {
    const field = JOB_ID_FIELD[String(t.event['detail-type'])];
    return field !== undefined && typeof (t.event.detail as Json)[field] === 'string';
  });
}

/** One job transition; `copies` are the SQS bodies that carry it (redeliveries, second bus). */
export interface GeneratedJob {
  index: number;
  jobId: string;
  event: Json;
  copies: string[];
}

/**
 * A distinct job transition per index: new event id and job id, an account from a pool of 40,
 * a region, a resource type and a state (90 % a state that notifies). Copy 1 is the event as
 * EventBridge sends it; the others are the same event again, half with another event id (the
 * same job seen through the central and the default bus), one in five wrapped in an SNS
 * envelope.
 */
export function generateJobs(rng: Prng, count: number, copies: number): GeneratedJob[] {
  const templates = jobTemplates();
  const accounts = Array.from({ length: 40 }, () => rng.digits(12));
  const jobs: GeneratedJob[] = [];
  for (let index = 0; index < count; index++) {
    const t = rng.pick(templates);
    const event = structuredClone(t.event);
    const detail = event.detail as Json;
    const account = rng.pick(accounts);
    const region = rng.pick(REGIONS);
    event.id = rng.uuid();
    event.account = account;
    event.region = region;
    const field = JOB_ID_FIELD[String(event['detail-type'])]!;
    const jobId = rng.chance(0.5) ? rng.uuid().toUpperCase() : rng.uuid();
    detail[field] = jobId;
    const stateKey = 'state' in detail ? 'state' : 'status' in detail ? 'status' : 'state';
    detail[stateKey] = rng.chance(0.9) ? rng.pick(NOTIFYING_STATES) : rng.pick(QUIET_STATES);
    if (rng.chance(0.5)) detail.resourceType = rng.pick(RESOURCE_TYPES);
    const bodies: string[] = [JSON.stringify(event)];
    for (let c = 1; c < copies; c++) {
      const again = structuredClone(event);
      if (rng.chance(0.5)) again.id = rng.uuid();
      const body = JSON.stringify(again);
      bodies.push(
        rng.chance(0.2)
          ? JSON.stringify({
              Type: 'Notification',
              MessageId: rng.uuid(),
              TopicArn: 'arn:aws:sns:us-east-1:123456789012:backup-events',
              Message: body,
            })
          : body,
      );
    }
    jobs.push({ index, jobId, event, copies: bodies });
  }
  return jobs;
}

export const ADMINS = 'platform-team@example.com';
export const DBA = 'dba-oncall@example.com';

/**
 * The channels a job event should reach under infra/config/example.yml, written down here
 * rather than taken from the code: errors and warnings → email admins and the chat topic; info
 * → the chat topic; database errors → also email dba. Channel keys: `email:<to>` and
 * `sns:<topic ARN>`.
 */
export function expectedChannels(event: Json, chatTopicArn: string): string[] {
  const detail = event.detail as Json;
  const state = String(detail.state ?? detail.status).toUpperCase();
  const message = typeof detail.statusMessage === 'string' ? detail.statusMessage.trim() : '';
  const severity = ['FAILED', 'ABORTED', 'EXPIRED'].includes(state)
    ? 'error'
    : state === 'PARTIAL' || (state === 'COMPLETED' && message !== '')
      ? 'warning'
      : state === 'COMPLETED'
        ? 'info'
        : undefined;
  if (!severity) return [];
  const channels = new Set<string>();
  if (severity !== 'info') channels.add(`email:${ADMINS}`);
  channels.add(`sns:${chatTopicArn}`);
  if (severity === 'error' && ['RDS', 'Aurora', 'DynamoDB'].includes(String(detail.resourceType))) {
    channels.add(`email:${DBA}`);
  }
  return [...channels].sort();
}
