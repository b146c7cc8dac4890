'use strict';

/**
 * The stage configuration, as serverless.yml sees it.
 *
 * Reads infra/config/<stage>.yml (or the file named by `--param config=<path>` or
 * BACKUP_CONFIG_FILE), validates it with the functions' own schema (functions/shared/config/schema.ts),
 * refuses any region but the partition's Organizations region (us-east-1, us-gov-west-1,
 * cn-northwest-1), and builds the parts of the template that depend on the
 * configuration: the function's environment, the SNS topics the stack creates (with their KMS
 * key and policies), the function's delivery permissions and the alarm actions.
 *
 * serverless.yml references it once, as `custom.stageConfig: ${file(./infra/stage-config.js):resolve}`,
 * and takes the parts from there (`${self:custom.stageConfig.<part>}`): one evaluation per run,
 * and one error message when the configuration or the region is wrong.
 */

const fs = require('node:fs');
const path = require('node:path');
const { Buffer } = require('node:buffer');
const zlib = require('node:zlib');
const { channelTopics, pascal, subscriptionResources } = require('./subscription-resources');

/** Lambda refuses a function whose environment (keys and values, as JSON) exceeds 4 KB. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4 * 1024;
/** BACKUP_CONTROL_PLANE_CONFIG holds gzip'd JSON in base64 after it (functions/shared/config/runtime.ts). */
const CONFIG_GZIP_PREFIX = 'gzip+base64:';
/** Stands in for ${AWS::AccountId} when estimating the size of ARNs. */
const SAMPLE_ACCOUNT_ID = '123456789012';

const CONFIG_DIR = path.join(__dirname, 'config');
const EXAMPLE_CONFIG = path.join(CONFIG_DIR, 'example.yml');
/** The stage that may package with the example configuration (CI, first checkout). */
/** Stages that may package with the example configuration: CI, first checkout, the sandbox. */
const EXAMPLE_FALLBACK_STAGES = ['dev', 'sandbox'];

/** A message for the operator: printed by osls without a stack trace. */
function userError(message) {
  const error = new Error(message);
  error.stack = message;
  return error;
}

function relative(file) {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

function cliParam(options, name) {
  const params = [].concat(options.param || []);
  const prefix = `${name}=`;
  const found = params.find((p) => typeof p === 'string' && p.startsWith(prefix));
  return found ? found.slice(prefix.length).trim() : undefined;
}

/** Which configuration file this run uses, and why. */
function chooseConfigFile(stage, options) {
  const explicit = cliParam(options, 'config') || process.env.BACKUP_CONFIG_FILE;
  if (explicit) {
    const file = path.resolve(process.cwd(), explicit);
    const source = cliParam(options, 'config') ? '--param config' : 'BACKUP_CONFIG_FILE';
    if (!fs.existsSync(file))
      throw userError(`configuration file ${file} (from ${source}) does not exist`);
    return file;
  }
  const stageFile = path.join(CONFIG_DIR, `${stage}.yml`);
  if (fs.existsSync(stageFile)) return stageFile;
  const hint =
    `copy ${relative(EXAMPLE_CONFIG)} to ${relative(stageFile)} and edit it ` +
    '(or point --param config=<path> or BACKUP_CONFIG_FILE=<path> at a configuration file)';
  if (!EXAMPLE_FALLBACK_STAGES.includes(stage)) {
    throw userError(`no configuration for stage "${stage}": ${hint}`);
  }
  process.stderr.write(
    `\nWARNING: ${relative(stageFile)} not found; using ${relative(EXAMPLE_CONFIG)} ` +
      '(placeholder organization and addresses: fine for packaging, useless deployed). ' +
      `To deploy, ${hint}.\n\n`,
  );
  return EXAMPLE_CONFIG;
}

/**
 * Loads one of the functions' TypeScript modules: through tsx under osls; when jest itself loaded
 * this file (its tests), jest's own transform already handles TypeScript. Jest is recognised by
 * the `jest` object it gives every module it loads, never by an environment variable a child
 * process could inherit.
 */
function requireTs(relativePath) {
  if (typeof jest !== 'undefined') return require(relativePath);
  return require('tsx/cjs/api').require(relativePath, module.filename);
}

function subscriptionsModule() {
  return requireTs('../functions/shared/notices/subscriptions.ts');
}

/** Validates with functions/shared/config/schema.ts, so package time and run time agree. */
function readConfig(file) {
  const { readConfigFile } = requireTs('../tools/config-file.ts');
  try {
    return readConfigFile(file);
  } catch (error) {
    if (error && error.name === 'ConfigError') throw userError(error.message);
    throw error;
  }
}

/**
 * A real stage must not deploy the example's stand-ins (the example organization, example.com
 * recipients, the example chat ids, the example central account in the backup policies): each
 * one left is named with its file and key. `dev` and `sandbox` may package the example as is.
 */
function refusePlaceholders(stage, config, configFile) {
  const { configPlaceholders, policyPlaceholders } = requireTs('../tools/placeholders.ts');
  const { loadBackupPolicies, BACKUP_POLICIES_DIR } = requireTs('../tools/backup-policy/load.ts');
  const found = configPlaceholders(config).map((p) => `${relative(configFile)}: ${p}`);
  let policies = new Map();
  try {
    policies = loadBackupPolicies(BACKUP_POLICIES_DIR);
  } catch {
    // backupPolicyResources reports an unreadable policy with its own message.
  }
  for (const policy of policies.values()) {
    for (const p of policyPlaceholders(policy.document))
      found.push(`${relative(policy.file)}: ${p}`);
  }
  if (found.length) {
    throw userError(
      `stage "${stage}" still has the example's placeholder values; replace each:\n  - ${found.join('\n  - ')}`,
    );
  }
}

function centralVaultFilled(policy, config) {
  const { resolveCentralVault } = requireTs('../tools/backup-policy/load.ts');
  const { centralVault } = requireTs('../functions/shared/central-backup.ts');
  try {
    return resolveCentralVault(policy.document, centralVault(config), relative(policy.file));
  } catch (error) {
    if (error && error.name === 'ConfigError') throw userError(error.message);
    throw error;
  }
}

/**
 * The organization's backup plans: infra/backup-policies/<name>.json, validated with
 * tools/backup-policy/syntax.ts, each an AWS::Organizations::Policy of type BACKUP_POLICY
 * named <name> (onboarding attaches them by that name). A profile naming a missing file fails.
 */
function backupPolicyResources(config, region) {
  const { loadBackupPolicies, BACKUP_POLICIES_DIR } = requireTs('../tools/backup-policy/load.ts');
  let policies;
  try {
    policies = loadBackupPolicies(BACKUP_POLICIES_DIR);
  } catch (error) {
    if (error && error.name === 'ConfigError') throw userError(error.message);
    throw error;
  }
  const missing = (config.onboarding?.profiles ?? []).flatMap((profile, i) =>
    profile.backupPolicies
      .filter((name) => !policies.has(name))
      .map(
        (name) =>
          `onboarding.profiles.${i}.backupPolicies: "${name}" has no file ${relative(path.join(BACKUP_POLICIES_DIR, `${name}.json`))}`,
      ),
  );
  if (missing.length) throw userError(`invalid configuration:\n  - ${missing.join('\n  - ')}`);
  warnOfOtherPartitions(policies, region);
  warnOfUnwatchedPlanRegions(config, policies, region);
  const resources = {};
  const outputs = {};
  for (const policy of policies.values()) {
    const logicalId = `BackupPolicy${pascal(policy.name.replace(/_/g, '-'))}`;
    resources[logicalId] = {
      Type: 'AWS::Organizations::Policy',
      Properties: {
        Name: policy.name,
        Type: 'BACKUP_POLICY',
        Description: `Backup plans from infra/backup-policies/${policy.name}.json (backup control plane)`,
        // {{central-vault:<region>}} filled in from centralBackup (an error names it if unset).
        Content: centralVaultFilled(policy, config),
      },
    };
    outputs[`${logicalId}Id`] = {
      Description: `BACKUP_POLICY ${policy.name}`,
      Value: ref(logicalId),
    };
  }
  return { Resources: resources, Outputs: outputs };
}

/** The regions a policy's plans name (`"regions": {"@@assign": [...]}`, at any depth). */
function policyRegions(value, out = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => policyRegions(v, out));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'regions' && v && typeof v === 'object') {
        for (const list of Object.values(v))
          if (Array.isArray(list)) list.forEach((r) => out.add(r));
      } else policyRegions(v, out);
    }
  }
  return out;
}

