// Re-extracts, from a provider's published API document, the schema parts the contract tests validate against
// (test/contract/schemas/<provider>/): the operations our adapter calls and our simulator serves, with their
// parameters, request and response schemas, and every named schema those reach; no prose. Same document, same bytes.
//
//   npx tsx scripts/extract-provider-schemas.ts yapily <Yapily's OpenAPI document (JSON or YAML)>
//   npx tsx scripts/extract-provider-schemas.ts worldline <a Worldline spec, or a folder of them> [...more]
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { load } from 'js-yaml'
import {
  isObject,
  text,
  referencedDefs,
  stableStringify,
  toJsonSchema,
  type ConvertOptions,
  type Json,
  type JsonObject,
} from './json-schema.ts'

interface DocumentPlan {
  /** The document's `info.title`, which picks this plan. */
  readonly title: string
  /** The name we cite it by, where its own title says little (Worldline's OAuth spec is titled "Administration"). */
  readonly name: string
  readonly output: string
  /** `METHOD /path` as the document writes it (relative to its base path). */
  readonly operations: readonly string[]
  /** Named schemas kept even when no kept operation reaches them. */
  readonly defs?: readonly string[]
  /** Keep the document's shared `components.responses` (an error model applied to paths it does not publish). */
  readonly sharedResponses?: boolean
  /** Shared `components.parameters` kept by name (headers every operation of the service requires). */
  readonly sharedParameters?: readonly string[]
  readonly anchorPatterns?: boolean
  /** Named schema that replaces the request bodies' published schema, with the reason written into the file. */
  readonly narrowRequestBody?: { readonly to: string; readonly why: string }
}

interface ProviderPlan {
  /** The provider's public documentation site, where the documents are published. */
  readonly publicUrl: string
  readonly documents: readonly DocumentPlan[]
}

const PLANS: Record<string, ProviderPlan> = {
  yapily: {
    publicUrl: 'https://docs.yapily.com',
    documents: [
      {
        title: 'Yapily API',
        name: 'Yapily API',
        output: 'yapily-api.json',
        operations: [
          'GET /institutions',
          'POST /account-auth-requests',
          'PATCH /account-auth-requests',
          'POST /embedded-account-auth-requests',
          'PUT /embedded-account-auth-requests/{consentId}',
          'GET /consents',
          'GET /consents/{consentId}',
          'DELETE /consents/{consentId}',
          'POST /consents/{consentId}/extend',
          'GET /accounts',
          'GET /webhook/events/categories',
          'POST /webhook/events',
          'GET /webhook/events',
          'DELETE /webhook/events/{webhook_id}',
        ],
      },
    ],
  },
  worldline: {
    publicUrl: 'https://financial-services.developer.worldline.com',
    // Worldline's specs are generated from XML Schema (their `xml.namespace` is urn:eu:xs2a:xsd:v1), where a pattern
    // matches the whole value: `[0-9]{1,3}` is one to three digits, not "contains a digit".
    documents: [
      {
        title: 'Administration',
        name: 'Worldline Open Banking OAuth (Token Administration)',
        output: 'oauth-token.json',
        operations: ['POST /token'],
        anchorPatterns: true,
      },
      {
        title: 'Open Banking Notification',
        name: 'Worldline Open Banking Notification',
        output: 'notification.json',
        operations: ['POST /status'],
        anchorPatterns: true,
        narrowRequestBody: {
          to: 'ConsentDetailedInformation',
          why: 'the published body is oneOf ConsentDetailedInformation / PaymentDetailedInformation, and the payment variant requires nothing and allows any property, so every consent body matches both and oneOf would refuse it; we receive only AIS (consent) notifications',
        },
      },
      {
        title: 'Open Banking Payment Initiation Service',
        name: 'Worldline Open Banking Payment Initiation Service (its error model, shared with AIS)',
        output: 'error-model.json',
        operations: [],
        defs: ['Error'],
        sharedResponses: true,
        sharedParameters: ['X-Request-ID', 'MessageCreateDateTime'],
        anchorPatterns: true,
      },
    ],
  },
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])

