import { createHash } from 'node:crypto';
import type { PlanDescription } from '../shared/backup-plans/describe';
import type { Profile } from '../shared/config/schema';
import { consoleBackupUrl } from '../shared/format';
import { sendNotice, type PipelineDeps } from '../shared/notices/send';
import { id, text, type Cell, type Notice, accountLabel } from '../shared/notices/notice';
import type { AccountRecord, OrgAccount } from '../shared/ports';
import type { DriftFinding } from './onboard';

/**
 * What admins (and, if configured, the account's owner) hear about onboarding: "account X is
 * backup-ready", with what to tag to have resources backed up; which step failed and what to do;
 * a failed account creation. Built as notices and sent through the one notification pipeline.
 */

export interface ReadyFacts {
  account: OrgAccount;
  ouPath?: string;
  tags?: Readonly<Record<string, string>>;
  record: AccountRecord;
  profile: Profile;
  vaultName: string;
  /** The account's backup plans (its effective backup policy); undefined if it could not be read. */
  plans?: PlanDescription[];
  changes: string[];
}

export interface FailedFacts {
  accountId: string;
  account?: OrgAccount;
  record: AccountRecord;
  step: string;
  error: string;
  advice: string;
}

export interface CreationFailedFacts {
  eventId: string;
  trigger: string;
  reason: string;
  accountName?: string;
  accountId?: string;
  time?: string;
}

export interface DriftRepairedFacts {
  account: OrgAccount;
  ouPath?: string;
  record: AccountRecord;
  profile: Profile;
  drift: DriftFinding[];
  changes: string[];
  /** When the daily check saw the drift (an ISO time). */
  detectedAt: string;
}

export interface DepartedFacts {
  accountId: string;
  /** The name and email the control plane knew (a departed account cannot be looked up). */
  account?: { name?: string; email?: string };
  departure: 'departed' | 'closing';
  trigger: string;
  /** Left, Removed, Cleaned, or what the sweep saw. */
  method?: string;
  time?: string;
  /** The account was onboarded (ready, failed or part way) before. */
  governed: boolean;
  profile?: string;
  /** When the control plane recorded this departure: one notice per departure, not per account. */
  recordedAt?: string;
}

export interface OnboardingNotifier {
  ready(facts: ReadyFacts): Promise<void>;
  driftRepaired(facts: DriftRepairedFacts): Promise<void>;
  failed(facts: FailedFacts): Promise<void>;
  creationFailed(facts: CreationFailedFacts): Promise<void>;
  departed(facts: DepartedFacts): Promise<void>;
}

/** A short stable id for a notice: the same notice on a retry gets the same key. */
function noticeKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

const consoleHome = (region: string) => consoleBackupUrl(region, '/dashboard');

function days(n: number | undefined): string {
  if (n === undefined) return 'until deleted';
  if (n % 365 === 0) return n === 365 ? '1 year' : `${n / 365} years`;
  return n === 1 ? '1 day' : `${n} days`;
}

/** One row per plan rule and tag selection: the tag that gets a resource backed up. */
export function planRows(plans: readonly PlanDescription[]): Cell[][] {
  return plans.flatMap((plan) => {
    const tags = plan.selections.flatMap((s) =>
      s.kind === 'tags' && s.tagKey
        ? s.tagValues.length
          ? s.tagValues.map((v) => `${s.tagKey}=${v}`)
          : [`${s.tagKey}=<any value>`]
        : s.kind === 'resources'
          ? [`(every ${s.resourceTypes.join(', ') || 'resource'}, no tag needed)`]
          : [],
    );
    const tagCell: Cell = { value: tags.join(' or ') || '(no selection)', kind: 'id' };
    return plan.rules.map((rule): Cell[] => [
      { value: `${plan.plan} / ${rule.rule}`, kind: 'id' },
      { value: rule.schedule.text },
      { value: days(rule.retentionDays) },
      { value: plan.regions.join(', ') },
      tagCell,
    ]);
  });
}

