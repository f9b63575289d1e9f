// Secrets of a local run, generated once and kept beside the data (so cursors and demo credentials survive a
// restart), or fresh in memory with --in-memory. Never used on AWS, where sst.Secret holds the real ones.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface LocalSecrets {
  readonly cursorSecret: string
  /** Derives the user reference each provider is told (never the partner's raw user id). */
  readonly userReferenceKey: string
  /** `local:<32 bytes base64>`: seals provider-issued consent tokens (Yapily) at rest. */
  readonly tokenEncryptionKeys: string
  readonly demoClientId: string
  readonly demoClientSecret: string
}

const generate = (): LocalSecrets => ({
  cursorSecret: randomBytes(32).toString('base64url'),
  userReferenceKey: randomBytes(32).toString('base64url'),
  tokenEncryptionKeys: `local:${randomBytes(32).toString('base64')}`,
  demoClientId: `demo-${randomBytes(4).toString('hex')}`,
  demoClientSecret: randomBytes(24).toString('base64url'),
})

/** Reads `<dataDir>/local-secrets.json`, creating it on first use; `null` dataDir keeps them in memory only. */
export async function loadLocalSecrets(dataDir: string | null): Promise<LocalSecrets> {
  if (dataDir === null) return generate()
  const file = join(dataDir, 'local-secrets.json')
  const stored = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as Partial<LocalSecrets>)
    .catch(() => ({}))
  // A file from an older version may lack newer secrets: keep what is there, add what is missing.
  const secrets: LocalSecrets = { ...generate(), ...stored }
  if (Object.keys(generate()).some((name) => !(name in stored))) {
    await mkdir(dataDir, { recursive: true })
    await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  }
  return secrets
}

/** The demo API client: fixed by CONSENT_GATEWAY_DEMO_CLIENT_ID / _SECRET when set, else the generated pair. */
export function demoCredentials(
  secrets: LocalSecrets,
  env: NodeJS.ProcessEnv,
): { clientId: string; clientSecret: string } {
  return {
    clientId: env.CONSENT_GATEWAY_DEMO_CLIENT_ID || secrets.demoClientId,
    clientSecret: env.CONSENT_GATEWAY_DEMO_CLIENT_SECRET || secrets.demoClientSecret,
  }
}
