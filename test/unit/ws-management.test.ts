// The management API sender the WebSocket functions and the poller post through: what each answer of API Gateway's
// management API becomes, against a local HTTP server standing in for it.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { managementSender } from '../../functions/ws-management.ts'

let server: Server | null = null

type Respond = (status: number, body?: string, headers?: Record<string, string>) => void

async function managementApi(answer: (url: string, respond: Respond) => void) {
  server = createServer((request, response) => {
    request.resume()
    answer(request.url ?? '', (status, body = '', headers = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers })
      response.end(body)
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

// The SDK signs every call: any key will do for a stand-in that does not check signatures.
beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local')
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local')
})

afterEach(async () => {
  vi.unstubAllEnvs()
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  server = null
})

describe('the management API sender', () => {
  test('answers sent for a post the API takes, and gone for a connection it answers 410 for', async () => {
    const seen: string[] = []
    const endpoint = await managementApi((url, respond) => {
      seen.push(url)
      // As API Gateway answers: the error's type in a header (restJson1).
      if (url.includes('gone-conn'))
        respond(410, JSON.stringify({ message: 'Gone' }), { 'x-amzn-errortype': 'GoneException' })
      // A 410 whose type header a proxy dropped is gone all the same.
      else if (url.includes('bare-410')) respond(410)
      else respond(200)
    })
    const sender = managementSender(endpoint)
    await expect(sender.post('live-conn', { type: 'pong' })).resolves.toBe('sent')
    await expect(sender.post('gone-conn', { type: 'pong' })).resolves.toBe('gone')
    await expect(sender.post('bare-410', { type: 'pong' })).resolves.toBe('gone')
    await expect(sender.close('bare-410')).resolves.toBeUndefined()
    expect(seen).toEqual([
      '/@connections/live-conn',
      '/@connections/gone-conn',
      '/@connections/bare-410',
      '/@connections/bare-410',
    ])
  })

  test('fails a post the API never answers, rather than holding the poller until Lambda cuts it', async () => {
    const endpoint = await managementApi(() => {
      // Never answers.
    })
    const sender = managementSender(endpoint)
    await expect(sender.post('stalled-conn', { type: 'ping' })).rejects.toThrow()
  }, 20_000)
})
