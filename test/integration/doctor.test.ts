import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { EnableAWSServiceAccessCommand } from '@aws-sdk/client-organizations';
import { runDoctor, type DoctorCheck } from '../../tools/backupctl/doctor';
import { BackupClient, UpdateGlobalSettingsCommand } from '@aws-sdk/client-backup';
import { localClientConfig, useLocalAwsEnvironment } from '../../tools/sandbox/local-aws';
import { BACKUP_POLICIES_DIR, loadBackupPolicies } from '../../tools/backup-policy/load';
import { subscribeQueue } from '../../tools/sandbox/provision';
import { DynamoDbOnboardingLedger } from '../../functions/shared/adapters/dynamodb-onboarding-ledger';
import { AwsPrerequisites } from '../../tools/adapters/prerequisites';
import { exampleConfig } from '../helpers/fixtures';
import { freshWorld } from './harness';

/**
 * backupctl doctor's reads against moto: the adapter asks the real APIs (Organizations, SES,
 * SNS, SQS, CloudTrail, EventBridge, AWS Backup's global settings from the project's moto
 * launcher) and the checks judge what moto answers.
 */

jest.setTimeout(120_000);

const byId = (checks: DoctorCheck[]) => new Map(checks.map((c) => [c.id, c]));

it('checks the sandbox organization and stack, and finds what is broken there', async () => {
  const world = await freshWorld(exampleConfig());
  useLocalAwsEnvironment(world.aws.endpoint);
  const config = { ...world.config, organizationId: world.org.id };
  const reader = new AwsPrerequisites(world.c);
  const targets = {
    topicArns: world.stack.topicArns,
    deadLetterQueues: { NotificationDeadLetterQueueUrl: world.stack.dlqUrl },
    busName: world.stack.busName,
    ledgerTable: world.stack.tableName,
  };

  const policies = [...loadBackupPolicies(BACKUP_POLICIES_DIR).values()].map((p) => p.document);
  let checks = byId(await runDoctor(config, reader, targets, policies));
  expect(checks.get('deployment-mode')!.status).toBe('pass');
  // A fresh organization: AWS Backup has no trusted access yet.
  expect(checks.get('trusted-access')!.status).toBe('fail');
  expect(checks.get('ses-identity')).toMatchObject({ status: 'pass' });
  // Nobody reads the chat topic yet: every message would reach nobody.
  expect(checks.get('topic:chat')).toMatchObject({ status: 'fail' });
  expect(checks.get('dlq:NotificationDeadLetterQueueUrl')!.status).toBe('pass');
  expect(checks.get('central-bus-policy')!.status).toBe('pass');
  expect(checks.get('organization-trail')).toMatchObject({ status: 'warn' });
  // The management account forwards nothing from eu-west-1 (a production profile region).
  expect(checks.get('management-account-regions')).toMatchObject({
    status: 'warn',
    detail: expect.stringMatching(/jobs reach nobody from eu-west-1 \(no rule/),
  });
  // The ledger read through a real Scan: nothing onboarded yet.
  expect(checks.get('accounts')).toMatchObject({
    status: 'pass',
    detail: '0 ready, 0 failed, 0 skipped, 0 departed, 0 closing',
  });
  // The example's production policy copies to a central account; cross-account backup is off.
  expect(checks.get('backup-global-settings')).toMatchObject({
    status: 'fail',
    fix: expect.stringMatching(/isCrossAccountBackupEnabled=true/),
  });

  // Fix three, break one.
  await world.c.organizations.send(
    new EnableAWSServiceAccessCommand({ ServicePrincipal: 'backup.amazonaws.com' }),
  );
  await new BackupClient(localClientConfig(world.aws.endpoint, 'us-east-1')).send(
    new UpdateGlobalSettingsCommand({ GlobalSettings: { isCrossAccountBackupEnabled: 'true' } }),
  );
  await subscribeQueue(world.c, world.stack.topicArns.chat!, 'doctor-chat-reader');
  await world.c.sqs.send(
    new SendMessageCommand({ QueueUrl: world.stack.dlqUrl, MessageBody: '{"poison":true}' }),
  );
  checks = byId(await runDoctor(config, reader, targets, policies));
  expect(checks.get('trusted-access')!.status).toBe('pass');
  expect(checks.get('backup-global-settings')!.status).toBe('pass');
  expect(checks.get('topic:chat')).toMatchObject({
    status: 'pass',
    detail: '1 subscriber(s): sqs',
  });
  expect(checks.get('dlq:NotificationDeadLetterQueueUrl')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/^1 message\(s\) in /),
  });

  // A failed onboarding in the ledger (read back through the real Scan) fails the check.
  await new DynamoDbOnboardingLedger(world.c.dynamodb, world.stack.tableName).save({
    accountId: '210987654321',
    status: 'failed',
    steps: {},
    attempts: 3,
    updatedAt: new Date().toISOString(),
    attachedPolicies: [],
    lastError: { step: 'access', message: 'AccessDenied', at: new Date().toISOString() },
  });
  checks = byId(await runDoctor(config, reader, targets, policies));
  expect(checks.get('accounts')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/Onboarding failed: 210987654321 at access: AccessDenied/),
  });

  // The bus of another organization's policy is not this organization's.
  checks = byId(await runDoctor({ ...config, organizationId: 'o-someoneelse' }, reader, targets));
  expect(checks.get('central-bus-policy')!.status).toBe('fail');
});
