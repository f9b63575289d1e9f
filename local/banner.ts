// What `npm start` prints once everything listens: where to go, the demo credentials, the local controls, and a
// request to paste.
import { LOCAL_JOB_INTERVALS } from './jobs.ts'

export interface BannerInput {
  /** GraphiQL as a browser on this machine opens it. */
  readonly graphqlUrl: string
  /** The same for other machines of the network, when HOST lets them in; null otherwise. */
  readonly networkUrl: string | null
  /** The local page a consent's redirectUrl can point at. */
  readonly doneUrl: string
  readonly clockUrl: string
  readonly clientId: string
  readonly clientSecret: string
  readonly controlSecret: string
  readonly finqwareUrl: string
  readonly worldlineUrl: string
  readonly yapilyUrl: string
  readonly dynamoEndpoint: string
  readonly dataLocation: string
  /** How far the gateway clock runs ahead of real time (moved with the clock control, kept across restarts). */
  readonly clockOffsetMs: number
  /** Whether GraphiQL's page carries the demo credentials (only for a browser on this machine). */
  readonly credentialsPrefilled: boolean
}

const seconds = (ms: number) => `${ms / 1000} s`

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

const offset = (ms: number) => {
  const days = Math.floor(ms / 86_400_000)
  const hours = Math.floor((ms % 86_400_000) / 3_600_000)
  return `${days} d ${hours} h`
}

export function bannerText(input: BannerInput): string {
  const query = JSON.stringify({
    query:
      'mutation { createConsent(input: {provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA, ' +
      `redirectUrl: "${input.doneUrl}"}) ` +
      '{ __typename ... on CreateConsentPayload { consent { id status authorizationUrl } } ... on Error { code message } } }',
  })
  return [
    '',
    'consent-gateway is running (local mode)',
    '',
    `  GraphiQL          ${input.graphqlUrl}   ${input.credentialsPrefilled ? '(demo credentials pre-filled, README examples in tabs)' : '(paste the credentials below)'}`,
    ...(input.networkUrl
      ? [
          `  On your network   ${input.networkUrl}   (HOST: other machines can reach the gateway and the sandboxes;`,
          '                    the controls need the control secret; GraphiQL pre-fills credentials only on this machine)',
        ]
      : []),
    `  Client id         ${input.clientId}`,
    `  Client secret     ${input.clientSecret}`,
    `  Control secret    ${input.controlSecret}   (X-Control-Secret header: sandbox and gateway clock controls)`,
    `  Done page         ${input.doneUrl}   (use it as redirectUrl: shows what comes back from the bank)`,
    `  Sandboxes         Finqware ${input.finqwareUrl}, Worldline ${input.worldlineUrl}, Yapily ${input.yapilyUrl}`,
    "                    (their bank pages are the consents' authorizationUrl; controls under /__sandbox/)",
    `  Gateway clock     ${input.clockUrl}   (ahead of real time by ${offset(input.clockOffsetMs)}; docs/local.md)`,
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
    'Move time for the whole stack (warnings, expiry) in minutes:',
    `  curl -s -H ${shellQuote(`x-control-secret: ${input.controlSecret}`)} ${input.clockUrl} -d '{"advanceSeconds": 604800}'`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n')
}

export function printBanner(input: BannerInput): void {
  console.log(bannerText(input))
}
