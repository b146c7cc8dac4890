import { logger } from '../../functions/shared/logger';

/**
 * The functions log through one Powertools logger (silenced by test/helpers/env.ts). Its error
 * method is replaced here so each failed record's error (sqs-batch.ts logs it with the error)
 * is counted by name; nothing is printed.
 */
export interface ErrorLog {
  entries: { name: string; message: string }[];
}

export function captureErrors(): ErrorLog {
  const log: ErrorLog = { entries: [] };
  const capture = (_message: unknown, ...extra: unknown[]) => {
    for (const x of extra) {
      const error = (x as { error?: unknown } | undefined)?.error;
      if (error instanceof Error) {
        log.entries.push({ name: error.name, message: error.message.slice(0, 300) });
      } else if (error !== undefined) {
        log.entries.push({ name: typeof error, message: String(error).slice(0, 300) });
      }
    }
  };
  logger.error = capture as typeof logger.error;
  return log;
}

export function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of [...values].sort()) out[v] = (out[v] ?? 0) + 1;
  return out;
}
