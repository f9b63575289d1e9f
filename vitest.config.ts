// Test projects: unit (pure, no I/O), integration (real DynamoDB Local, real HTTP to sandboxes), contract (adapters
// against simulators, held to the providers' published schemas), e2e (the whole stack over HTTP). One DynamoDB Local serves the whole run; each test file makes its own table.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // graphql 16 has no `exports`: Node (and so yoga and Pothos) loads its CommonJS `main`, while Vite would hand our
    // own files the `module` build, two copies whose GraphQLError and GraphQLSchema do not recognise each other.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    // The AWS SDK warns at every client that its releases after early 2027 need Node 22; Lambda runs 22 already.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'SILENT' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 20_000 } },
      // Adapters against their simulators through a recording proxy, held to the providers' published schemas.
      { extends: true, test: { name: 'contract', include: ['test/contract/**/*.test.ts'], testTimeout: 20_000 } },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
      },
    ],
  },
})
