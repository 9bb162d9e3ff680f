// Package deliver holds what every delivery integration shares: the Opportunity and
// Message types a sender receives, the Sender interface, the error classes that tell
// the job runner whether and when to retry, and the SSRF guard for user-supplied URLs.
//
// One subpackage per service implements Sender with the same shape
// (slack, sheets, webhook), and export streams CSV and JSONL. This package never
// imports its children; the kind→constructor registry lives in pipeline.
//
// # Error classes
//
// Send returns nil, a *PermanentError (retrying cannot help: bad credentials, a
// refused target, a 4xx other than 408/429), a *RetryError (the service asked us to
// wait, or failed in a way that may pass: 429, 5xx, timeouts), or any other error,
// which a runner treats as retryable with its own backoff. Use IsPermanent and
// RetryAfter rather than type switches: both look through wrapping.
package deliver
