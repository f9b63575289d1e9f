// What the infra tests' reporter (test/infra/support/assertion-reporter.ts) leaves for `npm run infra:check`
// (scripts/infra-check.ts) to print and check: here, so the script needs nothing from test/.

export interface InfraTestSummary {
  readonly tests: number
  readonly failed: number
  readonly assertions: number
}
