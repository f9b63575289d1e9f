// The gateway's secrets, set per stage with `npx sst secret set <Name> <value> --stage <stage>`, and the variable
// service/config.ts reads each one as. Every function links them all (infra/functions.ts): a secret's link name is its
// variable's name in PascalCase, which is how composition/settings.ts finds the variable a linked secret stands for.
//
// A provider is offered only where its settings are set: its secrets default to '', which the configuration reads as
// unset (as an unset variable in `npm start`).

/**
 * Signs pagination cursors and the per-consent callback links; at least 32 characters (`openssl rand -base64 48`).
 * Required: without it the deploy stops and asks for it. Changing it invalidates the cursors clients hold and the
 * callback links of authorisations in progress.
 */
export const cursorSecret = new sst.Secret('CursorSecret')

/**
 * Derives the opaque user reference each provider is told instead of the partner's user id (an HMAC over tenant and
 * user id), so two tenants' `user-1` are two users at the provider account they share; at least 32 characters
 * (`openssl rand -base64 48`). Required: without it the deploy stops and asks for it. Each consent keeps the reference
 * it was created with, so changing the key never orphans a consent; a user's new consents then carry a new reference,
 * and at Worldline no longer supersede that user's older ones.
 */
export const userReferenceKey = new sst.Secret('UserReferenceKey')

/**
 * Keys sealing provider-issued consent secrets at rest: `id:<32 bytes base64>[,id:<key>...]`; the first key seals,
 * every key opens (rotate by putting a new key first and keeping the old one until re-sealed). Required: Yapily
 * consents cannot be stored without it. Generate a key with `echo "k1:$(openssl rand -base64 32)"`.
 */
export const tokenEncryptionKeys = new sst.Secret('TokenEncryptionKeys')

/**
 * Signs the access tokens the gateway issues (`/oauth/token`, `createUserToken`): a JSON array of private EC P-256
 * JWKs, the first signs and every one verifies; `/.well-known/jwks.json` publishes their public halves. Required:
 * without it the deploy stops and asks for it. Make the first with
 * `npx sst secret set TokenSigningKeys "$(npx tsx scripts/token-signing-keys.ts new)" --stage <stage>`. Rotate in
 * two steps: put a new key first (`... token-signing-keys.ts rotate "<current value>"`), then, once the tokens the old
 * key signed have expired (an hour: the longest user token), drop it (`... token-signing-keys.ts drop-old "<value>"`).
 */
export const tokenSigningKeys = new sst.Secret('TokenSigningKeys')

/**
 * Finqware environment host, e.g. `https://your-env.finqware.com`. Finqware is offered when this, the client id and
 * the client secret are set.
 * @default `''` (Finqware not offered)
 */
export const finqwareBaseUrl = new sst.Secret('FinqwareBaseUrl', '')
/** Finqware client id. @default `''` */
export const finqwareClientId = new sst.Secret('FinqwareClientId', '')
/** Finqware client secret (at the token endpoint in `oauth2` mode, in every body in `internal` mode). @default `''` */
export const finqwareClientSecret = new sst.Secret('FinqwareClientSecret', '')
/** Path prefix of Finqware's AIS API (`/v2`, or `/test` for test data). @default `''` (the gateway's `/v2`) */
export const finqwarePathPrefix = new sst.Secret('FinqwarePathPrefix', '')
/**
 * How the gateway authenticates at Finqware: `oauth2` (Bearer tokens from the token endpoint, with the client id and
 * secret above; what production uses) or `internal` (the secret in every body; Finqware calls it test-only).
 * @default `''` (the gateway's `oauth2`)
 */
export const finqwareAuthMode = new sst.Secret('FinqwareAuthMode', '')
/**
 * Finqware's OAuth2 token endpoint, if not `<FinqwareBaseUrl>/oauth2/token` (that path is our guess).
 * @default `''` (the gateway's `<FinqwareBaseUrl>/oauth2/token`)
 */
export const finqwareTokenUrl = new sst.Secret('FinqwareTokenUrl', '')

/**
 * Host of Worldline's routing service, e.g. `https://xs2a.awltest.de`. Worldline is offered when this, the client id,
 * the Initiating Party id, the key id, the private key and the notification token are all set.
 * @default `''` (Worldline not offered)
 */
export const worldlineBaseUrl = new sst.Secret('WorldlineBaseUrl', '')
/** Our client id in Worldline's back office (the token request's `Client` header). @default `''` */
export const worldlineClientId = new sst.Secret('WorldlineClientId', '')
/**
 * Our Initiating Party id at Worldline (digits; the token request's `Id` header). Required for Worldline to be offered.
 * @default `''`
 */
