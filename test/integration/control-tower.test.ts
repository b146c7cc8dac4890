import {
  DisableRuleCommand,
  EventBridgeClient,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import { localClientConfig, useLocalAwsEnvironment } from '../../tools/sandbox/local-aws';
import { addOnboarding, drainOnboarding, newMemberAccount } from '../../tools/sandbox/world';
import { buildOnboardingDeps } from '../../functions/onboard-account/handler';
import { controlTowerForwardingSpec } from '../../functions/reconcile/region-forwarding';
import { EventBridgeRuleForwarding } from '../../functions/shared/adapters/eventbridge-rule-forwarding';
import { exampleConfig, sample } from '../helpers/fixtures';
import { freshWorld } from './harness';

/**
 * Control Tower in eu-west-1 on moto: the reconcile sweep's rule there forwards the lifecycle
 * event to us-east-1's default bus, where the account-events rule sends it to onboarding.
 */

jest.setTimeout(120_000);

it('a CreateManagedAccount event in the home region reaches onboarding through the forwarding rule', async () => {
  const config = exampleConfig();
  config.controlTower = { homeRegion: 'eu-west-1' };
  const world = await addOnboarding(await freshWorld(config));
  useLocalAwsEnvironment(world.aws.endpoint);
  const account = world.org.managementAccountId;
  const spec = controlTowerForwardingSpec(
    `arn:aws:events:eu-west-1:${account}:rule/backup-control-plane-itest-control-tower-events`,
    `arn:aws:iam::${account}:role/backup-control-plane-itest-control-tower-forwarder`,
  );
  const rules = new EventBridgeRuleForwarding();
  expect(await rules.ensure(spec)).toEqual([
    'rule backup-control-plane-itest-control-tower-events does not exist in eu-west-1',
  ]);
  expect(await rules.ensure(spec)).toEqual([]);

  const id = await newMemberAccount(world, { name: 'Vended', email: 'aws-vended@example.com' });
  const event = JSON.parse(
    JSON.stringify(sample('controltower/create-managed-account.succeeded'))
      .split('623904518762')
      .join(id),
  ) as Record<string, unknown>;
  const home = new EventBridgeClient(localClientConfig(world.aws.endpoint, 'eu-west-1'));
  await home.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: event.source as string,
          DetailType: event['detail-type'] as string,
          Detail: JSON.stringify(event.detail),
        },
      ],
    }),
  );
  expect(await drainOnboarding(world)).toMatchObject({ received: 1 });
  expect(await buildOnboardingDeps(world.env).ledger.get(id)).toMatchObject({
    lastTrigger: 'CreateManagedAccount',
  });

  // Disabled by hand: the next sweep puts it back.
  await home.send(new DisableRuleCommand({ Name: spec.name }));
  expect(await rules.ensure(spec)).toEqual([
    'rule backup-control-plane-itest-control-tower-events is DISABLED in eu-west-1',
  ]);
});
