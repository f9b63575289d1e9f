/// <reference path="./.sst/platform/config.d.ts" />
// The consent gateway on AWS (SST v4): one DynamoDB table, one REST API (GraphQL streamed behind an authorizer and
// tenants' usage plans; providers' and browsers' routes beside it), a WebSocket API for graphql-ws with its poller,
// scheduled jobs and the outbox relay on the table's stream. Each concern lives in infra/;
// see the README's "Deploy to AWS".

export default $config({
  app(input) {
    return {
      name: 'consent-gateway',
      home: 'aws',
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      protect: input?.stage === 'production',
    }
  },
  async run() {
    await import('./infra/storage.ts')
    await import('./infra/secrets.ts')
    const api = await import('./infra/api.ts')
    const webSocket = await import('./infra/websocket.ts')
    const jobs = await import('./infra/jobs.ts')
    return { ...api.outputs, ...webSocket.outputs, ...jobs.outputs }
  },
})
