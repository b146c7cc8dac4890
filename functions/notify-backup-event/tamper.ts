import { isEnabledRuleState } from '../shared/patterns';
import { samePolicy } from '../onboard-account/baseline';
import { consoleUrl } from '../shared/format';
import { camelEventType, id, text as fact, type Fact, type Notice } from '../shared/notices/notice';
import type { ApiCall } from './cloudtrail';
import { arn, record, text } from './envelope';
import { vaultDeletedNotice } from './service-events';
import { isAccountId } from '../shared/patterns';
import type { ControlPlaneVaults } from '../shared/central-backup';

/**
 * Tamper and self-protection alerts: CloudTrail calls that weaken the backup system itself
 * (vault locks, baseline vaults and their policies, recovery points, the forwarding rule, the
 * baseline roles, the organization's backup policies, AWS Backup's global settings). Calls by
 * the control plane's own roles, failed calls and calls on things that are not the control
 * plane's are not alerts; each is ignored with the reason.
 */

export interface TamperContext {
  /** Vaults onboarding creates: the baseline's and the profiles' names, the central vaults. */
  baselineVaultNames: ControlPlaneVaults;
  /** The baseline's IAM roles in member accounts. */
  baselineRoleNames: ReadonlySet<string>;
  /** The member accounts' forwarding rules, by name, with their baseline patterns. */
  forwardingRules: ReadonlyMap<string, unknown>;
  /** The central bus the forwarding rule must target, when known. */
  centralBusArn?: string;
  /**
   * With deployment.mode delegated-admin: the management forwarder's rules and the prefix of its
   * roles (infra/management-forwarder.yml), which carry the management account's events.
   */
  managementForwarder?: { account: string; rules: ReadonlySet<string>; rolePrefix: string };
  /**
   * The stack's own names start with it (`backup-control-plane-<stage>-`): its functions' roles
   * and its EventBridge rules.
   */
  stackPrefix?: string;
  /** Roles onboarding assumes in member accounts, with its session name. */
  accessRoles: readonly string[];
  onboardingSessionName: string;
  /** Backup policy names the onboarding profiles attach. */
  backupPolicyNames: ReadonlySet<string>;
  /** Whether onboarding runs (so a repair can be asked for). */
  canRepair: boolean;
}

/** An onboarding run that puts back what the call changed, with what to tell it. */
export interface RepairRequest {
  accountId: string;
  finding: {
    what: string;
    resource: string;
    region?: string;
    who: { identity: string; action: string; time: string };
  };
}

export type TamperDecision =
  | {
      flow: 'notify';
      notice: Notice;
      facts: Record<string, string>;
      repair?: RepairRequest;
      /**
       * The alert holds only if this backup policy id is one of the control plane's (the call
       * names the policy by id alone): the flow asks Organizations for its name.
       */
      policyCheck?: { policyId: string };
    }
  | { flow: 'ignore'; reason: string; facts: Record<string, string> };

/** What each watched call is, in words, and what it means for backups. */
interface Finding {
  /** "Vault Lock removed". */
  title: string;
  /** The object changed: a vault, rule, role or policy name. */
  target: string;
  targetKind: string;
  impact: string;
  nextSteps: string[];
  facts?: Fact[];
  /** The account the change hurts, when not the one the call was made in (a policy detached). */
  affectedAccount?: string;
  /** The account whose baseline onboarding can put back, when it can. */
  repairAccount?: string;
  repairWhat?: string;
  policyCheck?: string;
  /** A baseline vault deletion: the same alert as its Backup Vault State Change event. */
  vaultDeleted?: boolean;
  region?: string;
}

type Judge = (call: ApiCall, ctx: TamperContext) => Finding | string;

const str = (v: unknown) => text(v)?.slice(0, 512);
/** A number or numeric string from request parameters, as text. */
const num = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v)
    ? String(v)
    : /^\d{1,6}$/.test(text(v) ?? '')
      ? text(v)
      : undefined;

