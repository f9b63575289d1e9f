// The Worldline sandbox's hosted bank pages: one holder's decision, and multi-level SCA with several holders.
import { randomUUID } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import {
  A,
  decide,
  NOTIFICATION_TOKEN,
  notificationHeaders,
  openPage,
  receiver,
  sandbox,
  statusesAt,
  submit,
  useWorldlineSandbox,
  UUID,
  worldline,
} from './harness.ts'

useWorldlineSandbox()

describe('bank page: one holder', () => {
  test('open -> Pending; approve -> Authorised, 303 back with consentId and status; accounts answer 200', async () => {
    // Prepare
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({
      headers: {
        ...notificationHeaders(base),
        initiatingpartyreturnurl: 'https://tpp.example/return?ref=a%20b#done',
      },
    })
    const pageUrl: string = created.Links.RedirectUrl.Href

    // Act
    const page = await openPage(pageUrl)
    const pending = (await worldline.status(created.ConsentId)).body
    const answer = await submit(page.form, 'approve')
    const authorised = (await worldline.status(created.ConsentId)).body
    const accounts = await worldline.accounts('20101')

    // Assess: the page follows the automation contract, with the holder count on the first holder's page.
    expect(page.status).toBe(200)
    expect(page.html).toContain('Brabant Sandbox Bank')
    expect(page.html).toContain('Account holders who must approve')
    expect(page.form?.method).toBe('post')
    expect(page.form?.action.href).toBe(pageUrl)
    expect(page.form?.buttons).toEqual([
      { name: 'decision', value: 'approve' },
      { name: 'decision', value: 'deny' },
    ])
    expect(page.form?.inputs).toEqual([{ name: 'holders', value: '1', type: 'number' }])
    // Assess: statuses and links.
    expect(pending.ConsentStatus).toBe('Pending')
    expect(Object.keys(pending.Links).sort()).toEqual(['GetConsentStatus', 'RedirectUrl'])
    expect(authorised).toMatchObject({
      ConsentStatus: 'Authorised',
      NumberOfAuthorisationsRequired: 1,
      NumberOfAuthorisationsDone: 1,
    })
    expect(Object.keys(authorised.Links)).toEqual(['GetConsentStatus'])
    // Assess: back to the TPP, its own query and fragment kept.
    expect(answer.status).toBe(303)
    const location = new URL(answer.headers.get('location') ?? '')
    expect(location.origin + location.pathname).toBe('https://tpp.example/return')
    expect(location.searchParams.get('ref')).toBe('a b')
    expect(location.searchParams.get('consentId')).toBe(created.ConsentId)
    expect(location.searchParams.get('status')).toBe('Authorised')
    expect(location.hash).toBe('#done')
    // Assess: the bank's accounts.
    expect(accounts.status).toBe(200)
    expect(accounts.body).toEqual({
      Accounts: [
        { AccountId: expect.stringMatching(UUID), Iban: 'BE68539007547034', Currency: 'EUR', Name: 'Zichtrekening' },
      ],
    })
    // Assess: one notification per change, Open excluded.
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised'])
  })

  test('a notification carries the Bearer token, the required headers and the documented JSON fields', async () => {
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({ psuId: 'psu-n', headers: notificationHeaders(base) })

    await decide(created.Links.RedirectUrl.Href, 'approve')
    const deliveries = await worldline.flush()

    const [, authorised] = receiver.at(`${new URL(base).pathname}/v3/notification/status`)
    expect(authorised?.headers.authorization).toBe(`Bearer ${NOTIFICATION_TOKEN}`)
    expect(authorised?.headers['content-type']).toBe('application/json')
    expect(authorised?.headers['x-request-id']).toMatch(UUID)
    expect(authorised?.headers['messagecreatedatetime']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(authorised?.body).toEqual({ ConsentId: created.ConsentId, ConsentStatus: 'Authorised', AspspId: '20101' })
    expect(deliveries.every((delivery) => delivery.state === 'delivered')).toBe(true)
  })

  test('deny -> Rejected and 303 with status=Rejected; the data call finds no consent (400 code 122)', async () => {
    const created = await worldline.createOk({ headers: { initiatingpartyreturnurl: 'https://tpp.example/return' } })

    const answer = await decide(created.Links.RedirectUrl.Href, 'deny')

    expect(answer.status).toBe(303)
    expect(new URL(answer.headers.get('location') ?? '').searchParams.get('status')).toBe('Rejected')
    expect(await worldline.statusOf(created.ConsentId)).toBe('Rejected')
    const accounts = await worldline.accounts()
    expect(accounts.status).toBe(400)
    expect(accounts.body.Code).toBe('122')
  })

  test('a page already decided is a 409 error page, and posting it again changes nothing', async () => {
    const created = await worldline.createOk()
    const page = await openPage(created.Links.RedirectUrl.Href)
    await submit(page.form, 'approve')

    const reopened = await openPage(created.Links.RedirectUrl.Href)
    const resubmitted = await submit(page.form, 'deny')
    const unknown = await openPage(`${sandbox.url}/bank/sca/nope`)

    expect(reopened.status).toBe(409)
    expect(reopened.form).toBeUndefined()
    expect(resubmitted.status).toBe(409)
    expect(unknown.status).toBe(404)
    expect(await worldline.statusOf(created.ConsentId)).toBe('Authorised')
  })

  test('without a return URL the decision shows a result page; a decision posted without opening works too', async () => {
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({ headers: notificationHeaders(base) })

    const answer = await fetch(created.Links.RedirectUrl.Href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=approve',
      redirect: 'manual',
    })

    expect(answer.status).toBe(200)
    expect(await answer.text()).toContain('Authorised')
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'Authorised'])
  })

  test.each(['0', '6', '1.5', 'two'])('holders=%s is a 400 error page and changes nothing', async (holders) => {
    const created = await worldline.createOk()
    const page = await openPage(created.Links.RedirectUrl.Href)

    const answer = await submit(page.form, 'approve', { holders })

    expect(answer.status).toBe(400)
    expect(await worldline.statusOf(created.ConsentId)).toBe('Pending')
  })

  test('a form without a decision is a 400 error page', async () => {
    const created = await worldline.createOk()

    const answer = await fetch(created.Links.RedirectUrl.Href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=maybe',
    })

    expect(answer.status).toBe(400)
    expect(await worldline.statusOf(created.ConsentId)).toBe('Open')
  })
})

