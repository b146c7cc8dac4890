import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseConfig, type Config } from '../functions/shared/config/schema';
import { ConfigError } from '../functions/shared/errors';

/**
 * Reading a stage configuration file (YAML): package time (infra/stage-config.js) and the CLI
 * only. The functions get the validated configuration as JSON from their environment
 * (loadRuntimeConfig), so no Lambda bundle carries a YAML parser.
 */
export function readConfigFile(path: string): Config {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(error as Error).message}`);
  }
  // Windows editors save "Unicode" as UTF-16: read as UTF-8 it is one long garbled string.
  if (/^(\xff\xfe|\xfe\xff)/.test(bytes.subarray(0, 2).toString('latin1'))) {
    throw new ConfigError(`configuration file ${path} is UTF-16: save it as UTF-8`);
  }
  const text = bytes.toString('utf8');
  let raw: unknown;
  try {
    // Merge keys (<<: *anchor) as most YAML tools read them, to share settings between entries.
    raw = parseYaml(text, { merge: true });
  } catch (error) {
    throw new ConfigError(
      `configuration file ${path} is not valid YAML: ${(error as Error).message}`,
    );
  }
  return parseConfig(raw, path);
}
