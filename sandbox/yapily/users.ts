// Yapily Users per application: created silently on the first `applicationUserId` a create call names (Yapily API
// 12.13.0), found again by that id or by their `userUuid`.
import { randomUUID } from 'node:crypto'

export interface YapilyUser {
  uuid: string
  applicationId: string
  applicationUserId: string
  createdAt: Date
}

export class UserRegistry {
  readonly #users: YapilyUser[] = []

  /** The application's user with this `applicationUserId`, created now when there is none. */
  findOrCreate(applicationId: string, applicationUserId: string, now: Date): YapilyUser {
    const found = this.#users.find(
      (user) => user.applicationId === applicationId && user.applicationUserId === applicationUserId,
    )
    if (found) return found
    const user: YapilyUser = { uuid: randomUUID(), applicationId, applicationUserId, createdAt: now }
    this.#users.push(user)
    return user
  }

  /** By `userUuid`, seen from one application. */
  findByUuid(applicationId: string, uuid: string): YapilyUser | undefined {
    return this.#users.find((user) => user.applicationId === applicationId && user.uuid === uuid)
  }

  /** Takes back the users of a saved state. */
  load(users: readonly YapilyUser[]): void {
    this.#users.push(...users)
  }

  all(): YapilyUser[] {
    return [...this.#users]
  }

  clear(): void {
    this.#users.length = 0
  }
}
