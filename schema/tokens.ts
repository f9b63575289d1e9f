// Tokens a partner mints for one of its end users (a mobile app, a web page): createUserToken and revokeUserTokens.
// Partner credentials only; `/oauth/token`'s token exchange mints the same tokens (http/oauth.ts).
import { ServiceUnavailableError, UnauthorizedError, ValidationError } from '../domain/errors.ts'
import * as z from '../domain/zod.ts'
import type { Principal, UserTokenScope } from '../service/principal.ts'
import { builder } from './builder.ts'
import type { GraphQLContext } from './context.ts'

/** Resolvers never see a request without a principal (HTTP auth runs first). */
function principalOf(context: GraphQLContext): Principal {
  if (!context.principal) throw new UnauthorizedError()
  return context.principal
}

export const UserTokenScopeEnum = builder.enumType('UserTokenScope', {
  description:
    "What an end user's token may do. CONSENTS_READ (`consents:read`): read the user's consents, their history and " +
    'live updates. CONSENTS_WRITE (`consents:write`): that, and create, refresh, revoke and the other changes.',
  values: {
    CONSENTS_READ: { value: 'consents:read' },
    CONSENTS_WRITE: { value: 'consents:write' },
  } as const,
})

interface MintedUserToken {
  readonly accessToken: string
  readonly expiresIn: number
  readonly expiresAt: Date
  readonly scopes: UserTokenScope[]
  readonly userId: string
  readonly consentIds: readonly string[] | null
}

const UserTokenRef = builder.objectRef<MintedUserToken>('CreateUserTokenPayload').implement({
  description: 'A token for one end user: send it as `Authorization: Bearer <accessToken>`.',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', { description: 'An RFC 9068 JWT; keep it out of logs and URLs.' }),
    tokenType: t.string({ description: 'Always `Bearer`.', resolve: () => 'Bearer' }),
    expiresIn: t.exposeInt('expiresIn', { description: 'Seconds from now.' }),
    expiresAt: t.field({ type: 'DateTime', resolve: (token) => token.expiresAt }),
    scopes: t.field({ type: [UserTokenScopeEnum], resolve: (token) => token.scopes }),
    userId: t.exposeString('userId'),
    consentIds: t.idList({
      nullable: true,
      description: 'The consents the token is restricted to; null: every consent of the user.',
      resolve: (token) => (token.consentIds ? [...token.consentIds] : null),
    }),
  }),
})

const userIdArg = z
  .string()
  .check(z.minLength(1), z.maxLength(128), z.regex(/^[^\p{Cc}]+$/u, 'must not contain control characters'))

builder.mutationField('createUserToken', (t) =>
  t.field({
    type: UserTokenRef,
    description:
      "Mints a short-lived token for one of your end users, for your app or web page: it sees that user's consents " +
      'and nothing else, and never the tenant-wide fields (the event feed, webhooks, minting). Partner credentials ' +
      'only. 15 minutes unless `expiresInSeconds` says otherwise (at most 3600). With `consentIds` it sees only ' +
      'those consents (and may not create one). Revoke every token of a user with revokeUserTokens.',
    authScopes: { partner: true },
    errors: { types: [ValidationError], directResult: true, union: { name: 'CreateUserTokenResult' } },
    args: {
      userId: t.arg.string({ required: true, validate: userIdArg }),
      scopes: t.arg({ type: [UserTokenScopeEnum], required: true }),
      expiresInSeconds: t.arg.int({ validate: z.nullish(z.number().check(z.int(), z.gte(1))) }),
      consentIds: t.arg.idList({
        validate: z.nullish(z.array(z.string().check(z.maxLength(64))).check(z.maxLength(50))),
      }),
    },
    resolve: async (_root, args, context) => {
      const consentIds = args.consentIds?.length ? [...new Set(args.consentIds)] : null
      const token = await context.services.tokens.issueForUser(principalOf(context), {
        userId: args.userId,
        scopes: args.scopes,
        expiresInSeconds: args.expiresInSeconds,
        consentIds,
      })
      return {
        accessToken: token.accessToken,
        expiresIn: token.expiresIn,
        expiresAt: new Date(token.expiresAt),
        scopes: token.scope.split(' ') as UserTokenScope[],
        userId: args.userId,
        consentIds,
      }
    },
  }),
)

const RevokeUserTokensPayload = builder
  .objectRef<{ userId: string; revokedBefore: Date }>('RevokeUserTokensPayload')
  .implement({
    fields: (t) => ({
      userId: t.exposeString('userId'),
      revokedBefore: t.field({
        type: 'DateTime',
        description: 'Every token of the user minted until this moment is refused from now on; later ones work.',
        resolve: (payload) => payload.revokedBefore,
      }),
    }),
  })

builder.mutationField('revokeUserTokens', (t) =>
  t.field({
    type: RevokeUserTokensPayload,
    description:
      'Revokes every token minted so far for one of your end users (logout, a lost phone). They are refused within ' +
      'seconds everywhere (5 at most), at once on the server that answered; open subscriptions with them end with ' +
      'UNAUTHORIZED. Partner credentials only.',
    authScopes: { partner: true },
    errors: {
      types: [ValidationError, ServiceUnavailableError],
      directResult: true,
      union: { name: 'RevokeUserTokensResult' },
    },
    args: { userId: t.arg.string({ required: true, validate: userIdArg }) },
    resolve: async (_root, { userId }, context) => {
      const revokedBefore = await context.services.tokens.revokeUserTokens(principalOf(context), userId)
      return { userId, revokedBefore: new Date(revokedBefore) }
    },
  }),
)
