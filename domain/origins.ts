// The web origins a tenant may register for its pages: exactly what a browser sends in `Origin`, over HTTPS, or plain
// HTTP on this machine only (a dev server). No paths, no wildcards: CORS compares the header with each entry exactly.

/** At most this many origins per tenant. */
export const MAX_ALLOWED_ORIGINS = 20

const LOCAL_HTTP_HOSTS = new Set(['localhost', '127.0.0.1'])

/** Why `value` is not an origin a tenant may register, or null when it is one. */
export function originProblem(value: string): string | null {
  if (value.length > 255) return 'is longer than 255 characters'
  if (value.includes('*')) return 'has a wildcard: name each origin exactly'
  if (!URL.canParse(value)) return 'is not a URL (expected https://host[:port])'
  const url = new URL(value)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'is not http(s) (expected https://host[:port])'
  if (url.protocol === 'http:' && !LOCAL_HTTP_HOSTS.has(url.hostname)) {
    return 'is plain http: only http://localhost[:port] and http://127.0.0.1[:port] may be, anything else needs https'
  }
  if (url.username || url.password) return 'has credentials in it'
  if (url.pathname !== '/' || url.search || url.hash || /[?#]/.test(value)) {
    return `has a path, query or fragment: write ${url.origin}`
  }
  if (url.origin !== value) return `is not written as a browser sends it: write ${url.origin}`
  return null
}

/** The origins, each checked, duplicates dropped (first kept); throws nothing: the problems come back instead. */
export function checkOrigins(values: readonly string[]): { origins: string[]; problems: string[] } {
  const problems = values.flatMap((value) => {
    const problem = originProblem(value)
    return problem ? [`"${value}" ${problem}`] : []
  })
  const origins = [...new Set(values)]
  if (problems.length === 0 && origins.length > MAX_ALLOWED_ORIGINS) {
    problems.push(`${origins.length} origins: at most ${MAX_ALLOWED_ORIGINS}`)
  }
  return { origins, problems }
}
