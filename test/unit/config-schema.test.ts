import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileJsonSchema } from '../../functions/shared/config/json-schema';
import { CONFIG_ENV, loadRuntimeConfig } from '../../functions/shared/config/runtime';
import { readConfigFile } from '../../tools/config-file';
import { formatIssues, validate } from '../../functions/shared/validate';
import { CONFIG_JSON_SCHEMA_FILE, configJsonSchemaText } from '../../tools/generate-config-schema';
import { exampleConfigWithChannels, ROOT } from '../helpers/fixtures';

/**
 * The functions check the configuration the stack hands them against config.schema.json, which
 * the package-time schema writes: the file must be current, and what the schema accepts (with its
 * defaults filled in) the run-time check must accept too; what it refuses, the check must name.
 */

const check = compileJsonSchema(
  JSON.parse(readFileSync(CONFIG_JSON_SCHEMA_FILE, 'utf8')) as Record<string, unknown>,
);

const issuesOf = (value: unknown): string => {
  const result = validate(check, value);
  return result.ok ? 'ok' : formatIssues(result.issues, CONFIG_ENV);
};

type Loose = Record<string, Record<string, unknown>>;
const configCopy = (): Loose => JSON.parse(JSON.stringify(exampleConfigWithChannels())) as Loose;

describe('config.schema.json', () => {
  it('is what the schema writes now (else: npm run config:schema)', () => {
    expect(readFileSync(CONFIG_JSON_SCHEMA_FILE, 'utf8')).toBe(configJsonSchemaText());
  });

  it.each([
    'infra/config/example.yml',
    'infra/config/example-govcloud.yml',
    'infra/config/example-delegated.yml',
  ])('accepts %s once the schema validated it', (file) => {
    const config = readConfigFile(join(ROOT, file));
    expect(issuesOf(JSON.parse(JSON.stringify(config)))).toBe('ok');
  });

  it.each([
    [
      'a wrong type',
      (c: Loose) => ((c.notifications!.email as Loose[string]).sender = 42),
      /notifications\.email\.sender: must be a string, not a number/,
    ],
    [
      'an unknown setting',
      (c: Loose) => (c.notifications!.colour = 'red'),
      /notifications: unknown setting\(s\) "colour"/,
    ],
    [
      'a setting the defaults would have filled in',
      (c: Loose) => delete c.notifications!.classification,
      /notifications\.classification: is missing/,
    ],
    [
      'a value outside the enum',
      (c: Loose) => ((c.notifications!.rules as Loose[])[0]!.match!.severity = ['fatal']),
      /notifications\.rules\.0\.match\.severity\.0: must be one of "error", "warning", "info"/,
    ],
    [
      'a pattern',
      (c: Loose) => ((c as Record<string, unknown>).organizationId = 'org-1'),
      /organizationId: must match/,
    ],
    [
      'a number out of range',
      (c: Loose) => (c.onboarding!.assumeRoleTimeoutSeconds = 100_000),
      /onboarding\.assumeRoleTimeoutSeconds: must be at most/,
    ],
  ])('refuses %s, naming the setting', (_what, breakIt, message) => {
    const config = configCopy();
    if (!config.notifications!.rules) {
      config.notifications!.rules = [
        { name: 'r', match: { severity: ['error'] }, email: [], sns: [] },
      ] as never;
    }
    breakIt(config);
    expect(issuesOf(config)).toMatch(message);
  });

  it('is what loadRuntimeConfig checks against', () => {
    const config = configCopy();
    (config.notifications!.email as Loose[string]).sender = 42;
    expect(() =>
      loadRuntimeConfig({
        [CONFIG_ENV]: JSON.stringify(config),
        DELIVERY_TABLE_NAME: 't',
        TOPIC_ARNS: '{}',
      }),
    ).toThrow(
      /invalid configuration in BACKUP_CONTROL_PLANE_CONFIG:\n {2}- notifications\.email\.sender/,
    );
  });
});

describe('compileJsonSchema', () => {
  it('refuses a keyword it does not implement rather than skipping it', () => {
    expect(() => compileJsonSchema({ type: 'string', multipleOf: 2 })).toThrow(
      /unsupported keyword\(s\) multipleOf/,
    );
  });

  it('refuses type-specific keywords without a type (zod writes allOf: [{pattern}] for a second regex)', () => {
    expect(() => compileJsonSchema({ type: 'string', allOf: [{ pattern: '^a' }] })).toThrow(
      /pattern without a type is not supported/,
    );
  });

  it('checks propertyNames next to declared properties', () => {
    const c = compileJsonSchema({
      type: 'object',
      properties: { a: { type: 'string' } },
      propertyNames: { type: 'string', pattern: '^[a-z]+$' },
    });
    expect(validate(c, { a: 'x', b: 1 }).ok).toBe(true);
    expect(validate(c, { a: 'x', B: 1 }).ok).toBe(false);
  });

  it('follows $ref into $defs, and anyOf', () => {
    const c = compileJsonSchema({
      $defs: { id: { type: 'string', pattern: '^\\d{3}$' } },
      type: 'object',
      properties: {
        a: { $ref: '#/$defs/id' },
        b: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
      },
      required: ['a'],
      additionalProperties: false,
    });
    expect(validate(c, { a: '123', b: null }).ok).toBe(true);
    expect(validate(c, { a: '12' }).ok).toBe(false);
    expect(validate(c, { a: '123', b: 'x' }).ok).toBe(false);
    expect(validate(c, { a: '123', z: 1 }).ok).toBe(false);
  });

  it('checks map keys (propertyNames) and values (additionalProperties)', () => {
    const c = compileJsonSchema({
      type: 'object',
      propertyNames: { type: 'string', enum: ['FAILED', 'EXPIRED'] },
      additionalProperties: { type: 'string', enum: ['error', 'ignore'] },
    });
    expect(validate(c, { FAILED: 'error' }).ok).toBe(true);
    expect(validate(c, { RUNNING: 'error' }).ok).toBe(false);
    expect(validate(c, { FAILED: 'loud' }).ok).toBe(false);
  });
});