/**
 * Backup policies are shared by every stage: one packaged for another partition may name regions
 * that do not exist there. AWS Backup creates no plan in them; said, not refused.
 */
function warnOfOtherPartitions(policies, region) {
  const { partitionOfRegion } = partitionModule();
  const partition = partitionOfRegion(region);
  for (const policy of policies.values()) {
    const foreign = [...policyRegions(policy.document)].filter(
      (r) => typeof r === 'string' && partitionOfRegion(r) !== partition,
    );
    // ARNs too: a role or vault ARN of another partition fails every job of the plan.
    for (const m of JSON.stringify(policy.document).matchAll(/arn:(aws[a-z-]*):/g)) {
      if (m[1] !== partition && !foreign.includes(`arn:${m[1]}: ARNs`)) {
        foreign.push(`arn:${m[1]}: ARNs`);
      }
    }
    if (foreign.length) {
      process.stderr.write(
        `\nWARNING: ${relative(policy.file)} names ${foreign.join(', ')}, outside the ${partition} ` +
          `partition of ${region}: its plans there will not run. Use regions and ARNs of ${partition}.\n\n`,
      );
    }
  }
}

/**
 * A profile's backup policies that back up in a region the profile does not name: there the
 * account gets no vault (every job fails), no forwarding (no alert) and no watching. Said, not
 * refused (a policy's regions may be meant for another profile's accounts too); `backupctl
 * policies` shows the same.
 */
function warnOfUnwatchedPlanRegions(config, policies, region) {
  const { plansForProfile } = requireTs('../tools/backup-policy/load.ts');
  const { partitionOfRegion } = partitionModule();
  const partition = partitionOfRegion(region);
  const problems = (config.onboarding?.profiles ?? []).flatMap((profile, i) =>
    plansForProfile(profile, policies)
      .problems.filter((p) => {
        const where = /backs up in (\S+?),/.exec(p)?.[1];
        return where !== undefined && partitionOfRegion(where) === partition;
      })
      .map((p) => `onboarding.profiles.${i}: ${p}`),
  );
  if (problems.length) {
    process.stderr.write(
      `\nWARNING: backups that nothing creates a vault for, forwards or watches (add the region to the profile, or take it out of the policy):\n  - ${problems.join('\n  - ')}\n\n`,
    );
  }
}

const sub = (text) => ({ 'Fn::Sub': text });
const ref = (logicalId) => ({ Ref: logicalId });
const getAtt = (logicalId, attribute) => ({ 'Fn::GetAtt': [logicalId, attribute] });
const ACCOUNT_ROOT = sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root');

