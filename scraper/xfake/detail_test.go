package xfake

import (
	"slices"
	"strings"
	"testing"
)

// detailWalk is what a client following TweetDetail cursors collects.
type detailWalk struct {
	t         *testing.T
	replies   map[string]int  // reply id → times seen
	order     []string        // reply ids in order seen
	results   map[string]any  // reply id → tweet result
	cursors   []string        // cursor values still to follow
	types     map[string]int  // cursor types seen
	ancestors []string        // tweet-<id> entries before the focal one
	modules   map[string]bool // conversationthread-<id> entries seen
	requests  int
	focal     string
	seenVals  map[string]bool
	pageSizes []int
}

func newDetailWalk(t *testing.T, focal string) *detailWalk {
	return &detailWalk{t: t, focal: focal, replies: map[string]int{}, results: map[string]any{},
		types: map[string]int{}, modules: map[string]bool{}, seenVals: map[string]bool{}}
}

func (d *detailWalk) cursor(c any) {
	typ, val := str(c, "cursorType"), str(c, "value")
	if typ == "" || val == "" {
		d.t.Errorf("cursor without type or value: %v", c)
		return
	}
	d.types[typ]++
	if d.seenVals[val] {
		d.t.Errorf("cursor %s repeated", typ)
		return
	}
	d.seenVals[val] = true
	d.cursors = append(d.cursors, val)
}

func (d *detailWalk) item(entryID string, item any) {
	if strings.Contains(entryID, "-cursor-showmore-") {
		if str(item, "itemContent", "cursorType") != "ShowMore" {
			d.t.Errorf("%s: cursor type %q", entryID, str(item, "itemContent", "cursorType"))
		}
		d.cursor(get(item, "itemContent"))
		return
	}
	_, id, ok := strings.Cut(entryID, "-tweet-")
	if !ok {
		d.t.Errorf("unexpected module item %s", entryID)
		return
	}
	d.replies[id]++
	d.order = append(d.order, id)
	d.results[id] = get(item, "itemContent", "tweet_results", "result")
}

func (d *detailWalk) fetch(s *Server, cursor string) {
	vars := map[string]any{"focalTweetId": d.focal, "referrer": "tweet", "with_rux_injections": true,
		"rankingMode": "Relevance", "includePromotedContent": true, "withCommunity": true}
	if cursor != "" {
		vars["cursor"] = cursor
	}
	res := do(d.t, s, call{op: OpTweetDetail, vars: vars})
	d.requests++
	if res.status != 200 {
		d.t.Fatalf("status %d: %s", res.status, res.body)
	}
	before := len(d.order)
	for _, in := range arr(res.json, "data", "threaded_conversation_with_injections_v2", "instructions") {
		switch str(in, "type") {
		case "TimelineAddEntries":
			for _, e := range arr(in, "entries") {
				id := str(e, "entryId")
				content := get(e, "content")
				switch {
				case strings.HasPrefix(id, "tweet-"):
					if tid := strings.TrimPrefix(id, "tweet-"); tid != d.focal {
						d.ancestors = append(d.ancestors, tid)
					}
				case strings.HasPrefix(id, "conversationthread-"):
					if str(content, "__typename") != "TimelineTimelineModule" || str(content, "displayType") != "VerticalConversation" {
						d.t.Errorf("%s: not a VerticalConversation module", id)
					}
					d.modules[id] = true
					for _, it := range arr(content, "items") {
						d.item(str(it, "entryId"), get(it, "item"))
					}
				case strings.HasPrefix(id, "cursor-"):
					if str(content, "__typename") == "TimelineTimelineItem" {
						d.cursor(get(content, "itemContent"))
					} else {
						d.cursor(content)
					}
				default:
					d.t.Errorf("unexpected entry %s", id)
				}
			}
		case "TimelineAddToModule":
			mod := str(in, "moduleEntryId")
			if !d.modules[mod] {
				d.t.Errorf("AddToModule for unknown module %s", mod)
			}
			for _, it := range arr(in, "moduleItems") {
				if !strings.HasPrefix(str(it, "entryId"), mod+"-") {
					d.t.Errorf("module item %s outside %s", str(it, "entryId"), mod)
				}
				d.item(str(it, "entryId"), get(it, "item"))
			}
		case "TimelineClearCache", "TimelineTerminateTimeline":
		default:
			d.t.Errorf("unexpected instruction %s", str(in, "type"))
		}
	}
	d.pageSizes = append(d.pageSizes, len(d.order)-before)
}

// all follows every cursor, breadth first.
func (d *detailWalk) all(s *Server) {
	d.fetch(s, "")
	for len(d.cursors) > 0 {
		c := d.cursors[0]
		d.cursors = d.cursors[1:]
		d.fetch(s, c)
		if d.requests > 1000 {
			d.t.Fatal("no end")
		}
	}
}

