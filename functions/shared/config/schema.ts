import { z } from 'zod';
import { scheduleProblem } from '../backup-plans/cron';
import { ConfigError } from '../errors';
import { filterPolicyProblems } from '../filter-policy';
import { ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE, REGION_PATTERN, REGION_RULE } from '../patterns';
import {
  ACCOUNT_OWNER_LIST,
  ALERT_KINDS,
  DEPLOYMENT_MODES,
  type DeploymentMode,
  INCIDENT_GROUPING,
  JOB_STATES,
  JOB_TYPES,
  MESSAGE_ATTRIBUTES,
  NOTICE_KINDS,
  SCAN_OUTCOMES,
  SEVERITIES,
  SUBSCRIBER_PROTOCOLS,
} from './vocabulary';

/**
 * The configuration's schema: validates the stage file at package time (infra/stage-config.js) and
 * in the CLI, with errors that name the setting. The functions never load this module (zod stays
 * out of their bundles, test/unit/bundles.test.ts); they get its types, and check the JSON the
 * stack hands them against config.schema.json, generated from it (runtime.ts).
 */
const EMAIL = z.email({ message: 'must be an email address' });
const NAME = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'must start with a letter and use letters, digits, "-"');
const ACCOUNT_ID = z.string().regex(ACCOUNT_ID_PATTERN, ACCOUNT_ID_RULE);
const REGION = z.string().regex(REGION_PATTERN, REGION_RULE);
const TAG_KEY = z.string().min(1).max(128);

const SeverityOrIgnore = z.enum([...SEVERITIES, 'ignore']);

export const ClassificationSchema = z
  .object({
    states: z.partialRecord(z.enum(JOB_STATES), SeverityOrIgnore).default({}),
    completedWithIssues: SeverityOrIgnore.default('warning'),
    /** Malware scans (Scan Job State Change), by outcome; unset ones keep their default. */
    scans: z.partialRecord(z.enum(SCAN_OUTCOMES), SeverityOrIgnore).default({}),
    /** A recovery point's search index failed (Recovery Point Index State Change). */
    indexFailed: SeverityOrIgnore.default('warning'),
    /** A resource type's AWS Backup opt-in turned off in a region (Region Setting State Change). */
    regionOptOut: SeverityOrIgnore.default('warning'),
    /** A baseline vault deleted (Backup Vault State Change); other vaults are not ours to watch. */
    baselineVaultDeleted: SeverityOrIgnore.default('error'),
  })
  .strict();

/** The classification when the configuration says nothing. */
export const DEFAULT_CLASSIFICATION: Classification = ClassificationSchema.parse({});

/**
 * Aggregation of alerts into incidents (a storm of failures from one cause becomes one alert, then
 * summaries, then one "recovered"), and flood control. Off by default: every alert on its own.
 */
export const AggregationSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** How long followers of an incident are collected before a summary goes out. */
    windowMinutes: z.number().int().min(1).max(60).default(5),
    /** How many alerts of one incident go out at once before the rest are folded. */
    immediate: z.number().int().min(1).max(20).default(1),
    /** One incident across the organization, or one per account (owners keep their own). */
    scope: z.enum(['organization', 'account']).default('organization'),
    /** Plan ids are per account: group by plan only with scope account. */
    groupBy: z.array(z.enum(INCIDENT_GROUPING)).default(['vault']),
    /** Which alerts are grouped into incidents. */
    severities: z.array(z.enum(SEVERITIES)).min(1).default(['error', 'warning']),
    /**
     * Alerts sent at once per window, beyond which the rest are folded into one summary per
     * window (never dropped): per account, and in total (every route's bound).
     */
    floodControl: z
      .object({
        perAccount: z.number().int().min(1).max(10_000).default(20),
        total: z.number().int().min(1).max(100_000).default(100),
      })
      .strict()
      .default({ perAccount: 20, total: 100 }),
  })
  .strict();
export type Aggregation = z.infer<typeof AggregationSchema>;

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z
    .union([item, z.array(item).min(1)])
    .transform((v): z.output<T>[] => (Array.isArray(v) ? v : [v]))
    // Checks nothing new; gives the output a JSON Schema (a list), so the run-time check sees it.
    .pipe(z.array(item) as unknown as z.ZodType<z.output<T>[], z.output<T>[]>);

export const RouteMatchSchema = z
  .object({
    jobType: oneOrMany(z.enum(JOB_TYPES)).optional(),
    state: oneOrMany(z.enum(JOB_STATES)).optional(),
    severity: oneOrMany(z.enum(SEVERITIES)).optional(),
    accountId: oneOrMany(ACCOUNT_ID).optional(),
    region: oneOrMany(REGION).optional(),
    resourceType: oneOrMany(z.string().min(1)).optional(),
    /** Which kinds of message; without it, every alert kind (ALERT_KINDS). */
    kind: oneOrMany(z.enum(NOTICE_KINDS)).optional(),
    /** The account's OU path, with the globs of onboarding profiles ("*" one OU, "**" any). */
    ouPath: oneOrMany(z.string().min(1)).optional(),
    /** Account tags that must all be present with one of the given values. */
    accountTags: z.record(TAG_KEY, oneOrMany(z.string())).optional(),
  })
  .strict();

