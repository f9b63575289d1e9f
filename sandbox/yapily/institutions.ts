// The sandbox's institutions and what each supports. `modelo-sandbox` is Yapily's real sandbox id; the other
// two ids, every name, country detail, credentials type and account are invented for the simulator.
import type { Feature } from './enums.ts'

/**
 * UK: 90-day validity and reconfirmation (`reconfirmBy`, `extend`); EEA: 180-day validity (Yapily, "Financial data
 * consents").
 */
export type Region = 'UK' | 'EEA'

/** `redirect`: one hosted bank page; `embedded`: SCA method then SCA code (Yapily API 12.13.0 "Embedded flow"). */
export type AuthorisationFlow = 'redirect' | 'embedded'

export interface SandboxAccount {
  id: string
  type: string
  currency: string
  name: string
  identifications: ReadonlyArray<{ type: 'IBAN' | 'SORT_CODE'; identification: string }>
}

export interface SandboxInstitution {
  id: string
  name: string
  fullName: string
  /** Every country the institution serves, as `GET /institutions` lists them. */
  countries: ReadonlyArray<{ displayName: string; countryCode2: string }>
  region: Region
  flow: AuthorisationFlow
  /** Honours `accountRequest.expiresAt`; other institutions ignore it silently (Yapily API 12.13.0). */
  supportsExpiresAt: boolean
  /** Accepts `PATCH /account-auth-requests`; otherwise 424 (docs/providers.md, Yapily). */
  supportsReauthorisation: boolean
  credentialsType: string
  /**
   * Returns one consent per account at the first authorisation (Yapily: "Some banks return one consent per
   * account"): the callback then carries one `consent` parameter per consent.
   */
  consentPerAccount?: boolean
  features: readonly Feature[]
  /** What `GET /accounts` answers for a consent at this institution. */
  accounts: readonly SandboxAccount[]
}

/** The AIS data features; a consent's default `featureScope` is the institution's features among these. */
export const DATA_FEATURES: ReadonlySet<Feature> = new Set<Feature>([
  'ACCOUNTS',
  'ACCOUNT',
  'ACCOUNT_BALANCES',
  'ACCOUNT_TRANSACTIONS',
  'ACCOUNT_TRANSACTIONS_WITH_MERCHANT',
  'ACCOUNT_STATEMENTS',
  'ACCOUNT_STATEMENT',
  'ACCOUNT_STATEMENT_FILE',
  'ACCOUNT_SCHEDULED_PAYMENTS',
  'ACCOUNT_DIRECT_DEBITS',
  'ACCOUNT_PERIODIC_PAYMENTS',
  'ACCOUNT_BENEFICIARIES',
  'IDENTITY',
  'ACCOUNTS_WITHOUT_BALANCE',
  'ACCOUNT_WITHOUT_BALANCE',
])

