// infra/storage.ts, deployed offline (Pulumi mocks): the DynamoDB table AWS would be asked for, per stage.
import { beforeAll, describe, expect, it } from 'vitest'
import { TABLE } from '../../store/table.ts'
import { deployOffline, valueOf, type RecordedResource } from './support/sst-offline.ts'

const TABLE_TYPE = 'aws:dynamodb/table:Table'

async function deployedStorage(stage: string) {
  return deployOffline(stage, () => import('../../infra/storage.ts'))
}

async function deployedTable(stage: string): Promise<RecordedResource> {
  return (await deployedStorage(stage)).one(TABLE_TYPE)
}

describe('infra/storage.ts on any stage', () => {
  let table: RecordedResource
  let resources: readonly RecordedResource[]
  let module: Awaited<ReturnType<typeof deployedStorage>>['module']
  beforeAll(async () => {
    // Prepare
    const deployment = await deployedStorage('ci')
    table = deployment.one(TABLE_TYPE)
    resources = deployment.resources
    module = deployment.module
  })

  it('is the linkable `Table` whose name `sst shell` gives npm run admin (SST_RESOURCE_Table)', async () => {
    expect(resources.filter((resource) => resource.type === 'sst:aws:Dynamo').map((resource) => resource.name)).toEqual(
      ['Table'],
    )
    const link = module.table.getSSTLink()
    expect(await valueOf(link.properties.name)).toBe(table.inputs.name)
  })

  it('declares the table and nothing else (functions live in infra/api.ts)', () => {
    expect(resources.map((resource) => resource.type).filter((type) => !type.startsWith('sst:'))).toEqual([TABLE_TYPE])
  })

  it('declares every key attribute of store/table.ts, as strings, and nothing else', () => {
    expect(table.inputs.attributes).toEqual(TABLE.keyAttributes.map((name) => ({ name, type: 'S' })))
  })

  it('keys the table on pk (hash) and sk (range)', () => {
    expect(table.inputs.hashKey).toBe('pk')
    expect(table.inputs.rangeKey).toBe('sk')
  })

  it('bills on demand (nothing to pay for capacity while idle)', () => {
    expect(table.inputs.billingMode).toBe('PAY_PER_REQUEST')
  })

  it('has every global index of store/table.ts with its keys, projecting all attributes', () => {
    expect(table.inputs.globalSecondaryIndexes).toEqual(
      TABLE.globalIndexes.map((index) => ({
        name: index.name,
        hashKey: index.partitionKey,
        rangeKey: index.sortKey,
        projectionType: 'ALL',
      })),
    )
    expect(table.inputs.localSecondaryIndexes ?? []).toEqual([])
  })

  it('streams new and old images (the outbox relay reads them)', () => {
    expect(table.inputs.streamEnabled).toBe(true)
    expect(table.inputs.streamViewType).toBe('NEW_AND_OLD_IMAGES')
  })

  it('expires items through TTL on expiresAt', () => {
    expect(table.inputs.ttl).toEqual({ attributeName: 'expiresAt', enabled: true })
  })

  it('keeps point-in-time recovery on', () => {
    expect(table.inputs.pointInTimeRecovery).toEqual({ enabled: true })
  })

  it('has no deletion protection and is deleted with the stage', () => {
    expect(table.inputs.deletionProtectionEnabled).toBe(false)
    expect(table.options.retainOnDelete).toBe(false)
  })
})

describe('infra/storage.ts on production', () => {
  let table: RecordedResource
  beforeAll(async () => {
    // Prepare
    table = await deployedTable('production')
  })

  it('turns deletion protection on', () => {
    expect(table.inputs.deletionProtectionEnabled).toBe(true)
  })

  it('retains the table when it leaves the app', () => {
    expect(table.options.retainOnDelete).toBe(true)
  })

  it('is otherwise the same table', () => {
    expect(table.inputs.hashKey).toBe('pk')
    expect(table.inputs.streamViewType).toBe('NEW_AND_OLD_IMAGES')
    expect(table.inputs.ttl).toEqual({ attributeName: 'expiresAt', enabled: true })
    expect(table.inputs.pointInTimeRecovery).toEqual({ enabled: true })
    expect(table.inputs.globalSecondaryIndexes).toHaveLength(TABLE.globalIndexes.length)
  })
})
