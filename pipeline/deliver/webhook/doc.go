// Package webhook POSTs opportunities to a user's URL as signed JSON, or in the form
// Discord's incoming webhooks take.
//
// # Signature and replay protection
//
// Every request carries three headers:
//
//	X-Nexus-Timestamp: 1767225600                       (Unix seconds when it was signed)
//	X-Nexus-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	X-Nexus-Delivery:  <idempotency key>                (stable across retries)
//
// A receiver recomputes the HMAC over the raw body with the shared secret and
// compares in constant time (Verify does both), and refuses timestamps further than a
// tolerance (five minutes is usual) from its own clock. Binding the timestamp into the
// signature means a captured request cannot be replayed later with a fresh timestamp.
// Within the tolerance window a replay is still possible, and a retry after a lost
// response is a legitimate repeat, so receivers also dedupe on X-Nexus-Delivery,
// remembering ids at least as long as the tolerance. Each retry is signed anew with a
// new timestamp but keeps the same delivery id. With no secret configured the request
// is sent unsigned.
//
// # Errors and retries
//
// Send makes one attempt; the job runner retries. A 2xx is success; 408, 429 (with its
// Retry-After) and 5xx, timeouts and connection failures return a deliver.RetryError;
// any other status, redirects (never followed, so a signed body is not re-sent
// elsewhere) and refused targets return a deliver.PermanentError.
//
// # Targets
//
// Only http and https URLs are accepted, and unless Config.AllowPrivate
// (delivery.allow_private_targets) the request is dialled through
// deliver.SafeTransport, which refuses loopback, link-local and private addresses at
// connect time.
package webhook