function buildTopics(config, prefix, region) {
  // ARNs at their real length (the environment's size is estimated with them).
  const sampleTopicArn = (name) =>
    `arn:${partitionModule().partitionOfRegion(region)}:sns:${region}:${SAMPLE_ACCOUNT_ID}:${name}`;
  const configured = Object.entries(config.notifications.topics).map(([name, topic]) => {
    const logicalId = `${pascal(name)}Topic`;
    if (topic.arn) {
      return {
        name,
        logicalId,
        created: false,
        chat: topic.chat,
        arn: topic.arn,
        sampleArn: topic.arn,
      };
    }
    const topicName = `${prefix}-${name}`;
    return {
      name,
      logicalId,
      created: true,
      chat: topic.chat,
      topicName,
      arn: ref(logicalId), // Ref of an AWS::SNS::Topic is its ARN
      sampleArn: sampleTopicArn(topicName),
    };
  });
  const topics = [
    ...configured,
    ...channelTopics(config, prefix, sampleTopicArn, subscriptionsModule()),
  ];
  const seen = new Map();
  for (const topic of topics) {
    for (const taken of [topic.logicalId, topic.topicName].filter(Boolean)) {
      const other = seen.get(taken);
      if (other) {
        throw userError(
          `notifications.topics: "${other}" and "${topic.name}" would both become ` +
            `${taken}; rename one of them`,
        );
      }
      seen.set(taken, topic.name);
    }
  }
  return topics;
}

/**
 * TOPIC_ARNS: a JSON object of topic name to ARN. Created topics' ARNs are filled in by
 * CloudFormation (`${Logical}` in Fn::Sub is the topic's Ref, its ARN).
 */
function topicArnsValue(topics) {
  const entries = topics.map(
    (t) => `${JSON.stringify(t.name)}:"${t.created ? `\${${t.logicalId}}` : t.arn}"`,
  );
  const json = `{${entries.join(',')}}`;
  return topics.some((t) => t.created) ? sub(json) : json;
}

function topicKeyResources(prefix, topics, region) {
  const statements = [
    {
      Sid: 'AccountAdministersKeyThroughIam',
      Effect: 'Allow',
      Principal: { AWS: ACCOUNT_ROOT },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      // Alarms publish to the encrypted topics (the control plane must not fail silently).
      Sid: 'CloudWatchAlarmsPublishToTopics',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
    },
  ];
  // Amazon Q Developer in chat applications exists in the commercial partition only: elsewhere its
  // service principal would make KMS refuse the key policy.
  const chatOffered = partitionModule().partitionOfRegion(region) === 'aws';
  if (chatOffered && topics.some((t) => t.created && t.chat)) {
    statements.push({
      // Topics with `chat: true` (the schema's default) are read by Amazon Q Developer in chat
      // applications (AWS Chatbot).
      Sid: 'ChatApplicationsReadTopics',
      Effect: 'Allow',
      Principal: { Service: 'chatbot.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
    });
  }
  return {
    TopicKey: {
      Type: 'AWS::KMS::Key',
      // SNS keeps no messages at rest: nothing stays encrypted under this key once the topics go.
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        Description: `Encrypts the SNS topics of ${prefix}`,
        EnableKeyRotation: true,
        KeyPolicy: { Version: '2012-10-17', Statement: statements },
      },
    },
    TopicKeyAlias: {
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: `alias/${prefix}-topics`, TargetKeyId: ref('TopicKey') },
    },
  };
}

function topicResources(prefix, topic) {
  const alarmSource = sub(
    `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${prefix}-*`,
  );
  return {
    [topic.logicalId]: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: topic.topicName,
        KmsMasterKeyId: ref('TopicKey'),
      },
    },
    [`${topic.logicalId}Policy`]: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [topic.arn],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'PrincipalsOfThisAccountPublish',
              Effect: 'Allow',
              Principal: { AWS: ACCOUNT_ROOT },
              Action: 'sns:Publish',
              Resource: topic.arn,
            },
            {
              Sid: 'CloudWatchAlarmsOfThisStack',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: topic.arn,
              Condition: {
                StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
                ArnLike: { 'aws:SourceArn': alarmSource },
              },
            },
            {
              Sid: 'DenyPublishWithoutTls',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sns:Publish',
              Resource: topic.arn,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
  };
}

/**
 * The stack's rules in other regions (functions/reconcile/region-forwarding.ts): Control Tower's
 * home region when it is not the stack's, and each other region where the management account's
 * own backup jobs run. The role they put events on the stack region's default bus with, and the
 * reconcile function's right to keep them as declared. Nothing when there is no such region.
 */
