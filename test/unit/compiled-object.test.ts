// z.compiledObject (domain/zod.ts) against zod/mini's own z.object: the same values and the same issues for every
// item, well-formed or not, so the store's reads can use the compiled parser without any reader seeing a difference.
import { describe, expect, it } from 'vitest'
import * as z from '../../domain/zod.ts'
import { consentEntity, consentItem } from '../../store/consent-item.ts'
import { benchConsent } from '../../bench/consent-fixture.ts'

/** The consent item's schema as the store declares it (compiled), and the same shape as a plain zod/mini object. */
function consentSchemas() {
  const declared = consentEntity.schema() as unknown as { _zod: { def: { getter?: () => unknown } } }
  const compiled = (declared._zod.def.getter ? declared._zod.def.getter() : declared) as z.ZodMiniObject
  const plain = z.object(compiled.shape)
  return { compiled, plain }
}

const outcome = (schema: z.ZodMiniType, input: unknown) => {
  const result = z.safeParse(schema, input)
  return result.success
    ? { data: result.data }
    : { issues: result.error.issues.map(({ code, path, message }) => ({ code, path, message })) }
}

const item = consentItem(benchConsent(new Date('2026-12-06T10:00:00.000Z')))
const without = (key: string) => Object.fromEntries(Object.entries(item).filter(([name]) => name !== key))

const INPUTS: Record<string, unknown> = {
  'a stored item (keys and entityType dropped)': item,
  'an older item without its nullable fields': without('validUntil'),
  'one without a required field': without('tenantId'),
  'a field of the wrong type': { ...item, version: '1' },
  'a status outside the enum': { ...item, status: 'PAUSED' },
  'a nested object broken': { ...item, institution: { id: 'bt_ro', name: 3 } },
  'a list with a value outside its enum': { ...item, scope: ['ACCOUNTS', 'PAYMENTS'] },
  'several faults at once': { ...item, id: 1, region: 'MARS', deletion: { status: 'MAYBE' } },
  'null where an object is declared': { ...item, institution: null },
  'not an object': 'CONSENT',
}

describe('z.compiledObject', () => {
  it('is what the consent item is read with: a zod/mini object with its shape, on the compiled parser', () => {
    const { compiled } = consentSchemas()
    expect(compiled._zod.traits.has('$ZodObjectJIT')).toBe(true)
    expect(compiled).toBeInstanceOf(z.ZodMiniObject)
    expect(Object.keys(compiled.shape)).toContain('version')
  })

  it.each(Object.entries(INPUTS))('parses %s exactly as z.object does', (_name, input) => {
    const { compiled, plain } = consentSchemas()
    // Twice: the compiled parser is made on the first parse and used from then on.
    for (let run = 0; run < 2; run++) expect(outcome(compiled, input)).toStrictEqual(outcome(plain, input))
  })

  it('nests: compiled objects inside compiled objects answer as plain ones inside plain ones', () => {
    const shape = (object: (shape: Record<string, z.ZodMiniType>) => z.ZodMiniType) => ({
      id: z.string(),
      inner: object({ kind: z.enum(['A', 'B']), at: z._default(z.nullable(z.string()), null) }),
      list: z.array(object({ n: z.number() })),
    })
    const [compiled, plain] = [
      z.compiledObject(shape((fields) => z.compiledObject(fields))),
      z.object(shape((fields) => z.object(fields))),
    ]
    const inputs = [
      { id: 'x', inner: { kind: 'A' }, list: [{ n: 1 }], extra: true },
      { id: 'x', inner: { kind: 'C', at: 1 }, list: [{ n: 1 }, { n: '2' }] },
      { inner: null, list: 'no' },
    ]
    for (const input of inputs)
      for (let run = 0; run < 2; run++) expect(outcome(compiled, input)).toStrictEqual(outcome(plain, input))
  })

  it('fills the defaults a plain object fills and drops the attributes it does not declare', () => {
    const { compiled } = consentSchemas()
    const parsed = z.parse(compiled, { ...without('validUntil'), extra: 'x' }) as Record<string, unknown>
    expect(parsed.validUntil).toBeNull()
    expect(parsed).not.toHaveProperty('extra')
    expect(parsed).not.toHaveProperty('pk')
  })
})
