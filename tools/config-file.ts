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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      `configuration file ${path} is not valid YAML: ${(error as Error).message}`,
    );
  }
  return parseConfig(raw, path);
}