describe('bank page: multi-level SCA', () => {
  test('2 holders: PartiallyAuthorised with StartAuthorisation; the second holder approves -> Authorised', async () => {
    // Prepare
    const base = receiver.newEndpoint()
    const created = await worldline.createOk({
      headers: { ...notificationHeaders(base), initiatingpartyreturnurl: 'https://tpp.example/return' },
    })

    // Act: the first holder declares two holders and approves.
    const first = await decide(created.Links.RedirectUrl.Href, 'approve', { holders: '2' })
    const partial = (await worldline.status(created.ConsentId)).body
    const accountsMeanwhile = await worldline.accounts()
    // Act: the next holder's authorisation, asked for twice (as a client polling would).
    const started = await worldline.startAuthorisation(created.ConsentId)
    const repeated = await worldline.startAuthorisation(created.ConsentId)
    const holderPage = await openPage(started.body.Links.RedirectUrl.Href)
    const second = await submit(holderPage.form, 'approve')
    const authorised = (await worldline.status(created.ConsentId)).body
    const afterwards = await worldline.startAuthorisation(created.ConsentId)

    // Assess
    expect(first.status).toBe(303)
    expect(new URL(first.headers.get('location') ?? '').searchParams.get('status')).toBe('PartiallyAuthorised')
    expect(partial).toMatchObject({
      ConsentStatus: 'PartiallyAuthorised',
      NumberOfAuthorisationsRequired: 2,
      NumberOfAuthorisationsDone: 1,
    })
    expect(partial.Links.StartAuthorisation).toEqual({
      Href: `${sandbox.url}${A}/psus/psu-1/consents/${created.ConsentId}/authorisations`,
    })
    expect(partial.Links).not.toHaveProperty('RedirectUrl')
    expect(accountsMeanwhile.status).toBe(400)
    expect(started.status).toBe(201)
    expect(started.body).toEqual({
      AuthorisationId: expect.stringMatching(UUID),
      ScaStatus: 'Started',
      Links: { RedirectUrl: { Href: expect.stringMatching(new RegExp(`^${sandbox.url}/bank/sca/`)) } },
    })
    expect(started.body.Links.RedirectUrl.Href).not.toBe(created.Links.RedirectUrl.Href)
    expect(repeated.status).toBe(201)
    expect(repeated.body).toEqual(started.body)
    expect(holderPage.status).toBe(200)
    expect(holderPage.html).toContain('2 of 2')
    expect(holderPage.form?.inputs).toEqual([])
    expect(second.status).toBe(303)
    expect(new URL(second.headers.get('location') ?? '').searchParams.get('status')).toBe('Authorised')
    expect(authorised).toMatchObject({
      ConsentStatus: 'Authorised',
      NumberOfAuthorisationsRequired: 2,
      NumberOfAuthorisationsDone: 2,
    })
    expect(afterwards.status).toBe(400)
    expect(afterwards.body.Code).toBe('001')
    expect((await worldline.accounts()).status).toBe(200)
    await worldline.flush()
    expect(statusesAt(base)).toEqual(['Pending', 'PartiallyAuthorised', 'Authorised'])
  })

  test('3 holders: the middle approval counts without a status change; each holder gets a new page', async () => {
    const created = await worldline.createOk()
    await decide(created.Links.RedirectUrl.Href, 'approve', { holders: '3' })

    const second = await worldline.startAuthorisation(created.ConsentId)
    await decide(second.body.Links.RedirectUrl.Href, 'approve')
    const middle = (await worldline.status(created.ConsentId)).body
    const third = await worldline.startAuthorisation(created.ConsentId)
    const stalePage = await openPage(second.body.Links.RedirectUrl.Href)
    await decide(third.body.Links.RedirectUrl.Href, 'approve')

    expect(middle).toMatchObject({ ConsentStatus: 'PartiallyAuthorised', NumberOfAuthorisationsDone: 2 })
    expect(third.body.AuthorisationId).not.toBe(second.body.AuthorisationId)
    expect(stalePage.status).toBe(409)
    expect(await worldline.statusOf(created.ConsentId)).toBe('Authorised')
  })

  test('a further holder who denies makes the consent Rejected', async () => {
    const created = await worldline.createOk()
    await decide(created.Links.RedirectUrl.Href, 'approve', { holders: '2' })
    const started = await worldline.startAuthorisation(created.ConsentId)

    await decide(started.body.Links.RedirectUrl.Href, 'deny')

    expect(await worldline.statusOf(created.ConsentId)).toBe('Rejected')
  })

  test('POST authorisations outside PartiallyAuthorised is 400 code 001 (Bad client request)', async () => {
    const created = await worldline.createOk()

    const refused = await worldline.startAuthorisation(created.ConsentId)
    const unknown = await worldline.startAuthorisation(randomUUID())

    expect(refused.status).toBe(400)
    expect(refused.body.Code).toBe('001')
    expect(unknown.status).toBe(404)
  })
})