export function readyNotice(n: ReadyFacts): Notice {
  const a = n.account;
  const label = accountLabel(a);
  const regions = n.profile.regions;
  const sections: Notice['sections'] = [];
  if (n.plans?.length) {
    sections.push({
      title: 'Have a resource backed up: tag it',
      columns: ['Plan / rule', 'When', 'Kept', 'Regions', 'Tag to put on the resource'],
      rows: planRows(n.plans),
    });
  }
  if (n.changes.length) {
    sections.push({
      title: 'Changes made',
      rows: n.changes.map((c) => [{ value: c }]),
      collapsed: true,
    });
  }
  const exampleTag = n.plans
    ?.flatMap((p) => p.selections)
    .find((s) => s.kind === 'tags' && s.tagKey && s.tagValues[0]);
  return {
    kind: 'onboarding',
    // Once per account and what admins were last told; a rejoined account's READY once per
    // departure it came back from.
    dedupKey: `onboarding#${a.id}#${noticeKey('ready', a.id, JSON.stringify(n.record.notified ?? null), ...(n.record.departure ? [n.record.departure.at] : []))}`,
    severity: 'info',
    label: 'READY',
    what: 'Account onboarding',
    headline: `Account ${label} is backup-ready`,
    summary: `Account ${label} is backup-ready (profile ${n.profile.name}, ${regions.join(', ')})`,
    account: {
      id: a.id,
      ...(a.name ? { name: a.name } : {}),
      ...(a.email ? { email: a.email } : {}),
      ...(n.ouPath !== undefined ? { ouPath: n.ouPath } : {}),
      ...(n.tags ? { tags: n.tags } : {}),
    },
    facts: [
      ...text('Profile', n.profile.name),
      ...text('Regions', regions.join(', ')),
      ...id('Backup vault', n.vaultName),
      ...text('Backup policies', n.profile.backupPolicies.join(', ') || 'none'),
      ...text('Baseline version', String(n.record.baselineVersion ?? '?')),
      ...text('Trigger', n.record.lastTrigger),
    ],
    sections,
    nextSteps: [
      exampleTag && exampleTag.kind === 'tags'
        ? `Tag the resources to protect with a tag from the table, e.g. ${exampleTag.tagKey}=${exampleTag.tagValues[0]}; AWS Backup picks them up at the next run.`
        : `See which tags select resources for backup: npx backupctl policies --account ${a.id}${n.ouPath ? ` --ou ${n.ouPath}` : ''}`,
      `Backups land in vault ${n.vaultName} of each region (${regions.join(', ')}); failures anywhere are reported here.`,
    ],
    link: { url: consoleHome(regions[0] ?? 'us-east-1'), label: 'Open AWS Backup' },
    state: 'READY',
    resourceType: 'Account',
    chat: {
      threadId: `onboarding-${a.id}`,
      eventType: 'AccountBackupReady',
      keywords: ['onboarding', 'READY', a.id],
      relatedResources: [],
      context: { profile: n.profile.name },
    },
    reference: `onboarding of ${a.id}, baseline v${n.record.baselineVersion ?? '?'}`,
  };
}

/** Who changed it, as CloudTrail says; said plainly when CloudTrail has nothing. */
export function whoText(f: DriftFinding): string {
  return f.who ? `${f.who.identity} (${f.who.action}, ${f.who.time})` : 'not found in CloudTrail';
}

export function driftRepairedNotice(n: DriftRepairedFacts): Notice {
  const a = n.account;
  const label = accountLabel(a);
  const day = n.detectedAt.slice(0, 10);
  const whats = [...new Set(n.drift.map((f) => f.what))].sort();
  return {
    kind: 'drift',
    dedupKey: `drift#${a.id}#${day}#${noticeKey(...whats)}`,
    severity: 'warning',
    label: 'DRIFT REPAIRED',
    what: 'Baseline drift',
    headline: `Account ${label} had drifted from its backup baseline: repaired`,
    summary: `${whats.length} difference(s) from the backup baseline in ${label}, repaired: ${whats.slice(0, 3).join('; ')}`,
    account: {
      id: a.id,
      ...(a.name ? { name: a.name } : {}),
      ...(a.email ? { email: a.email } : {}),
      ...(n.ouPath !== undefined ? { ouPath: n.ouPath } : {}),
    },
    reason: whats.join('; '),
    facts: [
      ...text('Profile', n.profile.name),
      ...text('Detected', n.detectedAt),
      ...text('Baseline version', String(n.record.baselineVersion ?? '?')),
    ],
    sections: [
      {
        title: 'What had changed, and who changed it',
        columns: ['Difference', 'Who (CloudTrail)'],
        rows: n.drift.map((f) => [{ value: f.what }, { value: whoText(f), kind: 'id' }]),
      },
      ...(n.changes.length
        ? [{ title: 'Repairs made', rows: n.changes.map((c) => [{ value: c }]), collapsed: true }]
        : []),
    ],
    nextSteps: [
      'Nothing to do for the repair: the baseline is back in place and backups keep flowing to the control plane.',
      'Ask who made the change why. If it was intended, change infra/baseline/baseline.json instead: otherwise the daily check repairs it again.',
      'To prevent it, deny changes to backup-control-plane-* roles, rules, keys and vaults with a service control policy.',
    ],
    state: 'REPAIRED',
    resourceType: 'Account',
    chat: {
      threadId: `drift-${a.id}`,
      eventType: 'BaselineDriftRepaired',
      keywords: ['drift', 'REPAIRED', a.id],
      relatedResources: [],
      context: { differences: String(whats.length) },
    },
    reference: `daily check of ${a.id}, ${day}`,
  };
}

