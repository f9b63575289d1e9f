// Request bodies are bounded before anything reads them. A route that hands its request on (GraphQL, the OAuth
// endpoints) requires a declared length no larger than its limit: without one a body cannot be bounded before the
// handler reads it all (411), and a larger one is refused unread (413). A route that reads the body itself (provider
// notifications, local controls) also takes a chunked body, counted as it arrives and dropped at the limit.
import type { HttpContext, HttpMiddleware } from './env.ts'

export interface DeclaredLengthRefusals {
  /** The answer to a body without a declared length. */
  readonly lengthRequired: (c: HttpContext) => Response
  /** The answer to a body over the limit. */
  readonly tooLarge: (c: HttpContext) => Response
}

/**
 * 411 for a POST without `Content-Length`, 413 for one declaring more than `maxBytes`. Other methods pass: the routes
 * this guards take a body by POST only and refuse the rest themselves.
 */
export function declaredLengthAtMost(maxBytes: number, refusals: DeclaredLengthRefusals): HttpMiddleware {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next()
    const declared = c.req.raw.headers.get('content-length')
    if (declared === null) return refusals.lengthRequired(c)
    // Node's parser has already refused a malformed length; on Lambda the adapter sets it from the event's body.
    if (Number(declared) > maxBytes) return refusals.tooLarge(c)
    return next()
  }
}

/**
 * The body's bytes, or null when it is longer than `maxBytes` (the caller answers 413): refused at once on its
 * declared length, otherwise counted while read and abandoned at the limit.
 */
export async function readBodyAtMost(request: Request, maxBytes: number): Promise<Uint8Array | null> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) return null
  if (declared !== null || request.body === null) return new Uint8Array(await request.arrayBuffer())
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined)
      return null
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}
