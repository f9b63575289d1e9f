// A real Chromium for page tests (playwright-core drives the system's browser; it never downloads one).
import { chromium, type Browser } from 'playwright-core'
import { findChromium } from '../../scripts/chromium.ts'

/** The browser executable; `npm test` installs Debian's chromium first where it can (scripts/ensure-browser.ts). */
export function chromiumPath(): string {
  const found = findChromium()
  if (!found) {
    throw new Error(
      'No Chromium found for the browser tests. Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH.',
    )
  }
  return found
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // No sandbox (CI runs as root); no background traffic to Google's hosts (the network is closed).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
