// One Yapily API call end to end: injected faults, Basic authentication, JSON body, the expiry sweep, the success
// envelope `{ meta: { tracingId }, data }` and the route's error envelope.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { FaultInjector } from '../shared/faults.ts'
import { BodyTooLargeError, readBody, sendJson, type RouteHandler, type SandboxRequest } from '../shared/http.ts'
import { authenticateApplication } from './basic-auth.ts'
import {
  ISSUE,
  UNAUTHORIZED_BODY,
  YapilyApiError,
  YapilyIssueError,
  issuesErrorBody,
  legacyErrorBody,
} from './errors.ts'
import type { YapilyApplication } from './options.ts'

export interface ApiCall {
  application: YapilyApplication
  params: Readonly<Record<string, string>>
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** The parsed JSON body; undefined when there is none. */
  body: unknown
  /** This call's id, in `meta` and in any error body. */
  tracingId: string
}

export interface ApiAnswer {
  status: number
  data: unknown
  /** Extra `meta` fields, e.g. a list's `count` and `pagination`. */
  meta?: Record<string, unknown>
}

export type ApiOperation = (call: ApiCall) => Promise<ApiAnswer> | ApiAnswer

export interface ApiCallContext {
  faults: FaultInjector
  applications: readonly YapilyApplication[]
  /** Runs before every authenticated operation: the lazy expiry sweep. */
  beforeOperation: () => void
}

export interface ApiEndpointOptions {
  /**
   * The envelope of this route's errors: `legacy` (`ApiResponseError`) or `issues` (the newer `ApiErrorResponse`,
   * used by extend and the webhook routes). The 401 of a bad credential is the exact legacy body on every route.
   * @default 'legacy'
   */
  envelope?: 'legacy' | 'issues'
  /**
   * Also send `meta` as `metadata`: the spec names the webhook routes' envelope field `metadata`, the contract
   * `meta`; sending both serves either reading.
   * @default false
   */
  metadataAlias?: boolean
}

export function apiEndpoint(
  context: ApiCallContext,
  operation: ApiOperation,
  options: ApiEndpointOptions = {},
): RouteHandler {
  const envelope = options.envelope ?? 'legacy'
  return async (request: SandboxRequest, response: ServerResponse) => {
    const tracingId = randomUUID()
    const fail = (status: number, message: string, issueType: string = ISSUE.badRequest.type, code?: string) => {
      const body =
        envelope === 'legacy'
          ? legacyErrorBody(status, message, tracingId)
          : issuesErrorBody(status, [{ type: issueType, code: code ?? issueCodeFor(status), message }], tracingId)
      sendJson(response, status, body)
    }
    try {
      await context.faults.applyDelay()
      const text = await readBody(request.raw)
      // Injected failures change nothing: they answer before the credentials or the body are even looked at.
      const failure = context.faults.takeFailure()
      if (failure) {
        fail(failure.status, `injected failure (sandbox fault control): ${failure.code}`, 'SANDBOX_FAULT', failure.code)
        return
      }
      const application = authenticateApplication(single(request.headers, 'authorization'), context.applications)
      if (!application) {
        sendJson(response, 401, UNAUTHORIZED_BODY, { 'www-authenticate': 'Basic realm="Yapily"' })
        return
      }
      const body = parseJson(text)
      context.beforeOperation()
      const answer = await operation({
        application,
        params: request.params,
        query: request.url.searchParams,
        headers: request.headers,
        body,
        tracingId,
      })
      const meta = { tracingId, ...answer.meta }
      sendJson(response, answer.status, { meta, ...(options.metadataAlias && { metadata: meta }), data: answer.data })
    } catch (error) {
      if (error instanceof YapilyIssueError) {
        sendJson(response, error.status, issuesErrorBody(error.status, error.issues, tracingId, error.source))
      } else if (error instanceof YapilyApiError) {
        sendJson(response, error.status, legacyErrorBody(error.status, error.message, tracingId))
      } else if (error instanceof BodyTooLargeError) {
        fail(413, error.message)
      } else if (error instanceof MalformedBody) {
        fail(400, error.message)
      } else {
        throw error
      }
    }
  }
}

class MalformedBody extends Error {}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new MalformedBody('The server could not understand the request due to invalid syntax: malformed JSON')
  }
}

function issueCodeFor(status: number): string {
  if (status === 404) return ISSUE.notFound.code
  if (status >= 500) return ISSUE.serverError.code
  return ISSUE.badRequest.code
}

/** A header's first value, trimmed; undefined when absent or blank. */
export function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  return text === undefined || text === '' ? undefined : text
}
