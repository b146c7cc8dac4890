import { loadRuntimeConfig } from '../shared/config';
import { buildPipelineDeps } from '../shared/notices/wiring';
import { isFinalAttempt, sqsBatchHandler } from '../shared/sqs-batch';
import { notifyBackupEvent, type NotifyDeps } from './notify';

/**
 * A claim outlasts the queue's visibility timeout (365 s) plus the function's timeout (60 s): a
 * crash after SES accepted a message is not sent again by the record's next receive.
 */
const DELIVERY_LEASE_MS = 8 * 60 * 1000;
/** No record is started in the last 20 s of the 60 s timeout: a send and its retries fit. */
const RESERVE_MS = 20_000;

/** The dependencies from the deployed environment; a bad configuration fails every record loudly. */
export function buildNotifyDeps(env: NodeJS.ProcessEnv = process.env): NotifyDeps {
  const { config, runtime } = loadRuntimeConfig(env);
  return buildPipelineDeps(config, runtime, { leaseMs: DELIVERY_LEASE_MS });
}

/** The notification queue's consumer, built from its dependencies (created on first use). */
export function createHandler(build: () => NotifyDeps) {
  let deps: NotifyDeps | undefined;
  return sqsBatchHandler(
    async (body, record, budget) => {
      deps ??= build();
      await notifyBackupEvent(body, deps, {
        finalAttempt: isFinalAttempt(record),
        ...(budget.sendDeadline !== undefined ? { deadline: budget.sendDeadline } : {}),
      });
    },
    { reserveMs: RESERVE_MS },
  );
}

export const handler = createHandler(() => buildNotifyDeps());
