import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../errors';
import { channelTopicKey, filteredChannels } from '../notices/subscriptions';
import {
  formatIssues,
  object,
  optional,
  record,
  string,
  validate,
  type Check,
  type Infer,
} from '../validate';
import configJsonSchema from './config.schema.json';
import { compileJsonSchema } from './json-schema';
import type { Config } from './schema';

/**
 * Loading at run time: the configuration the stack hands each function (BACKUP_CONTROL_PLANE_CONFIG)
 * and the deployment's own settings (table, topics, queues, roles), each checked without zod.
 */

/** Environment variable through which the stack hands the validated configuration to functions. */
export const CONFIG_ENV = 'BACKUP_CONTROL_PLANE_CONFIG';
/** The stack stores the configuration gzip'd (Lambda allows 4 KB of environment in all). */
export const CONFIG_GZIP_PREFIX = 'gzip+base64:';

/** The configuration's JSON text, as set: plain, or compressed by infra/stage-config.js. */
export function decodeConfigText(text: string): string {
  if (!text.startsWith(CONFIG_GZIP_PREFIX)) return text;
  try {
    return gunzipSync(Buffer.from(text.slice(CONFIG_GZIP_PREFIX.length), 'base64')).toString(
      'utf8',
    );
  } catch (error) {
    throw new ConfigError(
      `${CONFIG_ENV} starts with "${CONFIG_GZIP_PREFIX}" but is not gzip'd base64: ${(error as Error).message}`,
    );
  }
}

/** Settings that only exist once deployed (resource names and ARNs the stack created). */
const RuntimeCheck = object({
  DELIVERY_TABLE_NAME: string({ min: 1 }),
  TOPIC_ARNS: string({ min: 2 }),
});
const TopicArnsCheck = record(string({ startsWith: 'arn:', rule: 'must be an ARN' }));
export interface Runtime {
  DELIVERY_TABLE_NAME: string;
  TOPIC_ARNS: Record<string, string>;
}

/** The configuration's check, built once from the JSON Schema the package-time schema writes. */
let configCheck: Check<unknown> | undefined;

let cached: { key: string; config: Config; runtime: Runtime } | undefined;

/**
 * Reads the configuration once per container and checks it against config.schema.json; throws
 * naming the bad setting. It arrives validated in full and with its defaults filled in
 * (infra/stage-config.js ran the schema): this guards against a stack and code that disagree.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): {
  config: Config;
  runtime: Runtime;
} {
  const text = env[CONFIG_ENV];
  // Parsed once per container; again only if the environment changed (tests, the sandbox).
  const key = JSON.stringify([text, env.DELIVERY_TABLE_NAME, env.TOPIC_ARNS]);
  if (cached?.key === key) return cached;
  if (!text) throw new ConfigError(`environment variable ${CONFIG_ENV} is not set`);
  let raw: unknown;
  try {
    raw = JSON.parse(decodeConfigText(text));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${CONFIG_ENV} is not valid JSON: ${(error as Error).message}`);
  }
  configCheck ??= compileJsonSchema(configJsonSchema);
  const checked = validate(configCheck, raw);
  if (!checked.ok) throw new ConfigError(formatIssues(checked.issues, CONFIG_ENV));
  const config = checked.value as Config;
  const envChecked = validate(RuntimeCheck, env);
  if (!envChecked.ok) throw new ConfigError(formatIssues(envChecked.issues, 'the environment'));
  let topicArns: unknown;
  try {
    topicArns = JSON.parse(envChecked.value.TOPIC_ARNS);
  } catch {
    topicArns = undefined;
  }
  if (!validate(TopicArnsCheck, topicArns).ok) {
    throw new ConfigError(
      formatIssues(
        [{ path: ['TOPIC_ARNS'], message: 'must be a JSON object of topic name to ARN' }],
        'the environment',
      ),
    );
  }
  const runtime: Runtime = {
    DELIVERY_TABLE_NAME: envChecked.value.DELIVERY_TABLE_NAME,
    TOPIC_ARNS: topicArns as Record<string, string>,
  };
  const missing = expectedTopicKeys(config).filter((k) => !Object.hasOwn(runtime.TOPIC_ARNS, k));
  if (missing.length) {
    throw new ConfigError(
      `TOPIC_ARNS has no ARN for ${missing.map((k) => `"${k}"`).join(', ')} (the configured topics and filtered chat channels): copy the stack output TopicArns`,
    );
  }
  cached = { key, config, runtime };
  return cached;
}

const arn = (what: string) => string({ startsWith: 'arn:', rule: `must be the ${what} ARN` });
const url = (what: string) =>
  string({ pattern: /^https?:\/\/\S+$/, rule: `must be the ${what} URL` });

/** What the onboarding and reconcile functions get from the stack besides the configuration. */
const OnboardingRuntimeCheck = object({
  CENTRAL_BUS_ARN: arn('central event bus'),
  CONTROL_PLANE_ROLE_ARN: arn('onboarding role'),
  WATCH_ROLE_ARN: arn('daily check (watchAccount) role'),
  /** The daily check's queue (the sweep fills it). */
  WATCH_QUEUE_URL: optional(url('watch queue')),
  ONBOARDING_QUEUE_URL: optional(url('onboarding queue')),
  /** Set when Control Tower's home region is not the stack's: the rule there. */
  CONTROL_TOWER_FORWARDING_RULE_ARN: optional(arn('Control Tower forwarding rule')),
  /** The management account's forwarding rule, its region `*` (one per region of the config). */
  MANAGEMENT_FORWARDING_RULE_ARN: optional(arn('management forwarding rule')),
  /** The role those rules put events on the stack region's default bus with. */
  REGION_FORWARDER_ROLE_ARN: optional(arn('region forwarder role')),
});
export type OnboardingRuntime = Infer<typeof OnboardingRuntimeCheck>;

