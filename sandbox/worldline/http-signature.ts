// Draft-cavage HTTP signatures as the token endpoint uses them (docs/providers.md, Worldline evidence: Auth): parse, signing string, verify.
import { verify, type KeyObject } from 'node:crypto'

/** The parameters of `Authorization: Signature keyId="...",algorithm="...",headers="...",signature="..."`. */
export interface SignatureParameters {
  keyId: string
  algorithm: string
  /** Lower-cased header names in signing order. */
  headers: string[]
  /** Base64 signature bytes as sent. */
  signature: string
}

/** Worldline names the algorithm `SHA256withRSA`; `rsa-sha256` is the draft-cavage spelling it also accepts. */
export const SIGNATURE_ALGORITHMS: readonly string[] = ['sha256withrsa', 'rsa-sha256']

/** The headers a token request must sign, whatever else it signs (docs/providers.md, Worldline evidence: Auth `headers="app client id date"`). */
export const REQUIRED_SIGNED_HEADERS: readonly string[] = ['app', 'client', 'id', 'date']

const PARAMETER = /\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(?:,|$)/y

/**
 * Parses the `Authorization` header value; null when it is not a `Signature` with keyId and signature. A missing
 * `headers` parameter means `date` only (draft-cavage's default).
 */
export function parseSignatureAuthorization(value: string | undefined): SignatureParameters | null {
  const match = /^Signature\s+(.+)$/i.exec(value?.trim() ?? '')
  if (!match) return null
  const text = match[1] ?? ''
  const parameters = new Map<string, string>()
  PARAMETER.lastIndex = 0
  while (PARAMETER.lastIndex < text.length) {
    const parameter = PARAMETER.exec(text)
    if (!parameter) return null
    parameters.set((parameter[1] ?? '').toLowerCase(), parameter[2] ?? '')
  }
  const keyId = parameters.get('keyid')
  const signature = parameters.get('signature')
  if (!keyId || !signature) return null
  return {
    keyId,
    algorithm: parameters.get('algorithm') ?? '',
    headers: (parameters.get('headers') ?? 'date').toLowerCase().split(/\s+/).filter(Boolean),
    signature,
  }
}

/** Header values as `node:http` hands them over (names lower-cased). */
export type HeaderValues = Readonly<Record<string, string | string[] | undefined>>

/**
 * `name: value` lines joined with `\n`, names lower-cased, values trimmed, in the order given; repeated headers are
 * joined with `, `. `(request-target)` is `<method> <path>`. Null when a listed header is absent.
 */
export function signingString(
  headerNames: readonly string[],
  headers: HeaderValues,
  requestTarget?: { method: string; path: string },
): string | null {
  const lines: string[] = []
  for (const rawName of headerNames) {
    const name = rawName.toLowerCase()
    if (name === '(request-target)') {
      if (!requestTarget) return null
      lines.push(`${name}: ${requestTarget.method.toLowerCase()} ${requestTarget.path}`)
      continue
    }
    const value = headers[name]
    if (value === undefined) return null
    const joined = Array.isArray(value) ? value.map((part) => part.trim()).join(', ') : value.trim()
    lines.push(`${name}: ${joined}`)
  }
  return lines.join('\n')
}

/** RSA PKCS#1 v1.5 with SHA-256 over the signing string; false for a malformed signature too. */
export function verifySignature(text: string, signatureBase64: string, publicKey: KeyObject): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) return false
  try {
    return verify('sha256', Buffer.from(text, 'utf8'), publicKey, Buffer.from(signatureBase64, 'base64'))
  } catch {
    return false
  }
}
