// Holds recorded exchanges against a provider's published schemas (test/contract/schemas/<provider>/): finds the
// operation by method and path template, validates parameters, request body, status, response headers and body with
// ajv, and returns each violation as a readable line. An exchange no published operation covers is itself a violation,
// unless its path is listed as one the provider publishes no schema for.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import formatsModule from 'ajv-formats'
import { isObject, text, toJsonSchema, type Json, type JsonObject } from '../../../scripts/json-schema.ts'

/** One request and its answer, as the recording proxy (or the notification receiver) saw them. */
export interface Exchange {
  readonly method: string
  /** The path without the query, as sent on the wire. */
  readonly path: string
  readonly query: Readonly<Record<string, string | readonly string[]>>
  /** Lowercase names. */
  readonly headers: Readonly<Record<string, string>>
  /** Parsed by content type: JSON, a form (an object of strings), text, or undefined when empty. */
  readonly requestBody: unknown
  readonly status: number
  /** Lowercase names. */
  readonly responseHeaders: Readonly<Record<string, string>>
  readonly responseBody: unknown
}

/** A path the provider publishes no schema for: exchanges on it are not violations, and only its errors are checked. */
export interface UnpublishedPath {
  readonly method: string
  /** A template: `{name}` stands for one path segment. */
  readonly path: string
  /** Why it has no schema, for the reader of the test. */
  readonly reason: string
  /**
   * Hold its requests to the error model file's shared `parameters` (e.g. the headers every Worldline Open Banking
   * operation requires), so the request counts as validated.
   * @default false
   */
  readonly sharedParameters?: boolean
}

export interface ValidatorOptions {
  /** The folder under test/contract/schemas/. */
  readonly provider: string
  /** Where the proxy sees each schema file's operations, by file name; default: the document's own base path. */
  readonly mounts?: Readonly<Record<string, string>>
  readonly unpublished?: readonly UnpublishedPath[]
  /**
   * The schema file whose shared `responses` (by status) apply to the error answers (4xx/5xx) of unpublished paths,
   * and whose shared `parameters` apply to their requests where the path says so: e.g. Worldline's error model.
   * @default undefined (error answers on unpublished paths are not checked)
   */
  readonly errorModel?: string
}

export interface ExchangeResult {
  /** The request was held against a published operation. */
  readonly requestValidated: boolean
  /** The answer (status, headers, body) was held against a published response or the error model. */
  readonly answerValidated: boolean
  readonly violations: readonly string[]
}

interface Operation {
  readonly file: string
  readonly index: number
  readonly method: string
  readonly template: string
  readonly pattern: RegExp
  readonly specificity: number
  readonly raw: JsonObject
}

// ajv-formats is CommonJS with `exports.default`: under NodeNext its default import is the module, whose `default` is
// the plugin (at run time the plugin function carries itself as `default` too).
const addFormats = formatsModule.default

const SCHEMA_ROOT = fileURLToPath(new URL('../schemas/', import.meta.url))
const BASE_ID = 'https://contract.schemas.invalid/'

/** Swagger 2.0 has no such rule, but OpenAPI 3 says these header parameters are described elsewhere and ignored. */
const OPENAPI3_IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization'])

export class ContractValidator {
  readonly #bodies: Ajv
  /**
   * Parameters and headers arrive as text: this instance coerces `"5"` to 5 where the schema says integer, and a
   * single value to a list of one where it says array (OpenAPI's default `form`/`explode` query style sends a list of
   * one as `name=value`).
   */
  readonly #text: Ajv
  readonly #operations: Operation[] = []
  readonly #files = new Map<string, JsonObject>()
  readonly #compiled = new Map<string, ValidateFunction>()
  readonly #options: ValidatorOptions

