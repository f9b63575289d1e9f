// sst.config.ts's app(): the settings SST reads before running the program, per stage.
import { describe, expect, it } from 'vitest'
import { appSettings } from './support/sst-offline.ts'

describe('the app (sst.config.ts)', () => {
  it('is consent-gateway, on AWS', async () => {
    // Act
    const app = await appSettings('ci')

    // Assess
    expect(app.name).toBe('consent-gateway')
    expect(app.home).toBe('aws')
  })

  it('keeps production: retained resources, protection against `sst remove`', async () => {
    // Act
    const app = await appSettings('production')

    // Assess
    expect(app.removal).toBe('retain')
    expect(app.protect).toBe(true)
  })

  it('removes every other stage whole, unprotected', async () => {
    // Act
    const stages = await Promise.all(['ci', 'dev-alice', 'staging'].map((stage) => appSettings(stage)))

    // Assess
    for (const app of stages) {
      expect(app.removal).toBe('remove')
      expect(app.protect).toBe(false)
    }
  })
})
