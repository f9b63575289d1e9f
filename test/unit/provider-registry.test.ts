// offline: the provider registry loads adapters on first use and refuses providers this deployment does not run.
import { describe, expect, it } from 'vitest'
import { UnsupportedByProviderError } from '../../domain/errors.ts'
import { ProviderRegistry, type ProviderAdapter } from '../../providers/adapter.ts'

describe('ProviderRegistry', () => {
  it('answers a provider this deployment does not run with UNSUPPORTED_BY_PROVIDER', async () => {
    await expect(new ProviderRegistry().get('YAPILY')).rejects.toBeInstanceOf(UnsupportedByProviderError)
  })

  it('loads an adapter once, on first use', async () => {
    let loads = 0
    const registry = new ProviderRegistry().register('FINQWARE', async () => {
      loads++
      return { provider: 'FINQWARE' } as ProviderAdapter
    })
    expect(loads).toBe(0)
    await Promise.all([registry.get('FINQWARE'), registry.get('FINQWARE')])
    expect(loads).toBe(1)
    expect(registry.providers()).toEqual(['FINQWARE'])
  })

  it('tries again after a failed load instead of caching the failure', async () => {
    let attempts = 0
    const registry = new ProviderRegistry().register('WORLDLINE', async () => {
      attempts++
      if (attempts === 1) throw new Error('bad configuration')
      return { provider: 'WORLDLINE' } as ProviderAdapter
    })
    await expect(registry.get('WORLDLINE')).rejects.toThrow('bad configuration')
    await expect(registry.get('WORLDLINE')).resolves.toMatchObject({ provider: 'WORLDLINE' })
  })
})
