import type { OnboardRequestMessage } from '../onboard-account/process-record';
import type { OrganizationReader, WorkQueue } from '../shared/ports';
import type { SendOptions, SendResult } from '../shared/notices/send';
import {
  deliverAlert,
  flushIncident,
  isFlushMessage,
  recoverResource,
  type AggregateDeps,
  type Delivery,
} from './aggregate';
import { decide, decideContext, type DecideContext, type Decision } from './decide';
import { groupJobAlert, resourceKey } from './incidents';

export interface NotifyDeps extends AggregateDeps {
  /** The baseline and the deployment's names; default: the baseline, no deployment facts. */
  decideContext?: DecideContext;
  /** Names backup policies that a tamper call names by id alone; without it such calls are ignored. */
  policies?: Pick<OrganizationReader, 'policyName'>;
  /** The onboarding queue, when onboarding runs: repairs after tampering. */
  repairs?: WorkQueue;
}

export interface NotifyResult {
  decision: Decision;
  sent?: SendResult;
  /** How the alert went: at once, folded into its incident, held back by flood control. */
  delivery?: Delivery['delivery'];
  /** Set when onboarding was asked to put the baseline back. */
  repairRequested?: string;
  /** Incidents this event (a job that succeeded) ended. */
  recovered?: number;
}

/**
 * One EventBridge event through the whole flow: decide, then the notification pipeline (enrich,
 * route, render, deliver once), then the repair a tamper alert promised. Throws on a malformed
 * event or a failed channel, so the record is retried.
 */
export async function notifyBackupEvent(
  input: unknown,
  deps: NotifyDeps,
  options: SendOptions = {},
): Promise<NotifyResult> {
  if (isFlushMessage(input)) {
    const outcome = await flushIncident(input, deps, options);
    return {
      decision: { flow: 'ignore', reason: `incident summary: ${outcome}`, warnings: [], facts: {} },
    };
  }
  const ctx = deps.decideContext ?? decideContext(deps.config);
  let decision = decide(input, deps.config, ctx);
  for (const warning of decision.warnings) {
    deps.log.warn('unreadable display field; the alert goes out without it', {
      eventId: decision.eventId,
      warning,
    });
  }
  if (decision.flow === 'notify' && decision.policyCheck) {
    decision = await attributePolicy(decision, ctx, deps.policies);
  }
  // A job that succeeded counts toward ending the incidents its resource was in.
  const e = decision.event;
  const recovered =
    e?.state === 'COMPLETED' && e.resourceArn
      ? await recoverResource(resourceKey(e.accountId, e.jobType, e.resourceArn), deps)
      : 0;
  if (decision.flow === 'ignore') {
    deps.log.info('event ignored', { eventId: decision.eventId, reason: decision.reason });
    return { decision, ...(recovered ? { recovered } : {}) };
  }
  const grouped = e
    ? groupJobAlert(e, decision.notice, deps.config.notifications.aggregation, deps.clock.now())
    : undefined;
  const delivered = await deliverAlert(decision.notice, grouped, deps, options);
  const sent = delivered.delivery === 'sent' ? delivered.sent : undefined;
  const base = {
    decision,
    delivery: delivered.delivery,
    ...(sent ? { sent } : {}),
    ...(recovered ? { recovered } : {}),
  };
  if (!decision.repair) return base;
  if (!deps.repairs) {
    deps.log.warn('repair not requested: the onboarding queue is not configured', {
      eventId: decision.eventId,
      accountId: decision.repair.accountId,
    });
    return base;
  }
  const message: OnboardRequestMessage = {
    kind: 'onboard-request',
    accountId: decision.repair.accountId,
    trigger: 'Drift',
    requestedAt: deps.clock.now().toISOString(),
    drift: [decision.repair.finding],
  };
  // After the alert: a retry finds the alert delivered and asks again (onboarding is idempotent).
  await deps.repairs.enqueue([message]);
  deps.log.info('repair requested', {
    eventId: decision.eventId,
    accountId: decision.repair.accountId,
  });
  return { ...base, repairRequested: decision.repair.accountId };
}

/** A call that names a backup policy by id alone is an alert only for the control plane's. */
async function attributePolicy(
  decision: Extract<Decision, { flow: 'notify' }>,
  ctx: DecideContext,
  policies: NotifyDeps['policies'],
): Promise<Decision> {
  const policyId = decision.policyCheck!.policyId;
  const ours = ctx.tamper.backupPolicyNames;
  const name = policies ? await policies.policyName(policyId) : undefined;
  if (name === undefined || !ours.has(name)) {
    return {
      flow: 'ignore',
      eventId: decision.eventId,
      reason: !policies
        ? `policy ${policyId} cannot be named (no Organizations access): the call cannot be attributed`
        : name === undefined
          ? `policy ${policyId} no longer exists: the call cannot be attributed to the control plane's policies`
          : `policy ${name} (${policyId}) is not one of the control plane's backup policies`,
      warnings: [],
      facts: decision.facts,
    };
  }
  const notice = { ...decision.notice };
  notice.item = name;
  notice.headline = notice.headline?.replace(policyId, `${name} (${policyId})`);
  notice.summary = notice.summary?.replace(policyId, `${name} (${policyId})`);
  return { ...decision, notice };
}
