import { forwardingRules, loadBaseline, type Baseline } from '../onboard-account/baseline';
import { centralVault, controlPlaneVaults } from '../shared/central-backup';
import type { Config } from '../shared/config/schema';
import type { Notice } from '../shared/notices/notice';
import { classify } from './classify';
import { isApiCallEvent, readApiCall } from './cloudtrail';
import { readEnvelope } from './envelope';
import { jobNotice } from './job-notice';
import { parseBackupEvent, type JobEvent } from './schema';
import { decideServiceEvent, isServiceEvent, type ServiceEventContext } from './service-events';
import { judgeApiCall, type RepairRequest, type TamperContext } from './tamper';

/** What the notification flow will do with one event, decided without any AWS call. */
export type Decision =
  | {
      flow: 'notify';
      eventId: string;
      notice: Notice;
      warnings: string[];
      /** What `backupctl plan` shows about the event. */
      facts: Record<string, string>;
      /** Set for job state changes. */
      event?: JobEvent;
      /** Onboarding can put back what a tamper call changed in this account. */
      repair?: RepairRequest;
      /** The alert holds only if this backup policy is one of the control plane's. */
      policyCheck?: { policyId: string };
    }
  | {
      flow: 'ignore';
      eventId?: string;
      reason: string;
      event?: JobEvent;
      warnings: string[];
      facts: Record<string, string>;
    };

/** What decisions need beyond the configuration: the baseline and the deployment's names. */
export interface DecideContext {
  service: ServiceEventContext;
  tamper: TamperContext;
}

export interface DeploymentFacts {
  /** `<service>-<stage>-`: the stack's roles and rules start with it. */
  stackPrefix?: string;
  centralBusArn?: string;
  /** Whether the notification function can ask onboarding for a repair. */
  canRepair?: boolean;
}

/** The session name onboarding uses in member accounts (member-account adapter). */
export const ONBOARDING_SESSION_NAME = 'backup-control-plane-onboarding';

export function decideContext(
  config: Config,
  deployment: DeploymentFacts = {},
  baseline: Baseline = loadBaseline(),
): DecideContext {
  const profiles = config.onboarding?.profiles ?? [];
  const baselineVaultNames = controlPlaneVaults(
    [
      baseline.vault.name,
      ...profiles.map((p) => p.baseline.vaultName).filter((v): v is string => Boolean(v)),
    ],
    // The central vaults hold the organization's copies: deleting them is the worst case.
    centralVault(config),
  );
  return {
    service: { classification: config.notifications.classification, baselineVaultNames },
    tamper: {
      baselineVaultNames,
      baselineRoleNames: new Set([
        baseline.serviceRole.name,
        baseline.readOnlyRole.name,
        baseline.forwarding.role.name,
        // Whoever widens the member role's policy or trust widens onboarding's reach.
        ...(config.onboarding?.memberRole ? [config.onboarding.memberRole.name] : []),
      ]),
      forwardingRules: new Map(forwardingRules(baseline).map((r) => [r.name, r.pattern])),
      ...(config.deployment.mode === 'delegated-admin' && config.deployment.managementAccountId
        ? {
            managementForwarder: {
              account: config.deployment.managementAccountId,
              rules: new Set(Object.values(MANAGEMENT_FORWARDER_RULES)),
              rolePrefix: 'backup-control-plane-management-forwarder-',
            },
          }
        : {}),
      ...(deployment.centralBusArn ? { centralBusArn: deployment.centralBusArn } : {}),
      ...(deployment.stackPrefix ? { stackPrefix: deployment.stackPrefix } : {}),
      // Onboarding's own calls arrive through these (the member role's too): not tampering.
      accessRoles: config.onboarding
        ? [
            config.onboarding.accessRole,
            config.onboarding.controlTowerAccessRole,
            ...(config.onboarding.memberRole ? [config.onboarding.memberRole.name] : []),
          ]
        : [],
      onboardingSessionName: ONBOARDING_SESSION_NAME,
      backupPolicyNames: new Set(profiles.flatMap((p) => p.backupPolicies)),
      canRepair: Boolean(config.onboarding && deployment.canRepair),
    },
  };
}

/** The rules of infra/management-forwarder.yml (delegated-admin mode); a test compares them. */
export const MANAGEMENT_FORWARDER_RULES = {
  organizations: 'backup-control-plane-forward-organizations-events',
  controlTower: 'backup-control-plane-forward-control-tower-events',
  backup: 'backup-control-plane-forward-backup-events',
  ruleChanges: 'backup-control-plane-forward-rule-changes',
  roleChanges: 'backup-control-plane-forward-role-changes',
} as const;

/**
 * Parses and classifies any event the forwarding pattern lets through: job state changes, the
 * other AWS Backup events, and CloudTrail calls on the control plane's resources. The notice is
 * routed by the pipeline once its account is known. Throws MalformedEventError for an event with
 * nothing useful to say.
 */
export function decide(
  input: unknown,
  config: Config,
  ctx: DecideContext = decideContext(config),
): Decision {
  const envelope = readEnvelope(input);
  if (isApiCallEvent(envelope)) {
    const call = readApiCall(envelope);
    if ('unreadable' in call) {
      return {
        flow: 'ignore',
        eventId: envelope.eventId,
        reason: `CloudTrail event cannot be attributed: ${call.unreadable}`,
        warnings: [],
        facts: {},
      };
    }
    const judged = judgeApiCall(call, ctx.tamper);
    if (judged.flow === 'ignore') {
      return { ...judged, eventId: envelope.eventId, warnings: [] };
    }
    return { ...judged, eventId: envelope.eventId, warnings: envelope.warnings };
  }
  if (isServiceEvent(envelope)) {
    const decided = decideServiceEvent(input, envelope, ctx.service);
    return { ...decided, eventId: envelope.eventId, warnings: envelope.warnings };
  }
  // A job state change, or ignored with the reason (another source or detail-type).
  const parsed = parseBackupEvent(input, envelope);
  if (parsed.kind === 'ignored') {
    return {
      flow: 'ignore',
      eventId: parsed.eventId,
      reason: parsed.reason,
      warnings: [],
      facts: {},
    };
  }
  const { event, warnings } = parsed;
  const facts = jobFacts(event);
  const verdict = classify(event, config.notifications.classification);
  if (verdict.outcome === 'ignore') {
    return {
      flow: 'ignore',
      eventId: event.eventId,
      reason: verdict.reason,
      event,
      warnings,
      facts,
    };
  }
  return {
    flow: 'notify',
    eventId: event.eventId,
    event,
    notice: jobNotice(event, verdict.severity, verdict.label),
    warnings,
    facts,
  };
}

function jobFacts(e: JobEvent): Record<string, string> {
  return {
    jobType: e.jobType,
    state: e.state,
    accountId: e.accountId,
    ...(e.region ? { region: e.region } : {}),
  };
}
