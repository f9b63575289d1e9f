// The Yapily sandbox's webhooks: registration rules, categories, every status change delivered and signed with each
// webhook's own secret (HMAC-SHA256), configurable header and event type, unsigned deliveries.
import { createHmac } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { startYapilySandbox } from '../../../sandbox/yapily/server.ts'
import {
  APP_ID,
  authorisedEmbeddedConsent,
  decide,
  KEY,
  OTHER,
  other,
  receiver,
  SECRET,
  useYapilySandbox,
  UUID,
  yapily,
  YapilyClient,
} from './harness.ts'

useYapilySandbox()

describe('webhooks', () => {
  test('registration answers the secret once; the list and delete never show it', async () => {
    const url = receiver.newEndpoint()

    const registered = await yapily.registerWebhook({
      callbackUrl: { main: { url }, backup: { url: `${url}-backup` } },
      metadata: { team: 'payments' },
    })
    const listed = await yapily.call('GET', '/webhook/events')
    const deleted = await yapily.call('DELETE', `/webhook/events/${registered.body.data.id}`)
    const afterDelete = await yapily.call('GET', '/webhook/events')
    const deletedAgain = await yapily.call('DELETE', `/webhook/events/${registered.body.data.id}`)

    const secret = registered.body.data.webhookSecret as string
    expect(registered.status).toBe(201)
    expect(registered.body.meta.tracingId).toMatch(UUID)
    expect(registered.body.data).toEqual({
      id: expect.stringMatching(UUID),
      applicationId: APP_ID,
      categories: ['consent.status'],
      callbackUrl: { main: { url }, backup: { url: `${url}-backup` } },
      metadata: { team: 'payments' },
      status: 'active',
      webhookSecret: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/),
    })
    expect(listed.body.data.active).toEqual([{ ...registered.body.data, webhookSecret: undefined }])
    expect(listed.text).not.toContain(secret)
    expect(deleted.status).toBe(200)
    expect(deleted.text).not.toContain(secret)
    expect(afterDelete.body.data.active).toEqual([])
    expect(deletedAgain.status).toBe(404)
    expect(deletedAgain.body.error.issues[0].code).toBe('10800')
  })

  test('at most 10 per application: the 11th is 406 with issue 14007; another application has its own 10', async () => {
    for (let index = 0; index < 10; index += 1) {
      expect((await yapily.registerWebhook({ callbackUrl: { main: { url: receiver.newEndpoint() } } })).status).toBe(
        201,
      )
    }

    const eleventh = await yapily.registerWebhook({ callbackUrl: { main: { url: receiver.newEndpoint() } } })
    const otherApp = await other.registerWebhook({
      applicationId: OTHER.id,
      callbackUrl: { main: { url: receiver.newEndpoint() } },
    })

    expect(eleventh.status).toBe(406)
    expect(eleventh.body.error).toMatchObject({
      code: 406,
      status: 'NOT_ACCEPTABLE',
      source: 'YAPILY',
      issues: [{ type: 'RESOURCE', code: '14007', message: expect.any(String) }],
    })
    expect(otherApp.status).toBe(201)
  })

  test.each([
    ['a main URL with a query string', { callbackUrl: { main: { url: 'https://partner.example/hook?x=1' } } }],
    [
      'a backup URL with a query string',
      { callbackUrl: { main: { url: 'https://partner.example/hook' }, backup: { url: 'https://b.example/?k=v' } } },
    ],
    ['no main URL', { callbackUrl: {} }],
    [
      'another application id',
      { applicationId: 'someone-else', callbackUrl: { main: { url: 'https://partner.example/h' } } },
    ],
    [
      'an unknown category',
      { categories: ['consent.mood'], callbackUrl: { main: { url: 'https://partner.example/h' } } },
    ],
    ['no categories', { categories: [], callbackUrl: { main: { url: 'https://partner.example/h' } } }],
  ])('%s is 400 in the new envelope', async (_case, body) => {
    const refused = await yapily.registerWebhook(body)

    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ code: 400, status: 'BAD_REQUEST', issues: [{ code: '10600' }] })
  })

  test('categories list consent.status and the documented payment categories', async () => {
    const answer = await yapily.call('GET', '/webhook/events/categories')

    const names = answer.body.data.categories.map((category: any) => category.name)
    expect(names).toEqual(expect.arrayContaining(['consent.status', 'payment.state.success', 'payment.state.failed']))
  })

  test('every status change is delivered, signed with each webhook’s own secret (HMAC-SHA256 of the raw body)', async () => {
    // Prepare: two consent webhooks and one for payments only.
    const first = receiver.newEndpoint()
    const second = receiver.newEndpoint()
    const payments = receiver.newEndpoint()
    const one = await yapily.registerWebhook({ callbackUrl: { main: { url: first } }, metadata: { env: 'test' } })
    const two = await yapily.registerWebhook({ callbackUrl: { main: { url: second } } })
    await yapily.registerWebhook({ categories: ['payment.state.success'], callbackUrl: { main: { url: payments } } })

    // Act
    const created = await yapily.createOk({ applicationUserId: 'hooked' })
    await decide(created.authorisationUrl as string, 'approve')
    await yapily.remove(created.id as string)
    await yapily.flush()

    // Assess
    const deliveries = receiver.at(first)
    expect(deliveries.map((delivery) => delivery.body.event.status)).toEqual(['AUTHORIZED', 'REVOKED'])
    expect(deliveries[0]?.body).toEqual({
      id: one.body.data.id,
      applicationId: APP_ID,
      type: 'consent.status',
      event: {
        consentId: created.id,
        status: 'AUTHORIZED',
        institutionId: 'modelo-sandbox',
        applicationUserId: 'hooked',
      },
      metadata: { env: 'test', tracingId: expect.stringMatching(UUID) },
    })
    // Each delivery has its own tracing id; the webhook's id is the same on all of them.
    expect(new Set(deliveries.map((delivery) => delivery.body.metadata.tracingId)).size).toBe(deliveries.length)
    expect(receiver.at(second).every((delivery) => delivery.body.id === two.body.data.id)).toBe(true)
    for (const [url, secret] of [
      [first, one.body.data.webhookSecret],
      [second, two.body.data.webhookSecret],
    ] as Array<[string, string]>) {
      for (const delivery of receiver.at(url)) {
        const expected = `sha256=${createHmac('sha256', secret).update(delivery.text).digest('hex')}`
        expect(delivery.headers['x-yapily-signature']).toBe(expected)
      }
    }
    expect(receiver.at(second)).toHaveLength(2)
    expect(receiver.at(payments)).toEqual([])
  })

  test('the signature header and the consent event type are options (both are guesses: docs/providers.md)', async () => {
    const configured = await startYapilySandbox({
      applications: [{ key: KEY, secret: SECRET, id: APP_ID }],
      callbacks: ['https://partner.example/'],
      webhookRetry: { baseDelayMs: 10, maxDelayMs: 40, attemptTimeoutMs: 2_000 },
      webhookSignatureHeader: 'Webhook-Signature',
      consentEventType: 'CONSENT_STATUS_UPDATE',
    })
    try {
      const client = new YapilyClient(configured.url)
      const url = receiver.newEndpoint()
      const categories = await client.call('GET', '/webhook/events/categories')
      const oldName = await client.registerWebhook({ callbackUrl: { main: { url } } })
      const hook = await client.registerWebhook({
        categories: ['CONSENT_STATUS_UPDATE'],
        callbackUrl: { main: { url } },
      })
      expect(hook.status, hook.text).toBe(201)

      const created = await client.createOk({ applicationUserId: 'configured-hook' })
      const decided = await decide(created.authorisationUrl as string, 'approve')
      expect(decided.status).toBe(302)
      await client.flush()

      expect(categories.body.data.categories.map((category: any) => category.name)).toContain('CONSENT_STATUS_UPDATE')
      expect(oldName.status).toBe(400)
      const [delivery] = receiver.at(url)
      expect(delivery?.body).toMatchObject({ type: 'CONSENT_STATUS_UPDATE', event: { consentId: created.id } })
      const expected = `sha256=${createHmac('sha256', hook.body.data.webhookSecret)
        .update(delivery?.text ?? '')
        .digest('hex')}`
      expect(delivery?.headers['webhook-signature']).toBe(expected)
      expect(delivery?.headers).not.toHaveProperty('x-yapily-signature')
    } finally {
      await configured.close()
    }
  })

  test('the embedded steps are observable as webhooks; another application’s webhooks hear nothing', async () => {
    const url = receiver.newEndpoint()
    const otherUrl = receiver.newEndpoint()
    await yapily.registerWebhook({ callbackUrl: { main: { url } } })
    await other.registerWebhook({ applicationId: OTHER.id, callbackUrl: { main: { url: otherUrl } } })

    await authorisedEmbeddedConsent()
    await yapily.flush()

    expect(receiver.at(url).map((delivery) => delivery.body.event.status)).toEqual([
      'AWAITING_SCA_METHOD',
      'AWAITING_SCA_CODE',
      'AUTHORIZED',
    ])
    expect(receiver.at(otherUrl)).toEqual([])
  })

  test('with signWebhooks off, deliveries carry no signature', async () => {
    const unsigned = await startYapilySandbox({ signWebhooks: false, callbacks: ['https://partner.example/'] })
    try {
      const client = new YapilyClient(unsigned.url)
      const url = receiver.newEndpoint()
      await client.registerWebhook({ callbackUrl: { main: { url } } })
      const created = await client.createOk()

      await decide(created.authorisationUrl as string, 'approve')
      await client.flush()

      expect(receiver.at(url)).toHaveLength(1)
      expect(receiver.at(url)[0]?.headers['x-yapily-signature']).toBeUndefined()
    } finally {
      await unsigned.close()
    }
  })
})
