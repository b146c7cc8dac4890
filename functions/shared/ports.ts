/** What the flows need from the outside world. Adapters under ./adapters implement these. */

export interface AccountInfo {
  id: string;
  name?: string;
  email?: string;
  status?: string;
}

export interface AccountDirectory {
  describeAccount(accountId: string): Promise<AccountInfo>;
}

export interface EmailMessage {
  from: string;
  to: string[];
  replyTo?: string[];
  subject: string;
  html: string;
  text: string;
  configurationSet?: string;
  /** Headers and tags that help filtering and tracing. */
  tags?: Record<string, string>;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<{ messageId: string }>;
}

export interface TopicMessage {
  topicArn: string;
  subject: string;
  body: string;
  attributes: Record<string, string>;
}

export interface TopicPublisher {
  publish(message: TopicMessage): Promise<{ messageId: string }>;
}

export type ClaimResult =
  | { outcome: 'claimed'; token: string }
  | { outcome: 'already-delivered'; deliveredAt?: string; messageId?: string }
  | { outcome: 'in-flight'; leaseUntil?: string };

/** Records which (event, channel) pairs were delivered, so retries send nothing twice. */
export interface DeliveryLedger {
  claim(eventKey: string, channelKey: string, now: Date): Promise<ClaimResult>;
  markDelivered(
    eventKey: string,
    channelKey: string,
    token: string,
    messageId: string,
    now: Date,
  ): Promise<void>;
  release(eventKey: string, channelKey: string, token: string): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
