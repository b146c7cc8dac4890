import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packagedTemplate, type Template } from '../helpers/package-template';
import { ROOT } from '../helpers/fixtures';

/**
 * The chat channels and subscribers of infra/config/example.yml, as `osls package` renders them:
 * one Amazon Q Developer configuration per channel with its own role, AWSDenyAll guardrails and
 * its logging level; a filtered channel reading its own topic; the delivery policy allowing the
 * function to publish there. (Integration project: it reads the packaged template.)
 */

type Resource = Template['Resources'][string];

const example = parseYaml(readFileSync(join(ROOT, 'infra/config/example.yml'), 'utf8')) as {
  notifications: { topics: { chat: { slack: { name: string }[]; teams: { name: string }[] } } };
};

function ofType(t: Template, type: string): [string, Resource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

describe('chat channels in the packaged template', () => {
  const t = packagedTemplate();

  it('makes one Slack and one Teams configuration, as the example configures', () => {
    const slack = ofType(t, 'AWS::Chatbot::SlackChannelConfiguration');
    const teams = ofType(t, 'AWS::Chatbot::MicrosoftTeamsChannelConfiguration');
    expect(slack).toHaveLength(example.notifications.topics.chat.slack.length);
    expect(teams).toHaveLength(example.notifications.topics.chat.teams.length);
    const [, s] = slack[0]!;
    expect(s.Properties).toMatchObject({
      ConfigurationName: 'backup-control-plane-dev-chat-backup-alerts',
      SlackWorkspaceId: 'T0123ABCDEF',
      SlackChannelId: 'C0123ABCDEF',
      GuardrailPolicies: ['arn:aws:iam::aws:policy/AWSDenyAll'],
      LoggingLevel: 'ERROR',
      UserRoleRequired: false,
    });
    const [, m] = teams[0]!;
    // Amazon Q Developer takes the Teams channel id URL-encoded.
    expect(m.Properties!.TeamsChannelId).toBe(
      '19%3a0a1b2c3d4e5f60718293a4b5c6d7e8f9%40thread.tacv2',
    );
    expect(m.Properties!.GuardrailPolicies).toEqual(['arn:aws:iam::aws:policy/AWSDenyAll']);
  });

  it('gives each channel a role of its own that only Amazon Q Developer of this account assumes, with no permissions', () => {
    const channels = [
      ...ofType(t, 'AWS::Chatbot::SlackChannelConfiguration'),
      ...ofType(t, 'AWS::Chatbot::MicrosoftTeamsChannelConfiguration'),
    ];
    const roles = channels.map(
      ([, c]) => (c.Properties!.IamRoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!,
    );
    expect(new Set(roles).size).toBe(channels.length);
    for (const id of roles) {
      const role = t.Resources[id]!;
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(role.Properties!.Policies).toBeUndefined();
      expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
      const trust = role.Properties!.AssumeRolePolicyDocument as {
        Statement: { Principal: unknown; Condition: unknown }[];
      };
      expect(trust.Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: 'chatbot.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        }),
      ]);
    }
  });

  it('lets a filtered channel read a topic of its own, encrypted, that the function may publish to', () => {
    const [, slack] = ofType(t, 'AWS::Chatbot::SlackChannelConfiguration')[0]!;
    expect(slack.Properties!.SnsTopicArns).toEqual([{ Ref: 'ChatBackupAlertsChannelTopic' }]);
    const topic = t.Resources.ChatBackupAlertsChannelTopic!;
    expect(topic.Properties).toEqual({
      TopicName: 'backup-control-plane-dev-chat-backup-alerts',
      KmsMasterKeyId: { Ref: 'TopicKey' },
    });
    expect(t.Resources.ChatBackupAlertsChannelTopicPolicy?.Type).toBe('AWS::SNS::TopicPolicy');
    const publish = JSON.stringify(t.Resources).match(/"PublishToConfiguredTopics"[^\]]*\]/)?.[0];
    expect(publish).toContain('ChatBackupAlertsChannelTopic');
    expect(publish).toContain('ChatProductionBackupsChannelTopic');
    // TOPIC_ARNS names it as the pipeline does: <topic>/<channel>.
    expect(JSON.stringify(t.Resources)).toContain(
      '\\"chat/backup-alerts\\":\\"${ChatBackupAlertsChannelTopic}\\"',
    );
  });

  it("sends the stack's alarms to the chat topic and to the channel that takes errors, not to the one-OU channel", () => {
    const alarms = ofType(t, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties!.AlarmActions).toEqual([
        { Ref: 'ChatTopic' },
        { Ref: 'ChatBackupAlertsChannelTopic' },
      ]);
    }
  });
});
