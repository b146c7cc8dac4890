import { dynamodbClient, organizationsClient, stsClient } from '../shared/adapters/clients';
import { DynamoDbOnboardingLedger } from '../shared/adapters/dynamodb-onboarding-ledger';
import { StsAccountAccess } from '../shared/adapters/member-account';
import { OrganizationsAdmin } from '../shared/adapters/organizations-admin';
import { loadOnboardingRuntime } from '../shared/config/runtime';
import { logPort } from '../shared/logger';
import { buildPipelineDeps } from '../shared/notices/wiring';
import { systemClock } from '../shared/ports';
import { sqsBatchHandler } from '../shared/sqs-batch';
import { loadBaseline } from './baseline';
import { PipelineNotifier } from './notices';
import { processOnboardingRecord, type ProcessDeps } from './process-record';

export type OnboardingDeps = Omit<ProcessDeps, 'owner'>;

/** The dependencies from the deployed environment; a bad configuration fails loudly. */
export function buildOnboardingDeps(env: NodeJS.ProcessEnv = process.env): OnboardingDeps {
  const { config, runtime, onboarding } = loadOnboardingRuntime(env);
  const org = new OrganizationsAdmin(organizationsClient());
  return {
    config,
    baseline: loadBaseline(),
    org,
    access: new StsAccountAccess(stsClient()),
    ledger: new DynamoDbOnboardingLedger(dynamodbClient(), runtime.DELIVERY_TABLE_NAME),
    // A claim outlasts the queue's visibility timeout (5,400 s) plus the function's timeout
    // (900 s): a crash after SES accepted a notice is not sent again by the next receive.
    notifier: new PipelineNotifier(
      buildPipelineDeps(config, runtime, { leaseMs: 110 * 60 * 1000, org }),
    ),
    clock: systemClock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: logPort,
    centralBusArn: onboarding.CENTRAL_BUS_ARN,
    controlPlaneRoleArn: onboarding.CONTROL_PLANE_ROLE_ARN,
    watchRoleArn: onboarding.WATCH_ROLE_ARN,
  };
}

/** The onboarding queue's consumer (account events, sweep and CLI requests), built from its deps. */
export function createHandler(build: () => OnboardingDeps) {
  let base: OnboardingDeps | undefined;
  return sqsBatchHandler(async (body, record) => {
    base ??= build();
    const time = (body as { time?: unknown } | null)?.time;
    await processOnboardingRecord(body, typeof time === 'string' ? time : undefined, {
      ...base,
      owner: record.messageId,
    });
  });
}

export const handler = createHandler(() => buildOnboardingDeps());