/** What the notification function knows of the deployment, for tamper alerts and repairs. */
const NotifyRuntimeCheck = object({
  /** `<service>-<stage>-`: the stack's roles and rules start with it (its own calls). */
  STACK_PREFIX: optional(
    string({
      pattern: /^[A-Za-z0-9-]{2,64}-$/,
      rule: 'must be the stack prefix, <service>-<stage>-',
    }),
  ),
  CENTRAL_BUS_ARN: optional(arn('central event bus')),
  /** Where repairs after tampering are asked for. */
  ONBOARDING_QUEUE_URL: optional(url('onboarding queue')),
  /** The function's own queue: incident summaries are delayed messages on it. */
  NOTIFICATION_QUEUE_URL: optional(url('notification queue')),
});
export type NotifyRuntime = Infer<typeof NotifyRuntimeCheck>;

/** Only the keys a check names, so the result is the settings and not the whole environment. */
function pick<T extends object>(c: Check<T>, keys: readonly string[], env: NodeJS.ProcessEnv): T {
  const checked = validate(c, env);
  if (!checked.ok) throw new ConfigError(formatIssues(checked.issues, 'the environment'));
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]])) as T;
}

const NOTIFY_KEYS = [
  'STACK_PREFIX',
  'CENTRAL_BUS_ARN',
  'ONBOARDING_QUEUE_URL',
  'NOTIFICATION_QUEUE_URL',
];
const ONBOARDING_KEYS = [
  'CENTRAL_BUS_ARN',
  'CONTROL_PLANE_ROLE_ARN',
  'WATCH_ROLE_ARN',
  'WATCH_QUEUE_URL',
  'ONBOARDING_QUEUE_URL',
  'CONTROL_TOWER_FORWARDING_RULE_ARN',
  'MANAGEMENT_FORWARDING_RULE_ARN',
  'REGION_FORWARDER_ROLE_ARN',
];

export function loadNotifyRuntime(env: NodeJS.ProcessEnv = process.env): NotifyRuntime {
  return pick(NotifyRuntimeCheck, NOTIFY_KEYS, env);
}

/** The configuration (with its onboarding section) and the stack's onboarding settings. */
export function loadOnboardingRuntime(env: NodeJS.ProcessEnv = process.env): {
  config: Config;
  runtime: Runtime;
  onboarding: OnboardingRuntime;
} {
  const { config, runtime } = loadRuntimeConfig(env);
  if (!config.onboarding) {
    throw new ConfigError(
      `${CONFIG_ENV}: onboarding: is required (the onboarding functions are deployed)`,
    );
  }
  return { config, runtime, onboarding: pick(OnboardingRuntimeCheck, ONBOARDING_KEYS, env) };
}

/** The TOPIC_ARNS keys the pipeline may publish to: each topic and each filtered channel's. */
export function expectedTopicKeys(config: Config): string[] {
  return Object.entries(config.notifications.topics).flatMap(([name, topic]) => [
    name,
    ...filteredChannels(topic).map((c) => channelTopicKey(name, c.name)),
  ]);
}

/** Looks a configured topic up in TOPIC_ARNS; a topic without an ARN is a deployment error. */
export function topicArnResolver(
  topicArns: Readonly<Record<string, string>>,
): (topic: string) => string {
  return (topic) => {
    const arn = Object.hasOwn(topicArns, topic) ? topicArns[topic] : undefined;
    if (!arn) throw new ConfigError(`topic "${topic}" has no ARN in TOPIC_ARNS`);
    return arn;
  };
}
