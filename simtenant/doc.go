// Package simtenant is a simulated Microsoft Entra tenant on loopback, used
// by the tests and by entra-mfa-exporter --demo.
//
// Start serves, over TLS with a CA and server certificate generated at start
// (ECDSA P-256, SANs 127.0.0.1 and localhost):
//
//   - a login authority good enough for azidentity/MSAL's confidential-client
//     client-credentials flow with instance discovery disabled: OpenID
//     configuration, instance discovery, and a token endpoint that checks the
//     client secret (or a certificate credential's client assertion, by its
//     aud/iss claims only) and the Graph ".default" scope, and answers with
//     Entra's error bodies (AADSTS7000215 for a wrong secret, ...);
//   - GET /beta/auditLogs/signIns, requiring a bearer token it issued, with
//     Graph's query rules for sign-ins: $filter on createdDateTime
//     (ge/gt/le/lt) and signInEventTypes/any(...), $orderby createdDateTime,
//     $top 1..1000, $skiptoken paging through absolute @odata.nextLink URLs,
//     400 for $select and any other option, interactive sign-ins only unless
//     the filter asks otherwise, and "unknownFutureValue" in place of the
//     NPSExtension and ADFederationServicesMFAAdapter token issuer types
//     unless the client sends Prefer: include-unknown-enum-members;
//   - throttling at RateLimit requests per RateWindow (5 per 10 s, as Graph's
//     identity reports), 429 with Retry-After;
//   - ingestion delay: each row has a VisibleAt and is returned only from
//     then on; paging cursors are (createdDateTime, id), so rows that become
//     visible during a page sequence are never duplicated and visible rows
//     never skipped;
//   - the registration endpoints: GET /v1.0/reports/authenticationMethods/
//     userRegistrationDetails and GET /v1.0/users ($select, $filter with
//     eq/and/any, $orderby, $top, absolute next links; accountEnabled and
//     userType only when $selected, as in Graph), and GET /beta/users/{id}/
//     authentication/requirements (perUserMfaState), behind the same token
//     check and rate limit as sign-ins. The directory is generated from the
//     generator's users with its own random stream (disabled accounts,
//     guests, admins, users with no method, open-set method strings such as
//     PhoneAppNotification and Fido2, a report built hours ago), or loaded
//     with LoadRegistrationFixture;
//   - injected faults (InjectFault, per registration route with Fault.Route)
//     and clock skew (SetClockSkew).
//
// Rows come from fixtures (LoadFixture), from AddRows, or from a seeded
// generator (Backfill, Run, Burst) that writes realistic flows: interrupt and
// outcome rows sharing a correlationId, non-interactive token refreshes,
// passwordless methods, NPS extension and AD FS adapter events, fraud
// reports, push bombing, wording drift and, rarely, strings no catalogue
// knows. The generator records what it meant to produce (Truth) without
// reading its JSON back. Its wire strings are its own table (vocab.go) and
// this package imports nothing from the project, so that a test comparing
// the exporter's output with Truth cannot pass because both share a mistake.
//
// Not simulated: token signatures (access tokens are opaque random strings,
// client assertions are not verified), other Graph endpoints (including the
// summary reports such as usersRegisteredByFeature), the app-wide throttling
// cap across tenants, $count and other filter properties (status/errorCode, authenticationRequirement),
// multiple tenants, and row rewriting after aggregation except by calling
// AddRows again with the same id.
package simtenant