  constructor(options: ValidatorOptions) {
    this.#options = options
    const ajvOptions = { strict: false, allErrors: true, logger: false as const }
    this.#bodies = addFormats(new Ajv(ajvOptions))
    this.#text = addFormats(new Ajv({ ...ajvOptions, coerceTypes: 'array' }))
    const folder = `${SCHEMA_ROOT}${options.provider}/`
    const files = readdirSync(folder).filter((name) => name.endsWith('.json'))
    if (!files.length) throw new Error(`no schema files in ${folder}`)
    for (const file of files.sort()) {
      const document = JSON.parse(readFileSync(`${folder}${file}`, 'utf8')) as JsonObject
      // Files are extracted already converted; converting again is a no-op that also covers a hand-edited file.
      const converted = toJsonSchema(document, { refPrefix: '#/$defs/' }) as JsonObject
      const id = `${BASE_ID}${options.provider}/${file}`
      this.#files.set(file, converted)
      this.#bodies.addSchema({ ...converted, $id: id })
      this.#text.addSchema({ ...converted, $id: id })
      const mount = options.mounts?.[file] ?? (typeof converted.basePath === 'string' ? converted.basePath : '')
      const operations = Array.isArray(converted.operations) ? converted.operations : []
      operations.forEach((raw, index) => {
        if (!isObject(raw)) return
        const template = `${mount}${text(raw.path)}`
        this.#operations.push({
          file,
          index,
          method: text(raw.method).toUpperCase(),
          template,
          pattern: templatePattern(template),
          specificity: -(template.match(/\{[^}]+\}/g) ?? []).length,
          raw,
        })
      })
    }
    if (options.errorModel && !this.#files.has(options.errorModel)) {
      throw new Error(`error model ${options.errorModel} is not among ${[...this.#files.keys()].join(', ')}`)
    }
    // Literal segments win over templated ones (`/consents/extend` before `/consents/{id}`).
    this.#operations.sort((a, b) => b.specificity - a.specificity)
  }

  /** Validates the request and the answer of one exchange. */
  validate(exchange: Exchange): ExchangeResult {
    const { method, path } = exchange
    const label = `${method.toUpperCase()} ${path} -> ${exchange.status}`
    const operation = this.#operations.find(
      (candidate) => candidate.method === method.toUpperCase() && candidate.pattern.test(path),
    )
    if (!operation) {
      const unpublished = this.#options.unpublished?.find(
        (entry) => entry.method.toUpperCase() === method.toUpperCase() && templatePattern(entry.path).test(path),
      )
      if (!unpublished) {
        return {
          requestValidated: false,
          answerValidated: false,
          violations: [`${label}: no published operation matches ${method.toUpperCase()} ${path}`],
        }
      }
      const requestViolations = unpublished.sharedParameters ? this.#sharedParameters(label, exchange) : undefined
      const requestValidated = requestViolations !== undefined
      if (exchange.status < 400 || !this.#options.errorModel) {
        return { requestValidated, answerValidated: false, violations: requestViolations ?? [] }
      }
      const response = this.#sharedResponse(exchange.status)
      const violations = [...(requestViolations ?? [])]
      if (!response) violations.push(`${label}: the error model publishes no answer with status ${exchange.status}`)
      else violations.push(...this.#checkResponse(label, exchange, response.pointer, response.value, true))
      return { requestValidated, answerValidated: true, violations }
    }
    const violations = [...this.validateRequest(exchange, operation)]
    const statusKey = responseKey(operation.raw, exchange.status)
    if (!statusKey) {
      violations.push(`${label}: ${operation.template} publishes no answer with status ${exchange.status}`)
    } else {
      const responses = operation.raw.responses as JsonObject
      const pointer = `${operation.file}#/operations/${operation.index}/responses/${statusKey}`
      const swagger = isObject(this.#files.get(operation.file)?.['x-source'])
        ? text((this.#files.get(operation.file)?.['x-source'] as JsonObject).dialect).startsWith('Swagger')
        : false
      violations.push(...this.#checkResponse(label, exchange, pointer, responses[statusKey] ?? {}, !swagger))
    }
    return { requestValidated: true, answerValidated: statusKey !== undefined, violations }
  }

  /** Only the request side of an exchange (e.g. a notification the simulator sent, answered by our receiver). */
  validateRequest(exchange: Exchange, known?: Operation): string[] {
    const method = exchange.method.toUpperCase()
    const label = `${method} ${exchange.path}`
    const operation =
      known ??
      this.#operations.find((candidate) => candidate.method === method && candidate.pattern.test(exchange.path))
    if (!operation) return [`${label}: no published operation matches ${method} ${exchange.path}`]
    const violations: string[] = []
    const pointer = `${operation.file}#/operations/${operation.index}`
    const openapi3 = !text(
      (this.#files.get(operation.file)?.['x-source'] as JsonObject | undefined)?.dialect,
    ).startsWith('Swagger')
    const pathValues = pathParameters(operation.template, exchange.path)
    const parameters = Array.isArray(operation.raw.parameters) ? operation.raw.parameters : []
    parameters.forEach((raw, index) => {
      if (!isObject(raw)) return
      const name = text(raw.name)
      const where = text(raw.in)
      if (where === 'header' && openapi3 && OPENAPI3_IGNORED_HEADERS.has(name.toLowerCase())) return
      const value =
        where === 'path'
          ? pathValues[name]
          : where === 'query'
            ? exchange.query[name]
            : exchange.headers[name.toLowerCase()]
      if (value === undefined) {
        if (raw.required === true) violations.push(`${label}: the ${where} parameter ${name} is required and missing`)
        return
      }
      violations.push(
        ...this.#check(this.#text, `${pointer}/parameters/${index}/schema`, value, `${label}: ${where} ${name}`),
      )
    })
    const body = isObject(operation.raw.requestBody) ? operation.raw.requestBody : undefined
    const empty = exchange.requestBody === undefined || exchange.requestBody === ''
    if (body) {
      if (empty) {
        if (body.required === true) violations.push(`${label}: the request body is required and missing`)
      } else {
        const type = mediaType(body.content, exchange.headers['content-type'])
        if (!type) {
          violations.push(
            `${label}: request content type ${exchange.headers['content-type'] ?? '(none)'} is not published (${Object.keys(isObject(body.content) ? body.content : {}).join(', ')})`,
          )
        } else {
          violations.push(
            ...this.#check(
              this.#bodies,
              `${pointer}/requestBody/content/${escapePointer(type)}`,
              exchange.requestBody,
              `${label}: request body`,
            ),
          )
        }
      }
    } else if (!empty) {
      violations.push(`${label}: a request body where the operation publishes none`)
    }
    return violations
  }

  /** The error model's shared request parameters; undefined when there is no error model to take them from. */
  #sharedParameters(label: string, exchange: Exchange): string[] | undefined {
    const file = this.#options.errorModel ?? ''
    const parameters = this.#files.get(file)?.parameters
    if (!Array.isArray(parameters)) return undefined
    const violations: string[] = []
    parameters.forEach((raw, index) => {
      if (!isObject(raw) || raw.in !== 'header') return
      const name = text(raw.name)
      const value = exchange.headers[name.toLowerCase()]
      if (value === undefined) {
        if (raw.required === true) violations.push(`${label}: the header parameter ${name} is required and missing`)
        return
      }
      violations.push(
        ...this.#check(this.#text, `${file}#/parameters/${index}/schema`, value, `${label}: header ${name}`),
      )
    })
    return violations
  }

  #sharedResponse(status: number): { pointer: string; value: JsonObject } | undefined {
    const file = this.#options.errorModel ?? ''
    const responses = this.#files.get(file)?.responses
    if (!isObject(responses)) return undefined
    const key = responseKey({ responses }, status)
    const value = key ? responses[key] : undefined
    return key && isObject(value) ? { pointer: `${file}#/responses/${key}`, value } : undefined
  }

  #checkResponse(label: string, exchange: Exchange, pointer: string, response: Json, openapi3: boolean): string[] {
    const violations: string[] = []
    const published = isObject(response) ? response : {}
    const headers = isObject(published.headers) ? published.headers : {}
    for (const [name, raw] of Object.entries(headers)) {
      if (!isObject(raw)) continue
      if (openapi3 && name.toLowerCase() === 'content-type') continue
      const value = exchange.responseHeaders[name.toLowerCase()]
      if (value === undefined) {
        if (raw.required === true) violations.push(`${label}: the answer's ${name} header is required and missing`)
        continue
      }
      violations.push(
        ...this.#check(
          this.#text,
          `${pointer}/headers/${escapePointer(name)}/schema`,
          value,
          `${label}: answer header ${name}`,
        ),
      )
    }
    const content = isObject(published.content) ? published.content : undefined
    if (!content) return violations
    const type = mediaType(content, exchange.responseHeaders['content-type'])
    if (!type) {
      violations.push(
        `${label}: answer content type ${exchange.responseHeaders['content-type'] ?? '(none)'} is not published (${Object.keys(content).join(', ')})`,
      )
      return violations
    }
    if (exchange.responseBody === undefined || exchange.responseBody === '') {
      violations.push(`${label}: the answer has no body where ${type} is published`)
      return violations
    }
    violations.push(
      ...this.#check(
        this.#bodies,
        `${pointer}/content/${escapePointer(type)}`,
        exchange.responseBody,
        `${label}: answer body`,
      ),
    )
    return violations
  }

  #check(ajv: Ajv, pointer: string, value: unknown, label: string): string[] {
    const [file = '', fragment = ''] = pointer.split('#')
    const ref = `${BASE_ID}${this.#options.provider}/${file}#${fragment}`
    const key = `${ajv === this.#text ? 'text' : 'body'} ${ref}`
    let validate = this.#compiled.get(key)
    if (!validate) {
      validate = ajv.compile({ $ref: ref })
      this.#compiled.set(key, validate)
    }
    // Coercion rewrites its input in place: hand it a copy, in a holder so a top-level value can be coerced too.
    const copy: unknown = structuredClone(value)
    if (validate(copy)) return []
    return (validate.errors ?? []).map((error) => `${label}: ${describe(error, copy)}`)
  }
}

