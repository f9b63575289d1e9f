// The executable schema: imports every type file for its side effects, then builds.
import { builder } from './builder.ts'
import './enums.ts'
import './errors.ts'
import './consent-node.ts'
import './consent-queries.ts'
import './consent-mutations.ts'
import './consent-subscriptions.ts'
import './consent-operations.ts'
import './provider.ts'
import './webhooks.ts'
import './tokens.ts'

export const schema = builder.toSchema({ sortSchema: false })
