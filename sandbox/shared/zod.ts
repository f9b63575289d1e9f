// zod for the sandboxes: `zod/mini` with zod's English issue messages, as the gateway's domain/zod.ts (sandboxes share
// no code with the gateway). Import zod from here, as `import * as z from '../shared/zod.ts'`: without a locale every
// issue reads "Invalid input", and the sandboxes' validation_error bodies quote these messages.
import { en } from 'zod/locales'
import { config } from 'zod/mini'

config(en())

export * from 'zod/mini'
