import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { decide } from '../../functions/notify-backup-event/decide';
import type { Config } from '../../functions/shared/config/schema';
import { readConfigFile } from '../config-file';
import { errorMessage } from '../../functions/shared/errors';
import { logger } from '../../functions/shared/logger';
import { channelTopicKey, chatChannels } from '../../functions/shared/notices/subscriptions';
import {
  findPython,
  startLocalAws,
  useLocalAwsEnvironment,
  type LocalAws,
  type MotoSentEmail,
} from './local-aws';
import {
  playOnboarding,
  verifyOnboardingMail,
  type OnboardingOutcome,
} from './onboarding-scenario';
import { subscribeQueue, type NotificationStack } from './provision';
import { BURST, playIncident, type IncidentOutcome } from './incident-scenario';
import { playWatching, type WatchingOutcome } from './watching-scenario';
import {
  playCentralVault,
  SANDBOX_DOCTOR_EXCEPTIONS,
  type CentralOutcome,
} from './central-scenario';
import { doctorText } from '../backupctl/doctor';
import {
  CHAT_FILTER_POLICY,
  MALFORMED_SAMPLE,
  REDELIVERED_STEP,
  SCENARIO,
  type ScenarioStep,
} from './scenario';
import {
  buildWorld,
  drainNotifications,
  emitEvent,
  parseSnsEnvelope,
  receiveAll,
  type EventToPut,
  type World,
} from './world';

/**
 * `npm start` / `backupctl sandbox`: the whole notification flow against a local AWS (moto), with
 * the real handler and real SDK calls. Prints a summary, writes what SES and the chat subscriber
 * received under .sandbox/, and exits non-zero when the system did not behave as expected.
 */

const ROOT = join(__dirname, '..', '..');

export interface SandboxOptions {
  /** delegated-admin (the default): the stack in a delegated administrator account. */
  mode?: 'delegated-admin' | 'management';
  keep: boolean;
  verbose: boolean;
  outDir: string;
  configFile: string;
}

export interface SandboxIo {
  out: (text: string) => void;
  progress: (text: string) => void;
}

interface PlayedEvent {
  step: ScenarioStep;
  index: number;
  eventId: string;
  accountId: string;
  region: string;
}

interface ChatMessage {
  subject?: string;
  attributes: Record<string, string>;
  notification: {
    id?: string;
    content?: { title?: string };
    metadata?: { additionalContext?: Record<string, string> };
  } & Record<string, unknown>;
}

const STEPS = 10;

