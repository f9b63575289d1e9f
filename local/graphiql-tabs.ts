// The operations GraphiQL opens with under `npm start`: the README's first steps, one tab each, instead of GraphiQL's
// generic welcome text.

/** The tabs, with the local "done" page as the example's redirectUrl. */
export const GRAPHIQL_TABS = (doneUrl: string): string[] => [
  `# 1. Create a consent at Finqware's sandbox bank, then open its authorizationUrl and press Approve.
#    The bank sends the browser to redirectUrl: here the gateway's own "done" page.
mutation CreateConsent {
  createConsent(input: {
    provider: FINQWARE, institutionId: "bt_ro", userId: "user-1", region: EEA,
    validityDays: 90, redirectUrl: "${doneUrl}"
  }) {
    __typename
    ... on CreateConsentPayload { consent { id status authorizationUrl nextAction } }
    ... on Error { code message }
  }
}
`,
  `# 2. Ask for the consent (put the id you got). Right after approval it is AUTHORIZED for a moment, then ACTIVE.
query Consent {
  consent(id: "consent_01...") {
    ... on Consent {
      status statusReason providerStatus canAccessData nextAction validUntil nextDeadline { kind at } version
      events { edges { node { sequence kind from to providerStatus source initiator at } } }
    }
    ... on Error { code message }
  }
}
`,
  `# 3. Watch it live (over SSE); revoke it from another tab and see the change arrive.
subscription Watch {
  consentUpdated(id: "consent_01...") { status version canAccessData }
}
`,
  `# 4. Revoke it.
mutation Revoke {
  revokeConsent(id: "consent_01...") {
    ... on RevokeConsentPayload { consent { status statusReason } }
    ... on Error { code message }
  }
}
`,
  `# 5. Your consents, newest first, and every event of your tenant (events show up after about 5 seconds).
query Overview {
  consents(first: 20) { edges { node { id provider status validUntil } } }
  consentEvents(first: 20) { edges { cursor node { consent { id } kind from to at } } }
  providers { provider capabilities { reauthorize reconfirm delete } institutions { id name region } }
}
`,
]
