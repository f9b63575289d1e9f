// The banks the Finqware sandbox knows (the sandbox banks of Finqware's Quick Start) and the accounts each one "returns" once a consent is active.

export interface SandboxBank {
  providerId: string
  name: string
  country: string
  /** The documented sandbox credentials, shown on the fake bank page as a hint. */
  testCredentials: string
  accounts: ReadonlyArray<{ iban: string; currency: string; name: string }>
}

export const SANDBOX_BANKS: readonly SandboxBank[] = [
  {
    providerId: 'rzb_ro',
    name: 'Raiffeisen Bank Romania',
    country: 'RO',
    testCredentials: 'PSU ID 9999999998',
    accounts: [
      { iban: 'RO03RZBR0000069999999999', currency: 'RON', name: 'Cont curent' },
      { iban: 'RO10RZBR0000069999999970', currency: 'RON', name: 'Cont economii' },
    ],
  },
  {
    providerId: 'bt_ro',
    name: 'Banca Transilvania',
    country: 'RO',
    testCredentials: 'user testbt, password testbt, PIN 1234567',
    // The Quick Start gives no Banca Transilvania IBAN; this one is invented (valid RO shape, BTRL bank code).
    accounts: [{ iban: 'RO49BTRLRONCRT0000000001', currency: 'RON', name: 'Cont curent' }],
  },
  {
    providerId: 'cec_ro',
    name: 'CEC Bank',
    country: 'RO',
    testCredentials: 'user and password testcecapi',
    accounts: [{ iban: 'RO42CECEAG0202RON0007466', currency: 'RON', name: 'Cont curent' }],
  },
]

export function findBank(providerId: string | null | undefined): SandboxBank | undefined {
  return SANDBOX_BANKS.find((bank) => bank.providerId === providerId)
}
