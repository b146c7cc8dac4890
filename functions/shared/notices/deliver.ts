import { DeliveryError, DeliveryInFlightError, errorMessage } from '../errors';
import type {
  Clock,
  DeliveryLedger,
  EmailMessage,
  EmailSender,
  TopicMessage,
  TopicPublisher,
} from '../ports';

/** One message for one channel; `target.key` names the channel for deduplication. */
export type Outgoing =
  | { channel: 'email'; target: { key: string }; message: EmailMessage }
  | { channel: 'sns'; target: { key: string }; message: TopicMessage };

export interface DeliverDeps {
  ledger: DeliveryLedger;
  email: EmailSender;
  sns: TopicPublisher;
  clock: Clock;
  /** Where problems that do not fail the delivery are reported. */
  warn?: (message: string, extra: Record<string, unknown>) => void;
  /**
   * When the invocation must stop sending (epoch ms): each send, retries included, is aborted
   * then, and a channel not started with too little time left fails (its record is retried).
   */
  deadline?: number;
}

/** Below this much time left, a channel is not started: it would only be cut off. */
export const MIN_SEND_MS = 1500;

export type DeliveryOutcome =
  | { channel: string; status: 'sent'; messageId: string }
  | { channel: string; status: 'duplicate' }
  | { channel: string; status: 'failed'; error: string };

/**
 * Sends each message at most once per (event, channel): claim in the ledger, send, mark
 * delivered. A channel that fails is released so the retry sends it; the others are not
 * sent again. Every channel is attempted before the first failure is raised.
 */
export async function deliverAll(
  dedupKey: string,
  outgoing: readonly Outgoing[],
  deps: DeliverDeps,
  /** Keys of the same fact (Notice.sameAs): a channel that delivered one is not sent again. */
  sameAs: readonly string[] = [],
): Promise<DeliveryOutcome[]> {
  let deliveredAs = new Set<string>();
  if (sameAs.length) {
    try {
      deliveredAs = await deps.ledger.delivered(
        sameAs.flatMap((eventKey) => outgoing.map((o) => ({ eventKey, channelKey: o.target.key }))),
      );
    } catch (error) {
      // Not knowing means sending: a second copy beats silence.
      deps.warn?.('could not read the delivery records of the same fact', {
        dedupKey,
        error: errorMessage(error),
      });
    }
  }
  const outcomes = await Promise.all(
    outgoing.map((o) =>
      sameAs.some((k) => deliveredAs.has(`${k}|${o.target.key}`))
        ? Promise.resolve<DeliveryOutcome>({ channel: o.target.key, status: 'duplicate' })
        : deliverOne(dedupKey, o, deps),
    ),
  );
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length) {
    const summary = failed.map((f) => `${f.channel}: ${'error' in f ? f.error : ''}`).join('; ');
    throw new DeliveryError(
      `${failed.length} of ${outcomes.length} channel(s) failed: ${summary}`,
      failed.map((f) => f.channel).join(','),
    );
  }
  return outcomes;
}

async function deliverOne(
  dedupKey: string,
  o: Outgoing,
  deps: DeliverDeps,
): Promise<DeliveryOutcome> {
  const channel = o.target.key;
  let claim;
  try {
    claim = await deps.ledger.claim(dedupKey, channel, deps.clock.now());
  } catch (error) {
    return { channel, status: 'failed', error: `delivery ledger: ${errorMessage(error)}` };
  }
  if (claim.outcome === 'already-delivered') return { channel, status: 'duplicate' };
  const timeLeft = deps.deadline === undefined ? undefined : deps.deadline - Date.now();
  if (claim.outcome === 'in-flight') {
    const err = new DeliveryInFlightError(
      `another invocation is delivering this message (lease until ${claim.leaseUntil ?? '?'})`,
    );
    return { channel, status: 'failed', error: err.message };
  }
  let messageId: string;
  try {
    if (timeLeft !== undefined && timeLeft < MIN_SEND_MS) {
      throw new Error(`not sent: ${Math.max(0, timeLeft)} ms left in this invocation (retried)`);
    }
    const options = timeLeft === undefined ? {} : { signal: AbortSignal.timeout(timeLeft) };
    messageId =
      o.channel === 'email'
        ? (await deps.email.send(o.message, options)).messageId
        : (await deps.sns.publish(o.message, options)).messageId;
  } catch (error) {
    // Give the claim back so the retry of this record sends it.
    await deps.ledger.release(dedupKey, channel, claim.token).catch((releaseError: unknown) => {
      // The claim then lapses with its lease; the retry sends this channel after that.
      deps.warn?.('could not release a delivery claim', {
        dedupKey,
        channel,
        error: errorMessage(releaseError),
      });
    });
    return { channel, status: 'failed', error: errorMessage(error) };
  }
  try {
    await deps.ledger.markDelivered(dedupKey, channel, claim.token, messageId, deps.clock.now());
  } catch (error) {
    // Sent but not recorded: the lease still guards a retry until it expires. Not a failure
    // of this record, or the retry would send a second copy sooner.
    deps.warn?.('sent, but the delivery record was not written', {
      dedupKey,
      channel,
      error: errorMessage(error),
    });
  }
  return { channel, status: 'sent', messageId };
}

/**
 * The ledger's pseudo channel for an alert taken into an incident or a flood window instead of
 * being sent: its channels hear of it through the summary. What reads the ledger later (lost
 * events) counts it as told, not lost.
 */
export const TAKEN_IN_CHANNEL = 'incident';

/** Records that an alert was taken into an incident or flood window (idempotent). */
export async function recordTakenIn(
  dedupKey: string,
  into: string,
  deps: Pick<DeliverDeps, 'ledger' | 'clock'>,
): Promise<void> {
  const claim = await deps.ledger.claim(dedupKey, TAKEN_IN_CHANNEL, deps.clock.now());
  if (claim.outcome !== 'claimed') return;
  await deps.ledger.markDelivered(dedupKey, TAKEN_IN_CHANNEL, claim.token, into, deps.clock.now());
}
