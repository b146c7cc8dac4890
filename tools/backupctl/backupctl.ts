import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../../functions/shared/config/schema';
import { readConfigFile } from '../config-file';
import { ConfigError, MalformedEventError, errorMessage } from '../../functions/shared/errors';
import { LocalAwsError } from '../sandbox/local-aws';
import { runSandbox } from '../sandbox/sandbox';
import { runOnboard, runReconcile } from './onboarding-commands';
import { UsageError } from './usage-error';
import { coverageText, parseSince, runCoverage, runDigest } from './watch-commands';
import { doctorText, runDoctorCommand } from './doctor';
import { runSetupCommand, setupText } from './setup';
import { isAccountId, isRegion } from '../../functions/shared/patterns';
import { policiesQuery, showPolicies } from './policies';
import { deliveries, previewEvent, unwrapEvent, type AccountHints } from './preview';
import { renderSns } from '../../functions/shared/notices/render-chat';
import { renderEmail } from '../../functions/shared/notices/render-email';

/**
 * backupctl: the operators' view of the control plane. `plan` and `render` make no AWS call.
 * Exit codes: 0 done, 1 nothing to do (render of an ignored event), 2 bad input or usage.
 */

export const EXAMPLE_CONFIG = join(__dirname, '..', '..', 'infra', 'config', 'example.yml');

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => string;
}

const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: () => readFileSync(0, 'utf8'),
};

