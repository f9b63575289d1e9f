// The Finqware sandbox's user-facing side: the hosted WebUI and bank page, direct_sca and /ais/consents/redirect.
import { describe, expect, test } from 'vitest'
import {
  AUTH,
  clickButton,
  DAY_MS,
  decideAtBank,
  expectErrorBody,
  finqware,
  openPage,
  parseForm,
  receiver,
  sandbox,
  statusesAt,
  useFinqwareSandbox,
  UUID,
} from './harness.ts'

useFinqwareSandbox()

describe('hosted WebUI and bank page', () => {
  test('approve: a form with two decision buttons; 303 back to redirect_url; authorized, then active', async () => {
    // Prepare
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({
      ais_method: { provider_id: 'rzb_ro' },
      options: { webhook_url: hook, redirect_url: 'https://partner.example/return?ref=a%20b#done' },
    })

    // Act
    const page = await openPage(created.web_url)
    const before = Date.now()
    const answer = await clickButton(page.form, 'decision', 'approve')
    const after = Date.now()

    // Assess: the page follows the automation contract.
    expect(page.status).toBe(200)
    expect(page.html).toContain('Raiffeisen Bank Romania')
    expect(page.form?.method).toBe('post')
    expect(page.form?.action.href).toBe(created.web_url)
    expect(page.form?.buttons).toEqual([
      { name: 'decision', value: 'approve' },
      { name: 'decision', value: 'deny' },
    ])
    // Assess: back to the partner, its own query and fragment kept.
    expect(answer.status).toBe(303)
    const location = new URL(answer.headers.get('location') ?? '')
    expect(location.origin + location.pathname).toBe('https://partner.example/return')
    expect(location.searchParams.get('ref')).toBe('a b')
    expect(location.searchParams.get('consent_id')).toBe(created.consent_id)
    expect(location.searchParams.get('status')).toBe('authorized')
    expect(location.hash).toBe('#done')
    // Assess: authorised for consent_validity_days, then the first job makes it active with accounts.
    await finqware.waitForStatus(created.consent_id, 'active')
    const got = (await finqware.get(created.consent_id)).body
    const authorizedUntil = Date.parse(got.authorized_until)
    expect(authorizedUntil).toBeGreaterThanOrEqual(before + 90 * DAY_MS - 1000)
    expect(authorizedUntil).toBeLessThanOrEqual(after + 90 * DAY_MS + 1000)
    expect(got.accounts).toEqual([
      {
        account_id: expect.stringMatching(UUID),
        iban: 'RO03RZBR0000069999999999',
        currency: 'RON',
        name: 'Cont curent',
      },
      {
        account_id: expect.stringMatching(UUID),
        iban: 'RO10RZBR0000069999999970',
        currency: 'RON',
        name: 'Cont economii',
      },
    ])
    expect(got.latest_completed_job).toEqual({
      job_id: expect.stringMatching(UUID),
      status: 'job_completed',
      completed_at: expect.any(String),
    })
    // Assess: one webhook per change, in order (the log keeps enqueue order).
    const deliveries = await finqware.flush()
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).status)).toEqual([
      'started',
      'sca_url_retrieved',
      'awaiting_authz',
      'authorized',
      'active',
    ])
    expect(statusesAt(hook).sort()).toEqual(
      ['active', 'authorized', 'awaiting_authz', 'sca_url_retrieved', 'started'].sort(),
    )
  })

  test('re-opening the page shows it again without repeating transitions', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ ais_method: { provider_id: 'cec_ro' }, options: { webhook_url: hook } })

    const first = await openPage(created.web_url)
    const second = await openPage(created.web_url)

    expect(first.status).toBe(200)
    expect(second.status).toBe(200)
    expect(second.form?.buttons).toHaveLength(2)
    expect(await finqware.statusOf(created.consent_id)).toBe('awaiting_authz')
    await finqware.flush()
    expect(statusesAt(hook)).toHaveLength(3)
  })

  test('deny: failed, and the redirect says so, with error=access_denied as the native bank answers', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({
      ais_method: { provider_id: 'bt_ro' },
      options: { webhook_url: hook, redirect_url: 'http://127.0.0.1:9/back' },
    })

    const answer = await decideAtBank(created.web_url, 'deny')

    expect(answer.status).toBe(303)
    const location = new URL(answer.headers.get('location') ?? '')
    expect(Object.fromEntries(location.searchParams)).toEqual({
      consent_id: created.consent_id,
      status: 'failed',
      error: 'access_denied',
    })
    const got = (await finqware.get(created.consent_id)).body
    expect(got.status).toBe('failed')
    expect(got.authorized_until).toBeNull()
    const deliveries = await finqware.flush()
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).status).at(-1)).toBe('failed')
  })

  test('a link without a provider shows the bank picker first; choosing a bank shows the SCA page', async () => {
    const hook = receiver.newEndpoint()
    const created = await finqware.createOk({ options: { webhook_url: hook } })

    const picker = await openPage(created.web_url)
    const statusAtPicker = await finqware.statusOf(created.consent_id)
    const bankPageResponse = await clickButton(picker.form, 'provider_id', 'cec_ro')
    const bankPageHtml = await bankPageResponse.text()
    const bankPageForm = parseForm(bankPageHtml, created.web_url)
    const decided = await clickButton(bankPageForm, 'decision', 'approve')

    expect(picker.status).toBe(200)
    expect(picker.form?.buttons.map((button) => button.value)).toEqual(['rzb_ro', 'bt_ro', 'cec_ro'])
    expect(statusAtPicker).toBe('started')
    expect(bankPageResponse.status).toBe(200)
    expect(bankPageHtml).toContain('CEC Bank')
    // No redirect_url: the decision answers a result page.
    expect(decided.status).toBe(200)
    expect(await decided.text()).toContain('authorized')
    const got = (await finqware.get(created.consent_id)).body
    expect(got.service_provider).toEqual({ provider_id: 'cec_ro', name: 'CEC Bank', country: 'RO' })
    const deliveries = await finqware.flush()
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).status).slice(0, 4)).toEqual([
      'started',
      'sca_url_retrieved',
      'awaiting_authz',
      'authorized',
    ])
  })

  test('a second decision on a decided consent is a 409 page and changes nothing', async () => {
    const created = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' } })
    const page = await openPage(created.web_url)
    await clickButton(page.form, 'decision', 'deny')

    const again = await clickButton(page.form, 'decision', 'approve')
    const reopened = await openPage(created.web_url)

    expect(again.status).toBe(409)
    expect(reopened.status).toBe(409)
    expect(reopened.form).toBeUndefined()
    expect(await finqware.statusOf(created.consent_id)).toBe('failed')
  })

  test('an unknown web_id is a 404 page, and a post without a decision is a 400 page', async () => {
    const created = await finqware.createOk({ ais_method: { provider_id: 'rzb_ro' } })

    const unknown = await fetch(`${sandbox.url}/link/no-such-link`)
    const noDecision = await fetch(created.web_url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=maybe',
    })

    expect(unknown.status).toBe(404)
    expect(unknown.headers.get('content-type')).toContain('text/html')
    expect(noDecision.status).toBe(400)
    expect(await finqware.statusOf(created.consent_id)).toBe('created')
  })
})

