/** @type {import('jest').Config} */
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }];

module.exports = {
  projects: [
    {
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
  ],
};
