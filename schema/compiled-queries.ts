// Compiled queries and mutations (graphql-jit): a document that keeps coming back is compiled once into a function that
// resolves it without graphql-js's per-field interpretation, which is most of the CPU a small query costs. The compiler
// loads when the first document is worth compiling, not at start (its own chunk in the Lambda bundle): a new instance
// answers its first request without it, and a document sent once is never compiled. Subscriptions keep graphql-js's own
// `subscribe`, which every subscription transport here is tested with, and so do documents of several operations
// (graphql-jit compiles a document for one operation).
//
// A client cannot tell which engine answered: variables are coerced by the function yoga's executor uses before the
// compiled function runs (graphql-jit's own coercion words its errors differently and gives no locations), errors keep
// their locations through masking, and an answer with errors lists them first (error-masking.ts).
// test/e2e/graphql-fast-path.test.ts compares the engines byte for byte.
import { execute, getVariableValues } from '@graphql-tools/executor'
import {
  getOperationAST,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type Source,
  type SourceLocation,
  GraphQLError,
} from 'graphql'
import type { CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit'
import { createLRUCache, type Plugin } from 'graphql-yoga'
import type { QueryCost, QueryCosts } from './cost.ts'

/**
 * Documents kept, by text (compiled or counted towards compiling, with what the fast path needs of them): least recently
 * used dropped first, so a client that sends ever-new documents cannot grow memory without limit.
 * @default 1000
 */
export const COMPILED_DOCUMENTS_MAX = 1000

/**
 * How many times a document runs interpreted before it is compiled. Compiling costs about as much as a few
 * interpreted runs, and loading the compiler tens of milliseconds once: a document sent once (an ad-hoc query in
 * GraphiQL, the one request a short-lived instance serves) never pays either.
 * @default 2
 */
export const COMPILE_AFTER_RUNS = 2

export interface CompiledQueriesOptions {
  /** @default COMPILED_DOCUMENTS_MAX */
  readonly max?: number
  /** @default COMPILE_AFTER_RUNS */
  readonly compileAfterRuns?: number
  /**
   * Told when the compiler fails to load (a broken deployment): documents then stay interpreted, which answers the
   * same, and it is not tried again.
   * @default nothing
   */
  readonly onCompilerUnavailable?: (error: unknown) => void
  /**
   * Where the compiler comes from.
   * @default () => import('graphql-jit')
   */
  readonly loadCompiler?: () => Promise<Compiler>
}

/** A compiled document: runs it as yoga's executor would answer it, and serialises its answer. */
export interface CompiledDocument {
  run(root: unknown, context: unknown, variables: Record<string, unknown> | null | undefined): PromiseOrValue<Result>
  readonly stringify: (result: unknown) => string
}

/**
 * A document the fast path may answer (fast-path.ts): one query or mutation that has run through yoga (so it passed
 * parsing, validation and every query limit, none of which depends on the caller) and has been compiled.
 */
export interface PreparedDocument {
  readonly compiled: CompiledDocument
  /** Its operation's name; null when anonymous. */
  readonly operationName: string | null
  /** Its operation's cost, as `extensions.cost` says it, measured when it ran through yoga. */
  readonly cost: QueryCost
}

/** One document's entry: all that is kept of it, dropped at once. */
interface DocumentEntry {
  /** How many times it has run interpreted; -Infinity once graphql-jit has refused it. */
  runs: number
  compiled: CompiledDocument | null
  readonly operationName: string | null
  /** Null until a run over HTTP has measured it (graphql-ws runs documents past the cost plugin's map). */
  cost: QueryCost | null
}

type Result = ExecutionResult & { stringify?: (result: unknown) => string }
type PromiseOrValue<T> = Promise<T> | T
export interface Compiler {
  readonly compileQuery: typeof compileQuery
  readonly isCompiledQuery: typeof isCompiledQuery
}

/** Documents of one query or mutation, as the schema, the document and the operation name give them. */
function compilable(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | null {
  let operations = 0
  for (const definition of document.definitions) if (definition.kind === Kind.OPERATION_DEFINITION) operations += 1
  const operation = operations === 1 ? getOperationAST(document, operationName) : null
  return operation && operation.operation !== OperationTypeNode.SUBSCRIPTION ? operation : null
}

/**
 * The compiled documents of one server, shared by its yoga plugin and its fast path (fast-path.ts): one entry per
 * document text, holding its runs, its compiled function, its operation's name and its cost, under one bound.
 */
export class CompiledQueries {
  readonly #documents: ReturnType<typeof createLRUCache<DocumentEntry>>
  readonly #compileAfterRuns: number
  readonly #onCompilerUnavailable: ((error: unknown) => void) | undefined
  readonly #loadCompiler: () => Promise<Compiler>
  #compiler: Compiler | null = null
  #loading: Promise<Compiler> | null = null

  constructor(options: CompiledQueriesOptions = {}) {
    this.#documents = createLRUCache({ max: options.max ?? COMPILED_DOCUMENTS_MAX })
    this.#compileAfterRuns = options.compileAfterRuns ?? COMPILE_AFTER_RUNS
    this.#onCompilerUnavailable = options.onCompilerUnavailable
    this.#loadCompiler = options.loadCompiler ?? (() => import('graphql-jit'))
  }

  /** The compiled document of this text; undefined while it is not (yet) compiled. */
  get(text: string): CompiledDocument | undefined {
    return this.#documents.get(text)?.compiled ?? undefined
  }

  /** The document of this text as the fast path may answer it; undefined while it is not compiled or has no cost. */
  prepared(text: string): PreparedDocument | undefined {
    const entry = this.#documents.get(text)
    return entry?.compiled && entry.cost ? (entry as PreparedDocument) : undefined
  }

  /** Whether the compiler has loaded (a document has been due, or `load()` was called). */
  get compilerLoaded(): boolean {
    return this.#compiler !== null
  }

  /** Loads the compiler now rather than when a document first needs it. */
  load(): Promise<Compiler> {
    this.#loading ??= this.#loadCompiler().then((compiler) => (this.#compiler = compiler))
    return this.#loading
  }

  /**
   * The compiled document for this run of the document in `entry`, compiling it when it has run often enough and the
   * compiler is there; undefined when this run is to be interpreted. The first document due starts loading the
   * compiler, and runs interpreted until it has loaded.
   */
  #due(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    entry: DocumentEntry,
    text: string,
  ) {
    if (entry.compiled) return entry.compiled
    const runs = entry.runs + 1
    if (runs < this.#compileAfterRuns || !this.#compiler) {
      if (runs >= this.#compileAfterRuns && !this.#loading)
        this.load().catch((error: unknown) => this.#onCompilerUnavailable?.(error))
      entry.runs = runs
      this.#documents.set(text, entry)
      return undefined
    }
    const compiled = this.#compiler.compileQuery(schema, document, operation.name?.value)
    if (!this.#compiler.isCompiledQuery(compiled)) {
      // graphql-jit refuses a few valid documents; they stay interpreted (and are not tried again).
      entry.runs = Number.NEGATIVE_INFINITY
      this.#documents.set(text, entry)
      return undefined
    }
    entry.compiled = compiledDocument(schema, document, operation, compiled)
    this.#documents.set(text, entry)
    return entry.compiled
  }

  /**
   * The yoga plugin that runs each due document compiled, and keeps the cost `costs` measured for it (useQueryCost in
   * cost.ts, listed before this plugin) for the fast path.
   */
  plugin(costs?: QueryCosts): Plugin {
    return {
      onExecute: ({ args, setExecuteFn }) => {
        const { schema, document, operationName, contextValue } = args as ExecutionArgs
        const { request, params } = contextValue as { request?: Request; params?: { query?: unknown } }
        const text = params?.query
        const operation = typeof text === 'string' ? compilable(document, operationName) : null
        if (!operation) return
        let entry = this.#documents.get(text as string)
        if (!entry) {
          entry = { runs: 0, compiled: null, operationName: operation.name?.value ?? null, cost: null }
          this.#documents.set(text as string, entry)
        }
        // The cost depends on the document and operation only, so the first measured run's stands for every later one.
        if (entry.cost === null && request) entry.cost = costs?.get(request) ?? null
        const compiled = this.#due(schema, document, operation, entry, text as string)
        if (!compiled) return
        setExecuteFn((execution) => {
          const { rootValue, variableValues } = execution as ExecutionArgs
          return compiled.run(rootValue, (execution as ExecutionArgs).contextValue, variableValues)
        })
      },
    }
  }
}

/** A line terminator, as GraphQL's lexer counts lines. */
const LINE_TERMINATOR = /\r\n|[\n\r]/g

/** The offset in `body` of a line and column (graphql's `getLocation` the other way round). */
function positionOf(body: string, { line, column }: SourceLocation): number {
  LINE_TERMINATOR.lastIndex = 0
  let lineStart = 0
  for (let current = 1; current < line; current++) {
    const terminator = LINE_TERMINATOR.exec(body)
    if (!terminator) break
    lineStart = terminator.index + terminator[0].length
  }
  return lineStart + column - 1
}

/**
 * A graphql-jit error as graphql-js makes it: graphql-jit gives its errors `locations` but neither the nodes nor the
 * source positions they come from, and yoga (and our masking) rebuild errors from those, dropping the locations.
 */
function located(error: GraphQLError, source: Source | undefined): GraphQLError {
  if (error.nodes || error.positions || !error.locations?.length || !source) return error
  return new GraphQLError(error.message, {
    source,
    positions: error.locations.map((location) => positionOf(source.body, location)),
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  })
}

/**
 * A compiled function that answers as yoga's executor would: variables are first coerced by the executor's own
 * function, and when they do not coerce, the executor itself answers (its errors, worded, located and given their HTTP
 * status as yoga gives them); otherwise the compiled function runs, and coerces the now valid values again by itself.
 * Its errors come out as the executor's: located by source positions, listed before the data.
 */
function compiledDocument(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  compiled: CompiledQuery,
): CompiledDocument {
  const definitions = operation.variableDefinitions ?? []
  const stringify = compiled.stringify
  const source = document.loc?.source
  const withStringify = (result: Result): Result =>
    result.errors?.length
      ? // `errors` first, as the executor lists them; then every key of the result, errors replaced by located ones.
        Object.assign({ errors: result.errors }, result, {
          errors: result.errors.map((error) => located(error, source)),
          stringify,
        })
      : Object.assign(result, { stringify })
  return {
    stringify,
    run(rootValue, contextValue, variableValues) {
      if (
        definitions.length > 0 &&
        getVariableValues(schema, definitions, variableValues ?? {}, { maxErrors: 50 }).errors
      ) {
        const operationName = operation.name?.value
        return execute({ schema, document, rootValue, contextValue, variableValues, operationName }) as Result
      }
      const result = compiled.query(rootValue, contextValue, variableValues)
      return result instanceof Promise ? result.then(withStringify) : withStringify(result)
    },
  }
}
