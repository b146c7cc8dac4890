import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configPlaceholders, policyPlaceholders } from '../../tools/placeholders';
import { exampleConfigWithChannels, ROOT } from '../helpers/fixtures';

/** The example's stand-in values, found so a real stage cannot deploy them. */

describe('configPlaceholders', () => {
  it('names every stand-in of example.yml with its key', () => {
    const found = configPlaceholders(exampleConfigWithChannels());
    expect(found).toEqual(
      expect.arrayContaining([
        'organizationId: "o-exampleorg1" is the example organization',
        'notifications.email.identity: "example.com" is a reserved example domain',
        expect.stringMatching(/^notifications\.email\.sender: .*example\.com/),
        expect.stringMatching(
          /^notifications\.email\.recipients\.admins\.0: "platform-team@example\.com"/,
        ),
        'notifications.topics.chat.slack.0.workspaceId: "T0123ABCDEF" is the example\'s; use your own',
        'notifications.topics.chat.slack.0.channelId: "C0123ABCDEF" is the example\'s; use your own',
        expect.stringMatching(/^notifications\.topics\.chat\.teams\.0\.tenantId: /),
        expect.stringMatching(/^centralBackup\.accountId: "444455556666" is the example's/),
      ]),
    );
  });

  it('finds nothing in a configuration with real values', () => {
    const config = exampleConfigWithChannels();
    config.organizationId = 'o-a1b2c3d4e5';
    const email = config.notifications.email;
    email.identity = 'backups.acme.io';
    email.sender = 'Backups <backup@backups.acme.io>';
    email.replyTo = [];
    email.recipients = { admins: ['platform@acme.io'], dba: ['dba@acme.io'] };
    email.accountOwners = {};
    const chat = config.notifications.topics.chat!;
    chat.slack[0]!.workspaceId = 'T07EA123LEP';
    chat.slack[0]!.channelId = 'C07EZ1ABC23';
    chat.teams = [];
    config.centralBackup = { accountId: '210987654321', vaultName: 'central' };
    expect(configPlaceholders(config)).toEqual([]);
  });

  it("names the delegated-admin example's accounts", () => {
    const config = exampleConfigWithChannels();
    config.deployment = {
      mode: 'delegated-admin',
      managementAccountId: '111122223333',
      delegatedAdministratorAccountId: '123456789012',
    };
    expect(configPlaceholders(config)).toEqual(
      expect.arrayContaining([
        'deployment.managementAccountId: "111122223333" is an example account (AWS\'s documentation accounts)',
        'deployment.delegatedAdministratorAccountId: "123456789012" is an example account (AWS\'s documentation accounts)',
      ]),
    );
  });

  it('knows subdomains and .org/.net of the reserved domains, and example https subscribers', () => {
    const config = exampleConfigWithChannels();
    config.notifications.email.recipients = { admins: ['ops@mail.example.org'] };
    config.notifications.topics.chat!.subscribers = [
      { protocol: 'https', endpoint: 'https://hooks.example.net/x' },
    ];
    const found = configPlaceholders(config);
    expect(found).toContainEqual(
      expect.stringMatching(/recipients\.admins\.0: "ops@mail\.example\.org"/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(/subscribers\.0\.endpoint: "https:\/\/hooks\.example\.net\/x"/),
    );
  });
});

describe('policyPlaceholders', () => {
  it('finds nothing in the shipped policies: they name the central vault by placeholder', () => {
    const document = JSON.parse(
      readFileSync(join(ROOT, 'infra/backup-policies/production-critical.json'), 'utf8'),
    ) as unknown;
    expect(JSON.stringify(document)).toContain('{{central-vault:eu-west-1}}');
    expect(policyPlaceholders(document)).toEqual([]);
  });

  it('names an example account written in a copy action, once per copy action', () => {
    const arn = 'arn:aws:backup:eu-west-1:444455556666:backup-vault:v';
    const found = policyPlaceholders({
      copy_actions: { [arn]: { target_backup_vault_arn: { '@@assign': arn } } },
    });
    expect(found).toEqual([
      expect.stringMatching(/target_backup_vault_arn\.@@assign: account 444455556666/),
    ]);
  });

  it('finds nothing in a policy without example accounts', () => {
    expect(
      policyPlaceholders({
        plans: { a: { rules: { r: { target_backup_vault_name: { '@@assign': 'v' } } } } },
      }),
    ).toEqual([]);
  });
});
