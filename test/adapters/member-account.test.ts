import {
  AlreadyExistsException as BackupAlreadyExistsException,
  BackupClient,
  CreateBackupVaultCommand,
  DescribeBackupVaultCommand,
  GetBackupVaultAccessPolicyCommand,
  PutBackupVaultAccessPolicyCommand,
  PutBackupVaultLockConfigurationCommand,
  ResourceNotFoundException as BackupNotFoundException,
} from '@aws-sdk/client-backup';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceNotFoundException as EventsNotFoundException,
} from '@aws-sdk/client-eventbridge';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AlreadyExistsException as KmsAlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  NotFoundException as KmsNotFoundException,
  PutKeyPolicyCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  memberAccount,
  parsePolicy,
  StsAccountAccess,
} from '../../functions/shared/adapters/member-account';

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const kms = mockClient(KMSClient);
const backup = mockClient(BackupClient);
const events = mockClient(EventBridgeClient);

const ACCOUNT = '222233334444';
const CREDENTIALS = { accessKeyId: 'ASIAMEMBER', secretAccessKey: 'secret', sessionToken: 'tok' };
const member = () => memberAccount(ACCOUNT, CREDENTIALS);

const TRUST = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
};
const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

const meta = { $metadata: {} };

beforeEach(() => {
  sts.reset();
  iam.reset();
  kms.reset();
  backup.reset();
  events.reset();
});

describe('StsAccountAccess', () => {
  beforeEach(() => {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: CREDENTIALS.accessKeyId,
        SecretAccessKey: CREDENTIALS.secretAccessKey,
        SessionToken: CREDENTIALS.sessionToken,
        Expiration: new Date('2025-03-13T04:05:00Z'),
      },
    });
  });

  it('assumes the role in the account for an hour', async () => {
    const m = await new StsAccountAccess(new STSClient({ region: 'us-east-1' })).assume(
      ACCOUNT,
      'OrganizationAccountAccessRole',
    );
    expect(m.accountId).toBe(ACCOUNT);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'backup-control-plane-onboarding',
      DurationSeconds: 3600,
    });
  });

  it('uses the aws-cn partition from a China region, and the given session name', async () => {
    await new StsAccountAccess(new STSClient({ region: 'cn-north-1' }), 'backupctl').assume(
      ACCOUNT,
      'AWSControlTowerExecution',
    );
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws-cn:iam::${ACCOUNT}:role/AWSControlTowerExecution`,
      RoleSessionName: 'backupctl',
    });
  });

  it('uses the aws-us-gov partition and IAM’s GovCloud region from a GovCloud region', async () => {
    const m = await new StsAccountAccess(new STSClient({ region: 'us-gov-west-1' })).assume(
      ACCOUNT,
      'OrganizationAccountAccessRole',
    );
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws-us-gov:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`,
    });
    iam.on(GetRoleCommand).resolves({ Role: undefined });
    await m.iam.getRole('x').catch(() => undefined);
    const client = iam.commandCalls(GetRoleCommand)[0]!.thisValue as IAMClient;
    expect(await client.config.region()).toBe('us-gov-west-1');
  });

  it('builds the account’s clients with the assumed credentials, in the asked region', async () => {
    const m = await new StsAccountAccess(new STSClient({ region: 'us-east-1' })).assume(
      ACCOUNT,
      'OrganizationAccountAccessRole',
    );
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
    await m.kms('eu-west-1').rotationEnabled(KEY_ID);
    const client = kms.commandCalls(GetKeyRotationStatusCommand)[0]!.thisValue as KMSClient;
    await expect(client.config.region()).resolves.toBe('eu-west-1');
    await expect(client.config.credentials()).resolves.toMatchObject({
      accessKeyId: 'ASIAMEMBER',
      secretAccessKey: 'secret',
      sessionToken: 'tok',
    });
  });

  it('lets a refusal through (the caller retries)', async () => {
    sts.on(AssumeRoleCommand).rejects(
      Object.assign(new Error('is not authorized to perform: sts:AssumeRole'), {
        name: 'AccessDenied',
      }),
    );
    await expect(
      new StsAccountAccess(new STSClient({ region: 'us-east-1' })).assume(ACCOUNT, 'Missing'),
    ).rejects.toThrow('sts:AssumeRole');
  });
});

