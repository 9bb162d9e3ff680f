package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSnowflakeBounds(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 3, 14, 5, 9, 123e6, time.UTC)
	minID := SnowflakeMin(at)
	if got := SnowflakeTime(minID); !got.Equal(at) {
		t.Fatalf("SnowflakeTime(SnowflakeMin(t)) = %s, want %s", got, at)
	}
	n, _ := strconv.ParseUint(minID, 10, 64)
	if later := SnowflakeTime(strconv.FormatUint(n|(1<<22-1), 10)); !later.Equal(at) {
		t.Fatalf("sequence bits changed the time: %s", later)
	}
	if SnowflakeMin(time.Unix(0, 0)) != "0" || !SnowflakeTime("nope").IsZero() {
		t.Fatal("bounds of odd input")
	}
}

// dashEnv is an organization with two campaigns whose hits were posted on known days,
// and another organization that must never show up.
type dashEnv struct {
	s      *Store
	org    Organization
	other  Organization
	a, b   Campaign
	convs  []Conversation
	day0   time.Time
	tweets map[int64][]string // campaign → hit ids
}

func newDashEnv(t *testing.T) *dashEnv {
	t.Helper()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	e := &dashEnv{s: s, tweets: map[int64][]string{}, day0: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)}
	e.org, _ = s.CreateOrganization(ctx, "A")
	e.other, _ = s.CreateOrganization(ctx, "B")
	e.a, _ = s.CreateCampaign(ctx, Campaign{OrgID: e.org.ID, Name: "a", Keywords: []string{"x"}, Threshold: 50})
	e.b, _ = s.CreateCampaign(ctx, Campaign{OrgID: e.org.ID, Name: "b", Keywords: []string{"x"}, Threshold: 50})
	foreign, _ := s.CreateCampaign(ctx, Campaign{OrgID: e.other.ID, Name: "f", Keywords: []string{"x"}, Threshold: 50})
	// a: 2 hits on day 0, 1 on day 2; b: 1 on day 1; the other org: 5 on day 0.
	e.hits(t, e.org.ID, e.a, []int{0, 0, 2}, []string{"positive", "negative", "neutral"})
	e.hits(t, e.org.ID, e.b, []int{1}, []string{"positive"})
	e.hits(t, e.other.ID, foreign, []int{0, 0, 0, 0, 0}, []string{"negative", "negative", "negative", "negative", "negative"})
	return e
}

