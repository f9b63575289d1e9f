// Yapily sandbox webhooks as pure functions: HMAC signing, the consent status event body, the registration rules.
import { createHmac } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { YapilyIssueError } from '../../sandbox/yapily/errors.ts'
import { consentStatusEventBody, webhookSignature } from '../../sandbox/yapily/webhook-events.ts'
import { parseWebhookRegistration } from '../../sandbox/yapily/webhook-request.ts'

function issue(run: () => unknown): string | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    if (error instanceof YapilyIssueError)
      return `${error.status} ${error.issues[0]?.code} ${error.issues[0]?.parameter}`
    throw error
  }
}

describe('webhookSignature', () => {
  test('is sha256= and the lowercase hex HMAC-SHA256 of the exact body under the secret', () => {
    const body = '{"id":"e-1","type":"consent.status"}'

    const signature = webhookSignature(body, 'secret-1')

    expect(signature).toBe(`sha256=${createHmac('sha256', 'secret-1').update(body).digest('hex')}`)
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/)
  })

  test('changes with one byte of the body and with the secret', () => {
    const body = '{"a":1}'

    expect(webhookSignature('{"a":2}', 'k')).not.toBe(webhookSignature(body, 'k'))
    expect(webhookSignature(body, 'k2')).not.toBe(webhookSignature(body, 'k'))
  })
})

describe('consentStatusEventBody', () => {
  test("the delivery envelope: the webhook's id, the event fields and the webhook metadata beside the tracing id", () => {
    const body = consentStatusEventBody({
      webhookId: 'w-1',
      applicationId: 'app',
      consent: { id: 'c-1', status: 'AUTHORIZED', institutionId: 'modelo-sandbox', applicationUserId: 'u-1' },
      tracingId: 't-1',
      metadata: { team: 'x', tracingId: 'overridden' },
    })

    expect(JSON.parse(body)).toEqual({
      id: 'w-1',
      applicationId: 'app',
      type: 'consent.status',
      event: { consentId: 'c-1', status: 'AUTHORIZED', institutionId: 'modelo-sandbox', applicationUserId: 'u-1' },
      metadata: { team: 'x', tracingId: 't-1' },
    })
  })
})

describe('parseWebhookRegistration', () => {
  const valid = {
    applicationId: 'app',
    categories: ['consent.status', 'consent.status'],
    callbackUrl: { main: { url: 'https://partner.example/hook' } },
  }

  test('a valid registration, duplicates in categories dropped', () => {
    expect(parseWebhookRegistration(valid, 'app')).toEqual({
      categories: ['consent.status'],
      callbackUrl: { main: { url: 'https://partner.example/hook' } },
      metadata: null,
    })
  })

  test.each([
    ['not an object', 'nope', '$'],
    ['another application', { ...valid, applicationId: 'other' }, '$.applicationId'],
    ['no categories', { ...valid, categories: [] }, '$.categories'],
    ['an unknown category', { ...valid, categories: ['consent.mood'] }, '$.categories'],
    ['no callbackUrl', { ...valid, callbackUrl: undefined }, '$.callbackUrl'],
    [
      'a main URL with a query',
      { ...valid, callbackUrl: { main: { url: 'https://p.example/h?x=1' } } },
      '$.callbackUrl.main.url',
    ],
    [
      'a main URL with an empty query',
      { ...valid, callbackUrl: { main: { url: 'https://p.example/h?' } } },
      '$.callbackUrl.main.url',
    ],
    ['a relative URL', { ...valid, callbackUrl: { main: { url: '/hook' } } }, '$.callbackUrl.main.url'],
    ['a non-http URL', { ...valid, callbackUrl: { main: { url: 'ftp://p.example/h' } } }, '$.callbackUrl.main.url'],
    [
      'a backup URL with a query',
      { ...valid, callbackUrl: { main: { url: 'https://p.example/h' }, backup: { url: 'https://b.example/?q' } } },
      '$.callbackUrl.backup.url',
    ],
    ['metadata that is not strings', { ...valid, metadata: { n: 1 } }, '$.metadata'],
    ['metadata of 10 kB', { ...valid, metadata: { big: 'x'.repeat(10 * 1024) } }, '$.metadata'],
  ])('%s is 400 issue 10600 on %s', (_case, body, parameter) => {
    expect(issue(() => parseWebhookRegistration(body, 'app'))).toBe(`400 10600 ${parameter}`)
  })
})
