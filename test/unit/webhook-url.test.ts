// offline: which partner webhook URLs are usable, and which resolved addresses a webhook may never be sent to.
import { describe, expect, it } from 'vitest'
import { checkWebhookUrl, isForbiddenAddress } from '../../outbound/addresses.ts'

describe('checkWebhookUrl', () => {
  it.each([
    ['https://partner.example/hooks', 'https://partner.example/hooks'],
    ['https://partner.example:8443/hooks?tenant=a', 'https://partner.example:8443/hooks?tenant=a'],
    ['HTTPS://Partner.Example/Hooks', 'https://partner.example/Hooks'],
    ['https://93.184.216.34/hooks', 'https://93.184.216.34/hooks'],
    ['https://[2606:4700::1111]/hooks', 'https://[2606:4700::1111]/hooks'],
  ])('accepts %s', (url, href) => {
    // Act
    const checked = checkWebhookUrl(url, { allowLocalHttp: false })

    // Assess
    expect(checked).toEqual({ ok: true, url: new URL(href) })
  })

  it.each([
    ['http://partner.example/hooks', /^http is not allowed/],
    ['http://localhost:4000/hooks', /^http is not allowed/],
    ['http://127.0.0.1:4000/hooks', /^http is not allowed/],
    ['http://[::1]:4000/hooks', /^http is not allowed/],
    ['ftp://partner.example/hooks', /^the ftp: scheme is not allowed/],
    ['file:///etc/passwd', /^the file: scheme is not allowed/],
    ['javascript:alert(1)', /^the javascript: scheme is not allowed/],
    ['ws://partner.example/hooks', /^the ws: scheme is not allowed/],
    ['https://user:token@partner.example/hooks', /^credentials in the URL are not allowed$/],
    ['https://token@partner.example/hooks', /^credentials in the URL are not allowed$/],
    ['https://:token@partner.example/hooks', /^credentials in the URL are not allowed$/],
    ['partner.example/hooks', /^not an absolute URL$/],
    ['/hooks', /^not an absolute URL$/],
    ['', /^not an absolute URL$/],
    ['https://', /^not an absolute URL$/],
    // Addresses written into the URL are judged at once (names at each delivery, once resolved)
    ['https://10.0.0.1/hooks', /^the address is private, loopback, link-local or reserved/],
    ['https://169.254.169.254/latest/meta-data', /^the address is private, loopback, link-local or reserved/],
    ['https://127.0.0.1:4000/hooks', /^the address is private, loopback, link-local or reserved/],
    ['https://[fd00::1]/hooks', /^the address is private, loopback, link-local or reserved/],
    ['https://[::ffff:192.168.0.1]/hooks', /^the address is private, loopback, link-local or reserved/],
  ])('refuses %s', (url, reason) => {
    // Act
    const checked = checkWebhookUrl(url, { allowLocalHttp: false })

    // Assess
    expect(checked).toEqual({ ok: false, reason: expect.stringMatching(reason) })
  })

  describe('in local mode', () => {
    it.each([
      'http://localhost:4000/hooks',
      'http://LOCALHOST:4000/hooks',
      'http://127.0.0.1:4000/hooks',
      'http://[::1]:4000/hooks',
      'https://partner.example/hooks',
    ])('accepts %s', (url) => {
      expect(checkWebhookUrl(url, { allowLocalHttp: true })).toEqual({ ok: true, url: new URL(url) })
    })

    it.each([
      ['http://partner.example/hooks', /^http is allowed for localhost, 127\.0\.0\.1 and \[::1\] only/],
      ['http://192.168.1.20/hooks', /^http is allowed for localhost/],
      ['http://127.0.0.2/hooks', /^http is allowed for localhost/],
      ['http://localhost.partner.example/hooks', /^http is allowed for localhost/],
      ['http://user:pass@localhost:4000/hooks', /^credentials in the URL are not allowed$/],
      ['file:///etc/passwd', /^the file: scheme is not allowed/],
    ])('still refuses %s', (url, reason) => {
      expect(checkWebhookUrl(url, { allowLocalHttp: true })).toEqual({
        ok: false,
        reason: expect.stringMatching(reason),
      })
    })
  })

  describe("in local mode, with the local stack's own ports", () => {
    const ownPorts = new Set([4000, 4010, 4020, 4030, 8000])
    const local = { allowLocalHttp: true, ownPorts }

    it.each([
      'http://localhost:4010/__sandbox/reset',
      'http://LOCALHOST:4010/__sandbox/reset',
      'http://127.0.0.1:4000/graphql',
      'http://[::1]:4030/__sandbox/clock',
      'http://127.0.0.1:8000/',
      'https://localhost:4020/hooks',
      'https://127.0.0.1:4020/hooks',
      'https://localhost.:4020/hooks',
      'https://sandbox.localhost:4020/hooks',
      'https://SANDBOX.LOCALHOST.:4020/hooks',
    ])('refuses %s: a webhook may never reach our own servers', (url) => {
      expect(checkWebhookUrl(url, local)).toEqual({
        ok: false,
        reason: expect.stringMatching(/^the port is one of this gateway's own/),
      })
    })

    it("names none of our servers in its reason (they are not the partner's business)", () => {
      const checked = checkWebhookUrl('http://localhost:8000/', local)
      expect(checked.ok || checked.reason).not.toMatch(/dynamo|sandbox|graphql/i)
    })

    it.each(['http://localhost:4001/hooks', 'http://127.0.0.1:9000/hooks', 'https://partner.example:4010/hooks'])(
      'accepts %s',
      (url) => {
        expect(checkWebhookUrl(url, local)).toEqual({ ok: true, url: new URL(url) })
      },
    )

    it('refuses the default port when it is ours', () => {
      const checked = checkWebhookUrl('http://localhost/hooks', { allowLocalHttp: true, ownPorts: new Set([80]) })
      expect(checked.ok).toBe(false)
    })
  })

  it('never repeats the URL in its reason: it may carry a token', () => {
    const checked = checkWebhookUrl('https://hook:s3cr3t-token@partner.example/hooks', { allowLocalHttp: false })

    expect(checked.ok).toBe(false)
    expect(JSON.stringify(checked)).not.toContain('s3cr3t-token')
  })
})

describe('isForbiddenAddress', () => {
  it.each([
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', '"this network" (0/8)'],
    ['10.0.0.1', 'private (10/8)'],
    ['10.255.255.255', 'private (10/8)'],
    ['100.64.0.1', 'carrier-grade NAT (100.64/10)'],
    ['100.127.255.254', 'carrier-grade NAT (100.64/10)'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.1', 'loopback (127/8)'],
    ['169.254.169.254', 'link-local: cloud metadata'],
    ['172.16.0.1', 'private (172.16/12)'],
    ['172.31.255.254', 'private (172.16/12)'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.10', 'documentation'],
    ['192.168.1.1', 'private (192.168/16)'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, in hex'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'IPv4-mapped private, written out'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['64:ff9b::a00:1', 'NAT64 of a private address'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with a zone'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['fec0::1', 'site-local (deprecated)'],
    ['ff02::1', 'multicast'],
    ['100::1', 'discard-only'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'Teredo'],
    ['2002:a00:1::1', '6to4 of a private address'],
    // Not an address at all
    ['partner.example', 'a hostname'],
    ['', 'empty'],
    ['127.1', 'shorthand IPv4'],
    ['010.0.0.1', 'IPv4 with a leading zero'],
    ['::ffff:999.0.0.1', 'an impossible IPv4 tail'],
  ])('refuses %s (%s)', (address) => {
    expect(isForbiddenAddress(address, false)).toBe(true)
  })

  it.each([
    ['93.184.216.34', 'public IPv4'],
    ['8.8.8.8', 'public IPv4'],
    ['1.1.1.1', 'public IPv4'],
    ['100.63.255.255', 'just below carrier-grade NAT'],
    ['100.128.0.1', 'just above carrier-grade NAT'],
    ['172.15.255.255', 'just below 172.16/12'],
    ['172.32.0.1', 'just above 172.16/12'],
    ['11.0.0.1', 'just above 10/8'],
    ['223.255.255.254', 'just below multicast'],
    ['2606:4700::1111', 'public IPv6'],
    ['2a00:1450:4001:82b::200e', 'public IPv6'],
    ['::ffff:93.184.216.34', 'IPv4-mapped public'],
    ['64:ff9b::5db8:d822', 'NAT64 of a public address'],
  ])('allows %s (%s)', (address) => {
    expect(isForbiddenAddress(address, false)).toBe(false)
  })

  describe('in local mode', () => {
    it.each(['127.0.0.1', '127.12.34.56', '::1', '::ffff:127.0.0.1', '93.184.216.34', '2606:4700::1111'])(
      'allows %s',
      (address) => {
        expect(isForbiddenAddress(address, true)).toBe(false)
      },
    )

    it.each([
      '0.0.0.0',
      '10.0.0.1',
      '169.254.169.254',
      '192.168.1.1',
      '::',
      '::ffff:10.0.0.1',
      '64:ff9b::7f00:1',
      'fe80::1',
      'fc00::1',
      'localhost',
    ])('still refuses %s', (address) => {
      expect(isForbiddenAddress(address, true)).toBe(true)
    })
  })
})