// hits stores one conversation per day offset, each analysed with the given
// sentiment and made an opportunity with relevance 60+i.
func (e *dashEnv) hits(t *testing.T, orgID int64, c Campaign, days []int, sentiments []string) {
	t.Helper()
	ctx := context.Background()
	r, err := e.s.CreateRun(ctx, orgID, c.ID, "test", "x", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var page []StoredTweet
	for i, d := range days {
		at := e.day0.AddDate(0, 0, d).Add(time.Duration(i+1) * time.Hour)
		base, _ := strconv.ParseUint(SnowflakeMin(at), 10, 64)
		id := strconv.FormatUint(base+uint64(i), 10) // the sequence bits keep ids apart
		data, _ := json.Marshal(map[string]string{"id": id, "username": fmt.Sprintf("u%d", i), "display_name": fmt.Sprintf("User %d", i)})
		page = append(page, StoredTweet{ID: id, ConversationID: id, Username: fmt.Sprintf("u%d", i), CreatedAt: at, Data: data})
		e.tweets[c.ID] = append(e.tweets[c.ID], id)
	}
	if _, err := e.s.SaveSearchPage(ctx, r, SearchPage{Tweets: page, Done: true}); err != nil {
		t.Fatal(err)
	}
	for i, tw := range page {
		conv, err := e.s.SaveThread(ctx, r, ThreadUpdate{ConversationID: tw.ID, HitID: tw.ID, Tweets: []StoredTweet{tw},
			Thread: json.RawMessage(`[{"id":"` + tw.ID + `","depth":0}]`), ContentHash: "h" + tw.ID})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := json.Marshal(map[string]any{"sentiment": sentiments[i], "intent": "question", "relevance": 60 + i})
		if err := e.s.SaveAnalysis(ctx, r, conv, Analysis{CacheKey: "k" + tw.ID, Status: "ok", Result: res, Relevance: 60 + i,
			Opportunity: true, Provider: "p", Model: "m"}, "h"+tw.ID, OpportunityDecision{Is: true, Relevance: 60 + i}); err != nil {
			t.Fatal(err)
		}
		if orgID == e.org.ID {
			e.convs = append(e.convs, conv)
		}
	}
}

func TestMentionsOverTime(t *testing.T) {
	t.Parallel()
	e := newDashEnv(t)
	ctx := context.Background()
	got, err := e.s.MentionsOverTime(ctx, e.org.ID, e.day0.Add(5*time.Hour), 24*time.Hour, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []MentionBucket{{e.a.ID, e.day0, 2}, {e.a.ID, e.day0.AddDate(0, 0, 2), 1}, {e.b.ID, e.day0.AddDate(0, 0, 1), 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("by day:\n got %+v\nwant %+v", got, want)
	}
	got, _ = e.s.MentionsOverTime(ctx, e.org.ID, e.day0.AddDate(0, 0, 1), 24*time.Hour, 5)
	if len(got) != 2 {
		t.Fatalf("since day 1: %+v", got)
	}
	if got, _ = e.s.MentionsOverTime(ctx, e.org.ID, e.day0, 24*time.Hour, 1); len(got) != 1 || got[0].Count != 2 {
		t.Fatalf("first day only: %+v", got)
	}
	hourly, _ := e.s.MentionsOverTime(ctx, e.org.ID, e.day0, time.Hour, 24*3)
	if len(hourly) != 4 || hourly[0].Start != e.day0.Add(time.Hour) {
		t.Fatalf("hourly: %+v", hourly)
	}
	if _, err := e.s.MentionsOverTime(ctx, e.org.ID, e.day0, 0, 3); err == nil {
		t.Fatal("a zero bucket is accepted")
	}
}

func TestDashboardFactsAreIncremental(t *testing.T) {
	t.Parallel()
	e := newDashEnv(t)
	ctx := context.Background()
	convs, err := e.s.ConversationFacts(ctx, e.org.ID, 0, 100)
	if err != nil || len(convs) != 4 {
		t.Fatalf("conversation facts: %+v %v", convs, err)
	}
	if convs[0].CampaignID != e.a.ID || convs[0].HitID != e.tweets[e.a.ID][0] || convs[0].Author != "u0" {
		t.Fatalf("first fact: %+v", convs[0])
	}
	if rest, _ := e.s.ConversationFacts(ctx, e.org.ID, convs[1].ID, 100); len(rest) != 2 || rest[0].ID != convs[2].ID {
		t.Fatalf("after the second: %+v", rest)
	}
	if page, _ := e.s.ConversationFacts(ctx, e.org.ID, 0, 3); len(page) != 3 {
		t.Fatalf("limit: %d", len(page))
	}
	as, err := e.s.AnalysisFacts(ctx, e.org.ID, 0, 100)
	if err != nil || len(as) != 4 || as[1].Sentiment != "negative" || as[1].Intent != "question" {
		t.Fatalf("analysis facts: %+v %v", as, err)
	}
	os, _ := e.s.OpportunityFacts(ctx, e.org.ID, 0, 100)
	if len(os) != 4 || os[0].ConversationID != convs[0].ID {
		t.Fatalf("opportunity facts: %+v", os)
	}
	names, _ := e.s.DisplayNames(ctx, e.org.ID, []string{e.tweets[e.a.ID][1], "404"})
	if len(names) != 1 || names[e.tweets[e.a.ID][1]] != "User 1" {
		t.Fatalf("display names: %v", names)
	}
}

func TestOpportunityPagesAndCounts(t *testing.T) {
	t.Parallel()
	e := newDashEnv(t)
	ctx := context.Background()
	e.s.SetOpportunityStatus(ctx, e.org.ID, 1, "done")
	for _, f := range []OpportunityFilter{
		{}, {Sort: "newest"}, {Status: "new"}, {CampaignID: e.a.ID, Limit: 2}, {MinRelevance: 61, Offset: 1, Limit: 1},
	} {
		got, err := e.s.Opportunities(ctx, e.org.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			inOrder := a.ID > b.ID
			if f.Sort != "newest" {
				inOrder = a.Relevance > b.Relevance || (a.Relevance == b.Relevance && a.ID > b.ID)
			}
			if !inOrder {
				t.Errorf("%+v: %d before %d out of order", f, a.ID, b.ID)
			}
		}
		if f.Limit > 0 && len(got) > f.Limit {
			t.Errorf("%+v: %d rows past the limit", f, len(got))
		}
		f.Limit, f.Offset = 0, 0
		all, _ := e.s.Opportunities(ctx, e.org.ID, f)
		if n, _ := e.s.CountOpportunities(ctx, e.org.ID, f); n != len(all) {
			t.Errorf("%+v: count %d, want %d", f, n, len(all))
		}
	}
	o, ok, err := e.s.OpportunityOfConversation(ctx, e.org.ID, e.convs[0].ID)
	if err != nil || !ok || o.ConversationID != e.convs[0].ID {
		t.Fatalf("opportunity of conversation: %+v %v %v", o, ok, err)
	}
	if _, ok, _ := e.s.OpportunityOfConversation(ctx, e.other.ID, e.convs[0].ID); ok {
		t.Fatal("another organization sees the opportunity")
	}
}

func TestCampaignCountsAndConversations(t *testing.T) {
	t.Parallel()
	e := newDashEnv(t)
	ctx := context.Background()
	e.s.SetOpportunityStatus(ctx, e.org.ID, 1, "dismissed")
	counts, err := e.s.CampaignCounts(ctx, e.org.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (CampaignCounts{Mentions: 3, Conversations: 3, Opportunities: 3, NewOpportunities: 2}); counts[e.a.ID] != want {
		t.Fatalf("campaign a: %+v, want %+v", counts[e.a.ID], want)
	}
	if len(counts) != 2 {
		t.Fatalf("counts of %d campaigns, want 2", len(counts))
	}
	if one, _ := e.s.CampaignCounts(ctx, e.org.ID, e.b.ID); len(one) != 1 || one[e.b.ID].Mentions != 1 {
		t.Fatalf("one campaign: %+v", one)
	}
	if foreign, _ := e.s.CampaignCounts(ctx, e.other.ID, e.a.ID); len(foreign) != 0 {
		t.Fatalf("another organization counts campaign a: %+v", foreign)
	}
	recent, err := e.s.Conversations(ctx, e.org.ID, e.a.ID, 2, 0)
	if err != nil || len(recent) != 2 || recent[0].ID != e.convs[2].ID || recent[1].ID != e.convs[1].ID {
		t.Fatalf("recent: %+v %v", recent, err)
	}
	if string(recent[0].Analysis) == "null" || len(recent[0].Hit) < 3 {
		t.Fatalf("summary lacks its hit or analysis: %s %s", recent[0].Hit, recent[0].Analysis)
	}
	if older, _ := e.s.Conversations(ctx, e.org.ID, e.a.ID, 2, 2); len(older) != 1 || older[0].ID != e.convs[0].ID {
		t.Fatalf("second page: %+v", older)
	}
	if foreign, _ := e.s.Conversations(ctx, e.other.ID, e.a.ID, 10, 0); len(foreign) != 0 {
		t.Fatalf("another organization lists %d conversations", len(foreign))
	}
	// A thread that grows in a later run comes back to the top.
	old := e.convs[0]
	if err := e.s.FinishRun(ctx, old.RunID, RunSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	r, err := e.s.CreateRun(ctx, e.org.ID, e.a.ID, "test", "x", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SaveThread(ctx, r, ThreadUpdate{ConversationID: old.ConversationID, HitID: old.HitID, Thread: old.Thread,
		ContentHash: "grown"}); err != nil {
		t.Fatal(err)
	}
	refreshed, err := e.s.Conversations(ctx, e.org.ID, e.a.ID, 10, 0)
	if err != nil || len(refreshed) != 3 || refreshed[0].ID != old.ID || refreshed[0].RunID != r.ID || refreshed[1].ID != e.convs[2].ID {
		t.Fatalf("after a refresh: %+v %v", refreshed, err)
	}
}

// TestListingPlans pins the query plans that keep the listings fast at 100,000
// tweets: each page is chosen by walking an index, with no sort of every row.
func TestListingPlans(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	for _, tt := range []struct{ name, query, want string }{
		{"conversations page", `SELECT id FROM conversations WHERE campaign_id = 1 ORDER BY updated_at DESC, id DESC LIMIT 50 OFFSET 10`,
			"SEARCH conversations USING COVERING INDEX conversations_refreshed (campaign_id=?)"},
		{"opportunities by relevance", `SELECT id FROM opportunities WHERE org_id = 1 ORDER BY relevance DESC, id DESC LIMIT 50 OFFSET 10`,
			"SEARCH opportunities USING COVERING INDEX opportunities_rank (org_id=?)"},
		{"new opportunities by relevance", `SELECT id FROM opportunities WHERE org_id = 1 AND status = 'new' ORDER BY relevance DESC, id DESC LIMIT 50`,
			"SEARCH opportunities USING INDEX opportunities_rank (org_id=?)"},
		{"newest opportunities", `SELECT id FROM opportunities WHERE org_id = 1 ORDER BY id DESC LIMIT 50 OFFSET 10`,
			"SEARCH opportunities USING COVERING INDEX opportunities_newest (org_id=?)"},
		{"a campaign's opportunities", `SELECT id FROM opportunities WHERE org_id = 1 AND campaign_id = 2 AND relevance >= 80
			ORDER BY relevance DESC, id DESC LIMIT 50`,
			"SEARCH opportunities USING INDEX opportunities_campaign_rank (campaign_id=? AND relevance>?)"},
		{"jobs of runs", `SELECT run_id, state, kind, COUNT(*) FROM jobs WHERE run_id IN (1, 2) GROUP BY run_id, state, kind`,
			"SEARCH jobs USING COVERING INDEX jobs_run_progress (run_id=?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.ro.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if got := strings.Join(plan, "; "); got != tt.want {
				t.Fatalf("plan %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCompactStringField(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		doc, key, want string
		ok             bool
	}{
		{`{"relevance":80,"sentiment":"positive","intent":"question"}`, "sentiment", "positive", true},
		{`{"intent":"question"}`, "sentiment", "", false},
		{`{"sentiment": "positive"}`, "sentiment", "", false},                                            // spaced: not compact
		{`{"insights":["a \"sentiment\":\"x\" b"],"sentiment":"neutral"}`, "sentiment", "neutral", true}, // a quoted key inside a string is escaped
		{`{"sentiment":"odd \"one\""}`, "sentiment", "", false},
		{`{"sentiment":"`, "sentiment", "", false},
	} {
		got, ok := compactStringField([]byte(tt.doc), tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s in %s: %q %v, want %q %v", tt.key, tt.doc, got, ok, tt.want, tt.ok)
		}
	}
}
