import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANAGEMENT_FORWARDER_RULES } from '../../functions/notify-backup-event/decide';
import { ROOT } from '../helpers/fixtures';

/**
 * infra/stage-config.js, what serverless.yml resolves at package time: the region guard, the
 * configuration checks, and the parts of the template it builds. Called directly, as osls does.
 */

// A CommonJS module of the infra folder, loaded as osls loads it.
const { resolve } = jest.requireActual('../../infra/stage-config.js') as {
  resolve: (args: {
    options: Record<string, unknown>;
    resolveConfigurationProperty: (path: string[]) => Promise<unknown>;
  }) => Promise<Record<string, unknown>>;
};

const PROPERTIES: Record<string, unknown> = {
  'provider.stage': 'dev',
  'provider.region': 'us-east-1',
  service: 'backup-control-plane',
  'provider.environment': { POWERTOOLS_LOG_LEVEL: 'INFO' },
  'custom.names.ledgerTable': 'backup-control-plane-dev-ledger',
};

function run(options: Record<string, unknown> = {}) {
  return resolve({
    options,
    resolveConfigurationProperty: async (path) => PROPERTIES[path.join('.')],
  });
}

function configWith(edit: (text: string) => string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'stage-')), 'config.yml');
  writeFileSync(file, edit(readFileSync(join(ROOT, 'infra/config/example.yml'), 'utf8')));
  return file;
}

let stderr: jest.SpyInstance;
beforeEach(() => {
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  delete process.env.BACKUP_CONFIG_FILE;
});
afterEach(() => stderr.mockRestore());

