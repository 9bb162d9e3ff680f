package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

// windows are the dashboard's periods: a day in hours, longer ones in days.
var windows = []struct {
	Key    string
	Label  string
	Bucket time.Duration
	N      int
}{
	{"24h", "24 hours", time.Hour, 24},
	{"7d", "7 days", 24 * time.Hour, 7},
	{"30d", "30 days", 24 * time.Hour, 30},
	{"90d", "90 days", 24 * time.Hour, 90},
}

type dashboardData struct {
	Window      string
	WindowLabel string
	Windows     []string
	CampaignID  int64
	Campaigns   []campaignRow
	Mentions    int
	Summary     summary
	NewOpps     int
	Chart       chartView
	Sentiment   []sentimentPart
	Top         []oppView
	AuthorMax   int
	HasAccounts bool
	AnyCampaign bool
}

type sentimentPart struct {
	Label, Class string
	Count, Pct   int
	X, W         float64 // the part's place in a 0–100 bar
}

// dashboardPage shows what the organization's campaigns found in a window: mentions
// over time per campaign, the sentiment split, the best open opportunities and the
// authors who come up most.
func (u *ui) dashboardPage(c *echo.Context) error {
	p := principal(c)
	ctx := c.Request().Context()
	w := windows[1]
	for _, x := range windows {
		if x.Key == c.QueryParam("window") {
			w = x
		}
	}
	d := dashboardData{Window: w.Key, WindowLabel: w.Label}
	for _, x := range windows {
		d.Windows = append(d.Windows, x.Key)
	}
	if v := c.QueryParam("campaign"); v != "" {
		d.CampaignID, _ = strconv.ParseInt(v, 10, 64)
	}
	campaigns, err := u.store.Campaigns(ctx, p.OrgID)
	if err != nil {
		return err
	}
	d.AnyCampaign = len(campaigns) > 0
	now := u.opts.Now().UTC()
	since := now.Truncate(w.Bucket).Add(-time.Duration(w.N-1) * w.Bucket)

	buckets, err := u.store.MentionsOverTime(ctx, p.OrgID, since, w.Bucket, w.N)
	if err != nil {
		return err
	}
	perCampaign := map[int64]int{}
	for _, b := range buckets {
		perCampaign[b.CampaignID] += b.Count
		if d.CampaignID == 0 || b.CampaignID == d.CampaignID {
			d.Mentions += b.Count
		}
	}
	d.Chart = buildChart(campaigns, buckets, d.CampaignID, since, w.Bucket, w.N)

	facts, err := u.facts.org(ctx, u.store, p.OrgID, campaigns)
	if err != nil {
		return err
	}
	d.Summary = facts.summarize(since, d.CampaignID, 8)
	facts.done()
	var hits []string
	for _, a := range d.Summary.Authors {
		hits = append(hits, a.lastHit)
		d.AuthorMax = max(d.AuthorMax, a.Conversations)
	}
	names, err := u.store.DisplayNames(ctx, p.OrgID, hits)
	if err != nil {
		return err
	}
	for i, a := range d.Summary.Authors {
		d.Summary.Authors[i].DisplayName = names[a.lastHit]
	}
	d.Sentiment = sentimentParts(d.Summary.Sentiment)

	f := store.OpportunityFilter{CampaignID: d.CampaignID, Status: "new", Limit: 5}
	top, err := u.store.Opportunities(ctx, p.OrgID, f)
	if err != nil {
		return err
	}
	for _, o := range top {
		d.Top = append(d.Top, newOppView(o))
	}
	if d.NewOpps, err = u.store.CountOpportunities(ctx, p.OrgID, store.OpportunityFilter{CampaignID: d.CampaignID, Status: "new"}); err != nil {
		return err
	}
	if d.Campaigns, err = u.campaignRows(c, campaigns, false); err != nil {
		return err
	}
	for i, r := range d.Campaigns {
		d.Campaigns[i].Hits, d.Campaigns[i].Window = perCampaign[r.ID], d.Summary.PerCampaign[r.ID]
	}
	accounts, err := u.store.XAccounts(ctx, p.OrgID)
	if err != nil {
		return err
	}
	d.HasAccounts = len(accounts) > 0
	return u.render(c, 200, "dashboard", view{Title: "Dashboard", Nav: "dashboard", Data: d})
}

