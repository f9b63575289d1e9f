// Compiled queries and mutations (graphql-jit through @envelop/graphql-jit): each document is compiled once into a
// function that resolves it without graphql-js's per-field interpretation, which is most of the CPU a small query
// costs. Subscriptions keep graphql-js's own `subscribe`, which every subscription transport here is tested with, and
// so do documents of several operations: a compiled document runs the operation it was first compiled for.
import { useGraphQlJit, type JITCache } from '@envelop/graphql-jit'
import { getOperationAST, Kind, OperationTypeNode, type DocumentNode } from 'graphql'
import { createLRUCache } from 'graphql-yoga'

/**
 * Compiled documents kept, by document text. Yoga's parse cache hands the same document object for the same text, and
 * the plugin also keeps compiled documents by that object (a WeakMap, freed with yoga's own cache entry); this bound is
 * for the text-keyed copy, so a client that sends ever-new documents cannot grow memory without limit.
 * @default 1000
 */
export const COMPILED_DOCUMENTS_MAX = 1000

/** A compiled document as the plugin keeps it: the function that runs it, and its answer's serialiser. */
export type CompiledDocument = NonNullable<ReturnType<JITCache['get']>>

/** The compiled documents by text, shared with the fast path (fast-path.ts), which runs the very same functions. */
export type CompiledDocuments = ReturnType<typeof createLRUCache<CompiledDocument>>

export const compiledDocuments = (max: number = COMPILED_DOCUMENTS_MAX): CompiledDocuments => createLRUCache({ max })

/** Whether `document` has exactly one operation: graphql-jit compiles a document for one operation only. */
const singleOperation = (document: DocumentNode) =>
  document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION).length === 1

export function useCompiledQueries(cache: CompiledDocuments = compiledDocuments()) {
  return useGraphQlJit(
    {},
    {
      cache,
      enableIf: ({ document, operationName }) => {
        const operation = getOperationAST(document, operationName)
        return (
          operation !== null &&
          operation !== undefined &&
          operation.operation !== OperationTypeNode.SUBSCRIPTION &&
          singleOperation(document)
        )
      },
    },
  )
}
