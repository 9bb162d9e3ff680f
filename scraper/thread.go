package scraper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ThreadOptions bound a thread walk.
type ThreadOptions struct {
	MaxReplies int // stop collecting after this many replies (default 2000)
	// MaxPages stops the walk after this many TweetDetail requests (the tweet's and its
	// root's pages always go); 0: no bound but MaxReplies.
	MaxPages int
}

// Thread is a whole conversation as a tree.
type Thread struct {
	RootID string // the conversation's first tweet (its conversation_id)
	// Tweets are the root first, then the replies depth first, each reply's answers
	// after it, siblings oldest first.
	Tweets []ThreadTweet
	// Complete is false when a bound (MaxReplies, MaxPages) or an unreadable root cut
	// the walk, so that replies may be missing.
	Complete bool
}

// ThreadTweet is one tweet of a thread and its place in the tree.
type ThreadTweet struct {
	Tweet    Tweet
	ParentID string // the tweet it answers; "" for the root
	// Depth is 0 for the root and 1 for a direct reply. A reply whose parent X did not
	// show (deleted, withheld) is placed under the root with Depth 2, as if the missing
	// parent answered the root.
	Depth int
}

// ErrTweetNotFound is returned (wrapped) when X does not know the tweet or will not
// show it.
var ErrTweetNotFound = errors.New("tweet not found")

const defaultMaxReplies = 2000

// Thread returns the whole conversation tweetID belongs to. From a reply it climbs to
// the root (the ancestors come with the reply's page) and walks down from there,
// following the Bottom, ShowMoreThreads, ShowMoreThreadsPrompt and module ShowMore
// cursors until none is left or a bound is hit: twscrape follows only one kind and
// stops after about ten replies. Tweets of other conversations that X mixes in are
// dropped. On an error after the first page, the Thread holds what was gathered.
func (c *Client) Thread(ctx context.Context, tweetID string, o ThreadOptions) (Thread, error) {
	if tweetID == "" || strings.Trim(tweetID, "0123456789") != "" {
		return Thread{}, fmt.Errorf("thread %q: not a tweet id", tweetID)
	}
	if o.MaxReplies <= 0 {
		o.MaxReplies = defaultMaxReplies
	}
	l := c.newLease(OpTweetDetail)
	defer l.release(ctx, Outcome{})
	w := &threadWalk{c: c, l: l, o: o, tweets: make(map[string]Tweet), cursors: make(map[string]bool)}

	first, err := w.fetch(ctx, tweetID, "")
	if errors.Is(err, ErrTweetNotFound) {
		return Thread{}, fmt.Errorf("thread %s: %w", tweetID, ErrTweetNotFound)
	}
	if err != nil {
		return Thread{}, fmt.Errorf("thread %s: %w", tweetID, err)
	}
	i := slices.IndexFunc(first.Tweets, func(t Tweet) bool { return t.ID == tweetID })
	if i < 0 {
		return Thread{}, fmt.Errorf("thread %s: X's answer lacks the tweet: %w", tweetID, ErrTweetNotFound)
	}
	w.root = first.Tweets[i].ConversationID
	w.add(first)
	complete, focal, cursors := true, tweetID, first.Cursors
	if w.root != tweetID {
		// The reply's page holds its ancestors and its own replies only: walk down
		// from the root for the rest.
		rootPage, err := w.fetch(ctx, w.root, "")
		switch {
		case errors.Is(err, ErrTweetNotFound):
			complete = false // the root is gone: keep what hangs below the reply
		case err != nil:
			return w.build(false), fmt.Errorf("thread %s: root %s: %w", tweetID, w.root, err)
		default:
			w.add(rootPage)
			focal, cursors = w.root, rootPage.Cursors
		}
	}
	done, err := w.follow(ctx, focal, cursors)
	if err != nil {
		return w.build(false), fmt.Errorf("thread %s: %w", w.root, err)
	}
	return w.build(complete && done), nil
}

// threadWalk collects the tweets of one conversation.
type threadWalk struct {
	c       *Client
	l       *lease
	o       ThreadOptions
	root    string
	tweets  map[string]Tweet
	replies int
	pages   int
	cursors map[string]bool // followed already
}