function regionForwardingResources(config, prefix, region) {
  // A delegated administrator's stack cannot keep rules in the management account: there,
  // infra/management-forwarder.yml forwards from each region instead.
  if (config.deployment.mode === 'delegated-admin') {
    return { resources: {}, environment: {}, plain: () => ({}), outputs: {} };
  }
  const forwarding = requireTs('../functions/reconcile/region-forwarding.ts');
  const ruleArn = (ruleRegion, name) =>
    sub(`arn:\${AWS::Partition}:events:${ruleRegion}:\${AWS::AccountId}:rule/${name}`);
  const homeRegion = config.controlTower.homeRegion ?? region;
  const controlTowerRule =
    homeRegion === region
      ? undefined
      : ruleArn(homeRegion, forwarding.controlTowerRuleName(prefix));
  const managementRegions = forwarding.managementForwardingRegions(config, region);
  // One ARN for every region (`*`): the reconcile function takes the regions from the
  // configuration, so neither the environment nor the role's trust grows with them.
  const managementRules = managementRegions.length
    ? [ruleArn('*', forwarding.managementRuleName(prefix))]
    : [];
  const rules = [...(controlTowerRule ? [controlTowerRule] : []), ...managementRules];
  if (!rules.length) return { resources: {}, environment: {}, plain: () => ({}), outputs: {} };
  const roleName = `${prefix}-region-forwarder`;
  const resources = {
    RegionForwarderRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: roleName,
        Description: `Forwards events from the stack's rules in other regions to ${region}`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sts:AssumeRole',
              // Only the rules the reconcile function keeps.
              Condition: {
                StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
                ArnLike: { 'aws:SourceArn': rules },
              },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'put-on-the-default-bus',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'events:PutEvents',
                  Resource: sub(
                    'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
                  ),
                },
              ],
            },
          },
        ],
      },
    },
    RegionForwardingPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'region-forwarding',
        Roles: [ref('ReconcileRole')],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'KeepTheForwardingRules',
              Effect: 'Allow',
              Action: [
                'events:DescribeRule',
                'events:ListTargetsByRule',
                'events:PutRule',
                'events:PutTargets',
              ],
              Resource: rules,
            },
            {
              Sid: 'PassTheForwarderRoleToEventBridge',
              Effect: 'Allow',
              Action: 'iam:PassRole',
              Resource: getAtt('RegionForwarderRole', 'Arn'),
              Condition: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
            },
          ],
        },
      },
    },
  };
  const partition = partitionModule().partitionOfRegion(region);
  // The same variables with plain values: for the size estimate and `osls invoke local`.
  const plain = (account) => ({
    REGION_FORWARDER_ROLE_ARN: `arn:${partition}:iam::${account}:role/${roleName}`,
    ...(controlTowerRule
      ? {
          CONTROL_TOWER_FORWARDING_RULE_ARN: `arn:${partition}:events:${homeRegion}:${account}:rule/${forwarding.controlTowerRuleName(prefix)}`,
        }
      : {}),
    ...(managementRules.length
      ? {
          MANAGEMENT_FORWARDING_RULE_ARN: `arn:${partition}:events:*:${account}:rule/${forwarding.managementRuleName(prefix)}`,
        }
      : {}),
  });
  const environment = { REGION_FORWARDER_ROLE_ARN: getAtt('RegionForwarderRole', 'Arn') };
  const outputs = {
    RegionForwarderRoleArn: {
      Description:
        "The role the stack's forwarding rules in other regions use (backupctl doctor checks it)",
      Value: getAtt('RegionForwarderRole', 'Arn'),
    },
  };
  if (controlTowerRule) {
    environment.CONTROL_TOWER_FORWARDING_RULE_ARN = controlTowerRule;
    outputs.ControlTowerForwardingRuleArn = {
      Description: `The rule in ${homeRegion} the reconcile sweep keeps (backupctl doctor checks it)`,
      Value: controlTowerRule,
    };
  }
  if (managementRules.length) {
    environment.MANAGEMENT_FORWARDING_RULE_ARN = managementRules[0];
    outputs.ManagementForwardingRuleArn = {
      Description: `The rules in ${managementRegions.join(', ')} forwarding the management account's backup events (backupctl doctor checks them)`,
      Value: managementRules[0],
    };
  }
  return { resources, environment, plain, outputs };
}

/** Every string holding `${…}` becomes an Fn::Sub, so a template's values are filled in. */
function subStrings(value) {
  if (typeof value === 'string') return value.includes('${') ? sub(value) : value;
  if (Array.isArray(value)) return value.map(subStrings);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, subStrings(v)]));
  }
  return value;
}

/**
 * `onboarding.memberRole.deploy: stackset`: a service-managed StackSet that creates the dedicated
 * member role (functions/onboard-account/member-role.ts) in every account under the targets,
 * now and in accounts that join later. IAM is global: one stack instance per account, in the
 * stack's region. An account where the instance fails does not roll the stack back
 * (FailureTolerancePercentage 100): onboarding reports it, with the fix, when it cannot assume
 * the role.
 */