export async function runSandbox(options: SandboxOptions, io: SandboxIo): Promise<number> {
  const step = (n: number, text: string) => io.progress(`[${n}/${STEPS}] ${text}`);
  const config = readConfigFile(options.configFile);
  // The sandbox plays a Control Tower landing zone whose home region is not us-east-1.
  if ((config.controlTower.homeRegion ?? 'us-east-1') === 'us-east-1') {
    config.controlTower.homeRegion = 'eu-west-1';
  }
  logger.setLogLevel(options.verbose ? 'INFO' : 'SILENT');

  findPython(); // fails in one line, before any progress, when moto is not installed
  step(1, 'starting the local AWS (moto) ...');
  const started = Date.now();
  const aws = await startLocalAws({ logFile: join(prepareOutDir(options.outDir), 'moto.log') });
  let keep = false;
  try {
    io.progress(`      moto on ${aws.endpoint} (pid ${aws.pid})`);
    useLocalAwsEnvironment(aws.endpoint);
    const delegated = (options.mode ?? 'delegated-admin') === 'delegated-admin';
    step(
      2,
      delegated
        ? 'creating the organization (3 member accounts in 2 OUs, a central backup account, a delegated administrator), backupctl setup, the stack in the delegated administrator account ...'
        : 'creating the organization (3 member accounts in 2 OUs, a central backup account) and the stack in the management account ...',
    );
    const world = await buildWorld(aws, config, 'sandbox', {
      centralAccount: true,
      delegatedAdmin: delegated,
    });
    io.progress(
      `      mode ${world.config.deployment.mode}: the stack in ${world.stackAccountId}${delegated ? ', the management forwarder and the member role StackSet deployed' : ''}`,
    );
    for (const a of world.org.accounts) io.progress(`      ${a.name} ${a.id} (OU ${a.ou})`);
    // The configuration as played (moto's organization id, the home region): for backupctl.
    const playedConfig = join(options.outDir, 'config.json');
    writeFileSync(playedConfig, JSON.stringify(world.config, null, 2) + '\n');

    step(
      3,
      'subscribing a stand-in (an SQS queue with the same filter policy) for each chat channel ...',
    );
    const chatTopic = world.stack.topicArns.chat;
    if (!chatTopic) throw new Error(`${options.configFile} has no "chat" topic for the subscriber`);
    const standIns = await subscribeChannelStandIns(world);
    for (const s of standIns) {
      io.progress(
        `      ${s.reader} reads ${s.via}${s.filter ? ` (filter ${JSON.stringify(s.filter)})` : ''}`,
      );
    }
    // The scenario's expectations are for the chat topic's first channel.
    const chat = standIns[0]!;
    // Without a filter: shows what the function published, filtered or not.
    const audit = await subscribeQueue(world.c, chatTopic, 'chat-topic-audit');

    step(
      4,
      'member accounts emit AWS Backup events; forwarding rules carry them to the central bus ...',
    );
    const played = await playEvents(world, io);

    step(
      5,
      `feeding the queue to the notify handler in batches of ${world.settings.batchSize} ...`,
    );
    const bodies: string[] = [];
    const first = await drainNotifications(world, (b) => bodies.push(...b));
    // SQS delivers at least once: the very same message body again must send nothing new.
    const redelivered = played[REDELIVERED_STEP]!;
    const redeliveredBody = bodies.find((b) => b.includes(redelivered.eventId));
    if (!redeliveredBody) throw new Error(`event ${redelivered.eventId} never reached the queue`);
    const queueUrl = world.stack.queueUrl;
    await world.c.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: redeliveredBody }),
    );
    const malformedBody = readFileSync(join(ROOT, 'events', `${MALFORMED_SAMPLE}.json`), 'utf8');
    await world.c.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: malformedBody }),
    );
    const second = await drainNotifications(world);
    io.progress(
      `      ${first.invocations + second.invocations} invocations, ${first.received + second.received} records received, ` +
        `${first.failedAttempts + second.failedAttempts} failed attempts (retried)`,
    );

    step(6, 'onboarding: a new account, a failed creation, then the reconcile sweep ...');
    const onboarding = await playOnboarding(world, io.progress);

    step(
      7,
      'watching: drift, a table never backed up, a dropped event; the daily checks and the digest ...',
    );
    const watching = await playWatching(onboarding.world, io.progress);

    step(8, 'incidents: a burst of failures from one cause, folded, then recovered ...');
    const incident = await playIncident(world, io.progress);

    step(
      9,
      'the central backup account: a copy into its vault, then backupctl setup and doctor ...',
    );
    const central = await playCentralVault(
      onboarding.world,
      { accountId: onboarding.newAccountId, region: 'eu-west-1' },
      io.progress,
    );

    step(10, 'collecting what SES sent, what the chat subscriber received and the DLQ ...');
    const emails = (await aws.data()).ses?.Message ?? [];
    const received = new Map<StandIn, ChatMessage[]>();
    for (const s of standIns) {
      received.set(s, (await receiveAll(world.c, s.url)).map(parseChatMessage));
    }
    const chatMessages = received.get(chat)!;
    // The pipeline's filter evaluation and moto's, on the same policy, must agree.
    const filterProblems: string[] = [];
    for (const s of standIns) {
      if (!s.auditUrl) continue;
      const publishedThere = (await receiveAll(world.c, s.auditUrl)).length;
      const passed = received.get(s)!.length;
      if (publishedThere !== passed || passed === 0) {
        filterProblems.push(
          `${s.reader}: the pipeline published ${publishedThere} message(s) to ${s.via}, its filter (as moto evaluates it) passed ${passed}`,
        );
      }
    }
    const published = (await receiveAll(world.c, audit.url)).map(parseChatMessage);
    const dlq = await receiveAll(world.c, world.stack.dlqUrl);
    const files = writeOutputs(options.outDir, emails, received);

    const problems = [
      ...(isDeepStrictEqual(chat.filter, CHAT_FILTER_POLICY)
        ? []
        : [
            `${chat.reader}: the scenario expects the chat topic's first channel to filter ${JSON.stringify(CHAT_FILTER_POLICY)}`,
          ]),
      ...filterProblems,
      ...verify(config, played, emails, chatMessages, published, dlq, malformedBody),
      ...onboarding.problems,
      ...watching.problems,
      ...verifyOnboardingMail(emails, onboarding, world.org.accounts.length),
      ...verifyTamperMail(emails),
      ...incident.problems,
      ...central.problems,
    ];
    io.out(summary(world, played, emails, chatMessages, published, dlq, files, options.outDir));
    io.out(onboardingSummary(onboarding));
    io.out(watchingSummary(watching));
    io.out(incidentSummary(incident, emails));
    io.out(centralSummary(central));
    io.out(`\nfinished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (options.keep) {
      keep = true;
      aws.detach();
      io.out(
        keepInstructions(
          aws,
          world.stack,
          onboarding.world.env,
          playedConfig,
          world.stackAccountId,
        ),
      );
    }
    if (problems.length) {
      io.out(
        `\nFAILED: the scenario did not behave as expected:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    io.out('\nOK: every event did what it should.\n');
    return 0;
  } finally {
    if (!keep) await aws.stop();
    // The functions' credentials (the delegated administrator's) do not outlive the run.
    useLocalAwsEnvironment(aws.endpoint);
  }
}

