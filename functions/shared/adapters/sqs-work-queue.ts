import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EnqueueOptions, WorkQueue } from '../ports';

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(messages: Record<string, unknown>[], options: EnqueueOptions = {}): Promise<void> {
    // SQS delays a message by at most 15 minutes.
    const delay =
      options.delaySeconds === undefined
        ? {}
        : { DelaySeconds: Math.max(0, Math.min(900, Math.ceil(options.delaySeconds))) };
    for (let i = 0; i < messages.length; i += 10) {
      let entries = messages
        .slice(i, i + 10)
        .map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m), ...delay }));
      // Entries SQS refused (throttling) are sent again, a bounded number of times.
      for (let attempt = 0; entries.length && attempt < 5; attempt++) {
        if (attempt) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        const out = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
        );
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        entries = entries.filter((e) => failed.has(e.Id));
      }
      if (entries.length) throw new Error(`queue refused ${entries.length} message(s)`);
    }
  }
}
