import {
  CONTROL_TOWER_LIFECYCLE_PATTERN,
  controlTowerForwardingSpec,
} from '../../functions/reconcile/control-tower';
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
