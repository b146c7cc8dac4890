import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { TopicMessage, TopicPublisher } from '../ports';
import { wellFormedDeep } from '../format';

export class SnsTopicPublisher implements TopicPublisher {
  constructor(private readonly sns: SNSClient) {}

  async publish(
    message: TopicMessage,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ messageId: string }> {
    // The last guard: an ill-formed string would break this client for every later request.
    const m = wellFormedDeep(message);
    const out = await this.sns.send(
      new PublishCommand({
        TopicArn: m.topicArn,
        Subject: m.subject,
        Message: m.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    return { messageId: out.MessageId ?? '' };
  }
}
