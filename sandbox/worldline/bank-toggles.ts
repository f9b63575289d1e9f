// Switches that make the simulated banks misbehave, set through `/__sandbox/` and cleared by a reset.

export class BankToggles {
  /** DELETE cannot reach the bank: the consent becomes `RevokedAtTpp` instead of `Revoked` (docs/providers.md, Worldline evidence: Consents). */
  deleteFails = false

  reset(): void {
    this.deleteFails = false
  }
}
