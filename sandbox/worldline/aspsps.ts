// The sandbox banks (docs/providers.md, Worldline evidence: Directory: ids 20101, 20116, 20102) and the accounts each one shares once authorised.
// The ids and their transaction behaviour are documented; names, countries, BICs and accounts are invented.

export type TransactionAccess = 'date-filter' | 'datetime-filter' | 'download-only'

export interface SandboxAspsp {
  aspspId: string
  name: string
  /** ISO 3166 alpha-2, EEA. */
  country: string
  bic: string
  transactions: TransactionAccess
  accounts: ReadonlyArray<{ iban: string; currency: string; name: string }>
}

export const SANDBOX_ASPSPS: readonly SandboxAspsp[] = [
  {
    aspspId: '20101',
    name: 'Brabant Sandbox Bank',
    country: 'BE',
    bic: 'BRSBBEBBXXX',
    transactions: 'date-filter',
    accounts: [{ iban: 'BE68539007547034', currency: 'EUR', name: 'Zichtrekening' }],
  },
  {
    aspspId: '20116',
    name: 'Noord Sandbox Bank',
    country: 'NL',
    bic: 'NOSBNL2AXXX',
    transactions: 'datetime-filter',
    accounts: [
      { iban: 'NL56NOSB0417164300', currency: 'EUR', name: 'Betaalrekening' },
      { iban: 'NL29NOSB0417164301', currency: 'EUR', name: 'Spaarrekening' },
    ],
  },
  {
    aspspId: '20102',
    name: 'Rhein Sandbox Bank',
    country: 'DE',
    bic: 'RHSBDEFFXXX',
    transactions: 'download-only',
    accounts: [
      { iban: 'DE89370400440532013000', currency: 'EUR', name: 'Girokonto' },
      { iban: 'DE62370400440532013001', currency: 'EUR', name: 'Tagesgeld' },
    ],
  },
]

export function findAspsp(aspspId: string | null | undefined): SandboxAspsp | undefined {
  return SANDBOX_ASPSPS.find((aspsp) => aspsp.aspspId === aspspId)
}