function prepareOutDir(outDir: string): string {
  for (const sub of ['outbox', 'chat']) rmSync(join(outDir, sub), { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  return outDir;
}

async function playEvents(world: World, io: SandboxIo): Promise<PlayedEvent[]> {
  const played: PlayedEvent[] = [];
  for (const [index, step] of SCENARIO.entries()) {
    const sample = JSON.parse(
      readFileSync(join(ROOT, 'events', `${step.sample}.json`), 'utf8'),
    ) as EventToPut;
    let from: Parameters<typeof emitEvent>[1] = { account: 'management' };
    if (step.from.account === 'member') {
      const name = step.from.name;
      const account = world.org.accounts.find((a) => a.name === name);
      if (!account) throw new Error(`scenario names unknown account ${name}`);
      from = { account: 'member', id: account.id };
    }
    const put = await emitEvent(world, from, sample);
    io.progress(`      #${index + 1} ${step.title}: ${put.accountId} ${put.region}`);
    played.push({ step, index, ...put });
  }
  return played;
}

function parseChatMessage(m: { Body?: string }): ChatMessage {
  const sns = parseSnsEnvelope(m);
  return {
    subject: sns.subject,
    attributes: sns.attributes,
    notification: JSON.parse(sns.body || '{}') as ChatMessage['notification'],
  };
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);

/** A queue that reads what a chat channel would read: its topic, its filter. */
interface StandIn {
  reader: string;
  /** The channel's directory under .sandbox/chat/. */
  dir: string;
  via: string;
  filter?: Record<string, unknown>;
  url: string;
  /** A filtered channel's topic, read without the filter: what the pipeline published there. */
  auditUrl?: string;
}

/**
 * moto has no Amazon Q Developer: each configured channel gets a queue subscribed where the
 * channel reads (the topic, or its own topic when filtered) with the channel's filter. A chat
 * topic without channels gets one stand-in with the scenario's filter.
 */
async function subscribeChannelStandIns(world: World): Promise<StandIn[]> {
  const wanted: Omit<StandIn, 'url'>[] = [];
  for (const [topicName, topic] of Object.entries(world.config.notifications.topics)) {
    for (const channel of chatChannels(topic)) {
      wanted.push({
        reader: `${channel.app}:${channel.name}`,
        dir: topicName === 'chat' ? channel.name : `${topicName}-${channel.name}`,
        via: channel.filter ? channelTopicKey(topicName, channel.name) : topicName,
        ...(channel.filter ? { filter: channel.filter as Record<string, unknown> } : {}),
      });
    }
  }
  if (!wanted.some((w) => w.via === 'chat' || w.via.startsWith('chat/'))) {
    wanted.unshift({
      reader: 'chat-stand-in',
      dir: 'chat-stand-in',
      via: 'chat',
      filter: CHAT_FILTER_POLICY,
    });
  }
  const standIns: StandIn[] = [];
  for (const w of wanted) {
    const queue = await subscribeQueue(
      world.c,
      world.stack.topicArns[w.via]!,
      `stand-in-${w.dir}`.slice(0, 80),
      w.filter,
    );
    const audit = w.filter
      ? await subscribeQueue(world.c, world.stack.topicArns[w.via]!, `audit-${w.dir}`.slice(0, 80))
      : undefined;
    standIns.push({ ...w, url: queue.url, ...(audit ? { auditUrl: audit.url } : {}) });
  }
  return standIns;
}

function writeOutputs(outDir: string, emails: MotoSentEmail[], chat: Map<StandIn, ChatMessage[]>) {
  const outbox = join(outDir, 'outbox');
  const chatDir = join(outDir, 'chat');
  mkdirSync(outbox, { recursive: true });
  emails.forEach((e, i) => {
    const base = join(outbox, `${String(i + 1).padStart(2, '0')}-${slug(e.subject)}`);
    writeFileSync(`${base}.html`, e.html ?? e.body);
    const headers = `From: ${e.source}\nTo: ${(e.destinations.ToAddresses ?? []).join(', ')}\nSubject: ${e.subject}\n\n`;
    writeFileSync(`${base}.txt`, headers + (e.text ?? ''));
  });
  const channels: { reader: string; dir: string; filter?: object; count: number }[] = [];
  for (const [standIn, messages] of chat) {
    const dir = join(chatDir, standIn.dir);
    mkdirSync(dir, { recursive: true });
    messages.forEach((m, i) => {
      const file = join(
        dir,
        `${String(i + 1).padStart(2, '0')}-${slug(m.subject ?? 'message')}.json`,
      );
      writeFileSync(file, JSON.stringify(m, null, 2) + '\n');
    });
    channels.push({
      reader: standIn.reader,
      dir,
      ...(standIn.filter ? { filter: standIn.filter } : {}),
      count: messages.length,
    });
  }
  return { outbox, chatDir, emails: emails.length, channels };
}

function emailsFor(config: Config, emails: MotoSentEmail[], eventId: string) {
  const lists = config.notifications.email.recipients;
  const mine = emails.filter((e) => (e.text ?? e.body).includes(eventId));
  return mine.map((e) => {
    const to = e.destinations.ToAddresses ?? [];
    return Object.keys(lists).find((l) => lists[l]!.some((a) => to.includes(a))) ?? to.join(',');
  });
}

function verify(
  config: Config,
  played: PlayedEvent[],
  emails: MotoSentEmail[],
  chat: ChatMessage[],
  published: ChatMessage[],
  dlq: { Body?: string }[],
  malformedBody: string,
): string[] {
  const problems: string[] = [];
  for (const p of played) {
    const got = emailsFor(config, emails, p.eventId).sort();
    const want = [...p.step.expect.emails].sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      problems.push(
        `#${p.index + 1} ${p.step.title}: emails to [${got.join(', ')}], expected [${want.join(', ')}]`,
      );
    }
    const chats = chat.filter(
      (m) => m.notification.metadata?.additionalContext?.eventId === p.eventId,
    ).length;
    if (chats !== (p.step.expect.chat ? 1 : 0)) {
      problems.push(
        `#${p.index + 1} ${p.step.title}: ${chats} chat message(s), expected ${p.step.expect.chat ? 1 : 0}`,
      );
    }
    const pubs = published.filter(
      (m) => m.notification.metadata?.additionalContext?.eventId === p.eventId,
    ).length;
    if (pubs !== (p.step.expect.published ? 1 : 0)) {
      problems.push(
        `#${p.index + 1} ${p.step.title}: published ${pubs} time(s) to the chat topic, expected ${p.step.expect.published ? 1 : 0}`,
      );
    }
    const chatMsg = chat.find(
      (m) => m.notification.metadata?.additionalContext?.eventId === p.eventId,
    );
    if (chatMsg && chatMsg.attributes.accountId !== p.accountId) {
      problems.push(
        `#${p.index + 1}: chat message names account ${chatMsg.attributes.accountId}, expected ${p.accountId}`,
      );
    }
  }
  if (dlq.length !== 1 || dlq[0]?.Body !== malformedBody) {
    problems.push(`the DLQ holds ${dlq.length} message(s); expected exactly the malformed one`);
  }
  return problems;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.map((r) => Array.from(r[i] ?? '').length)),
  );
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell + ' '.repeat(widths[i]! - Array.from(cell).length))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function summary(
  world: World,
  played: PlayedEvent[],
  emails: MotoSentEmail[],
  chat: ChatMessage[],
  published: ChatMessage[],
  dlq: { Body?: string; Attributes?: Record<string, string> }[],
  files: ReturnType<typeof writeOutputs>,
  outDir: string,
): string {
  const config = world.config;
  const rows = [['#', 'event', 'account', 'decision', 'email (lists)', 'chat']];
  for (const p of played) {
    const body = readFileSync(join(ROOT, 'events', `${p.step.sample}.json`), 'utf8');
    const decision = decide(JSON.parse(body), config);
    const verdict = decision.flow === 'notify' ? `${decision.notice.severity} → notify` : 'ignore';
    const mails = emailsFor(config, emails, p.eventId);
    const chats = chat.filter(
      (m) => m.notification.metadata?.additionalContext?.eventId === p.eventId,
    ).length;
    const pubs = published.filter(
      (m) => m.notification.metadata?.additionalContext?.eventId === p.eventId,
    ).length;
    const chatCell = chats ? 'delivered' : pubs ? 'published; filtered out' : '-';
    rows.push([
      String(p.index + 1),
      p.step.title,
      `${accountName(world, p.accountId)} ${p.accountId} ${p.region}`,
      verdict,
      mails.length ? mails.sort().join(', ') : '-',
      chatCell,
    ]);
  }
  const redelivered = played[REDELIVERED_STEP]!;
  rows.push([
    String(played.length + 1),
    `the same event as #${REDELIVERED_STEP + 1} again (SQS redelivery)`,
    redelivered.accountId,
    'duplicate',
    'nothing new',
    'nothing new',
  ]);
  rows.push([
    String(played.length + 2),
    'malformed record (no state)',
    '-',
    'rejected → DLQ',
    '-',
    '-',
  ]);
  const dlqLines = dlq.map((m) => {
    let reason = 'unreadable';
    try {
      decide(JSON.parse(m.Body ?? ''), config);
    } catch (error) {
      reason = errorMessage(error);
    }
    return `  - ${reason}`;
  });
  return [
    '',
    table(rows),
    '',
    `Dead-letter queue: ${dlq.length} message(s), each moved there after ${world.settings.notificationQueue.maxReceiveCount} failed receives`,
    ...dlqLines,
    '',
    `Emails SES received: ${files.emails} → ${relative(process.cwd(), files.outbox) || files.outbox}/ (HTML and text)`,
    'Chat messages each channel would show (an SQS stand-in with its filter):',
    ...files.channels.map(
      (c) =>
        `  ${c.reader}: ${c.count}${c.filter ? ` (filter ${JSON.stringify(c.filter)})` : ''} → ${relative(process.cwd(), c.dir)}/`,
    ),
    `moto's log: ${relative(process.cwd(), join(outDir, 'moto.log'))}`,
  ].join('\n');
}

