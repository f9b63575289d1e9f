// unit: a provider's refusal as the client sees it: our message and a machine code, never the provider's free text.
import { describe, expect, it } from 'vitest'
import { ProviderRejectedError } from '../../domain/errors.ts'

describe('ProviderRejectedError', () => {
  it("shows our message and the provider's code; the provider's text stays out of the message", () => {
    const error = new ProviderRejectedError('FINQWARE', 'validation_error', 'consent_id: must be a UUID', 400)

    expect(error.message).toBe('FINQWARE refused the request (HTTP 400, validation_error)')
    expect(error.providerCode).toBe('validation_error')
    expect(error.providerMessage).toBe('consent_id: must be a UUID')
  })

  it.each(['lastConfirmedAt must not be in the future', '<script>', '', 'x'.repeat(65)])(
    'shows http_<status> instead of a code that is free text: %j',
    (code) => {
      const error = new ProviderRejectedError('YAPILY', code, 'whatever Yapily said', 400)

      expect(error.providerCode).toBe('http_400')
      expect(error.message).toBe('YAPILY refused the request (HTTP 400, http_400)')
    },
  )
})