describe('infra/stage-config.js', () => {
  it('refuses any region but us-east-1, saying why', async () => {
    await expect(run({ region: 'eu-west-1' })).rejects.toThrow(
      /region eu-west-1 is not supported: AWS Organizations events reach EventBridge only in us-east-1 in the aws partition/,
    );
  });

  it('refuses a stage without its configuration file, saying how to make one', async () => {
    await expect(run({ stage: 'prod' })).rejects.toThrow(
      /no configuration for stage "prod": copy infra\/config\/example.yml to infra\/config\/prod.yml/,
    );
  });

  it('names the bad setting of a configuration file', async () => {
    process.env.BACKUP_CONFIG_FILE = configWith((t) => t.replace('o-exampleorg1', 'not-an-org'));
    await expect(run()).rejects.toThrow(/organizationId: must look like o-abc123def4/);
  });

  it("refuses the example's placeholders for a real stage, naming each with its file and key", async () => {
    process.env.BACKUP_CONFIG_FILE = configWith((t) => t);
    const error = await run({ stage: 'prod' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/stage "prod" still has the example's placeholder values/);
    expect(String(error)).toMatch(
      /config\.yml: organizationId: "o-exampleorg1" is the example organization/,
    );
    expect(String(error)).toMatch(/slack\.0\.workspaceId: "T0123ABCDEF"/);
    expect(String(error)).toMatch(/config\.yml: centralBackup\.accountId: "444455556666"/);
    // The example stages package it as it is.
    await expect(run({ stage: 'sandbox' })).resolves.toBeDefined();
  });

  it('names a profile whose backup policy has no file', async () => {
    process.env.BACKUP_CONFIG_FILE = configWith((t) =>
      t.replace('backupPolicies: [daily-35-days]', 'backupPolicies: [no-such-policy]'),
    );
    await expect(run()).rejects.toThrow(
      /onboarding\.profiles\.1\.backupPolicies: "no-such-policy" has no file/,
    );
  });

  it('builds the environments, the access role ARNs and one BACKUP_POLICY per policy file', async () => {
    const parts = await run();
    expect(Object.keys(parts.onboardingEnvironment as object)).toEqual(
      expect.arrayContaining([
        'BACKUP_CONTROL_PLANE_CONFIG',
        'DELIVERY_TABLE_NAME',
        'TOPIC_ARNS',
        'CENTRAL_BUS_ARN',
        'CONTROL_PLANE_ROLE_ARN',
        'ONBOARDING_QUEUE_URL',
      ]),
    );
    expect(JSON.stringify(parts.accessRoleArns)).toContain(':role/OrganizationAccountAccessRole');
    expect(JSON.stringify(parts.accessRoleArns)).toContain(':role/AWSControlTowerExecution');
    expect(parts.reconcileSchedule).toBe('cron(0 5 * * ? *)');
    expect(parts.digestSchedule).toBe('cron(0 8 * * ? *)');
    const policies = (
      parts.backupPolicyResources as {
        Resources: Record<string, { Type: string; Properties: { Name: string } }>;
      }
    ).Resources;
    expect(
      Object.values(policies)
        .map((p) => [p.Type, p.Properties.Name])
        .sort(),
    ).toEqual([
      ['AWS::Organizations::Policy', 'daily-35-days'],
      ['AWS::Organizations::Policy', 'production-critical'],
      ['AWS::Organizations::Policy', 'weekly-archive'],
    ]);
  });

  it('refuses a configuration whose environment would not fit in Lambda’s 4 KB', async () => {
    process.env.BACKUP_CONFIG_FILE = configWith((t) =>
      t.replace(
        '      dba: [dba-oncall@example.com]',
        [
          '      dba: [dba-oncall@example.com]',
          // Addresses that do not compress (the configuration is stored gzip'd).
          ...Array.from(
            { length: 120 },
            (_, i) => `      list${i}: [${randomBytes(16).toString('hex')}@example.com]`,
          ),
        ].join('\n'),
      ),
    );
    await expect(run()).rejects.toThrow(/over Lambda's 4096-byte limit/);
  });

  it('gives osls invoke local plain names instead of CloudFormation references', async () => {
    const argv = process.argv;
    process.argv = [argv[0]!, 'osls', 'invoke', 'local', '-f', 'notifyBackupEvent'];
    try {
      const env = (await run({ stage: 'sandbox' })).onboardingEnvironment as Record<
        string,
        unknown
      >;
      expect(env).toMatchObject({
        DELIVERY_TABLE_NAME: 'backup-control-plane-sandbox-ledger',
        TOPIC_ARNS: JSON.stringify({
          chat: 'arn:aws:sns:us-east-1:123456789012:backup-control-plane-sandbox-chat',
          'chat/backup-alerts':
            'arn:aws:sns:us-east-1:123456789012:backup-control-plane-sandbox-chat-backup-alerts',
          'chat/production-backups':
            'arn:aws:sns:us-east-1:123456789012:backup-control-plane-sandbox-chat-production-backups',
        }),
        CENTRAL_BUS_ARN:
          'arn:aws:events:us-east-1:123456789012:event-bus/backup-control-plane-sandbox-backup-events',
      });
      expect(Object.values(env).every((v) => typeof v === 'string')).toBe(true);
    } finally {
      process.argv = argv;
    }
  });

  describe('rules in other regions', () => {
    type Parts = {
      topicResources: {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
        Outputs: Record<string, { Value: unknown }>;
      };
      onboardingEnvironment: Record<string, unknown>;
    };
    const part = async (options: Record<string, unknown> = {}) => (await run(options)) as Parts;
    const ctRule = {
      'Fn::Sub':
        'arn:${AWS::Partition}:events:eu-west-1:${AWS::AccountId}:rule/backup-control-plane-dev-control-tower-events',
    };
    const managementRule = {
      'Fn::Sub':
        'arn:${AWS::Partition}:events:*:${AWS::AccountId}:rule/backup-control-plane-dev-management-backup-events',
    };

    it('adds none when Control Tower is home and the management account backs up nowhere else', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith(
        (t) => `${t}\nmanagementAccount:\n  backupRegions: [us-east-1]\n`,
      );
      const parts = await part();
      expect(parts.topicResources.Resources.RegionForwarderRole).toBeUndefined();
      expect(parts.onboardingEnvironment.CONTROL_TOWER_FORWARDING_RULE_ARN).toBeUndefined();
      expect(parts.onboardingEnvironment.MANAGEMENT_FORWARDING_RULE_ARN).toBeUndefined();
    });

    it('forwards the management account’s jobs from the profiles’ other regions by default', async () => {
      const { topicResources, onboardingEnvironment } = await part();
      // example.yml: profiles in us-east-1 and eu-west-1; one ARN for every region.
      expect(onboardingEnvironment.MANAGEMENT_FORWARDING_RULE_ARN).toEqual(managementRule);
      expect(topicResources.Outputs.ManagementForwardingRuleArn!.Value).toEqual(managementRule);
      expect(JSON.stringify(topicResources.Resources.RegionForwarderRole!.Properties)).toContain(
        `"ArnLike":${JSON.stringify({ 'aws:SourceArn': [managementRule] })}`,
      );
    });

    it('needs no more room for more regions, and none when the management account is onboarded', async () => {
      const many = [
        'eu-central-1',
        'eu-west-2',
        'eu-west-3',
        'eu-north-1',
        'ap-southeast-1',
        'ap-southeast-2',
        'ap-northeast-1',
        'ap-south-1',
        'ca-central-1',
        'sa-east-1',
        'us-west-1',
        'us-west-2',
        'us-east-2',
      ];
      process.env.BACKUP_CONFIG_FILE = configWith(
        (t) => `${t}\nmanagementAccount:\n  backupRegions: [${many.join(', ')}]\n`,
      );
      const parts = await part();
      expect(parts.onboardingEnvironment.MANAGEMENT_FORWARDING_RULE_ARN).toEqual(managementRule);
      expect(parts.topicResources.Outputs.ManagementForwardingRuleArn!).toMatchObject({
        Description: expect.stringContaining('eu-central-1'),
      });
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t.replace('onboardManagementAccount: false', 'onboardManagementAccount: true'),
      );
      expect((await part()).topicResources.Resources.RegionForwarderRole).toBeUndefined();
    });

    it('adds the Control Tower home-region rule, with one role for every rule', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith(
        (t) => `${t}\ncontrolTower:\n  homeRegion: eu-west-1\n`,
      );
      const parts = await part();
      expect(parts.onboardingEnvironment).toMatchObject({
        CONTROL_TOWER_FORWARDING_RULE_ARN: ctRule,
        REGION_FORWARDER_ROLE_ARN: { 'Fn::GetAtt': ['RegionForwarderRole', 'Arn'] },
      });
      const { Resources, Outputs } = parts.topicResources;
      expect(Resources.RegionForwarderRole!.Properties).toMatchObject({
        RoleName: 'backup-control-plane-dev-region-forwarder',
      });
      // Assumed by EventBridge for the stack's rules only.
      const rules = [ctRule, managementRule];
      expect(
        JSON.stringify(Resources.RegionForwarderRole!.Properties.AssumeRolePolicyDocument),
      ).toContain(`"ArnLike":${JSON.stringify({ 'aws:SourceArn': rules })}`);
      // The reconcile function may keep those rules, and pass that one role to EventBridge.
      expect(JSON.stringify(Resources.RegionForwardingPolicy)).toContain(
        '"Resource":' + JSON.stringify(rules),
      );
      expect(Resources.RegionForwardingPolicy!.Properties.Roles).toEqual([
        { Ref: 'ReconcileRole' },
      ]);
      expect(Outputs.ControlTowerForwardingRuleArn).toMatchObject({ Value: ctRule });
    });
  });

  describe('deployment.mode', () => {
    type Parts = {
      deploymentMode: string;
      accountEventsBus: unknown;
      busForwarderPrincipals: string;
      templateRules: Record<string, { Assertions: { Assert: unknown }[] }>;
      onboardingEnvironment: Record<string, unknown>;
      topicResources: {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
    };

    it('management: account events on the default bus, members’ forwarders only', async () => {
      const parts = (await run()) as Parts;
      expect(parts.deploymentMode).toBe('management');
      expect(parts.accountEventsBus).toBe('default');
      expect(JSON.parse(parts.busForwarderPrincipals)).toEqual([
        'arn:${AWS::Partition}:iam::*:role/backup-control-plane-event-forwarder',
      ]);
      expect(Object.keys(parts.templateRules)).toEqual(['DeployOnlyInTheOrganizationsRegion']);
    });

    it('delegated-admin: events from the management forwarder on the central bus, the StackSet as delegated administrator, no rules kept in other regions, the account asserted', async () => {
      process.env.BACKUP_CONFIG_FILE = join(ROOT, 'infra/config/example-delegated.yml');
      const parts = (await run()) as Parts;
      expect(parts.deploymentMode).toBe('delegated-admin');
      expect(parts.accountEventsBus).toEqual({ Ref: 'BackupEventBus' });
      expect(JSON.parse(parts.busForwarderPrincipals)).toEqual([
        'arn:${AWS::Partition}:iam::*:role/backup-control-plane-event-forwarder',
        'arn:${AWS::Partition}:iam::111122223333:role/backup-control-plane-management-forwarder-*',
      ]);
      expect(
        parts.templateRules.DeployOnlyInTheDelegatedAdministratorAccount!.Assertions[0]!.Assert,
      ).toEqual({
        'Fn::Equals': [{ Ref: 'AWS::AccountId' }, '123456789012'],
      });
      const resources = parts.topicResources.Resources;
      expect(resources.MemberRoleStackSet!.Properties.CallAs).toBe('DELEGATED_ADMIN');
      // The management account's regions are the forwarder template's job there.
      expect(resources.RegionForwarderRole).toBeUndefined();
      expect(parts.onboardingEnvironment.MANAGEMENT_FORWARDING_RULE_ARN).toBeUndefined();
      expect(parts.onboardingEnvironment.CONTROL_TOWER_FORWARDING_RULE_ARN).toBeUndefined();
    });

    it('refuses delegated-admin without the member role from the StackSet, naming the setting', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t.replace(
          'organizationId: o-exampleorg1',
          "organizationId: o-exampleorg1\ndeployment:\n  mode: delegated-admin\n  managementAccountId: '111122223333'\n  delegatedAdministratorAccountId: '123456789012'",
        ),
      );
      await expect(run()).rejects.toThrow(/onboarding\.memberRole: must be \{deploy: stackset\}/);
    });
  });

  describe('the member role (onboarding.memberRole)', () => {
    type Parts = {
      topicResources: {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
        Outputs: Record<string, { Value: unknown }>;
      };
      accessRoleArns: unknown[];
    };
    const withMemberRole = (line: string) =>
      configWith((t) =>
        t.replace(
          '  controlTowerAccessRole: AWSControlTowerExecution',
          `  controlTowerAccessRole: AWSControlTowerExecution\n  memberRole: ${line}`,
        ),
      );
    const roleArn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/${name}` });

    it('stackset: a service-managed StackSet creates the role, and no administrator role is assumed', async () => {
      process.env.BACKUP_CONFIG_FILE = withMemberRole(
        '{ deploy: stackset, organizationalUnitIds: [r-ab12] }',
      );
      const parts = (await run()) as Parts;
      expect(parts.accessRoleArns).toEqual([roleArn('backup-control-plane-member')]);
      const stackSet = parts.topicResources.Resources.MemberRoleStackSet!;
      expect(stackSet.Properties).toMatchObject({
        PermissionModel: 'SERVICE_MANAGED',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
        StackInstancesGroup: [
          { DeploymentTargets: { OrganizationalUnitIds: ['r-ab12'] }, Regions: ['us-east-1'] },
        ],
      });
      const body = JSON.parse(stackSet.Properties.TemplateBody as string) as {
        Resources: { MemberRole: { Properties: Record<string, unknown> } };
      };
      // The baseline's roles too: the member role writes no IAM.
      expect(Object.keys(body.Resources).sort()).toEqual([
        'BackupServiceRole',
        'ForwarderRole',
        'MemberRole',
        'ReadOnlyRole',
      ]);
      const role = body.Resources.MemberRole.Properties;
      expect(role.RoleName).toBe('backup-control-plane-member');
      // Filled per account by CloudFormation, trusting the stack's onboarding role.
      expect(JSON.stringify(role.AssumeRolePolicyDocument)).toContain(
        '{"Fn::Sub":"arn:${AWS::Partition}:iam::${ControlPlaneAccountId}:root"}',
      );
      expect(JSON.stringify(role.Policies)).toContain(
        '{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/backup-control-plane-event-forwarder"}',
      );
      expect(JSON.stringify(role.Policies)).not.toMatch(/iam:(Put|Create|Attach|Update)/);
      expect(parts.topicResources.Outputs.MemberRoleStackSetName!.Value).toBe(
        'backup-control-plane-dev-member-role',
      );
    });

    it('bootstrap: no StackSet; the member role first, the administrator roles to create it', async () => {
      process.env.BACKUP_CONFIG_FILE = withMemberRole('{ deploy: bootstrap }');
      const parts = (await run()) as Parts;
      expect(parts.topicResources.Resources.MemberRoleStackSet).toBeUndefined();
      expect(parts.accessRoleArns).toEqual([
        roleArn('backup-control-plane-member'),
        roleArn('OrganizationAccountAccessRole'),
        roleArn('AWSControlTowerExecution'),
      ]);
    });

    it('refuses a bootstrap whose waits would outlast the onboarding function', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t
          .replace('assumeRoleTimeoutSeconds: 600', 'assumeRoleTimeoutSeconds: 840')
          .replace(
            '  controlTowerAccessRole: AWSControlTowerExecution',
            '  controlTowerAccessRole: AWSControlTowerExecution\n  memberRole: { deploy: bootstrap }',
          ),
      );
      await expect(run()).rejects.toThrow(
        /onboarding\.assumeRoleTimeoutSeconds: must be at most 780 with memberRole\.deploy: bootstrap/,
      );
    });

    it('refuses stackset with onboardManagementAccount (StackSets never reach it)', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t
          .replace('onboardManagementAccount: false', 'onboardManagementAccount: true')
          .replace(
            '  controlTowerAccessRole: AWSControlTowerExecution',
            '  controlTowerAccessRole: AWSControlTowerExecution\n  memberRole: { deploy: stackset, organizationalUnitIds: [r-ab12] }',
          ),
      );
      await expect(run()).rejects.toThrow(
        /onboarding\.memberRole\.deploy: stackset cannot reach the management account/,
      );
    });

    it.each([
      [
        '{ deploy: stackset }',
        /onboarding\.memberRole\.organizationalUnitIds: is required with deploy: stackset/,
      ],
      [
        '{ deploy: stackset, organizationalUnitIds: [Production] }',
        /onboarding\.memberRole\.organizationalUnitIds\.0: must be a root id/,
      ],
      ['{ deploy: always }', /onboarding\.memberRole\.deploy/],
    ])('refuses %s, naming the setting', async (line, message) => {
      process.env.BACKUP_CONFIG_FILE = withMemberRole(line);
      await expect(run()).rejects.toThrow(message);
    });
  });

  describe('partitions', () => {
    const GOVCLOUD = join(ROOT, 'infra/config/example-govcloud.yml');

    it('packages a GovCloud stage in us-gov-west-1, the partition’s Organizations region', async () => {
      process.env.BACKUP_CONFIG_FILE = GOVCLOUD;
      const parts = (await run({ region: 'us-gov-west-1' })) as {
        onboardingEnvironment: Record<string, unknown>;
      };
      expect(parts.onboardingEnvironment.MANAGEMENT_FORWARDING_RULE_ARN).toEqual({
        'Fn::Sub':
          'arn:${AWS::Partition}:events:*:${AWS::AccountId}:rule/backup-control-plane-dev-management-backup-events',
      });
      // The shipped policies name commercial regions: said, not refused.
      expect(stderr.mock.calls.join('')).toMatch(
        /daily-35-days\.json names us-east-1, arn:aws: ARNs, outside the aws-us-gov partition of us-gov-west-1/,
      );
    });

    it.each([
      ['us-gov-east-1', /only in us-gov-west-1 in the aws-us-gov partition/],
      ['cn-north-1', /only in cn-northwest-1 in the aws-cn partition/],
    ])('refuses %s, naming the partition’s region', async (region, message) => {
      process.env.BACKUP_CONFIG_FILE = GOVCLOUD;
      await expect(run({ region })).rejects.toThrow(message);
    });

    it('refuses regions of another partition in the configuration, naming each setting', async () => {
      await expect(run({ region: 'us-gov-west-1' })).rejects.toThrow(
        /onboarding\.profiles\.0\.regions: us-east-1 is in the aws partition, not aws-us-gov/,
      );
    });

    it('warns of a profile whose policies back up in a region it creates nothing in', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t.replace(
          '      backupPolicies: [daily-35-days]',
          '      backupPolicies: [production-critical]',
        ),
      );
      await run();
      expect(stderr.mock.calls.join('')).toMatch(
        /WARNING: backups that nothing creates a vault for, forwards or watches .*\n {2}- onboarding\.profiles\.1: plan org-production-critical backs up in eu-west-1, where profile "default" creates no backup vault \(its regions: us-east-1\)/,
      );
      stderr.mockClear();
      process.env.BACKUP_CONFIG_FILE = configWith((t) => t);
      await run();
      expect(stderr.mock.calls.join('')).not.toMatch(/nothing creates a vault for/);
    });

    it('refuses central backup regions and rule regions of another partition', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t
          .replace('  # regions: [us-east-1, eu-west-1]', '  regions: [us-east-1, us-gov-west-1]')
          .replace(
            'match: { severity: info }',
            "match: { severity: info, region: ['us-gov-east-1'] }",
          ),
      );
      const attempt = run();
      await expect(attempt).rejects.toThrow(
        /centralBackup\.regions: us-gov-west-1 is in the aws-us-gov partition, not aws/,
      );
      await expect(attempt).rejects.toThrow(
        /notifications\.rules\.1\.match\.region: us-gov-east-1 is in the aws-us-gov partition/,
      );
    });

    it('refuses a topic of another region: SNS publishes only to a topic of its own region', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t.replace(
          /^ {2}topics:\n {4}chat:\n/m,
          '  topics:\n    chat:\n      arn: arn:aws:sns:eu-west-1:111122223333:backup-alerts\n',
        ),
      );
      await expect(run()).rejects.toThrow(
        /notifications\.topics\.chat\.arn: the topic is in eu-west-1 \(aws\); the functions publish from us-east-1/,
      );
    });

    it('refuses the China regions, naming SES as the reason', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t
          .replace(/\[us-east-1, eu-west-1\]/, '[cn-northwest-1]')
          .replace(/regions: \[us-east-1\]/, 'regions: [cn-north-1]'),
      );
      await expect(run({ region: 'cn-northwest-1' })).rejects.toThrow(
        /notifications\.email: Amazon SES is not offered in the China regions/,
      );
    });

    it('refuses Slack and Teams channels outside the commercial partition', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t
          .replace(/\[us-east-1, eu-west-1\]/, '[us-gov-west-1]')
          .replace(/regions: \[us-east-1\]/, 'regions: [us-gov-west-1]'),
      );
      await expect(run({ region: 'us-gov-west-1' })).rejects.toThrow(
        /notifications\.topics\.chat\.slack: Amazon Q Developer in chat applications is not offered in aws-us-gov/,
      );
    });
  });

  describe('chat channels and subscribers', () => {
    type Resources = Record<
      string,
      { Type: string; Condition?: string; Properties: Record<string, unknown> }
    >;
    const topicsPart = async () =>
      (await run()).topicResources as {
        Resources: Resources;
        Conditions?: Record<string, unknown>;
      };
    const withChat = (chat: string) =>
      configWith((t) =>
        t.replace(/^ {2}topics:\n {4}chat:\n( {4}.*\n)*/m, `  topics:\n    chat:\n${chat}\n`),
      );

    it('subscribes email, HTTPS and Lambda endpoints with their filter policies', async () => {
      process.env.BACKUP_CONFIG_FILE = withChat(
        [
          '      subscribers:',
          '        - { protocol: email, endpoint: oncall@example.com, filter: { severity: [error] } }',
          "        - { protocol: https, endpoint: 'https://hooks.example.com/backup' }",
          "        - { protocol: lambda, endpoint: 'arn:aws:lambda:us-east-1:123456789012:function:pager' }",
        ].join('\n'),
      );
      const { Resources, Conditions } = await topicsPart();
      expect(Resources.ChatSubscriber1).toEqual({
        Type: 'AWS::SNS::Subscription',
        Properties: {
          TopicArn: { Ref: 'ChatTopic' },
          Protocol: 'email',
          Endpoint: 'oncall@example.com',
          FilterPolicyScope: 'MessageAttributes',
          FilterPolicy: { severity: ['error'] },
        },
      });
      expect(Resources.ChatSubscriber2!.Properties.FilterPolicy).toBeUndefined();
      // SNS may invoke a function of this account only with its permission; elsewhere its owner's.
      expect(Resources.ChatSubscriber3Permission).toMatchObject({
        Type: 'AWS::Lambda::Permission',
        Condition: 'ChatSubscriber3InThisAccount',
        Properties: { Principal: 'sns.amazonaws.com', SourceArn: { Ref: 'ChatTopic' } },
      });
      expect(Conditions?.ChatSubscriber3InThisAccount).toEqual({
        'Fn::And': [
          { 'Fn::Equals': ['123456789012', { Ref: 'AWS::AccountId' }] },
          { 'Fn::Equals': ['us-east-1', { Ref: 'AWS::Region' }] },
        ],
      });
      expect(Object.values(Resources).some((r) => r.Type.startsWith('AWS::Chatbot::'))).toBe(false);
    });

    it('lets an unfiltered channel read the topic itself', async () => {
      process.env.BACKUP_CONFIG_FILE = withChat(
        [
          '      slack:',
          '        - { name: everything, workspaceId: T0123ABCDEF, channelId: C0123ABCDEF }',
        ].join('\n'),
      );
      const { Resources } = await topicsPart();
      expect(Resources.ChatEverythingSlackChannel!.Properties.SnsTopicArns).toEqual([
        { Ref: 'ChatTopic' },
      ]);
      expect(Object.keys(Resources).filter((id) => id.endsWith('ChannelTopic'))).toEqual([]);
    });

    it('names a filter attribute that is misspelt, and a value the attribute never takes', async () => {
      process.env.BACKUP_CONFIG_FILE = withChat(
        [
          '      slack:',
          '        - { name: a, workspaceId: T0123ABCDEF, channelId: C0123ABCDEF, filter: { sevrity: [error] } }',
          '        - { name: b, workspaceId: T0123ABCDEF, channelId: C0123ABCDEF, filter: { severity: [eror] } }',
        ].join('\n'),
      );
      await expect(run()).rejects.toThrow(
        /notifications\.topics\.chat\.slack\.0\.filter: .*sevrity/,
      );
      await expect(run()).rejects.toThrow(/notifications\.topics\.chat\.slack\.1\.filter: .*eror/);
    });

    it('names a Slack channel given by name instead of id, and a Teams id of the wrong form', async () => {
      process.env.BACKUP_CONFIG_FILE = withChat(
        [
          '      slack:',
          "        - { name: a, workspaceId: T0123ABCDEF, channelId: '#backups' }",
          '      teams:',
          '        - { name: b, teamId: not-a-guid, tenantId: 2b3c4d5e-6f70-4812-93a4-b5c6d7e8f901, channelId: general }',
        ].join('\n'),
      );
      await expect(run()).rejects.toThrow(/slack\.0\.channelId: must be a Slack channel id/);
      await expect(run()).rejects.toThrow(/teams\.0\.teamId: must be the Microsoft Teams team id/);
      await expect(run()).rejects.toThrow(/teams\.0\.channelId: must be a Teams channel id/);
    });

    it('refuses two channels that would become one resource, naming both', async () => {
      process.env.BACKUP_CONFIG_FILE = configWith((t) =>
        t.replace(
          /^ {2}topics:\n {4}chat:\n( {4}.*\n)*/m,
          [
            '  topics:',
            '    chat:',
            '      slack:',
            '        - { name: a-b, workspaceId: T0123ABCDEF, channelId: C0123ABCDE1 }',
            '    chat-a:',
            '      slack:',
            '        - { name: b, workspaceId: T0123ABCDEF, channelId: C0123ABCDE2 }',
            '',
          ].join('\n'),
        ),
      );
      await expect(run()).rejects.toThrow(
        /notifications\.topics\.chat\.slack "a-b" and notifications\.topics\.chat-a\.slack "b" would both become ChatABSlack/,
      );
    });

    it('refuses the same Slack channel in two configurations', async () => {
      process.env.BACKUP_CONFIG_FILE = withChat(
        [
          '      slack:',
          '        - { name: a, workspaceId: T0123ABCDEF, channelId: C0123ABCDEF, filter: { severity: [error] } }',
          '        - { name: b, workspaceId: T0123ABCDEF, channelId: C0123ABCDEF }',
        ].join('\n'),
      );
      await expect(run()).rejects.toThrow(
        /notifications\.topics\.chat\.slack\.1\.channelId: the same chat channel as notifications\.topics\.chat\.slack\.0/,
      );
    });

    it('refuses channels on a topic that chat applications may not read', async () => {
      process.env.BACKUP_CONFIG_FILE = withChat(
        [
          '      chat: false',
          '      slack:',
          '        - { name: a, workspaceId: T0123ABCDEF, channelId: C0123ABCDEF }',
        ].join('\n'),
      );
      await expect(run()).rejects.toThrow(
        /notifications\.topics\.chat\.chat: must be true when slack or teams/,
      );
    });
  });
});

describe('infra/management-forwarder.yml', () => {
  it('names the rules the tamper alerts and doctor know, no more and no fewer', () => {
    const template = readFileSync(join(ROOT, 'infra/management-forwarder.yml'), 'utf8');
    const names = [...template.matchAll(/^ {6}Name: (backup-control-plane-[\w-]+)$/gm)].map(
      (m) => m[1],
    );
    expect(names.sort()).toEqual(Object.values(MANAGEMENT_FORWARDER_RULES).sort());
    // The central bus's policy admits exactly its roles' names.
    expect(template).toContain(
      'RoleName: !Sub backup-control-plane-management-forwarder-${AWS::Region}',
    );
  });
});
