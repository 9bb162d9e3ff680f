// Package xfake is an in-process fake of X's GraphQL web API for tests: an
// httptest server on loopback that speaks the HTTP the real X client speaks, so
// every package can run the real client against it, offline.
//
// # Routes
//
// URL() is the API base (the fake's https://x.com/i/api). The fake serves
//
//	GET|POST {URL}/graphql/{queryId}/SearchTimeline
//	GET|POST {URL}/graphql/{queryId}/TweetDetail
//	GET|POST {URL}/graphql/{queryId}/UserByScreenName
//
// and the same paths without the /i/api prefix. GET takes the JSON-encoded query
// parameters variables, features and fieldToggles; POST takes a JSON body
// {"variables":{...},"features":{...},"fieldToggles":{...},"queryId":"..."} (each
// value may also be a JSON string). Operation ids default to research §2.2
// (DefaultSearchTimelineID, ...) and change with SetOperation; accepted methods
// change with SetMethods. An unknown path, operation, query id or method answers
// X's 404 with an empty body, as X does for a stale id.
//
// # Authentication
//
// Every request needs "authorization: Bearer "+WebBearer, a Cookie header with
// auth_token and ct0, and x-csrf-token equal to ct0. Sessions are registered with
// AddAccount(authToken, ct0). Failures answer as X: 401 code 89 (bad bearer), 401
// code 32 (no or unknown auth_token, expired session), 403 code 353 (csrf
// mismatch), 403 code 64 (suspended), 403 code 326 (locked); see AccountState.
// x-client-transaction-id is recorded, and required only WithTransactionIDRequired.
//
// # Rate limits
//
// Each account has a quota per operation (default SearchTimeline 50, TweetDetail
// 150, UserByScreenName 95, per 15 minutes), opened by its first request. Every
// authenticated answer carries x-rate-limit-limit, x-rate-limit-remaining and
// x-rate-limit-reset (Unix seconds). The request that brings remaining to 0 is still
// served; the next ones answer 429 {"errors":[{"code":88,"message":"Rate limit
// exceeded."}]} until the reset, read from the injectable clock (WithClock).
//
// # Data
//
// Responses are rendered from a corpus: synthetic tweets (WithCorpus, deterministic
// from a seed), AddTweet, AddUser and Conversation. JSON follows the captured
// fixtures: the 2026 user schema by default, the legacy one or a mix (WithSchema),
// tweet fields in legacy{} or at the top level (WithTweetShape),
// TweetWithVisibilityResults wrappers, TweetTombstone for deleted posts, note tweets
// for texts over 280 runes, quoted and retweeted nesting, promoted entries in search.
// ServeFixture answers an operation with canned bodies instead.
//
// # Pagination
//
// SearchTimeline (product Latest, Top, Media; People is always empty; count default
// 20, at most 100): page 1 is one TimelineAddEntries with the tweets, then
// cursor-top-9223372036854775807 and cursor-bottom-0; later pages carry the tweets in
// TimelineAddEntries and both cursors in TimelineReplaceEntry. Past the end, pages
// are empty but the bottom cursor still changes, as on X. A top cursor returns
// tweets newer than any served (oldest first, count at a time). Promoted entries
// (promoted-tweet-...) sit third on pages of three or more tweets (WithPromoted).
//
// TweetDetail: the ancestors and the focal tweet as tweet-<id> entries, then pages of
// conversationthread modules (Paging.ThreadsPerPage, default 10) behind Bottom
// cursors, then ShowMoreThreads and
// ShowMoreThreadsPrompt for low-quality and abusive replies; each module shows
// Paging.ModuleItems tweets (default 2) and a ShowMore item whose cursor returns
// the next Paging.ModuleMore (default 10) through TimelineAddToModule.
//
// Cursor values are opaque strings that the fake decodes statelessly: a prefix like
// X's (DAADDAAB for search, DAAKCgAB for replies) and the base64url of the position.
// Send them back unchanged; an undecodable cursor gets an empty timeline.
//
// # Faults
//
// InjectFault(match, fault, times) makes matching requests answer with any error X
// is known for (see the Fault* constructors), after authentication and rate
// limiting. Requests() is the log of what the fake saw and answered.
package xfake