describe('memberAccount', () => {
  it('makes one client per region and reuses it', () => {
    const m = member();
    expect(m.kms('eu-west-1')).toBe(m.kms('eu-west-1'));
    expect(m.kms('eu-west-1')).not.toBe(m.kms('us-east-1'));
    expect(m.backup('eu-west-1')).toBe(m.backup('eu-west-1'));
    expect(m.events('eu-west-1')).toBe(m.events('eu-west-1'));
  });
});

describe('parsePolicy', () => {
  it('parses plain and URL-encoded JSON, and nothing as undefined', () => {
    expect(parsePolicy(JSON.stringify(TRUST))).toEqual(TRUST);
    expect(parsePolicy(encodeURIComponent(JSON.stringify(TRUST)))).toEqual(TRUST);
    expect(parsePolicy(undefined)).toBeUndefined();
    expect(parsePolicy('')).toBeUndefined();
  });
});

describe('member IAM', () => {
  it('reads a role and decodes its URL-encoded trust policy', async () => {
    iam.on(GetRoleCommand, { RoleName: 'backup-control-plane-backup-service' }).resolves({
      Role: {
        RoleName: 'backup-control-plane-backup-service',
        Arn: `arn:aws:iam::${ACCOUNT}:role/backup-control-plane-backup-service`,
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(TRUST)),
        Path: '/',
        RoleId: 'AROA',
        CreateDate: new Date(),
      },
    });
    await expect(member().iam.getRole('backup-control-plane-backup-service')).resolves.toEqual({
      arn: `arn:aws:iam::${ACCOUNT}:role/backup-control-plane-backup-service`,
      trustPolicy: TRUST,
    });
  });

  it('answers undefined for a role that does not exist', async () => {
    iam
      .on(GetRoleCommand)
      .rejects(new NoSuchEntityException({ message: 'The role cannot be found.', ...meta }));
    await expect(member().iam.getRole('missing')).resolves.toBeUndefined();
  });

  it('lets other errors reading a role through', async () => {
    iam
      .on(GetRoleCommand)
      .rejects(Object.assign(new Error('not authorized to perform: iam:GetRole'), meta));
    await expect(member().iam.getRole('x')).rejects.toThrow('iam:GetRole');
  });

  it('creates a role with its trust policy, description and tags', async () => {
    iam.on(CreateRoleCommand).resolves({
      Role: {
        Arn: `arn:aws:iam::${ACCOUNT}:role/r`,
        RoleName: 'r',
        Path: '/',
        RoleId: 'AROA',
        CreateDate: new Date(),
      },
    });
    await expect(
      member().iam.createRole('r', TRUST, 'a role', { 'managed-by': 'backup-control-plane' }),
    ).resolves.toEqual({ arn: `arn:aws:iam::${ACCOUNT}:role/r` });
    expect(iam).toHaveReceivedCommandWith(CreateRoleCommand, {
      RoleName: 'r',
      AssumeRolePolicyDocument: JSON.stringify(TRUST),
      Description: 'a role',
      Tags: [{ Key: 'managed-by', Value: 'backup-control-plane' }],
    });
  });

  it('on EntityAlreadyExists updates the trust policy and returns the existing ARN', async () => {
    iam
      .on(CreateRoleCommand)
      .rejects(new EntityAlreadyExistsException({ message: 'Role r already exists.', ...meta }));
    iam.on(UpdateAssumeRolePolicyCommand).resolves({});
    iam.on(GetRoleCommand).resolves({
      Role: {
        Arn: `arn:aws:iam::${ACCOUNT}:role/r`,
        RoleName: 'r',
        Path: '/',
        RoleId: 'AROA',
        CreateDate: new Date(),
        AssumeRolePolicyDocument: JSON.stringify(TRUST),
      },
    });
    await expect(member().iam.createRole('r', TRUST, 'a role', {})).resolves.toEqual({
      arn: `arn:aws:iam::${ACCOUNT}:role/r`,
    });
    expect(iam).toHaveReceivedCommandWith(UpdateAssumeRolePolicyCommand, {
      RoleName: 'r',
      PolicyDocument: JSON.stringify(TRUST),
    });
  });

  it('updates a trust policy', async () => {
    iam.on(UpdateAssumeRolePolicyCommand).resolves({});
    await member().iam.updateTrustPolicy('r', TRUST);
    expect(iam).toHaveReceivedCommandWith(UpdateAssumeRolePolicyCommand, {
      RoleName: 'r',
      PolicyDocument: JSON.stringify(TRUST),
    });
  });

  it('lists attached managed policies across pages', async () => {
    iam.on(ListAttachedRolePoliciesCommand).callsFake((input: { Marker?: string }) =>
      input.Marker
        ? { AttachedPolicies: [{ PolicyArn: 'arn:b' }], IsTruncated: false }
        : {
            AttachedPolicies: [{ PolicyArn: 'arn:a' }, { PolicyName: 'no-arn' }],
            IsTruncated: true,
            Marker: 'm2',
          },
    );
    await expect(member().iam.attachedPolicyArns('r')).resolves.toEqual(['arn:a', 'arn:b']);
    expect(iam).toHaveReceivedCommandWith(ListAttachedRolePoliciesCommand, {
      RoleName: 'r',
      Marker: 'm2',
    });
  });

  it('attaches a managed policy', async () => {
    iam.on(AttachRolePolicyCommand).resolves({});
    await member().iam.attachPolicy('r', 'arn:aws:iam::aws:policy/x');
    expect(iam).toHaveReceivedCommandWith(AttachRolePolicyCommand, {
      RoleName: 'r',
      PolicyArn: 'arn:aws:iam::aws:policy/x',
    });
  });

  it('reads an inline policy (URL-encoded), or undefined when there is none', async () => {
    iam
      .on(GetRolePolicyCommand, { PolicyName: 'read-aws-backup' })
      .resolves({
        RoleName: 'r',
        PolicyName: 'read-aws-backup',
        PolicyDocument: encodeURIComponent(JSON.stringify(TRUST)),
      })
      .on(GetRolePolicyCommand, { PolicyName: 'missing' })
      .rejects(new NoSuchEntityException({ message: 'not found', ...meta }));
    await expect(member().iam.getInlinePolicy('r', 'read-aws-backup')).resolves.toEqual(TRUST);
    await expect(member().iam.getInlinePolicy('r', 'missing')).resolves.toBeUndefined();
  });

  it('puts an inline policy', async () => {
    iam.on(PutRolePolicyCommand).resolves({});
    await member().iam.putInlinePolicy('r', 'p', TRUST);
    expect(iam).toHaveReceivedCommandWith(PutRolePolicyCommand, {
      RoleName: 'r',
      PolicyName: 'p',
      PolicyDocument: JSON.stringify(TRUST),
    });
  });
});

