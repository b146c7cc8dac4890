import { SendEmailCommand, type SESClient } from '@aws-sdk/client-ses';
import { wellFormedDeep } from '../format';
import type { EmailMessage, EmailSender } from '../ports';

/** SES message tags allow only [A-Za-z0-9_-] in names and values. */
function tagValue(v: string): string {
  return v.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';
}

export class SesEmailSender implements EmailSender {
  constructor(private readonly ses: SESClient) {}

  async send(
    message: EmailMessage,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ messageId: string }> {
    // The last guard: an ill-formed string would break this client for every later request.
    const m = wellFormedDeep(message);
    const out = await this.ses.send(
      new SendEmailCommand({
        Source: m.from,
        Destination: { ToAddresses: m.to },
        ReplyToAddresses: m.replyTo,
        ConfigurationSetName: m.configurationSet,
        Message: {
          Subject: { Data: m.subject, Charset: 'UTF-8' },
          Body: {
            Html: { Data: m.html, Charset: 'UTF-8' },
            Text: { Data: m.text, Charset: 'UTF-8' },
          },
        },
        Tags: Object.entries(m.tags ?? {}).map(([Name, Value]) => ({
          Name: tagValue(Name),
          Value: tagValue(Value),
        })),
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    return { messageId: out.MessageId ?? '' };
  }
}
