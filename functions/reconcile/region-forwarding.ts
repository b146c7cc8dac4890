import type { ForwardingRuleSpec } from '../shared/adapters/eventbridge-rule-forwarding';
import type { Config } from '../shared/config/schema';
import { ConfigError } from '../shared/errors';
import { partitionFacts, partitionOfArn } from '../shared/partition';

/**
 * Rules of the control plane's own account in other regions, forwarding to the default bus of
 * the stack's region (us-east-1; us-gov-west-1 or cn-northwest-1 in the other partitions), where
 * the stack's rules listen. The reconcile sweep creates them and puts them back as declared every
 * day; infra/stage-config.js declares their names, the role they use and the sweep's rights.
 *
 * - Control Tower sends its lifecycle events in its home region: when that is not the stack's,
 *   one rule there forwards them, so a vended account is onboarded at once, not by the sweep.
 * - The management account's own backup jobs: only the stack's region has a rule for them; one
 *   rule in each other region where the organization backs up forwards them too.
 */

/** What the Control Tower rule matches: the lifecycle events onboarding starts from. */
export const CONTROL_TOWER_LIFECYCLE_PATTERN = {
  source: ['aws.controltower'],
  'detail-type': ['AWS Service Event via CloudTrail'],
  detail: { eventName: ['CreateManagedAccount', 'UpdateManagedAccount'] },
};

/** The rules' names, from the stack's prefix (`<service>-<stage>`). */
export const controlTowerRuleName = (prefix: string) => `${prefix}-control-tower-events`;
export const managementRuleName = (prefix: string) => `${prefix}-management-backup-events`;

const RULE_ARN = /^arn:(aws[a-z-]*):events:([a-z0-9-]+):(\d{12}):rule\/([\w.-]{1,64})$/;

function forwardingSpec(
  variable: string,
  ruleArn: string,
  roleArn: string,
  what: string,
  pattern: Record<string, unknown>,
): ForwardingRuleSpec {
  const m = RULE_ARN.exec(ruleArn);
  if (!m) {
    throw new ConfigError(`${variable} must be an EventBridge rule ARN, got "${ruleArn}"`);
  }
  const [, partition, region, account, name] = m;
  // The stack's region: where Organizations delivers its events in the rule's partition.
  const stackRegion = partitionFacts(partitionOfArn(ruleArn)).organizationsRegion;
  return {
    region: region!,
    name: name!,
    description: `${what} to the backup control plane (${stackRegion})`,
    pattern,
    targetArn: `arn:${partition}:events:${stackRegion}:${account}:event-bus/default`,
    roleArn,
  };
}

/** The rule from its ARN (CONTROL_TOWER_FORWARDING_RULE_ARN). */
export const controlTowerForwardingSpec = (ruleArn: string, roleArn: string): ForwardingRuleSpec =>
  forwardingSpec(
    'CONTROL_TOWER_FORWARDING_RULE_ARN',
    ruleArn,
    roleArn,
    'Control Tower lifecycle events',
    CONTROL_TOWER_LIFECYCLE_PATTERN,
  );

/**
 * The management account's own backup events, with the pattern every member's forwarding rule
 * has (baseline.json), so the stack's default-bus rule takes them as it takes its own region's:
 * one rule per region, from MANAGEMENT_FORWARDING_RULE_ARN (its region `*`: one value whatever
 * the number of regions, which the functions' 4 KB environment could not hold otherwise).
 */
export const managementForwardingSpecs = (
  ruleArn: string,
  roleArn: string,
  pattern: Record<string, unknown>,
  regions: readonly string[],
): ForwardingRuleSpec[] => {
  const parts = ruleArn.split(':');
  if (parts[3] !== '*') {
    throw new ConfigError(
      `MANAGEMENT_FORWARDING_RULE_ARN must be an EventBridge rule ARN with the region *, got "${ruleArn}"`,
    );
  }
  return regions.map((region) =>
    forwardingSpec(
      'MANAGEMENT_FORWARDING_RULE_ARN',
      [...parts.slice(0, 3), region, ...parts.slice(4)].join(':'),
      roleArn,
      "The management account's backup events",
      pattern,
    ),
  );
};

/**
 * Where the management account's own backup events are forwarded from: the regions named in
 * `managementAccount.backupRegions`, else every region of the onboarding profiles; never the
 * stack's region (its own rule is there). None when the management account is onboarded: its
 * baseline then forwards every region of its profile, as a member's does.
 */
export function managementForwardingRegions(
  config: Pick<Config, 'managementAccount' | 'onboarding'>,
  stackRegion: string,
): string[] {
  const named = config.managementAccount.backupRegions;
  if (!named && config.onboarding?.onboardManagementAccount) return [];
  const regions = named ?? (config.onboarding?.profiles ?? []).flatMap((p) => p.regions);
  return [...new Set(regions)].filter((r) => r !== stackRegion).sort();
}

/** The stack's region, from the partition of one of its ARNs. */
export const stackRegionOf = (arn: string): string =>
  partitionFacts(partitionOfArn(arn)).organizationsRegion;
