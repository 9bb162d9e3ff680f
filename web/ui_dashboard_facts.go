package web

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"nexus/store"
)

// dashFacts keeps, per organization, one small record per conversation (campaign,
// hit time, author, latest sentiment, whether it is an opportunity), so that the
// dashboard's splits and rankings over any window are a loop in memory instead of a
// scan and join of every conversation and analysis on every view (hundreds of
// milliseconds at 100,000 tweets). Each view first reads only the rows added since the
// last one, by id; the first view of an organization after a start reads them all.
type dashFacts struct {
	mu   sync.Mutex
	orgs map[int64]*orgFacts
}

func newDashFacts() *dashFacts { return &dashFacts{orgs: map[int64]*orgFacts{}} }

type orgFacts struct {
	mu        sync.Mutex
	campaigns map[int64]time.Time // id → created_at: a deleted or re-used id resets the facts
	convs     []convFact          // in id order: a window is one pass over a slice
	index     map[int64]int       // conversation id → position in convs
	pending   map[int64]verdict   // verdicts read before their conversation
	lastConv  int64
	lastAna   int64
	lastOpp   int64
}

type convFact struct {
	campaign int64
	at       int64 // the hit's time, Unix milliseconds
	hitID    string
	author   string
	verdict
}

type verdict struct {
	sentiment string
	intent    string
	opp       bool
}

// factsBatch bounds one read, so a first load of a large organization streams.
const factsBatch = 5000

// org returns the organization's facts, brought up to date with the store, locked:
// the caller reads them, then calls done.
func (d *dashFacts) org(ctx context.Context, st *store.Store, orgID int64, campaigns []store.Campaign) (*orgFacts, error) {
	d.mu.Lock()
	f, ok := d.orgs[orgID]
	if !ok {
		f = &orgFacts{}
		d.orgs[orgID] = f
	}
	d.mu.Unlock()
	f.mu.Lock()
	if err := f.refresh(ctx, st, orgID, campaigns); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	return f, nil
}

func (f *orgFacts) done() { f.mu.Unlock() }

// verdictOf returns where a conversation's verdict is kept: in its fact, or aside
// until the conversation itself is read.
func (f *orgFacts) verdictOf(convID int64, set func(*verdict)) {
	if i, ok := f.index[convID]; ok {
		set(&f.convs[i].verdict)
		return
	}
	v := f.pending[convID]
	set(&v)
	f.pending[convID] = v
}

func (f *orgFacts) refresh(ctx context.Context, st *store.Store, orgID int64, campaigns []store.Campaign) error {
	// Deleting a campaign deletes its conversations, and SQLite may then hand their ids
	// out again, below the marks: start over whenever a known campaign is gone.
	current := make(map[int64]time.Time, len(campaigns))
	for _, c := range campaigns {
		current[c.ID] = c.CreatedAt
	}
	for id, created := range f.campaigns {
		if cur, ok := current[id]; !ok || !cur.Equal(created) {
			f.index = nil
			break
		}
	}
	if f.index == nil {
		f.convs, f.index, f.pending = nil, map[int64]int{}, map[int64]verdict{}
		f.lastConv, f.lastAna, f.lastOpp = 0, 0, 0
	}
	f.campaigns = current
	for {
		rows, err := st.ConversationFacts(ctx, orgID, f.lastConv, factsBatch)
		if err != nil {
			return err
		}
		for _, r := range rows {
			c := convFact{campaign: r.CampaignID, hitID: r.HitID, at: store.SnowflakeTime(r.HitID).UnixMilli(), author: r.Author}
			if v, ok := f.pending[r.ID]; ok {
				c.verdict = v
				delete(f.pending, r.ID)
			}
			f.index[r.ID] = len(f.convs)
			f.convs = append(f.convs, c)
			f.lastConv = r.ID
		}
		if len(rows) < factsBatch {
			break
		}
	}
	for {
		rows, err := st.AnalysisFacts(ctx, orgID, f.lastAna, factsBatch)
		if err != nil {
			return err
		}
		for _, r := range rows {
			f.verdictOf(r.ConversationID, func(v *verdict) { v.sentiment, v.intent = r.Sentiment, r.Intent })
			f.lastAna = r.ID
		}
		if len(rows) < factsBatch {
			break
		}
	}
	for {
		rows, err := st.OpportunityFacts(ctx, orgID, f.lastOpp, factsBatch)
		if err != nil {
			return err
		}
		for _, r := range rows {
			f.verdictOf(r.ConversationID, func(v *verdict) { v.opp = true })
			f.lastOpp = r.ID
		}
		if len(rows) < factsBatch {
			break
		}
	}
	return nil
}

