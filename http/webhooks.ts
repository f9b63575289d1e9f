// POST /webhooks/<provider>[/...]: a provider's notification, its body handed to the adapter byte for byte (signatures
// are checked over it). Answered from what became of it: 200 once recorded (a replay of a processed delivery too),
// 401 when not authentic, 400 when not understood or dated outside the tolerance, 404 for a consent we do not know
// and 503 when it could not be checked or recorded or is being processed (all three worth the provider's retry).
import type { Gateway } from '../composition/gateway.ts'
import { receiveProviderNotification, type NotificationIntake } from '../service/notification-intake.ts'
import { notificationPath, providerOfSlug } from '../service/public-paths.ts'
import { readBodyAtMost } from './body-limit.ts'
import type { HttpContext } from './env.ts'
import { methodNotAllowed, notFound, problem } from './problems.ts'

export type NotificationServices = Pick<Gateway, 'consents' | 'logger' | 'providers'>

const utf8 = new TextDecoder()

function answer(c: HttpContext, intake: NotificationIntake): Response {
  switch (intake.kind) {
    case 'recorded':
      return c.json({ received: intake.events, requestId: c.get('requestId') })
    case 'unknown_consent':
      return problem(c, 404, 'unknown_consent')
    case 'in_progress':
      return problem(c, 503, 'retry_later')
    case 'rejected':
      return intake.reason === 'unauthenticated'
        ? problem(c, 401, 'unauthenticated')
        : problem(c, 400, intake.reason === 'stale' ? 'stale_notification' : 'bad_request')
    case 'not_recorded':
      return problem(c, 503, 'retry_later', { 'retry-after': String(intake.retryAfterSeconds) })
  }
}

export function providerNotifications(services: NotificationServices, maxBytes: number) {
  const configured = (c: HttpContext) => {
    const provider = providerOfSlug(c.req.param('provider'))
    return provider && services.providers.has(provider) ? provider : null
  }
  return {
    receive: async (c: HttpContext): Promise<Response> => {
      const provider = configured(c)
      if (!provider) return notFound(c)
      const body = await readBodyAtMost(c.req.raw, maxBytes)
      if (body === null) return problem(c, 413, 'payload_too_large')
      const intake = await receiveProviderNotification(
        services.consents,
        services.logger,
        provider,
        {
          headers: Object.fromEntries(c.req.raw.headers),
          body: utf8.decode(body),
          path: c.req.path.slice(notificationPath(provider).length),
        },
        c.get('requestId'),
      )
      return answer(c, intake)
    },
    /** Any other method: 405 for a provider we take notifications from, 404 for any other name. */
    otherMethod: (c: HttpContext): Response => (configured(c) ? methodNotAllowed('POST')(c) : notFound(c)),
  }
}
