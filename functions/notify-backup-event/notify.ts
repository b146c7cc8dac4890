import type { Config } from '../shared/config';
import type {
  AccountDirectory,
  Clock,
  Log,
  DeliveryLedger,
  EmailSender,
  TopicPublisher,
} from '../shared/ports';
import { compose } from './compose';
import { decide, type Decision } from './decide';
import { deliverAll, type DeliveryOutcome } from '../shared/deliver';
import { enrich } from './enrich';

export interface NotifyDeps {
  config: Config;
  topicArn: (topic: string) => string;
  accounts: AccountDirectory;
  ledger: DeliveryLedger;
  email: EmailSender;
  sns: TopicPublisher;
  clock: Clock;
  log: Log;
}

export interface NotifyResult {
  decision: Decision;
  deliveries: DeliveryOutcome[];
}

/**
 * One EventBridge event through the whole flow: decide, enrich, render, deliver once.
 * Throws on a malformed event or a failed channel, so the record is retried.
 */
export async function notifyBackupEvent(input: unknown, deps: NotifyDeps): Promise<NotifyResult> {
  const decision = decide(input, deps.config);
  if (decision.flow === 'ignore') {
    deps.log.info('event ignored', { eventId: decision.eventId, reason: decision.reason });
    return { decision, deliveries: [] };
  }
  const enriched = await enrich(decision.event, {
    accounts: deps.accounts,
    warn: (message, extra) => deps.log.warn(message, extra),
  });
  const outgoing = compose(decision, enriched, deps.config, deps.topicArn);
  if (outgoing.length < decision.targets.length) {
    deps.log.warn(
      'no email address for the account owner (not in accountOwners, none from Organizations)',
      {
        eventId: decision.eventId,
        accountId: decision.event.accountId,
      },
    );
  }
  const deliveries = await deliverAll(decision.dedupKey, outgoing, {
    ...deps,
    warn: (message, extra) => deps.log.warn(message, extra),
  });
  deps.log.info('event notified', {
    eventId: decision.eventId,
    severity: decision.severity,
    state: decision.label,
    deliveries: deliveries.map((d) => `${d.channel}:${d.status}`),
  });
  return { decision, deliveries };
}
