// Where a Chromium or Chrome is on this machine: scripts/ensure-browser.ts installs one when missing, and the
// browser tests (test/support/browser.ts) launch it.
import { existsSync } from 'node:fs'

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
]

/** The first Chromium or Chrome found (CHROMIUM_PATH first), or null. */
export const findChromium = (): string | null =>
  CANDIDATES.find((candidate) => candidate && existsSync(candidate)) ?? null
