// zod for the gateway: `zod/mini` (tree-shaken to ~20 kB in a Lambda bundle, where classic `zod` ships ~460 kB and
// costs ~30 ms of cold start) with classic zod's English issue messages. Import zod from here, as
// `import * as z from '../domain/zod.ts'`, never from 'zod' or 'zod/mini': without a locale every issue reads
// "Invalid input", and these messages reach clients (VALIDATION_ERROR issues) and operators ("Invalid configuration").
//
// The locale is imported on its own (~3 kB minified): `z.locales.en()` would pull every locale (~260 kB) into a bundle.
import { en } from 'zod/locales'
import { config } from 'zod/mini'

config(en())

export * from 'zod/mini'
