// Reporter of the infra tests: one closing line with the number of assertions made, beside vitest's own summary, and
// the same figures as JSON for `npm run infra:check` (to the file named by INFRA_CHECK_SUMMARY, when set).
import { writeFileSync } from 'node:fs'
import type { Reporter, TestModule } from 'vitest/node'
import type { InfraTestSummary } from '../../../scripts/infra-test-summary.ts'

export default class AssertionReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let assertions = 0
    let tests = 0
    let failed = 0
    for (const testModule of testModules) {
      for (const testCase of testModule.children.allTests()) {
        tests += 1
        if (testCase.result().state === 'failed') failed += 1
        // Set by count-assertions.ts (the setup file) in the test's worker.
        assertions += (testCase.meta() as { assertions?: number }).assertions ?? 0
      }
    }
    console.log(`infra: ${assertions} assertions in ${tests} tests`)
    const summary: InfraTestSummary = { tests, failed, assertions }
    if (process.env.INFRA_CHECK_SUMMARY) writeFileSync(process.env.INFRA_CHECK_SUMMARY, JSON.stringify(summary))
  }
}
