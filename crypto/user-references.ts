// The user reference a provider knows a consent's user by: derived from the tenant and the partner's own user id with
// a key of its own, so every tenant's users are distinct at a provider account all tenants share (Worldline keeps one
// active consent per PSU and bank), and the partner's raw id never leaves the gateway.
import { createHmac } from 'node:crypto'

/** 20 bytes of HMAC-SHA256, hex: 160 bits, lower-case letters and digits only (safe in a URL path, any field). */
const REFERENCE_BYTES = 20

export class UserReferences {
  readonly #key: Buffer

  /** @param secret key material (at least 32 characters); a purpose-specific key is derived from it. */
  constructor(secret: string) {
    if (secret.length < 32) throw new Error('the user reference key must be at least 32 characters')
    this.#key = createHmac('sha256', secret).update('consent-gateway/provider-user-reference').digest()
  }

  /**
   * The same (tenant, user) always gives the same reference under one key; two tenants' `user-1` never do. The pair is
   * encoded unambiguously (a JSON array), so no choice of ids makes two different pairs read alike.
   */
  for(tenantId: string, userId: string): string {
    return createHmac('sha256', this.#key)
      .update(JSON.stringify([tenantId, userId]))
      .digest()
      .subarray(0, REFERENCE_BYTES)
      .toString('hex')
  }
}
