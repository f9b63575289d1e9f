// `POST {S}/authorize/token`: access token v1 (docs/providers.md, Worldline evidence: Auth): form body, signed client headers, Date skew.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { SandboxClock } from '../shared/clock.ts'
import type { FaultInjector } from '../shared/faults.ts'
import { BodyTooLargeError, readBody, sendJson, type RouteHandler, type SandboxRequest } from '../shared/http.ts'
import { TokenError, invalidClient, sendTokenError } from './errors.ts'
import {
  REQUIRED_SIGNED_HEADERS,
  SIGNATURE_ALGORITHMS,
  parseSignatureAuthorization,
  signingString,
  verifySignature,
} from './http-signature.ts'
import type { RegisteredClient } from './options.ts'
import type { TokenStore } from './tokens.ts'

/** The `App` header value for AIS; presumed (iDEAL's is `IDEAL`) [I] (docs/providers.md, Worldline evidence: Auth). */
export const AIS_APP = 'AIS'

export interface TokenApiContext {
  clock: SandboxClock
  faults: FaultInjector
  tokens: TokenStore
  /** Empty: signatures are parsed but not verified (the sandbox "mostly skips security"). */
  clients: readonly RegisteredClient[]
  maxDateSkewSeconds: number
}

export function tokenEndpoint(context: TokenApiContext): RouteHandler {
  return async (request: SandboxRequest, response: ServerResponse) => {
    try {
      await context.faults.applyDelay()
      const text = await readBody(request.raw)
      const failure = context.faults.takeFailure()
      if (failure) {
        sendTokenError(
          response,
          context.clock.now(),
          failure.status,
          failure.code,
          'injected failure (sandbox fault control)',
        )
        return
      }
      // Checked in this order: media type (415), grant (400), then the client (401 with the OAuth spec's codes).
      if (mediaType(request.headers['content-type']) !== 'application/x-www-form-urlencoded') {
        throw new TokenError(415, '158', 'Content-Type must be application/x-www-form-urlencoded')
      }
      const grantType = new URLSearchParams(text).get('grant_type')
      if (grantType !== 'client_credentials') {
        throw new TokenError(400, '001', 'grant_type must be client_credentials')
      }
      authenticateClient(request, context)
      const issued = context.tokens.issue()
      sendJson(response, 200, {
        access_token: issued.accessToken,
        token_type: 'Bearer',
        expires_in: issued.expiresInSeconds,
      })
    } catch (error) {
      if (error instanceof TokenError) {
        sendTokenError(response, context.clock.now(), error.status, error.code, error.message)
      } else if (error instanceof BodyTooLargeError) {
        sendTokenError(response, context.clock.now(), 413, '001', error.message)
      } else {
        throw error
      }
    }
  }
}

/** `application/x-www-form-urlencoded; charset=UTF-8` counts: only the media type is compared. */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/** Throws a 401 (001 / 003 / 007 / 101) unless the App/Client/Id/Date headers are present, fresh and signed by the client's key. */
export function authenticateClient(
  request: Pick<SandboxRequest, 'headers' | 'method' | 'url'>,
  context: Pick<TokenApiContext, 'clock' | 'clients' | 'maxDateSkewSeconds'>,
): void {
  const { headers } = request
  for (const name of REQUIRED_SIGNED_HEADERS) {
    if (!single(headers, name)) throw invalidClient('001', `the ${name} header is required`)
  }
  if (single(headers, 'app') !== AIS_APP) throw invalidClient('007', `App must be ${AIS_APP}`)
  // OAuth spec v1.4.5: the Id is the Initiating Party id, with its sub id as `<id>:<sub id>` (433:5).
  if (!/^\d+(:\d+)?$/.test(single(headers, 'id') ?? '')) {
    throw invalidClient('101', 'Id must be the Initiating Party id, with its sub id as <id>:<sub id> (e.g. 433:5)')
  }

  const date = Date.parse(single(headers, 'date') ?? '')
  // ISO 8601 as the token operation asks; an HTTP date (the form of the spec's signature example) is read too.
  if (Number.isNaN(date)) throw invalidClient('003', 'Date must be an ISO 8601 date and time')
  const skewMs = Math.abs(date - context.clock.now().getTime())
  if (skewMs > context.maxDateSkewSeconds * 1000) {
    throw invalidClient('003', `Date is more than ${context.maxDateSkewSeconds} s away from the server time`)
  }

  const signature = parseSignatureAuthorization(single(headers, 'authorization'))
  if (!signature) {
    throw invalidClient(
      '003',
      'Authorization must be: Signature keyId="...",algorithm="SHA256withRSA",headers="...",signature="..."',
    )
  }
  if (!SIGNATURE_ALGORITHMS.includes(signature.algorithm.toLowerCase())) {
    throw invalidClient('003', 'the signature algorithm must be SHA256withRSA (or rsa-sha256)')
  }
  const unsigned = REQUIRED_SIGNED_HEADERS.filter((name) => !signature.headers.includes(name))
  if (unsigned.length > 0) throw invalidClient('003', `the signature must cover the headers: ${unsigned.join(', ')}`)
  const text = signingString(signature.headers, headers, {
    method: request.method,
    path: request.url.pathname + request.url.search,
  })
  if (text === null) throw invalidClient('003', 'the signature names a header the request does not carry')

  // No registered client: nothing to verify against, as on Worldline's sandbox (docs/providers.md, Worldline evidence: Auth).
  if (context.clients.length === 0) return
  const clientId = single(headers, 'client')
  const candidates = context.clients.filter((client) => client.clientId === clientId)
  if (candidates.length === 0) throw invalidClient('101', `unknown client ${clientId ?? ''}`)
  const client = candidates.find((candidate) => candidate.keyId === signature.keyId)
  if (!client) throw invalidClient('003', `keyId ${signature.keyId} is not registered for client ${clientId ?? ''}`)
  if (!verifySignature(text, signature.signature, client.publicKey)) {
    throw invalidClient('003', 'the signature does not verify with the registered key')
  }
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  const text = Array.isArray(value) ? value[0] : value
  return text === undefined || text.trim() === '' ? undefined : text.trim()
}
