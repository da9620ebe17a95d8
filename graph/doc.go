// Package graph is the exporter's Microsoft Graph client: it acquires tokens through azidentity,
// paces every request under the identity-reports budget of 5 requests per 10 seconds per tenant,
// retries throttling and transient failures, follows absolute @odata.nextLink paging and decodes
// only the sign-in fields the exporter uses.
//
// Sign-in pages are decoded by a streaming tokenizer of its own (jsonscan.go, decode.go) that
// reads the kept fields and validates while it skips the rest, in one pass: it gives exactly the
// rows encoding/json gives (a test and a fuzz target compare them), skips a row it cannot decode
// while its siblings survive, and bounds what a hostile response can make it keep (string lengths,
// list lengths, nesting, decoded size per page). Reads are bounded too: a next-link loop, too many
// pages or a read past its time box fail the read with ErrPagingLoop, ErrTooManyPages or
// ErrReadTimeBox, and redirects are never followed (ErrRedirect).
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
