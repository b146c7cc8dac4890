/**
 * Settings every SDK client of the functions is created with (once per container, by the
 * handler that needs it). The SDK retries throttling itself (adaptive mode, a few attempts);
 * what still fails after that fails the record, which SQS retries later. AWS_ENDPOINT_URL (set
 * by the sandbox and the integration tests) points every client at the local AWS.
 */
export const CLIENT_DEFAULTS = { maxAttempts: 4, retryMode: 'adaptive' } as const;

/** Organizations' API lives in us-east-1 whatever the function's region. */
export const ORGANIZATIONS_CLIENT = { ...CLIENT_DEFAULTS, region: 'us-east-1' } as const;
