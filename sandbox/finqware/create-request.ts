// Validation of `POST /ais/consents/create` bodies: shape (zod), then Finqware's own rules on scope and provider.
import * as z from '../shared/zod.ts'
import { findBank } from './catalogue.ts'
import { ALLOWED_SCOPES, type FlowType, type ScopeItem } from './consent.ts'
import { methodSelectionError, validationError } from './errors.ts'

/** `consent_validity_days` bounds: max 180 per Finqware's Consents page; the 90-day default is not published, our pick. */
export const CONSENT_VALIDITY_DAYS = { min: 1, max: 180, default: 90 } as const

/**
 * `options.expires_in` bounds. The unit is not published: the sandbox assumes SECONDS (as OAuth's `expires_in`).
 * Max 45 days (Finqware's Consents page). The 1-day default is not published, our pick: long enough for a link sent by e-mail.
 */
export const LINK_EXPIRES_IN_SECONDS = { min: 1, max: 45 * 24 * 3600, default: 24 * 3600 } as const

export interface CreateConsentInput {
  flow: FlowType
  providerId: string | null
  scope: ScopeItem[]
  consentValidityDays: number
  expiresInSeconds: number
  webhookUrl: string | null
  redirectUrl: string | null
}

const httpUrl = z.url({ protocol: /^https?$/ })

// The children of `ais_method`, `consent` and `options` are not published: this nesting and these names are our
// guess (docs/providers.md, Finqware section, says what would confirm them). Null is accepted wherever a field is optional; unknown keys are
// ignored.
const createConsentBody = z.object({
  ais_method: z.nullish(z.object({ provider_id: z.nullish(z.string().check(z.minLength(1), z.maxLength(128))) })),
  consent: z.object({
    scope: z.nullish(z.array(z.string())),
    consent_validity_days: z.nullish(
      z.number().check(z.int(), z.gte(CONSENT_VALIDITY_DAYS.min), z.lte(CONSENT_VALIDITY_DAYS.max)),
    ),
  }),
  options: z.nullish(
    z.object({
      // Default `link`: the only flow that needs nothing from the caller beyond the create call (our guess).
      type: z.nullish(z.enum(['link', 'wrapped_sca', 'direct_sca'])),
      expires_in: z.nullish(
        z.number().check(z.int(), z.gte(LINK_EXPIRES_IN_SECONDS.min), z.lte(LINK_EXPIRES_IN_SECONDS.max)),
      ),
      webhook_url: z.nullish(httpUrl),
      redirect_url: z.nullish(httpUrl),
    }),
  ),
})

/** Throws `validation_error` or `method_selection_error` (400) for a body Finqware would refuse. */
export function parseCreateConsent(body: Record<string, unknown>): CreateConsentInput {
  const parsed = createConsentBody.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
    throw validationError(`${where}${issue?.message ?? 'invalid request body'}`)
  }
  const { ais_method: method, consent, options } = parsed.data
  const flow = options?.type ?? 'link'
  const providerId = method?.provider_id ?? null

  if (providerId !== null && !findBank(providerId)) {
    throw methodSelectionError(`no AIS method matches provider_id "${providerId}"`)
  }
  // wrapped_sca and direct_sca fetch the bank URL at creation, so the bank must be known then (our guess).
  if (providerId === null && flow !== 'link') {
    throw methodSelectionError(`options.type "${flow}" needs ais_method.provider_id`)
  }
  // direct_sca: the bank sends the user back to the caller's own app, so there must be somewhere to send them (our guess).
  if (flow === 'direct_sca' && !options?.redirect_url) {
    throw validationError('options.redirect_url is required for options.type "direct_sca"')
  }

  return {
    flow,
    providerId,
    scope: parseScope(consent.scope),
    consentValidityDays: consent.consent_validity_days ?? CONSENT_VALIDITY_DAYS.default,
    expiresInSeconds: options?.expires_in ?? LINK_EXPIRES_IN_SECONDS.default,
    webhookUrl: options?.webhook_url ?? null,
    redirectUrl: options?.redirect_url ?? null,
  }
}

/** Exactly one of the two allowed sets, in any order, no duplicates; absent means the full set. */
export function parseScope(scope: readonly string[] | null | undefined): ScopeItem[] {
  const fullScope = ALLOWED_SCOPES[0] ?? []
  if (scope === null || scope === undefined) return [...fullScope]
  const requested = [...scope].sort()
  const match = ALLOWED_SCOPES.find(
    (allowed) => allowed.length === requested.length && [...allowed].sort().every((item, i) => item === requested[i]),
  )
  if (!match) {
    const allowed = ALLOWED_SCOPES.map((set) => JSON.stringify(set)).join(' or ')
    throw validationError(`consent.scope must be ${allowed}, got ${JSON.stringify(scope)}`)
  }
  return [...match]
}
