// Offline tests of infra/ (Pulumi mocks over the SST platform in .sst/platform). Apart from the root vitest config:
// they need `sst install` first, so `npm run infra:check` runs them, not `npm test`.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    name: 'infra',
    include: ['test/infra/**/*.test.ts'],
    setupFiles: ['test/infra/support/count-assertions.ts'],
    reporters: ['default', './test/infra/support/assertion-reporter.ts'],
    // Loading the platform (every SST component) takes a few seconds on a cold module cache.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
