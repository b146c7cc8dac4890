import { runDoctor } from '../../tools/backupctl/doctor';
import { useLocalAwsEnvironment } from '../../tools/sandbox/local-aws';
import {
  addOnboarding,
  drainNotifications,
  emitEvent,
  type EventToPut,
} from '../../tools/sandbox/world';
import { buildReconcileDeps } from '../../functions/reconcile/handler';
import { AwsPrerequisites } from '../../tools/adapters/prerequisites';
import { exampleConfig, sample } from '../helpers/fixtures';
import { freshWorld } from './harness';

/**
 * The management account's own backup jobs outside us-east-1, on moto: nothing carries them until
 * the reconcile sweep's rule in that region forwards them to us-east-1's default bus, where the
 * stack's rule sends them to the notification queue like its own region's.
 */

jest.setTimeout(120_000);

it('a failed backup job of the management account in eu-west-1 reaches admins through the rule there', async () => {
  // example.yml's production profile backs up in eu-west-1 too.
  const world = await addOnboarding(await freshWorld(exampleConfig()));
  useLocalAwsEnvironment(world.aws.endpoint);
  const failed = sample('backup/backup-job-state-change.failed') as unknown as EventToPut;
  const emails = async () => (await world.aws.data()).ses?.Message ?? [];

  // Negative control: without the rule the job reaches nobody.
  await emitEvent(world, { account: 'management', region: 'eu-west-1' }, failed);
  await drainNotifications(world);
  expect(await emails()).toEqual([]);

  const forwarding = buildReconcileDeps(world.env).regionForwarding!;
  expect(await forwarding()).toEqual([
    'rule backup-control-plane-itest-management-backup-events does not exist in eu-west-1',
  ]);
  expect(await forwarding()).toEqual([]);

  const put = await emitEvent(world, { account: 'management', region: 'eu-west-1' }, failed);
  await drainNotifications(world);
  const subjects = (await emails()).map((e) => e.subject);
  expect(subjects.length).toBeGreaterThan(0);
  for (const subject of subjects) {
    expect(subject).toMatch(
      new RegExp(
        `^\\[FAILED\\] Backup job · customer-profiles · .* \\(${put.accountId}\\) · eu-west-1$`,
      ),
    );
  }

  // doctor sees the region covered, reading the rule back from EventBridge.
  const checks = await runDoctor(
    { ...world.config, organizationId: world.org.id },
    new AwsPrerequisites(world.c),
    {
      topicArns: {},
      deadLetterQueues: {},
      managementRuleArn: world.env.MANAGEMENT_FORWARDING_RULE_ARN!,
      forwarderRoleArn: world.env.REGION_FORWARDER_ROLE_ARN!,
    },
  );
  expect(checks.find((c) => c.id === 'management-account-regions')).toMatchObject({
    status: 'pass',
    detail:
      "the management account's backup jobs reach the control plane from us-east-1, eu-west-1",
  });
});
