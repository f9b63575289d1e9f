// Who the AWS credentials belong to (STS GetCallerIdentity), for the admin log's "who" on a deployed stage. No STS
// client is among our dependencies and this one call needs none: a Signature Version 4 POST, checked against AWS's
// published example (test/unit/aws-identity.test.ts). GetCallerIdentity needs no permission, so any credentials that
// may write the table can name themselves.
import { createHash, createHmac } from 'node:crypto'

export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

export interface SignableRequest {
  readonly method: string
  readonly url: URL
  /** Sent as given and signed (names in any case); `host`, `x-amz-date` and the session token are added. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest()

/** RFC 3986 encoding, as SigV4's canonical query wants it. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** The request's headers with the Signature Version 4 `authorization` (and what it signs) added. */
export function signV4(
  request: SignableRequest,
  credentials: AwsCredentials,
  scope: { readonly region: string; readonly service: string; readonly now: Date },
): Record<string, string> {
  const amzDate = scope.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const day = amzDate.slice(0, 8)
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value])),
    host: request.url.host,
    'x-amz-date': amzDate,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  }
  const names = Object.keys(headers).sort()
  const signedHeaders = names.join(';')
  const query = [...request.url.searchParams]
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  const canonical = [
    request.method.toUpperCase(),
    request.url.pathname || '/',
    query,
    ...names.map((name) => `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}`),
    '',
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n')
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`
  const toSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonical)].join('\n')
  const key = [day, scope.region, scope.service, 'aws4_request'].reduce<string | Buffer>(
    (k, part) => hmac(k, part),
    `AWS4${credentials.secretAccessKey}`,
  )
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex')
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  }
}

export interface CallerIdentityOptions {
  readonly region: string
  /**
   * STS's URL; the regional endpoint unless `AWS_ENDPOINT_URL_STS` (the SDKs' own variable) names another.
   * @default https://sts.<region>.amazonaws.com
   */
  readonly endpoint?: string | undefined
  /** @default 5_000 */
  readonly timeoutMs?: number
  readonly now?: () => Date
}

/** The ARN the credentials act as (`arn:aws:sts::<account>:assumed-role/<role>/<session>`, an IAM user's ARN...). */
export async function callerIdentity(credentials: AwsCredentials, options: CallerIdentityOptions): Promise<string> {
  const url = new URL(options.endpoint ?? `https://sts.${options.region}.amazonaws.com/`)
  const body = 'Action=GetCallerIdentity&Version=2011-06-15'
  const headers = signV4(
    { method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body },
    credentials,
    { region: options.region, service: 'sts', now: (options.now ?? (() => new Date()))() },
  )
  const { host: _host, ...sent } = headers
  const response = await fetch(url, {
    method: 'POST',
    headers: sent,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
  })
  const text = await response.text()
  if (!response.ok) {
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1]
    throw new Error(`STS answered ${response.status}${code ? ` ${code}` : ''}`)
  }
  const arn = /<Arn>(arn:[^<]{1,300})<\/Arn>/.exec(text)?.[1]
  if (!arn) throw new Error('STS answered without an ARN')
  return arn
}
