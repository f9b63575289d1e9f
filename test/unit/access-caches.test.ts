// offline: the two per-process caches in front of the store on the request path. Trusted documents: looked up under
// the key a client's id names (a hash in any spelling as its lower-case hex), only found documents kept, within both
// bounds, least recently used dropped first, never another tenant's. Web origins: one read of every tenant serves
// every check for its period; a failed read keeps what was read before; concurrent checks share one read.
import { describe, expect, it } from 'vitest'
import { documentKeyOf, TrustedDocuments, type TrustedDocumentSource } from '../../service/trusted-documents.ts'
import { WebOrigins, type TenantOrigins } from '../../service/web-origins.ts'
import type { TrustedDocument } from '../../store/trusted-document-repository.ts'

const HASH = 'ab'.repeat(32)

function documentSource(documents: Record<string, string>) {
  const asked: string[] = []
  const source: TrustedDocumentSource = {
    get: async (tenantId, key) => {
      asked.push(`${tenantId}/${key}`)
      const document = documents[`${tenantId}/${key}`]
      return document === undefined ? null : ({ tenantId, document } as TrustedDocument)
    },
  }
  return { source, asked }
}

describe('TrustedDocuments', () => {
  it('names a hash by its lower-case hex however it is spelled, and refuses what no manifest can hold', () => {
    expect(documentKeyOf(`sha256:${HASH.toUpperCase()}`)).toBe(HASH)
    expect(documentKeyOf(HASH)).toBe(HASH)
    expect(documentKeyOf('app.GetConsent.v1')).toBe('app.GetConsent.v1')
    for (const id of ['', 'a#b', 'a b', 'x'.repeat(129), 'T#tenant#DOC']) expect(documentKeyOf(id), id).toBeNull()
  })

  it('reads a found document once, asks again for one not found, and keeps tenants apart', async () => {
    const { source, asked } = documentSource({ [`t1/${HASH}`]: '{ a }', 't1/own-id': '{ b }' })
    const documents = new TrustedDocuments(source)

    expect(await documents.find('t1', `sha256:${HASH}`)).toBe('{ a }')
    expect(await documents.find('t1', HASH.toUpperCase())).toBe('{ a }')
    expect(await documents.find('t2', HASH)).toBeNull()
    expect(await documents.find('t1', 'missing')).toBeNull()
    expect(await documents.find('t1', 'missing')).toBeNull()
    expect(await documents.find('t1', 'bad id!')).toBeNull()

    expect(asked).toEqual([`t1/${HASH}`, `t2/${HASH}`, 't1/missing', 't1/missing'])
  })

  it('keeps at most its bounds, dropping the least recently used first', async () => {
    const { source, asked } = documentSource({ 't/a': 'x'.repeat(40), 't/b': 'y'.repeat(40), 't/c': 'z'.repeat(40) })
    const documents = new TrustedDocuments(source, { maxEntries: 10, maxChars: 100 })

    await documents.find('t', 'a')
    await documents.find('t', 'b')
    await documents.find('t', 'a') // a is now the most recently used
    await documents.find('t', 'c') // 120 characters: b goes
    expect(documents.size).toBe(2)
    asked.length = 0
    await documents.find('t', 'a')
    await documents.find('t', 'c')
    await documents.find('t', 'b')
    expect(asked).toEqual(['t/b'])

    const few = new TrustedDocuments(source, { maxEntries: 1 })
    await few.find('t', 'a')
    await few.find('t', 'b')
    expect(few.size).toBe(1)
  })
})

describe('WebOrigins', () => {
  function origins(tenants: TenantOrigins[]) {
    let reads = 0
    let failing = false
    const state = { tenants }
    const source = {
      list: async () => {
        reads++
        if (failing) throw new Error('store down')
        return state.tenants
      },
    }
    return {
      source,
      state,
      reads: () => reads,
      fail: (value: boolean) => (failing = value),
    }
  }

  it('answers every check from one read per period, then reads again', async () => {
    let now = 0
    const store = origins([
      { tenantId: 'a', allowedOrigins: ['https://a.example', 'https://shared.example'] },
      { tenantId: 'b', allowedOrigins: ['https://b.example', 'https://shared.example'] },
    ])
    const webOrigins = new WebOrigins(store.source, { ttlMs: 1_000 }, () => now)

    const checks = await Promise.all([
      webOrigins.isRegistered('https://a.example'),
      webOrigins.isRegistered('https://evil.example'),
      webOrigins.allows('a', 'https://a.example'),
      webOrigins.allows('a', 'https://b.example'),
      webOrigins.allows('b', 'https://shared.example'),
    ])
    expect(checks).toEqual([true, false, true, false, true])
    expect(store.reads()).toBe(1)

    store.state.tenants = [{ tenantId: 'a', allowedOrigins: ['https://next.example'] }]
    now = 999
    expect(await webOrigins.allows('a', 'https://a.example')).toBe(true)
    now = 1_000
    expect(await webOrigins.allows('a', 'https://a.example')).toBe(false)
    expect(await webOrigins.allows('a', 'https://next.example')).toBe(true)
    expect(store.reads()).toBe(2)
  })

  it('keeps what it read when a read fails, trying again after the retry period; with nothing read, throws', async () => {
    let now = 0
    const store = origins([{ tenantId: 'a', allowedOrigins: ['https://a.example'] }])
    const webOrigins = new WebOrigins(store.source, { ttlMs: 1_000, retryMs: 100 }, () => now)
    await webOrigins.isRegistered('https://a.example')

    store.fail(true)
    now = 1_000
    expect(await webOrigins.allows('a', 'https://a.example')).toBe(true)
    now = 1_050
    expect(await webOrigins.allows('a', 'https://a.example')).toBe(true)
    expect(store.reads()).toBe(2)
    now = 1_100
    await webOrigins.allows('a', 'https://a.example')
    expect(store.reads()).toBe(3)

    const cold = new WebOrigins(store.source)
    await expect(cold.isRegistered('https://a.example')).rejects.toThrow('store down')
  })
})
