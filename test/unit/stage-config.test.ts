import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      /region eu-west-1 is not supported: AWS Organizations events reach EventBridge only in us-east-1/,
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
          ...Array.from(
            { length: 80 },
            (_, i) => `      list${i}: [someone-with-a-long-address-${i}@example.com]`,
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
        }),
        CENTRAL_BUS_ARN:
          'arn:aws:events:us-east-1:123456789012:event-bus/backup-control-plane-sandbox-backup-events',
      });
      expect(Object.values(env).every((v) => typeof v === 'string')).toBe(true);
    } finally {
      process.argv = argv;
    }
  });
});
