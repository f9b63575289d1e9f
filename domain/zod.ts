// zod for the gateway: `zod/mini` (tree-shaken to ~20 kB in a Lambda bundle, where classic `zod` ships ~460 kB and
// costs ~30 ms of cold start) with classic zod's English issue messages. Import zod from here, as
// `import * as z from '../domain/zod.ts'`, never from 'zod' or 'zod/mini': without a locale every issue reads
// "Invalid input", and these messages reach clients (VALIDATION_ERROR issues) and operators ("Invalid configuration").
//
// The locale is imported on its own (~3 kB minified): `z.locales.en()` would pull every locale (~260 kB) into a bundle.
import { en } from 'zod/locales'
import { config, ZodMiniType, type ZodMiniObject } from 'zod/mini'
import * as core from 'zod/v4/core'

config(en())

export * from 'zod/mini'

/**
 * `z.object(shape)` that parses through a function compiled for its shape (zod's own `$ZodObjectJIT`, what classic
 * zod's objects use; zod/mini's objects walk their shape key by key instead): the same values out, the same issues,
 * less CPU (a consent item, 2026-12-06: 3.2 -> 0.5 µs in a loop, about 17 -> 14 µs of a request in a server). For
 * the items every read goes through; the function is made on the schema's first parse, with `new Function`, or not at
 * all where eval is unavailable (then it parses as `z.object` does).
 */
export function compiledObject<const Shape extends core.$ZodLooseShape>(shape: Shape): ZodMiniObject<Shape> {
  return new ZodMiniCompiledObject({ type: 'object', shape }) as unknown as ZodMiniObject<Shape>
}

/** zod/mini's object (its `shape`, its traits, so `instanceof ZodMiniObject` holds) on the compiled parser. */
const ZodMiniCompiledObject = core.$constructor('ZodMiniObject', (inst: core.$ZodObject, def: core.$ZodObjectDef) => {
  // Called on their classes, as zod's own constructors call them (`init` is an assertion, so it needs its receiver).
  core.$ZodObjectJIT.init.call(core.$ZodObjectJIT, inst, def)
  ZodMiniType.init.call(ZodMiniType, inst as unknown as ZodMiniType, def)
  core.util.defineLazy(inst as { shape?: unknown }, 'shape', () => def.shape)
})
