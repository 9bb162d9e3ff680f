package scraper

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"nexus/scraper/xfake"
)

// checkThread compares a thread with the conversation the fake generated: every reply
// whose content X shows, once; parents and depths as generated; the root first, then
// depth first with siblings oldest first.
func checkThread(t *testing.T, srv *xfake.Server, conv xfake.Conversation, th Thread) {
	t.Helper()
	if th.RootID != conv.RootID || len(th.Tweets) == 0 || th.Tweets[0].Tweet.ID != conv.RootID ||
		th.Tweets[0].Depth != 0 || th.Tweets[0].ParentID != "" {
		t.Fatalf("root: thread %s starts with %+v", th.RootID, th.Tweets[0])
	}
	var got []string
	index := map[string]int{}
	for i, tt := range th.Tweets[1:] {
		got = append(got, tt.Tweet.ID)
		index[tt.Tweet.ID] = i + 1
	}
	want := conv.Visible()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%d replies, want the %d visible ones of %d (%d tombstones)", len(got), len(want), len(conv.ReplyIDs), len(conv.Tombstones))
	}
	dead := map[string]bool{}
	for _, id := range conv.Tombstones {
		dead[id] = true
	}
	for i, tt := range th.Tweets[1:] {
		id := tt.Tweet.ID
		if tt.ParentID != conv.Parent[id] {
			t.Errorf("%s: parent %s, want %s", id, tt.ParentID, conv.Parent[id])
		}
		visibleChain := true
		for p := conv.Parent[id]; p != conv.RootID; p = conv.Parent[p] {
			visibleChain = visibleChain && !dead[p]
		}
		if visibleChain && tt.Depth != conv.Depth[id] {
			t.Errorf("%s: depth %d, want %d", id, tt.Depth, conv.Depth[id])
		}
		if visibleChain && index[tt.ParentID] > i {
			t.Errorf("%s comes before its parent", id)
		}
		if prev := th.Tweets[i]; tt.Depth > prev.Depth+1 {
			t.Errorf("%s at depth %d right after depth %d: not depth first", id, tt.Depth, prev.Depth)
		}
	}
	// Siblings are in time order.
	last := map[string]time.Time{}
	for _, tt := range th.Tweets[1:] {
		if tt.Tweet.CreatedAt.Before(last[tt.ParentID]) {
			t.Errorf("%s is older than its previous sibling", tt.Tweet.ID)
		}
		last[tt.ParentID] = tt.Tweet.CreatedAt
	}
	for _, tt := range th.Tweets[:min(len(th.Tweets), 40)] {
		checkTweet(t, srv, tt.Tweet)
	}
}

func TestThreadWholeConversation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(20, 500)}})
	conv := h.srv.Conversation("", 500, 6, 21)
	th, err := h.c.Thread(context.Background(), conv.RootID, ThreadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !th.Complete {
		t.Fatal("Complete = false for an unbounded walk")
	}
	checkThread(t, h.srv, conv, th)
	reqs := h.opRequests(OpTweetDetail)
	kinds := map[int]int{}
	for _, r := range reqs {
		if r.Variables["focalTweetId"] != conv.RootID {
			t.Fatalf("request for focal %v", r.Variables["focalTweetId"])
		}
		if r.Status == 200 && r.Features["rweb_video_screen_enabled"] != false {
			t.Fatal("TweetDetail should send the thread features")
		}
		kinds[r.Status]++
	}
	if kinds[200] < 20 {
		t.Fatalf("only %d pages for 500 replies: cursors not followed", kinds[200])
	}
	t.Logf("%d replies in %d TweetDetail pages (%v)", len(th.Tweets)-1, len(reqs), kinds)
}

// TestThreadFromDeepReply: a search hit deep in a tree yields the whole conversation,
// through the root.
func TestThreadFromDeepReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(22, 500), xfake.WithRateLimit(OpTweetDetail, xfake.Limit{})}})
	conv := h.srv.Conversation("", 300, 7, 23)
	dead := map[string]bool{}
	for _, id := range conv.Tombstones {
		dead[id] = true
	}
	deep := ""
	for _, id := range conv.ReplyIDs {
		if !dead[id] && conv.Depth[id] >= 4 && (deep == "" || conv.Depth[id] > conv.Depth[deep]) {
			deep = id
		}
	}
	if deep == "" {
		t.Fatal("no deep reply generated")
	}
	th, err := h.c.Thread(context.Background(), deep, ThreadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkThread(t, h.srv, conv, th)
	reqs := h.opRequests(OpTweetDetail)
	if reqs[0].Variables["focalTweetId"] != deep || reqs[1].Variables["focalTweetId"] != conv.RootID {
		t.Fatalf("focal of the first two requests: %v, %v", reqs[0].Variables["focalTweetId"], reqs[1].Variables["focalTweetId"])
	}
}

func TestThreadBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		o        ThreadOptions
		replies  int
		requests int
	}{
		{"max replies", ThreadOptions{MaxReplies: 50}, 50, -1},
		{"max pages", ThreadOptions{MaxPages: 3}, -1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(24, 300)}})
			conv := h.srv.Conversation("", 200, 4, 25)
			th, err := h.c.Thread(context.Background(), conv.RootID, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if th.Complete {
				t.Fatal("Complete = true though a bound cut the walk")
			}
			if tt.replies >= 0 && len(th.Tweets) != tt.replies+1 {
				t.Fatalf("%d tweets, want the root and %d replies", len(th.Tweets), tt.replies)
			}
			if n := len(h.opRequests(OpTweetDetail)); tt.requests >= 0 && n != tt.requests {
				t.Fatalf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

func TestThreadNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	if _, err := h.c.Thread(context.Background(), "123456789", ThreadOptions{}); !errors.Is(err, ErrTweetNotFound) {
		t.Fatalf("err = %v, want ErrTweetNotFound", err)
	}
	if a := h.state(t, "a"); !a.Active || a.LastError != "" {
		t.Fatalf("a missing tweet is not the account's fault: %+v", a)
	}
	if _, err := h.c.Thread(context.Background(), "12ab", ThreadOptions{}); err == nil || h.srv.Count(OpTweetDetail) != 1 {
		t.Fatalf("a malformed id should fail before any request: %v", err)
	}
}

// TestThreadRootGone: when the root is deleted, the thread keeps the reply and what
// hangs below it, and says it may be incomplete.
func TestThreadRootGone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(26, 100)}})
	now := h.clock.Now()
	root := h.srv.AddTweet(xfake.Tweet{Text: "root", Deleted: true, CreatedAt: now.Add(-time.Hour)})
	r1 := h.srv.AddTweet(xfake.Tweet{Text: "first", InReplyToID: root.ID, CreatedAt: now.Add(-50 * time.Minute)})
	r2 := h.srv.AddTweet(xfake.Tweet{Text: "second", InReplyToID: r1.ID, CreatedAt: now.Add(-40 * time.Minute)})
	th, err := h.c.Thread(context.Background(), r1.ID, ThreadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tt := range th.Tweets {
		got = append(got, tt.Tweet.ID+"/"+tt.ParentID+"/"+string(rune('0'+tt.Depth)))
	}
	want := []string{r1.ID + "/" + root.ID + "/1", r2.ID + "/" + r1.ID + "/2"}
	if th.RootID != root.ID || th.Complete || !slices.Equal(got, want) {
		t.Fatalf("thread %s complete %v: %v, want %v", th.RootID, th.Complete, got, want)
	}
}

// detailTweet is a TweetDetail tweet of conversation conv, answering replyTo.
func detailTweet(id, conv, replyTo string, minute int) string {
	reply := ""
	if replyTo != "" {
		reply = `,"in_reply_to_status_id_str":"` + replyTo + `"`
	}
	created := time.Date(2026, 7, 8, 10, minute, 0, 0, time.UTC).Format(time.RubyDate)
	return `{"__typename":"Tweet","rest_id":"` + id + `","core":{"user_results":{"result":` + user2026("1", "alice") + `}},
	 "legacy":{"id_str":"` + id + `","user_id_str":"1","created_at":"` + created + `","full_text":"text ` + id + `",
	  "lang":"en","conversation_id_str":"` + conv + `"` + reply + `}}`
}

func detailBody(entries ...string) []byte {
	return []byte(`{"data":{"threaded_conversation_with_injections_v2":{"instructions":[` + addEntries(entries...) + `]}}}`)
}

// TestThreadTreeShape: tweets of other conversations (X's related-tweet modules) are
// dropped, a reply whose parent X did not show hangs under the root, and siblings are
// ordered by time whatever order X sent them in.
func TestThreadTreeShape(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	h.srv.ServeFixture(OpTweetDetail,
		detailBody(
			tweetEntry("100", detailTweet("100", "100", "", 0)),
			tweetEntry("103", detailTweet("103", "100", "100", 3)),
			tweetEntry("101", detailTweet("101", "100", "100", 1)),
			tweetEntry("900", detailTweet("900", "900", "", 2)),
			tweetEntry("102", detailTweet("102", "100", "101", 2)),
			tweetEntry("105", detailTweet("105", "100", "104", 5)),
			cursorEntry("Bottom", "next"),
		),
		detailBody(
			tweetEntry("106", detailTweet("106", "100", "105", 6)),
			tweetEntry("101", detailTweet("101", "100", "100", 1)),
			tweetEntry("901", detailTweet("901", "900", "900", 3)),
		),
	)
	th, err := h.c.Thread(context.Background(), "100", ThreadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tt := range th.Tweets {
		got = append(got, tt.Tweet.ID+"<"+tt.ParentID+"@"+string(rune('0'+tt.Depth)))
	}
	want := "100<@0 101<100@1 102<101@2 103<100@1 105<104@2 106<105@3"
	if strings.Join(got, " ") != want || !th.Complete {
		t.Fatalf("tree %v (complete %v), want %s", got, th.Complete, want)
	}
	if n := len(h.opRequests(OpTweetDetail)); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}