func TestTweetDetailRecoversAllReplies(t *testing.T) {
	t.Parallel()
	for _, sc := range []Schema{Schema2026, SchemaLegacy, SchemaMixed} {
		t.Run(map[Schema]string{Schema2026: "2026", SchemaLegacy: "legacy", SchemaMixed: "mixed"}[sc], func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, WithCorpus(5, 2000), WithSchema(sc), WithRateLimit(OpTweetDetail, Limit{}))
			conv := s.Conversation("", 500, 6, 99)
			if len(conv.ReplyIDs) != 500 || len(conv.Tombstones) == 0 {
				t.Fatalf("%d replies, %d tombstones", len(conv.ReplyIDs), len(conv.Tombstones))
			}
			maxDepth := 0
			for _, d := range conv.Depth {
				maxDepth = max(maxDepth, d)
			}
			if maxDepth < 4 {
				t.Errorf("deepest reply at depth %d: branches too shallow", maxDepth)
			}

			first := newDetailWalk(t, conv.RootID)
			first.fetch(s, "")
			if n := first.pageSizes[0]; n < 10 || n > 20 {
				t.Errorf("first page holds %d replies, want 10-20", n)
			}

			w := newDetailWalk(t, conv.RootID)
			w.all(s)
			for id, n := range w.replies {
				if n != 1 {
					t.Errorf("reply %s seen %d times", id, n)
				}
			}
			got := slices.Sorted(func(yield func(string) bool) {
				for id := range w.replies {
					if !yield(id) {
						return
					}
				}
			})
			want := slices.Sorted(slices.Values(conv.ReplyIDs))
			if !slices.Equal(got, want) {
				t.Fatalf("recovered %d replies, want %d", len(got), len(want))
			}
			if ids := s.ConversationIDs(conv.RootID); !slices.Equal(slices.Sorted(slices.Values(ids)), want) {
				t.Errorf("ConversationIDs holds %d ids, want %d", len(ids), len(want))
			}
			for _, typ := range []string{"Bottom", "ShowMore", "ShowMoreThreads", "ShowMoreThreadsPrompt"} {
				if w.types[typ] == 0 {
					t.Errorf("no %s cursor", typ)
				}
			}
			dead := map[string]bool{}
			for _, id := range conv.Tombstones {
				dead[id] = true
			}
			for id, r := range w.results {
				if dead[id] {
					if str(r, "__typename") != "TweetTombstone" {
						t.Errorf("%s: %s, want TweetTombstone", id, str(r, "__typename"))
					}
					continue
				}
				if str(r, "__typename") == "TweetWithVisibilityResults" {
					r = get(r, "tweet")
				}
				parent := str(r, "legacy", "in_reply_to_status_id_str")
				if parent != conv.Parent[id] || str(r, "legacy", "conversation_id_str") != conv.RootID {
					t.Errorf("%s: in_reply_to %s conversation %s, want %s %s", id, parent, str(r, "legacy", "conversation_id_str"), conv.Parent[id], conv.RootID)
				}
			}
		})
	}
}

func TestTweetDetailAncestors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	conv := s.Conversation("1649191520250245121", 60, 8, 3)
	var deepest string
	for _, id := range conv.ReplyIDs {
		if deepest == "" || conv.Depth[id] > conv.Depth[deepest] {
			deepest = id
		}
	}
	var chain []string
	for p := conv.Parent[deepest]; p != ""; p = conv.Parent[p] {
		chain = append([]string{p}, chain...)
	}
	w := newDetailWalk(t, deepest)
	w.fetch(s, "")
	if !slices.Equal(w.ancestors, chain) {
		t.Errorf("ancestors %v, want %v", w.ancestors, chain)
	}
	if len(w.order) != 0 {
		t.Errorf("a leaf has replies: %v", w.order)
	}

	// A reply with its own subtree is a focal tweet too.
	top := conv.TopLevel()[0]
	w = newDetailWalk(t, top)
	w.all(s)
	if got, want := len(w.order), len(conv.Subtree(top)); got != want {
		t.Errorf("replies under %s: %d, want %d", top, got, want)
	}
}

func TestTweetDetailMissing(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	del := s.AddTweet(Tweet{Text: "gone", Deleted: true})
	for _, id := range []string{"12345", del.ID} {
		res := do(t, s, call{op: OpTweetDetail, vars: map[string]any{"focalTweetId": id}})
		if res.status != 200 || !strings.HasPrefix(str(res.json, "errors", 0, "message"), "_Missing: No status found with that ID") {
			t.Errorf("%s: %d %s", id, res.status, res.body)
		}
	}
}

func TestConversationAccessors(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, WithClock(clock.Now))
	a := s.Conversation("", 100, 3, 1)
	b := newTestServer(t, WithClock(clock.Now)).Conversation("", 100, 3, 1)
	if !slices.Equal(a.ReplyIDs, b.ReplyIDs) || !slices.Equal(a.Tombstones, b.Tombstones) {
		t.Fatal("same seed and clock, different conversations")
	}
	n := len(a.TopLevel())
	for _, id := range a.TopLevel() {
		n += len(a.Subtree(id))
	}
	if n != 100 {
		t.Errorf("top level + subtrees = %d, want 100", n)
	}
	if len(a.Visible())+len(a.Tombstones) != 100 {
		t.Errorf("visible + tombstones != 100")
	}
	if got := s.Replies(a.RootID); !slices.Equal(got, a.TopLevel()) {
		t.Errorf("Replies %v, TopLevel %v", got, a.TopLevel())
	}
	for _, id := range a.ReplyIDs {
		if a.Depth[id] > 3 {
			t.Fatalf("depth %d > 3", a.Depth[id])
		}
	}
}
