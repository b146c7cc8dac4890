/**
 * Which AWS operation each SDK request of this process is, for the benches that count calls.
 * moto's log has one line per request but only the method and path: the JSON and query protocols
 * all POST to "/", so it cannot tell DynamoDB from STS. This records, for every request the SDK
 * sends through node:http, the service and region from the SigV4 credential scope and the
 * operation from X-Amz-Target (JSON protocols), the Action= of the body (query protocols: STS,
 * IAM, SES, SNS) or the method and path (REST: AWS Backup). Installed before the first SDK
 * request (the SDK's http handler reads node:http's request function on first use).
 */
import type * as http from 'node:http';

export interface AwsCall {
  service: string;
  region: string;
  operation: string;
}

const calls: AwsCall[] = [];
let installed = false;

/** Backup's REST paths (the ones the functions use) named by operation. */
const BACKUP_ROUTES: [RegExp, string][] = [
  [/^GET \/backup-jobs\/?(\?|$)/, 'ListBackupJobs'],
  [/^GET \/copy-jobs\/?(\?|$)/, 'ListCopyJobs'],
  [/^GET \/restore-jobs\/?(\?|$)/, 'ListRestoreJobs'],
  [/^GET \/resources\/?(\?|$)/, 'ListProtectedResources'],
  [/^GET \/account-settings/, 'DescribeRegionSettings'],
  [/^GET \/audit\/backup-job-summaries/, 'ListBackupJobSummaries'],
  [/^GET \/backup-vaults\/[^/?]+\/?(\?|$)/, 'DescribeBackupVault'],
  [/^PUT \/backup-vaults\/[^/?]+\/?(\?|$)/, 'CreateBackupVault'],
];

function restOperation(service: string, method: string, path: string): string {
  const line = `${method} ${path}`;
  if (service === 'backup') {
    for (const [re, name] of BACKUP_ROUTES) if (re.test(line)) return name;
  }
  return `${method} ${path.split('?')[0]}`;
}

type Headers = Record<string, string | string[] | number | undefined>;

function header(headers: Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(',') : String(v);
  }
  return undefined;
}

export function installCallRecorder(): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('node:http') as typeof http;
  const original = mod.request;
  const patched = function (this: unknown, ...args: unknown[]) {
    const req = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const options = (
      typeof args[0] === 'object' && !(args[0] instanceof URL) ? args[0] : args[1]
    ) as { headers?: Headers; method?: string; path?: string } | undefined;
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
      header(options?.headers, 'authorization') ?? '',
    );
    if (!scope) return req; // not an SDK request (moto's own API, fetch goes through undici)
    const call: AwsCall = { region: scope[1]!, service: scope[2]!, operation: '?' };
    calls.push(call);
    const target = header(options?.headers, 'x-amz-target');
    const type = header(options?.headers, 'content-type') ?? '';
    if (target) {
      call.operation = target.split('.').pop() ?? target;
    } else if (type.startsWith('application/x-www-form-urlencoded')) {
      const end = req.end.bind(req) as (...a: unknown[]) => http.ClientRequest;
      req.end = ((...endArgs: unknown[]) => {
        const body = endArgs[0];
        if (typeof body === 'string' || Buffer.isBuffer(body)) {
          call.operation = /(?:^|&)Action=([^&]+)/.exec(body.toString())?.[1] ?? '?';
        }
        return end(...endArgs);
      }) as typeof req.end;
    } else {
      call.operation = restOperation(call.service, options?.method ?? 'GET', options?.path ?? '/');
    }
    return req;
  };
  mod.request = patched as typeof http.request;
}

/** A mark to count from. */
export function callMark(): number {
  return calls.length;
}

/** The calls since a mark, counted per service and per "service:Operation". */
export function callsSince(mark: number): {
  total: number;
  byService: Record<string, number>;
  byOperation: Record<string, number>;
} {
  const slice = calls.slice(mark);
  const byService: Record<string, number> = {};
  const byOperation: Record<string, number> = {};
  for (const c of slice) {
    byService[c.service] = (byService[c.service] ?? 0) + 1;
    const key = `${c.service}:${c.operation}`;
    byOperation[key] = (byOperation[key] ?? 0) + 1;
  }
  return { total: slice.length, byService: sorted(byService), byOperation: sorted(byOperation) };
}

function sorted(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