/** Whether the call was made by the control plane itself. */
export function ownAction(call: ApiCall, ctx: TamperContext): string | undefined {
  const { identity } = call;
  if (identity.type === 'AWSService')
    return `made by AWS service ${identity.invokedBy ?? ''}`.trim();
  const role = identity.roleName;
  if (role && ctx.stackPrefix && role.startsWith(ctx.stackPrefix)) {
    return `made by the control plane's role ${role}`;
  }
  if (
    role &&
    ctx.accessRoles.includes(role) &&
    identity.sessionName === ctx.onboardingSessionName
  ) {
    return `made by onboarding (role ${role}, session ${identity.sessionName})`;
  }
  return undefined;
}

const isOurRule = (name: string | undefined, ctx: TamperContext) =>
  Boolean(name) &&
  (ctx.forwardingRules.has(name!) ||
    (ctx.stackPrefix !== undefined && name!.startsWith(ctx.stackPrefix)) ||
    Boolean(ctx.managementForwarder?.rules.has(name!)));

/**
 * The call names a bus the control plane's rules live on: the default bus (the forwarding rules,
 * the management forwarder, the stack's own) or the stack's central bus. A rule of the same name
 * on another bus is someone else's.
 */
function onOurBus(call: ApiCall, ctx: TamperContext): boolean {
  const bus = str(call.request.eventBusName);
  if (!bus || bus === 'default' || bus.endsWith(':event-bus/default')) return true;
  if (ctx.centralBusArn && (bus === ctx.centralBusArn || ctx.centralBusArn.endsWith(`/${bus}`))) {
    return true;
  }
  return (
    ctx.stackPrefix !== undefined && bus.replace(/^.*:event-bus\//, '').startsWith(ctx.stackPrefix)
  );
}

/** A call on the management forwarder (the management account's events), not a member's. */
const isManagementForwarder = (call: ApiCall, ctx: TamperContext) =>
  ctx.managementForwarder !== undefined && call.accountId === ctx.managementForwarder.account;

/** One of the management forwarder's rules, called in the management account. */
const isForwarderRule = (call: ApiCall, ctx: TamperContext, name: string) =>
  isManagementForwarder(call, ctx) && Boolean(ctx.managementForwarder?.rules.has(name));

const FORWARDER_FIX =
  'Put the management forwarder back with the management account\'s credentials: aws cloudformation deploy --template-file infra/management-forwarder.yml (README: "Deploy: delegated administrator"); backupctl doctor, run there, names each rule that differs.';

function ruleFinding(
  call: ApiCall,
  ctx: TamperContext,
  name: string,
  title: string,
  impact: string,
): Finding {
  const where = `account ${call.accountId ?? '?'} in ${call.region ?? 'its region'}`;
  if (isManagementForwarder(call, ctx) && ctx.managementForwarder!.rules.has(name)) {
    return {
      title,
      target: name,
      targetKind: 'EventBridge rule',
      impact: `${impact} The management forwarder's events of ${where} (new and departing accounts, Control Tower, the management account's own backup jobs) no longer reach the control plane.`,
      nextSteps: [FORWARDER_FIX],
    };
  }
  const member = ctx.forwardingRules.has(name);
  return {
    title,
    target: name,
    targetKind: 'EventBridge rule',
    impact: member
      ? `${impact} AWS Backup events of ${where} no longer reach the control plane: job failures there go unreported (the daily check still finds them, a day late).`
      : `${impact} This rule feeds the control plane's notifications in the deployment account.`,
    nextSteps: member
      ? []
      : [
          "This is one of the control plane's own rules in the deployment account: redeploy the stack (`npx osls deploy --stage <stage>`) to put it back.",
        ],
    ...(member && call.accountId
      ? {
          repairAccount: call.accountId,
          repairWhat: `forwarding rule ${name}: ${title.toLowerCase()}`,
        }
      : {}),
  };
}

const JUDGES: Readonly<Record<string, Readonly<Record<string, Judge>>>> = {
  backup: {
    DeleteBackupVaultLockConfiguration: (call) => {
      const vault = str(call.request.backupVaultName) ?? '(unnamed vault)';
      return {
        title: 'Vault Lock removed',
        target: vault,
        targetKind: 'backup vault',
        impact:
          'Recovery points in this vault can now be deleted before their retention ends, by anyone allowed to delete them.',
        nextSteps: [
          'If this was not a planned change, treat it as a security incident: ransomware operators remove locks before they delete backups.',
          'Put the lock back (AWS Backup console, the vault, "Vault Lock") and review who can call backup:DeleteBackupVaultLockConfiguration.',
        ],
      };
    },
    PutBackupVaultLockConfiguration: (call) => {
      const vault = str(call.request.backupVaultName) ?? '(unnamed vault)';
      const r = call.request;
      return {
        title: 'Vault Lock set or changed',
        target: vault,
        targetKind: 'backup vault',
        impact:
          "The vault's retention guarantees changed: a shorter minimum retention lets recovery points be deleted sooner.",
        facts: [
          ...fact('Minimum retention (days)', num(r.minRetentionDays)),
          ...fact('Maximum retention (days)', num(r.maxRetentionDays)),
          ...fact('Changeable for (days)', num(r.changeableForDays)),
        ],
        nextSteps: [
          'Check that the new retention limits are the ones your policy requires; a lock still in its grace time can be removed again.',
        ],
      };
    },
    DeleteBackupVault: (call, ctx) => {
      const vault = str(call.request.backupVaultName);
      if (!vault || !ctx.baselineVaultNames.has(vault, call.accountId)) {
        return `vault ${vault ?? '(unnamed)'} is not a baseline vault`;
      }
      return {
        title: 'Baseline vault deleted',
        target: vault,
        targetKind: 'backup vault',
        impact: 'Every backup into this vault fails until it exists again.',
        nextSteps: [],
        vaultDeleted: true,
        ...(call.accountId
          ? { repairAccount: call.accountId, repairWhat: `backup vault ${vault} was deleted` }
          : {}),
      };
    },
    PutBackupVaultAccessPolicy: (call, ctx) => vaultPolicyFinding(call, ctx, 'changed'),
    DeleteBackupVaultAccessPolicy: (call, ctx) => vaultPolicyFinding(call, ctx, 'removed'),
    DeleteRecoveryPoint: (call, ctx) => {
      const vault = str(call.request.backupVaultName);
      if (!vault || !ctx.baselineVaultNames.has(vault, call.accountId)) {
        return `vault ${vault ?? '(unnamed)'} is not a vault of the control plane`;
      }
      const point = str(call.request.recoveryPointArn);
      return {
        title: 'Recovery point deleted',
        target: vault,
        targetKind: 'backup vault',
        impact: 'This restore point is gone for good.',
        facts: id('Recovery point', point),
        nextSteps: [
          'If this was not planned clean-up, treat it as a security incident: look for other deletions by the same identity (CloudTrail, event name DeleteRecoveryPoint).',
          'Consider Vault Lock on this vault so recovery points cannot be deleted before their retention ends.',
        ],
      };
    },
    UpdateGlobalSettings: (call) => {
      const settings = record(call.request.globalSettings) ?? {};
      const shown = Object.entries(settings)
        .map(([k, v]) => `${text(k) ?? '?'}=${text(String(v)) ?? '?'}`)
        .slice(0, 10)
        .join(', ');
      return {
        title: 'AWS Backup global settings changed',
        target: 'global settings',
        targetKind: 'AWS Backup',
        impact:
          'Cross-account backup, cross-account monitoring or other organization-wide features may now be off: copies to the central account and the organization view of jobs depend on them.',
        facts: fact('New settings', shown || undefined),
        nextSteps: [
          'Check the settings in the AWS Backup console of the management account (Settings, Cross-account management) and turn back on what the control plane needs.',
        ],
      };
    },
  },
  events: {
    DisableRule: (call, ctx) => {
      const name = str(call.request.name);
      if (!isOurRule(name, ctx)) return `rule ${name ?? '(unnamed)'} is not the control plane's`;
      return ruleFinding(
        call,
        ctx,
        name!,
        'Forwarding rule disabled',
        'The rule matches nothing while disabled.',
      );
    },
    DeleteRule: (call, ctx) => {
      const name = str(call.request.name);
      if (!isOurRule(name, ctx)) return `rule ${name ?? '(unnamed)'} is not the control plane's`;
      return ruleFinding(call, ctx, name!, 'Forwarding rule deleted', 'The rule is gone.');
    },
    RemoveTargets: (call, ctx) => {
      const name = str(call.request.rule);
      if (!isOurRule(name, ctx)) return `rule ${name ?? '(unnamed)'} is not the control plane's`;
      return ruleFinding(
        call,
        ctx,
        name!,
        'Forwarding rule targets removed',
        'The rule sends events nowhere.',
      );
    },
    PutTargets: (call, ctx) => {
      const name = str(call.request.rule);
      if (!name || !(ctx.forwardingRules.has(name) || isForwarderRule(call, ctx, name)))
        return `rule ${name ?? '(unnamed)'} is not the forwarding rule`;
      const targets = Array.isArray(call.request.targets) ? call.request.targets : [];
      const arns = targets.map((t) => arn(record(t)?.arn)).filter((a): a is string => Boolean(a));
      if (ctx.centralBusArn && arns.length && arns.every((a) => a === ctx.centralBusArn)) {
        return 'the forwarding rule still targets only the central bus';
      }
      const finding = ruleFinding(
        call,
        ctx,
        name,
        'Forwarding rule retargeted',
        'The rule sends events to another target.',
      );
      return {
        ...finding,
        facts: arns.map((a) => ({ label: 'New target', value: a, kind: 'id' as const })),
      };
    },
    PutRule: (call, ctx) => {
      const name = str(call.request.name);
      const forwarder = name !== undefined && isForwarderRule(call, ctx, name);
      if (!name || !(ctx.forwardingRules.has(name) || forwarder))
        return `rule ${name ?? '(unnamed)'} is not the forwarding rule`;
      const state = str(call.request.state)?.toUpperCase();
      if (state && !isEnabledRuleState(state)) {
        return ruleFinding(
          call,
          ctx,
          name,
          'Forwarding rule disabled',
          'The rule matches nothing while disabled.',
        );
      }
      // The forwarder's patterns are the template's, not the baseline's: its state is judged here,
      // a changed pattern by doctor (run with the management account's credentials).
      if (forwarder) return "the management forwarder's rule stays enabled";
      // Patterns run to a few KB: read whole, not cut like display text.
      const patternText = text(call.request.eventPattern)?.slice(0, 8192);
      if (patternText === undefined)
        return 'the forwarding rule was updated without a new pattern or state';
      let pattern: unknown;
      try {
        pattern = JSON.parse(patternText);
      } catch {
        pattern = patternText;
      }
      if (samePolicy(pattern, ctx.forwardingRules.get(name)))
        return "the forwarding rule keeps the baseline's pattern";
      return ruleFinding(
        call,
        ctx,
        name,
        'Forwarding rule pattern changed',
        "The rule's pattern is not the baseline's: some events no longer match.",
      );
    },
  },
  iam: Object.fromEntries(
    (
      [
        ['DeleteRole', 'Baseline role deleted'],
        ['DetachRolePolicy', 'Policy detached from a baseline role'],
        ['DeleteRolePolicy', 'Inline policy deleted from a baseline role'],
        ['PutRolePolicy', 'Inline policy of a baseline role changed'],
        ['UpdateAssumeRolePolicy', 'Trust policy of a baseline role changed'],
        ['PutRolePermissionsBoundary', 'Permissions boundary put on a baseline role'],
      ] as const
    ).map(([eventName, title]) => [
      eventName,
      ((call, ctx) => {
        const role = str(call.request.roleName);
        const forwarder = ctx.managementForwarder;
        if (
          role &&
          forwarder &&
          isManagementForwarder(call, ctx) &&
          role.startsWith(forwarder.rolePrefix)
        ) {
          return {
            title: title.replace('a baseline role', 'the management forwarder’s role'),
            target: role,
            targetKind: 'IAM role',
            impact:
              "The management forwarder's rules may no longer put the management account's events (new accounts, Control Tower, its own backup jobs) on the central bus.",
            nextSteps: [FORWARDER_FIX],
          };
        }
        if (!role || !ctx.baselineRoleNames.has(role)) {
          return `role ${role ?? '(unnamed)'} is not a baseline role`;
        }
        return {
          title,
          target: role,
          targetKind: 'IAM role',
          impact:
            'AWS Backup jobs, event forwarding or the daily check in this account may fail until the role is as the baseline declares.',
          facts: [
            ...id('Policy', str(call.request.policyArn) ?? str(call.request.policyName)),
            ...id('Permissions boundary', str(call.request.permissionsBoundary)),
          ],
          nextSteps: [],
          ...(call.accountId
            ? {
                repairAccount: call.accountId,
                repairWhat: `IAM role ${role}: ${title.toLowerCase()}`,
              }
            : {}),
        };
      }) satisfies Judge,
    ]),
  ),
  organizations: {
    DisablePolicyType: (call) => {
      const type = str(call.request.policyType);
      if (type !== 'BACKUP_POLICY') return `policy type ${type ?? '(none)'} is not BACKUP_POLICY`;
      return {
        title: 'Backup policies disabled for the organization',
        target: str(call.request.rootId) ?? 'the root',
        targetKind: 'organization root',
        impact:
          'Every backup policy is detached from every account: AWS Backup deletes the plans they created, and no new backups are scheduled anywhere.',
        nextSteps: [
          'Enable the BACKUP_POLICY type again (Organizations console, Policies, Backup policies) in the management account, then run `backupctl reconcile` so every account gets its policies back.',
        ],
      };
    },
    DetachPolicy: (call) => {
      const policyId = str(call.request.policyId);
      if (!policyId) return 'the call names no policy';
      const targetId = str(call.request.targetId) ?? '(unknown target)';
      const account = isAccountId(targetId) ? targetId : undefined;
      return {
        title: 'Backup policy detached',
        target: policyId,
        targetKind: 'backup policy',
        impact: `The plans this policy creates are removed from ${account ? `account ${account}` : `every account under ${targetId}`} that does not get it another way.`,
        facts: id('Detached from', targetId),
        nextSteps: account
          ? []
          : [
              `Attach the policy to ${targetId} again (Organizations console, Policies, Backup policies) if this was not planned.`,
            ],
        policyCheck: policyId,
        ...(account
          ? {
              affectedAccount: account,
              repairAccount: account,
              repairWhat: `backup policy ${policyId} was detached from the account`,
            }
          : {}),
      };
    },
    UpdatePolicy: (call) => {
      const policyId = str(call.request.policyId);
      const summary = record(record(call.response.policy)?.policySummary);
      if (!policyId) return 'the call names no policy';
      return {
        title: 'Backup policy changed',
        target: str(summary?.name) ?? policyId,
        targetKind: 'backup policy',
        impact:
          'Every account the policy applies to gets the new plans: schedules, retention, vaults or copies may have changed.',
        facts: [...id('Policy id', policyId), ...fact('New name', str(call.request.name))],
        nextSteps: [
          "Compare the policy with its file under infra/backup-policies/ (`backupctl policies`) and put the file's content back if the change was not planned.",
        ],
        policyCheck: policyId,
      };
    },
  },
};

function vaultPolicyFinding(
  call: ApiCall,
  ctx: TamperContext,
  how: 'changed' | 'removed',
): Finding | string {
  const vault = str(call.request.backupVaultName);
  if (!vault || !ctx.baselineVaultNames.has(vault, call.accountId)) {
    return `vault ${vault ?? '(unnamed)'} is not a baseline vault`;
  }
  return {
    title: `Vault access policy ${how}`,
    target: vault,
    targetKind: 'backup vault',
    impact:
      how === 'removed'
        ? 'Deny statements that protected the recovery points (against deletion or copying out) no longer apply.'
        : 'Who may delete, copy or restore recovery points in this vault may have changed.',
    nextSteps: [
      'Read the new policy (AWS Backup console, the vault, "Access policy") and look for statements that allow deletion or copies to accounts outside the organization.',
    ],
  };
}

/** The API calls the forwarding pattern lets through, by service: for docs and tests. */
export const WATCHED_CALLS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(JUDGES).map(([service, judges]) => [service, Object.keys(judges)]),
);

