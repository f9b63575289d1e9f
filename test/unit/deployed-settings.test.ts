// composition/settings.ts: a deployed function's configuration from the secrets SST links to it (`Resource`) over its
// environment. The last test runs the reader in its own process on a resource.enc sealed as SST seals it
// (AES-256-GCM under SST_KEY, a zero nonce, the tag last), with no secret in the environment.
import { execFile } from 'node:child_process'
import { createCipheriv, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { deployedConfig, linkedSecrets, variableOfLink } from '../../composition/settings.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const ENVIRONMENT = { TABLE_NAME: 'consent-gateway', PUBLIC_BASE_URL: 'https://api.example' }
const LINKED = {
  App: { name: 'consent-gateway', stage: 'ci' },
  Table: { name: 'consent-gateway', type: 'sst.aws.Dynamo' },
  CursorSecret: { value: 'c'.repeat(48), type: 'sst.sst.Secret' },
  UserReferenceKey: { value: 'u'.repeat(48), type: 'sst.sst.Secret' },
  YapilyBaseUrl: { value: '', type: 'sst.sst.Secret' },
}

describe('a deployed function configuration', () => {
  it.each([
    ['CursorSecret', 'CURSOR_SECRET'],
    ['WorldlinePrivateKey', 'WORLDLINE_PRIVATE_KEY'],
    ['WorldlineInitiatingPartySubId', 'WORLDLINE_INITIATING_PARTY_SUB_ID'],
    ['CorsAllowedOrigins', 'CORS_ALLOWED_ORIGINS'],
  ])('reads the linked secret %s as %s', (link, variable) => {
    expect(variableOfLink(link)).toBe(variable)
  })

  it('takes the linked secrets only, not the table or the app', () => {
    expect(linkedSecrets(LINKED)).toEqual({
      CURSOR_SECRET: LINKED.CursorSecret.value,
      USER_REFERENCE_KEY: LINKED.UserReferenceKey.value,
      YAPILY_BASE_URL: '',
    })
  })

  it('reads linked secrets over the environment, and an empty one as unset', () => {
    // Act
    const config = deployedConfig({ ...ENVIRONMENT, CURSOR_SECRET: 'e'.repeat(48) }, LINKED)

    // Assess
    expect(config.cursorSecret).toBe(LINKED.CursorSecret.value)
    expect(config.userReferenceKey).toBe(LINKED.UserReferenceKey.value)
    expect(config.tableName).toBe(ENVIRONMENT.TABLE_NAME)
    expect(config.providers.yapily).toBeUndefined()
  })

  it('reads the environment alone where nothing is linked', () => {
    // Act: this process has no SST variables, so `Resource` holds nothing.
    const config = deployedConfig({ ...ENVIRONMENT, CURSOR_SECRET: 'e'.repeat(48), USER_REFERENCE_KEY: 'k'.repeat(48) })

    // Assess
    expect(config.cursorSecret).toBe('e'.repeat(48))
  })

  it('reads the secrets SST sealed into the bundle, with none in the environment', async () => {
    // Prepare: resource.enc as SST's builder writes it and sst/resource opens it.
    const key = randomBytes(32)
    const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 0))
    const sealed = Buffer.concat([cipher.update(JSON.stringify(LINKED)), cipher.final(), cipher.getAuthTag()])
    const bundle = mkdtempSync(join(tmpdir(), 'resource-enc-'))
    writeFileSync(join(bundle, 'resource.enc'), sealed)
    const script = `const { deployedConfig } = await import(${JSON.stringify(join(ROOT, 'composition/settings.ts'))})
const { cursorSecret, userReferenceKey, tableName } = deployedConfig()
console.log(JSON.stringify({ cursorSecret, userReferenceKey, tableName }))`

    // Act
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          ...ENVIRONMENT,
          SST_KEY: key.toString('base64'),
          // Lambda's is relative to the bundle (its working directory); this one is elsewhere.
          SST_KEY_FILE: join(bundle, 'resource.enc'),
          SST_RESOURCE_App: JSON.stringify(LINKED.App),
        },
      },
    )

    // Assess
    expect(JSON.parse(stdout)).toEqual({
      cursorSecret: LINKED.CursorSecret.value,
      userReferenceKey: LINKED.UserReferenceKey.value,
      tableName: ENVIRONMENT.TABLE_NAME,
    })
  })
})
