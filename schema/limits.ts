// Query limits, shared by the server (checked on every request) and the trusted-documents check (a document that
// breaks one would never run, so it is refused when registered).

/** Query limits: generous for real clients (the deepest useful query is about 8 levels), cheap to reject abuse. */
export const LIMITS = {
  maxDepth: { n: 12, ignoreIntrospection: true },
  maxAliases: { n: 15 },
  maxDirectives: { n: 20 },
  maxTokens: 2_000,
  costLimit: { maxCost: 5_000, ignoreIntrospection: true },
} as const