/** One line per ajv error: where, what is wrong, and what was there. */
function describe(error: ErrorObject, root: unknown): string {
  const at = error.instancePath || '(root)'
  const found = error.instancePath
    .split('/')
    .slice(1)
    .reduce<unknown>(
      (node, part) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined),
      root,
    )
  const detail = error.params && Object.keys(error.params).length ? ` ${JSON.stringify(error.params)}` : ''
  const shown = found === undefined ? '' : `, got ${JSON.stringify(found)?.slice(0, 120)}`
  return `${at} ${error.message ?? error.keyword}${detail}${shown}`
}

function templatePattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (/^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('')
  return new RegExp(`^${source}/?$`)
}

function pathParameters(template: string, path: string): Record<string, string> {
  const names = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '')
  const capturing = new RegExp(templatePattern(template).source.replaceAll('[^/]+', '([^/]+)'))
  const match = capturing.exec(path)
  return Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match?.[index + 1] ?? '')]))
}

/** The published response key for a status: exact, then `4XX`-style, then `default`. */
function responseKey(operation: JsonObject, status: number): string | undefined {
  const responses = isObject(operation.responses) ? operation.responses : {}
  return [text(status), `${text(status)[0]}XX`, 'default'].find((key) => key in responses)
}

/** The published media type an actual content type falls under (parameters and case ignored; `*` ranges allowed). */
function mediaType(content: Json | undefined, actual: string | undefined): string | undefined {
  const types = Object.keys(isObject(content) ? content : {})
  const wanted = (actual ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  return (
    types.find((type) => type.toLowerCase() === wanted) ??
    types.find((type) => type.endsWith('/*') && wanted.startsWith(type.slice(0, -1))) ??
    types.find((type) => type === '*/*') ??
    // A JSON body sent as `application/json` where the document says e.g. `application/json;charset=UTF-8`.
    types.find((type) => type.split(';')[0]?.trim().toLowerCase() === wanted)
  )
}

function escapePointer(part: string): string {
  return encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'))
}

/** Running totals of a contract test, and the one line it prints. */
export class ContractTally {
  requests = 0
  answers = 0
  readonly violations: string[] = []

  add(result: ExchangeResult): void {
    if (result.requestValidated) this.requests += 1
    if (result.answerValidated) this.answers += 1
    this.violations.push(...result.violations)
  }

  /** A notification or webhook the simulator sent: an answer it gives, though it travels as a request. */
  addNotification(violations: readonly string[]): void {
    this.answers += 1
    this.violations.push(...violations)
  }

  line(provider: string): string {
    return `contract ${provider}: ${this.requests} requests, ${this.answers} answers validated, ${this.violations.length} violations`
  }
}
