import type { Config } from '../functions/shared/config/schema';

/**
 * The example configuration's stand-in values (infra/config/example.yml, the backup policy
 * files): fine for packaging the `dev` stage and for the sandbox, a silent failure anywhere else
 * (mail to example.com, a copy into an account nobody owns). Packaging another stage names each
 * one still present, with its file and key.
 */

export const EXAMPLE_ORGANIZATION_ID = 'o-exampleorg1';
/** AWS's documentation accounts, which the example backup policies use as the central account. */
export const EXAMPLE_ACCOUNT_IDS = ['111122223333', '444455556666', '123456789012'] as const;
/** The chat ids of example.yml: a deploy with them fails late, on the channel resource. */
const EXAMPLE_CHAT_IDS = new Set([
  'T0123ABCDEF',
  'C0123ABCDEF',
  '8f4e2b7a-1c3d-4e5f-9a8b-7c6d5e4f3a2b',
  '2b3c4d5e-6f70-4812-93a4-b5c6d7e8f901',
  '19:0a1b2c3d4e5f60718293a4b5c6d7e8f9@thread.tacv2',
]);

/** RFC 2606's reserved domains: mail there reaches nobody. */
function isExampleDomain(domain: string): boolean {
  return /(^|\.)example\.(com|net|org)$/i.test(domain.trim());
}

function isExampleAddress(address: string): boolean {
  const at = address.lastIndexOf('@');
  return at > 0 && isExampleDomain(address.slice(at + 1).replace(/>\s*$/, ''));
}

/** Each placeholder still in the configuration, as "<key>: <why>". */
export function configPlaceholders(config: Config): string[] {
  const found: string[] = [];
  if (config.organizationId === EXAMPLE_ORGANIZATION_ID) {
    found.push(`organizationId: "${config.organizationId}" is the example organization`);
  }
  const central = config.centralBackup?.accountId;
  if (central && (EXAMPLE_ACCOUNT_IDS as readonly string[]).includes(central)) {
    found.push(
      `centralBackup.accountId: "${central}" is the example's central backup account (copies would go to an account nobody owns)`,
    );
  }
  for (const key of ['managementAccountId', 'delegatedAdministratorAccountId'] as const) {
    const id = config.deployment[key];
    if (id && (EXAMPLE_ACCOUNT_IDS as readonly string[]).includes(id)) {
      found.push(`deployment.${key}: "${id}" is an example account (AWS's documentation accounts)`);
    }
  }
  const email = config.notifications.email;
  if (isExampleDomain(email.identity)) {
    found.push(`notifications.email.identity: "${email.identity}" is a reserved example domain`);
  }
  const addresses: [string, string][] = [
    ['notifications.email.sender', email.sender],
    ...email.replyTo.map((a, i): [string, string] => [`notifications.email.replyTo.${i}`, a]),
    ...Object.entries(email.recipients).flatMap(([list, to]) =>
      to.map((a, i): [string, string] => [`notifications.email.recipients.${list}.${i}`, a]),
    ),
    ...Object.entries(email.accountOwners).flatMap(([id, to]) =>
      to.map((a, i): [string, string] => [`notifications.email.accountOwners.${id}.${i}`, a]),
    ),
  ];
  for (const [key, address] of addresses) {
    if (isExampleAddress(address)) {
      found.push(`${key}: "${address}" is at a reserved example domain (mail reaches nobody)`);
    }
  }
  for (const [name, topic] of Object.entries(config.notifications.topics)) {
    const channels = [
      ...topic.slack.map((c, i) => ({
        key: `slack.${i}`,
        ids: { workspaceId: c.workspaceId, channelId: c.channelId },
      })),
      ...topic.teams.map((c, i) => ({
        key: `teams.${i}`,
        ids: { teamId: c.teamId, tenantId: c.tenantId, channelId: c.channelId },
      })),
    ];
    for (const { key, ids } of channels) {
      for (const [field, value] of Object.entries(ids)) {
        if (EXAMPLE_CHAT_IDS.has(value)) {
          found.push(
            `notifications.topics.${name}.${key}.${field}: "${value}" is the example's; use your own`,
          );
        }
      }
    }
    topic.subscribers.forEach((s, i) => {
      const host =
        s.protocol === 'https' ? (/^https:\/\/([^/:?#]+)/.exec(s.endpoint)?.[1] ?? '') : undefined;
      if (
        (s.protocol === 'email' && isExampleAddress(s.endpoint)) ||
        (host && isExampleDomain(host))
      ) {
        found.push(
          `notifications.topics.${name}.subscribers.${i}.endpoint: "${s.endpoint}" is at a reserved example domain`,
        );
      }
    });
  }
  return found;
}

/** Example account ids in a backup policy document (copy targets), with where they appear. */
export function policyPlaceholders(document: unknown, at = ''): string[] {
  if (typeof document === 'string') {
    const id = EXAMPLE_ACCOUNT_IDS.find((a) => document.includes(`:${a}:`));
    return id ? [`${at || '(document)'}: account ${id} in "${document}" is the example's`] : [];
  }
  if (Array.isArray(document)) {
    return document.flatMap((v, i) => policyPlaceholders(v, `${at}[${i}]`));
  }
  if (typeof document === 'object' && document !== null) {
    // Keys (a copy action's target) repeat their value's ARN: the values alone are reported.
    return Object.entries(document).flatMap(([k, v]) =>
      policyPlaceholders(v, at ? `${at}.${k}` : k),
    );
  }
  return [];
}
