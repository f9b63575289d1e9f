// Route patterns of the sandbox router: literal segments, decoded params, no partial matches.
import { describe, expect, test } from 'vitest'
import { matchPath } from '../../sandbox/shared/http.ts'

describe('matchPath', () => {
  test('matches literal paths exactly', () => {
    expect(matchPath('/v2/ais/consents/get', '/v2/ais/consents/get')).toEqual({})
    expect(matchPath('/v2/ais/consents/get', '/v2/ais/consents/get/')).toBeNull()
    expect(matchPath('/v2/ais/consents/get', '/v2/ais/consents')).toBeNull()
  })

  test('captures and decodes params', () => {
    expect(matchPath('/__sandbox/consents/:consentId/status', '/__sandbox/consents/a%20b/status')).toEqual({
      consentId: 'a b',
    })
  })

  test('an empty or malformed param does not match', () => {
    expect(matchPath('/link/:webId', '/link/')).toBeNull()
    expect(matchPath('/link/:webId', '/link/%E0%A4%A')).toBeNull()
  })
})
