// Secrets of a local run, generated once and kept beside the data (so cursors, demo credentials and what the sandboxes
// know of us survive a restart), or fresh in memory with --in-memory. Never used on AWS, where sst.Secret holds the
// real ones.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { newSigningKey } from '../crypto/token-keys.ts'

export interface LocalSecrets {
  readonly cursorSecret: string
  /** Derives the user reference each provider is told (never the partner's raw user id). */
  readonly userReferenceKey: string
  /** `local:<32 bytes base64>`: seals provider-issued consent tokens (Yapily) at rest. */
  readonly tokenEncryptionKeys: string
  /**
   * Signs access tokens (`/oauth/token`, `createUserToken`): a JSON array of private EC P-256 JWKs, signing key
   * first. Rotate by putting a new key first (`newSigningKey()` in crypto/token-keys.ts) and dropping the old one an
   * hour later; delete the entry to start over with one new key.
   */
  readonly tokenSigningKeys: string
  readonly demoClientId: string
  readonly demoClientSecret: string
  /** Guards the sandboxes' `/__sandbox/` controls and the gateway's `/local/clock` (`X-Control-Secret`). */
  readonly controlSecret: string
  /** Our RSA key (PKCS#8 PEM) that signs Worldline token requests; the sandbox knows its public half. */
  readonly worldlinePrivateKeyPem: string
  /** The bearer token Worldline's notifications carry. */
  readonly worldlineNotificationToken: string
  /** Our Yapily application secret (Basic auth). */
  readonly yapilyApplicationSecret: string
}

const GENERATORS: { readonly [Name in keyof LocalSecrets]: () => string } = {
  cursorSecret: () => randomBytes(32).toString('base64url'),
  userReferenceKey: () => randomBytes(32).toString('base64url'),
  tokenEncryptionKeys: () => `local:${randomBytes(32).toString('base64')}`,
  tokenSigningKeys: () => JSON.stringify([newSigningKey()]),
  demoClientId: () => `demo-${randomBytes(4).toString('hex')}`,
  demoClientSecret: () => randomBytes(24).toString('base64url'),
  controlSecret: () => randomBytes(18).toString('base64url'),
  worldlinePrivateKeyPem: () =>
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  worldlineNotificationToken: () => randomBytes(24).toString('base64url'),
  yapilyApplicationSecret: () => randomBytes(24).toString('base64url'),
}

/** Every secret `stored` lacks, generated (each only when missing: an RSA key takes a moment). */
const complete = (stored: Partial<Record<string, unknown>>): LocalSecrets =>
  Object.fromEntries(
    Object.entries(GENERATORS).map(([name, generate]) => {
      const value = stored[name]
      return [name, typeof value === 'string' && value !== '' ? value : generate()]
    }),
  ) as unknown as LocalSecrets

/** Reads `<dataDir>/local-secrets.json`, creating it on first use; `null` dataDir keeps them in memory only. */
export async function loadLocalSecrets(dataDir: string | null): Promise<LocalSecrets> {
  if (dataDir === null) return complete({})
  const file = join(dataDir, 'local-secrets.json')
  const stored: Partial<Record<string, unknown>> = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as Partial<Record<string, unknown>>)
    .catch(() => ({}))
  // A file from an older version may lack newer secrets: keep what is there, add what is missing.
  const secrets = { ...stored, ...complete(stored) }
  if (Object.keys(GENERATORS).some((name) => stored[name] !== secrets[name as keyof LocalSecrets])) {
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
