import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type ScalarTag, type CollectionTag } from 'yaml';
import { forwardedPattern, loadBaseline } from '../../functions/onboard-account/baseline';

/**
 * The settings of serverless.yml that the local stack must copy so it behaves like the deployed
 * one: the rule pattern, resource names and the queue's redrive. Read from serverless.yml itself,
 * so a change there reaches the sandbox without a second edit.
 */

export const SERVERLESS_YML = join(__dirname, '..', '..', 'serverless.yml');

export interface StackSettings {
  service: string;
  stage: string;
  backupJobEventPattern: Record<string, unknown>;
  accountEventPattern: Record<string, unknown>;
  names: {
    ledgerTable: string;
    backupEventBus: string;
    notificationQueue: string;
    notificationDlq: string;
    onboardingQueue: string;
    onboardingDlq: string;
    onboardRole: string;
    watchQueue: string;
    watchDlq: string;
    watchRole: string;
  };
  notificationQueue: { maxReceiveCount: number; visibilityTimeout: number };
  onboardingQueue: { maxReceiveCount: number };
  batchSize: number;
}

/** CloudFormation short-form tags (!Ref, !Sub, ...) kept as plain values: only shapes matter here. */
const CFN_TAGS = [
  'Ref',
  'Sub',
  'GetAtt',
  'Equals',
  'If',
  'Join',
  'Select',
  'Split',
  'Not',
  'And',
  'Or',
  'FindInMap',
  'ImportValue',
  'Base64',
  'GetAZs',
  'Cidr',
  'Condition',
].flatMap((name): (ScalarTag | CollectionTag)[] => [
  { tag: `!${name}`, resolve: (v: string) => ({ [`Fn::${name}`]: v }) },
  { tag: `!${name}`, collection: 'seq', resolve: (v: unknown) => ({ [`Fn::${name}`]: v }) },
  { tag: `!${name}`, collection: 'map', resolve: (v: unknown) => ({ [`Fn::${name}`]: v }) },
]);

type Yaml = Record<string, unknown>;

function at(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Yaml | undefined)?.[key], root);
}

/** Follows serverless.yml's `${file(./path)}` and `${file(./path):a.b}` references. */
function resolveFileRefs(value: unknown, dir: string): unknown {
  if (typeof value === 'string') {
    const ref = /^\$\{file\(([^)]+)\)(?::([\w.-]+))?\}$/.exec(value.trim());
    if (!ref) return value;
    const file = join(dir, ref[1]!);
    const text = readFileSync(file, 'utf8');
    const doc: unknown = file.endsWith('.json')
      ? JSON.parse(text)
      : parse(text, { customTags: CFN_TAGS });
    return resolveFileRefs(ref[2] ? at(doc, ref[2]) : doc, dir);
  }
  if (Array.isArray(value)) return value.map((v) => resolveFileRefs(v, dir));
  return value;
}

export function readStackSettings(stage = 'sandbox', file = SERVERLESS_YML): StackSettings {
  const dir = join(file, '..');
  const doc = parse(readFileSync(file, 'utf8'), { customTags: CFN_TAGS }) as Yaml;
  const service = String(doc.service);
  const substitute = (v: unknown) =>
    String(v)
      .replace(/\$\{self:service\}/g, service)
      .replace(/\$\{sls:stage\}/g, stage);
  const names = at(doc, 'custom.names') as Record<string, unknown>;
  const resources = (resolveFileRefs(doc.resources, dir) as Yaml[] | Yaml | undefined) ?? [];
  const all = Object.assign(
    {},
    ...(Array.isArray(resources) ? resources : [resources]).map((r) =>
      r && typeof r === 'object' ? (((r as Yaml).Resources as Yaml) ?? {}) : {},
    ),
  ) as Record<string, Yaml>;
  const queue = at(all, 'NotificationQueue.Properties') as Yaml | undefined;
  const sqsEvent = (
    at(doc, 'functions.notifyBackupEvent.events') as { sqs?: { batchSize?: number } }[] | undefined
  )?.find((e) => e.sqs)?.sqs;
  const pattern = (path: string) => {
    const raw = at(doc, path);
    // Built by infra/stage-config.js from the baseline: the same function gives it here.
    if (raw === '${self:custom.stageConfig.forwardedEventPattern}') {
      return forwardedPattern(loadBaseline());
    }
    const value = resolveFileRefs(raw, dir);
    if (!value || typeof value !== 'object') throw new Error(`${file}: ${path} is missing`);
    return value as Record<string, unknown>;
  };
  return {
    service,
    stage,
    backupJobEventPattern: pattern('custom.backupJobEventPattern'),
    accountEventPattern: pattern('custom.accountEventPattern'),
    names: {
      ledgerTable: substitute(names.ledgerTable),
      backupEventBus: substitute(names.backupEventBus),
      notificationQueue: substitute(names.notificationQueue),
      notificationDlq: substitute(names.notificationDlq),
      onboardingQueue: substitute(names.onboardingQueue),
      onboardingDlq: substitute(names.onboardingDlq),
      onboardRole: substitute(names.onboardRole),
      watchQueue: substitute(names.watchQueue),
      watchDlq: substitute(names.watchDlq),
      watchRole: substitute(names.watchRole),
    },
    notificationQueue: {
      maxReceiveCount: Number(at(queue, 'RedrivePolicy.maxReceiveCount') ?? 5),
      visibilityTimeout: Number(queue?.VisibilityTimeout ?? 30),
    },
    onboardingQueue: {
      maxReceiveCount: Number(
        at(all, 'OnboardingQueue.Properties.RedrivePolicy.maxReceiveCount') ?? 3,
      ),
    },
    batchSize: sqsEvent?.batchSize ?? 10,
  };
}
