// The value of TOKEN_SIGNING_KEYS (the SST secret TokenSigningKeys), made and rotated without copying key material by
// hand: `new` prints a list of one fresh key; `rotate <current>` puts a fresh key first (it signs from the next
// deploy; the old ones still verify); `drop-old <current>` keeps only the first, once the old key's tokens have expired
// (an hour after the rotation: the longest user token). `<current>` may be `-` to read it from stdin. Exit code 2
// and nothing printed on stdout for anything wrong.
//
//   npx sst secret set TokenSigningKeys "$(npx tsx scripts/token-signing-keys.ts new)" --stage prod
//   npx sst secret set TokenSigningKeys "$(npx tsx scripts/token-signing-keys.ts rotate "$CURRENT")" --stage prod
import { readFileSync } from 'node:fs'
import { newSigningKey, parseSigningKeys } from '../crypto/token-keys.ts'

const USAGE = 'usage: token-signing-keys.ts new | rotate <current value or -> | drop-old <current value or ->'

/** The new value for a command, or throws with what is wrong. */
export function nextSigningKeys(command: string | undefined, current: string | undefined): string {
  if (command === 'new') return JSON.stringify([newSigningKey()])
  if (command !== 'rotate' && command !== 'drop-old') throw new Error(USAGE)
  if (current === undefined) throw new Error(USAGE)
  // Parsed first: a value that does not verify as keys is never extended or cut.
  const keys = parseSigningKeys(current)
  const entries = JSON.parse(current) as unknown[]
  if (command === 'rotate') return JSON.stringify([newSigningKey(), ...entries])
  if (keys.length < 2) throw new Error('drop-old: there is only one key, the one that signs')
  return JSON.stringify(entries.slice(0, 1))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, argument] = process.argv.slice(2)
  try {
    const current = argument === '-' ? readFileSync(0, 'utf8').trim() : argument
    process.stdout.write(`${nextSigningKeys(command, current)}\n`)
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(2)
  }
}
