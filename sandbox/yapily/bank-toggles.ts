// Switches that make the simulated banks misbehave, set through `/__sandbox/` and cleared by a reset.

export class BankToggles {
  /** The bank refuses DELETE: `forceDelete=true` deletes at Yapily only, `false` fails (Yapily API 12.13.0). */
  deleteFails = false

  reset(): void {
    this.deleteFails = false
  }
}
