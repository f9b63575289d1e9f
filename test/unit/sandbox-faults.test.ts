// FaultInjector: the next N calls fail with a chosen status and code; delays; reset.
import { describe, expect, test } from 'vitest'
import { FaultInjector } from '../../sandbox/shared/faults.ts'

describe('FaultInjector', () => {
  test('failNext hands out exactly N failures, 500 internal_server_error by default', () => {
    const faults = new FaultInjector()

    faults.failNext(2)

    expect(faults.takeFailure()).toEqual({ status: 500, code: 'internal_server_error' })
    expect(faults.takeFailure()).toEqual({ status: 500, code: 'internal_server_error' })
    expect(faults.takeFailure()).toBeUndefined()
  })

  test('a custom status and code are used, and settings report what is left', () => {
    const faults = new FaultInjector()

    faults.failNext(3, { status: 503, code: 'service_unavailable' })
    faults.takeFailure()

    expect(faults.settings()).toEqual({ failNext: 2, status: 503, code: 'service_unavailable', delayMs: 0 })
  })

  test('reset clears failures and the delay', () => {
    const faults = new FaultInjector()
    faults.failNext(1, { status: 502 })
    faults.delay(250)

    faults.reset()

    expect(faults.takeFailure()).toBeUndefined()
    expect(faults.settings()).toEqual({ failNext: 0, status: 500, code: 'internal_server_error', delayMs: 0 })
  })

  test('refuses negative or fractional counts and negative delays', () => {
    const faults = new FaultInjector()

    expect(() => faults.failNext(-1)).toThrow(RangeError)
    expect(() => faults.failNext(1.5)).toThrow(RangeError)
    expect(() => faults.delay(-5)).toThrow(RangeError)
  })
})
