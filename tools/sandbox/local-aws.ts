import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The local AWS the sandbox and the integration tests share: moto_server on 127.0.0.1, on a
 * free port, started through moto_launcher.py (which closes two gaps of moto 5.2.x, see there).
 * The process runs in its own process group and is stopped on exit, Ctrl-C and failure.
 */

export const MOTO_INSTALL_HINT =
  'moto_server not found: install it with pip install "moto[server]"';
const LAUNCHER = join(__dirname, 'moto_launcher.py');
const READY_TIMEOUT_MS = 20_000;

export class LocalAwsError extends Error {
  override name = 'LocalAwsError';
}

export interface LocalAws {
  endpoint: string;
  port: number;
  pid: number;
  /** Empties every service (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** moto's view of its state: sent emails, SNS notifications, ... */
  data(): Promise<MotoData>;
  stop(): Promise<void>;
  /** Where moto's own log goes. */
  logFile: string;
  /** Leave it running after this process exits (sandbox --keep). */
  detach(): void;
}

export interface MotoSentEmail {
  id: string;
  source: string;
  subject: string;
  destinations: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  body: string;
  html?: string | null;
  text?: string | null;
}

export interface MotoData {
  ses?: { Message?: MotoSentEmail[] };
  [service: string]: unknown;
}

/** The python that has moto: MOTO_PYTHON if set, else python3 (moto_server's interpreter). */
export function findPython(): string {
  const candidates = process.env.MOTO_PYTHON ? [process.env.MOTO_PYTHON] : ['python3', 'python'];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  throw new LocalAwsError(MOTO_INSTALL_HINT);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Client settings for the SDK: endpoint, region and dummy credentials. */
export function localClientConfig(endpoint: string, region = 'us-east-1') {
  return {
    endpoint,
    region,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/** Points every SDK client created from now on in this process at the local AWS. */
export function useLocalAwsEnvironment(endpoint: string, region = 'us-east-1'): void {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = region;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

/**
 * Runs `run` with the process's AWS credentials set to these (undefined: the management
 * account's, as useLocalAwsEnvironment sets them), then puts the previous ones back. The SDK
 * clients created inside read them: doctor or setup as another account of the sandbox.
 */
export async function withLocalCredentials<T>(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined,
  run: () => Promise<T>,
): Promise<T> {
  const keys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
  const before = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  const set = (k: (typeof keys)[number], v: string | undefined) => {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  set('AWS_ACCESS_KEY_ID', credentials?.accessKeyId ?? 'testing');
  set('AWS_SECRET_ACCESS_KEY', credentials?.secretAccessKey ?? 'testing');
  set('AWS_SESSION_TOKEN', credentials?.sessionToken);
  try {
    return await run();
  } finally {
    for (const k of keys) set(k, before[k]);
  }
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a signal to the group is.
  process.on('exit', () => running.forEach((c) => killGroup(c, 'SIGKILL')));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      running.forEach((c) => killGroup(c, 'SIGTERM'));
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

async function waitUntilReady(endpoint: string, child: ChildProcess, stderr: () => string) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const said = stderr().trim();
      throw new LocalAwsError(
        child.exitCode === 3
          ? MOTO_INSTALL_HINT
          : `moto_server exited with code ${child.exitCode}${said ? `: ${said.split('\n').slice(-3).join(' | ')}` : ''}`,
      );
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new LocalAwsError(
    `moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms`,
  );
}

/** reset() and data() of a local AWS someone else started (the integration tests' global setup). */
export function connectLocalAws(endpoint: string): Pick<LocalAws, 'endpoint' | 'reset' | 'data'> {
  return {
    endpoint,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new LocalAwsError(`moto reset failed: HTTP ${res.status}`);
    },
    async data() {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (!res.ok) throw new LocalAwsError(`moto data.json failed: HTTP ${res.status}`);
      return (await res.json()) as MotoData;
    },
  };
}

export async function startLocalAws(
  options: { port?: number; logFile?: string } = {},
): Promise<LocalAws> {
  const python = findPython();
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // moto logs every request: to a file, so it can outlive this process (--keep) safely.
  const logFile = options.logFile ?? join(mkdtempSync(join(tmpdir(), 'moto-')), 'moto.log');
  const log = openSync(logFile, 'a');
  const child = spawn(python, [LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', log, log],
    detached: true, // its own process group, so stopping it takes every child with it
  });
  closeSync(log);
  const stderr = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  running.add(child);
  installExitHook();
  try {
    await waitUntilReady(endpoint, child, stderr);
  } catch (error) {
    killGroup(child, 'SIGKILL');
    running.delete(child);
    throw error;
  }

  return {
    ...connectLocalAws(endpoint),
    port,
    pid: child.pid!,
    async stop() {
      running.delete(child);
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
    logFile,
    detach() {
      running.delete(child);
      child.unref();
    },
  };
}

/** A POST to one of the launcher's sandbox endpoints (not AWS APIs; see moto_launcher.py, 8). */
export async function sandboxPost<T = unknown>(
  endpoint: string,
  path: string,
  body: unknown,
): Promise<T> {
  const res = await fetch(`${endpoint}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A job recorded as AWS Backup would run it (the launcher's answer: the job as Describe shows it). */
export interface RecordedBackupJob {
  jobType: string;
  jobId: string;
  accountId: string;
  region: string;
  eventId: string | null;
  job: Record<string, unknown>;
}

export const recordBackupJob = (
  aws: { endpoint: string },
  body: Record<string, unknown>,
): Promise<RecordedBackupJob> => sandboxPost(aws.endpoint, '/_sandbox/backup/jobs', body);
