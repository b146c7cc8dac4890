/** Named errors. Each says what was wrong in words an operator can act on. */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The record can never succeed as it is: retried by SQS, then kept in the DLQ. */
export class MalformedEventError extends Error {
  override name = 'MalformedEventError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A channel could not be delivered (throttling after the SDK's retries, a rejection). */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly channel: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another invocation holds the claim on this delivery right now; try again later. */
export class DeliveryInFlightError extends Error {
  override name = 'DeliveryInFlightError';
}

/**
 * A failure on the control plane's own side (its ledger, SES, SNS) during a member check: never
 * the member account's fault, whatever its message says.
 */
export class ControlPlaneSideError extends Error {
  override name = 'ControlPlaneSideError';
}

/** Errors that mean "not allowed", not "try again": a check reports them, it does not retry. */
export function isAccessDenied(error: unknown): boolean {
  if (error instanceof ControlPlaneSideError) return false;
  const text = `${(error as { name?: string })?.name ?? ''} ${errorMessage(error)}`;
  return /AccessDenied|UnauthorizedOperation|AuthorizationError|not authorized|InvalidClientTokenId|ExpiredToken/i.test(
    text,
  );
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