const HELP: Record<string, string> = {
  main: `backupctl: operate the backup control plane for AWS Organizations

Usage: backupctl <command> [options]

Commands:
  plan <event.json|->     what the control plane would do with an EventBridge event (JSON)
  render <event.json|->   the message exactly as it would be sent on one channel
  sandbox                 run the whole system against a local AWS (moto) and show what it did
  policies                which backup plans an account gets from its onboarding profile
  onboard <accountId>     make one account backup-ready now (--dry-run: only show what it would do)
  reconcile               sweep every account, queue onboarding and daily checks (--dry-run: check now)
  coverage                which resources tagged for a backup plan are protected, late or never backed up
  digest                  the daily digest for the last day (or --since), as JSON, HTML or text
  doctor                  read-only checks of what the control plane depends on, each with its fix
  setup                   turn on the organization settings it needs (--dry-run: only show them)

Run 'backupctl <command> --help' for a command's options.
`,
  onboard: `Usage: backupctl onboard <accountId> [--dry-run] [--config <file>]

Runs the onboarding of one account now, with your credentials (the management account's): the
same steps as the onboardAccount function (resolve, profile, access, baseline, backup policies,
verify, tags, notify). Prints the outcome and every change as JSON.

--dry-run reads only: it shows the profile and the changes it would make, and needs no stack.
Without it, set from the stack outputs: DELIVERY_TABLE_NAME, TOPIC_ARNS (output TopicArns),
CENTRAL_BUS_ARN, CONTROL_PLANE_ROLE_ARN, WATCH_ROLE_ARN.

Prints {"accountId", "outcome": "ready"|"skipped"|"planned"|"failed"|"busy", "profile",
"changes", "differences" (a dry run: what differs from the baseline now), "skipReason",
"error": {"step", "message"}}.

Exit status: 0 ready, skipped or planned; 1 the onboarding failed or cannot be planned, or the
account is not in the organization (the JSON says where); 2 bad usage or configuration.
`,
  reconcile: `Usage: backupctl reconcile [--dry-run] [--config <file>]

Sweeps every account of the organization, as the scheduled reconcile function does: accounts
never onboarded, failed, stopped part way or with an older baseline go on the onboarding queue;
ready accounts get their daily check (WATCH_QUEUE_URL). Prints the counts and each account's
decision as JSON: onboard, repair, recheck, verify, skip, ok or unverifiable, with the reason.

Options:
  --dry-run         change nothing; check each ready account now, read-only (through its
                    backup-control-plane-read-only role, else the access role): "ok" when it
                    matches the baseline, "repair" naming the drift, "unverifiable" naming why
                    it cannot be read. With DELIVERY_TABLE_NAME it reads the ledger; without,
                    every account looks new.
  --config <file>   stage configuration (default: infra/config/example.yml)
  -h, --help        this help

Without --dry-run, set DELIVERY_TABLE_NAME, ONBOARDING_QUEUE_URL and WATCH_QUEUE_URL.

Exit status: 0 done; 1 an account is unverifiable; 2 bad usage or configuration.
`,
  coverage: `Usage: backupctl coverage [--account <id>] [--region <region>] [--format json|text]
                         [--config <file>]

For each account (or the one given), each region of its profile and each tag selection of its
effective backup policy: the resources carrying the selection's tags and their last backup.
One row per resource: {accountId, region, resourceArn, resourceType, policy, rule,
lastBackupTime|null, status, reason}, status protected, late, never or not-opted-in. Reads only,
with your credentials (the management account's): member accounts through their
backup-control-plane-read-only role, else the access role.

Options:
  --account <id>      one account
  --region <region>   one region
  --format json|text  json (default): {"rows": [...], "unverifiable": [...]}; text: a table
  --config <file>     stage configuration (default: infra/config/example.yml)
  -h, --help          this help

Exit status: 0 done (whatever the coverage); 1 an account could not be read; 2 bad usage or
configuration.
`,
  plan: `Usage: backupctl plan <event.json|-> [--ou <ou path>] [--tag key=value ...] [--config <file>]

Prints, as JSON, what the control plane would do with this EventBridge event, without calling
AWS (no account name lookup):
  {"eventId", "flow": "notify"|"ignore", "reason"?, "severity"?, "jobType"?, "state"?,
   "accountId"?, "region"?, "deliveries": [{"channel":"email","to":[...],"subject"} |
   {"channel":"sns","topic","subject","attributes":{...}}]}

Options:
  --account-name <name>  the account's name, as the deployed function would look it up
  --ou <ou path>         the account's OU path, e.g. Workloads/Production (rules with ouPath)
  --tag key=value        an account tag (repeat; rules with accountTags, the owner tag)
  --config <file>        stage configuration (default: infra/config/example.yml)
  -h, --help             this help

Exit status: 0 for any well-formed event (ignored ones too); 2 for unreadable JSON, an event
that cannot be parsed, or a bad configuration.
`,
  render: `Usage: backupctl render <event.json|-> --channel email|sns [--format html|text|json]
                       [--account-name <name>] [--ou <ou path>] [--tag key=value ...]

Prints the message for one channel exactly as it would be sent (no account name lookup unless
--account-name is given).

Options:
  --channel email|sns    which channel's message (required)
  --format html|text|json
                         email: html (default) or text part, or json with subject, from, to,
                         html and text; sns: json (default) is the published body,
                         text shows subject, attributes and body
  --account-name <name>  show this account name, as the deployed function would look it up
  --ou <ou path>         the account's OU path (rules with ouPath)
  --tag key=value        an account tag (repeat; rules with accountTags, the owner tag)
  --config <file>        stage configuration (default: infra/config/example.yml)
  -h, --help             this help

Exit status: 0 rendered; 1 the event is ignored (nothing would be sent); 2 bad input or usage.
`,
  digest: `Usage: backupctl digest [--since 24h] [--format json|html|text] [--config <file>]

Builds the daily digest as the scheduled sendDigest function does, and prints it instead of
sending it: per account, backup jobs by state (AWS Backup's job summaries, counted by UTC day),
the daily check's result and coverage; for the organization, top failure reasons, resources not
backed up, and accounts not ready, failing onboarding or unverifiable. Reads only, with your
credentials (the management account's, or the delegated administrator's, with cross-account
monitoring on). Needs DELIVERY_TABLE_NAME (stack output LedgerTableName).

Options:
  --since <n>h|<n>d   the span back from now (default: the previous UTC day, as scheduled)
  --format json|html|text
                      json (default): {period, totals, accounts[], reasons[], missed[],
                      notReady[], quiet}; html and text: the digest email as it would be sent
  --config <file>     stage configuration (default: infra/config/example.yml)
  -h, --help          this help

Exit status: 0 done; 1 an account is unverifiable or was not checked; 2 bad usage or
configuration.
`,
  policies: `Usage: backupctl policies [--account <id>] [--ou <ou path>] [--tag key=value ...]
                         [--format text|json] [--config <file>]

Shows which onboarding profile an account gets and what its backup policies
(infra/backup-policies/) do: for each plan, where, how often, how long recovery points are
kept, cold storage, where copies go and which resources. Makes no AWS call: give the account's
OU path and tags. Without --account, --ou or --tag, lists every profile.

Options:
  --account <id>      the account (shown in the output)
  --ou <ou path>      its OU path from the root, e.g. Workloads/Production
  --tag key=value     an account tag (repeat); the onboarding profileTag names a profile outright
  --format text|json  text (default) or JSON
  --config <file>     stage configuration (default: infra/config/example.yml)
  -h, --help          this help

Exit status: 0 shown; 2 bad usage, a bad configuration or policy file, or no profile matches.
`,
  doctor: `Usage: backupctl doctor [--stack <name> | --stage <stage>] [--format text|json] [--config <file>]

Read-only checks, with your credentials (the management account's, in the stack's region), of what the
control plane depends on and cannot build itself: the deployment mode, trusted access for AWS
Backup, the BACKUP_POLICY type, AWS Backup's global settings, the SES identity and sending
limits, the stack's status, every topic's subscribers (unconfirmed emails, a topic nobody
reads), each chat channel's Amazon Q Developer subscription, the dead-letter queues, the
organization trail, the central bus policy, the forwarding rules in other regions and, with
onboarding.memberRole.deploy: stackset, the member role's StackSet. A check AWS refuses to
answer is a warning naming the permission.

Options:
  --stack <name>    the deployed stack (its outputs name the topics, queues and bus)
  --stage <stage>   the same as --stack backup-control-plane-<stage>
  --format <f>      text (default) or json: {"checks":[{"id","status","detail","fix"}]}
  --config <file>   stage configuration (default: infra/config/example.yml)
  -h, --help        this help

Without --stack: TOPIC_ARNS and CENTRAL_BUS_ARN from the environment, if set.

Exit status: 0 nothing failed (warnings allowed); 1 a check failed; 2 bad usage or configuration.
`,
  setup: `Usage: backupctl setup [--dry-run] [--format text|json] [--config <file>]

Turns on, once, the organization settings the control plane needs and CloudFormation cannot
set, with your credentials: only the management account may make these calls (in the stack's
region). Each step reads first and changes only what is off, so running it again changes
nothing:
  trusted-access             trusted access for AWS Backup (backup policies, cross-account monitoring)
  backup-policy-type         the BACKUP_POLICY policy type on the root
  backup-global-settings     cross-account backup, when the backup policies copy to another account
  stacksets-trusted-access   trusted access for CloudFormation StackSets, with onboarding.memberRole.deploy: stackset

A step AWS refuses is reported with who may make the call, and the others still run.

Options:
  --dry-run         read only: say what would change
  --format <f>      text (default) or json: {"steps":[{"id","status","detail","fix"}]},
                    status changed, unchanged, planned (dry run) or failed
  --config <file>   stage configuration (default: infra/config/example.yml)
  -h, --help        this help

Exit status: 0 every step done or already on; 1 a step failed; 2 bad usage or configuration.
`,
  sandbox: `Usage: backupctl sandbox [--management] [--keep] [--verbose] [--out <dir>] [--config <file>]

Runs the notification flow, offline, against a local AWS (moto_server on 127.0.0.1, a free
port): creates an organization with member accounts and the stack's resources, plays a scenario
(failures, completed with issues, successes, a redelivered event, a malformed record) through
the real handler, then prints a summary and writes every email SES received and every chat
message under the output folder.

Options:
  --management      the stack in the management account (deployment.mode management); by
                    default it runs in a delegated administrator account, with the management
                    forwarder and the member role StackSet (deployment.mode delegated-admin)
  --keep            leave moto running afterwards and print how to point tools at it
  -v, --verbose     show the function's structured logs
  --out <dir>       output folder (default: .sandbox)
  --config <file>   stage configuration (default: infra/config/example.yml)
  -h, --help        this help

Exit status: 0 the scenario behaved as expected; 1 it did not (the reasons are printed);
2 moto_server is missing or could not start, or bad usage.
`,
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'plan':
        return await plan(rest, io);
      case 'render':
        return await render(rest, io);
      case 'sandbox':
        return await sandbox(rest, io);
      case 'policies':
        return policies(rest, io);
      case 'onboard':
        return await onboard(rest, io);
      case 'reconcile':
        return await reconcile(rest, io);
      case 'coverage':
        return await coverage(rest, io);
      case 'doctor':
        return await doctor(rest, io);
      case 'setup':
        return await setup(rest, io);
      case 'digest':
        return await digest(rest, io);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout(HELP.main!);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}" (try --help)`);
    }
  } catch (error) {
    const prefix =
      error instanceof UsageError
        ? 'usage'
        : error instanceof ConfigError
          ? 'config'
          : error instanceof MalformedEventError
            ? 'malformed event'
            : 'error';
    io.stderr(`backupctl: ${prefix}: ${errorMessage(error).split('\n').join('\n  ')}\n`);
    return 2;
  }
}

