// The generic `/__sandbox/` JSON control API: clock, faults, webhook delivery and reset, and the secret that guards
// every control. Sandboxes add their own.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SandboxClock } from './clock.ts'
import type { FaultInjector } from './faults.ts'
import {
  BodyTooLargeError,
  MalformedJsonError,
  readJsonBody,
  sendJson,
  type Router,
  type SandboxRequest,
} from './http.ts'
import type { WebhookDispatcher } from './webhook-dispatcher.ts'

/** What every sandbox's start function returns. */
export interface RunningSandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly clock: SandboxClock
  readonly faults: FaultInjector
  /** The webhook (notification) dispatcher; its log is also at `GET /__sandbox/webhooks`. */
  readonly webhooks: WebhookDispatcher
  /** What `POST /__sandbox/reset` does: the provider's own state, then faults, the delivery log, the clock offset. */
  reset(): void
  /** Stops the sweep, abandons pending deliveries and closes the server with every open connection. */
  close(): Promise<void>
}

export interface SandboxControlTargets {
  clock: SandboxClock
  faults: FaultInjector
  webhooks: WebhookDispatcher
  /** Forgets the provider's own state (consents, ...); faults, webhooks and the clock are reset here. */
  resetState: () => void
}

/** The request header that carries the control secret. */
export const CONTROL_SECRET_HEADER = 'x-control-secret'

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * With a secret, every `/__sandbox/` request must carry it in {@link CONTROL_SECRET_HEADER}, or is answered 401 here
 * (true: the caller stops). Without one the controls are open, as a test's own sandbox needs them. The provider's
 * API is not affected: it has its own authentication.
 */
export function controlsGuard(secret: string | undefined): (raw: IncomingMessage, response: ServerResponse) => boolean {
  if (secret === undefined) return () => false
  const expected = digest(secret)
  return (raw, response) => {
    if (!(raw.url ?? '').startsWith('/__sandbox')) return false
    const given = raw.headers[CONTROL_SECRET_HEADER]
    // Digests of equal length, so the comparison takes the same time whatever was sent.
    if (typeof given === 'string' && timingSafeEqual(digest(given), expected)) return false
    sendJson(response, 401, {
      error: 'unauthorized',
      message: `the sandbox controls need the control secret (printed by npm start) in ${CONTROL_SECRET_HEADER}`,
    })
    return true
  }
}

/** A control request that makes no sense (400 `invalid_control`) or names something unknown (404 `not_found`). */
export class InvalidControlError extends Error {
  override readonly name = 'InvalidControlError'
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message)
  }
}

/**
 * `GET|POST /__sandbox/bank-delete-fails`: whether the bank fails the provider's deletion (Worldline answers
 * RevokedAtTpp, Yapily deletes without the bank). Send `{"enabled": true}` or `{"enabled": false}`.
 */
export function registerBankDeleteFailsControl(router: Router, toggles: { deleteFails: boolean }): void {
  router.on('GET', '/__sandbox/bank-delete-fails', (_request, response) => {
    sendJson(response, 200, { enabled: toggles.deleteFails })
  })
  router.on(
    'POST',
    '/__sandbox/bank-delete-fails',
    control(async (body) => {
      const enabled = body.enabled
      if (typeof enabled !== 'boolean') throw new InvalidControlError('send {"enabled": true} or {"enabled": false}')
      toggles.deleteFails = enabled
      return { enabled }
    }),
  )
}

/** What the consent controls need of a sandbox's consent store. */
export interface ControlledConsents<C> {
  /** Applies what the sandbox clock has made due (expiries...), so a control sees the state an API call would. */
  sweep(): void
  all(): C[]
  findAny(consentId: string): C | undefined
}

/** `GET /__sandbox/consents`: every consent the sandbox holds, swept first, each as `view` shows it. */
export function registerConsentListControl<C>(
  router: Router,
  store: ControlledConsents<C>,
  view: (consent: C) => unknown = (consent) => consent,
): void {
  router.on('GET', '/__sandbox/consents', (_request, response) => {
    store.sweep()
    sendJson(response, 200, { consents: store.all().map(view) })
  })
}

/**
 * `POST /__sandbox/consents/:consentId/<action>`: the body is read by `input` first (a bad body is 400 whatever the
 * consent), then `act` runs on the consent the route names, swept first; an unknown consent is 404.
 */
export function registerConsentControl<C, I>(
  router: Router,
  store: ControlledConsents<C>,
  action: string,
  input: (body: Record<string, unknown>) => I,
  act: (consent: C, input: I) => unknown,
): void {
  router.on(
    'POST',
    `/__sandbox/consents/:consentId/${action}`,
    control(async (body, request) => {
      const given = input(body)
      store.sweep()
      const consentId = request.params.consentId ?? ''
      const consent = store.findAny(consentId)
      if (!consent) throw new InvalidControlError(`no consent ${consentId}`, 404)
      return act(consent, given)
    }),
  )
}

/** For a consent control that takes no body. */
export const noInput = (): undefined => undefined

/** Reads `{"status": ...}` for a forced-status control: a status `accepts` takes, or 400 with `hint`. */
export function statusInput<S extends string>(
  accepts: (status: string) => status is S,
  hint: string,
): (body: Record<string, unknown>) => S {
  return (body) => {
    const status = optionalString(body, 'status')
    if (status === undefined || !accepts(status)) throw new InvalidControlError(hint)
    return status
  }
}

