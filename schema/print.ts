// Prints the schema to schema/schema.graphql, or with --check fails when the committed file differs (CI drift check).
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { lexicographicSortSchema, printSchema } from 'graphql'
import { schema } from './index.ts'

const target = fileURLToPath(new URL('./schema.graphql', import.meta.url))
const printed = `${printSchema(lexicographicSortSchema(schema))}\n`

if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '')
  if (committed !== printed) {
    console.error('schema/schema.graphql is out of date: run `npm run schema:print` and commit the result.')
    process.exit(1)
  }
  console.log('schema/schema.graphql is up to date.')
} else {
  await writeFile(target, printed)
  console.log(`Wrote ${target}`)
}