function memberRoleStackSet(config, prefix, region) {
  const memberRole = config.onboarding.memberRole;
  if (memberRole?.deploy !== 'stackset') return { resources: {}, outputs: {} };
  const { loadBaseline, fill } = requireTs('../functions/onboard-account/baseline.ts');
  const { memberRoleDefinition, baselineVaultNames, MANAGED_TAG } = requireTs(
    '../functions/onboard-account/member-role.ts',
  );
  const baseline = loadBaseline();
  // The baseline's roles, filled per account by CloudFormation as onboarding would fill them:
  // the member role writes no IAM, so the StackSet makes (and puts back) these too.
  const vars = {
    partition: '${AWS::Partition}',
    accountId: '${AWS::AccountId}',
    region: '${AWS::Region}',
    organizationId: config.organizationId,
    managementAccountId: '${ControlPlaneAccountId}',
    centralBusArn: '${CentralBusArn}',
    controlPlaneRoleArn: '${ControlPlaneRoleArn}',
    watchRoleArn: '${WatchRoleArn}',
  };
  const roleTags = [
    { Key: MANAGED_TAG.key, Value: MANAGED_TAG.value },
    { Key: 'backup-control-plane:baseline-version', Value: String(baseline.version) },
  ];
  const baselineRole = (role, extra) => ({
    Type: 'AWS::IAM::Role',
    Properties: subStrings(
      fill(
        {
          RoleName: role.name,
          Description: role.description,
          AssumeRolePolicyDocument: role.trustPolicy,
          Tags: roleTags,
          ...extra,
        },
        vars,
      ),
    ),
  });
  const definition = memberRoleDefinition(
    baseline,
    memberRole.name,
    baselineVaultNames(baseline, config),
    {
      partition: '${AWS::Partition}',
      accountId: '${AWS::AccountId}',
      organizationId: config.organizationId,
      controlPlaneAccountId: '${ControlPlaneAccountId}',
      controlPlaneRoleArn: '${ControlPlaneRoleArn}',
      centralBusArn: '${CentralBusArn}',
    },
    requireTs('../functions/shared/central-backup.ts').centralVault(config),
  );
  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `The backup control plane's member role (${prefix}): the baseline's resources only`,
    Parameters: {
      ControlPlaneAccountId: { Type: 'String', AllowedPattern: '^\\d{12}$' },
      ControlPlaneRoleArn: {
        Type: 'String',
        AllowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/.+$',
      },
      WatchRoleArn: { Type: 'String', AllowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/.+$' },
      CentralBusArn: { Type: 'String', AllowedPattern: '^arn:aws[a-z-]*:events:.+$' },
    },
    Resources: {
      MemberRole: {
        Type: 'AWS::IAM::Role',
        Properties: subStrings({
          RoleName: definition.name,
          Description: definition.description,
          AssumeRolePolicyDocument: definition.trust,
          Policies: [
            { PolicyName: definition.inlinePolicyName, PolicyDocument: definition.policy },
          ],
          Tags: [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }],
        }),
      },
      BackupServiceRole: baselineRole(baseline.serviceRole, {
        ManagedPolicyArns: baseline.serviceRole.managedPolicies,
      }),
      ReadOnlyRole: baselineRole(baseline.readOnlyRole, {
        Policies: [
          {
            PolicyName: baseline.readOnlyRole.inlinePolicyName,
            PolicyDocument: baseline.readOnlyRole.inlinePolicy,
          },
        ],
      }),
      ForwarderRole: baselineRole(baseline.forwarding.role, {
        Policies: [
          {
            PolicyName: baseline.forwarding.role.inlinePolicyName,
            PolicyDocument: baseline.forwarding.role.inlinePolicy,
          },
        ],
      }),
    },
  };
  const name = `${prefix}-member-role`;
  return {
    resources: {
      MemberRoleStackSet: {
        Type: 'AWS::CloudFormation::StackSet',
        Properties: {
          StackSetName: name,
          Description: `Creates ${memberRole.name}, the backup control plane's least-privilege role, and the backup baseline's roles in every member account`,
          PermissionModel: 'SERVICE_MANAGED',
          AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
          Capabilities: ['CAPABILITY_NAMED_IAM'],
          // A delegated administrator creates it on the management account's behalf.
          CallAs: config.deployment.mode === 'delegated-admin' ? 'DELEGATED_ADMIN' : 'SELF',
          ManagedExecution: { Active: true },
          OperationPreferences: {
            FailureTolerancePercentage: 100,
            MaxConcurrentPercentage: 25,
            RegionConcurrencyType: 'PARALLEL',
          },
          Parameters: [
            { ParameterKey: 'ControlPlaneAccountId', ParameterValue: ref('AWS::AccountId') },
            {
              ParameterKey: 'ControlPlaneRoleArn',
              ParameterValue: getAtt('OnboardAccountRole', 'Arn'),
            },
            { ParameterKey: 'WatchRoleArn', ParameterValue: getAtt('WatchAccountRole', 'Arn') },
            { ParameterKey: 'CentralBusArn', ParameterValue: getAtt('BackupEventBus', 'Arn') },
          ],
          StackInstancesGroup: [
            {
              DeploymentTargets: { OrganizationalUnitIds: memberRole.organizationalUnitIds },
              Regions: [region],
            },
          ],
          TemplateBody: JSON.stringify(template),
        },
      },
    },
    outputs: {
      MemberRoleStackSetName: {
        Description: `The StackSet that creates ${memberRole.name} in member accounts`,
        Value: name,
      },
    },
  };
}

/** CloudWatch takes at most five actions per state. */
const ALARM_ACTIONS_MAX = 5;

/**
 * Where the stack's alarms go: the "chat" topic, and the own topics of its filtered channels
 * whose filter accepts an organization-wide error (an unfiltered channel reads the topic).
 */
function alarmActions(config, topics, alarmTopic) {
  if (!alarmTopic) return [];
  const { alarmChannels, channelTopicKey } = subscriptionsModule();
  const channelTopicArns = alarmChannels(config.notifications.topics.chat).map(
    (c) => topics.find((t) => t.name === channelTopicKey('chat', c.name)).arn,
  );
  const actions = [alarmTopic.arn, ...channelTopicArns];
  if (actions.length > ALARM_ACTIONS_MAX) {
    process.stderr.write(
      `\nWARNING: the stack's alarms reach the "chat" topic and only the first ` +
        `${ALARM_ACTIONS_MAX - 1} of its ${channelTopicArns.length} filtered channels that accept ` +
        'errors (CloudWatch takes 5 actions).\n\n',
    );
  }
  return actions.slice(0, ALARM_ACTIONS_MAX);
}

/** What the notify function may send through: its SES identity and the configured topics. */
function deliveryPolicy(config, topics) {
  const email = config.notifications.email;
  const sesArn = (resource) =>
    sub(`arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:${resource}`);
  const senderAddress = (/<([^>]+)>\s*$/.exec(email.sender)?.[1] ?? email.sender).trim();
  // SES authorizes against the identity it sends as: the configured one (a domain or an
  // address), or the sender's own address when that is verified as an identity too.
  const identities = [...new Set([email.identity, senderAddress])].map((id) =>
    sesArn(`identity/${id}`),
  );
  const sesResources = email.configurationSet
    ? [...identities, sesArn(`configuration-set/${email.configurationSet}`)]
    : identities;
  const statements = [
    {
      Sid: 'SendEmailAsTheConfiguredIdentity',
      Effect: 'Allow',
      Action: 'ses:SendEmail',
      Resource: sesResources,
    },
  ];
  if (topics.length) {
    statements.push({
      Sid: 'PublishToConfiguredTopics',
      Effect: 'Allow',
      Action: 'sns:Publish',
      Resource: topics.map((t) => t.arn),
    });
  }
  if (topics.some((t) => t.created)) {
    statements.push({
      // SNS encrypts each message with the topic's key on the publisher's behalf.
      Sid: 'EncryptForTheStackTopics',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: getAtt('TopicKey', 'Arn'),
      Condition: {
        StringEquals: { 'kms:ViaService': sub('sns.${AWS::Region}.${AWS::URLSuffix}') },
      },
    });
  }
  return {
    PolicyName: 'deliver',
    PolicyDocument: { Version: '2012-10-17', Statement: statements },
  };
}

