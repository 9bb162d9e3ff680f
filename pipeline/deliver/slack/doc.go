// Package slack posts opportunities to Slack as Block Kit messages, through an
// incoming webhook or a bot token and channel (chat.postMessage).
//
// Limits: a message carries at most 50 blocks, a section at most 3000 characters and
// a header at most 150, so text is cut at rune boundaries and a digest is split over
// several messages. Slack allows about one message per second per channel; the client
// paces itself per channel (per webhook URL in webhook mode) and turns Slack's 429
// into a deliver.RetryError carrying Retry-After.
//
// Exactly once: incoming webhooks take no idempotency key, so a crash after Slack
// accepted a message and before the delivery row was recorded sends that one message
// again on retry; this is accepted and documented. In bot mode every message carries
// Slack message metadata (event type "nexus_delivery" with the idempotency key and
// the part number), so a later check of conversations.history could find a message
// that was sent but not recorded. Within one process, a digest that failed part-way
// resumes at the first part not yet posted.
package slack