const COMMON_OPTIONS = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SANDBOX_OPTIONS = {
  ...COMMON_OPTIONS,
  keep: { type: 'boolean' },
  management: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  out: { type: 'string' },
} as const;

const PLAN_OPTIONS = {
  ...COMMON_OPTIONS,
  'account-name': { type: 'string' },
  ou: { type: 'string' },
  tag: { type: 'string', multiple: true },
} as const;

const RENDER_OPTIONS = {
  ...PLAN_OPTIONS,
  channel: { type: 'string' },
  format: { type: 'string' },
} as const;

const RUN_OPTIONS = {
  ...COMMON_OPTIONS,
  'dry-run': { type: 'boolean' },
} as const;

const COVERAGE_OPTIONS = {
  ...COMMON_OPTIONS,
  account: { type: 'string' },
  region: { type: 'string' },
  format: { type: 'string' },
} as const;

const DIGEST_OPTIONS = {
  ...COMMON_OPTIONS,
  since: { type: 'string' },
  format: { type: 'string' },
} as const;

const DOCTOR_OPTIONS = {
  ...COMMON_OPTIONS,
  stack: { type: 'string' },
  stage: { type: 'string' },
  format: { type: 'string' },
} as const;

const SETUP_OPTIONS = {
  ...COMMON_OPTIONS,
  'dry-run': { type: 'boolean' },
  format: { type: 'string' },
} as const;

