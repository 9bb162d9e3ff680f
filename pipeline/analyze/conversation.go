package analyze

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"nexus/scraper"
)

// Conversation is one thread: its root, the replies as a tree, and the hit (the post that
// matched the campaign's search). Tweets are in pre-order (a post, then its replies,
// oldest first), the root first, as Build returns them.
type Conversation struct {
	ID     string // the thread's conversation id
	RootID string
	HitID  string
	Tweets []Node
}

// Node is one post of a Conversation and its place in the reply tree.
type Node struct {
	Tweet  scraper.Tweet
	Parent string // id of the post it answers in this tree; "" for the root
	Depth  int    // 0 for the root, 1 for a direct reply, ...
}

// ErrNoHit is returned by Build when the hit is not among the tweets.
var ErrNoHit = errors.New("hit not in thread")

// Build makes a Conversation from the posts of one thread, in any order, and the id of
// the post that matched. The root is the post whose id is the thread's conversation id,
// else the hit's highest ancestor present. A post whose parent is missing (deleted,
// withheld, not fetched) hangs under the root, so nothing fetched is lost. Duplicates
// keep their last copy.
func Build(hitID string, tweets []scraper.Tweet) (Conversation, error) {
	byID := make(map[string]scraper.Tweet, len(tweets))
	var order []string
	for _, t := range tweets {
		if _, seen := byID[t.ID]; !seen {
			order = append(order, t.ID)
		}
		byID[t.ID] = t
	}
	hit, ok := byID[hitID]
	if !ok {
		return Conversation{}, fmt.Errorf("build conversation %s: %w", hitID, ErrNoHit)
	}

	root := hit
	if r, ok := byID[hit.ConversationID]; ok {
		root = r
	} else {
		seen := map[string]bool{root.ID: true}
		for root.InReplyToID != nil {
			p, ok := byID[*root.InReplyToID]
			if !ok || seen[p.ID] {
				break
			}
			seen[p.ID] = true
			root = p
		}
	}

	parentOf := func(t scraper.Tweet) string {
		if t.ID == root.ID {
			return ""
		}
		if t.InReplyToID != nil && *t.InReplyToID != t.ID {
			if _, ok := byID[*t.InReplyToID]; ok {
				return *t.InReplyToID
			}
		}
		return root.ID
	}
	children := make(map[string][]scraper.Tweet)
	for _, id := range order {
		if t := byID[id]; t.ID != root.ID {
			p := parentOf(t)
			children[p] = append(children[p], t)
		}
	}
	for _, kids := range children {
		slices.SortFunc(kids, func(a, b scraper.Tweet) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
	}

	conv := Conversation{ID: root.ConversationID, RootID: root.ID, HitID: hitID}
	if conv.ID == "" {
		conv.ID = root.ID
	}
	visited := make(map[string]bool, len(byID))
	var walk func(t scraper.Tweet, parent string, depth int)
	walk = func(t scraper.Tweet, parent string, depth int) {
		if visited[t.ID] {
			return
		}
		visited[t.ID] = true
		conv.Tweets = append(conv.Tweets, Node{Tweet: t, Parent: parent, Depth: depth})
		for _, k := range children[t.ID] {
			walk(k, t.ID, depth+1)
		}
	}
	walk(root, "", 0)
	// A cycle of replies (impossible on X, possible in bad data) is never reached from
	// the root; keep its posts as direct replies rather than drop them.
	for _, id := range order {
		if !visited[id] {
			walk(byID[id], root.ID, 1)
		}
	}
	return conv, nil
}

// Node returns the post with the given id.
func (c Conversation) Node(id string) (Node, bool) {
	for _, n := range c.Tweets {
		if n.Tweet.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// Lang is the language the replies should be written in: the hit's, else the root's,
// else "" (unknown). X's "und", "zxx" and "qme"-style codes count as unknown.
func (c Conversation) Lang() string {
	for _, id := range []string{c.HitID, c.RootID} {
		if n, ok := c.Node(id); ok && usableLang(n.Tweet.Lang) {
			return n.Tweet.Lang
		}
	}
	return ""
}

func usableLang(l string) bool {
	switch l {
	case "", "und", "zxx", "art", "qme", "qam", "qct", "qht", "qst":
		return false
	}
	return true
}

// ancestors returns the ids of the hit and every post above it, the root included.
func (c Conversation) ancestors() map[string]bool {
	parent := make(map[string]string, len(c.Tweets))
	for _, n := range c.Tweets {
		parent[n.Tweet.ID] = n.Parent
	}
	keep := map[string]bool{}
	for id := c.HitID; id != "" && !keep[id]; id = parent[id] {
		keep[id] = true
	}
	if c.RootID != "" {
		keep[c.RootID] = true
	}
	return keep
}
