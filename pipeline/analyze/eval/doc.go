// Package eval measures an analyzer against a labelled set of conversations: how well it
// finds opportunities (precision, recall, F1), whether its relevance agrees with a
// person's, how it does per kind of conversation, and what it costs in calls, time and
// tokens.
//
// The set in testdata/ is synthetic, written for this test: four campaigns
// (campaigns.json) and labelled threads (conversations.jsonl). go test runs it through
// the offline heuristic; with an LLM key in the environment it runs it through the
// configured model too (see eval_test.go).
package eval
