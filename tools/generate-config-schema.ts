import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema } from '../functions/shared/config/schema';

/** `npm run config:schema`: writes the configuration's JSON Schema the functions check against. */
export const CONFIG_JSON_SCHEMA_FILE = join(
  __dirname,
  '..',
  'functions',
  'shared',
  'config',
  'config.schema.json',
);

export const configJsonSchemaText = (): string =>
  `${JSON.stringify(configJsonSchema(), null, 2)}\n`;

if (require.main === module) {
  writeFileSync(CONFIG_JSON_SCHEMA_FILE, configJsonSchemaText());
  process.stdout.write(`wrote ${CONFIG_JSON_SCHEMA_FILE}\n`);
}