describe('member KMS', () => {
  describe('a key left without its alias by a run that stopped', () => {
    const OTHER = 'ffff0000-12ab-34cd-56ef-1234567890ab';
    const tagged = {
      Tags: [{ TagKey: 'backup-control-plane:alias', TagValue: 'alias/backup-control-plane' }],
    };

    it('is found by its tag when it is enabled and has no alias', async () => {
      kms.on(ListKeysCommand).resolves({ Keys: [{ KeyId: OTHER }, { KeyId: KEY_ID }] });
      kms.on(ListResourceTagsCommand, { KeyId: OTHER }).resolves({ Tags: [] });
      kms.on(ListResourceTagsCommand, { KeyId: KEY_ID }).resolves(tagged);
      kms.on(DescribeKeyCommand, { KeyId: KEY_ID }).resolves({
        KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: 'Enabled' },
      });
      kms.on(ListAliasesCommand, { KeyId: KEY_ID }).resolves({ Aliases: [] });
      await expect(
        member().kms('eu-west-1').findUnaliasedKey('alias/backup-control-plane'),
      ).resolves.toEqual({ keyId: KEY_ID, keyArn: KEY_ARN });
      expect(kms).not.toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: OTHER });
    });

    it.each([
      ['pending deletion', 'PendingDeletion', []],
      ['already aliased', 'Enabled', [{ AliasName: 'alias/backup-control-plane' }]],
    ])('is not taken when %s', async (_case, state, aliases) => {
      kms.on(ListKeysCommand).resolves({ Keys: [{ KeyId: KEY_ID }] });
      kms.on(ListResourceTagsCommand).resolves(tagged);
      kms.on(DescribeKeyCommand).resolves({
        KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: state as 'Enabled' },
      });
      kms.on(ListAliasesCommand).resolves({ Aliases: aliases });
      await expect(
        member().kms('eu-west-1').findUnaliasedKey('alias/backup-control-plane'),
      ).resolves.toBeUndefined();
    });
  });

  it('finds the key behind an alias', async () => {
    kms.on(DescribeKeyCommand, { KeyId: 'alias/backup-control-plane' }).resolves({
      KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: 'Enabled' },
    });
    await expect(
      member().kms('eu-west-1').findAlias('alias/backup-control-plane'),
    ).resolves.toEqual({ keyId: KEY_ID, keyArn: KEY_ARN });
  });

  it('answers undefined for an alias that does not exist', async () => {
    kms
      .on(DescribeKeyCommand)
      .rejects(new KmsNotFoundException({ message: 'Alias is not found.', ...meta }));
    await expect(member().kms('eu-west-1').findAlias('alias/x')).resolves.toBeUndefined();
  });

  it('answers undefined for a key pending deletion', async () => {
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: 'PendingDeletion' },
    });
    await expect(member().kms('eu-west-1').findAlias('alias/x')).resolves.toBeUndefined();
  });

  it('lets other errors finding the alias through', async () => {
    kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('AccessDeniedException'), meta));
    await expect(member().kms('eu-west-1').findAlias('alias/x')).rejects.toThrow(
      'AccessDeniedException',
    );
  });

  it('creates a key with its policy and tags', async () => {
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN } });
    await expect(
      member().kms('eu-west-1').createKey('vault key', TRUST, { 'managed-by': 'bcp' }),
    ).resolves.toEqual({ keyId: KEY_ID, keyArn: KEY_ARN });
    expect(kms).toHaveReceivedCommandWith(CreateKeyCommand, {
      Description: 'vault key',
      Policy: JSON.stringify(TRUST),
      Tags: [{ TagKey: 'managed-by', TagValue: 'bcp' }],
    });
  });

  it('creates an alias', async () => {
    kms.on(CreateAliasCommand).resolves({});
    await member().kms('eu-west-1').createAlias('alias/backup-control-plane', KEY_ID);
    expect(kms).toHaveReceivedCommandWith(CreateAliasCommand, {
      AliasName: 'alias/backup-control-plane',
      TargetKeyId: KEY_ID,
    });
  });

  // BUG (member-account.ts, Kms.createAlias; with findAlias answering undefined for a key
  // pending deletion): an alias stays on its key until the key is deleted (7–30 days). For a
  // key pending deletion, onboarding creates a new key and then CreateAlias fails with
  // AlreadyExistsException, on every run: the account never becomes ready and each run leaves
  // one more key. "Already exists" should re-point the alias (UpdateAlias) to the new key.
  it('re-points an alias that already exists (left on a key pending deletion)', async () => {
    kms
      .on(CreateAliasCommand)
      .rejects(new KmsAlreadyExistsException({ message: 'alias already exists', ...meta }));
    kms.on(UpdateAliasCommand).resolves({});
    await expect(
      member().kms('eu-west-1').createAlias('alias/backup-control-plane', KEY_ID),
    ).resolves.toBeUndefined();
    expect(kms).toHaveReceivedCommandWith(UpdateAliasCommand, {
      AliasName: 'alias/backup-control-plane',
      TargetKeyId: KEY_ID,
    });
  });

  it('reads and writes the default key policy', async () => {
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(TRUST) });
    kms.on(PutKeyPolicyCommand).resolves({});
    const k = member().kms('eu-west-1');
    await expect(k.getKeyPolicy(KEY_ID)).resolves.toEqual(TRUST);
    await k.putKeyPolicy(KEY_ID, TRUST);
    expect(kms).toHaveReceivedCommandWith(GetKeyPolicyCommand, {
      KeyId: KEY_ID,
      PolicyName: 'default',
    });
    expect(kms).toHaveReceivedCommandWith(PutKeyPolicyCommand, {
      KeyId: KEY_ID,
      PolicyName: 'default',
      Policy: JSON.stringify(TRUST),
    });
  });

  it('reads and enables rotation', async () => {
    kms.on(GetKeyRotationStatusCommand).resolvesOnce({ KeyRotationEnabled: true }).resolves({});
    kms.on(EnableKeyRotationCommand).resolves({});
    const k = member().kms('eu-west-1');
    await expect(k.rotationEnabled(KEY_ID)).resolves.toBe(true);
    await expect(k.rotationEnabled(KEY_ID)).resolves.toBe(false); // no answer: not enabled
    await k.enableRotation(KEY_ID);
    expect(kms).toHaveReceivedCommandWith(EnableKeyRotationCommand, { KeyId: KEY_ID });
  });
});

