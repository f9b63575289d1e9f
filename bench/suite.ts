// What a bench suite is to bench/run.ts: settings in, named figures and a printable table out.

/** Run-wide settings from the command line; each suite uses what applies to it. */
export interface BenchSettings {
  /** Measured rounds per target. */
  readonly rounds: number
  /** Length of one measured round, seconds. */
  readonly durationSec: number
  /** Least unmeasured load before the first round, seconds per target. */
  readonly warmupSec: number
  /** Most unmeasured load before the first round, seconds per target: warm-up ends earlier once figures level off. */
  readonly warmupMaxSec: number
  /** Concurrent keep-alive connections of the load generator. */
  readonly connections: number
  /** Measure only this target (for profiling one side); null measures all. */
  readonly only: string | null
  /** Write a V8 CPU profile of the servers' process here; null writes none. */
  readonly cpuProfDir: string | null
  /** Gateway provider wiring: the Finqware adapter (as deployed) or none. */
  readonly providers: 'finqware' | 'none'
  /**
   * consent-get's store: DynamoDB Local, or its answers to GetItem replayed in process (bench/canned-store.ts).
   * @default 'dynamodb'
   */
  readonly store: 'dynamodb' | 'canned'
  /**
   * The node binary lambda-bundles cold-starts the bundles with, e.g. one of the Lambda runtime's major version.
   * @default null (the one running the bench)
   */
  readonly node: string | null
}

/** A figure that goes into the machine-readable line as is. */
export type Figure = number | string | boolean | null

export interface SuiteResult {
  /** Named figures, flat (e.g. `gatewayReqPerSec`); the BENCH_JSON line carries them. */
  readonly figures: Record<string, Figure>
  /** Human-readable report, printed as is. */
  readonly table: string
  /** What went wrong (errors, wrong answers); any entry fails the run. */
  readonly failures: readonly string[]
  /** Extra machine-readable detail (per-round figures), also carried by BENCH_JSON. */
  readonly details?: Record<string, unknown>
  /** A CPU profile written while the suite ran. */
  readonly cpuProfile?: string | null
}

export interface Suite {
  /** Short, stable key (BENCH_JSON key, `--suite` value). */
  readonly name: string
  readonly title: string
  /** Runs the suite; stops everything it started before settling, also when `signal` aborts. */
  run(settings: BenchSettings, signal: AbortSignal, progress: (line: string) => void): Promise<SuiteResult>
}
