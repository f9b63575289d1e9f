// Lambda entry: the REST API's REQUEST authorizer for /graphql (infra/api.ts). Verifies the caller's credential as the
// GraphQL server does (service/request-authorizer.ts) and answers API Gateway with an Allow for the whole stage (the
// answer is cached per Authorization header and must hold for GET and POST alike) and the tenant's API key as
// `usageIdentifierKey` (the REST API takes keys from the authorizer: `apiKeySource: AUTHORIZER`), so the tenant's usage
// plan counts the request. A credential that is not ours is `Unauthorized` (API Gateway answers 401).
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { RequestAuthorizer } from '../service/request-authorizer.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())
const defaultApiKey = process.env.DEFAULT_API_KEY
if (!defaultApiKey) throw new Error('DEFAULT_API_KEY is not set: the key of the stage default usage plan')
const authorizer = new RequestAuthorizer(gateway.authenticator, gateway.access.tenants, gateway.logger, {
  defaultApiKey,
})

/** `arn:aws:execute-api:<region>:<account>:<api>/<stage>/*`: every method and path of the stage the request is on. */
function stageWide(methodArn: string): string {
  const [prefix = '', stage = '*'] = methodArn.split('/')
  return `${prefix}/${stage}/*`
}

/** The Authorization header, whatever case the client sent its name in. */
function authorizationOf(event: APIGatewayRequestAuthorizerEvent): string | undefined {
  const headers = event.headers ?? {}
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'authorization')
  return name === undefined ? undefined : (headers[name] ?? undefined)
}

async function handle(event: APIGatewayRequestAuthorizerEvent, _context: Context): Promise<APIGatewayAuthorizerResult> {
  const allowed = await authorizer.authorize(authorizationOf(event), event.requestContext?.identity?.sourceIp)
  // The one answer API Gateway turns into 401: anything else thrown would be a 500.
  if (!allowed) throw new Error('Unauthorized')
  return {
    principalId: allowed.principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWide(event.methodArn) }],
    },
    usageIdentifierKey: allowed.usageIdentifierKey,
    context: allowed.context,
  }
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