describe('member Backup', () => {
  it('describes a vault with its key', async () => {
    backup.on(DescribeBackupVaultCommand, { BackupVaultName: 'org-backup-vault' }).resolves({
      BackupVaultArn: `arn:aws:backup:eu-west-1:${ACCOUNT}:backup-vault:org-backup-vault`,
      EncryptionKeyArn: KEY_ARN,
    });
    await expect(member().backup('eu-west-1').describeVault('org-backup-vault')).resolves.toEqual({
      arn: `arn:aws:backup:eu-west-1:${ACCOUNT}:backup-vault:org-backup-vault`,
      encryptionKeyArn: KEY_ARN,
    });
  });

  it('describes a vault’s lock', async () => {
    const lockDate = new Date('2026-12-03T00:00:00Z');
    backup.on(DescribeBackupVaultCommand).resolves({
      BackupVaultArn: 'arn:vault',
      EncryptionKeyArn: KEY_ARN,
      Locked: true,
      MinRetentionDays: 7,
      MaxRetentionDays: 3650,
      LockDate: lockDate,
    });
    await expect(member().backup('eu-west-1').describeVault('v')).resolves.toEqual({
      arn: 'arn:vault',
      encryptionKeyArn: KEY_ARN,
      locked: true,
      minRetentionDays: 7,
      maxRetentionDays: 3650,
      lockDate,
    });
  });

  it('reads a vault’s access policy, and none when AWS says there is none', async () => {
    const policy = { Version: '2012-10-17', Statement: [{ Sid: 'x', Effect: 'Allow' }] };
    backup
      .on(GetBackupVaultAccessPolicyCommand, { BackupVaultName: 'v' })
      .resolves({ Policy: JSON.stringify(policy) });
    await expect(member().backup('eu-west-1').vaultAccessPolicy('v')).resolves.toEqual(policy);
    backup
      .on(GetBackupVaultAccessPolicyCommand, { BackupVaultName: 'w' })
      .rejects(new BackupNotFoundException({ message: 'no policy', ...meta }));
    await expect(member().backup('eu-west-1').vaultAccessPolicy('w')).resolves.toBeUndefined();
  });

  it('puts the access policy as JSON and the lock with only the settings given', async () => {
    backup.on(PutBackupVaultAccessPolicyCommand).resolves({});
    backup.on(PutBackupVaultLockConfigurationCommand).resolves({});
    const b = member().backup('eu-west-1');
    await b.putVaultAccessPolicy('v', { Version: '2012-10-17', Statement: [] });
    await b.putVaultLock('v', { minRetentionDays: 7 });
    await b.putVaultLock('v', { minRetentionDays: 7, maxRetentionDays: 30, changeableForDays: 3 });
    expect(backup).toHaveReceivedCommandWith(PutBackupVaultAccessPolicyCommand, {
      BackupVaultName: 'v',
      Policy: '{"Version":"2012-10-17","Statement":[]}',
    });
    const locks = backup
      .commandCalls(PutBackupVaultLockConfigurationCommand)
      .map((c) => c.args[0].input);
    expect(locks).toEqual([
      { BackupVaultName: 'v', MinRetentionDays: 7 },
      { BackupVaultName: 'v', MinRetentionDays: 7, MaxRetentionDays: 30, ChangeableForDays: 3 },
    ]);
  });

  it.each([
    [
      'ResourceNotFoundException',
      () => new BackupNotFoundException({ message: 'no vault', ...meta }),
    ],
    [
      'an error named NotFoundException',
      () => Object.assign(new Error('no vault'), { name: 'NotFoundException', ...meta }),
    ],
    [
      'any error with HTTP status 404',
      () =>
        Object.assign(new Error('UnknownError'), {
          name: 'Unknown',
          $metadata: { httpStatusCode: 404 },
        }),
    ],
  ])('answers undefined for a missing vault reported as %s', async (_name, error) => {
    backup.on(DescribeBackupVaultCommand).rejects(error());
    await expect(member().backup('eu-west-1').describeVault('v')).resolves.toBeUndefined();
  });

  it('lets other errors describing the vault through', async () => {
    backup.on(DescribeBackupVaultCommand).rejects(
      Object.assign(new Error('Insufficient privileges'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    await expect(member().backup('eu-west-1').describeVault('v')).rejects.toThrow(
      'Insufficient privileges',
    );
  });

  it('creates a vault with the key and tags', async () => {
    backup.on(CreateBackupVaultCommand).resolves({ BackupVaultArn: 'arn:vault' });
    await expect(
      member().backup('eu-west-1').createVault('v', KEY_ARN, { 'managed-by': 'bcp' }),
    ).resolves.toEqual({ arn: 'arn:vault' });
    expect(backup).toHaveReceivedCommandWith(CreateBackupVaultCommand, {
      BackupVaultName: 'v',
      EncryptionKeyArn: KEY_ARN,
      BackupVaultTags: { 'managed-by': 'bcp' },
    });
  });

  it('counts a vault that already exists as created, returning its ARN', async () => {
    backup
      .on(CreateBackupVaultCommand)
      .rejects(new BackupAlreadyExistsException({ message: 'exists', ...meta }));
    backup.on(DescribeBackupVaultCommand).resolves({ BackupVaultArn: 'arn:existing' });
    await expect(member().backup('eu-west-1').createVault('v', KEY_ARN, {})).resolves.toEqual({
      arn: 'arn:existing',
    });
  });
});

describe('member EventBridge', () => {
  it('describes a rule with its parsed pattern', async () => {
    const pattern = { source: ['aws.backup'] };
    events.on(DescribeRuleCommand, { Name: 'fwd' }).resolves({
      Arn: 'arn:rule',
      State: 'DISABLED',
      EventPattern: JSON.stringify(pattern),
      Description: 'd',
    });
    await expect(member().events('eu-west-1').describeRule('fwd')).resolves.toEqual({
      arn: 'arn:rule',
      state: 'DISABLED',
      pattern,
      description: 'd',
    });
  });

  it('takes a rule without State as enabled and without pattern as empty', async () => {
    events.on(DescribeRuleCommand).resolves({ Arn: 'arn:rule' });
    await expect(member().events('eu-west-1').describeRule('fwd')).resolves.toMatchObject({
      state: 'ENABLED',
      pattern: {},
    });
  });

  it('answers undefined for a rule that does not exist', async () => {
    events
      .on(DescribeRuleCommand)
      .rejects(new EventsNotFoundException({ message: 'Rule fwd does not exist.', ...meta }));
    await expect(member().events('eu-west-1').describeRule('fwd')).resolves.toBeUndefined();
  });

  it('puts the rule enabled, with its pattern', async () => {
    events.on(PutRuleCommand).resolves({ RuleArn: 'arn:rule' });
    await expect(
      member()
        .events('eu-west-1')
        .putRule('fwd', { source: ['aws.backup'] }, 'd'),
    ).resolves.toEqual({ arn: 'arn:rule' });
    expect(events).toHaveReceivedCommandWith(PutRuleCommand, {
      Name: 'fwd',
      EventPattern: '{"source":["aws.backup"]}',
      Description: 'd',
      State: 'ENABLED',
    });
  });

  it('lists the targets of a rule', async () => {
    events.on(ListTargetsByRuleCommand).resolves({
      Targets: [{ Id: 'central-backup-bus', Arn: 'arn:bus', RoleArn: 'arn:role' }],
    });
    await expect(member().events('eu-west-1').targets('fwd')).resolves.toEqual([
      { id: 'central-backup-bus', arn: 'arn:bus', roleArn: 'arn:role' },
    ]);
  });

  it('puts a target', async () => {
    events.on(PutTargetsCommand).resolves({ FailedEntryCount: 0, FailedEntries: [] });
    await member()
      .events('eu-west-1')
      .putTarget('fwd', { id: 'central-backup-bus', arn: 'arn:bus', roleArn: 'arn:role' });
    expect(events).toHaveReceivedCommandWith(PutTargetsCommand, {
      Rule: 'fwd',
      Targets: [{ Id: 'central-backup-bus', Arn: 'arn:bus', RoleArn: 'arn:role' }],
    });
  });

  it('throws when PutTargets reports a failed entry', async () => {
    events.on(PutTargetsCommand).resolves({
      FailedEntryCount: 1,
      FailedEntries: [
        { TargetId: 'central-backup-bus', ErrorCode: 'AccessDeniedException', ErrorMessage: 'no' },
      ],
    });
    await expect(
      member().events('eu-west-1').putTarget('fwd', { id: 'central-backup-bus', arn: 'arn:bus' }),
    ).rejects.toThrow('PutTargets failed for fwd: AccessDeniedException no');
  });
});
