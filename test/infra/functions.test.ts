// infra/secrets.ts and infra/functions.ts, deployed offline: what every function is given (its environment and its
// links), read back through the real composition/settings.ts and configFromEnv, so a misnamed secret or an unset
// provider shows up here rather than at a cold start.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { CREATE_REQUIRE_BANNER, FUNCTION_BUNDLING, FUNCTION_NODEJS, FUNCTION_RUNTIME } from '../../scripts/bundling.ts'
import { deployOffline, REQUIRED_SECRETS, valueOf } from './support/sst-offline.ts'

/** The part of service/config.ts these tests read. */
interface ServiceConfig {
  configFromEnv: (env: Record<string, string>) => {
    tableName: string
    publicBaseUrl: string
    cursorSecret: string
    userReferenceKey: string
    tokenEncryptionKeys?: string | undefined
    tokenSigningKeys?: string | undefined
    corsAllowedOrigins?: readonly string[] | undefined
    providers: Record<'finqware' | 'worldline' | 'yapily', unknown>
  }
}
/** The part of composition/settings.ts these tests read: what a deployed function runs `configFromEnv` on. */
interface DeployedSettings {
  deployedConfig: (env: Record<string, string>, resources: object) => ReturnType<ServiceConfig['configFromEnv']>
  variableOfLink: (name: string) => string
}
// Loaded at run time but kept out of infra/tsconfig.json's program (a non-literal specifier is not followed): the
// platform's types bring Bun's fetch types, under which the app's Node fetch code does not compile (tried: `Headers`
// in providers/http-client.ts).
const DEPLOYED_SETTINGS = '../../composition/settings.ts'
const { deployedConfig, variableOfLink } = (await import(DEPLOYED_SETTINGS)) as DeployedSettings

const API_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com'

const PROVIDER_SECRETS = {
  FinqwareBaseUrl: 'https://env.finqware.example',
  FinqwareClientId: 'fq-client',
  FinqwareClientSecret: 'fq-secret',
  FinqwarePathPrefix: '/test',
  FinqwareAuthMode: 'internal',
  FinqwareTokenUrl: 'https://env.finqware.example/auth/token',
  WorldlineBaseUrl: 'https://xs2a.worldline.example',
  WorldlineClientId: 'wl-client',
  WorldlineKeyId: 'wl-key-id',
  WorldlineInitiatingPartyId: '433',
  WorldlineInitiatingPartySubId: '5',
  WorldlinePrivateKey: '-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----',
  WorldlineNotificationToken: 'wl-token',
  YapilyBaseUrl: 'https://api.yapily.example',
  YapilyApplicationKey: 'ya-key',
  YapilyApplicationSecret: 'ya-secret',
  YapilyWebhookSecret: 'ya-webhook',
  YapilyWebhookSignatureHeader: 'Yapily-Signature',
  YapilyWebhookEventType: 'CONSENT_STATUS_UPDATE',
}

/** Settings that are not a provider's: the web origins allowed to read the API. */
const OTHER_SETTINGS = { CorsAllowedOrigins: 'https://app.partner.example,https://admin.partner.example' }

async function functionSettings(secrets: Record<string, string>) {
  const deployment = await deployOffline(
    'ci',
    async () => {
      const { gatewayFunction } = await import('../../infra/functions.ts')
      const secretsModule = await import('../../infra/secrets.ts')
      return { settings: gatewayFunction(API_URL), secrets: secretsModule }
    },
    { secrets },
  )
  const { settings, secrets: secretsModule } = deployment.module
  // What `Resource` holds in the function: each linked secret's link properties under its name (SST encrypts them
  // into the bundle's resource.enc).
  const linked = await Promise.all(
    Object.values(secretsModule.SECRET_VARIABLES).map(
      async (secret) => [await valueOf(secret.name), { value: await valueOf(secret.value) }] as const,
    ),
  )
  const environment: Record<string, string> = await valueOf(settings.environment)
  const config = deployedConfig(environment, Object.fromEntries(linked))
  return { settings, secretsModule, environment, config, deployment }
}

