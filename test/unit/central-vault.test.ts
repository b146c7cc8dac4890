import { onboardAccount, type OnboardRequest } from '../../functions/onboard-account/onboard';
import {
  admitsOrganization,
  CENTRAL_VAULT_POLICY_SID,
  centralVaultPolicyStatement,
  lockDecision,
  wantedVaultPolicy,
} from '../../functions/onboard-account/resources/central-vault';
import { centralVault } from '../../functions/shared/central-backup';
import { ConfigSchema } from '../../functions/shared/config/schema';
import type { AccountRecord } from '../../functions/shared/ports';
import {
  MEMBER_ID,
  ORG_ID,
  onboardingWorld,
  type OnboardingWorld,
} from '../helpers/onboarding-fakes';
import { exampleConfig } from '../helpers/fixtures';

const VAULT = 'org-central-vault';
const NOW = new Date('2025-03-13T03:05:00.000Z');

/** The fakes' one account made the central backup account, its vault in two regions. */
function centralWorld(lock?: NonNullable<OnboardingWorld['config']['centralBackup']>['vaultLock']) {
  const w = onboardingWorld();
  w.config.centralBackup = {
    accountId: MEMBER_ID,
    vaultName: VAULT,
    // us-east-1 is the profile's region; eu-west-1 is the central vault's only.
    regions: ['us-east-1', 'eu-west-1'],
    ...(lock ? { vaultLock: lock } : {}),
  };
  return w;
}

/** Every run here ends ready, failed or planned: each has its changes (and a record unless planned). */
type Ran = { outcome: string; changes: string[]; record: AccountRecord };
const run = async (w: OnboardingWorld, req: Partial<OnboardRequest> = {}) =>
  (await onboardAccount({ accountId: MEMBER_ID, trigger: 'Manual', ...req }, w.deps)) as Ran;

const statements = (policy: unknown) =>
  ((policy as { Statement: Record<string, unknown>[] }).Statement ?? []).map((s) => s.Sid);

describe('lockDecision', () => {
  const governance = { mode: 'governance' as const, minRetentionDays: 7, maxRetentionDays: 400 };
  const compliance = { ...governance, mode: 'compliance' as const, changeableForDays: 5 };

  it.each<[string, Parameters<typeof lockDecision>[0], Parameters<typeof lockDecision>[1], string]>(
    [
      ['nothing configured, nothing locked', {}, undefined, 'none'],
      // Never removed: a lock someone set stays when the configuration has none.
      [
        'nothing configured, a lock there',
        { locked: true, minRetentionDays: 1 },
        undefined,
        'none',
      ],
      ['governance wanted, none there', {}, governance, 'put'],
      [
        'governance as configured',
        { locked: true, minRetentionDays: 7, maxRetentionDays: 400 },
        governance,
        'none',
      ],
      [
        'governance with a longer minimum wanted',
        { locked: true, minRetentionDays: 1, maxRetentionDays: 400 },
        governance,
        'put',
      ],
      [
        'governance with a shorter minimum wanted (never weakened)',
        { locked: true, minRetentionDays: 30, maxRetentionDays: 400 },
        governance,
        'weaker',
      ],
      [
        'compliance in its grace time, governance wanted (never weakened)',
        {
          locked: true,
          minRetentionDays: 7,
          maxRetentionDays: 400,
          lockDate: new Date('2025-03-15T00:00:00Z'),
        },
        governance,
        'weaker',
      ],
      [
        'compliance wanted, governance there',
        { locked: true, minRetentionDays: 7, maxRetentionDays: 400 },
        compliance,
        'put',
      ],
      [
        'compliance in its grace time as configured (not put again: that would restart the grace)',
        {
          locked: true,
          minRetentionDays: 7,
          maxRetentionDays: 400,
          lockDate: new Date('2025-03-15T00:00:00Z'),
        },
        compliance,
        'none',
      ],
      [
        'compliance in its grace time, another maximum',
        {
          locked: true,
          minRetentionDays: 7,
          maxRetentionDays: 30,
          lockDate: new Date('2025-03-15T00:00:00Z'),
        },
        compliance,
        'put',
      ],
      [
        'compliance past its grace time, another maximum',
        {
          locked: true,
          minRetentionDays: 7,
          maxRetentionDays: 30,
          lockDate: new Date('2025-01-01T00:00:00Z'),
        },
        compliance,
        'immutable',
      ],
      [
        'compliance past its grace time, governance wanted',
        {
          locked: true,
          minRetentionDays: 7,
          maxRetentionDays: 400,
          lockDate: new Date('2025-01-01T00:00:00Z'),
        },
        governance,
        'immutable',
      ],
    ],
  )('%s: %s', (_what, vault, wanted, action) => {
    expect(lockDecision(vault, wanted, NOW).action).toBe(action);
  });

  it('compliance puts its grace time (3 days unless configured); governance none', () => {
    const put = (wanted: Parameters<typeof lockDecision>[1]) => {
      const d = lockDecision({}, wanted, NOW);
      return d.action === 'put' ? d.settings : undefined;
    };
    expect(put({ mode: 'compliance', minRetentionDays: 7 })).toEqual({
      minRetentionDays: 7,
      changeableForDays: 3,
    });
    expect(put({ mode: 'governance', minRetentionDays: 7 })).toEqual({ minRetentionDays: 7 });
  });

  it('names what is locked and what was asked when it cannot change', () => {
    const d = lockDecision(
      { locked: true, minRetentionDays: 7, lockDate: new Date('2025-01-01T00:00:00Z') },
      { mode: 'compliance', minRetentionDays: 30 },
      NOW,
    );
    expect(d).toEqual({
      action: 'immutable',
      problem:
        'Vault Lock is in compliance mode and immutable since 2025-01-01T00:00:00.000Z (minimum 7 days, maximum none): it cannot become compliance mode, minimum 30 days, maximum none',
    });
  });
});

