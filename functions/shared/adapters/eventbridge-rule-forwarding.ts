import { isEnabledRuleState } from '../patterns';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';
import { CLIENT_DEFAULTS } from './clients';

/**
 * One EventBridge rule of the control plane's own account in another region that forwards to a
 * bus (Control Tower's home region → us-east-1's default bus, where the account-events rule
 * listens). Read as it is, and put back as declared when it differs.
 */

export interface ForwardingRuleSpec {
  region: string;
  name: string;
  description: string;
  pattern: Record<string, unknown>;
  targetArn: string;
  roleArn: string;
}

export interface ForwardingRuleState {
  exists: boolean;
  state?: string;
  pattern?: unknown;
  targets: { arn: string; roleArn?: string }[];
}

/** What differs between the rule as it is and as declared (empty: as declared). */
export function forwardingDifferences(
  spec: ForwardingRuleSpec,
  found: ForwardingRuleState,
): string[] {
  if (!found.exists) return [`rule ${spec.name} does not exist in ${spec.region}`];
  const out: string[] = [];
  if (!isEnabledRuleState(found.state)) {
    out.push(`rule ${spec.name} is ${found.state ?? 'in no state'} in ${spec.region}`);
  }
  if (JSON.stringify(found.pattern) !== JSON.stringify(spec.pattern)) {
    out.push(`rule ${spec.name} has another event pattern in ${spec.region}`);
  }
  if (!found.targets.some((t) => t.arn === spec.targetArn && t.roleArn === spec.roleArn)) {
    out.push(`rule ${spec.name} does not target ${spec.targetArn} in ${spec.region}`);
  }
  return out;
}

export class EventBridgeRuleForwarding {
  private readonly clients = new Map<string, EventBridgeClient>();

  private client(region: string): EventBridgeClient {
    let c = this.clients.get(region);
    if (!c) {
      c = new EventBridgeClient({ ...CLIENT_DEFAULTS, region });
      this.clients.set(region, c);
    }
    return c;
  }

  async inspect(spec: Pick<ForwardingRuleSpec, 'region' | 'name'>): Promise<ForwardingRuleState> {
    const events = this.client(spec.region);
    let rule;
    try {
      rule = await events.send(new DescribeRuleCommand({ Name: spec.name }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return { exists: false, targets: [] };
      throw error;
    }
    const targets = await events.send(new ListTargetsByRuleCommand({ Rule: spec.name }));
    let pattern: unknown;
    try {
      pattern = rule.EventPattern ? (JSON.parse(rule.EventPattern) as unknown) : undefined;
    } catch {
      pattern = rule.EventPattern;
    }
    return {
      exists: true,
      ...(rule.State ? { state: rule.State } : {}),
      pattern,
      targets: (targets.Targets ?? []).map((t) => ({
        arn: t.Arn ?? '',
        ...(t.RoleArn ? { roleArn: t.RoleArn } : {}),
      })),
    };
  }

  /** Creates or corrects the rule; returns what was wrong (empty: it was as declared). */
  async ensure(spec: ForwardingRuleSpec): Promise<string[]> {
    const differences = forwardingDifferences(spec, await this.inspect(spec));
    if (!differences.length) return [];
    const events = this.client(spec.region);
    await events.send(
      new PutRuleCommand({
        Name: spec.name,
        Description: spec.description,
        EventPattern: JSON.stringify(spec.pattern),
        State: 'ENABLED',
      }),
    );
    const out = await events.send(
      new PutTargetsCommand({
        Rule: spec.name,
        Targets: [{ Id: 'control-plane', Arn: spec.targetArn, RoleArn: spec.roleArn }],
      }),
    );
    if (out.FailedEntryCount) {
      throw new Error(
        `PutTargets on rule ${spec.name} in ${spec.region} failed: ${out.FailedEntries?.map((e) => e.ErrorMessage).join('; ')}`,
      );
    }
    return differences;
  }
}
