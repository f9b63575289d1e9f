// Who runs `npm run admin`, as the admin log records it: on a deployed stage the AWS caller identity (STS), which the
// operator cannot choose; locally the OS user at this host. `--actor` adds a name (a person behind a shared role) but
// never replaces the identity established here.
import { hostname, userInfo } from 'node:os'
import { callerIdentity, type AwsCredentials } from './aws-identity.ts'
import type { AdminTarget } from './target.ts'

/** The OS user at this host; the environment's USER when the OS has no name for this uid (some containers). */
export function localUser(env: NodeJS.ProcessEnv): string {
  let user = env.USER ?? env.USERNAME ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // Keep the environment's name.
  }
  return `${user}@${hostname()}`
}

export interface OperatorSources {
  readonly env: NodeJS.ProcessEnv
  /** `--actor`: a name the operator gives; recorded beside the identity, never instead of it. */
  readonly statedName?: string | undefined
  /** The AWS credentials the table is written with (aws targets). */
  readonly credentials?: () => Promise<AwsCredentials>
}

export async function operatorOf(target: AdminTarget, sources: OperatorSources): Promise<string> {
  const stated = sources.statedName ? ` as ${JSON.stringify(sources.statedName)}` : ''
  if (target.kind === 'local') return `${localUser(sources.env)}${stated}`
  try {
    if (!sources.credentials) throw new Error('no AWS credentials')
    const arn = await callerIdentity(await sources.credentials(), {
      region: target.region ?? 'us-east-1',
      endpoint: sources.env.AWS_ENDPOINT_URL_STS ?? sources.env.AWS_ENDPOINT_URL,
    })
    return `${arn}${stated}`
  } catch (error) {
    // STS out of reach (a network that only lets DynamoDB through): the change is still made, and the entry says the
    // identity is the environment's word, not AWS's.
    const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code
    const reason = `${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}`
    return `${localUser(sources.env)}${stated} (AWS identity unavailable: ${reason.slice(0, 120)})`
  }
}
