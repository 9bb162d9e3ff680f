package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/store"
)

// benchData is one organization with 100,000 stored tweets: 4 campaigns × 5,000
// conversations of a root and about four replies, over 60 days, analysed, a third of
// them opportunities, every job done, written through the store's own write paths.
// Seeding takes half a minute.
func benchData(b *testing.B) (*uiEnv, seeded) {
	start := time.Now()
	e := newUIEnv(b)
	s := seedStore(b, e.st, e.org.ID, seedOptions{Campaigns: 4, Conversations: 5000, Replies: 4, Days: 60})
	n, _ := e.st.Count(context.Background(), `SELECT COUNT(*) FROM tweets`)
	b.Logf("seeded %d tweets in %s", n, time.Since(start).Round(time.Second))
	return e, s
}

// pageBudget is the server time every page must answer within at this size.
const pageBudget = 50 * time.Millisecond

// BenchmarkUIPages times each page through the whole server (routing, session,
// queries, template) with 100,000 stored tweets, and reports the median. The dashboard
// is timed warm (its facts already read) and cold (the first view after a start).
//
//	go test ./web -run '^$' -bench UIPages -benchtime 20x
func BenchmarkUIPages(b *testing.B) {
	e, s := benchData(b)
	ctx := context.Background()
	c := s.Campaigns[0]
	runs, _ := e.st.Runs(ctx, e.org.ID, c.ID, 1)
	convs, _ := e.st.Conversations(ctx, e.org.ID, c.ID, 1, 2000)
	pages := []string{
		"/", "/?window=24h", "/?window=90d", "/?window=30d&campaign=" + itoa(c.ID),
		"/campaigns", "/campaigns/" + itoa(c.ID), fmt.Sprintf("/campaigns/%d?page=150", c.ID), "/campaigns/new", "/campaigns/" + itoa(c.ID) + "/edit",
		"/runs/" + itoa(runs[0].ID), "/conversations/" + itoa(convs[0].ID),
		"/opportunities", "/opportunities?status=all&sort=newest&page=200", "/opportunities?campaign=" + itoa(c.ID) + "&min=80",
		"/accounts", "/integrations", "/users", "/tokens",
	}
	e.get("/", "admin") // the warm pages run after the facts were read once
	for _, p := range pages {
		b.Run(p, func(b *testing.B) {
			timePage(b, func() *httptest.ResponseRecorder { return e.get(p, "admin") })
		})
	}
	b.Run("/ (cold: first view after a start)", func(b *testing.B) {
		timePage(b, func() *httptest.ResponseRecorder {
			srv, err := New(Options{Log: zerolog.Nop(), Store: e.st, BodyLimit: 1 << 20})
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept", "text/html")
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: e.cookie["admin"]})
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			return rec
		}, true)
	})
	benchQueries(b, e)
}

// benchQueries times the store reads behind the dashboard alone.
func benchQueries(b *testing.B, e *uiEnv) {
	ctx := context.Background()
	since := time.Now().Add(-30 * 24 * time.Hour)
	for _, q := range []struct {
		name string
		fn   func() error
	}{
		{"MentionsOverTime 30d", func() error { _, err := e.st.MentionsOverTime(ctx, e.org.ID, since, 24*time.Hour, 30); return err }},
		{"RankedOpportunities", func() error {
			_, err := e.st.Opportunities(ctx, e.org.ID, store.OpportunityFilter{Status: "new", Limit: 25})
			return err
		}},
		{"CampaignCounts", func() error { _, err := e.st.CampaignCounts(ctx, e.org.ID, 0); return err }},
		{"dashboard facts, cold", func() error {
			cs, _ := e.st.Campaigns(ctx, e.org.ID)
			f, err := newDashFacts().org(ctx, e.st, e.org.ID, cs)
			if err == nil {
				f.done()
			}
			return err
		}},
	} {
		b.Run("query "+q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// timePage runs fn b.N times and reports the median and the slowest run; over the
// budget is an error unless exempt.
func timePage(b *testing.B, fn func() *httptest.ResponseRecorder, exempt ...bool) {
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		rec := fn()
		ds = append(ds, time.Since(start))
		if rec.Code != 200 {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
		}
	}
	slices.Sort(ds)
	median := ds[len(ds)/2]
	b.ReportMetric(float64(median.Microseconds())/1000, "ms/median")
	b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "ms/max")
	if median > pageBudget && len(exempt) == 0 {
		b.Errorf("median %s is over the %s budget", median, pageBudget)
	}
}