export function failedNotice(n: FailedFacts): Notice {
  const label = accountLabel({ id: n.accountId, name: n.account?.name });
  return {
    kind: 'onboarding',
    dedupKey: `onboarding#${n.accountId}#${noticeKey('failed', n.accountId, n.step, n.error)}`,
    severity: 'error',
    label: 'FAILED',
    what: 'Account onboarding',
    item: `step ${n.step}`,
    headline: `Onboarding of account ${label} failed at step ${n.step}`,
    account: {
      id: n.accountId,
      ...(n.account?.name ? { name: n.account.name } : {}),
      ...(n.account?.email ? { email: n.account.email } : {}),
    },
    reason: n.error,
    facts: [
      ...id('Failed step', n.step),
      ...text('Attempt', String(n.record.attempts)),
      ...text('Trigger', n.record.lastTrigger),
    ],
    sections: [],
    nextSteps: [
      n.advice,
      `Retry by hand: npx backupctl onboard ${n.accountId}; the reconcile sweep also retries daily.`,
    ],
    state: 'FAILED',
    resourceType: 'Account',
    chat: {
      threadId: `onboarding-${n.accountId}`,
      eventType: 'AccountOnboardingFailed',
      keywords: ['onboarding', 'FAILED', n.accountId],
      relatedResources: [],
      context: { step: n.step },
    },
    reference: `onboarding of ${n.accountId}, attempt ${n.record.attempts}`,
  };
}

/** What an account operation that failed is called, said and fixed, by the event that says so. */
function failedOperation(n: CreationFailedFacts, named: string | undefined) {
  const subject = named ?? (n.accountId ? `account ${n.accountId}` : undefined);
  // Control Tower's UpdateManagedAccount is about an account that exists (updated, enrolled, or
  // moved to another OU through Account Factory), unless it names none: a retried creation
  // arrives as an update too, with no account yet.
  const trigger =
    n.trigger === 'UpdateManagedAccount' && !n.accountId ? 'CreateManagedAccount' : n.trigger;
  switch (trigger) {
    case 'UpdateManagedAccount':
      return {
        what: 'Control Tower account update',
        headline: `Updating ${subject ?? 'an enrolled account'} in Control Tower failed: ${n.reason}`,
        nextStep:
          'Open the account in Control Tower (Organization → the account), fix what the message names, and update or re-register it; onboarding runs again when the update succeeds.',
        thread: 'account-update',
        eventType: 'AccountUpdateFailed',
      };
    case 'CloseAccountResult':
      return {
        what: 'Account closure',
        headline: `Closing ${subject ?? 'an account'} failed: ${n.reason}`,
        nextStep:
          'The account stays in the organization, and its backups go on (the daily sweep onboards it again if a CLOSING notice went out): fix what the reason names, then close it again (Organizations console → the account → Close, or aws organizations close-account).',
        thread: 'account-closure',
        eventType: 'AccountClosureFailed',
      };
    default:
      return {
        what: 'Account creation',
        headline: `Creating ${named ?? 'a new account'} failed: ${n.reason}`,
        nextStep:
          n.reason === 'EMAIL_ALREADY_EXISTS'
            ? 'The email address is already used by another AWS account: create the account with another address.'
            : 'Check the account request (Organizations console → Accounts, or Control Tower Account Factory) and retry.',
        thread: 'account-creation',
        eventType: 'AccountCreationFailed',
      };
  }
}

