import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SnsTopicPublisher } from '../../functions/shared/adapters/sns-topic-publisher';

const sns = mockClient(SNSClient);

beforeEach(() => sns.reset());

describe('SnsTopicPublisher', () => {
  it('publishes the body with string message attributes', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    const result = await new SnsTopicPublisher(new SNSClient({})).publish({
      topicArn: 'arn:aws:sns:us-east-1:123456789012:chat',
      subject: '[FAILED] Backup job - customer-profiles - 111122223333 - us-east-1',
      body: '{"version":"1.0"}',
      attributes: { severity: 'error', accountId: '111122223333' },
    });
    expect(result).toEqual({ messageId: 'sns-1' });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:chat',
      Subject: '[FAILED] Backup job - customer-profiles - 111122223333 - us-east-1',
      Message: '{"version":"1.0"}',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'error' },
        accountId: { DataType: 'String', StringValue: '111122223333' },
      },
    });
  });

  it('sends an account id as a String attribute, not a Number', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    await new SnsTopicPublisher(new SNSClient({})).publish({
      topicArn: 'arn:aws:sns:us-east-1:123456789012:chat',
      subject: 's',
      body: 'b',
      attributes: { accountId: '011122223333' },
    });
    const attributes = sns.commandCalls(PublishCommand)[0]!.args[0].input.MessageAttributes;
    expect(attributes).toEqual({ accountId: { DataType: 'String', StringValue: '011122223333' } });
  });

  it('lets SNS errors through', async () => {
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' }));
    await expect(
      new SnsTopicPublisher(new SNSClient({})).publish({
        topicArn: 'arn:x',
        subject: 's',
        body: 'b',
        attributes: {},
      }),
    ).rejects.toThrow('Topic does not exist');
  });
});