function onboardingSummary(o: OnboardingOutcome): string {
  const rows = [['account', 'onboarded by', 'profile', 'regions', 'status', 'changes made']];
  for (const r of o.rows)
    rows.push([r.account, r.trigger, r.profile, r.regions, r.status, String(r.changes)]);
  return [
    '',
    '',
    `Onboarding (the sweep saw ${o.sweep.accounts} accounts, queued ${o.sweep.onboard} for onboarding and ${o.sweep.verify} for its daily check):`,
    '',
    table(rows),
    '',
    'Each ready account got a "[READY] Account … is backup-ready" email; the failed creation an alert;',
    "the management account's own failed backup in eu-west-1 an alert, through the forwarding rule there.",
  ].join('\n');
}

/** The tamper alert of the watching story: at once, once, naming who. */
function verifyTamperMail(emails: MotoSentEmail[]): string[] {
  const tamper = emails.filter((e) => e.subject.startsWith('[TAMPERING] Forwarding rule disabled'));
  if (tamper.length !== 1)
    return [`${tamper.length} tamper alerts for the disabled rule, expected 1`];
  if (!(tamper[0]!.text ?? '').includes('IAM user mallory')) {
    return ['the tamper alert does not name who disabled the rule (IAM user mallory)'];
  }
  return [];
}

