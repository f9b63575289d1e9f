// Configuration from the environment: defaults, one error naming every bad variable, empty meaning unset, and a
// provider offered only when all its settings are there.
import { describe, expect, it } from 'vitest'
import { CONFIG_DEFAULTS, configFromEnv } from '../../service/config.ts'

const REQUIRED = {
  TABLE_NAME: 'consent-gateway',
  PUBLIC_BASE_URL: 'https://api.example.com',
  CURSOR_SECRET: 'c'.repeat(32),
  USER_REFERENCE_KEY: 'u'.repeat(32),
}

const FINQWARE = {
  FINQWARE_BASE_URL: 'https://fq.example',
  FINQWARE_CLIENT_ID: 'fq-client',
  FINQWARE_CLIENT_SECRET: 'fq-secret',
}

describe('configFromEnv', () => {
  it('needs only the table, the public URL, the cursor secret and the user reference key; everything else has its default', () => {
    const config = configFromEnv(REQUIRED)
    expect(config).toMatchObject({
      tableName: 'consent-gateway',
      publicBaseUrl: 'https://api.example.com',
      userReferenceKey: REQUIRED.USER_REFERENCE_KEY,
      ...CONFIG_DEFAULTS,
    })
    expect(config.providers).toEqual({ finqware: undefined, worldline: undefined, yapily: undefined })
  })

  it('names every missing or bad variable in one error', () => {
    expect(() =>
      configFromEnv({ PUBLIC_BASE_URL: 'not a url', CURSOR_SECRET: 'short', USER_REFERENCE_KEY: 'short' }),
    ).toThrow(/TABLE_NAME.*PUBLIC_BASE_URL.*CURSOR_SECRET.*USER_REFERENCE_KEY/)
    expect(() => configFromEnv({ ...REQUIRED, SUBSCRIPTION_MAX_SECONDS: '-5' })).toThrow(/SUBSCRIPTION_MAX_SECONDS/)
  })

  it('reads numbers and flags from their text', () => {
    const config = configFromEnv({ ...REQUIRED, SUBSCRIPTION_POLL_INTERVAL_MS: '250', LOCAL_MODE: 'true' })
    expect(config.subscriptionPollIntervalMs).toBe(250)
    expect(config.localMode).toBe(true)
  })

  it('reads the CORS origins as a list of exact origins, none by default, and refuses anything else', () => {
    expect(configFromEnv(REQUIRED).corsAllowedOrigins).toEqual([])
    expect(
      configFromEnv({ ...REQUIRED, CORS_ALLOWED_ORIGINS: 'https://app.example.com,http://localhost:3000' })
        .corsAllowedOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:3000'])
    for (const bad of [
      '*',
      'https://app.example.com/',
      'https://App.example.com',
      'app.example.com',
      'ftp://x.example',
    ]) {
      expect(() => configFromEnv({ ...REQUIRED, CORS_ALLOWED_ORIGINS: bad }), bad).toThrow(/CORS_ALLOWED_ORIGINS/)
    }
  })

  it('treats an empty variable as unset: defaults apply and the provider is not offered', () => {
    const config = configFromEnv({
      ...REQUIRED,
      ...FINQWARE,
      FINQWARE_BASE_URL: '',
      SUBSCRIPTION_MAX_SECONDS: '',
      YAPILY_BASE_URL: '',
      YAPILY_APPLICATION_KEY: '',
    })
    expect(config.providers.finqware).toBeUndefined()
    expect(config.providers.yapily).toBeUndefined()
    expect(config.subscriptionMaxSeconds).toBe(CONFIG_DEFAULTS.subscriptionMaxSeconds)
    expect(() => configFromEnv({ ...REQUIRED, TABLE_NAME: '' })).toThrow(/TABLE_NAME/)
  })

  it('offers a provider only when all of its settings are present', () => {
    expect(configFromEnv({ ...REQUIRED, ...FINQWARE }).providers.finqware).toEqual({
      baseUrl: 'https://fq.example',
      pathPrefix: '/v2',
      clientId: 'fq-client',
      clientSecret: 'fq-secret',
      authMode: 'oauth2',
    })
    const { FINQWARE_CLIENT_SECRET: _omitted, ...partial } = FINQWARE
    expect(configFromEnv({ ...REQUIRED, ...partial }).providers.finqware).toBeUndefined()
  })

  it("takes Yapily's webhook signature header and consent event type (guesses) from the environment, with defaults", () => {
    const YAPILY = {
      YAPILY_BASE_URL: 'https://api.yapily.example',
      YAPILY_APPLICATION_KEY: 'key',
      YAPILY_APPLICATION_SECRET: 'secret',
    }
    expect(configFromEnv({ ...REQUIRED, ...YAPILY }).providers.yapily).toMatchObject({
      webhookSignatureHeader: 'X-Yapily-Signature',
      webhookConsentEventType: 'consent.status',
    })
    const configured = configFromEnv({
      ...REQUIRED,
      ...YAPILY,
      YAPILY_WEBHOOK_SIGNATURE_HEADER: 'Webhook-Signature',
      YAPILY_WEBHOOK_EVENT_TYPE: 'CONSENT_STATUS_UPDATE',
    })
    expect(configured.providers.yapily).toMatchObject({
      webhookSignatureHeader: 'Webhook-Signature',
      webhookConsentEventType: 'CONSENT_STATUS_UPDATE',
    })
    expect(() => configFromEnv({ ...REQUIRED, ...YAPILY, YAPILY_WEBHOOK_SIGNATURE_HEADER: 'not a header' })).toThrow(
      /YAPILY_WEBHOOK_SIGNATURE_HEADER/,
    )
  })

  it('turns the escaped newlines of a one-line PEM back into newlines', () => {
    const config = configFromEnv({
      ...REQUIRED,
      WORLDLINE_BASE_URL: 'https://wl.example',
      WORLDLINE_CLIENT_ID: 'wl',
      WORLDLINE_KEY_ID: 'kid',
      WORLDLINE_INITIATING_PARTY_ID: '433',
      WORLDLINE_INITIATING_PARTY_SUB_ID: '5',
      WORLDLINE_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----',
      WORLDLINE_NOTIFICATION_TOKEN: 'token',
    })
    expect(config.providers.worldline?.privateKeyPem).toBe(
      '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----',
    )
    expect(config.providers.worldline).toMatchObject({ initiatingPartyId: '433', initiatingPartySubId: '5' })
  })

  it("takes Finqware's OAuth2 bearer mode by default (production's), the body-secret mode and a token URL when told", () => {
    expect(configFromEnv({ ...REQUIRED, ...FINQWARE }).providers.finqware?.authMode).toBe('oauth2')
    expect(
      configFromEnv({
        ...REQUIRED,
        ...FINQWARE,
        FINQWARE_AUTH_MODE: 'internal',
        FINQWARE_TOKEN_URL: 'https://fq.example/auth/token',
      }).providers.finqware,
    ).toMatchObject({ authMode: 'internal', tokenUrl: 'https://fq.example/auth/token' })
    expect(() => configFromEnv({ ...REQUIRED, ...FINQWARE, FINQWARE_AUTH_MODE: 'bearer' })).toThrow(
      /FINQWARE_AUTH_MODE/,
    )
    expect(() => configFromEnv({ ...REQUIRED, ...FINQWARE, FINQWARE_TOKEN_URL: 'not a url' })).toThrow(
      /FINQWARE_TOKEN_URL/,
    )
  })
})