describe('direct_sca and /ais/consents/redirect', () => {
  /** Creates a direct_sca consent, opens the native bank page and answers it; returns the bank redirect's query. */
  async function throughNativeBank(decision: 'approve' | 'deny', webhookUrl?: string) {
    const created = await finqware.createOk({
      ais_method: { provider_id: 'cec_ro' },
      options: { type: 'direct_sca', redirect_url: 'https://partner.example/bank-return', webhook_url: webhookUrl },
    })
    const answer = await decideAtBank(created.sca_url ?? '', decision)
    expect(answer.status).toBe(303)
    const location = new URL(answer.headers.get('location') ?? '')
    return { created, location, queryString: location.search.slice(1) }
  }

  function redirect(queryString: string, sync?: boolean) {
    const body = { ...AUTH, query_string: queryString, ...(sync !== undefined && { sync }) }
    return finqware.api('/v2/ais/consents/redirect', body)
  }

  test('create answers web_url null and a native sca_url; the bank returns the user with code and state', async () => {
    const { created, location } = await throughNativeBank('approve')

    expect(created.web_url).toBeNull()
    expect(created.sca_url).toMatch(new RegExp(`^${sandbox.url}/bank/cec_ro/authorize\\?state=`))
    expect(location.origin + location.pathname).toBe('https://partner.example/bank-return')
    expect(location.searchParams.get('code')).toBeTruthy()
    expect(location.searchParams.get('state')).toBe(new URL(created.sca_url ?? '').searchParams.get('state'))
    expect(await finqware.statusOf(created.consent_id)).toBe('sca_url_retrieved')
    expect((await finqware.get(created.consent_id)).body).toMatchObject({ web_url: null, sca_url: created.sca_url })
  })

  test('sync: 200 with the status reached; a retry answers 201 already processed', async () => {
    const hook = receiver.newEndpoint()
    const { created, queryString } = await throughNativeBank('approve', hook)

    const processed = await redirect(queryString, true)
    const retried = await redirect(queryString, true)

    expect(processed.status).toBe(200)
    expect(processed.body).toEqual({
      request_id: expect.any(String),
      status: 'authorized',
      api_client_app: 'sandbox-client',
      consent_id: created.consent_id,
      web_id: created.web_id,
    })
    expect(retried.status).toBe(201)
    expect(['authorized', 'active']).toContain(retried.body.status)
    await finqware.waitForStatus(created.consent_id, 'active')
    await finqware.flush()
    expect(statusesAt(hook).sort()).toEqual(['active', 'authorized', 'sca_url_retrieved', 'started'])
  })

  test('async: 202 redirect_in_progress, 202 again while processing, then 201 once processed', async () => {
    const { created, queryString } = await throughNativeBank('approve')

    const started = await redirect(queryString)
    const concurrent = await redirect(queryString, true)
    await finqware.waitForStatus(created.consent_id, 'active')
    const after = await redirect(queryString)

    expect(started.status).toBe(202)
    expect(started.body.status).toBe('redirect_in_progress')
    expect(concurrent.status).toBe(202)
    expect(concurrent.body.status).toBe('redirect_in_progress')
    expect(after.status).toBe(201)
    expect(after.body.status).toBe('active')
  })

  test('a denial at the bank comes back as error=access_denied and the redirect fails the consent', async () => {
    const { created, location, queryString } = await throughNativeBank('deny')

    const processed = await redirect(queryString, true)

    expect(location.searchParams.get('error')).toBe('access_denied')
    expect(processed.status).toBe(200)
    expect(processed.body.status).toBe('failed')
    expect(await finqware.statusOf(created.consent_id)).toBe('failed')
  })

  test('query_string must match the documented pattern with state; an unknown state is 404', async () => {
    const { queryString } = await throughNativeBank('approve')

    expectErrorBody(await redirect('code=abc'), 400, 'validation_error')
    expectErrorBody(await redirect('code=abc&stateless=1'), 400, 'validation_error')
    expectErrorBody(await redirect(`&${queryString}`), 400, 'validation_error')
    expectErrorBody(await redirect('state=unknown&code=abc'), 404, 'consent_not_found')
    expectErrorBody(
      await finqware.api('/v2/ais/consents/redirect', { ...AUTH, query_string: queryString, sync: 'yes' }),
      400,
      'validation_error',
    )
  })

  test('a redirect before the bank answered, or with a wrong code, is refused and changes nothing', async () => {
    const created = await finqware.createOk({
      ais_method: { provider_id: 'rzb_ro' },
      options: { type: 'direct_sca', redirect_url: 'https://partner.example/bank-return' },
    })
    const state = new URL(created.sca_url ?? '').searchParams.get('state') ?? ''

    const early = await redirect(`code=guess&state=${state}`, true)
    const answer = await decideAtBank(created.sca_url ?? '', 'approve')
    const wrongCode = await redirect(`code=guess&state=${state}`, true)

    expect(answer.status).toBe(303)
    expectErrorBody(early, 400, 'validation_error')
    expectErrorBody(wrongCode, 400, 'validation_error')
    expect(await finqware.statusOf(created.consent_id)).toBe('sca_url_retrieved')
  })
})
