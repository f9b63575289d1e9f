// unit: the local job timers log a run only when it did something, so an idle or blocked job stays quiet.
import { describe, expect, it, vi } from 'vitest'
import { startJobTimers } from '../../local/jobs.ts'
import type { Gateway } from '../../composition/gateway.ts'

describe('the local job timers', () => {
  it('log a delivery run only when it delivered, failed or dead-lettered something', async () => {
    // Prepare: a delivery job that visits a consent and does nothing (a message waiting behind a failing one), then
    // delivers once
    const lines: { message: string; extra?: Record<string, unknown> }[] = []
    const record = (message: string, extra?: Record<string, unknown>) => void lines.push({ message, extra })
    let runs = 0
    const idle = { delivered: 0, failed: 0, deadLettered: 0, consents: 1 }
    const gateway = {
      logger: { debug: record, info: record, warn: record, error: record },
      jobs: {
        sweepDeadlines: async () => ({ read: 4, changed: 0, skipped: 2 }),
        reconcile: async () => ({ checked: 0, changed: 0, skipped: 1, failed: 0 }),
        deliverDue: async () => (++runs === 20 ? { ...idle, delivered: 1 } : idle),
      },
    } as unknown as Gateway
    // Act
    const timers = startJobTimers(gateway, { sweepEveryMs: 1, reconcileEveryMs: 1, deliverEveryMs: 1 })
    try {
      await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(30), { timeout: 10_000 })
    } finally {
      await timers.stop()
    }
    // Assess: one line, for the one run that delivered
    expect(lines).toEqual([{ message: 'job deliver-webhooks', extra: { ...idle, delivered: 1 } }])
  })
})
