import { MalformedEventError } from './errors';

/**
 * The EventBridge event is the SQS body. If a team routes events through an SNS topic into the
 * queue instead, the body is an SNS envelope with the event as its Message: accept both.
 */
export function eventFromSqsBody(text: string): unknown {
  const parse = (t: string, what: string) => {
    try {
      return JSON.parse(t) as unknown;
    } catch (error) {
      throw new MalformedEventError(`${what} is not JSON: ${(error as Error).message}`, 'body');
    }
  };
  const body = parse(text, 'SQS message body');
  if (
    typeof body === 'object' &&
    body !== null &&
    (body as Record<string, unknown>).Type === 'Notification' &&
    typeof (body as Record<string, unknown>).Message === 'string'
  ) {
    return parse((body as Record<string, string>).Message!, 'SNS Message in the SQS body');
  }
  return body;
}
