// Setup file of the infra tests: every test must assert something (a test that asserts nothing cannot fail), and
// records how many assertions it made, for the reporter to add up.
import { afterEach, beforeEach, expect } from 'vitest'

declare module 'vitest' {
  interface TaskMeta {
    /** `expect` calls the test made. */
    assertions?: number
  }
}

beforeEach(() => {
  expect.hasAssertions()
})

afterEach(({ task }) => {
  task.meta.assertions = expect.getState().assertionCalls
})