function environmentSize(env) {
  return Buffer.byteLength(JSON.stringify(env), 'utf8');
}

function partitionModule() {
  return requireTs('../functions/shared/partition.ts');
}

/**
 * The stack's region: the one where AWS Organizations sends its events in the partition
 * (us-east-1; us-gov-west-1 in AWS GovCloud (US); cn-northwest-1 in the China regions).
 */
function checkRegion(region) {
  const { regionPartition, ORGANIZATIONS_REGIONS } = partitionModule();
  const facts = regionPartition(region);
  if (region !== facts.organizationsRegion) {
    throw userError(
      `region ${region} is not supported: AWS Organizations events reach EventBridge only in ` +
        `${facts.organizationsRegion} in the ${facts.partition} partition, on the management ` +
        `account's default bus, so this stack must be deployed there (run with --region ` +
        `${facts.organizationsRegion}; one of ${ORGANIZATIONS_REGIONS.join(', ')}, by partition)`,
    );
  }
}

/** Every region the configuration names must be in the stack's partition. */
function checkPartition(config, region, configFile) {
  const { partitionOfRegion } = partitionModule();
  const partition = partitionOfRegion(region);
  const named = [
    [
      'controlTower.homeRegion',
      config.controlTower.homeRegion ? [config.controlTower.homeRegion] : [],
    ],
    ['managementAccount.backupRegions', config.managementAccount.backupRegions ?? []],
    ...(config.onboarding?.profiles ?? []).map((p, i) => [
      `onboarding.profiles.${i}.regions`,
      p.regions,
    ]),
    ['centralBackup.regions', config.centralBackup?.regions ?? []],
    ...(config.notifications.rules ?? []).map((r, i) => [
      `notifications.rules.${i}.match.region`,
      r.match.region ?? [],
    ]),
  ];
  const wrong = named.flatMap(([key, regions]) =>
    regions
      .filter((r) => partitionOfRegion(r) !== partition)
      .map((r) => `${key}: ${r} is in the ${partitionOfRegion(r)} partition, not ${partition}`),
  );
  // SNS takes a Publish for a topic of the endpoint's own region only ("Invalid parameter:
  // TopicArn" otherwise), and the functions publish from the stack's region.
  for (const [name, topic] of Object.entries(config.notifications.topics)) {
    const at = topic.arn ? /^arn:([^:]+):sns:([^:]+):/.exec(topic.arn) : undefined;
    if (at && (at[1] !== partition || at[2] !== region)) {
      wrong.push(
        `notifications.topics.${name}.arn: the topic is in ${at[2]} (${at[1]}); the functions publish from ${region}, and SNS takes a Publish only for a topic of its own region: use a topic in ${region}`,
      );
    }
  }
  if (partition === 'aws-cn') {
    wrong.push(
      'notifications.email: Amazon SES is not offered in the China regions, and the control plane sends its alerts by email: it cannot run in aws-cn yet',
    );
  }
  if (partition !== 'aws') {
    // Amazon Q Developer in chat applications is offered in the commercial partition only.
    for (const [name, topic] of Object.entries(config.notifications.topics)) {
      for (const app of ['slack', 'teams']) {
        if ((topic[app] ?? []).length) {
          wrong.push(
            `notifications.topics.${name}.${app}: Amazon Q Developer in chat applications is not offered in ${partition}; reach the channel through subscribers (https, lambda) instead`,
          );
        }
      }
    }
  }
  if (wrong.length) {
    throw userError(
      `invalid configuration in ${relative(configFile)} for a stack in ${region}:\n  - ${wrong.join('\n  - ')}`,
    );
  }
}

/**
 * The notify function's environment. Lambda measures keys and values together with
 * provider.environment; the ARNs CloudFormation fills in are estimated at their real length.
 */
function notifyEnvironment({
  configJson,
  topics,
  providerEnvironment,
  tableName,
  configFile,
  extraEstimate = {},
}) {
  const environment = {
    BACKUP_CONTROL_PLANE_CONFIG: configJson,
    DELIVERY_TABLE_NAME: ref('LedgerTable'),
    TOPIC_ARNS: topicArnsValue(topics),
  };
  const estimate = {
    ...providerEnvironment,
    ...environment,
    DELIVERY_TABLE_NAME: tableName,
    TOPIC_ARNS: JSON.stringify(Object.fromEntries(topics.map((t) => [t.name, t.sampleArn]))),
    ...extraEstimate,
  };
  const size = environmentSize(estimate);
  if (size > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    const sizes = Object.entries(estimate)
      .map(([key, value]) => `${key} ${environmentSize({ [key]: value })} B`)
      .join(', ');
    throw userError(
      `the functions' environment would be about ${size} bytes, over Lambda's ` +
        `${LAMBDA_ENVIRONMENT_LIMIT_BYTES}-byte limit (${sizes}). Shorten ${relative(configFile)}: ` +
        'fewer or shorter recipient lists, rules and topic names.',
    );
  }
  return environment;
}

function isInvokeLocal() {
  const args = process.argv.slice(2);
  return args.includes('invoke') && args.includes('local');
}

