'use strict';

/**
 * The readers of the notification topics, as resources: Amazon Q Developer channel
 * configurations for Slack and Microsoft Teams (each with its own role, its guardrails and its
 * logging level), the own topic of each channel with a filter, and the email, HTTPS, SQS and
 * Lambda subscriptions with their filter policies. stage-config.js calls it; the names and the
 * filter rules come from functions/shared/notices/subscriptions.ts so the pipeline, `plan` and
 * the template agree.
 */

/** CloudFormation takes at most 128 characters, letters, digits, "-" and "_". */
const CONFIGURATION_NAME_MAX = 128;

const ref = (logicalId) => ({ Ref: logicalId });
const getAtt = (logicalId, attribute) => ({ 'Fn::GetAtt': [logicalId, attribute] });

/** "security-alerts" → "SecurityAlerts": topic and channel names become parts of logical ids. */
function pascal(name) {
  return name
    .split('-')
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/**
 * The own topics of the filtered channels, in the shape of stage-config's topics (created by the
 * stack, encrypted with its key, listed in TOPIC_ARNS under `<topic>/<channel>`).
 */
function channelTopics(config, prefix, sampleTopicArn, subscriptions) {
  const out = [];
  for (const [topicName, topic] of Object.entries(config.notifications.topics)) {
    for (const channel of subscriptions.filteredChannels(topic)) {
      const logicalId = `${pascal(topicName)}${pascal(channel.name)}ChannelTopic`;
      const name = `${prefix}-${topicName}-${channel.name}`;
      out.push({
        name: subscriptions.channelTopicKey(topicName, channel.name),
        logicalId,
        created: true,
        chat: true,
        topicName: name,
        arn: ref(logicalId),
        sampleArn: sampleTopicArn(name),
        channelOf: topicName,
      });
    }
  }
  return out;
}

/** A role Amazon Q Developer assumes for the channel: no permissions (notifications need none). */
function channelRole(description) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: description,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'chatbot.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
          },
        ],
      },
    },
  };
}

/**
 * Resources (and conditions) for every configured reader. `topics` is stage-config's list (main
 * topics and channel topics), used to find each one's ARN.
 */
function subscriptionResources({ config, prefix, topics, subscriptions, userError }) {
  const resources = {};
  const conditions = {};
  const arnOf = (key) => topics.find((t) => t.name === key).arn;
  // "chat" + "a-b" and "chat-a" + "b" would be the same resource: say so, never drop one.
  const seen = new Map();
  const claim = (what, where) => {
    const other = seen.get(what);
    if (other) {
      throw userError(
        `${other} and ${where} would both become ${what}; rename the channel or the topic`,
      );
    }
    seen.set(what, where);
  };
  for (const [topicName, topic] of Object.entries(config.notifications.topics)) {
    const base = pascal(topicName);
    for (const channel of subscriptions.chatChannels(topic)) {
      const settings = topic[channel.app].find((c) => c.name === channel.name);
      const id = `${base}${pascal(channel.name)}${channel.app === 'slack' ? 'Slack' : 'Teams'}`;
      const configurationName = `${prefix}-${topicName}-${channel.name}`;
      if (configurationName.length > CONFIGURATION_NAME_MAX) {
        throw userError(
          `notifications.topics.${topicName}.${channel.app}: channel "${channel.name}" would be ` +
            `configuration ${configurationName} (${configurationName.length} characters, ` +
            `Amazon Q Developer takes ${CONFIGURATION_NAME_MAX}); shorten the channel or topic name`,
        );
      }
      const where = `notifications.topics.${topicName}.${channel.app} "${channel.name}"`;
      claim(id, where);
      claim(configurationName, where);
      const via = channel.filter
        ? arnOf(subscriptions.channelTopicKey(topicName, channel.name))
        : arnOf(topicName);
      resources[`${id}Role`] = channelRole(
        `Amazon Q Developer channel ${configurationName}: notifications only`,
      );
      const common = {
        ConfigurationName: configurationName,
        IamRoleArn: getAtt(`${id}Role`, 'Arn'),
        SnsTopicArns: [via],
        GuardrailPolicies: settings.guardrailPolicies,
        LoggingLevel: settings.loggingLevel,
        UserRoleRequired: false,
      };
      resources[`${id}Channel`] =
        channel.app === 'slack'
          ? {
              Type: 'AWS::Chatbot::SlackChannelConfiguration',
              Properties: {
                ...common,
                SlackWorkspaceId: settings.workspaceId,
                SlackChannelId: settings.channelId,
              },
            }
          : {
              Type: 'AWS::Chatbot::MicrosoftTeamsChannelConfiguration',
              Properties: {
                ...common,
                TeamId: settings.teamId,
                TeamsTenantId: settings.tenantId,
                // Amazon Q Developer takes the id as "Get link to channel" gives it, URL-encoded.
                TeamsChannelId: settings.channelId.replace(/:/g, '%3a').replace(/@/g, '%40'),
              },
            };
    }
    topic.subscribers.forEach((subscriber, i) => {
      const id = `${base}Subscriber${i + 1}`;
      const protocol = subscriber.protocol;
      resources[id] = {
        Type: 'AWS::SNS::Subscription',
        Properties: {
          TopicArn: arnOf(topicName),
          Protocol: protocol,
          Endpoint: subscriber.endpoint,
          ...(subscriber.filter
            ? { FilterPolicyScope: 'MessageAttributes', FilterPolicy: subscriber.filter }
            : {}),
        },
      };
      if (protocol === 'lambda') {
        // SNS may invoke a function of this account and region; one elsewhere is allowed by
        // its owner (a permission here would name a function CloudFormation cannot reach).
        const [, , , region, account] = subscriber.endpoint.split(':');
        conditions[`${id}InThisAccount`] = {
          'Fn::And': [
            { 'Fn::Equals': [account, ref('AWS::AccountId')] },
            { 'Fn::Equals': [region, ref('AWS::Region')] },
          ],
        };
        resources[`${id}Permission`] = {
          Type: 'AWS::Lambda::Permission',
          Condition: `${id}InThisAccount`,
          Properties: {
            Action: 'lambda:InvokeFunction',
            FunctionName: subscriber.endpoint,
            Principal: 'sns.amazonaws.com',
            SourceArn: arnOf(topicName),
          },
        };
      }
    });
  }
  return { resources, conditions };
}

module.exports = { channelTopics, pascal, subscriptionResources };
