import { effectiveRules } from '../config/vocabulary';
import type { Config } from '../config/schema';
import { errorMessage } from '../errors';
import type { Clock, DeliveryLedger, EmailSender, Log, TopicPublisher } from '../ports';
import type { AccountContextSource } from './account-context';
import { compose, type Outgoing } from './compose';
import { deliverAll, type DeliveryOutcome } from './deliver';
import type { AccountRef, Notice } from './notice';
import { route, routeFacts, routingNeeds, type Target } from './route';
import { filtersName } from './subscriptions';

/**
 * The one notification pipeline: enrich the account (name, OU path, tags; cached) → route by the
 * rules → compose (render once per channel) → deliver each channel once. Job alerts, onboarding
 * notices, drift and coverage findings and digests all go through here.
 */

export interface PipelineDeps {
  config: Config;
  topicArn: (topic: string) => string;
  accounts: AccountContextSource;
  ledger: DeliveryLedger;
  email: EmailSender;
  sns: TopicPublisher;
  clock: Clock;
  log: Log;
}

export interface SendOptions {
  /**
   * The record's last try before the DLQ: route with what is known if the account's OU path or
   * tags cannot be read, rather than keep an alert from everyone.
   */
  finalAttempt?: boolean;
  /** When sends must stop (epoch ms), from the invocation's remaining time. */
  deadline?: number;
}

export interface SendResult {
  notice: Notice;
  targets: Target[];
  deliveries: DeliveryOutcome[];
}

/** Thrown when routing needs the account's OU path or tags and they cannot be read yet. */
export class RoutingFactsUnavailableError extends Error {
  override name = 'RoutingFactsUnavailableError';
}

/** The account as routing and rendering need it; what the notice already knows is kept. */
export async function enrichAccount(
  notice: Notice,
  deps: Pick<PipelineDeps, 'config' | 'accounts' | 'log'>,
  options: SendOptions = {},
): Promise<Notice> {
  const known = notice.account;
  if (!known) return notice;
  const byRules = routingNeeds(effectiveRules(deps.config), deps.config.notifications.email);
  // A subscription filter on the OU path needs it in the message attributes.
  const needs = { ...byRules, ouPath: byRules.ouPath || filtersName(deps.config, 'ouPath') };
  const satisfied =
    (known.name !== undefined || known.email !== undefined) &&
    (!needs.ouPath || known.ouPath !== undefined) &&
    (!needs.tags || known.tags !== undefined);
  if (satisfied) return notice;
  let looked: AccountRef;
  try {
    looked = await deps.accounts.lookup(known.id, needs, (m, extra) => deps.log.warn(m, extra));
  } catch (error) {
    // Only a channel's filter wanted the OU path: send without it rather than hold every message.
    const onlyFilters = !byRules.ouPath && !byRules.tags;
    if (!options.finalAttempt && !onlyFilters) {
      throw new RoutingFactsUnavailableError(
        `cannot read the OU path or tags of account ${known.id} that the routing rules need: ${errorMessage(error)} (retried)`,
        { cause: error },
      );
    }
    deps.log.warn('routing without the account OU path or tags', {
      reason: onlyFilters ? 'only subscription filters need them' : 'last attempt',
      accountId: known.id,
      error: errorMessage(error),
    });
    return notice;
  }
  return { ...notice, account: { ...looked, ...withoutUndefined(known) } };
}

function withoutUndefined(ref: AccountRef): Partial<AccountRef> {
  return Object.fromEntries(Object.entries(ref).filter(([, v]) => v !== undefined));
}

/** Where the notice goes and what each channel gets, without sending (plan, render, tests). */
export function planNotice(
  notice: Notice,
  config: Config,
  topicArn: (topic: string) => string,
): { targets: Target[]; outgoing: Outgoing[] } {
  const targets = route(
    routeFacts(notice),
    effectiveRules(config),
    config.notifications.email,
    notice.account,
    notice.owners,
  );
  return { targets, outgoing: compose(notice, targets, config, topicArn) };
}

/** Sends a notice; throws when a channel failed (the others are not sent again on the retry). */
export async function sendNotice(
  input: Notice,
  deps: PipelineDeps,
  options: SendOptions = {},
): Promise<SendResult> {
  const notice = await enrichAccount(input, deps, options);
  const { targets, outgoing } = planNotice(notice, deps.config, deps.topicArn);
  if (!targets.length) {
    deps.log.info('no routing rule matches; nothing sent', {
      kind: notice.kind,
      dedupKey: notice.dedupKey,
    });
    return { notice, targets, deliveries: [] };
  }
  const deliveries = await deliverAll(
    notice.dedupKey,
    outgoing,
    {
      ...deps,
      warn: (message, extra) => deps.log.warn(message, extra),
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
    },
    notice.sameAs,
  );
  deps.log.info('notice delivered', {
    kind: notice.kind,
    severity: notice.severity,
    label: notice.label,
    accountId: notice.account?.id,
    deliveries: deliveries.map((d) => `${d.channel}:${d.status}`),
  });
  return { notice, targets, deliveries };
}
