import {
  dynamodbClient,
  organizationsClient,
  sqsClient,
  stsClient,
} from '../shared/adapters/clients';
import { DynamoDbCheckLedger } from '../shared/adapters/dynamodb-check-ledger';
import { StsAccountAccess } from '../shared/adapters/member-account';
import { OrganizationsAdmin } from '../shared/adapters/organizations-admin';
import { SqsWorkQueue } from '../shared/adapters/sqs-work-queue';
import { loadOnboardingRuntime } from '../shared/config/runtime';
import { ConfigError, MalformedEventError } from '../shared/errors';
import { logPort } from '../shared/logger';
import { buildPipelineDeps } from '../shared/notices/wiring';
import { ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE } from '../shared/patterns';
import { systemClock } from '../shared/ports';
import { literal, object, optional, string, validate, type Infer } from '../shared/validate';
import { sqsBatchHandler } from '../shared/sqs-batch';
import { loadBaseline } from '../onboard-account/baseline';
import { checkAccount, type WatchDeps } from './check';
import { extraChecks } from './extra-checks';

/** What the sweep puts on the watch queue: one message per ready account and day. */
const WatchRequestMessageCheck = object({
  kind: literal('watch-request'),
  accountId: string({ pattern: ACCOUNT_ID_PATTERN, rule: ACCOUNT_ID_RULE }),
  day: string({ pattern: /^\d{4}-\d{2}-\d{2}$/, rule: 'must be a day, YYYY-MM-DD' }),
  requestedAt: optional(string()),
});
export type WatchRequestMessage = Infer<typeof WatchRequestMessageCheck>;

/** The dependencies from the deployed environment; a bad configuration fails loudly. */
export function buildWatchDeps(env: NodeJS.ProcessEnv = process.env): WatchDeps {
  const { config, runtime, onboarding } = loadOnboardingRuntime(env);
  if (!onboarding.ONBOARDING_QUEUE_URL) throw new ConfigError('ONBOARDING_QUEUE_URL is not set');
  const org = new OrganizationsAdmin(organizationsClient());
  const dynamodb = dynamodbClient();
  const checks = new DynamoDbCheckLedger(dynamodb, runtime.DELIVERY_TABLE_NAME);
  // A claim outlasts the watch queue's visibility timeout (1,800 s) plus the timeout (300 s).
  const pipeline = buildPipelineDeps(config, runtime, { leaseMs: 40 * 60 * 1000, org });
  return {
    config,
    baseline: loadBaseline(),
    org,
    access: new StsAccountAccess(stsClient(), 'backup-control-plane-daily-check'),
    clock: systemClock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: logPort,
    centralBusArn: onboarding.CENTRAL_BUS_ARN,
    controlPlaneRoleArn: onboarding.CONTROL_PLANE_ROLE_ARN,
    watchRoleArn: onboarding.WATCH_ROLE_ARN,
    checks,
    repairs: new SqsWorkQueue(sqsClient(), onboarding.ONBOARDING_QUEUE_URL),
    pipeline,
    extraChecks: extraChecks({
      org,
      checks,
      pipeline,
      now: () => systemClock.now(),
      alert: true,
      recover: true,
    }),
  };
}

export function parseWatchRequest(body: unknown): WatchRequestMessage {
  const checked = validate(WatchRequestMessageCheck, body);
  if (!checked.ok) {
    const issue = checked.issues[0]!;
    const field = issue.path.join('.') || '(message)';
    throw new MalformedEventError(`field "${field}" ${issue.message}`, field);
  }
  return checked.value;
}

/** The watch queue's consumer: one account's daily check per record. */
export function createHandler(build: () => WatchDeps) {
  let deps: WatchDeps | undefined;
  return sqsBatchHandler(async (body) => {
    const request = parseWatchRequest(body);
    deps ??= build();
    await checkAccount({ accountId: request.accountId, day: request.day }, deps);
  });
}

export const handler = createHandler(() => buildWatchDeps());