describe('the central vault access policy', () => {
  it('admits CopyIntoBackupVault from the organization only', () => {
    expect(centralVaultPolicyStatement(ORG_ID)).toEqual({
      Sid: CENTRAL_VAULT_POLICY_SID,
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'backup:CopyIntoBackupVault',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
    });
  });

  it('judges only our statement: others before or after it, and the policy’s Id, are theirs', () => {
    const theirs = { Sid: 'DenyDeletes', Effect: 'Deny', Principal: '*', Action: 'backup:Delete*' };
    const ours = centralVaultPolicyStatement(ORG_ID);
    expect(admitsOrganization({ Id: 'x', Statement: [ours, theirs] }, ORG_ID)).toBe(true);
    expect(admitsOrganization({ Statement: ours }, ORG_ID)).toBe(true);
    expect(admitsOrganization({ Statement: [theirs] }, ORG_ID)).toBe(false);
    expect(admitsOrganization(undefined, ORG_ID)).toBe(false);
    expect(admitsOrganization({ Statement: [ours] }, 'o-other')).toBe(false);
    // Ours put back in its place, the rest kept.
    const changed = { ...ours, Condition: {} };
    expect(
      wantedVaultPolicy({ Id: 'x', Version: '2008-10-17', Statement: [changed, theirs] }, ORG_ID),
    ).toEqual({ Id: 'x', Version: '2008-10-17', Statement: [ours, theirs] });
  });

  it('keeps the statements someone else added, and puts ours back as declared', () => {
    const theirs = { Sid: 'DenyDeletes', Effect: 'Deny', Principal: '*', Action: 'backup:Delete*' };
    const tampered = { ...centralVaultPolicyStatement(ORG_ID), Condition: {} };
    expect(wantedVaultPolicy({ Statement: [theirs, tampered] }, ORG_ID)).toEqual({
      Version: '2012-10-17',
      Statement: [theirs, centralVaultPolicyStatement(ORG_ID)],
    });
  });
});

