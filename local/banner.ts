// What `npm start` prints once everything listens: where to go, the demo credentials, and a request to paste.
import { LOCAL_JOB_INTERVALS } from './jobs.ts'

export interface BannerInput {
  readonly graphqlUrl: string
  readonly clientId: string
  readonly clientSecret: string
  readonly finqwareUrl: string
  readonly worldlineUrl: string
  readonly yapilyUrl: string
  readonly dynamoEndpoint: string
  readonly dataLocation: string
}

const seconds = (ms: number) => `${ms / 1000} s`

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

export function bannerText(input: BannerInput): string {
  const query = JSON.stringify({
    query:
      'mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA}) ' +
      '{ __typename ... on CreateConsentPayload { consent { id status authorizationUrl } } ... on Error { code message } } }',
  })
  return [
    '',
    'consent-gateway is running (local mode)',
    '',
    `  GraphiQL          ${input.graphqlUrl}   (demo credentials pre-filled)`,
    `  Client id         ${input.clientId}`,
    `  Client secret     ${input.clientSecret}`,
    `  Sandboxes         Finqware ${input.finqwareUrl}, Worldline ${input.worldlineUrl}, Yapily ${input.yapilyUrl}`,
    "                    (their bank pages are the consents' authorizationUrl; controls under /__sandbox/)",
    `  DynamoDB Local    ${input.dynamoEndpoint}   data: ${input.dataLocation}`,
    `  Jobs              deadline sweep every ${seconds(LOCAL_JOB_INTERVALS.sweepEveryMs)}, provider re-checks every ` +
      `${seconds(LOCAL_JOB_INTERVALS.reconcileEveryMs)}, webhooks every ${seconds(LOCAL_JOB_INTERVALS.deliverEveryMs)}`,
    '                    (webhookUrl may be http://localhost here; the signing secret: { webhookSettings { ... } })',
    '',
    'Create a consent:',
    `  curl -s -u ${shellQuote(`${input.clientId}:${input.clientSecret}`)} ${input.graphqlUrl} \\`,
    `    -H 'content-type: application/json' -d ${shellQuote(query)}`,
    '',
    "Then open the consent's authorizationUrl and press Approve (README.md walks through the whole flow).",
    'Ctrl-C stops everything.',
    '',
  ].join('\n')
}

export function printBanner(input: BannerInput): void {
  console.log(bannerText(input))
}
