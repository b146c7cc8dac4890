/**
 * The identifier formats, defined once. Configuration, CLI arguments and queue messages use the
 * strict forms; event parsing is laxer where real events are (see notify-backup-event/schema.ts).
 */

/** An AWS account id: exactly 12 digits. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
export const ACCOUNT_ID_RULE = 'must be a 12-digit AWS account id';

/** A region name in any partition: us-east-1, eu-central-2, us-gov-west-1, cn-northwest-1. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
export const REGION_RULE = 'must be a region name such as us-east-1';

export const isAccountId = (value: unknown): value is string =>
  typeof value === 'string' && ACCOUNT_ID_PATTERN.test(value);

export const isRegion = (value: unknown): value is string =>
  typeof value === 'string' && REGION_PATTERN.test(value);

/**
 * An EventBridge rule state that matches events: ENABLED, or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
 * (which matches more: read-only management events too), not DISABLED.
 */
export const isEnabledRuleState = (state: string | undefined): boolean =>
  state === 'ENABLED' || state === 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