/** Decides one API call: an alert about the control plane's own resources, or why not. */
export function judgeApiCall(call: ApiCall, ctx: TamperContext): TamperDecision {
  const facts: Record<string, string> = {
    eventName: call.eventName,
    ...(call.accountId ? { accountId: call.accountId } : {}),
    ...(call.region ? { region: call.region } : {}),
  };
  const judge = Object.hasOwn(JUDGES, call.service)
    ? JUDGES[call.service]![call.eventName]
    : undefined;
  if (!judge)
    return {
      flow: 'ignore',
      reason: `${call.service}:${call.eventName} is not a watched call`,
      facts,
    };
  if (call.errorCode) {
    return {
      flow: 'ignore',
      reason: `the call failed (${call.errorCode}): nothing changed`,
      facts,
    };
  }
  const own = ownAction(call, ctx);
  if (own) return { flow: 'ignore', reason: `${own}: not an alert`, facts };
  if (call.service === 'events' && !onOurBus(call, ctx)) {
    const bus = str(call.request.eventBusName);
    return { flow: 'ignore', reason: `a rule on event bus ${bus}, not the control plane's`, facts };
  }
  if (!call.accountId)
    return { flow: 'ignore', reason: 'the call names no account: it cannot be attributed', facts };
  const found = judge(call, ctx);
  if (typeof found === 'string') return { flow: 'ignore', reason: found, facts };
  const repair =
    ctx.canRepair && found.repairAccount
      ? {
          accountId: found.repairAccount,
          finding: {
            what: found.repairWhat ?? found.title,
            resource: found.target,
            ...(call.region ? { region: call.region } : {}),
            who: { identity: call.identity.who, action: call.eventName, time: call.time ?? '' },
          },
        }
      : undefined;
  const notice = found.vaultDeleted
    ? vaultDeletedNotice({
        accountId: call.accountId,
        ...(call.region ? { region: call.region } : {}),
        vault: found.target,
        severity: 'error',
        when: call.time ?? call.eventId,
        eventId: call.eventId,
        who: call.identity.who,
        repairRequested: Boolean(repair),
      })
    : tamperNotice(call, found, Boolean(repair));
  return {
    flow: 'notify',
    notice,
    facts: { ...facts, severity: notice.severity },
    ...(repair ? { repair } : {}),
    ...(found.policyCheck ? { policyCheck: { policyId: found.policyCheck } } : {}),
  };
}

