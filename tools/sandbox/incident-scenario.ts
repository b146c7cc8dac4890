import { OrganizationsAdmin } from '../../functions/shared/adapters/organizations-admin';
import { SesEmailSender } from '../../functions/shared/adapters/ses-email-sender';
import { SnsTopicPublisher } from '../../functions/shared/adapters/sns-topic-publisher';
import { parseConfig } from '../../functions/shared/config/schema';
import { runStorm, type StormResult } from './storm';
import type { World } from './world';

/**
 * The sandbox's incident story: one broken role fails 40 DynamoDB backups across the member
 * accounts within 4 minutes. With aggregation on, admins (and the DBAs) get the first alert at
 * once, one summary naming the other 39 when the window ends, and, after the next backups
 * succeed, one "[RECOVERED]". Real SES, SNS and DynamoDB (moto); simulated time for the window.
 */

export const BURST = 40;

export interface IncidentOutcome {
  storm: StormResult;
  problems: string[];
}

export async function playIncident(
  world: World,
  progress: (line: string) => void,
): Promise<IncidentOutcome> {
  const raw = structuredClone(world.config) as unknown as {
    notifications: Record<string, unknown>;
  };
  raw.notifications.aggregation = { enabled: true, windowMinutes: 5, scope: 'organization' };
  const config = parseConfig(raw, 'the sandbox configuration with aggregation on');
  progress(
    `      ${BURST} backups fail with AccessDenied across ${world.org.accounts.length} accounts in 4 minutes; then they succeed again`,
  );
  const storm = await runStorm({
    dynamodb: world.c.dynamodb,
    table: world.stack.tableName,
    config,
    failures: BURST,
    accounts: world.org.accounts.map((a) => a.id),
    directory: new OrganizationsAdmin(world.c.organizations),
    email: new SesEmailSender(world.c.ses),
    sns: new SnsTopicPublisher(world.c.sns),
    topicArn: (topic) => world.stack.topicArns[topic]!,
    spreadMs: 4 * 60_000,
    recover: true,
    resourcePrefix: 'payments',
  });
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => ok || problems.push(problem);
  expect(
    storm.emailsByList.admins === 2,
    `incident: ${storm.emailsByList.admins ?? 0} emails to admins, expected 2 (the first alert and one summary)`,
  );
  expect(storm.chatMessages === 2, `incident: ${storm.chatMessages} chat messages, expected 2`);
  expect(
    storm.missing.length === 0,
    `incident: jobs not named in any email: ${storm.missing.join(', ')}`,
  );
  expect(
    storm.recoveredNotices === 1,
    `incident: ${storm.recoveredNotices} recovered notices, expected 1`,
  );
  return { storm, problems };
}