export const RouteRuleSchema = z
  .object({
    name: NAME,
    match: RouteMatchSchema.default({}),
    email: z.array(NAME).default([]),
    sns: z.array(NAME).default([]),
  })
  .strict()
  .refine((r) => r.email.length + r.sns.length > 0, {
    message: 'a rule must name at least one email list or sns topic',
  });

/** An SNS filter policy over MESSAGE_ATTRIBUTES (checked in full by ConfigSchema). */
const FilterSchema = z.record(z.string(), z.unknown());
/** Lower case, single hyphens: two names never become the same resource id. */
const CHANNEL_NAME = z
  .string()
  .regex(
    /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    'must start with a lower-case letter and use lower-case letters, digits and single "-"',
  )
  .max(32);
const LOGGING_LEVEL = z.enum(['ERROR', 'INFO', 'NONE']);
const IAM_POLICY_ARN = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[\w+=,.@/-]+$/, 'must be an IAM policy ARN');
const UUID = /^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$/;

/** What every chat channel configuration (Amazon Q Developer in chat applications) takes. */
const channelBase = {
  /** Names the channel in resources, `plan` and the sandbox (unique within its topic). */
  name: CHANNEL_NAME,
  /** Only the messages this SNS filter policy accepts reach the channel (all without one). */
  filter: FilterSchema.optional(),
  loggingLevel: LOGGING_LEVEL.default('ERROR'),
  /**
   * What people in the channel may do through it. Default: nothing (AWSDenyAll): the channel is
   * for notifications; commands on the organization only if the configuration says so.
   */
  guardrailPolicies: z.array(IAM_POLICY_ARN).min(1).default(['arn:aws:iam::aws:policy/AWSDenyAll']),
};

export const SlackChannelSchema = z
  .object({
    ...channelBase,
    /** The Slack workspace (team) id, authorised once in the Amazon Q Developer console. */
    workspaceId: z
      .string()
      .regex(/^[0-9A-Z]{1,255}$/, 'must be a Slack workspace id such as T07EA123LEP'),
    /** The channel id (channel details in Slack, at the bottom), not its name. */
    channelId: z
      .string()
      .regex(
        /^[A-Za-z0-9]{1,256}$/,
        'must be a Slack channel id such as C07EZ1ABC23, not its name',
      ),
  })
  .strict();

export const TeamsChannelSchema = z
  .object({
    ...channelBase,
    teamId: z.string().regex(UUID, 'must be the Microsoft Teams team id (a GUID)'),
    tenantId: z.string().regex(UUID, 'must be the Microsoft Entra tenant id (a GUID)'),
    /** From "Get link to channel": 19:…@thread.tacv2 (plain or URL-encoded). */
    channelId: z
      .string()
      .regex(
        /^19(:|%3[aA])[A-Za-z0-9_=+/.,-]+(@|%40)thread\.(tacv2|skype)$/,
        'must be a Teams channel id such as 19:a1b2c3...@thread.tacv2 (from "Get link to channel")',
      )
      .max(250),
  })
  .strict();

export const SubscriberSchema = z
  .object({
    protocol: z.enum(SUBSCRIBER_PROTOCOLS),
    /** An address, an https:// URL, a queue ARN or a function ARN, as the protocol says. */
    endpoint: z.string().min(1).max(2048),
    filter: FilterSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const ok =
      s.protocol === 'email'
        ? EMAIL.safeParse(s.endpoint).success
        : s.protocol === 'https'
          ? /^https:\/\/[^\s/]+(\/\S*)?$/.test(s.endpoint)
          : s.protocol === 'sqs'
            ? /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/.test(s.endpoint)
            : /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$/.test(
                s.endpoint,
              );
    if (!ok) {
      const what = {
        email: 'an email address',
        https: 'an https:// URL',
        sqs: 'an SQS queue ARN',
        lambda: 'a Lambda function ARN',
      }[s.protocol];
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint'],
        message: `must be ${what} (protocol ${s.protocol})`,
      });
    }
  });

export const TopicSchema = z
  .object({
    /** An existing topic. Without it the stack creates one (encrypted with its own key). */
    arn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
        'must be an SNS topic ARN',
      )
      .optional(),
    /** Whether an AWS Chatbot / Q Developer configuration subscribes (grants it the key). */
    chat: z.boolean().default(true),
    /** Slack channels the stack connects (Amazon Q Developer in chat applications). */
    slack: z.array(SlackChannelSchema).default([]),
    /** Microsoft Teams channels the stack connects. */
    teams: z.array(TeamsChannelSchema).default([]),
    /** Email, HTTPS, SQS and Lambda subscriptions the stack makes, with their filter policies. */
    subscribers: z.array(SubscriberSchema).default([]),
  })
  .strict();
export type Topic = z.infer<typeof TopicSchema>;

const POLICY_NAME = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/,
    'must be a backup policy file name under infra/backup-policies/',
  );
const ROLE_NAME = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name');

