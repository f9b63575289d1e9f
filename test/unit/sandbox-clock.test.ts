// SandboxClock: real time plus an offset, and listeners told synchronously about every change.
import { describe, expect, test } from 'vitest'
import { SandboxClock } from '../../sandbox/shared/clock.ts'

describe('SandboxClock', () => {
  test('starts at real time and advance moves it forward by the given milliseconds', () => {
    const clock = new SandboxClock()

    const start = clock.now().getTime()
    clock.advance(90_000)

    expect(Math.abs(start - Date.now())).toBeLessThan(1_000)
    expect(clock.now().getTime() - Date.now()).toBeGreaterThanOrEqual(89_000)
    expect(clock.offsetMs).toBe(90_000)
  })

  test('set jumps to a date and reset returns to real time', () => {
    const clock = new SandboxClock()

    clock.set(new Date('2030-01-01T00:00:00.000Z'))
    const jumped = clock.now().getTime()
    clock.reset()

    expect(jumped - Date.parse('2030-01-01T00:00:00.000Z')).toBeLessThan(1_000)
    expect(clock.offsetMs).toBe(0)
  })

  test('listeners run synchronously after each change with the new time, until unsubscribed', () => {
    const clock = new SandboxClock()
    const seen: number[] = []
    const unsubscribe = clock.onChange((now) => seen.push(now.getTime() - Date.now()))

    clock.advance(60_000)
    clock.advance(60_000)
    unsubscribe()
    clock.advance(60_000)

    expect(seen).toHaveLength(2)
    expect(seen[1]).toBeGreaterThanOrEqual(119_000)
  })

  test('refuses a non-finite advance and an invalid date', () => {
    const clock = new SandboxClock()

    expect(() => clock.advance(Number.NaN)).toThrow(RangeError)
    expect(() => clock.set(new Date('not a date'))).toThrow(RangeError)
    expect(clock.offsetMs).toBe(0)
  })
})