export const SANDBOX_INSTITUTIONS: readonly SandboxInstitution[] = [
  {
    id: 'modelo-sandbox',
    name: 'Modelo Sandbox',
    fullName: 'Modelo Sandbox',
    countries: [{ displayName: 'United Kingdom', countryCode2: 'GB' }],
    region: 'UK',
    flow: 'redirect',
    supportsExpiresAt: true,
    supportsReauthorisation: true,
    credentialsType: 'OPEN_BANKING_UK_AUTO',
    features: [
      'INITIATE_ACCOUNT_REQUEST',
      'ACCOUNT_REQUEST_DETAILS',
      'ACCOUNTS',
      'ACCOUNT',
      'ACCOUNT_BALANCES',
      'ACCOUNT_TRANSACTIONS',
      'ACCOUNT_TRANSACTIONS_WITH_MERCHANT',
      'ACCOUNT_STATEMENTS',
      'ACCOUNT_STATEMENT',
      'ACCOUNT_STATEMENT_FILE',
      'ACCOUNT_SCHEDULED_PAYMENTS',
      'ACCOUNT_DIRECT_DEBITS',
      'ACCOUNT_PERIODIC_PAYMENTS',
      'ACCOUNT_BENEFICIARIES',
      'IDENTITY',
    ],
    accounts: [
      {
        id: '700004000000000000000002',
        type: 'Personal - Current',
        currency: 'GBP',
        name: 'Ms Ada Sandbox',
        identifications: [
          { type: 'SORT_CODE', identification: '202015' },
          { type: 'IBAN', identification: 'GB33BUKB20201555555555' },
        ],
      },
    ],
  },
  {
    id: 'santander-es-sandbox',
    name: 'Santander ES Sandbox',
    fullName: 'Banco Santander España Sandbox',
    // Andorra first: a list whose first country is outside the UK and the EEA, as Yapily's lists may be.
    countries: [
      { displayName: 'Andorra', countryCode2: 'AD' },
      { displayName: 'Spain', countryCode2: 'ES' },
    ],
    region: 'EEA',
    flow: 'redirect',
    supportsExpiresAt: false,
    supportsReauthorisation: true,
    credentialsType: 'OPEN_BANKING_AUTO',
    features: ['INITIATE_ACCOUNT_REQUEST', 'ACCOUNTS', 'ACCOUNT', 'ACCOUNT_BALANCES', 'ACCOUNT_TRANSACTIONS'],
    accounts: [
      {
        id: 'es-acc-0001',
        type: 'Personal - Current',
        currency: 'EUR',
        name: 'Sra. Ada Sandbox',
        identifications: [{ type: 'IBAN', identification: 'ES9121000418450200051332' }],
      },
    ],
  },
  {
    id: 'embedded-de-sandbox',
    name: 'Embedded DE Sandbox',
    fullName: 'Embedded Bank Deutschland Sandbox',
    countries: [{ displayName: 'Germany', countryCode2: 'DE' }],
    region: 'EEA',
    flow: 'embedded',
    supportsExpiresAt: false,
    supportsReauthorisation: false,
    credentialsType: 'OPEN_BANKING_AUTO',
    // No INITIATE_ACCOUNT_REQUEST: a real embedded bank is driven through the embedded API. The sandbox still accepts
    // `POST /account-auth-requests` for it and walks the embedded steps on its hosted page, so people and tests can
    // watch AWAITING_SCA_METHOD -> AWAITING_SCA_CODE -> AUTHORIZED in a browser.
    features: ['INITIATE_EMBEDDED_ACCOUNT_REQUEST', 'ACCOUNTS', 'ACCOUNT', 'ACCOUNT_BALANCES', 'ACCOUNT_TRANSACTIONS'],
    accounts: [
      {
        id: 'de-acc-0001',
        type: 'Personal - Current',
        currency: 'EUR',
        name: 'Frau Ada Sandbox',
        identifications: [{ type: 'IBAN', identification: 'DE89370400440532013000' }],
      },
    ],
  },
  {
    // One consent per account: approving authorises a consent for each of its two accounts.
    id: 'per-account-gb-sandbox',
    name: 'Per Account GB Sandbox',
    fullName: 'Per Account Bank UK Sandbox',
    countries: [{ displayName: 'United Kingdom', countryCode2: 'GB' }],
    region: 'UK',
    flow: 'redirect',
    supportsExpiresAt: false,
    supportsReauthorisation: true,
    consentPerAccount: true,
    credentialsType: 'OPEN_BANKING_UK_AUTO',
    features: ['INITIATE_ACCOUNT_REQUEST', 'ACCOUNTS', 'ACCOUNT', 'ACCOUNT_BALANCES', 'ACCOUNT_TRANSACTIONS'],
    accounts: [
      {
        id: 'pa-acc-0001',
        type: 'Personal - Current',
        currency: 'GBP',
        name: 'Ms Ada Sandbox',
        identifications: [{ type: 'SORT_CODE', identification: '309493' }],
      },
      {
        id: 'pa-acc-0002',
        type: 'Personal - Savings',
        currency: 'GBP',
        name: 'Ms Ada Sandbox',
        identifications: [{ type: 'SORT_CODE', identification: '309494' }],
      },
    ],
  },
  {
    // Payments only: no account authorisation feature, so no AIS consent can be asked of it.
    id: 'payments-only-gb-sandbox',
    name: 'Payments Only GB Sandbox',
    fullName: 'Payments Only Bank UK Sandbox',
    countries: [{ displayName: 'United Kingdom', countryCode2: 'GB' }],
    region: 'UK',
    flow: 'redirect',
    supportsExpiresAt: false,
    supportsReauthorisation: false,
    credentialsType: 'OPEN_BANKING_UK_AUTO',
    features: [
      'INITIATE_SINGLE_PAYMENT_SORTCODE',
      'CREATE_SINGLE_PAYMENT_SORTCODE',
      'EXISTING_PAYMENT_INITIATION_DETAILS',
    ],
    accounts: [],
  },
]

export function findInstitution(institutionId: string): SandboxInstitution | undefined {
  return SANDBOX_INSTITUTIONS.find((institution) => institution.id === institutionId)
}

/** The `Institution` JSON of `GET /institutions`. */
export function institutionView(institution: SandboxInstitution): Record<string, unknown> {
  return {
    id: institution.id,
    name: institution.name,
    fullName: institution.fullName,
    countries: institution.countries,
    environmentType: 'SANDBOX',
    credentialsType: institution.credentialsType,
    media: [],
    features: institution.features,
  }
}
