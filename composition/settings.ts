// Where a deployed function's configuration comes from: the secrets SST links to it (`Resource`: decrypted at the
// first read from the resource.enc file SST puts in the bundle, with the key in `SST_KEY`), over its environment
// variables (the table, the public URL; and everything where nothing is linked, as for a bundle run by hand). Secrets
// are linked rather than set as variables: Lambda shows variables to whoever may read the function's configuration and
// allows 4 KB of them in all, which a Worldline RSA key nearly fills on its own.
import { Resource } from 'sst/resource'
import { configFromEnv, type GatewayConfig } from '../service/config.ts'

/**
 * The variable a linked secret stands for: its link name in upper snake case.
 * @example
 * variableOfLink('WorldlinePrivateKey') // 'WORLDLINE_PRIVATE_KEY'
 */
export const variableOfLink = (name: string): string => name.replace(/(?<=[a-z0-9])(?=[A-Z])/g, '_').toUpperCase()

/** The linked secrets among linked resources, by the variable each stands for. An `sst.Secret` links as `{ value }`. */
export function linkedSecrets(resources: object): Record<string, string> {
  const secrets: Record<string, string> = {}
  for (const [name, resource] of Object.entries(resources)) {
    const value: unknown = (resource as { value?: unknown } | null)?.value
    if (typeof value === 'string') secrets[variableOfLink(name)] = value
  }
  return secrets
}

/**
 * A function's configuration: its linked secrets over its environment. Where SST links nothing (no `SST_KEY_FILE`,
 * no `SST_RESOURCE_*` variable), `Resource` is empty and the environment alone counts.
 */
export function deployedConfig(env: NodeJS.ProcessEnv = process.env, resources: object = Resource): GatewayConfig {
  return configFromEnv({ ...env, ...linkedSecrets(resources) })
}
