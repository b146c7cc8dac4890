import { loadRuntimeConfig } from '../shared/config';
import { buildPipelineDeps } from '../shared/notices/wiring';
import { isFinalAttempt, sqsBatchHandler } from '../shared/sqs-batch';
import { notifyBackupEvent, type NotifyDeps } from './notify';

/** Longer than the function timeout, so a live send is never taken over. */
const DELIVERY_LEASE_MS = 2 * 60 * 1000;

/** The dependencies from the deployed environment; a bad configuration fails every record loudly. */
export function buildNotifyDeps(env: NodeJS.ProcessEnv = process.env): NotifyDeps {
  const { config, runtime } = loadRuntimeConfig(env);
  return buildPipelineDeps(config, runtime, { leaseMs: DELIVERY_LEASE_MS });
}

/** The notification queue's consumer, built from its dependencies (created on first use). */
export function createHandler(build: () => NotifyDeps) {
  let deps: NotifyDeps | undefined;
  return sqsBatchHandler(async (body, record) => {
    deps ??= build();
    await notifyBackupEvent(body, deps, { finalAttempt: isFinalAttempt(record) });
  });
}

export const handler = createHandler(() => buildNotifyDeps());
