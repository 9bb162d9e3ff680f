package xfake

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Conversation is a reply tree the fake generated, with what a test needs to know
// which replies a client should recover.
type Conversation struct {
	RootID     string
	ReplyIDs   []string          // every reply, in creation order (tombstones included)
	Parent     map[string]string // reply id → the id it answers
	Depth      map[string]int    // 1 for a direct reply to the root
	Tombstones []string          // replies served as TweetTombstone: their ids are visible, their content is not
}

// Visible returns the replies whose content a client can read: ReplyIDs without
// Tombstones.
func (c *Conversation) Visible() []string {
	dead := make(map[string]bool, len(c.Tombstones))
	for _, id := range c.Tombstones {
		dead[id] = true
	}
	var out []string
	for _, id := range c.ReplyIDs {
		if !dead[id] {
			out = append(out, id)
		}
	}
	return out
}

// Children returns the direct replies to id, in creation order.
func (c *Conversation) Children(id string) []string {
	var out []string
	for _, r := range c.ReplyIDs {
		if c.Parent[r] == id {
			out = append(out, r)
		}
	}
	return out
}

// TopLevel returns the direct replies to the root.
func (c *Conversation) TopLevel() []string { return c.Children(c.RootID) }

// Subtree returns every reply below id (not id itself), in creation order.
func (c *Conversation) Subtree(id string) []string {
	var out []string
	for _, r := range c.ReplyIDs {
		for p := c.Parent[r]; p != ""; p = c.Parent[p] {
			if p == id {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Conversation generates nReplies replies under rootID, nested up to maxDepth levels
// (1: only direct replies), deterministically from seed, and adds them to the
// corpus. The root is created when it does not exist (with a new id when rootID is
// empty). Among the replies: the root author's own replies (a self-thread), some
// low-quality and abusive top-level threads (served behind ShowMoreThreads and
// ShowMoreThreadsPrompt cursors) once nReplies >= 10, and about 2% deleted replies
// (tombstones) once nReplies >= 50.
func (s *Server) Conversation(rootID string, nReplies, maxDepth int, seed int64) Conversation {
	maxDepth = max(maxDepth, 1)
	now := s.now()
	c := s.corpus
	c.mu.Lock()
	defer c.mu.Unlock()
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc0ffee))

	authors := c.conversationAuthors(rng)
	start := now.Add(-time.Duration(nReplies+10) * time.Minute).Truncate(time.Second)
	root := c.lookup(rootID)
	if root == nil {
		var sb strings.Builder
		synthText(&sb, rng, "en", 8+rng.IntN(10))
		t, err := c.addTweetLocked(Tweet{
			ID: rootID, AuthorID: c.users[authors[0]].ID, Text: sb.String(), CreatedAt: start,
			LikeCount: int64(100 + rng.IntN(5000)), RetweetCount: int64(rng.IntN(500)), ViewCount: int64(10000 + rng.IntN(100000)),
		}, now)
		if err != nil {
			panic("xfake: Conversation: " + err.Error())
		}
		root = c.lookup(t.ID)
	}
	conv := Conversation{RootID: root.t.ID, Parent: make(map[string]string), Depth: make(map[string]int)}
	rootAuthor := root.author
	type node struct {
		id      string
		depth   int
		quality Quality
	}
	var nodes []node
	t := root.t.CreatedAt
	for k := range nReplies {
		t = t.Add(time.Duration(20+rng.IntN(40)) * time.Second)
		parent := node{id: root.t.ID}
		if len(nodes) > 0 && rng.IntN(100) >= 35 {
			// Prefer recent replies, so that branches grow deep.
			var cand node
			if rng.IntN(2) == 0 {
				cand = nodes[len(nodes)-1-rng.IntN(min(20, len(nodes)))]
			} else {
				cand = nodes[rng.IntN(len(nodes))]
			}
			if cand.depth < maxDepth {
				parent = cand
			}
		}
		q := parent.quality
		if parent.id == root.t.ID {
			q = QualityHigh
			if nReplies >= 10 {
				switch r := rng.IntN(100); {
				case r < 12:
					q = QualityLow
				case r < 20:
					q = QualityAbusive
				}
			}
		}
		author := authors[rng.IntN(len(authors))]
		if rng.IntN(10) == 0 {
			author = rootAuthor
		}
		p := c.lookup(parent.id)
		var sb strings.Builder
		if c.recs[c.byID[p.id]].author != author {
			sb.WriteString("@" + c.user(p).ScreenName + " ")
		}
		synthText(&sb, rng, "en", 3+rng.IntN(12))
		likes := int64(math.Exp(rng.Float64()*6)) - 1
		tw, err := c.addTweetLocked(Tweet{
			ID:        Snowflake(t, uint64(k)),
			AuthorID:  c.users[author].ID,
			Text:      sb.String(),
			CreatedAt: t, InReplyToID: parent.id, LikeCount: likes, ViewCount: likes*40 + int64(rng.IntN(300)),
			Quality: q, Deleted: nReplies >= 50 && rng.IntN(50) == 0,
		}, now)
		if err != nil {
			// Only an id collision can fail; move on by a millisecond.
			t = t.Add(time.Millisecond)
			tw, err = c.addTweetLocked(Tweet{
				AuthorID: c.users[author].ID, Text: sb.String(), CreatedAt: t, InReplyToID: parent.id,
				LikeCount: likes, Quality: q,
			}, now)
			if err != nil {
				panic("xfake: Conversation: " + err.Error())
			}
		}
		n := node{id: tw.ID, depth: parent.depth + 1, quality: q}
		nodes = append(nodes, n)
		conv.ReplyIDs = append(conv.ReplyIDs, tw.ID)
		conv.Parent[tw.ID] = parent.id
		conv.Depth[tw.ID] = n.depth
		if tw.Deleted {
			conv.Tombstones = append(conv.Tombstones, tw.ID)
		}
	}
	return conv
}

// conversationAuthors returns user indexes to write replies with, creating a few
// deterministic users when the corpus has none besides the built-in ones.
func (c *corpus) conversationAuthors(rng *rand.Rand) []int32 {
	var out []int32
	for i, u := range c.users {
		if u.ID != AdvertiserUserID && u.ID != DefaultUserID {
			out = append(out, int32(i))
		}
	}
	if len(out) >= 10 {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out[:min(len(out), 40)]
	}
	for k := range 30 {
		u, err := c.addUserLocked(synthUser(rng, len(c.users)+k))
		if err == nil {
			out = append(out, c.userByID[u.ID])
		}
	}
	return slices.Clip(out)
}
