// The caller a WebSocket connection acknowledged, as its connection and subscription items store it, so another
// invocation can restore it and check again that its credential holds (service/principal.ts). Never a secret: a Basic
// credential keeps only a fingerprint of WHICH stored hash its secret matched (the current one, or the one a rotation
// replaced).
import * as z from '../domain/zod.ts'
import { orNull } from './entity.ts'

export type StoredPrincipal =
  | {
      readonly kind: 'API_CLIENT'
      readonly credential: 'BASIC'
      readonly tenantId: string
      readonly clientId: string
      /** SHA-256 (base64url) of the stored secret hash the secret verified against. */
      readonly secretHashFingerprint: string
    }
  | {
      readonly kind: 'API_CLIENT'
      readonly credential: 'BEARER'
      readonly tenantId: string
      readonly clientId: string
      readonly tokenId: string
      /** Epoch ms. */
      readonly expiresAt: number
    }
  | {
      readonly kind: 'END_USER'
      readonly tenantId: string
      readonly clientId: string
      readonly userId: string
      readonly scopes: readonly string[]
      /** Internal consent ids the token is restricted to; null: every consent of the user. */
      readonly consentIds: readonly string[] | null
      readonly tokenId: string
      /** Epoch ms. */
      readonly issuedAt: number
      /** Epoch ms. */
      readonly expiresAt: number
    }

/** The stored principal's shape, checked wherever an item carrying one is read. */
export const storedPrincipalSchema: z.ZodMiniType<StoredPrincipal> = z.lazy(() =>
  z.union([
    z.object({
      kind: z.literal('API_CLIENT'),
      credential: z.literal('BASIC'),
      tenantId: z.string(),
      clientId: z.string(),
      secretHashFingerprint: z.string(),
    }),
    z.object({
      kind: z.literal('API_CLIENT'),
      credential: z.literal('BEARER'),
      tenantId: z.string(),
      clientId: z.string(),
      tokenId: z.string(),
      expiresAt: z.number(),
    }),
    z.object({
      kind: z.literal('END_USER'),
      tenantId: z.string(),
      clientId: z.string(),
      userId: z.string(),
      scopes: z.array(z.string()),
      consentIds: orNull(z.array(z.string())),
      tokenId: z.string(),
      issuedAt: z.number(),
      expiresAt: z.number(),
    }),
  ]),
)