describe('the settings of every gateway function', () => {
  it('starts the gateway with no provider when a stage sets only the required secrets', async () => {
    // Act
    const { environment, config, deployment } = await functionSettings(REQUIRED_SECRETS)

    // Assess
    expect(config.tableName).toBe(deployment.one('aws:dynamodb/table:Table').inputs.name)
    expect(config.publicBaseUrl).toBe(API_URL)
    expect(config.cursorSecret).toBe(REQUIRED_SECRETS.CursorSecret)
    expect(config.userReferenceKey).toBe(REQUIRED_SECRETS.UserReferenceKey)
    expect(config.tokenEncryptionKeys).toBe(REQUIRED_SECRETS.TokenEncryptionKeys)
    expect(config.tokenSigningKeys).toBe(REQUIRED_SECRETS.TokenSigningKeys)
    expect(config.providers).toEqual({ finqware: undefined, worldline: undefined, yapily: undefined })
    // No web origin may read the API's answers unless the stage names it.
    expect(config.corsAllowedOrigins).toEqual([])
    // The secrets come linked: the environment, which the Lambda console shows, holds the table and the URL only.
    expect(environment).toEqual({ TABLE_NAME: config.tableName, PUBLIC_BASE_URL: API_URL })
  })

  it('puts no secret in the environment, however many are set', async () => {
    // Act
    const { environment } = await functionSettings({ ...REQUIRED_SECRETS, ...PROVIDER_SECRETS, ...OTHER_SETTINGS })

    // Assess
    expect(Object.keys(environment).sort()).toEqual(['PUBLIC_BASE_URL', 'TABLE_NAME'])
  })

  it('offers every provider whose secrets are set, each setting under the name configFromEnv reads', async () => {
    // Act
    const {
      config: { providers },
    } = await functionSettings({ ...REQUIRED_SECRETS, ...PROVIDER_SECRETS })

    // Assess
    expect(providers.finqware).toEqual({
      baseUrl: PROVIDER_SECRETS.FinqwareBaseUrl,
      pathPrefix: PROVIDER_SECRETS.FinqwarePathPrefix,
      clientId: PROVIDER_SECRETS.FinqwareClientId,
      clientSecret: PROVIDER_SECRETS.FinqwareClientSecret,
      authMode: PROVIDER_SECRETS.FinqwareAuthMode,
      tokenUrl: PROVIDER_SECRETS.FinqwareTokenUrl,
    })
    expect(providers.worldline).toEqual({
      baseUrl: PROVIDER_SECRETS.WorldlineBaseUrl,
      clientId: PROVIDER_SECRETS.WorldlineClientId,
      keyId: PROVIDER_SECRETS.WorldlineKeyId,
      initiatingPartyId: PROVIDER_SECRETS.WorldlineInitiatingPartyId,
      initiatingPartySubId: PROVIDER_SECRETS.WorldlineInitiatingPartySubId,
      privateKeyPem: PROVIDER_SECRETS.WorldlinePrivateKey.replace(/\\n/g, '\n'),
      notificationToken: PROVIDER_SECRETS.WorldlineNotificationToken,
    })
    expect(providers.yapily).toEqual({
      baseUrl: PROVIDER_SECRETS.YapilyBaseUrl,
      applicationKey: PROVIDER_SECRETS.YapilyApplicationKey,
      applicationSecret: PROVIDER_SECRETS.YapilyApplicationSecret,
      webhookSecret: PROVIDER_SECRETS.YapilyWebhookSecret,
      webhookSignatureHeader: PROVIDER_SECRETS.YapilyWebhookSignatureHeader,
      webhookConsentEventType: PROVIDER_SECRETS.YapilyWebhookEventType,
    })
  })

  it('lets a stage name the web origins that may read the API, under the name configFromEnv reads', async () => {
    // Act
    const { config } = await functionSettings({ ...REQUIRED_SECRETS, ...OTHER_SETTINGS })

    // Assess
    expect(config.corsAllowedOrigins).toEqual(OTHER_SETTINGS.CorsAllowedOrigins.split(','))
  })

  it('makes the cursor secret, the user reference key, the token keys and the token signing keys required, and every provider secret and setting optional', async () => {
    // Prepare
    const { secretsModule } = await functionSettings(REQUIRED_SECRETS)
    const { SECRET_VARIABLES } = secretsModule

    // Assess
    const required = ['CURSOR_SECRET', 'USER_REFERENCE_KEY', 'TOKEN_ENCRYPTION_KEYS', 'TOKEN_SIGNING_KEYS']
    for (const name of required) {
      expect(SECRET_VARIABLES[name as keyof typeof SECRET_VARIABLES].placeholder, name).toBeUndefined()
    }
    const optional = Object.entries(SECRET_VARIABLES).filter(([name]) => !required.includes(name))
    expect(optional).toHaveLength(Object.keys(PROVIDER_SECRETS).length + Object.keys(OTHER_SETTINGS).length)
    for (const [, secret] of optional) expect(await valueOf(secret.placeholder ?? 'none')).toBe('')
  })
})