export const worldlineInitiatingPartyId = new sst.Secret('WorldlineInitiatingPartyId', '')
/** Our sub id under that Initiating Party: the `Id` becomes `<id>:<sub id>`. @default `''` (none) */
export const worldlineInitiatingPartySubId = new sst.Secret('WorldlineInitiatingPartySubId', '')
/** `keyId` of the token request's signature: the SHA-1 thumbprint of the uploaded certificate. @default `''` */
export const worldlineKeyId = new sst.Secret('WorldlineKeyId', '')
/**
 * The RSA private key (PEM) that signs requests to Worldline; `\n` escapes are accepted, or set it from the file:
 * `npx sst secret set WorldlinePrivateKey < key.pem`. Linked, not a variable, so Lambda's 4 KB of variables does not
 * bound it: an RSA-4096 key (about 3.2 KB) fits as well as an RSA-2048 one.
 * @default `''`
 */
export const worldlinePrivateKey = new sst.Secret('WorldlinePrivateKey', '')
/**
 * The Notification Bearer Token set in Worldline's back office; every inbound notification must carry it.
 * @default `''`
 */
export const worldlineNotificationToken = new sst.Secret('WorldlineNotificationToken', '')

/**
 * Yapily's API base URL, e.g. `https://api.yapily.com`. Yapily is offered when this, the application key and the
 * application secret are set.
 * @default `''` (Yapily not offered)
 */
export const yapilyBaseUrl = new sst.Secret('YapilyBaseUrl', '')
/** Yapily application key (Basic auth user). @default `''` */
export const yapilyApplicationKey = new sst.Secret('YapilyApplicationKey', '')
/** Yapily application secret (Basic auth password). @default `''` */
export const yapilyApplicationSecret = new sst.Secret('YapilyApplicationSecret', '')
/**
 * The `webhookSecret` Yapily returned when our webhook was registered; without it no Yapily notification is accepted
 * and every change is found by reading.
 * @default `''`
 */
export const yapilyWebhookSecret = new sst.Secret('YapilyWebhookSecret', '')
/**
 * The header Yapily's webhook signature travels in. Not secret, but set per stage like the rest: our guess until
 * Yapily's first signed delivery shows the real one (docs/providers.md, Yapily).
 * @default `''` (the gateway's `X-Yapily-Signature`)
 */
export const yapilyWebhookSignatureHeader = new sst.Secret('YapilyWebhookSignatureHeader', '')
/**
 * The webhook category we register for consent status events, and the event `type` we act on. Not secret: our guess
 * until Yapily's `GET /webhook/events/categories` shows the real one (docs/providers.md, Yapily).
 * @default `''` (the gateway's `consent.status`)
 */
export const yapilyWebhookEventType = new sst.Secret('YapilyWebhookEventType', '')

/**
 * Web origins whose pages may call the GraphQL API with any tenant's credentials (CORS), comma-separated and exact,
 * e.g. `https://console.operator.example`: the operator's own. Partners' pages are registered per tenant instead
 * (`npm run admin -- set-origins`). Not secret, but set per stage like the rest. Any other origin gets no CORS header,
 * and none is allowed in credentials mode.
 * @default `''` (tenants' registered origins only)
 */
export const corsAllowedOrigins = new sst.Secret('CorsAllowedOrigins', '')

/** Every secret under the variable service/config.ts reads it as (its link name in upper snake case). */
export const SECRET_VARIABLES = {
  CURSOR_SECRET: cursorSecret,
  USER_REFERENCE_KEY: userReferenceKey,
  TOKEN_ENCRYPTION_KEYS: tokenEncryptionKeys,
  TOKEN_SIGNING_KEYS: tokenSigningKeys,
  FINQWARE_BASE_URL: finqwareBaseUrl,
  FINQWARE_CLIENT_ID: finqwareClientId,
  FINQWARE_CLIENT_SECRET: finqwareClientSecret,
  FINQWARE_PATH_PREFIX: finqwarePathPrefix,
  FINQWARE_AUTH_MODE: finqwareAuthMode,
  FINQWARE_TOKEN_URL: finqwareTokenUrl,
  WORLDLINE_BASE_URL: worldlineBaseUrl,
  WORLDLINE_CLIENT_ID: worldlineClientId,
  WORLDLINE_KEY_ID: worldlineKeyId,
  WORLDLINE_INITIATING_PARTY_ID: worldlineInitiatingPartyId,
  WORLDLINE_INITIATING_PARTY_SUB_ID: worldlineInitiatingPartySubId,
  WORLDLINE_PRIVATE_KEY: worldlinePrivateKey,
  WORLDLINE_NOTIFICATION_TOKEN: worldlineNotificationToken,
  YAPILY_BASE_URL: yapilyBaseUrl,
  YAPILY_APPLICATION_KEY: yapilyApplicationKey,
  YAPILY_APPLICATION_SECRET: yapilyApplicationSecret,
  YAPILY_WEBHOOK_SECRET: yapilyWebhookSecret,
  YAPILY_WEBHOOK_SIGNATURE_HEADER: yapilyWebhookSignatureHeader,
  YAPILY_WEBHOOK_EVENT_TYPE: yapilyWebhookEventType,
  CORS_ALLOWED_ORIGINS: corsAllowedOrigins,
} as const satisfies Record<string, sst.Secret>
