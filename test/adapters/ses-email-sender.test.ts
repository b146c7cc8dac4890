import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SesEmailSender } from '../../functions/shared/adapters/ses-email-sender';
import type { EmailMessage } from '../../functions/shared/ports';

const ses = mockClient(SESClient);

const message = (overrides: Partial<EmailMessage> = {}): EmailMessage => ({
  from: 'AWS Backup alerts <backup-alerts@example.com>',
  to: ['platform-team@example.com', 'lead@example.com'],
  replyTo: ['platform-team@example.com'],
  subject: '[FAILED] Backup job · customer-profiles · Production (111122223333) · us-east-1',
  html: '<p>Backup job · FAILED</p>',
  text: 'Backup job · FAILED\n',
  configurationSet: 'backup-alerts',
  tags: {
    severity: 'error',
    jobType: 'backup',
    'account id': '111122223333',
    state: 'COMPLETED WITH ISSUES',
  },
  ...overrides,
});

beforeEach(() => ses.reset());

describe('SesEmailSender', () => {
  it('sends one SendEmail with UTF-8 subject and both bodies', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-123' });
    const result = await new SesEmailSender(new SESClient({})).send(message());
    expect(result).toEqual({ messageId: 'ses-123' });
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Source: 'AWS Backup alerts <backup-alerts@example.com>',
      Destination: { ToAddresses: ['platform-team@example.com', 'lead@example.com'] },
      ReplyToAddresses: ['platform-team@example.com'],
      ConfigurationSetName: 'backup-alerts',
      Message: {
        Subject: {
          Data: '[FAILED] Backup job · customer-profiles · Production (111122223333) · us-east-1',
          Charset: 'UTF-8',
        },
        Body: {
          Html: { Data: '<p>Backup job · FAILED</p>', Charset: 'UTF-8' },
          Text: { Data: 'Backup job · FAILED\n', Charset: 'UTF-8' },
        },
      },
    });
  });

  it('sanitises tag names and values to what SES allows', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-123' });
    await new SesEmailSender(new SESClient({})).send(message());
    const input = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(input.Tags).toEqual([
      { Name: 'severity', Value: 'error' },
      { Name: 'jobType', Value: 'backup' },
      { Name: 'account_id', Value: '111122223333' },
      { Name: 'state', Value: 'COMPLETED_WITH_ISSUES' },
    ]);
    for (const tag of input.Tags ?? []) {
      expect(tag.Name).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
      expect(tag.Value).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
    }
  });

  it('never sends an empty tag value', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-123' });
    await new SesEmailSender(new SESClient({})).send(message({ tags: { resource: '' } }));
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Tags: [{ Name: 'resource', Value: '_' }],
    });
  });

  it('leaves out reply-to and configuration set when not configured', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-123' });
    await new SesEmailSender(new SESClient({})).send(
      message({ replyTo: undefined, configurationSet: undefined, tags: undefined }),
    );
    const input = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(input.ReplyToAddresses).toBeUndefined();
    expect(input.ConfigurationSetName).toBeUndefined();
    expect(input.Tags).toEqual([]);
  });

  it('lets SES errors through', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(
        Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' }),
      );
    await expect(new SesEmailSender(new SESClient({})).send(message())).rejects.toThrow(
      'Email address is not verified.',
    );
  });
});