describe('centralVault (configuration)', () => {
  it('defaults its regions to every profile region', () => {
    const config = exampleConfig();
    expect(centralVault(config)?.regions).toEqual(['eu-west-1', 'us-east-1']);
    config.centralBackup!.regions = ['eu-west-1'];
    expect(centralVault(config)?.regions).toEqual(['eu-west-1']);
    delete config.centralBackup;
    expect(centralVault(config)).toBeUndefined();
  });

  const parse = (central: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const raw = JSON.parse(JSON.stringify(exampleConfig())) as Record<string, unknown>;
    raw.centralBackup = { accountId: '444455556666', ...central };
    Object.assign(raw, extra);
    const result = ConfigSchema.safeParse(raw);
    return result.success
      ? []
      : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    [
      'a maximum below the minimum',
      { vaultLock: { mode: 'governance', minRetentionDays: 30, maxRetentionDays: 7 } },
      {},
      'centralBackup.vaultLock.maxRetentionDays: must be at least minRetentionDays (30)',
    ],
    [
      'a grace time for a governance lock',
      { vaultLock: { mode: 'governance', minRetentionDays: 7, changeableForDays: 3 } },
      {},
      'centralBackup.vaultLock.changeableForDays: applies to mode compliance only',
    ],
    [
      'a grace time under 3 days',
      { vaultLock: { mode: 'compliance', minRetentionDays: 7, changeableForDays: 1 } },
      {},
      'centralBackup.vaultLock.changeableForDays:',
    ],
    [
      'an unknown lock mode',
      { vaultLock: { mode: 'strict', minRetentionDays: 7 } },
      {},
      'centralBackup.vaultLock.mode:',
    ],
    [
      'the management account, not onboarded',
      { accountId: '111122223333' },
      {
        deployment: {
          mode: 'delegated-admin',
          managementAccountId: '111122223333',
          delegatedAdministratorAccountId: '123456789012',
        },
      },
      'centralBackup.accountId: is the management account, which is not onboarded',
    ],
  ])('refuses %s, naming the setting', (_what, central, extra, message) => {
    expect(parse(central, extra).join('\n')).toContain(message);
  });

  it('accepts a compliance lock with its limits', () => {
    expect(
      parse({
        vaultLock: {
          mode: 'compliance',
          minRetentionDays: 7,
          maxRetentionDays: 3650,
          changeableForDays: 3,
        },
      }).filter((m) => m.startsWith('centralBackup')),
    ).toEqual([]);
  });
});