function incidentSummary(o: IncidentOutcome, emails: MotoSentEmail[]): string {
  const tamper = emails.find((e) => e.subject.startsWith('[TAMPERING]'));
  const threats = emails.find((e) => e.subject.startsWith('[THREATS FOUND]'));
  const lists = Object.entries(o.storm.emailsByList)
    .map(([list, n]) => `${n} to ${list}`)
    .join(', ');
  return [
    '',
    '',
    'Tampering, malware and incidents:',
    '',
    `  tamper alert: ${tamper?.subject ?? '(none)'}`,
    `  malware:      ${threats?.subject ?? '(none)'}`,
    `  incident:     ${BURST} failures → ${lists}, ${o.storm.chatMessages} chat messages; all ${o.storm.namedInEmail} jobs named; ${o.storm.recoveredNotices} recovered notice`,
    ...o.storm.subjects.map((s) => `                ${s}`),
  ].join('\n');
}

function watchingSummary(w: WatchingOutcome): string {
  const rows = [['account', 'daily check', 'found (who)', 'coverage', 'lost events recovered']];
  for (const r of w.rows) rows.push([r.account, r.check, r.found, r.coverage, String(r.recovered)]);
  return [
    '',
    '',
    'Watching (the next sweep queued a daily check per ready account):',
    '',
    table(rows),
    '',
    `The drift was repaired and told once ("[DRIFT REPAIRED]"), the table reported ("[NOT BACKED UP]"), the dropped failure sent late ("(RECOVERED)"), and the daily digest ${w.digest.subject} ("[DIGEST]").`,
  ].join('\n');
}

