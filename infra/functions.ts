// What every gateway function shares, whatever invokes it (HTTP API, Function URL, schedules, the table stream):
// runtime, bundling, the links (the table, every secret) and the environment service/config.ts reads.
import { FUNCTION_NODEJS, FUNCTION_RUNTIME } from '../scripts/bundling.ts'
import { SECRET_VARIABLES } from './secrets.ts'
import { table } from './storage.ts'

/**
 * The `sst.aws.Function` settings every gateway function starts from; spread them, then add the handler and what is
 * particular to the function. Call it once per function: SST writes its own variables (`SST_KEY`, `SST_KEY_FILE`,
 * `SST_RESOURCE_App`) into the environment object it is given (`normalizeEnvironment` in the platform's
 * src/components/aws/function.ts), so two functions must not share one.
 *
 * The secrets are linked, not set as variables: SST encrypts every link's properties into resource.enc inside the
 * bundle (AES-256-GCM, its key in `SST_KEY`), and composition/settings.ts reads them through `Resource` at cold start.
 * So no secret shows in the function's configuration, and Lambda's 4 KB of variables holds only the table, the URL
 * and SST's three (a few hundred bytes), whatever size the Worldline key is.
 *
 * @param publicBaseUrl Where providers and browsers reach the gateway (`/webhooks/...`, `/callbacks/...`): the HTTP
 * API's URL. Every function needs it: `configFromEnv` refuses to start without `PUBLIC_BASE_URL`.
 *
 * @example
 * ```ts
 * const sweep = new sst.aws.Function('SweepDeadlinesJob', {
 *   ...gatewayFunction(api.url),
 *   handler: 'functions/sweep-deadlines.handler',
 * })
 * new sst.aws.CronV2('SweepDeadlines', { schedule: 'rate(5 minutes)', function: sweep })
 * ```
 */
export function gatewayFunction(publicBaseUrl: $util.Input<string>) {
  return {
    runtime: FUNCTION_RUNTIME,
    // Graviton: about 20% cheaper per GB-second than x86_64; the bundles are plain JavaScript, no native modules.
    architecture: 'arm64',
    // Shared with scripts/build-functions.ts; SST adds the createRequire banner itself (see scripts/bundling.ts).
    nodejs: FUNCTION_NODEJS,
    // The table grants dynamodb:* on itself, its indexes and its stream (the Dynamo component's link); each secret
    // arrives as `Resource.<Name>.value`, read under the variable its name stands for (composition/settings.ts).
    link: [table, ...Object.values(SECRET_VARIABLES)],
    environment: $resolve({ TABLE_NAME: table.name, PUBLIC_BASE_URL: publicBaseUrl }),
  } satisfies Partial<sst.aws.FunctionArgs>
}
