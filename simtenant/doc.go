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
//     the query rules Microsoft documents for sign-ins and nothing friendlier:
//     $filter on createdDateTime with eq, ge and le only (gt, lt and any other
//     operator: HTTP 400 "Invalid filter clause") and the
//     signInEventTypes/any(t: t eq '…' or t eq '…') form; $top 1..1000;
//     $skiptoken paging through absolute @odata.nextLink URLs; $orderby refused
//     with HTTP 400 unless Options.OrderBy says to ignore or honour it; 400 for
//     $select and any other option; interactive sign-ins only unless the filter
//     asks otherwise; "unknownFutureValue" in place of the NPSExtension and
//     ADFederationServicesMFAAdapter token issuer types unless the client sends
//     Prefer: include-unknown-enum-members. Options.IgnoreUpperBound makes it
//     ignore "le" bounds, as Graph has been reported to ignore filter bounds;
//   - row order (Options.Order): newest first by default (Graph's documented
//     order), ascending, or shuffled per query; every order pages by position,
//     never by offset, so a query serves a stored row at most once;
//   - throttling at RateLimit requests per RateWindow (5 per 10 s, as Graph's
//     identity reports), 429 with Retry-After;
//   - ingestion delay: each row has a VisibleAt and is returned only from
//     then on; a row that becomes visible while a query pages joins that query
//     if its position lies after the query's cursor and is missed by it
//     otherwise (the next query of the window finds it);
//   - retention: with Options.Retention, rows older than that are forgotten;
//     at most Options.MaxRows rows are held (the oldest go first), bursts are
//     capped at MaxBurst and remembered tokens at a fixed number, so a tenant
//     left running (--demo) stays bounded; Truth still counts every row
//     generated;
//   - the registration endpoints: GET /v1.0/reports/authenticationMethods/
//     userRegistrationDetails ($filter on the documented properties, $orderby
//     on userPrincipalName or userDisplayName; $select, $top and the rest
//     refused, as the List page documents $filter only) and GET /v1.0/users
//     ($select, $filter, $orderby on displayName or userPrincipalName, $top up
//     to 999, default page 100; accountEnabled and userType only when
//     $selected, as in Graph), both in a per-query shuffled order unless
//     $orderby is given, never by id, with absolute next links; and GET
//     /beta/users/{id}/authentication/requirements (perUserMfaState), behind
//     the same token check and rate limit as sign-ins. The directory is
//     generated from the generator's users with its own random stream
//     (disabled accounts, guests, admins, users with no method, open-set
//     method strings such as PhoneAppNotification and Fido2, a report built
//     hours ago), or loaded with LoadRegistrationFixture;
//   - GET /v1.0/identity/conditionalAccess/policies, the tenant's eleven
//     Conditional Access policies (enforced, report-only and off; MFA,
//     block, compliant device, authentication strength), with $select, $top
//     and next links, behind the same checks; without Policy.Read.All
//     (SetPolicyReadAll) it answers 403 and sign-in rows are served without
//     appliedConditionalAccessPolicies, as in Graph (coverage.go);
//   - injected faults (InjectFault, per registration or policy route with
//     Fault.Route) and clock skew (SetClockSkew).
//
// Rows come from fixtures (LoadFixture), from AddRows, or from a seeded
// generator (Backfill, Run, Burst) that writes realistic flows: interrupt and
// outcome rows sharing a correlationId, non-interactive token refreshes,
// passwordless methods, NPS extension and AD FS adapter events, fraud
// reports, push bombing, wording drift and, rarely, strings no catalogue
// knows. Each row also says why MFA was required (requirement providers:
// Conditional Access, legacy per-user MFA, risk policies), what every
// policy did (CoverageTruth) and which of a few dozen applications was
// signed into; FloodCoverage floods new policy and application ids. The generator records what it meant to produce (Truth) without
// reading its JSON back. Its wire strings are its own table (vocab.go) and
// this package imports nothing from the project, so that a test comparing
// the exporter's output with Truth cannot pass because both share a mistake.
//
// Not simulated: token signatures (access tokens are opaque random strings,
// client assertions are not verified), other Graph endpoints (including the
// summary reports such as usersRegisteredByFeature), the app-wide throttling
// cap across tenants, other sign-in filter properties (status/errorCode,
// authenticationRequirement), startswith(), $count, $expand and $search on
// users (answered with 400), multiple tenants, and row rewriting after
// aggregation except by calling AddRows again with the same id.
package simtenant