function centralSummary(c: CentralOutcome): string {
  const expected = c.doctor
    .filter((d) => d.status !== 'pass' && SANDBOX_DOCTOR_EXCEPTIONS[d.id])
    .map((d) => `  ${d.id}: ${SANDBOX_DOCTOR_EXCEPTIONS[d.id]!.why}`);
  return [
    '\nCentral backup account',
    `  account ${c.centralAccountId}, vault ${c.vaultArn}`,
    `  copy from ${c.copy.from}: ${c.copy.state}${c.copy.recoveryPoint ? ` → ${c.copy.recoveryPoint}` : ''}`,
    '\nbackupctl doctor (after backupctl setup)',
    doctorText(c.doctor).trimEnd(),
    ...(expected.length ? ['\nNot green in the sandbox, by design:', ...expected] : []),
  ].join('\n');
}

function accountName(world: World, id: string): string {
  if (id === world.org.managementAccountId) return 'management';
  return world.org.accounts.find((a) => a.id === id)?.name ?? '';
}

/** The stack account's credentials (the delegated administrator's, or testing: management). */
function stackCredentials(env: NodeJS.ProcessEnv): string {
  const id = env.AWS_ACCESS_KEY_ID ?? 'testing';
  const secret = env.AWS_SECRET_ACCESS_KEY ?? 'testing';
  return `AWS_ACCESS_KEY_ID=${id} AWS_SECRET_ACCESS_KEY=${secret}${env.AWS_SESSION_TOKEN ? ` AWS_SESSION_TOKEN=${env.AWS_SESSION_TOKEN}` : ' AWS_SESSION_TOKEN='}`;
}

function keepInstructions(
  aws: LocalAws,
  stack: NotificationStack,
  env: NodeJS.ProcessEnv,
  configFile: string,
  /** Where the stack runs: osls invoke local names its resources there (AWS_ACCOUNT_ID). */
  stackAccountId: string,
): string {
  return `
moto keeps running (pid ${aws.pid}) on ${aws.endpoint}. Point tools at it:

  export AWS_ENDPOINT_URL=${aws.endpoint} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 ${stackCredentials(env)} AWS_ACCOUNT_ID=${stackAccountId}
  aws sqs receive-message --queue-url ${stack.queueUrl}
  aws events list-rules --event-bus-name ${stack.busName}
  npx backupctl plan events/backup/backup-job-state-change.failed.json

For backupctl onboard and reconcile, also:

  export ${[
    'DELIVERY_TABLE_NAME',
    'TOPIC_ARNS',
    'CENTRAL_BUS_ARN',
    'CONTROL_PLANE_ROLE_ARN',
    'WATCH_ROLE_ARN',
    'ONBOARDING_QUEUE_URL',
    'WATCH_QUEUE_URL',
    'CONTROL_TOWER_FORWARDING_RULE_ARN',
    'MANAGEMENT_FORWARDING_RULE_ARN',
    'REGION_FORWARDER_ROLE_ARN',
  ]
    .filter((k) => env[k])
    .map((k) => `${k}='${env[k]}'`)
    .join(' ')} BACKUP_CONFIG_FILE='${resolve(configFile)}'
  npx backupctl reconcile --dry-run     # each account's decision, checked now, read-only
  npx backupctl coverage --format text
  npx backupctl digest --since 24h --format text

Nothing consumes the queues while moto runs alone: "backupctl reconcile" without --dry-run puts
requests there that stay until the next "npm start" resets moto (running it twice queues each
account twice). --dry-run shows what it would do; "backupctl onboard <id>" runs one directly.

Stop it with: kill ${aws.pid}
`;
}