const POLICIES_OPTIONS = {
  ...COMMON_OPTIONS,
  account: { type: 'string' },
  ou: { type: 'string' },
  tag: { type: 'string', multiple: true },
  format: { type: 'string' },
} as const;

function parse<
  O extends
    | typeof COMMON_OPTIONS
    | typeof PLAN_OPTIONS
    | typeof RENDER_OPTIONS
    | typeof SANDBOX_OPTIONS
    | typeof POLICIES_OPTIONS
    | typeof COVERAGE_OPTIONS
    | typeof DIGEST_OPTIONS
    | typeof DOCTOR_OPTIONS
    | typeof SETUP_OPTIONS
    | typeof RUN_OPTIONS,
>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}

function readEvent(source: string | undefined, io: Io): unknown {
  if (!source) throw new UsageError('missing <event.json|-> argument');
  let text: string;
  try {
    text = source === '-' ? io.readStdin() : readFileSync(source, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${source}: ${errorMessage(error)}`);
  }
  let parsed: unknown;
  try {
    // Editors on Windows save JSON with a byte order mark.
    parsed = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (error) {
    throw new MalformedEventError(
      `${source === '-' ? 'standard input' : source} is not valid JSON: ${errorMessage(error)}`,
    );
  }
  return unwrapEvent(parsed);
}

/** --account-name, --ou and --tag key=value: the account as Organizations would describe it. */
function accountHints(values: {
  'account-name'?: string;
  ou?: string;
  tag?: string[];
}): AccountHints {
  const tags: Record<string, string> = {};
  for (const pair of values.tag ?? []) {
    const i = pair.indexOf('=');
    if (i < 1) throw new UsageError(`--tag must be key=value, got "${pair}"`);
    tags[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return {
    ...(values['account-name'] ? { name: values['account-name'] } : {}),
    ...(values.ou !== undefined ? { ouPath: values.ou.replace(/^\/+|\/+$/g, '') } : {}),
    ...(Object.keys(tags).length ? { tags } : {}),
  };
}

/** --config, else BACKUP_CONFIG_FILE (as osls package reads it), else the example. */
function loadConfig(path: string | undefined): Config {
  return readConfigFile(path ?? (process.env.BACKUP_CONFIG_FILE || EXAMPLE_CONFIG));
}

function policies(args: string[], io: Io): number {
  const { values, positionals } = parse(args, POLICIES_OPTIONS);
  if (values.help) {
    io.stdout(HELP.policies!);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const query = policiesQuery(values, (message) => new UsageError(message));
  io.stdout(showPolicies(loadConfig(values.config), query));
  return 0;
}

async function sandbox(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, SANDBOX_OPTIONS);
  if (values.help) {
    io.stdout(HELP.sandbox!);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  try {
    return await runSandbox(
      {
        mode: values.management ? 'management' : 'delegated-admin',
        keep: Boolean(values.keep),
        verbose: Boolean(values.verbose),
        outDir: values.out ?? '.sandbox',
        configFile: values.config ?? EXAMPLE_CONFIG,
      },
      { out: io.stdout, progress: (line) => io.stderr(`${line}\n`) },
    );
  } catch (error) {
    if (error instanceof LocalAwsError) {
      io.stderr(`backupctl: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function onboard(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, RUN_OPTIONS);
  if (values.help) {
    io.stdout(HELP.onboard!);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one <accountId>');
  const config = loadConfig(values.config);
  const { exitCode, output } = await runOnboard(positionals[0]!, config, {
    dryRun: Boolean(values['dry-run']),
  });
  io.stdout(JSON.stringify(output, null, 2) + '\n');
  return exitCode;
}

async function reconcile(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, RUN_OPTIONS);
  if (values.help) {
    io.stdout(HELP.reconcile!);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const result = await runReconcile(loadConfig(values.config), {
    dryRun: Boolean(values['dry-run']),
  });
  io.stdout(JSON.stringify(result, null, 2) + '\n');
  return result.counts.unverifiable > 0 ? 1 : 0;
}

async function doctor(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, DOCTOR_OPTIONS);
  if (values.help) {
    io.stdout(HELP.doctor!);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const format = values.format ?? 'text';
  if (!['json', 'text'].includes(format)) throw new UsageError('--format must be "json" or "text"');
  if (values.stack && values.stage) throw new UsageError('give --stack or --stage, not both');
  const config = loadConfig(values.config);
  const checks = await runDoctorCommand(
    config,
    values.stack ?? (values.stage ? `backup-control-plane-${values.stage}` : undefined),
  );
  io.stdout(format === 'json' ? JSON.stringify({ checks }, null, 2) + '\n' : doctorText(checks));
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

async function setup(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, SETUP_OPTIONS);
  if (values.help) {
    io.stdout(HELP.setup!);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const format = values.format ?? 'text';
  if (!['json', 'text'].includes(format)) throw new UsageError('--format must be "json" or "text"');
  const config = loadConfig(values.config);
  const dryRun = values['dry-run'] ?? false;
  const steps = await runSetupCommand(config, dryRun);
  io.stdout(
    format === 'json' ? JSON.stringify({ steps }, null, 2) + '\n' : setupText(steps, dryRun),
  );
  return steps.some((s) => s.status === 'failed') ? 1 : 0;
}

async function digest(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, DIGEST_OPTIONS);
  if (values.help) {
    io.stdout(HELP.digest!);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const format = values.format ?? 'json';
  if (!['json', 'html', 'text'].includes(format)) {
    throw new UsageError('--format must be "json", "html" or "text"');
  }
  const sinceMs = values.since !== undefined ? parseSince(values.since) : undefined;
  const { digest: d, notice } = await runDigest(loadConfig(values.config), {
    ...(sinceMs !== undefined ? { sinceMs } : {}),
  });
  if (format === 'json') io.stdout(JSON.stringify(d, null, 2) + '\n');
  else {
    const email = renderEmail(notice);
    io.stdout(format === 'html' ? email.html : email.text);
  }
  return d.totals.unverifiable + d.totals.notChecked ? 1 : 0;
}

async function coverage(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, COVERAGE_OPTIONS);
  if (values.help) {
    io.stdout(HELP.coverage!);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'text') {
    throw new UsageError('--format must be "json" or "text"');
  }
  if (values.account !== undefined && !isAccountId(values.account)) {
    throw new UsageError(`--account "${values.account}" is not a 12-digit account id`);
  }
  if (values.region !== undefined && !isRegion(values.region)) {
    throw new UsageError(`--region "${values.region}" is not a region name`);
  }
  const report = await runCoverage(loadConfig(values.config), {
    ...(values.account ? { account: values.account } : {}),
    ...(values.region ? { region: values.region } : {}),
  });
  io.stdout(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : coverageText(report));
  return report.unverifiable.length ? 1 : 0;
}

async function plan(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, PLAN_OPTIONS);
  if (values.help) {
    io.stdout(HELP.plan!);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing <event.json|-> argument');
  const config = loadConfig(values.config);
  const hints = accountHints(values);
  // One file: one JSON document; several: one line per file (JSON lines).
  const many = positionals.length > 1;
  let failed = 0;
  for (const source of positionals) {
    let preview;
    try {
      preview = previewEvent(readEvent(source, io), config, hints);
    } catch (error) {
      // One file alone fails as before; among several, the others are still planned, and this
      // one's line says why (exit 2 at the end).
      if (!many || !(error instanceof MalformedEventError || error instanceof UsageError))
        throw error;
      failed += 1;
      io.stdout(JSON.stringify({ file: source, error: errorMessage(error) }) + '\n');
      continue;
    }
    const out = {
      ...(many ? { file: source } : {}),
      ...preview.summary,
      deliveries: 'outgoing' in preview ? deliveries(preview.outgoing, config) : [],
    };
    io.stdout(many ? JSON.stringify(out) + '\n' : JSON.stringify(out, null, 2) + '\n');
  }
  if (failed)
    io.stderr(
      `backupctl: malformed event: ${failed} of ${positionals.length} files could not be planned (their lines say why)\n`,
    );
  return failed ? 2 : 0;
}

async function render(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, RENDER_OPTIONS);
  if (values.help) {
    io.stdout(HELP.render!);
    return 0;
  }
  const channel = values.channel;
  if (channel !== 'email' && channel !== 'sns') {
    throw new UsageError('--channel must be "email" or "sns"');
  }
  const format = values.format ?? (channel === 'email' ? 'html' : 'json');
  const allowed = channel === 'email' ? ['html', 'text', 'json'] : ['json', 'text'];
  if (!allowed.includes(format)) {
    throw new UsageError(`--format for --channel ${channel} must be one of ${allowed.join(', ')}`);
  }
  if (positionals.length > 1) throw new UsageError('render takes one event');
  const config = loadConfig(values.config);
  const preview = previewEvent(readEvent(positionals[0], io), config, accountHints(values));
  if (!('notice' in preview)) {
    const why =
      preview.flow === 'onboard'
        ? 'it starts an onboarding, which sends its notice when it ends'
        : String(preview.summary.reason ?? 'ignored');
    io.stderr(`backupctl: nothing would be sent: ${why}\n`);
    return 1;
  }
  const sent = preview.outgoing.find((o) => o.channel === channel);
  if (!sent) {
    io.stderr(`backupctl: note: no routing rule sends this event to ${channel}; rendered anyway\n`);
  }
  if (channel === 'email') {
    const email = renderEmail(preview.notice);
    if (format === 'html') io.stdout(email.html);
    else if (format === 'text') io.stdout(email.text);
    else {
      const to = preview.outgoing.flatMap((o) => (o.channel === 'email' ? o.message.to : []));
      const out = { from: config.notifications.email.sender, to, ...email };
      io.stdout(JSON.stringify(out, null, 2) + '\n');
    }
    return 0;
  }
  const sns = renderSns(preview.notice);
  if (format === 'json') io.stdout(sns.body + '\n');
  else {
    io.stdout(
      `Subject: ${sns.subject}\n` +
        Object.entries(sns.attributes)
          .map(([k, v]) => `Attribute ${k}: ${v}\n`)
          .join('') +
        `\n${JSON.stringify(sns.notification, null, 2)}\n`,
    );
  }
  return 0;
}