/** Which accounts a profile is for: an OU path pattern or account tags (all given must match). */
/** A Teams channel id as its two spellings compare (plain, or URL-encoded from a link). */
function decodedChannelId(channelId: string): string {
  try {
    return decodeURIComponent(channelId);
  } catch {
    // A malformed escape: the channel id's own check names it; compared as written here.
    return channelId;
  }
}

/** An EventBridge schedule expression, checked as EventBridge would (a bad one fails the deploy). */
const SCHEDULE = z
  .string()
  .regex(/^(rate|cron)\(.+\)$/, 'must be an EventBridge schedule: rate(...) or cron(...)')
  .superRefine((expression, ctx) => {
    const problem = scheduleProblem(expression);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const ProfileMatchSchema = z
  .object({
    /** OU path from the root, e.g. "Workloads/Production"; "*" matches one level, "**" any. */
    ouPath: oneOrMany(z.string().min(1)).optional(),
    tags: z.record(TAG_KEY, z.string()).optional(),
  })
  .strict();

export const ProfileSchema = z
  .object({
    name: NAME,
    match: ProfileMatchSchema.default({}),
    regions: z.array(REGION).min(1),
    /** Names of files in infra/backup-policies/ to attach (unless inherited through an OU). */
    backupPolicies: z.array(POLICY_NAME).default([]),
    /** Overrides of infra/baseline/baseline.yml settings for these accounts. */
    baseline: z
      .object({
        vaultName: z
          .string()
          .regex(
            /^[A-Za-z0-9_-]{2,50}$/,
            'must be a backup vault name: 2 to 50 letters, digits, "-", "_"',
          )
          .optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const OnboardingSchema = z
  .object({
    /** The role the control plane assumes in member accounts. */
    accessRole: ROLE_NAME.default('OrganizationAccountAccessRole'),
    /** The role used for accounts vended by Control Tower. */
    controlTowerAccessRole: ROLE_NAME.default('AWSControlTowerExecution'),
    /**
     * A dedicated least-privilege role in every member account, assumed instead of the
     * administrator roles above (functions/onboard-account/member-role.ts). `stackset`: a
     * service-managed StackSet of the stack creates it in every account of the targets, now and
     * later (the administrator roles are then never assumed); `bootstrap`: onboarding creates it
     * once through accessRole, then uses it.
     */
    memberRole: z
      .object({
        name: ROLE_NAME.default('backup-control-plane-member'),
        deploy: z.enum(['stackset', 'bootstrap']),
        /** The StackSet's targets: the organization's root (r-…) or OUs (ou-…). */
        organizationalUnitIds: z
          .array(
            z
              .string()
              .regex(
                /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/,
                'must be a root id (r-…) or an OU id (ou-…-…)',
              ),
          )
          .min(1)
          .optional(),
      })
      .strict()
      .superRefine((m, ctx) => {
        if (m.deploy === 'stackset' && !m.organizationalUnitIds) {
          ctx.addIssue({
            code: 'custom',
            path: ['organizationalUnitIds'],
            message:
              'is required with deploy: stackset: the root id (aws organizations list-roots) or the OU ids to deploy the role to',
          });
        }
        if (m.deploy === 'bootstrap' && m.organizationalUnitIds) {
          ctx.addIssue({
            code: 'custom',
            path: ['organizationalUnitIds'],
            message: 'is only for deploy: stackset',
          });
        }
      })
      .optional(),
    /** How long to keep trying to assume the role of a brand-new account. */
    assumeRoleTimeoutSeconds: z.number().int().min(0).max(840).default(600),
    /** An account with this tag set to "true" is skipped (recorded as skipped). */
    optOutTag: TAG_KEY.default('backup-control-plane:opt-out'),
    /** An account tag naming a profile wins over OU and tag matching. */
    profileTag: TAG_KEY.default('backup-control-plane:profile'),
    onboardManagementAccount: z.boolean().default(false),
    /** Also tell the account's own email address when it is ready or failed. */
    notifyAccountEmail: z.boolean().default(false),
    email: z.array(NAME).default(['admins']),
    sns: z.array(NAME).default(['chat']),
    /** EventBridge schedule of the reconcile sweep. */
    schedule: SCHEDULE.default('rate(1 day)'),
    /**
     * How long one account's onboarding lock lasts if its holder dies. At least the onboarding
     * function's timeout (900 s), so a live run (waiting for a new account's role) keeps it.
     */
    lockSeconds: z
      .number()
      .int()
      .min(900, 'must be at least 900 (the onboarding function timeout)')
      .max(3600)
      .default(900),
    profiles: z.array(ProfileSchema).min(1),
  })
  .strict()
  .superRefine((o, ctx) => {
    // A service-managed StackSet never deploys to the management account, and with it the
    // onboarding role may assume no administrator role there either.
    // Bootstrap waits for the access role, then up to 60 s for the new member role: both inside
    // the onboarding function's 900 s.
    if (o.memberRole?.deploy === 'bootstrap' && o.assumeRoleTimeoutSeconds > 780) {
      ctx.addIssue({
        code: 'custom',
        path: ['assumeRoleTimeoutSeconds'],
        message:
          'must be at most 780 with memberRole.deploy: bootstrap (the new member role can take another 60 s to be assumable, and the onboarding function stops at 900 s)',
      });
    }
    if (o.memberRole?.deploy === 'stackset' && o.onboardManagementAccount) {
      ctx.addIssue({
        code: 'custom',
        path: ['memberRole', 'deploy'],
        message:
          'stackset cannot reach the management account (StackSets never deploy there), which onboardManagementAccount: true onboards: use deploy: bootstrap, or leave the management account out',
      });
    }
  });

/** Watching: the daily check's settings and the daily digest. */
export const WatchingSchema = z
  .object({
    digest: z
      .object({
        /** When the digest goes out: after the sweep's checks (onboarding.schedule) are done. */
        schedule: SCHEDULE.default('cron(0 8 * * ? *)'),
        /** Who gets the organization's digest. */
        email: z.array(NAME).default(['admins']),
        sns: z.array(NAME).default(['chat']),
        /** Also send each account owner (notifications.email account-owner) their accounts' digest. */
        accountOwners: z.boolean().default(false),
        /** On a quiet day, a short "all N accounts verified, nothing failed" (proof of life). */
        heartbeat: z.boolean().default(true),
      })
      .strict()
      .default({
        schedule: 'cron(0 8 * * ? *)',
        email: ['admins'],
        sns: ['chat'],
        accountOwners: false,
        heartbeat: true,
      }),
    /** After a rule's interval and windows, how long before a backup counts as late. */
    coverageGraceHours: z.number().int().min(0).max(168).default(6),
    lostEvents: z
      .object({
        /** How far back the job history is compared with what was delivered. */
        lookbackHours: z.number().int().min(1).max(168).default(26),
        /** A job younger than this is not yet "lost": its event may still be on its way. */
        settleMinutes: z.number().int().min(0).max(1440).default(60),
      })
      .strict()
      .default({ lookbackHours: 26, settleMinutes: 60 }),
  })
  .strict();

const WATCHING_DEFAULTS = WatchingSchema.parse({});

/** The retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

export const ConfigSchema = z
  .object({
    organizationId: z.string().regex(/^o-[a-z0-9]{10,32}$/, 'must look like o-abc123def4'),
    onboarding: OnboardingSchema.optional(),
    /**
     * The central backup account: backup policies copy into its vault by writing
     * {{central-vault:<region>}}, filled in at package time (never a literal account id).
     */
    centralBackup: z
      .object({
        accountId: ACCOUNT_ID,
        vaultName: z
          .string()
          .regex(
            /^[A-Za-z0-9_-]{2,50}$/,
            'must be a backup vault name: 2 to 50 letters, digits, "-", "_"',
          )
          .default('org-backup-vault'),
        /**
         * Where onboarding keeps the central vault (its key, access policy and lock). Unset: every
         * region of the onboarding profiles. Each {{central-vault:<region>}} must be one of them.
         */
        regions: z.array(REGION).min(1).optional(),
        /**
         * AWS Backup Vault Lock on the central vault. governance: removable by whoever may call
         * backup:DeleteBackupVaultLockConfiguration; compliance: after changeableForDays nobody,
         * not even the account root, can remove it or shorten its retention.
         */
        vaultLock: z
          .object({
            mode: z.enum(['governance', 'compliance']),
            minRetentionDays: z.number().int().min(1).max(36_500),
            maxRetentionDays: z.number().int().min(1).max(36_500).optional(),
            /** compliance only: the grace time (days, at least 3) before the lock is immutable. */
            changeableForDays: z.number().int().min(3).max(36_500).optional(),
          })
          .strict()
          .optional(),
        /**
         * A logically air-gapped vault next to the central vault, in the same regions: locked
         * from its creation with these retention limits, which never change; AWS-owned key.
         * Policies copy into it by writing {{central-air-gapped-vault:<region>}}.
         */
        airGappedVault: z
          .object({
            name: z
              .string()
              .regex(
                /^[A-Za-z0-9_-]{2,50}$/,
                'must be a backup vault name: 2 to 50 letters, digits, "-", "_"',
              ),
            minRetentionDays: z.number().int().min(7).max(36_500),
            maxRetentionDays: z.number().int().min(7).max(36_500),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    /**
     * Control Tower sends its lifecycle events in its home region: anywhere but the stack's
     * (unset: the stack's), a rule there forwards them to it (kept by the reconcile sweep).
     */
    controlTower: z.object({ homeRegion: REGION.optional() }).strict().default({}),
    /**
     * The management account's own backup jobs: the stack's rule sees its region's; a rule in
     * each of these regions forwards the others' (functions/reconcile/region-forwarding.ts).
     * Unset: every region of the onboarding profiles.
     */
    managementAccount: z
      .object({ backupRegions: z.array(REGION).optional() })
      .strict()
      .default({}),
    /**
     * Where the control plane runs: `management` (the organization's management account) or
     * `delegated-admin` (a delegated administrator account; the management account then runs
     * only infra/management-forwarder.yml and `backupctl setup`). README: "Deploying".
     */
    deployment: z
      .object({
        mode: z.enum(DEPLOYMENT_MODES).default('management'),
        /** delegated-admin: the organization's management account (its events, its IAM ARNs). */
        managementAccountId: ACCOUNT_ID.optional(),
        /** delegated-admin: the account the stack is deployed in, registered by `backupctl setup`. */
        delegatedAdministratorAccountId: ACCOUNT_ID.optional(),
      })
      .strict()
      .default({ mode: 'management' }),
    watching: WatchingSchema.default(WATCHING_DEFAULTS),
    /** How long the functions' logs are kept (a value CloudWatch Logs accepts). */
    logRetentionDays: z
      .number()
      .int()
      .refine((n) => LOG_RETENTION_DAYS.includes(n), {
        message: `must be a retention CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    notifications: z
      .object({
        email: z
          .object({
            /** The SES identity (domain or address) that is verified and sends. */
            /** A verified SES identity: a domain or an email address (IAM names it exactly). */
            identity: z
              .string()
              .refine(
                (v) => SES_DOMAIN.test(v) || EMAIL.safeParse(v).success,
                'must be a domain (example.com) or an email address: the SES identity, no wildcards',
              ),
            /** The From address, optionally with a display name: "Backup alerts <alerts@example.com>". */
            sender: z
              .string()
              .refine(
                (v) => !/[\r\n]/.test(v) && EMAIL.safeParse(senderAddress(v)).success,
                'must be an email address, optionally with a display name: Backup alerts <alerts@example.com>',
              ),
            replyTo: z.array(EMAIL).default([]),
            configurationSet: z.string().min(1).optional(),
            // SES takes at most 50 recipients per message.
            recipients: z.record(
              NAME,
              z.array(EMAIL).min(1).max(50, 'at most 50 addresses (SES limit per message)'),
            ),
            /**
             * Who owns each account, for rules that name the list "account-owner"; an account
             * not listed gets its email address in Organizations.
             */
            accountOwners: z.record(ACCOUNT_ID, z.array(EMAIL).min(1).max(50)).default({}),
            /**
             * An account tag whose value lists the owners' addresses (separated by spaces, commas
             * or semicolons): used for accounts not under accountOwners, before the account email.
             */
            accountOwnerTag: TAG_KEY.optional(),
          })
          .strict(),
        topics: z.record(NAME, TopicSchema).default({}),
        classification: ClassificationSchema.default(() => ClassificationSchema.parse({})),
        rules: z.array(RouteRuleSchema).optional(),
        aggregation: AggregationSchema.default(() => AggregationSchema.parse({})),
        accountNameCacheSeconds: z.number().int().min(0).max(86_400).default(900),
        deliveryRecordDays: z.number().int().min(1).max(365).default(30),
      })
      .strict(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const { email, topics, rules } = config.notifications;
    if (!senderMatchesIdentity(email.sender, email.identity)) {
      ctx.addIssue({
        code: 'custom',
        path: ['notifications', 'email', 'sender'],
        message: `must be an address of the SES identity "${email.identity}"`,
      });
    }
    const central = config.centralBackup;
    const lock = central?.vaultLock;
    if (lock?.maxRetentionDays !== undefined && lock.maxRetentionDays < lock.minRetentionDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['centralBackup', 'vaultLock', 'maxRetentionDays'],
        message: `must be at least minRetentionDays (${lock.minRetentionDays})`,
      });
    }
    const airGapped = central?.airGappedVault;
    if (airGapped && airGapped.maxRetentionDays < airGapped.minRetentionDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['centralBackup', 'airGappedVault', 'maxRetentionDays'],
        message: `must be at least minRetentionDays (${airGapped.minRetentionDays})`,
      });
    }
    if (airGapped && airGapped.name === central?.vaultName) {
      ctx.addIssue({
        code: 'custom',
        path: ['centralBackup', 'airGappedVault', 'name'],
        message: `must differ from centralBackup.vaultName ("${central?.vaultName}"): a vault name is unique in an account and region`,
      });
    }
    if (lock?.mode === 'governance' && lock.changeableForDays !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['centralBackup', 'vaultLock', 'changeableForDays'],
        message:
          'applies to mode compliance only (a governance lock stays removable; remove the setting or use mode: compliance)',
      });
    }
    if (
      central &&
      central.accountId === config.deployment.managementAccountId &&
      !config.onboarding?.onboardManagementAccount
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['centralBackup', 'accountId'],
        message: `is the management account, which is not onboarded (${config.onboarding ? 'onboarding.onboardManagementAccount is false' : 'onboarding is not configured'}): nothing would create the central vault. Use a member account for backups (AWS advises against workloads and data in the management account)`,
      });
    }
    (rules ?? []).forEach((rule, i) => {
      rule.email.forEach((list, j) => {
        if (list !== ACCOUNT_OWNER_LIST && !Object.hasOwn(email.recipients, list)) {
          ctx.addIssue({
            code: 'custom',
            path: ['notifications', 'rules', i, 'email', j],
            message: `names recipient list "${list}" which is not under notifications.email.recipients (have: ${Object.keys(email.recipients).join(', ') || 'none'})`,
          });
        }
      });
      rule.sns.forEach((topic, j) => {
        if (!Object.hasOwn(topics, topic)) {
          ctx.addIssue({
            code: 'custom',
            path: ['notifications', 'rules', i, 'sns', j],
            message: `names topic "${topic}" which is not under notifications.topics (have: ${Object.keys(topics).join(', ') || 'none'})`,
          });
        }
      });
    });
    if (rules) {
      // Silence is never health: every kind of alert, at severity error, reaches someone who is
      // always there (a rule with no condition but its kind and severity, naming a recipient list
      // other than account-owner, which may resolve to nobody, or a topic).
      const unrouted = ALERT_KINDS.filter(
        (kind) =>
          !rules.some(
            (r) =>
              (r.match.kind ?? ALERT_KINDS).includes(kind) &&
              (r.match.severity ?? ['error']).includes('error') &&
              Object.keys(r.match).every((k) => k === 'kind' || k === 'severity') &&
              (r.sns.length > 0 || r.email.some((list) => list !== ACCOUNT_OWNER_LIST)),
          ),
      );
      if (unrouted.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['notifications', 'rules'],
          message: `no rule sends every error alert of kind ${unrouted.join(', ')} to a recipient list or topic (conditions on account, OU, tags, region, job type, state or resource type leave the rest unsent): add a catch-all such as {name: errors, match: {severity: error}, email: [admins]}`,
        });
      }
    }
    const ruleNames = new Set<string>();
    (rules ?? []).forEach((rule, i) => {
      if (ruleNames.has(rule.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['notifications', 'rules', i, 'name'],
          message: `rule "${rule.name}" is defined twice (plan and render name the rules a message went through)`,
        });
      }
      ruleNames.add(rule.name);
    });
    const lost = config.watching.lostEvents;
    if (lost.settleMinutes >= lost.lookbackHours * 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['watching', 'lostEvents', 'settleMinutes'],
        message: `must be shorter than lostEvents.lookbackHours (${lost.lookbackHours} h): no job would ever be old enough and still in the window, so lost events would never be found`,
      });
    }
    if (config.notifications.deliveryRecordDays * 24 < lost.lookbackHours) {
      ctx.addIssue({
        code: 'custom',
        path: ['notifications', 'deliveryRecordDays'],
        message: `must keep delivery records at least as long as watching.lostEvents.lookbackHours (${lost.lookbackHours} h): a job whose record expired would be sent again as lost`,
      });
    }
    const aggregation = config.notifications.aggregation;
    if (aggregation.groupBy.includes('plan') && aggregation.scope !== 'account') {
      ctx.addIssue({
        code: 'custom',
        path: ['notifications', 'aggregation', 'groupBy'],
        message:
          'groups by plan only with scope: account (plan ids are per account: the same id in two accounts is not the same plan)',
      });
    }
    if (!rules && !Object.hasOwn(email.recipients, 'admins')) {
      ctx.addIssue({
        code: 'custom',
        path: ['notifications', 'email', 'recipients'],
        message:
          'needs an "admins" list when notifications.rules is not set (the default rules use it)',
      });
    }
    config.watching.digest.email.forEach((list, j) => {
      if (!Object.hasOwn(email.recipients, list)) {
        ctx.addIssue({
          code: 'custom',
          path: ['watching', 'digest', 'email', j],
          message: `names recipient list "${list}" which is not under notifications.email.recipients (the daily digest goes to watching.digest.email, default [admins])`,
        });
      }
    });
    config.watching.digest.sns.forEach((topic, j) => {
      if (!Object.hasOwn(topics, topic)) {
        ctx.addIssue({
          code: 'custom',
          path: ['watching', 'digest', 'sns', j],
          message: `names topic "${topic}" which is not under notifications.topics`,
        });
      }
    });
    deploymentIssues(config).forEach((issue) => ctx.addIssue(issue));
    const onboarding = config.onboarding;
    if (onboarding) {
      onboarding.email.forEach((list, j) => {
        if (!Object.hasOwn(email.recipients, list)) {
          ctx.addIssue({
            code: 'custom',
            path: ['onboarding', 'email', j],
            message: `names recipient list "${list}" which is not under notifications.email.recipients`,
          });
        }
      });
      onboarding.sns.forEach((topic, j) => {
        if (!Object.hasOwn(topics, topic)) {
          ctx.addIssue({
            code: 'custom',
            path: ['onboarding', 'sns', j],
            message: `names topic "${topic}" which is not under notifications.topics`,
          });
        }
      });
      const seen = new Set<string>();
      onboarding.profiles.forEach((profile, j) => {
        if (seen.has(profile.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['onboarding', 'profiles', j, 'name'],
            message: `profile "${profile.name}" is defined twice`,
          });
        }
        seen.add(profile.name);
      });
      if (onboarding.optOutTag === onboarding.profileTag) {
        ctx.addIssue({
          code: 'custom',
          path: ['onboarding', 'optOutTag'],
          message: `must differ from onboarding.profileTag ("${onboarding.profileTag}"): one tag cannot both name a profile and opt the account out`,
        });
      }
      // The first profile that matches wins: one without conditions hides the conditions of
      // every later one (a later profile without conditions is for the profile tag: fine).
      const hasConditions = (p: Profile) =>
        Boolean(p.match.ouPath?.length) || Object.keys(p.match.tags ?? {}).length > 0;
      const catchAll = onboarding.profiles.findIndex((p) => !hasConditions(p));
      const hidden = onboarding.profiles.slice(catchAll + 1).filter(hasConditions);
      if (catchAll >= 0 && hidden.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['onboarding', 'profiles', catchAll, 'match'],
          message: `profile "${onboarding.profiles[catchAll]!.name}" matches every account (no match conditions), so the match conditions of the profiles listed after it (${hidden
            .map((p) => `"${p.name}"`)
            .join(', ')}) never apply: list it after them`,
        });
      }
    }
    for (const [name, topic] of Object.entries(topics)) {
      subscriptionIssues(name, topic).forEach((issue) => ctx.addIssue(issue));
    }
    // Amazon Q Developer takes one configuration per chat channel and account.
    const channelsSeen = new Map<string, string>();
    for (const [name, topic] of Object.entries(topics)) {
      const channels = [
        ...topic.slack.map((c, i) => ({
          at: `slack.${i}`,
          id: `slack:${c.workspaceId}/${c.channelId}`,
        })),
        ...topic.teams.map((c, i) => ({
          at: `teams.${i}`,
          id: `teams:${c.teamId}/${decodedChannelId(c.channelId)}`,
        })),
      ];
      for (const { at, id } of channels) {
        const other = channelsSeen.get(id);
        if (other) {
          ctx.addIssue({
            code: 'custom',
            path: [
              'notifications',
              'topics',
              name,
              ...at.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
              'channelId',
            ],
            message: `the same chat channel as notifications.topics.${other}: Amazon Q Developer takes one configuration per channel (give that one a filter with $or instead)`,
          });
        }
        channelsSeen.set(id, `${name}.${at}`);
      }
    }
    if (!rules && !Object.hasOwn(topics, 'chat')) {
      ctx.addIssue({
        code: 'custom',
        path: ['notifications', 'topics'],
        message:
          'needs a "chat" topic when notifications.rules is not set (the default rules use it)',
      });
    }
  });

/** The deployment mode's settings: each one only where its mode needs it, and consistent. */
function deploymentIssues(config: {
  deployment: {
    mode: DeploymentMode;
    managementAccountId?: string | undefined;
    delegatedAdministratorAccountId?: string | undefined;
  };
  onboarding?:
    { memberRole?: { deploy: string } | undefined; onboardManagementAccount: boolean } | undefined;
}) {
  const issues: { code: 'custom'; path: (string | number)[]; message: string }[] = [];
  const d = config.deployment;
  const at = (key: string, message: string) =>
    issues.push({ code: 'custom', path: ['deployment', key], message });
  if (d.mode === 'management') {
    for (const key of ['managementAccountId', 'delegatedAdministratorAccountId'] as const) {
      if (d[key] !== undefined) {
        at(
          key,
          'is only for deployment.mode: delegated-admin (mode is management: the stack runs in the management account)',
        );
      }
    }
    return issues;
  }
  if (!d.managementAccountId) {
    at(
      'managementAccountId',
      "is required with mode delegated-admin: the organization's management account (its events are forwarded; the stack's Organizations permissions name it)",
    );
  }
  if (!d.delegatedAdministratorAccountId) {
    at(
      'delegatedAdministratorAccountId',
      'is required with mode delegated-admin: the account the stack is deployed in (backupctl setup registers it as delegated administrator)',
    );
  } else if (d.delegatedAdministratorAccountId === d.managementAccountId) {
    at(
      'delegatedAdministratorAccountId',
      'must not be the management account (with the stack in the management account, use mode: management)',
    );
  }
  const memberRole = config.onboarding?.memberRole;
  if (config.onboarding && memberRole?.deploy !== 'stackset') {
    issues.push({
      code: 'custom',
      path: ['onboarding', 'memberRole'],
      message:
        'must be {deploy: stackset} with deployment.mode delegated-admin: the administrator roles (OrganizationAccountAccessRole, AWSControlTowerExecution) trust only the management account, so onboarding reaches member accounts through the member role the StackSet creates',
    });
  }
  return issues;
}

/** A topic's channels and subscribers: unique channel names, chat allowed, filters that can match. */
function subscriptionIssues(name: string, topic: Topic) {
  const issues: { code: 'custom'; path: (string | number)[]; message: string }[] = [];
  const at = ['notifications', 'topics', name];
  const channels = [
    ...topic.slack.map((c, i) => ({ name: c.name, filter: c.filter, path: [...at, 'slack', i] })),
    ...topic.teams.map((c, i) => ({ name: c.name, filter: c.filter, path: [...at, 'teams', i] })),
  ];
  if (channels.length && !topic.chat) {
    issues.push({
      code: 'custom',
      path: [...at, 'chat'],
      message: 'must be true when slack or teams channels are set (they read the topic)',
    });
  }
  const named = new Set<string>();
  for (const channel of channels) {
    if (named.has(channel.name)) {
      issues.push({
        code: 'custom',
        path: [...channel.path, 'name'],
        message: `channel name "${channel.name}" is used twice in topic "${name}"`,
      });
    }
    named.add(channel.name);
  }
  const filtered = [
    ...channels,
    ...topic.subscribers.map((s, i) => ({ filter: s.filter, path: [...at, 'subscribers', i] })),
  ];
  for (const { filter, path } of filtered) {
    if (filter === undefined) continue;
    for (const problem of filterPolicyProblems(filter, MESSAGE_ATTRIBUTES)) {
      issues.push({ code: 'custom', path: [...path, 'filter'], message: problem });
    }
  }
  return issues;
}

export type Config = z.infer<typeof ConfigSchema>;
export type RouteRule = z.infer<typeof RouteRuleSchema>;
export type RouteMatch = z.infer<typeof RouteMatchSchema>;
export type Classification = z.infer<typeof ClassificationSchema>;
export type Onboarding = z.infer<typeof OnboardingSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type Watching = z.infer<typeof WatchingSchema>;

/** A domain name: letters, digits and hyphens in dot-separated labels, no wildcard. */
const SES_DOMAIN =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;

/** The address of a From value, with or without a display name. */
function senderAddress(sender: string): string {
  return (/<([^>]+)>\s*$/.exec(sender)?.[1] ?? sender).trim();
}

function senderMatchesIdentity(sender: string, identity: string): boolean {
  const address = senderAddress(sender).toLowerCase();
  const id = identity.toLowerCase();
  return address === id || address.endsWith(`@${id}`);
}

/** Turns zod issues into one message that names each bad setting and what is allowed. */
export function formatConfigIssues(issues: readonly z.core.$ZodIssue[], source: string): string {
  const lines = issues.map((issue) => {
    const { path, message } = explainIssue(issue);
    return `  - ${path.length ? path.map(String).join('.') : '(top level)'}: ${message}`;
  });
  return `invalid configuration in ${source}:\n${lines.join('\n')}`;
}

/** A YAML number where text was meant: an account id loses its leading zeros. */
const YAML_NUMBER_HINT =
  'write it in quotes: YAML reads an unquoted 044445555666 as the number 44445555666';

/** Where the problem is and what it is, in words: inner issues (unions, record keys) unwrapped. */
function explainIssue(
  issue: z.core.$ZodIssue,
  /** Where the issue's own (relative) path starts: inner issues of a union are relative. */
  prefix: PropertyKey[] = [],
): { path: PropertyKey[]; message: string } {
  switch (issue.code) {
    case 'invalid_union': {
      // "a value or a list": the list branch when the problem is inside the list (an item),
      // else what the single value may be.
      const branches = issue.errors;
      const inList = branches.flat().find((i) => i.path.length > 0);
      if (inList) return explainIssue(inList, [...prefix, ...issue.path]);
      const flat = branches.flat();
      const inner = flat.find((i) => i.code === 'invalid_value') ?? flat[0];
      return {
        path: [...prefix, ...issue.path],
        message: inner ? explainIssue(inner, [...prefix, ...issue.path]).message : issue.message,
      };
    }
    case 'invalid_key': {
      // A record's key (recipient list, topic, account id): the key's own rule, and the key.
      const key = issue.path.at(-1);
      const inner = issue.issues[0];
      const why = inner ? explainIssue(inner as z.core.$ZodIssue).message : issue.message;
      const numeric = typeof key === 'string' && /^\d{1,11}$/.test(key);
      return {
        path: [...prefix, ...issue.path],
        message: `key "${String(key)}" ${why}${numeric ? ` (${YAML_NUMBER_HINT})` : ''}`,
      };
    }
    case 'invalid_value':
      return {
        path: [...prefix, ...issue.path],
        message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'unrecognized_keys':
      return {
        path: [...prefix, ...issue.path],
        message: `unknown setting(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
      };
    case 'invalid_type':
      if (issue.message.includes('received undefined')) {
        return { path: [...prefix, ...issue.path], message: `is required (${issue.expected})` };
      }
      // Only where an account id goes: elsewhere a quoted number is no better an answer.
      if (
        issue.expected === 'string' &&
        issue.message.includes('received number') &&
        [...prefix, ...issue.path].some((p) => typeof p === 'string' && /accountid/i.test(p))
      ) {
        return {
          path: [...prefix, ...issue.path],
          message: `${issue.message}: ${YAML_NUMBER_HINT}`,
        };
      }
      return { path: [...prefix, ...issue.path], message: issue.message };
    default:
      return { path: [...prefix, ...issue.path], message: issue.message };
  }
}

export function parseConfig(raw: unknown, source: string): Config {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatConfigIssues(result.error.issues, source));
  return result.data;
}

/**
 * The JSON Schema of a validated configuration (defaults filled in), which the functions check the
 * deployed configuration against: written to config.schema.json by `npm run config:schema`
 * (test/unit/config-schema.test.ts fails while the file is stale).
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigSchema, {
    io: 'output',
    unrepresentable: 'any',
    // JSON Schema patterns carry no flags: a flagged regex would be checked differently there.
    override: ({ zodSchema }) => {
      const patterns = (zodSchema as { _zod?: { bag?: { patterns?: Set<RegExp> } } })._zod?.bag
        ?.patterns;
      for (const pattern of patterns ?? []) {
        if (pattern.flags) {
          throw new Error(
            `${String(pattern)}: the configuration's regexes must have no flags (the functions check the JSON Schema, which drops them)`,
          );
        }
      }
    },
  }) as Record<string, unknown>;
}