/** The extracted schema file for one published document. */
export function extractDocument(provider: string, document: JsonObject): { output: string; content: JsonObject } {
  const plan = PLANS[provider]
  if (!plan) throw new Error(`unknown provider ${provider}; known: ${Object.keys(PLANS).join(', ')}`)
  const info = isObject(document.info) ? document.info : {}
  const title = typeof info.title === 'string' ? info.title : ''
  const version = text(info.version)
  const documentPlan = plan.documents.find((candidate) => candidate.title === title)
  if (!documentPlan) throw new Error(`${provider}: no plan for a document titled "${title}"`)
  const swagger2 = typeof document.swagger === 'string'
  const dialect = swagger2 ? `Swagger ${text(document.swagger)}` : `OpenAPI ${text(document.openapi)}`
  const components = isObject(document.components) ? document.components : {}
  const named = (swagger2 ? document.definitions : components.schemas) ?? {}
  const convert: ConvertOptions = {
    refPrefix: swagger2 ? '#/definitions/' : '#/components/schemas/',
    anchorPatterns: documentPlan.anchorPatterns ?? false,
  }
  const resolve = (value: Json | undefined): Json | undefined => {
    // Shared parameters, bodies, responses and headers are inlined; named schemas stay refs into $defs.
    if (!isObject(value) || typeof value.$ref !== 'string' || value.$ref.startsWith(convert.refPrefix)) return value
    const target = value.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<Json | undefined>((node, part) => (isObject(node) ? node[part] : undefined), document)
    if (target === undefined) throw new Error(`${title}: unresolvable ${value.$ref}`)
    return resolve(target)
  }
  const schema = (value: Json | undefined): Json => toJsonSchema(value ?? {}, convert)

  const operations: JsonObject[] = []
  const paths = isObject(document.paths) ? document.paths : {}
  for (const wanted of documentPlan.operations) {
    const [method = '', path = ''] = wanted.split(' ')
    const pathItem = paths[path]
    const operation = isObject(pathItem) ? pathItem[method.toLowerCase()] : undefined
    if (!isObject(pathItem) || !isObject(operation) || !METHODS.has(method.toLowerCase())) {
      throw new Error(`${title} ${version} publishes no ${wanted}`)
    }
    const parameters = [
      ...(Array.isArray(pathItem.parameters) ? pathItem.parameters : []),
      ...(Array.isArray(operation.parameters) ? operation.parameters : []),
    ]
      .map(resolve)
      .filter(isObject)
    const kept: JsonObject = { method, path }
    if (typeof operation.operationId === 'string') kept.operationId = operation.operationId
    kept.parameters = parameters
      .filter((parameter) => ['path', 'query', 'header'].includes(text(parameter.in)))
      .map((parameter) => ({
        in: parameter.in ?? null,
        name: parameter.name ?? null,
        required: parameter.required === true,
        schema: schema(swagger2 ? swaggerParameterSchema(parameter) : parameter.schema),
      }))
      .sort((a, b) => `${text(a.in)} ${text(a.name)}`.localeCompare(`${text(b.in)} ${text(b.name)}`))
    const consumes = swagger2 ? stringList(operation.consumes ?? document.consumes) : []
    const produces = swagger2 ? stringList(operation.produces ?? document.produces) : []
    if (swagger2) {
      const body = parameters.find((parameter) => parameter.in === 'body')
      const form = parameters.filter((parameter) => parameter.in === 'formData')
      if (body) {
        kept.requestBody = {
          required: body.required === true,
          content: { [consumes[0] ?? 'application/json']: schema(body.schema) },
        }
      } else if (form.length) {
        const properties = Object.fromEntries(
          form.map((parameter) => [text(parameter.name), schema(swaggerParameterSchema(parameter))]),
        )
        const required = form.filter((parameter) => parameter.required === true).map((p) => text(p.name))
        kept.requestBody = {
          required: required.length > 0,
          content: {
            [consumes[0] ?? 'application/x-www-form-urlencoded']: { type: 'object', required, properties },
          },
        }
      }
    } else {
      const body = resolve(operation.requestBody)
      if (isObject(body)) kept.requestBody = { required: body.required === true, content: contentSchemas(body, schema) }
    }
    const narrowed = documentPlan.narrowRequestBody
    if (narrowed && isObject(kept.requestBody) && isObject(kept.requestBody.content)) {
      const content = kept.requestBody.content
      for (const type of Object.keys(content)) content[type] = { $ref: `#/$defs/${narrowed.to}` }
    }
    const responses = isObject(operation.responses) ? operation.responses : {}
    kept.responses = Object.fromEntries(
      Object.entries(responses).map(([status, raw]) => {
        const response = resolve(raw)
        return [status, responseSchemas(isObject(response) ? response : {}, swagger2, produces, schema, resolve)]
      }),
    )
    operations.push(kept)
  }
  operations.sort((a, b) => `${text(a.path)} ${text(a.method)}`.localeCompare(`${text(b.path)} ${text(b.method)}`))

  const content: JsonObject = {
    $comment: `Schemas from "${documentPlan.name}" (${dialect} document titled "${title}"), version ${version}, published at ${plan.publicUrl}. Only the parts the contract tests need, without prose; refs point into $defs${convert.anchorPatterns ? '; patterns anchored (the document derives from XML Schema, where a pattern matches the whole value)' : ''}${documentPlan.narrowRequestBody ? `; request bodies narrowed to ${documentPlan.narrowRequestBody.to}: ${documentPlan.narrowRequestBody.why}` : ''}. Re-extract with scripts/extract-provider-schemas.ts ${provider} <document>.`,
    'x-source': { document: documentPlan.name, title, version, dialect, publicUrl: plan.publicUrl },
    basePath: basePath(document),
    operations,
  }
  if (documentPlan.sharedResponses && isObject(components.responses)) {
    content.responses = Object.fromEntries(
      Object.entries(components.responses).map(([status, response]) => [
        status,
        responseSchemas(isObject(response) ? response : {}, swagger2, [], schema, resolve),
      ]),
    )
  }
  if (documentPlan.sharedParameters) {
    const shared = isObject(components.parameters) ? components.parameters : {}
    content.parameters = documentPlan.sharedParameters.map((name) => {
      const parameter = resolve(shared[name])
      if (!isObject(parameter)) throw new Error(`${title}: no shared parameter ${name}`)
      return {
        in: parameter.in ?? null,
        name: parameter.name ?? null,
        required: parameter.required === true,
        schema: schema(parameter.schema),
      }
    })
  }
  const defs: JsonObject = {}
  const queue = [...referencedDefs(content), ...(documentPlan.defs ?? [])]
  while (queue.length) {
    const name = queue.shift() ?? ''
    if (name in defs) continue
    const source = isObject(named) ? named[name] : undefined
    if (source === undefined) throw new Error(`${title}: no schema named ${name}`)
    defs[name] = schema(source)
    queue.push(...referencedDefs(defs[name]))
  }
  content.$defs = defs
  return { output: documentPlan.output, content }
}