describe('the bundling every gateway function gets', () => {
  it('hands SST the runtime and the nodejs settings of scripts/bundling.ts, unchanged', async () => {
    // Prepare
    const { settings } = await functionSettings(REQUIRED_SECRETS)

    // Assess
    expect(settings.runtime).toBe(FUNCTION_RUNTIME)
    expect(settings.nodejs).toStrictEqual(FUNCTION_NODEJS)
  })

  it('bundles locally as SST will: same format, minification, splitting and externals', () => {
    // Assess
    expect(FUNCTION_BUNDLING).toMatchObject({
      format: FUNCTION_NODEJS.format,
      minify: FUNCTION_NODEJS.minify,
      splitting: FUNCTION_NODEJS.splitting,
    })
    // SST leaves out what `nodejs.esbuild.external` names (nothing by default); the local build must leave out the same.
    const nodejs: sst.aws.FunctionArgs['nodejs'] = FUNCTION_NODEJS
    const sstExternal = (nodejs as { esbuild?: { external?: string[] } }).esbuild?.external ?? []
    expect([...FUNCTION_BUNDLING.external].sort()).toEqual([...sstExternal].sort())
  })

  it('passes SST no banner: its CLI prepends the createRequire lines itself, a second `require` would not load', async () => {
    // Prepare
    const { settings } = await functionSettings(REQUIRED_SECRETS)
    const nodejs = settings.nodejs as { banner?: string; esbuild?: { banner?: unknown } }
    // The CLI's Go binary (pkg/runtime/node): where the banner SST prepends to ESM functions is written.
    const cli = readFileSync(createRequire(import.meta.url).resolve(`sst-${process.platform}-${process.arch}/bin/sst`))

    // Assess
    expect(settings.nodejs.format).toBe('esm')
    expect(nodejs.banner).toBeUndefined()
    expect(nodejs.esbuild?.banner).toBeUndefined()
    // The local build's banner (scripts/bundling.ts) is SST's, line for line; SST quotes some lines with ".
    for (const line of CREATE_REQUIRE_BANNER.split('\n')) {
      expect(cli.includes(line) || cli.includes(line.replaceAll("'", '"')), line).toBe(true)
    }
  })

  it('links the table (DynamoDB permissions follow the link) and every secret, each named after the variable configFromEnv reads', async () => {
    // Prepare
    const { settings, secretsModule, deployment } = await functionSettings(REQUIRED_SECRETS)
    const secrets = Object.entries(secretsModule.SECRET_VARIABLES)

    // Assess
    expect(settings.link).toHaveLength(1 + secrets.length)
    expect(await valueOf(settings.link[0].name)).toBe(deployment.one('aws:dynamodb/table:Table').inputs.name)
    for (const [variable, secret] of secrets) {
      expect(settings.link, variable).toContain(secret)
      expect(variableOfLink(await valueOf(secret.name)), variable).toBe(variable)
    }
  })
})
