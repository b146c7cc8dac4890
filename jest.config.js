/** @type {import('jest').Config} */
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }];

module.exports = {
  projects: [
    {
      // Pure modules, adapters (aws-sdk-client-mock), handlers and the CLI: no network.
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': swc },
      testMatch: [
        '<rootDir>/test/unit/**/*.test.ts',
        '<rootDir>/test/adapters/**/*.test.ts',
        '<rootDir>/test/handlers/**/*.test.ts',
        '<rootDir>/test/cli/**/*.test.ts',
      ],
      setupFiles: ['<rootDir>/test/helpers/env.ts'],
      setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
    },
    {
      // Real SDK calls against one moto_server per run (started by globalSetup). Run in band:
      // the tests share it and reset it between cases.
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': swc },
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
      setupFiles: ['<rootDir>/test/helpers/integration-env.ts'],
    },
  ],
};
