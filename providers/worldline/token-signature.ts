// The HTTP signature of Worldline's token request (docs/providers.md, Worldline evidence: Auth): draft-cavage, RSA-SHA256 over the lowercased
// header names and trimmed values of `app client id date`, joined with newlines.
import { createSign } from 'node:crypto'

export const SIGNED_HEADERS = ['app', 'client', 'id', 'date'] as const

export function signingString(headers: Readonly<Record<(typeof SIGNED_HEADERS)[number], string>>): string {
  return SIGNED_HEADERS.map((name) => `${name}: ${headers[name].trim()}`).join('\n')
}

/** The `Authorization` header value for a token request carrying `headers`. */
export function signatureAuthorization(
  headers: Readonly<Record<(typeof SIGNED_HEADERS)[number], string>>,
  keyId: string,
  privateKeyPem: string,
): string {
  const signature = createSign('RSA-SHA256').update(signingString(headers)).sign(privateKeyPem, 'base64')
  return `Signature keyId="${keyId}", algorithm="SHA256withRSA", headers="${SIGNED_HEADERS.join(' ')}", signature="${signature}"`
}
