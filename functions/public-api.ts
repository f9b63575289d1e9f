// Lambda entry: what providers and browsers call on the REST API (payload 1.0, buffered: one result per request):
// provider notifications, authorisation callbacks, the OAuth endpoints and /healthz, through the one app (http/app.ts). No
// GraphQL here: its schema and yoga would only lengthen this function's cold start.
import { createHttpApp } from '../http/app.ts'
import { oauthEndpoints } from '../http/oauth.ts'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { bufferedHandler } from './lambda-http.ts'

const gateway = createGateway(deployedConfig())
const app = createHttpApp({
  gateway,
  ...oauthEndpoints({ clients: gateway.apiClients, tokens: gateway.tokens, logger: gateway.logger }),
})

export const handler = bufferedHandler(app)
