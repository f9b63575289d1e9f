// offline: where npm start listens for each HOST, and which host its URLs name.
import { networkInterfaces } from 'node:os'
import { describe, expect, it } from 'vitest'
import { listenAddresses } from '../../local/listen-address.ts'

describe('listenAddresses (HOST)', () => {
  it('listens on loopback only unless told otherwise', () => {
    expect(listenAddresses(undefined)).toEqual({
      host: '127.0.0.1',
      publicHost: '127.0.0.1',
      loopback: true,
      exposed: false,
    })
    expect(listenAddresses('')).toMatchObject({ host: '127.0.0.1', exposed: false })
    expect(listenAddresses('localhost')).toMatchObject({ host: 'localhost', loopback: true, exposed: false })
  })

  it('listens everywhere for 0.0.0.0, naming this machine by its network address, and says it is exposed', () => {
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((address) => address?.family === 'IPv4' && !address.internal)?.address
    expect(listenAddresses('0.0.0.0')).toEqual({
      host: '0.0.0.0',
      publicHost: lan ?? '127.0.0.1',
      loopback: true,
      exposed: true,
    })
  })

  it('listens on one network address only: no loopback, so no page with pre-filled credentials', () => {
    expect(listenAddresses('192.168.1.20')).toEqual({
      host: '192.168.1.20',
      publicHost: '192.168.1.20',
      loopback: false,
      exposed: true,
    })
  })
})
