import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from './logger';
import { eventFromSqsBody } from './sqs-body';

/**
 * An SQS-fed Lambda handler with partial batch responses: each record's body is parsed (an
 * EventBridge event, or one wrapped by SNS), its ids become the log's correlation keys, and a
 * record that throws is logged and reported alone, so SQS retries it and in the end keeps it in
 * the DLQ. Records run one at a time: the logger's keys are per process (parallel records would
 * log each other's ids), and a duplicate in the same batch then finds the first one done.
 */
export function sqsBatchHandler(
  processBody: (body: unknown, record: SQSRecord, budget: TimeBudget) => Promise<unknown>,
  options: { reserveMs?: number } = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  let budget: TimeBudget = { deadline: undefined };
  const processRecord = async (record: SQSRecord): Promise<void> => {
    logger.resetKeys();
    logger.appendKeys({ messageId: record.messageId });
    try {
      // A record started with too little time left would be cut off mid-send: leave it to SQS.
      const left = budget.deadline === undefined ? undefined : budget.deadline - Date.now();
      if (left !== undefined && left < 0) {
        throw new TimeBudgetError(
          `not started: the invocation's time for records ran out (${-left} ms ago); retried`,
        );
      }
      const body = eventFromSqsBody(record.body);
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
        const e = body as Record<string, unknown>;
        logger.appendKeys({
          eventId: e.id,
          accountId: e.account ?? e.accountId,
          detailType: e['detail-type'] ?? e.kind,
        });
      }
      await processBody(body, record, budget);
    } catch (error) {
      logger.error('record failed; SQS will retry it, then keep it in the DLQ', {
        error: error as Error,
        receiveCount: record.attributes.ApproximateReceiveCount,
      });
      throw error;
    }
  };
  return async (event, context) => {
    logger.addContext(context);
    // Records are started until `reserveMs` before the timeout; sends stop 1 s before it.
    const remaining = context.getRemainingTimeInMillis?.();
    budget =
      typeof remaining === 'number' && Number.isFinite(remaining)
        ? {
            deadline: Date.now() + remaining - (options.reserveMs ?? 0),
            sendDeadline: Date.now() + remaining - 1000,
          }
        : { deadline: undefined };
    // A batch where every record failed is reported like any other, not thrown: same retry.
    return processPartialResponse(event, processRecord, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: false,
    });
  };
}

/** What is left of the invocation for the records of a batch. */
export interface TimeBudget {
  /** Past this (epoch ms), no new record is started. */
  deadline: number | undefined;
  /** Past this, no send may still be running. */
  sendDeadline?: number;
}

/** A record the invocation had no time left to start: retried by SQS, nothing lost. */
export class TimeBudgetError extends Error {
  override name = 'TimeBudgetError';
}

/** The queues' redrive setting (serverless.yml: maxReceiveCount of the notification queue). */
export const MAX_RECEIVE_COUNT = 5;

/** This receive is the record's last before SQS moves it to the DLQ. */
export function isFinalAttempt(record: SQSRecord, maxReceiveCount = MAX_RECEIVE_COUNT): boolean {
  return Number(record.attributes?.ApproximateReceiveCount ?? 1) >= maxReceiveCount;
}