function stringList(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
}

/** A Swagger 2.0 non-body parameter carries its schema keywords on itself. */
function swaggerParameterSchema(parameter: JsonObject): JsonObject {
  const { name: _name, in: _in, required: _required, ...keywords } = parameter
  return keywords
}

function contentSchemas(holder: JsonObject, schema: (value: Json | undefined) => Json): JsonObject {
  const content = isObject(holder.content) ? holder.content : {}
  return Object.fromEntries(
    Object.entries(content).map(([type, media]) => [type, schema(isObject(media) ? media.schema : undefined)]),
  )
}

function responseSchemas(
  response: JsonObject,
  swagger2: boolean,
  produces: readonly string[],
  schema: (value: Json | undefined) => Json,
  resolve: (value: Json | undefined) => Json | undefined,
): JsonObject {
  const out: JsonObject = {}
  if (swagger2) {
    if (response.schema !== undefined) out.content = { [produces[0] ?? 'application/json']: schema(response.schema) }
  } else if (isObject(response.content) && Object.keys(response.content).length) {
    out.content = contentSchemas(response, schema)
  }
  if (isObject(response.headers)) {
    out.headers = Object.fromEntries(
      Object.entries(response.headers).map(([name, raw]) => {
        const header = resolve(raw)
        const headerObject = isObject(header) ? header : {}
        return [
          name,
          {
            required: headerObject.required === true,
            schema: schema(swagger2 ? swaggerParameterSchema(headerObject) : headerObject.schema),
          },
        ]
      }),
    )
  }
  return out
}

function basePath(document: JsonObject): string {
  if (typeof document.basePath === 'string') return document.basePath.replace(/\/$/, '')
  const [server] = Array.isArray(document.servers) ? document.servers : []
  const url = isObject(server) && typeof server.url === 'string' ? server.url : ''
  const path = /^https?:\/\//.test(url) ? new URL(url).pathname : url
  return path.replace(/\/$/, '')
}

function readDocuments(path: string): JsonObject[] {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((name) => /\.(json|ya?ml)$/.test(name))
      .sort()
      .flatMap((name) => readDocuments(join(path, name)))
  }
  const text = readFileSync(path, 'utf8')
  const parsed = (path.endsWith('.json') ? JSON.parse(text) : load(text)) as Json
  if (!isObject(parsed)) throw new Error(`${path} is not an API document`)
  return [parsed]
}

function main(argv: readonly string[]): void {
  const [provider, ...paths] = argv
  if (!provider || !paths.length || !PLANS[provider]) {
    console.error(`usage: extract-provider-schemas.ts <${Object.keys(PLANS).join('|')}> <document or folder>...`)
    process.exit(2)
  }
  const outputDirectory = fileURLToPath(new URL(`../test/contract/schemas/${provider}/`, import.meta.url))
  mkdirSync(outputDirectory, { recursive: true })
  const titles = new Set(PLANS[provider]?.documents.map((document) => document.title))
  for (const document of paths.flatMap(readDocuments)) {
    const title = isObject(document.info) ? document.info.title : undefined
    if (typeof title !== 'string' || !titles.has(title)) continue // e.g. a spec of a service we do not call
    const { output, content } = extractDocument(provider, document)
    writeFileSync(join(outputDirectory, output), stableStringify(content))
    console.log(`${provider}/${output}: ${(content.operations as Json[]).length} operations`)
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2))
