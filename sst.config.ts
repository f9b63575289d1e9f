/// <reference path="./.sst/platform/config.d.ts" />
// The consent gateway on AWS (SST v4): one DynamoDB table, an HTTP API for providers and browsers, a streaming
// Function URL for GraphQL. Each concern lives in infra/; see the README's "Deploy to AWS".

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
    const { outputs } = await import('./infra/api.ts')
    // Next: infra/jobs.ts (CronV2 schedules, the outbox relay on the table stream), built on infra/functions.ts.
    return outputs
  },
})
