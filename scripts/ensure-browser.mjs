// Runs before `npm test`: the browser tests need Chromium. Where it is missing and this is a Debian machine we may
// install on (root with apt-get, as in CI), install Debian's chromium; otherwise say how, and let the tests report it.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const candidates = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
]
if (candidates.some((path) => path && existsSync(path))) process.exit(0)

const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0
if (!canInstall) {
  console.warn('ensure-browser: no Chromium found; the browser tests will fail. Install chromium or set CHROMIUM_PATH.')
  process.exit(0)
}
console.log('ensure-browser: installing Debian chromium for the browser tests (apt-get install chromium)...')
const install = () =>
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
try {
  install()
} catch {
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] })
  install()
}