/** Plain values for `osls invoke local` (AWS_ACCOUNT_ID, else moto's default account). */
function localEnvironment({ prefix, region, topics, onboarding, forwarding }) {
  const account = process.env.AWS_ACCOUNT_ID || '123456789012';
  const env = {
    DELIVERY_TABLE_NAME: `${prefix}-ledger`,
    TOPIC_ARNS: JSON.stringify(
      Object.fromEntries(
        topics.map((t) => [
          t.name,
          t.created
            ? `arn:${partitionModule().partitionOfRegion(region)}:sns:${region}:${account}:${t.topicName}`
            : t.arn,
        ]),
      ),
    ),
  };
  if (!onboarding) return env;
  const { partition, dnsSuffix } = partitionModule().regionPartition(region);
  const sqsEndpoint = process.env.AWS_ENDPOINT_URL || `https://sqs.${region}.${dnsSuffix}`;
  return {
    ...env,
    CENTRAL_BUS_ARN: `arn:${partition}:events:${region}:${account}:event-bus/${prefix}-backup-events`,
    CONTROL_PLANE_ROLE_ARN: `arn:${partition}:iam::${account}:role/${prefix}-onboard-account`,
    WATCH_ROLE_ARN: `arn:${partition}:iam::${account}:role/${prefix}-watch-account`,
    ONBOARDING_QUEUE_URL: `${sqsEndpoint}/${account}/${prefix}-onboarding`,
    WATCH_QUEUE_URL: `${sqsEndpoint}/${account}/${prefix}-watch`,
    ...forwarding.plain(account),
  };
}

/** Everything serverless.yml takes from the stage configuration (under custom.stageConfig). */
async function resolveStageConfig({ options, resolveConfigurationProperty }) {
  const stage =
    options.stage || (await resolveConfigurationProperty(['provider', 'stage'])) || 'dev';
  const region =
    options.region || (await resolveConfigurationProperty(['provider', 'region'])) || 'us-east-1';
  checkRegion(region);
  const service = await resolveConfigurationProperty(['service']);
  const prefix = `${service}-${stage}`;

  const configFile = chooseConfigFile(stage, options);
  const config = readConfig(configFile);
  checkPartition(config, region, configFile);
  if (!EXAMPLE_FALLBACK_STAGES.includes(stage)) refusePlaceholders(stage, config, configFile);
  const topics = buildTopics(config, prefix, region);
  const created = topics.filter((t) => t.created);

  const resources = created.length ? topicKeyResources(prefix, topics, region) : {};
  for (const topic of created) Object.assign(resources, topicResources(prefix, topic));
  const readers = subscriptionResources({
    config,
    prefix,
    topics,
    subscriptions: subscriptionsModule(),
    userError,
  });
  Object.assign(resources, readers.resources);
  const forwarding = regionForwardingResources(config, prefix, region);
  Object.assign(resources, forwarding.resources);
  const outputs = Object.fromEntries(
    topics.map((t) => [
      `${t.logicalId}Arn`,
      { Description: `SNS topic "${t.name}" (an entry of TOPIC_ARNS)`, Value: t.arn },
    ]),
  );
  Object.assign(outputs, forwarding.outputs);
  if (topics.length) {
    // backupctl reads it (TOPIC_ARNS for its commands; doctor with --stack).
    outputs.TopicArns = { Description: 'TOPIC_ARNS for backupctl', Value: topicArnsValue(topics) };
  }

  const alarmTopic = topics.find((t) => t.name === 'chat');
  if (!alarmTopic) {
    process.stderr.write(
      '\nWARNING: notifications.topics has no "chat" topic: the stack\'s own alarms ' +
        '(dead-letter queue, function errors) will have no action. Add one so failures are seen.\n\n',
    );
  }

  if (!config.onboarding) {
    throw userError(
      `invalid configuration in ${relative(configFile)}:\n  - onboarding: is required (see ${relative(EXAMPLE_CONFIG)})`,
    );
  }
  const { partition, dnsSuffix } = partitionModule().regionPartition(region);
  const prefixArn = (service, resource) =>
    `arn:${partition}:${service}:${region}:${SAMPLE_ACCOUNT_ID}:${resource}`;
  const queueUrl = (name) => `https://sqs.${region}.${dnsSuffix}/${SAMPLE_ACCOUNT_ID}/${name}`;
  // The onboarding functions get the most: checked with their extra variables at full length.
  const notifyEnv = notifyEnvironment({
    // Compressed: Lambda allows 4 KB of environment for all variables together.
    configJson: `${CONFIG_GZIP_PREFIX}${zlib.gzipSync(JSON.stringify(config), { level: 9 }).toString('base64')}`,
    topics,
    providerEnvironment: (await resolveConfigurationProperty(['provider', 'environment'])) || {},
    tableName: String(await resolveConfigurationProperty(['custom', 'names', 'ledgerTable'])),
    configFile,
    extraEstimate: {
      CENTRAL_BUS_ARN: prefixArn('events', `event-bus/${prefix}-backup-events`),
      CONTROL_PLANE_ROLE_ARN: `arn:${partition}:iam::${SAMPLE_ACCOUNT_ID}:role/${prefix}-onboard-account`,
      WATCH_ROLE_ARN: `arn:${partition}:iam::${SAMPLE_ACCOUNT_ID}:role/${prefix}-watch-account`,
      ONBOARDING_QUEUE_URL: queueUrl(`${prefix}-onboarding`),
      STACK_PREFIX: `${prefix}-`,
      NOTIFICATION_QUEUE_URL: queueUrl(`${prefix}-notifications`),
      WATCH_QUEUE_URL: queueUrl(`${prefix}-watch`),
      ...forwarding.plain(SAMPLE_ACCOUNT_ID),
    },
  });
  const onboardingEnvironment = {
    ...notifyEnv,
    CENTRAL_BUS_ARN: getAtt('BackupEventBus', 'Arn'),
    CONTROL_PLANE_ROLE_ARN: getAtt('OnboardAccountRole', 'Arn'),
    WATCH_ROLE_ARN: getAtt('WatchAccountRole', 'Arn'),
    ONBOARDING_QUEUE_URL: ref('OnboardingQueue'),
    WATCH_QUEUE_URL: ref('WatchQueue'),
    ...forwarding.environment,
  };
  // The notification function also judges CloudTrail calls (its own stack's are not alerts)
  // and asks onboarding to repair what tampering changed.
  const notifyFunctionEnvironment = {
    ...notifyEnv,
    STACK_PREFIX: `${prefix}-`,
    CENTRAL_BUS_ARN: getAtt('BackupEventBus', 'Arn'),
    ONBOARDING_QUEUE_URL: ref('OnboardingQueue'),
    NOTIFICATION_QUEUE_URL: ref('NotificationQueue'),
  };
  if (isInvokeLocal()) {
    // `osls invoke local` cannot resolve CloudFormation functions: name the resources as the
    // stack (and the sandbox, for --stage sandbox) names them.
    Object.assign(
      notifyEnv,
      localEnvironment({ prefix, region, topics, onboarding: false, forwarding }),
    );
    Object.assign(
      onboardingEnvironment,
      localEnvironment({ prefix, region, topics, onboarding: true, forwarding }),
    );
    const local = localEnvironment({ prefix, region, topics, onboarding: true, forwarding });
    Object.assign(notifyFunctionEnvironment, notifyEnv, {
      CENTRAL_BUS_ARN: local.CENTRAL_BUS_ARN,
      ONBOARDING_QUEUE_URL: local.ONBOARDING_QUEUE_URL,
      NOTIFICATION_QUEUE_URL: local.ONBOARDING_QUEUE_URL.replace(/-onboarding$/, '-notifications'),
    });
  }
  // With the member role from a StackSet, onboarding never needs an administrator role.
  const memberRole = config.onboarding.memberRole;
  const accessRoles =
    memberRole?.deploy === 'stackset'
      ? [memberRole.name]
      : [
          ...(memberRole ? [memberRole.name] : []),
          config.onboarding.accessRole,
          config.onboarding.controlTowerAccessRole,
        ];
  const accessRoleArns = [...new Set(accessRoles)].map((role) =>
    sub(`arn:\${AWS::Partition}:iam::*:role/${role}`),
  );
  const memberRoleParts = memberRoleStackSet(config, prefix, region);
  Object.assign(resources, memberRoleParts.resources);
  Object.assign(outputs, memberRoleParts.outputs);

  const { forwardedPattern, loadBaseline } = requireTs('../functions/onboard-account/baseline.ts');
  const deployment = deploymentParts(config, region);
  return {
    ...deployment,
    configFile: relative(configFile),
    organizationId: config.organizationId,
    // The central rules match what every member forwarding rule forwards (baseline.json).
    forwardedEventPattern: forwardedPattern(loadBaseline()),
    onboardingEnvironment,
    accessRoleArns,
    reconcileSchedule: config.onboarding.schedule,
    logRetentionDays: config.logRetentionDays,
    digestSchedule: config.watching.digest.schedule,
    backupPolicyResources: backupPolicyResources(config, region),
    notifyEnvironment: notifyEnv,
    notifyFunctionEnvironment,
    notifyDeliveryPolicy: deliveryPolicy(config, topics),
    alarmActions: alarmActions(config, topics, alarmTopic),
    topicResources: {
      Resources: resources,
      Outputs: outputs,
      ...(Object.keys(readers.conditions).length ? { Conditions: readers.conditions } : {}),
    },
  };
}

