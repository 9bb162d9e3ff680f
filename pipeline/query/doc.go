// Package query turns a campaign into the one X search string a listening run asks for,
// plus the local filter that applies what X's search cannot apply precisely, and checks
// and cleans campaigns before they are stored.
//
// Search strings are built so that X's operator precedence never matters: every OR
// group of more than one term is parenthesised, every several-word alternative inside
// it too, and the advanced query is its own group. The Python original wrote
// `a OR b since:... -filter:retweets`, which X reads as `a OR (b since:... ...)`: the
// date window and the retweet filter held for the last term only.
//
// What a campaign's terms mean:
//
//   - keywords, phrases, hashtags and mentions are alternatives: a tweet that matches
//     any one of them is found. match=all turns the keywords into one alternative whose
//     words must all appear; match=any (the default) makes each keyword its own
//     alternative. A keyword of several words needs all its words, in any order; use
//     phrases for words in a row.
//   - from_users narrow: with other terms, only those users' tweets are found; alone,
//     everything they post is found.
//   - advanced_query is ANDed with the rest as one parenthesised group.
//   - exclude_words, exclude_users, lang, min_*, the reply and retweet flags and the
//     time bounds apply to the whole query.
package query
