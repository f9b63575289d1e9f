// Turns the schema dialects providers publish (OpenAPI 3.0, Swagger 2.0) into plain JSON Schema draft-07 for ajv, and
// serialises extracted schema files deterministically. Shared by the extraction script and the validator.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

/** Prose and samples: not part of what a body must be, and the repository keeps no provider prose. */
const PROSE = new Set(['description', 'summary', 'example', 'examples', 'title', 'externalDocs'])

/** Keywords that do not constrain a body (`nullable` is rewritten below; `default` is a sample, often prose). */
const DROPPED = new Set(['nullable', 'default', 'xml', 'discriminator', 'readOnly', 'writeOnly', 'deprecated'])

/** Maps whose keys are names (properties, responses by status, definitions, headers), never keywords. */
const NAMED_MAPS = new Set(['properties', 'responses', '$defs', 'definitions', 'headers'])

export const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export interface ConvertOptions {
  /** Where the document keeps named schemas: `#/components/schemas/` (OpenAPI 3) or `#/definitions/` (Swagger 2). */
  readonly refPrefix: string
  /**
   * Anchor `pattern`s (`^(?:...)$`): for documents generated from XML Schema, where a pattern matches the whole value.
   * @default false
   */
  readonly anchorPatterns?: boolean
}

/**
 * One schema in JSON Schema terms: refs point at `#/$defs/<name>`; OpenAPI 3.0's `nullable: true` becomes a `null`
 * type (or an `anyOf` with `{ type: 'null' }` where there is no `type`); draft-04 boolean `exclusiveMinimum`/
 * `exclusiveMaximum` become numbers; prose and examples are dropped. Idempotent.
 */
export function toJsonSchema(schema: Json, options: ConvertOptions): Json {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item, options))
  if (!isObject(schema)) return schema
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(schema)) {
    if (PROSE.has(key) || DROPPED.has(key)) continue
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.startsWith(options.refPrefix) ? `#/$defs/${value.slice(options.refPrefix.length)}` : value
      continue
    }
    if (key === 'pattern' && typeof value === 'string' && options.anchorPatterns) {
      out.pattern = /^\^.*\$$/.test(value) ? value : `^(?:${value})$`
      continue
    }
    if (NAMED_MAPS.has(key) && isObject(value)) {
      // Names in these maps are data, not keywords: a property called `description` and the `default` response
      // (OpenAPI's answer for every status not listed) must survive.
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub, options)]))
      continue
    }
    out[key] = toJsonSchema(value, options)
  }
  for (const bound of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
    const limit = bound === 'exclusiveMinimum' ? 'minimum' : 'maximum'
    if (out[bound] === true && typeof out[limit] === 'number') {
      out[bound] = out[limit]
      delete out[limit]
    } else if (out[bound] === false) delete out[bound]
  }
  if (schema.nullable === true) return nullable(out)
  return out
}

function nullable(schema: JsonObject): JsonObject {
  const { type } = schema
  if (typeof type === 'string') {
    const withNull: JsonObject = { ...schema, type: [type, 'null'] }
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) withNull.enum = [...schema.enum, null]
    return withNull
  }
  if (Array.isArray(type)) return type.includes('null') ? schema : { ...schema, type: [...type, 'null'] }
  return { anyOf: [schema, { type: 'null' }] }
}

/** Every `#/$defs/<name>` the value refers to, directly. */
export function referencedDefs(value: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencedDefs(item, found)
  else if (isObject(value)) {
    for (const [key, sub] of Object.entries(value)) {
      if (key === '$ref' && typeof sub === 'string' && sub.startsWith('#/$defs/')) found.add(sub.slice(8))
      else referencedDefs(sub, found)
    }
  }
  return found
}

/** Keys sorted at every depth (arrays keep their order), two-space indent, final newline: same input, same bytes. */
export function stableStringify(value: Json): string {
  const sort = (item: Json): Json => {
    if (Array.isArray(item)) return item.map(sort)
    if (!isObject(item)) return item
    return Object.fromEntries(
      Object.keys(item)
        .sort()
        .map((key) => [key, sort(item[key] ?? null)]),
    )
  }
  return `${JSON.stringify(sort(value), null, 2)}\n`
}

/** A string or number as text; anything else (absent, an object) as ''. */
export function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? `${value}` : ''
}
