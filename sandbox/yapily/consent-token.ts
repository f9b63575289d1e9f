// The `consentToken`: JWT-shaped like Yapily's (header.payload.signature, base64url), but opaque to clients.
import { randomBytes } from 'node:crypto'
import type { YapilyConsent } from './consent.ts'

/**
 * Header and payload mimic the real token (its claims appear in the spec's examples); the third part is 64 random
 * bytes, not a signature, so the token cannot be guessed from the consent's ids. Nobody should verify it.
 */
export function mintConsentToken(
  consent: Pick<YapilyConsent, 'id' | 'institutionId' | 'applicationUserId' | 'userUuid'>,
): string {
  const header = { typ: 'JWT', alg: 'HS512' }
  const payload = {
    INSTITUTION: consent.institutionId,
    CONSENT: consent.id,
    APPLICATION_USER_ID: consent.applicationUserId,
    USER: consent.userUuid,
  }
  return [encode(header), encode(payload), randomBytes(64).toString('base64url')].join('.')
}

function encode(part: object): string {
  return Buffer.from(JSON.stringify(part), 'utf8').toString('base64url')
}
