// Package graph is the exporter's Microsoft Graph client: it acquires tokens through azidentity,
// paces every request under the identity-reports budget of 5 requests per 10 seconds per tenant,
// retries throttling and transient failures, follows absolute @odata.nextLink paging and decodes
// only the sign-in fields the exporter uses.
//
// It deliberately avoids the generated Graph SDK and its Kiota pipeline: that pipeline retries
// 429/503/504 on its own, and a retry that bypasses the Pacer spends the tenant's budget uncounted.
// Here every attempt, first or retry, waits on the Pacer, and a 429's Retry-After holds every
// request of the tenant, not only the one that was throttled.
//
// The bearer token is attached only to requests whose scheme and host are those of the configured
// Graph endpoint; a next link pointing anywhere else is an error, so a token never leaves for a
// foreign host.
package graph