/** The alert: who, what, where, when, what it means, and what happens next. */
export function tamperNotice(call: ApiCall, f: Finding, repairRequested: boolean): Notice {
  // Routed to the account the change hurts (its owner hears of it), said where it was made.
  const accountId = f.affectedAccount ?? call.accountId!;
  const place = f.affectedAccount
    ? `account ${accountId} (changed from account ${call.accountId!})`
    : `account ${accountId}${call.region ? ` (${call.region})` : ''}`;
  const facts: Fact[] = [
    ...fact('Who', call.identity.who),
    ...fact('Action', `${call.service}:${call.eventName}`),
    ...(f.affectedAccount ? id('Made in account', call.accountId) : []),
    ...id(capitalised(f.targetKind), f.target),
    ...(f.facts ?? []),
    ...fact('When', call.time),
    ...fact('Source IP', call.sourceIp),
    ...fact('User agent', call.userAgent),
    ...id('Identity ARN', call.identity.arn),
    ...id('CloudTrail event id', call.eventId),
  ];
  const steps = [
    ...(repairRequested
      ? [
          'The control plane asked onboarding to put the baseline back in this account; a "drift repaired" notice follows when it is done.',
        ]
      : []),
    ...f.nextSteps,
    `Confirm with ${call.identity.who} whether this was intended; if not, treat it as a security incident.`,
  ];
  return {
    kind: 'tamper',
    dedupKey: ['tamper', accountId, call.eventId].join('#'),
    severity: 'error',
    label: 'TAMPERING',
    what: f.title,
    item: f.target,
    headline: `${f.title}: ${f.target} in ${place}`,
    summary: `${f.title}: ${f.target} in ${place} by ${call.identity.who}`,
    account: { id: accountId },
    ...(call.region ? { region: call.region } : {}),
    reason: f.impact,
    facts,
    sections: [],
    nextSteps: steps,
    link: {
      url: consoleUrl(
        'cloudtrail',
        call.region,
        `/events?EventName=${encodeURIComponent(call.eventName)}`,
      ),
      label: 'Open CloudTrail event history',
    },
    state: 'TAMPERING',
    chat: {
      threadId: `tamper-${accountId}-${f.target}`,
      eventType: camelEventType(f.title),
      keywords: ['TAMPERING', f.title, call.eventName, accountId, call.region ?? ''],
      relatedResources: [],
      context: {
        eventName: call.eventName,
        who: call.identity.who,
        ...(repairRequested ? { repairRequested: 'true' } : {}),
      },
    },
    reference: `CloudTrail event ${call.eventId}`,
  };
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