/** An account could not be created, updated in Control Tower, or closed: the reason and the fix. */
export function creationFailedNotice(n: CreationFailedFacts): Notice {
  const named = n.accountName && n.accountName !== '****' ? `"${n.accountName}"` : undefined;
  const op = failedOperation(n, named);
  return {
    kind: 'onboarding',
    dedupKey: `alert#${n.eventId}`,
    severity: 'error',
    label: 'FAILED',
    what: op.what,
    ...(named ? { item: named } : {}),
    headline: op.headline,
    ...(n.accountId ? { account: { id: n.accountId } } : {}),
    reason: n.reason,
    facts: [...text('Trigger', n.trigger), ...text('Time', n.time), ...id('Event id', n.eventId)],
    sections: [],
    nextSteps: [op.nextStep],
    state: 'FAILED',
    resourceType: 'Account',
    chat: {
      threadId: `${op.thread}-${n.eventId}`,
      eventType: op.eventType,
      keywords: ['onboarding', 'FAILED', n.reason],
      relatedResources: [],
      context: { trigger: n.trigger, eventId: n.eventId },
    },
    reference: `event ${n.eventId}`,
  };
}

/**
 * An account left the organization or is being closed: told once per account and departure
 * (however many events say it), with what that means for its backups.
 */
export function departedNotice(n: DepartedFacts): Notice {
  const label = accountLabel({ id: n.accountId, name: n.account?.name });
  const closing = n.departure === 'closing';
  // The sweep sees only the state: suspended accounts are closed ones, or suspended by AWS.
  const bySweep = n.trigger === 'Reconcile';
  const how = closing
    ? bySweep
      ? 'is suspended or closed'
      : 'is being closed'
    : n.method === 'Left'
      ? 'left the organization'
      : n.method === 'Cleaned'
        ? 'was closed and has left the organization'
        : n.method === 'Removed'
          ? 'was removed from the organization'
          : 'is no longer in the organization';
  return {
    kind: 'onboarding',
    dedupKey: `offboard#${n.accountId}#${n.departure}${n.recordedAt ? `#${n.recordedAt}` : ''}`,
    severity: 'warning',
    label: closing ? 'CLOSING' : 'DEPARTED',
    what: 'Account',
    item: label,
    headline: `Account ${label} ${how}`,
    account: {
      id: n.accountId,
      ...(n.account?.name ? { name: n.account.name } : {}),
      ...(n.account?.email ? { email: n.account.email } : {}),
    },
    reason: closing
      ? bySweep
        ? `Organizations lists it as ${n.method?.replace(/^account is /, '') ?? 'suspended'}: a closed account is suspended and ends after 90 days, and AWS also suspends accounts (billing, abuse). No backup job runs in a suspended account.`
        : 'The account was closed: AWS suspends it and ends it after 90 days. No backup job runs in a suspended account.'
      : "The organization's backup policies no longer apply to it: its backups are no longer governed by this control plane.",
    facts: [
      ...text('Seen as', n.trigger),
      ...text('How', n.method),
      ...text('When', n.time),
      ...text('Profile', n.profile),
      ...text('Onboarded before', n.governed ? 'yes' : 'no'),
    ],
    sections: [],
    nextSteps: closing
      ? [
          'Nothing to do if the closure was intended. Recovery points inside the account go with it; copies in the central backup account are kept until their retention ends.',
          'If it was not intended: the account can be reopened within 90 days through AWS Support; the reconcile sweep then onboards it again.',
        ]
      : [
          "Recovery points in its own vaults stay under the account's control; copies in the central backup account are kept until their retention ends.",
          'The baseline (roles, key, vault, forwarding rule) is left in the account: its new owner may delete it. If the account joins again, it is onboarded again.',
        ],
    state: closing ? 'CLOSING' : 'DEPARTED',
    resourceType: 'Account',
    chat: {
      threadId: `onboarding-${n.accountId}`,
      eventType: closing ? 'AccountClosing' : 'AccountDeparted',
      keywords: ['onboarding', closing ? 'CLOSING' : 'DEPARTED', n.accountId],
      relatedResources: [],
      context: { trigger: n.trigger },
    },
    reference: `${n.departure} account ${n.accountId}`,
  };
}

/** Onboarding notices through the notification pipeline (each channel once per notice). */
export class PipelineNotifier implements OnboardingNotifier {
  constructor(private readonly deps: PipelineDeps) {}

  async ready(facts: ReadyFacts): Promise<void> {
    await sendNotice(readyNotice(facts), this.deps);
  }

  async driftRepaired(facts: DriftRepairedFacts): Promise<void> {
    await sendNotice(driftRepairedNotice(facts), this.deps);
  }

  async failed(facts: FailedFacts): Promise<void> {
    await sendNotice(failedNotice(facts), this.deps);
  }

  async creationFailed(facts: CreationFailedFacts): Promise<void> {
    await sendNotice(creationFailedNotice(facts), this.deps);
  }

  async departed(facts: DepartedFacts): Promise<void> {
    await sendNotice(departedNotice(facts), this.deps);
  }
}