// authorCount is one author's share of a window.
type authorCount struct {
	Username      string
	DisplayName   string
	Conversations int
	Opportunities int
	lastHit       string
	lastAt        int64
}

// summary is what the dashboard shows of the conversations whose hit was posted in
// the window.
type summary struct {
	Conversations int
	Opportunities int
	Sentiment     sentimentSplit
	Intents       []intentCount // most frequent first
	Authors       []authorCount // the top ones, most conversations first
	PerCampaign   map[int64]campaignWindow
}

// campaignWindow is one campaign's share of a window.
type campaignWindow struct{ Conversations, Opportunities int }

// intentCount is how many conversations of a window showed one intent.
type intentCount struct {
	Intent string
	Count  int
}

// sentimentSplit counts conversations by the sentiment of their latest analysis.
type sentimentSplit struct{ Positive, Neutral, Negative int }

// Total is the number of analysed conversations counted.
func (s sentimentSplit) Total() int { return s.Positive + s.Neutral + s.Negative }

// summarize aggregates the window [since, now] for one campaign, or all (0).
func (f *orgFacts) summarize(since time.Time, campaignID int64, topAuthors int) summary {
	s := summary{PerCampaign: map[int64]campaignWindow{}}
	authors := map[string]*authorCount{}
	intents := map[string]int{}
	from := since.UnixMilli()
	for i := range f.convs {
		c := &f.convs[i]
		if c.at < from || (campaignID != 0 && c.campaign != campaignID) {
			continue
		}
		s.Conversations++
		cw := s.PerCampaign[c.campaign]
		cw.Conversations++
		if c.opp {
			cw.Opportunities++
		}
		s.PerCampaign[c.campaign] = cw
		switch c.sentiment {
		case "positive":
			s.Sentiment.Positive++
		case "negative":
			s.Sentiment.Negative++
		case "":
		default:
			s.Sentiment.Neutral++
		}
		if c.opp {
			s.Opportunities++
		}
		if c.intent != "" {
			intents[c.intent]++
		}
		if c.author == "" {
			continue
		}
		a := authors[c.author]
		if a == nil {
			a = &authorCount{Username: c.author}
			authors[c.author] = a
		}
		a.Conversations++
		if c.opp {
			a.Opportunities++
		}
		if c.at > a.lastAt {
			a.lastAt, a.lastHit = c.at, c.hitID
		}
	}
	list := make([]authorCount, 0, len(authors))
	for _, a := range authors {
		list = append(list, *a)
	}
	slices.SortFunc(list, func(a, b authorCount) int {
		if c := cmp.Compare(b.Conversations, a.Conversations); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Opportunities, a.Opportunities); c != 0 {
			return c
		}
		return cmp.Compare(a.Username, b.Username)
	})
	s.Authors = list[:min(topAuthors, len(list))]
	for k, n := range intents {
		s.Intents = append(s.Intents, intentCount{k, n})
	}
	slices.SortFunc(s.Intents, func(a, b intentCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Intent, b.Intent)
	})
	s.Intents = s.Intents[:min(6, len(s.Intents))]
	return s
}
