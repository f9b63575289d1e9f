// connected (files): where `npm run admin` works, found from the environment and the data directory, in order: SST's
// linked table (`sst shell`), TABLE_NAME with DYNAMODB_ENDPOINT, TABLE_NAME alone, the running npm start.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveTarget, TargetError } from '../../cli/target.ts'
import { writeRuntimeFile, type LocalRuntime } from '../../local/runtime-file.ts'

const running = (): { dataDir: string; runtime: LocalRuntime } => {
  const dataDir = mkdtempSync(join(tmpdir(), 'admin-target-'))
  const runtime = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dynamoEndpoint: 'http://127.0.0.1:8000',
    tableName: 'consent-gateway',
    graphqlUrl: 'http://127.0.0.1:4000/graphql',
    inMemory: true,
  }
  writeRuntimeFile(dataDir, runtime)
  return { dataDir, runtime }
}
const SST = { Table: { name: 'consent-gateway-dev-TableAbc' }, App: { stage: 'dev' } }

describe('the admin target', () => {
  it("is the stage's linked table under sst shell, whatever else is there", () => {
    const { dataDir } = running()
    const env = { AWS_REGION: 'eu-central-1', TABLE_NAME: 'other', DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' }
    expect(resolveTarget(env, dataDir, SST)).toEqual({
      kind: 'aws',
      tableName: 'consent-gateway-dev-TableAbc',
      region: 'eu-central-1',
      description: 'stage dev, table consent-gateway-dev-TableAbc in eu-central-1',
    })
    expect(() => resolveTarget({}, dataDir, { Table: {} })).toThrow(TargetError)
  })

  it('is the table the environment names, before a running npm start', () => {
    const { dataDir } = running()
    expect(resolveTarget({ TABLE_NAME: 't', DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' }, dataDir, null)).toMatchObject({
      kind: 'local',
      tableName: 't',
      endpoint: 'http://127.0.0.1:9',
    })
    expect(resolveTarget({ TABLE_NAME: 't', AWS_REGION: 'us-east-2' }, dataDir, null)).toMatchObject({
      kind: 'aws',
      tableName: 't',
      region: 'us-east-2',
    })
  })

  it('is the running npm start of the data directory otherwise', () => {
    const { dataDir, runtime } = running()
    expect(resolveTarget({}, dataDir, null)).toEqual({
      kind: 'local',
      tableName: runtime.tableName,
      endpoint: runtime.dynamoEndpoint,
      description: `npm start (pid ${process.pid}, in memory)`,
    })
  })

  it('says when npm start is gone, left a stale or unreadable file, or never ran', () => {
    const { dataDir, runtime } = running()
    const ended = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
    const deadPid = Number(ended.stdout.trim())
    writeRuntimeFile(dataDir, { ...runtime, pid: deadPid })
    expect(() => resolveTarget({}, dataDir, null)).toThrow(
      new RegExp(`npm start is not running: .* left from pid ${deadPid}, which has ended`),
    )
    writeFileSync(join(dataDir, 'runtime.json'), '{ half')
    expect(() => resolveTarget({}, dataDir, null)).toThrow(/Cannot read .*runtime\.json: it is not JSON/)
    const empty = mkdtempSync(join(tmpdir(), 'admin-target-empty-'))
    expect(() => resolveTarget({}, empty, null)).toThrow(/Nothing to administer/)
  })

  it('removes its runtime file at stop only while the file is still its own', () => {
    const { dataDir, runtime } = running()
    const removeFirst = writeRuntimeFile(dataDir, { ...runtime, pid: process.pid })
    // Another npm start on the same directory wrote its own since: the first one's stop leaves it.
    const removeSecond = writeRuntimeFile(dataDir, { ...runtime, pid: process.ppid })
    removeFirst()
    expect(resolveTarget({}, dataDir, null).description).toBe(`npm start (pid ${process.ppid}, in memory)`)
    removeSecond()
    expect(() => resolveTarget({}, dataDir, null)).toThrow(/Nothing to administer/)
  })
})
