import {
  CONTROL_TOWER_LIFECYCLE_PATTERN,
  controlTowerForwardingSpec,
  managementForwardingRegions,
  managementForwardingSpecs,
  managementRuleName,
} from '../../functions/reconcile/region-forwarding';
import {
  forwardingDifferences,
  type ForwardingRuleState,
} from '../../functions/shared/adapters/eventbridge-rule-forwarding';
import { parseOnboardingEvent } from '../../functions/onboard-account/triggers';
import { sample } from '../helpers/fixtures';

/** Control Tower's home region: the rule there, as declared, and what differs from it. */

const RULE =
  'arn:aws:events:eu-west-1:111122223333:rule/backup-control-plane-prod-control-tower-events';
const ROLE = 'arn:aws:iam::111122223333:role/backup-control-plane-prod-control-tower-forwarder';

describe('controlTowerForwardingSpec', () => {
  it('forwards from the home region to us-east-1’s default bus of the same account', () => {
    expect(controlTowerForwardingSpec(RULE, ROLE)).toMatchObject({
      region: 'eu-west-1',
      name: 'backup-control-plane-prod-control-tower-events',
      targetArn: 'arn:aws:events:us-east-1:111122223333:event-bus/default',
      roleArn: ROLE,
    });
    expect(
      controlTowerForwardingSpec('arn:aws-us-gov:events:us-gov-east-1:111122223333:rule/r', ROLE)
        .targetArn,
    ).toBe('arn:aws-us-gov:events:us-gov-west-1:111122223333:event-bus/default');
  });

  it('names the variable when the ARN is not a rule’s', () => {
    expect(() => controlTowerForwardingSpec('eu-west-1', ROLE)).toThrow(
      /CONTROL_TOWER_FORWARDING_RULE_ARN must be an EventBridge rule ARN/,
    );
  });

  it('matches exactly the lifecycle events onboarding starts from', () => {
    for (const name of [
      'controltower/create-managed-account.succeeded',
      'controltower/update-managed-account.request-parameters-none',
    ]) {
      const event = sample(name) as {
        source: string;
        'detail-type': string;
        detail: { eventName: string };
      };
      expect(CONTROL_TOWER_LIFECYCLE_PATTERN.source).toContain(event.source);
      expect(CONTROL_TOWER_LIFECYCLE_PATTERN['detail-type']).toContain(event['detail-type']);
      expect(CONTROL_TOWER_LIFECYCLE_PATTERN.detail.eventName).toContain(event.detail.eventName);
      expect(parseOnboardingEvent(event).flow).toBe('onboard');
    }
  });
});

describe('forwardingDifferences', () => {
  const spec = controlTowerForwardingSpec(RULE, ROLE);
  const asDeclared: ForwardingRuleState = {
    exists: true,
    state: 'ENABLED',
    pattern: JSON.parse(JSON.stringify(CONTROL_TOWER_LIFECYCLE_PATTERN)) as unknown,
    targets: [{ arn: spec.targetArn, roleArn: ROLE }],
  };

  it('finds nothing in the rule as declared', () => {
    expect(forwardingDifferences(spec, asDeclared)).toEqual([]);
  });

  it.each<[string, Partial<ForwardingRuleState>, RegExp]>([
    ['missing', { exists: false, targets: [] }, /does not exist in eu-west-1/],
    ['disabled', { state: 'DISABLED' }, /is DISABLED in eu-west-1/],
    ['another pattern', { pattern: { source: ['aws.controltower'] } }, /another event pattern/],
    [
      'another target',
      { targets: [{ arn: 'arn:aws:sqs:eu-west-1:111122223333:q' }] },
      /does not target/,
    ],
    ['the target without the role', { targets: [{ arn: spec.targetArn }] }, /does not target/],
  ])('names a rule %s', (_what, change, message) => {
    expect(forwardingDifferences(spec, { ...asDeclared, ...change })).toEqual([
      expect.stringMatching(message),
    ]);
  });
});

describe('the management account’s backup regions', () => {
  const profiles = (regions: string[][]) =>
    regions.map((r, i) => ({ name: `p${i}`, regions: r })) as never;
  const config = (
    backupRegions?: string[],
    onboardManagementAccount = false,
  ): Parameters<typeof managementForwardingRegions>[0] =>
    ({
      managementAccount: backupRegions ? { backupRegions } : {},
      onboarding: {
        onboardManagementAccount,
        profiles: profiles([
          ['us-east-1', 'eu-west-1'],
          ['eu-central-1', 'eu-west-1'],
        ]),
      },
    }) as never;

  it('defaults to every region of the profiles but the stack’s', () => {
    expect(managementForwardingRegions(config(), 'us-east-1')).toEqual([
      'eu-central-1',
      'eu-west-1',
    ]);
  });

  it('takes the regions named, and none when the management account is onboarded', () => {
    expect(managementForwardingRegions(config(['ap-southeast-2']), 'us-east-1')).toEqual([
      'ap-southeast-2',
    ]);
    expect(managementForwardingRegions(config(undefined, true), 'us-east-1')).toEqual([]);
    // Named explicitly, they are forwarded even so.
    expect(managementForwardingRegions(config(['eu-west-1'], true), 'us-east-1')).toEqual([
      'eu-west-1',
    ]);
  });

  it('forwards with the members’ pattern to the stack region’s default bus, one rule per region', () => {
    const pattern = { source: ['aws.backup'] };
    const specs = managementForwardingSpecs(
      'arn:aws:events:*:111122223333:rule/backup-control-plane-prod-management-backup-events',
      ROLE,
      pattern,
      ['eu-west-1', 'eu-central-1'],
    );
    expect(specs.map((s) => s.region)).toEqual(['eu-west-1', 'eu-central-1']);
    expect(specs[0]).toMatchObject({
      name: 'backup-control-plane-prod-management-backup-events',
      pattern,
      targetArn: 'arn:aws:events:us-east-1:111122223333:event-bus/default',
    });
    expect(managementRuleName('backup-control-plane-prod')).toBe(
      'backup-control-plane-prod-management-backup-events',
    );
  });

  it('names the variable when the ARN is not one rule for every region', () => {
    expect(() =>
      managementForwardingSpecs('arn:aws:events:eu-west-1:111122223333:rule/r', ROLE, {}, []),
    ).toThrow(/MANAGEMENT_FORWARDING_RULE_ARN must be an EventBridge rule ARN with the region \*/);
  });
});
