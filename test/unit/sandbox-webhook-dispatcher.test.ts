// WebhookDispatcher without a network: drops never send, idle with nothing pending, retry policy defaults.
import { describe, expect, test } from 'vitest'
import { DEFAULT_WEBHOOK_RETRY, WebhookDispatcher } from '../../sandbox/shared/webhook-dispatcher.ts'

const neverSign = async (): Promise<Record<string, string>> => {
  throw new Error('a dropped delivery must not be signed')
}

describe('WebhookDispatcher', () => {
  test('defaults to 6 attempts, 200 ms base, factor 2, 10 s cap and a 5 s attempt timeout', () => {
    const dispatcher = new WebhookDispatcher({ sign: neverSign, baseDelayMs: undefined })

    expect(dispatcher.retryPolicy).toEqual(DEFAULT_WEBHOOK_RETRY)
    expect(DEFAULT_WEBHOOK_RETRY).toEqual({
      maxAttempts: 6,
      baseDelayMs: 200,
      factor: 2,
      maxDelayMs: 10_000,
      attemptTimeoutMs: 5_000,
    })
    dispatcher.close()
  })

  test('dropNext logs the next deliveries as dropped without sending them, and idle resolves', async () => {
    const dispatcher = new WebhookDispatcher({ sign: neverSign })
    dispatcher.dropNext(2)

    dispatcher.enqueue('http://127.0.0.1:9/hook', '{"n":1}')
    dispatcher.enqueue('http://127.0.0.1:9/hook', '{"n":2}')
    await dispatcher.idle()

    expect(dispatcher.deliveries().map((delivery) => [delivery.body, delivery.state, delivery.attempts])).toEqual([
      ['{"n":1}', 'dropped', 0],
      ['{"n":2}', 'dropped', 0],
    ])
    expect(dispatcher.controls()).toEqual({ dropNext: 0, duplicateNext: 0, delayMs: 0 })
    dispatcher.close()
  })

  test('close abandons pending deliveries (no attempt made) and releases idle waiters', async () => {
    const dispatcher = new WebhookDispatcher({ sign: neverSign })
    dispatcher.delayMs = 60_000
    dispatcher.duplicateNext(1)

    dispatcher.enqueue('http://127.0.0.1:9/hook', '{}')
    const idle = dispatcher.idle()
    dispatcher.close()
    await idle

    expect(dispatcher.deliveries().map((delivery) => [delivery.state, delivery.attempts, delivery.duplicate])).toEqual([
      ['pending', 0, false],
      ['pending', 0, true],
    ])
  })

  test('reset forgets the log and the controls', () => {
    const dispatcher = new WebhookDispatcher({ sign: neverSign })
    dispatcher.dropNext(5)
    dispatcher.enqueue('http://127.0.0.1:9/hook', '{}')

    dispatcher.reset()

    expect(dispatcher.deliveries()).toEqual([])
    expect(dispatcher.controls()).toEqual({ dropNext: 0, duplicateNext: 0, delayMs: 0 })
    dispatcher.close()
  })
})