func sentimentParts(s sentimentSplit) []sentimentPart {
	total := s.Total()
	parts := []sentimentPart{
		{Label: "Positive", Class: "pos", Count: s.Positive},
		{Label: "Neutral", Class: "neu", Count: s.Neutral},
		{Label: "Negative", Class: "neg", Count: s.Negative},
	}
	x := 0.0
	for i := range parts {
		if total > 0 {
			parts[i].W = math.Round(10000*float64(parts[i].Count)/float64(total)) / 100
			parts[i].Pct = (100*parts[i].Count + total/2) / total
		}
		parts[i].X = x
		x += parts[i].W
	}
	return parts
}

// chartView is a line chart drawn as SVG on the server: no script, no inline style,
// so it renders under the CSP as it is. The plot's viewBox is one unit per bucket
// wide and 100 high and stretches to its box; lines keep their width with
// vector-effect, and labels are HTML around it so that text never stretches.
type chartView struct {
	W       int
	Series  []seriesView
	Columns []columnView
	YLabels []string // top, middle, bottom
	XLabels []string // evenly spaced, first to last
	Empty   bool
}

type seriesView struct {
	Name   string
	Class  string
	Points string
	Total  int
}

type columnView struct {
	X     int
	Title string
}

// maxSeries is how many campaigns get a line of their own colour; the rest share one.
const maxSeries = 6

func buildChart(campaigns []store.Campaign, buckets []store.MentionBucket, only int64, since time.Time, bucket time.Duration, n int) chartView {
	cv := chartView{W: n * 10}
	idx := func(t time.Time) int { return int(t.Sub(since.Truncate(bucket)) / bucket) }
	counts := map[int64][]int{}
	peak := 0
	for _, b := range buckets {
		if only != 0 && b.CampaignID != only {
			continue
		}
		i := idx(b.Start)
		if i < 0 || i >= n {
			continue
		}
		if counts[b.CampaignID] == nil {
			counts[b.CampaignID] = make([]int, n)
		}
		counts[b.CampaignID][i] += b.Count
		peak = max(peak, counts[b.CampaignID][i])
	}
	top := niceCeil(peak)
	cv.YLabels = []string{strconv.Itoa(top), strconv.Itoa(top / 2), "0"}
	label := func(i int) string {
		t := since.Truncate(bucket).Add(time.Duration(i) * bucket)
		if bucket < 24*time.Hour {
			return t.Format("15:04")
		}
		return t.Format("Jan 2")
	}
	for _, i := range []int{0, n / 4, n / 2, 3 * n / 4, n - 1} {
		cv.XLabels = append(cv.XLabels, label(i))
	}
	cv.Empty = peak == 0
	var tips = make([][]string, n)
	for _, c := range campaigns {
		series := counts[c.ID]
		if series == nil {
			continue
		}
		k := len(cv.Series)
		sv := seriesView{Name: c.Name, Class: fmt.Sprintf("s%d", min(k, maxSeries))}
		var pts strings.Builder
		for i, v := range series {
			sv.Total += v
			y := 100 - 96*float64(v)/float64(top)
			fmt.Fprintf(&pts, "%d,%.1f ", i*10+5, y)
			if v > 0 {
				tips[i] = append(tips[i], fmt.Sprintf("%s: %d", c.Name, v))
			}
		}
		sv.Points = strings.TrimSpace(pts.String())
		cv.Series = append(cv.Series, sv)
	}
	for i := range n {
		t := label(i)
		if bucket >= 24*time.Hour {
			t = since.Truncate(bucket).Add(time.Duration(i) * bucket).Format("Mon Jan 2")
		}
		if len(tips[i]) == 0 {
			t += ": no mentions"
		} else {
			t += " — " + strings.Join(tips[i], ", ")
		}
		cv.Columns = append(cv.Columns, columnView{X: i * 10, Title: t})
	}
	return cv
}

// niceCeil rounds a chart's peak up to 2, 4, 6 or 10 times a power of ten, so that
// the middle label is a whole number too.
func niceCeil(v int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{2, 4, 6, 10} {
			if m*p >= v {
				return m * p
			}
		}
	}
}
