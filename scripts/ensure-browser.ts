// Runs before `npm test`: the browser tests need Chromium. Where it is missing and this is a Debian machine we may
// install on (root with apt-get, as in CI), install Debian's chromium; otherwise say how, and let the tests report it.
import { execFileSync, spawnSync, type ExecFileSyncOptions } from 'node:child_process'
import { findChromium } from './chromium.ts'

function ensureChromium(): void {
  if (findChromium()) return
  const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0
  if (!canInstall) {
    console.warn(
      'ensure-browser: no Chromium found; the browser tests will fail. Install chromium or set CHROMIUM_PATH.',
    )
    return
  }
  console.log('ensure-browser: installing Debian chromium for the browser tests (apt-get install chromium)...')
  const options: ExecFileSyncOptions = {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  }
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], options)
  } catch {
    // A fresh machine may have no package lists yet.
    execFileSync('apt-get', ['update', '-qq'], options)
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], options)
  }
}

ensureChromium()
