import { isEnabledRuleState } from '../../shared/patterns';
import type { PolicyDocument } from '../../shared/ports';
import { partitionFacts, partitionOfArn } from '../../shared/partition';
import { forwardingRules, samePolicy, type Baseline, type ForwardingRule } from '../baseline';
import type { Act } from './change';

/**
 * Baseline resource: the EventBridge rules that forward the account's AWS Backup events and the
 * watched CloudTrail calls to the central bus, in one region.
 */

export interface RuleTarget {
  id: string;
  arn: string;
  roleArn?: string;
}

/** The port: EventBridge in one region of the member account. */
export interface MemberEvents {
  describeRule(
    name: string,
  ): Promise<
    { arn: string; state: string; pattern: PolicyDocument; description?: string } | undefined
  >;
  putRule(name: string, pattern: PolicyDocument, description: string): Promise<{ arn: string }>;
  targets(ruleName: string): Promise<RuleTarget[]>;
  putTarget(ruleName: string, target: RuleTarget): Promise<void>;
}

type EventsAccess = { accountId: string; events(region: string): MemberEvents };

/** Where CloudTrail delivers global services' calls to EventBridge, by the bus's partition. */
export const globalEventsRegion = (busArn: string): string =>
  partitionFacts(partitionOfArn(busArn)).globalServicesRegion;

/** Every forwarding rule in one region: enabled, with its pattern, targeting the central bus. */
export async function ensureForwarding(
  member: EventsAccess,
  region: string,
  changes: string[],
  act: Act,
  baseline: Baseline,
  centralBusArn: string,
  roleArn: string,
): Promise<void> {
  for (const f of forwardingRules(baseline)) {
    await ensureForwardingRule(member, region, changes, act, f, baseline.forwarding.targetId, {
      centralBusArn,
      roleArn,
    });
  }
}

async function ensureForwardingRule(
  member: EventsAccess,
  region: string,
  changes: string[],
  act: Act,
  f: ForwardingRule,
  targetId: string,
  bus: { centralBusArn: string; roleArn: string },
): Promise<void> {
  const events = member.events(region);
  const rule = await events.describeRule(f.name);
  if (!rule) {
    await act(
      changes,
      `create rule ${f.name} in ${region}`,
      () => events.putRule(f.name, f.pattern, f.description),
      {
        what: `forwarding rule ${f.name} is missing in ${region}`,
        resource: f.name,
        region,
      },
    );
  } else if (!isEnabledRuleState(rule.state) || !samePolicy(rule.pattern, f.pattern)) {
    const disabled = !isEnabledRuleState(rule.state);
    await act(
      changes,
      `${disabled ? 'enable' : 'update the pattern of'} rule ${f.name} in ${region}`,
      () => events.putRule(f.name, f.pattern, f.description),
      {
        what: disabled
          ? `forwarding rule ${f.name} is ${rule.state} in ${region}`
          : `forwarding rule ${f.name} in ${region} has another event pattern`,
        resource: f.name,
        region,
      },
    );
  }
  const targets = rule ? await events.targets(f.name) : [];
  const target = targets.find((t) => t.id === targetId);
  const { centralBusArn, roleArn } = bus;
  // A bus in the same account and region needs no role; any other bus does.
  const sameAccountRegion = centralBusArn.includes(`:${region}:${member.accountId}:`);
  const want = { id: targetId, arn: centralBusArn, ...(sameAccountRegion ? {} : { roleArn }) };
  if (!target || target.arn !== want.arn || (target.roleArn ?? undefined) !== want.roleArn) {
    await act(
      changes,
      `point rule ${f.name} in ${region} at the central bus`,
      () => events.putTarget(f.name, want),
      {
        what: !rule
          ? `forwarding rule ${f.name} is missing in ${region}`
          : target
            ? `forwarding rule ${f.name} in ${region} targets ${target.arn}${target.roleArn !== want.roleArn ? ' with another role' : ''}, not the central bus`
            : `forwarding rule ${f.name} in ${region} has no target on the central bus`,
        resource: f.name,
        region,
      },
    );
  }
}

/** Backup-ready: every forwarding rule in the region is enabled and targets the central bus. */
export async function verifyForwarding(
  events: MemberEvents,
  region: string,
  baseline: Baseline,
  centralBusArn: string,
): Promise<string[]> {
  const problems: string[] = [];
  for (const f of forwardingRules(baseline)) {
    const rule = await events.describeRule(f.name);
    if (!rule || !isEnabledRuleState(rule.state)) {
      problems.push(`rule ${f.name} is ${rule ? 'disabled' : 'missing'} in ${region}`);
    } else if (!(await events.targets(f.name)).some((t) => t.arn === centralBusArn)) {
      problems.push(`rule ${f.name} in ${region} does not target the central bus`);
    }
  }
  return problems;
}