/**
 * What the deployment mode changes in the stack (README: "Deploying"). With `delegated-admin` the
 * stack runs in a delegated administrator account: the account events arrive on the central bus,
 * forwarded by infra/management-forwarder.yml (whose roles the bus policy then admits), and the
 * template refuses any other account.
 */
function deploymentParts(config, region) {
  const delegated = config.deployment.mode === 'delegated-admin';
  const memberForwarder = 'arn:${AWS::Partition}:iam::*:role/backup-control-plane-event-forwarder';
  const managementForwarder = delegated
    ? `arn:\${AWS::Partition}:iam::${config.deployment.managementAccountId}:role/backup-control-plane-management-forwarder-*`
    : undefined;
  const templateRules = {
    DeployOnlyInTheOrganizationsRegion: {
      Assertions: [
        {
          Assert: { 'Fn::Equals': [ref('AWS::Region'), region] },
          AssertDescription: `AWS Organizations events reach EventBridge only in one region per partition (us-east-1, us-gov-west-1, cn-northwest-1), on the management account's default bus: deploy this stack in the region it was packaged for (${region}).`,
        },
      ],
    },
    ...(delegated
      ? {
          DeployOnlyInTheDelegatedAdministratorAccount: {
            Assertions: [
              {
                Assert: {
                  'Fn::Equals': [
                    ref('AWS::AccountId'),
                    config.deployment.delegatedAdministratorAccountId,
                  ],
                },
                AssertDescription: `deployment.mode is delegated-admin: deploy this stack in deployment.delegatedAdministratorAccountId (${config.deployment.delegatedAdministratorAccountId}), with that account's credentials.`,
              },
            ],
          },
        }
      : {}),
  };
  return {
    deploymentMode: config.deployment.mode,
    // Where the account events arrive: the management account's default bus, or the central bus.
    accountEventsBus: delegated ? ref('BackupEventBus') : 'default',
    // For the bus policy's aws:PrincipalArn (a JSON list inside its Fn::Sub string).
    busForwarderPrincipals: JSON.stringify([
      memberForwarder,
      ...(managementForwarder ? [managementForwarder] : []),
    ]),
    templateRules,
  };
}

module.exports = { resolve: resolveStageConfig, memberRoleStackSet };