/** Registers the generic controls on `router`. */
export function registerSandboxControls(router: Router, targets: SandboxControlTargets): void {
  const { clock, faults, webhooks } = targets

  router.on('GET', '/__sandbox/clock', (_request, response) => {
    sendJson(response, 200, clockState(clock))
  })
  router.on(
    'POST',
    '/__sandbox/clock',
    control(async (body) => {
      // The clock's listeners run synchronously here, so deadline webhooks are queued before this answers.
      const advanceSeconds = optionalNumber(body, 'advanceSeconds')
      const set = optionalString(body, 'set')
      if ((advanceSeconds === undefined) === (set === undefined)) {
        throw new InvalidControlError('send exactly one of {"advanceSeconds": n} or {"set": "<ISO date>"}')
      }
      if (advanceSeconds !== undefined) clock.advance(advanceSeconds * 1000)
      if (set !== undefined) {
        const date = new Date(set)
        if (Number.isNaN(date.getTime())) throw new InvalidControlError(`"set" is not a date: ${set}`)
        clock.set(date)
      }
      return clockState(clock)
    }),
  )

  router.on('GET', '/__sandbox/faults', (_request, response) => sendJson(response, 200, faults.settings()))
  router.on(
    'POST',
    '/__sandbox/faults',
    control(async (body) => {
      const failNext = optionalNumber(body, 'failNext')
      const status = optionalNumber(body, 'status')
      const code = optionalString(body, 'code')
      const delayMs = optionalNumber(body, 'delayMs')
      if (status !== undefined && (!Number.isInteger(status) || status < 100 || status > 599)) {
        throw new InvalidControlError(`"status" must be an HTTP status code, got ${status}`)
      }
      guard(() => {
        if (failNext !== undefined) {
          faults.failNext(failNext, { ...(status !== undefined && { status }), ...(code !== undefined && { code }) })
        }
        if (delayMs !== undefined) faults.delay(delayMs)
      })
      return faults.settings()
    }),
  )

  router.on('GET', '/__sandbox/webhooks', (_request, response) => {
    sendJson(response, 200, { controls: webhooks.controls(), deliveries: webhooks.deliveries() })
  })
  router.on(
    'POST',
    '/__sandbox/webhooks',
    control(async (body) => {
      const drop = optionalNumber(body, 'drop')
      const duplicate = optionalNumber(body, 'duplicate')
      const delayMs = optionalNumber(body, 'delayMs')
      if (delayMs !== undefined && (!Number.isFinite(delayMs) || delayMs < 0)) {
        throw new InvalidControlError(`"delayMs" must be >= 0, got ${delayMs}`)
      }
      guard(() => {
        if (drop !== undefined) webhooks.dropNext(drop)
        if (duplicate !== undefined) webhooks.duplicateNext(duplicate)
      })
      if (delayMs !== undefined) webhooks.delayMs = delayMs
      return { controls: webhooks.controls() }
    }),
  )
  router.on('POST', '/__sandbox/webhooks/flush', async (_request, response) => {
    await webhooks.idle()
    sendJson(response, 200, { controls: webhooks.controls(), deliveries: webhooks.deliveries() })
  })

  router.on('POST', '/__sandbox/reset', (_request, response) => {
    resetSandbox(targets)
    sendJson(response, 200, { reset: true, ...clockState(clock) })
  })
}

/** Provider state first, then webhooks and faults, the clock last (its listeners then find nothing to sweep). */
export function resetSandbox(targets: SandboxControlTargets): void {
  targets.resetState()
  targets.webhooks.reset()
  targets.faults.reset()
  targets.clock.reset()
}

/** Wraps a control that takes a JSON object body and answers JSON 200, or 400 for a bad control request. */
export function control(
  run: (body: Record<string, unknown>, request: SandboxRequest) => Promise<unknown>,
): (request: SandboxRequest, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    try {
      const body = (await readJsonBody(request.raw)) ?? {}
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new InvalidControlError('the body must be a JSON object')
      }
      sendJson(response, 200, await run(body as Record<string, unknown>, request))
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendJson(response, 413, { error: 'invalid_control', message: error.message })
      } else if (error instanceof InvalidControlError) {
        const code = error.status === 404 ? 'not_found' : 'invalid_control'
        sendJson(response, error.status, { error: code, message: error.message })
      } else if (error instanceof MalformedJsonError) {
        sendJson(response, 400, { error: 'invalid_control', message: error.message })
      } else {
        throw error
      }
    }
  }
}

export function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidControlError(`"${key}" must be a number`)
  }
  return value
}

export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new InvalidControlError(`"${key}" must be a string`)
  return value
}

/** Turns the toolkit's RangeErrors (bad counts, negative delays) into 400s. */
function guard(apply: () => void): void {
  try {
    apply()
  } catch (error) {
    if (error instanceof RangeError) throw new InvalidControlError(error.message)
    throw error
  }
}

function clockState(clock: SandboxClock): { now: string; offsetMs: number } {
  return { now: clock.now().toISOString(), offsetMs: clock.offsetMs }
}