// fetch requests TweetDetail of focal, at cursor when given. X answers a tweet it
// does not have (or will not show) with a _Missing error: that is ErrTweetNotFound.
func (w *threadWalk) fetch(ctx context.Context, focal, cursor string) (Page, error) {
	vars := gqlVars{
		{"focalTweetId", focal}, {"referrer", "tweet"}, {"with_rux_injections", false},
		{"rankingMode", "Relevance"}, {"includePromotedContent", true}, {"withCommunity", true},
		{"withQuickPromoteEligibilityTweetFields", true}, {"withBirdwatchNotes", true},
		{"withVoice", true}, {"withV2Timeline", true},
	}
	if cursor != "" {
		vars = append(vars, gqlVar{"cursor", cursor})
	}
	w.pages++
	p, err := w.c.fetch(ctx, w.l, call{
		op: OpTweetDetail, vars: vars, features: ThreadFeatures(), toggles: FieldToggles(OpTweetDetail),
		referer: w.c.webBase + "/i/status/" + focal,
	})
	var gqlErrs GraphQLErrors
	if errors.As(err, &gqlErrs) && slices.ContainsFunc(gqlErrs, func(e GraphQLError) bool {
		return e.Code == 144 || strings.Contains(e.Message, "_Missing")
	}) {
		return p, fmt.Errorf("tweet %s: %w", focal, ErrTweetNotFound)
	}
	return p, err
}

// add keeps the page's tweets of the conversation, first copy wins.
func (w *threadWalk) add(p Page) {
	for _, t := range p.Tweets {
		if t.ID != w.root && t.ConversationID != w.root {
			continue
		}
		if _, ok := w.tweets[t.ID]; ok {
			continue
		}
		w.tweets[t.ID] = t
		if t.ID != w.root {
			w.replies++
		}
	}
}

// follow fetches every cursor reachable from cur (Bottom first, then each ShowMore
// in order) for focal, and reports whether it ran out of cursors before a bound.
func (w *threadWalk) follow(ctx context.Context, focal string, cur Cursors) (bool, error) {
	var queue []string
	push := func(cs Cursors) {
		for _, v := range append([]string{cs.Bottom}, cs.ShowMore...) {
			if v != "" && !w.cursors[v] {
				w.cursors[v] = true
				queue = append(queue, v)
			}
		}
	}
	push(cur)
	for len(queue) > 0 {
		if w.replies >= w.o.MaxReplies || w.o.MaxPages > 0 && w.pages >= w.o.MaxPages {
			return false, nil
		}
		next := queue[0]
		queue = queue[1:]
		p, err := w.fetch(ctx, focal, next)
		if err != nil {
			return false, err
		}
		w.add(p)
		push(p.Cursors)
	}
	return true, nil
}

// build orders the collected tweets as a tree: the root, then depth first with
// siblings by time. Replies past MaxReplies (in that order) are cut.
func (w *threadWalk) build(complete bool) Thread {
	th := Thread{RootID: w.root, Complete: complete}
	children := make(map[string][]string)
	var orphans []string
	for id, t := range w.tweets {
		switch {
		case id == w.root:
		case t.InReplyToID != nil && *t.InReplyToID != id && w.has(*t.InReplyToID):
			children[*t.InReplyToID] = append(children[*t.InReplyToID], id)
		default:
			orphans = append(orphans, id)
		}
	}
	byTime := func(a, b string) int {
		ta, tb := w.tweets[a], w.tweets[b]
		if c := ta.CreatedAt.Compare(tb.CreatedAt); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	}
	for _, kids := range children {
		slices.SortFunc(kids, byTime)
	}
	slices.SortFunc(orphans, byTime)

	placed := make(map[string]bool, len(w.tweets))
	var visit func(id string, depth int)
	visit = func(id string, depth int) {
		if placed[id] {
			return // a cycle in hostile data
		}
		placed[id] = true
		t := w.tweets[id]
		parent := ""
		if t.InReplyToID != nil && id != w.root {
			parent = *t.InReplyToID
		}
		th.Tweets = append(th.Tweets, ThreadTweet{Tweet: t, ParentID: parent, Depth: depth})
		for _, k := range children[id] {
			visit(k, depth+1)
		}
	}
	if _, ok := w.tweets[w.root]; ok {
		visit(w.root, 0)
	}
	for _, id := range orphans {
		depth := 2
		if t := w.tweets[id]; t.InReplyToID != nil && *t.InReplyToID == w.root {
			depth = 1
		}
		visit(id, depth)
	}
	if len(placed) < len(w.tweets) {
		// Replies whose parents answer each other in a cycle (hostile data): keep them.
		var rest []string
		for id := range w.tweets {
			if !placed[id] {
				rest = append(rest, id)
			}
		}
		slices.SortFunc(rest, byTime)
		for _, id := range rest {
			visit(id, 2)
		}
	}
	replies := len(th.Tweets)
	if _, ok := w.tweets[w.root]; ok {
		replies--
	}
	if extra := replies - w.o.MaxReplies; extra > 0 {
		th.Tweets = th.Tweets[:len(th.Tweets)-extra]
		th.Complete = false
	}
	return th
}

func (w *threadWalk) has(id string) bool {
	_, ok := w.tweets[id]
	return ok
}
