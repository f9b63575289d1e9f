// Lambda entry: the outbox relay on the table's stream. Every state change writes an outbox item in its transaction
// (store/consent-repository.ts); the event source mapping (infra/jobs.ts) hands the relay those inserts alone, and the
// relay delivers each consent's pending webhooks at once instead of at the next scheduled run. What it cannot deliver
// stays pending in the table for the scheduled job (functions/deliver-webhooks.ts).
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda'
import { createGateway } from '../composition/gateway.ts'
import { deployedConfig } from '../composition/settings.ts'
import { relayOutbox } from './outbox-records.ts'
import { runInRequestScope } from '../runtime/request-scope.ts'
import { withLambdaContext } from '../runtime/logging.ts'

const gateway = createGateway(deployedConfig())

/** Partial batch responses: only the records of consents whose delivery threw go back to the stream. */
async function handle(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  return runInRequestScope({ requestId: context.awsRequestId }, () =>
    relayOutbox(
      event.Records,
      (tenantId, consentId) => gateway.jobs.deliverConsent(tenantId, consentId),
      gateway.logger,
    ),
  )
}

/** Every log line of an invocation carries its Lambda context (cold start, function name). */
export const handler = withLambdaContext(handle)
