// GraphiQL's page options per request (served on GET /graphql where the server is asked to).
import type { GraphQLServerOptions } from './server.ts'

/** GraphiQL's page per request: the pre-filled headers only for a trusted Host, the tabs for everyone. */
export function graphiqlPage(graphiql: Exclude<GraphQLServerOptions['graphiql'], false | undefined>) {
  const trusted = new Set((graphiql.trustedHosts ?? []).map((host) => host.toLowerCase()))
  const common = {
    title: 'consent-gateway',
    shouldPersistHeaders: false,
    ...(graphiql.tabs?.length ? { defaultTabs: graphiql.tabs.map((query) => ({ query })) } : {}),
  }
  return (request: Request) => {
    const host = (request.headers.get('host') ?? '').toLowerCase()
    const filled = graphiql.defaultHeaders && trusted.has(host)
    return filled ? { ...common, headers: JSON.stringify(graphiql.defaultHeaders, null, 2) } : common
  }
}
