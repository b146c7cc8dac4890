import type { AttributeSchema } from '../filter-policy';
import type { Config, RouteRule } from './schema';

/**
 * The domain's vocabulary: job types, states, severities, notice kinds, the message attributes, the
 * default rules. No schema library: the functions import this at run time.
 */
export const JOB_TYPES = ['backup', 'copy', 'restore'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Every state an AWS Backup, copy or restore job can report. */
export const JOB_STATES = [
  'CREATED',
  'PENDING',
  'RUNNING',
  'ABORTING',
  'ABORTED',
  'COMPLETED',
  'FAILED',
  'EXPIRED',
  'PARTIAL',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/**
 * What a message is about. Every kind goes through the same pipeline (route, compose, render,
 * deliver once); rules can match on it.
 */
export const NOTICE_KINDS = [
  'job',
  'scan',
  'index',
  'vault',
  'region-setting',
  'tamper',
  'onboarding',
  'drift',
  'coverage',
  'digest',
  'account-digest',
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/**
 * The SNS message attributes every published message carries (render-chat.ts sets them), as
 * subscription filter policies see them. `ouPath` is set when the account's OU path is known; it
 * is looked up whenever a filter names it.
 */
export const MESSAGE_ATTRIBUTES: AttributeSchema = {
  severity: { type: 'String', values: SEVERITIES, alwaysPresent: true },
  kind: { type: 'String', values: NOTICE_KINDS, alwaysPresent: true },
  state: { type: 'String', alwaysPresent: true },
  jobType: { type: 'String', alwaysPresent: true },
  accountId: { type: 'String', alwaysPresent: true },
  region: { type: 'String', alwaysPresent: true },
  resourceType: { type: 'String', alwaysPresent: true },
  ouPath: { type: 'String' },
};

/**
 * The kinds a rule without `kind` matches: alerts. Onboarding notices and digests have their own
 * audiences (onboarding.email/sns, watching.digest) and reach a rule only when it names them.
 */
export const ALERT_KINDS: readonly NoticeKind[] = [
  'job',
  'scan',
  'index',
  'vault',
  'region-setting',
  'tamper',
  'drift',
  'coverage',
];

/**
 * What a malware scan found or how it ended: THREATS_FOUND whatever the scan's state, else the
 * state (FAILED, COMPLETED_WITH_ISSUES, CANCELED), else NO_THREATS_FOUND for a clean COMPLETED.
 */
export const SCAN_OUTCOMES = [
  'THREATS_FOUND',
  'FAILED',
  'COMPLETED_WITH_ISSUES',
  'CANCELED',
  'NO_THREATS_FOUND',
] as const;
export type ScanOutcome = (typeof SCAN_OUTCOMES)[number];

/** What incidents group by, beyond the job type, the outcome and the failure category. */
export const INCIDENT_GROUPING = ['vault', 'plan', 'region', 'resourceType'] as const;

export const SUBSCRIBER_PROTOCOLS = ['email', 'https', 'sqs', 'lambda'] as const;

/**
 * Where the control plane runs: the management account, or a delegated administrator account
 * (with a forwarder in the management account). README: "Deploying".
 */
export const DEPLOYMENT_MODES = ['management', 'delegated-admin'] as const;
export type DeploymentMode = (typeof DEPLOYMENT_MODES)[number];

/** The recipient list every rule may name: the owner of the event's account. */
export const ACCOUNT_OWNER_LIST = 'account-owner';

/** Errors and warnings to admins' email and chat; info to chat only. */
export const DEFAULT_RULES: readonly RouteRule[] = [
  {
    name: 'errors-and-warnings',
    match: { severity: ['error', 'warning'] },
    email: ['admins'],
    sns: ['chat'],
  },
  { name: 'info-to-chat', match: { severity: ['info'] }, email: [], sns: ['chat'] },
];

/**
 * The configured rules (or the defaults), then the rules the other sections imply: onboarding
 * notices to onboarding.email and onboarding.sns (and the account's owner with
 * notifyAccountEmail).
 */
export function effectiveRules(config: Config): readonly RouteRule[] {
  const onboarding = config.onboarding;
  const onboardingRule: RouteRule = {
    name: 'onboarding-notices',
    match: { kind: ['onboarding'] },
    email: [
      ...(onboarding?.email ?? ['admins']),
      ...(onboarding?.notifyAccountEmail ? [ACCOUNT_OWNER_LIST] : []),
    ],
    sns: onboarding?.sns ?? ['chat'],
  };
  const digest = config.watching.digest;
  const digestRules: RouteRule[] = [
    { name: 'daily-digest', match: { kind: ['digest'] }, email: digest.email, sns: digest.sns },
    ...(digest.accountOwners
      ? [
          {
            name: 'account-owner-digests',
            match: { kind: ['account-digest' as const] },
            email: [ACCOUNT_OWNER_LIST],
            sns: [],
          },
        ]
      : []),
  ];
  return [...(config.notifications.rules ?? DEFAULT_RULES), onboardingRule, ...digestRules];
}
