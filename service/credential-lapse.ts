// A long-lived stream (a subscription) lives no longer than the credential that opened it: the credential is checked
// again whenever its trust runs out (once per cache period), and when it no longer holds the stream ends with one last
// item saying why, instead of streaming on for as long as it was allowed to when it started.
import { UnauthorizedError } from '../domain/errors.ts'

const LAPSED = Symbol('lapsed')

/**
 * Checks the credential now and again whenever its trust runs out, and calls `onLapse` once when it no longer holds
 * (an UnauthorizedError) or cannot be checked (the error, e.g. the store unavailable). Returns the stop function.
 * A long-lived connection (graphql-ws) closes on it.
 */
export function watchCredential(
  revalidate: () => Promise<number | null>,
  onLapse: (error: unknown) => void,
  now: () => number = Date.now,
): () => void {
  let stopped = false
  let timer: NodeJS.Timeout | null = null
  const lapse = (error: unknown) => {
    if (stopped) return
    stopped = true
    onLapse(error)
  }
  const check = () => {
    timer = null
    revalidate().then(
      (until) => {
        if (until === null) lapse(new UnauthorizedError('The credentials of this subscription are no longer valid'))
        else if (!stopped) timer = setTimeout(check, Math.max(0, until - now()))
      },
      (error: unknown) => lapse(error),
    )
  }
  check()
  return () => {
    stopped = true
    if (timer) clearTimeout(timer)
    timer = null
  }
}

/**
 * `source`, ending after one `lastWord(error)` item once `revalidate` answers null (an UnauthorizedError) or fails (its
 * error, e.g. the store unavailable: a credential that cannot be checked is not trusted). `revalidate` resolves with
 * the epoch ms until which the credential is trusted; the next check is then.
 */
export function untilCredentialLapses<T>(
  source: AsyncIterable<T>,
  revalidate: () => Promise<number | null>,
  lastWord: (error: unknown) => T,
  now: () => number = Date.now,
): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]()
  let finished = false
  let lapsedWith: { error: unknown } | null = null
  let signalLapse: () => void = () => undefined
  const lapsed = new Promise<typeof LAPSED>((resolve) => (signalLapse = () => resolve(LAPSED)))

  const lapse = (error: unknown) => {
    if (finished || lapsedWith) return
    lapsedWith = { error }
    signalLapse()
    // Stop the source now (its poll, its store reads); a pending read of it is answered by the lapse instead.
    void Promise.resolve(iterator.return?.()).catch(() => undefined)
  }
  const stopWatching = watchCredential(revalidate, lapse, now)
  const finish = () => {
    finished = true
    stopWatching()
  }

  const lastItem = (): IteratorResult<T> => {
    finish()
    return { value: lastWord(lapsedWith?.error), done: false }
  }

  return {
    async next(): Promise<IteratorResult<T>> {
      if (finished) return { value: undefined, done: true }
      if (lapsedWith) return lastItem()
      const result = await Promise.race([iterator.next(), lapsed])
      if (result === LAPSED) return lastItem()
      if (result.done) finish()
      return result
    },
    async return(): Promise<IteratorResult<T>> {
      finish()
      await iterator.return?.()
      return { value: undefined, done: true }
    },
    async throw(error?: unknown): Promise<IteratorResult<T>> {
      finish()
      if (iterator.throw) return iterator.throw(error)
      throw error
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
}
