import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { TopicMessage, TopicPublisher } from '../ports';

export class SnsTopicPublisher implements TopicPublisher {
  constructor(private readonly sns: SNSClient) {}

  async publish(m: TopicMessage): Promise<{ messageId: string }> {
    const out = await this.sns.send(
      new PublishCommand({
        TopicArn: m.topicArn,
        Subject: m.subject,
        Message: m.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
      }),
    );
    return { messageId: out.MessageId ?? '' };
  }
}
