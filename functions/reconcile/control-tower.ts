import type { ForwardingRuleSpec } from '../shared/adapters/eventbridge-rule-forwarding';
import { ConfigError } from '../shared/errors';

/**
 * Control Tower sends its lifecycle events in its home region. When that is not us-east-1, a
 * rule there forwards them to us-east-1's default bus, where the account-events rule listens;
 * the sweep creates it and puts it back as declared every day.
 */

/** What the forwarding rule matches: the lifecycle events onboarding starts from. */
export const CONTROL_TOWER_LIFECYCLE_PATTERN = {
  source: ['aws.controltower'],
  'detail-type': ['AWS Service Event via CloudTrail'],
  detail: { eventName: ['CreateManagedAccount', 'UpdateManagedAccount'] },
};

const RULE_ARN = /^arn:(aws[a-z-]*):events:([a-z0-9-]+):(\d{12}):rule\/([\w.-]{1,64})$/;

/** The rule from its ARN (CONTROL_TOWER_FORWARDING_RULE_ARN); it targets us-east-1's default bus. */
export function controlTowerForwardingSpec(ruleArn: string, roleArn: string): ForwardingRuleSpec {
  const m = RULE_ARN.exec(ruleArn);
  if (!m) {
    throw new ConfigError(
      `CONTROL_TOWER_FORWARDING_RULE_ARN must be an EventBridge rule ARN, got "${ruleArn}"`,
    );
  }
  const [, partition, region, account, name] = m;
  // Where Organizations delivers its events in each partition.
  const eventsRegion =
    partition === 'aws-us-gov'
      ? 'us-gov-west-1'
      : partition === 'aws-cn'
        ? 'cn-northwest-1'
        : 'us-east-1';
  return {
    region: region!,
    name: name!,
    description: 'Control Tower lifecycle events to the backup control plane (us-east-1)',
    pattern: CONTROL_TOWER_LIFECYCLE_PATTERN,
    targetArn: `arn:${partition}:events:${eventsRegion}:${account}:event-bus/default`,
    roleArn,
  };
}