describe('onboarding the central backup account', () => {
  it('makes the central vault in each of its regions: key letting the organization copy in, access policy, lock', async () => {
    const w = centralWorld({ mode: 'compliance', minRetentionDays: 7, maxRetentionDays: 3650 });
    const result = await run(w);
    expect(result.outcome).toBe('ready');
    const member = w.member();
    for (const region of ['us-east-1', 'eu-west-1']) {
      const vault = member.vaults.get(`${region}|${VAULT}`);
      expect(vault).toBeDefined();
      expect(statements(vault!.accessPolicy)).toEqual([CENTRAL_VAULT_POLICY_SID]);
      expect(vault!.lock).toMatchObject({ minRetentionDays: 7, maxRetentionDays: 3650 });
      expect(vault!.lock?.lockDate).toBeDefined();
      // The vault is encrypted with the region's baseline key, which lets the organization in.
      const key = [...member.keys.values()].find((k) => k.keyArn === vault!.encryptionKeyArn)!;
      expect(statements(key.policy)).toEqual(
        expect.arrayContaining([
          'OrganizationBackupRolesCopyIntoTheCentralVault',
          'OrganizationBackupRolesGrantForAwsBackup',
        ]),
      );
      expect(JSON.stringify(key.policy)).toContain(
        `"kms:ViaService":"backup.${region}.amazonaws.com"`,
      );
    }
    // The profile's own vault is still made where the profile backs up.
    expect(member.vaults.has('us-east-1|org-backup-vault')).toBe(true);
    expect(member.vaults.has('eu-west-1|org-backup-vault')).toBe(false);
    expect(Object.keys(result.record.steps)).toEqual(
      expect.arrayContaining(['central-vault-us-east-1', 'central-vault-eu-west-1']),
    );
    expect(result.changes).toEqual(
      expect.arrayContaining([
        `central-vault-eu-west-1: create KMS key alias/backup-control-plane in eu-west-1`,
        `central-vault-eu-west-1: create backup vault ${VAULT} in eu-west-1`,
        `central-vault-eu-west-1: let the organization copy into central vault ${VAULT} in eu-west-1 (access policy)`,
        `central-vault-eu-west-1: set Vault Lock: compliance mode, minimum 7 days, maximum 3650 days on central vault ${VAULT} in eu-west-1`,
      ]),
    );
  });

  it('changes nothing on a second run (the key is declared once for both steps)', async () => {
    const w = centralWorld({ mode: 'governance', minRetentionDays: 7 });
    expect((await run(w)).outcome).toBe('ready');
    const writes = w.member().writes.length;
    const again = await run(w);
    expect(again.outcome).toBe('ready');
    expect(again.changes).toEqual([]);
    expect(w.member().writes.length).toBe(writes);
  });

  it('puts the access policy back, keeping a statement someone added', async () => {
    const w = centralWorld();
    await run(w);
    const vault = w.member().vaults.get(`eu-west-1|${VAULT}`)!;
    const theirs = {
      Sid: 'Theirs',
      Effect: 'Deny',
      Principal: '*',
      Action: 'backup:DeleteRecoveryPoint',
      Resource: '*',
    };
    vault.accessPolicy = { Version: '2012-10-17', Statement: [theirs] };
    const repaired = await run(w);
    expect(repaired.changes).toEqual([
      `central-vault-eu-west-1: let the organization copy into central vault ${VAULT} in eu-west-1 (access policy)`,
    ]);
    expect(statements(vault.accessPolicy)).toEqual(['Theirs', CENTRAL_VAULT_POLICY_SID]);
  });

  it('fails, saying what to configure, when an immutable compliance lock differs', async () => {
    const w = centralWorld({ mode: 'compliance', minRetentionDays: 30 });
    await run(w);
    const vault = w.member().vaults.get(`us-east-1|${VAULT}`)!;
    vault.lock = { minRetentionDays: 7, lockDate: new Date('2024-01-01T00:00:00Z') };
    const result = await run(w);
    expect(result.outcome).toBe('failed');
    expect(result.record.lastError?.step).toBe('verify');
    expect(result.record.lastError?.message).toContain(
      `central vault ${VAULT} in us-east-1: Vault Lock is in compliance mode and immutable since 2024-01-01T00:00:00.000Z`,
    );
    expect(JSON.stringify(w.notifier.failedNotices)).toContain(
      'set centralBackup to what the vault has',
    );
    // Never attempted: AWS would refuse it.
    expect(
      w.member().writes.filter((x) => x[0] === 'backup.putVaultLock' && x[1] === 'us-east-1'),
    ).toHaveLength(1);
  });

  it('never weakens a lock: a shorter minimum fails verify, and nothing is put', async () => {
    const w = centralWorld({ mode: 'governance', minRetentionDays: 30 });
    expect((await run(w)).outcome).toBe('ready');
    w.config.centralBackup!.vaultLock = { mode: 'governance', minRetentionDays: 7 };
    const writes = w.member().writes.length;
    const result = await run(w);
    expect(result.outcome).toBe('failed');
    expect(result.record.lastError?.message).toContain(
      'Vault Lock (governance mode, minimum 30 days, maximum none) is stronger than configured (governance mode, minimum 7 days, maximum none); onboarding never weakens a lock',
    );
    expect(
      w
        .member()
        .writes.slice(writes)
        .filter((x) => x[0] === 'backup.putVaultLock'),
    ).toEqual([]);
  });

  it('keeps forwarding rules in the central vault’s regions outside its profile', async () => {
    const w = centralWorld();
    const result = await run(w);
    expect(result.outcome).toBe('ready');
    // The profile is us-east-1 only; the central vault is in eu-west-1 too.
    expect(Object.keys(result.record.steps)).toContain('forwarding-eu-west-1');
    expect([...w.member().rules.keys()].filter((k) => k.startsWith('eu-west-1|'))).toHaveLength(2);
    // And verify checks them there.
    w.member().rules.get('eu-west-1|backup-control-plane-forward-backup-events')!.state =
      'DISABLED';
    const rerun = await run(w);
    expect(rerun.changes).toEqual([
      'forwarding-eu-west-1: enable rule backup-control-plane-forward-backup-events in eu-west-1',
    ]);
  });

  it('makes the logically air-gapped vault once, admitting the organization; its fixed limits are never "changed"', async () => {
    const w = centralWorld();
    w.config.centralBackup!.airGappedVault = {
      name: 'org-air-gapped',
      minRetentionDays: 7,
      maxRetentionDays: 3650,
    };
    const first = await run(w);
    expect(first.outcome).toBe('ready');
    expect(first.changes).toEqual(
      expect.arrayContaining([
        'central-vault-eu-west-1: create logically air-gapped vault org-air-gapped in eu-west-1 (7 to 3650 days)',
        'central-vault-eu-west-1: let the organization copy into central vault org-air-gapped in eu-west-1 (access policy)',
      ]),
    );
    const lag = w.member().vaults.get('eu-west-1|org-air-gapped')!;
    expect(lag).toMatchObject({
      vaultType: 'LOGICALLY_AIR_GAPPED_BACKUP_VAULT',
      lock: { minRetentionDays: 7, maxRetentionDays: 3650 },
    });
    expect(statements(lag.accessPolicy)).toEqual([CENTRAL_VAULT_POLICY_SID]);
    expect((await run(w)).changes).toEqual([]);
    // Asked for other limits: reported with what to do, nothing attempted.
    w.config.centralBackup!.airGappedVault.maxRetentionDays = 365;
    const writes = w.member().writes.length;
    const changed = await run(w);
    expect(changed.outcome).toBe('failed');
    expect(changed.record.lastError?.message).toContain(
      'logically air-gapped vault org-air-gapped keeps 7 to 3650 days, fixed at its creation; the configuration asks 7 to 365',
    );
    expect(w.member().writes.length).toBe(writes);
  });

  it('refuses to take a standard vault for the air-gapped one', async () => {
    const w = centralWorld();
    w.config.centralBackup!.airGappedVault = {
      name: 'org-backup-vault',
      minRetentionDays: 7,
      maxRetentionDays: 30,
    };
    const result = await run(w);
    expect(result.outcome).toBe('failed');
    expect(result.record.lastError?.message).toContain(
      'vault org-backup-vault exists but is not logically air-gapped (BACKUP_VAULT): give centralBackup.airGappedVault another name',
    );
  });

  it('plans the central vault in a dry run without touching anything', async () => {
    const w = centralWorld({ mode: 'governance', minRetentionDays: 7 });
    const result = await run(w, { dryRun: true });
    expect(result.outcome).toBe('planned');
    expect(result.changes).toEqual(
      expect.arrayContaining([
        `central-vault-eu-west-1: create backup vault ${VAULT} in eu-west-1`,
        `central-vault-eu-west-1: let the organization copy into central vault ${VAULT} in eu-west-1 (access policy)`,
      ]),
    );
    expect(w.member().writes).toEqual([]);
  });

  it('gives any other account neither the central vault nor the organization’s key statements', async () => {
    const w = centralWorld();
    w.config.centralBackup!.accountId = '999988887777';
    expect((await run(w)).outcome).toBe('ready');
    const member = w.member();
    expect([...member.vaults.keys()]).toEqual(['us-east-1|org-backup-vault']);
    for (const key of member.keys.values()) {
      expect(JSON.stringify(key.policy)).not.toContain('aws:PrincipalOrgID');
    }
  });
});
