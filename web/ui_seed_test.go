package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"nexus/pipeline/analyze"
	"nexus/scraper"
	"nexus/store"
)

// seedOptions size a seeded organization.
type seedOptions struct {
	Campaigns     int
	Conversations int // per campaign
	Replies       int // average replies per conversation
	Days          int // the hits spread over this many days back from now
	Names         []string
}

// seeded is what seedStore made.
type seeded struct {
	Campaigns []store.Campaign
	Tweets    int
}

var (
	seedFirst = strings.Fields("Maya Jonas Priya Lucas Amara Noah Sofia Kenji Elena Omar Chloe Mateo Aisha Liam Ines Tariq Hannah Ravi Zoe Felix")
	seedLast  = strings.Fields("Patel Novak Okafor Silva Berg Tanaka Rossi Haddad Fischer Moreau Kowalski Reyes Larsen Nair Dubois Costa")
)

var seedTopics = []string{"pricing", "support", "onboarding", "latency", "the API", "exports", "the dashboard", "SSO"}

// seedRoots are conversation starters with the verdict an analyzer would give them.
var seedRoots = []struct {
	text, intent, sentiment string
}{
	{"Can anyone recommend an alternative to %s? Their %s is getting worse.", "seeking_recommendation", "negative"},
	{"Honestly the worst part of %s is %s. Thinking about switching.", "complaint", "negative"},
	{"We switched from %s last month, %s was the deciding factor.", "comparison", "neutral"},
	{"Loving the new %s release, %s got so much better!", "praise", "positive"},
	{"Is %s worth it for a small team? Mostly care about %s.", "question", "neutral"},
	{"%s is down again and nobody answers about %s. Frustrating.", "complaint", "negative"},
	{"Comparing %s with two others this week, %s is what matters to us.", "comparison", "neutral"},
	{"Just wrote up how we use %s. Notes on %s in the thread.", "discussion", "positive"},
}

// seedProducts are what the seeded campaigns listen for.
var seedProducts = []string{"Acme Cloud", "Skyline CRM", "Northwind", "Helio", "Orbit", "Lumen"}

var seedReplies = []string{
	"We had the same problem with %s last month.",
	"+1, %s is the reason we switched.",
	"Have you tried asking their support about %s?",
	"Following, curious about %s too.",
	"Not sure it helps but %s improved a lot recently.",
	"Same here, %s drove us mad.",
}

// seedStore gives organization orgID campaigns that found realistic
// conversations: snowflake ids spread over opts.Days, threads with nested replies,
// analyses with sentiment and intents, and opportunities for about one in five, all
// written through the store's own write paths (search pages, threads, analyses) and
// with every job finished, as a real deployment would leave them.
func seedStore(tb testing.TB, st *store.Store, orgID int64, opts seedOptions) seeded {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(orgID), 2))
	var out seeded
	names := []string{"Brand mentions", "Competitors", "Support pain", "Feature asks", "Launch buzz", "Hiring"}
	if opts.Names != nil {
		names = opts.Names
	}
	users := make([]scraper.User, 400)
	for i := range users {
		first, last := seedFirst[i%len(seedFirst)], seedLast[(i/len(seedFirst)+i)%len(seedLast)]
		users[i] = scraper.User{ID: strconv.Itoa(5000 + i), Username: fmt.Sprintf("%s%s%d", strings.ToLower(first[:1]), strings.ToLower(last), i),
			DisplayName: first + " " + last, FollowersCount: int64(rng.ExpFloat64() * 3000)}
	}
	now := time.Now().UTC()
	seq := uint64(0)
	newID := func(t time.Time) string {
		seq++
		return strconv.FormatUint(uint64(t.UnixMilli()-1288834974657)<<22|seq&(1<<22-1), 10)
	}
	for ci := range opts.Campaigns {
		topic := seedTopics[ci%len(seedTopics)]
		product := seedProducts[ci%len(seedProducts)]
		c, err := st.CreateCampaign(ctx, store.Campaign{OrgID: orgID, Name: names[ci%len(names)], Keywords: []string{strings.ToLower(product)},
			Match: "any", Threshold: 60, Schedule: "@every 30m", LookbackHours: 24})
		if err != nil {
			tb.Fatal(err)
		}
		out.Campaigns = append(out.Campaigns, c)
		perRun := max(opts.Conversations/max(opts.Days*2, 1), 5)
		for done := 0; done < opts.Conversations; {
			n := min(perRun/3+rng.IntN(perRun*4/3+1), opts.Conversations-done)
			if n == 0 {
				n = 1
			}
			done += n
			run, err := st.CreateRun(ctx, orgID, c.ID, "schedule", "nexus", "", []byte(`{}`))
			if err != nil {
				tb.Fatal(err)
			}
			// Hits of this run were posted in the half day before it, oldest runs first.
			age := time.Duration(float64(opts.Days*24)*float64(opts.Conversations-done+n)/float64(opts.Conversations)) * time.Hour
			base := now.Add(-age)
			type conv struct {
				root   scraper.Tweet
				thread []scraper.Tweet
				kind   int
			}
			convs := make([]conv, n)
			var hits []store.StoredTweet
			for k := range convs {
				at := base.Add(-time.Duration(rng.IntN(12*3600)) * time.Second)
				u := users[rng.IntN(len(users))]
				kind := rng.IntN(len(seedRoots))
				root := seedTweet(newID(at), u, at, fmt.Sprintf(seedRoots[kind].text, product, topic), nil, rng)
				root.ConversationID = root.ID
				th := []scraper.Tweet{root}
				for r := range rng.IntN(2*opts.Replies + 1) {
					parent := th[rng.IntN(len(th))]
					rat := at.Add(time.Duration(r+1) * time.Minute)
					rt := seedTweet(newID(rat), users[rng.IntN(len(users))], rat, fmt.Sprintf(seedReplies[rng.IntN(len(seedReplies))], topic), &parent.ID, rng)
					rt.ConversationID = root.ID
					th = append(th, rt)
				}
				convs[k] = conv{root: root, thread: th, kind: kind}
				hits = append(hits, storedSeed(tb, root))
			}
			if _, err := st.SaveSearchPage(ctx, run, store.SearchPage{Tweets: hits, Done: true}); err != nil {
				tb.Fatal(err)
			}
			run.SearchDone = true
			for _, cv := range convs {
				u := store.ThreadUpdate{ConversationID: cv.root.ID, HitID: cv.root.ID, Complete: true, ContentHash: "h" + cv.root.ID}
				type node struct {
					ID       string `json:"id"`
					ParentID string `json:"parent_id,omitempty"`
					Depth    int    `json:"depth"`
				}
				depth := map[string]int{}
				var nodes []node
				for _, t := range cv.thread {
					u.Tweets = append(u.Tweets, storedSeed(tb, t))
					n := node{ID: t.ID}
					if t.InReplyToID != nil {
						n.ParentID, n.Depth = *t.InReplyToID, depth[*t.InReplyToID]+1
					}
					depth[t.ID] = n.Depth
					nodes = append(nodes, n)
				}
				u.Thread, _ = json.Marshal(nodes)
				saved, err := st.SaveThread(ctx, run, u)
				if err != nil {
					tb.Fatal(err)
				}
				out.Tweets += len(cv.thread)
				res := seedResult(rng, cv.kind)
				body, _ := json.Marshal(res)
				a := store.Analysis{CacheKey: "k" + cv.root.ID, Status: "ok", Result: body, Relevance: res.Relevance,
					Opportunity: res.Opportunity, Provider: res.Provider, Model: res.Model}
				opp := store.OpportunityDecision{Is: res.Opportunity && res.Relevance >= c.Threshold, Relevance: res.Relevance}
				if err := st.SaveAnalysis(ctx, run, saved, a, u.ContentHash, opp); err != nil {
					tb.Fatal(err)
				}
			}
			finishSeedJobs(tb, st)
			if err := st.FinishRun(ctx, run.ID, store.RunSucceeded, ""); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return out
}

func seedTweet(id string, u scraper.User, at time.Time, text string, parent *string, rng *rand.Rand) scraper.Tweet {
	views := int64(rng.IntN(50000))
	likes := int64(rng.ExpFloat64() * 20)
	return scraper.Tweet{ID: id, URL: "https://x.com/" + u.Username + "/status/" + id, CreatedAt: at, UserID: u.ID,
		Username: u.Username, DisplayName: u.DisplayName, Text: text, Lang: "en", LikeCount: likes, ReplyCount: likes / 4,
		RetweetCount: likes / 3, ViewCount: &views, InReplyToID: parent, Hashtags: []string{}, Mentions: []string{},
		Links: []string{}, Media: []scraper.Media{}, Author: u}
}

func storedSeed(tb testing.TB, t scraper.Tweet) store.StoredTweet {
	data, err := json.Marshal(t)
	if err != nil {
		tb.Fatal(err)
	}
	return store.StoredTweet{ID: t.ID, ConversationID: t.ConversationID, Username: t.Username, CreatedAt: t.CreatedAt, Data: data}
}

func seedResult(rng *rand.Rand, kind int) analyze.Result {
	root := seedRoots[kind]
	r := analyze.Result{Relevance: 35 + rng.IntN(65), Sentiment: root.sentiment, Intent: root.intent,
		Insights: []string{"2 replies mention pricing", "The matching post has 14 likes, 3 replies and 2 reposts"},
		Provider: "heuristic", Model: "heuristic-v1"}
	if rng.IntN(4) == 0 {
		r.Sentiment = analyze.Neutral
	}
	r.Opportunity = r.Relevance >= 60 && r.Intent != "praise" && r.Intent != "discussion"
	if r.Opportunity {
		r.OpportunityReason = "Someone " + map[string]string{"seeking_recommendation": "is asking for a recommendation",
			"complaint": "is unhappy with what they use", "comparison": "is comparing options", "question": "asked a question"}[r.Intent] +
			"; relevance " + strconv.Itoa(r.Relevance) + "."
		r.SuggestedReplies = []string{"We built exactly this for small teams: happy to show you how it handles it.", "Sorry to hear that! We wrote a short guide on switching, want the link?"}
	}
	return r
}

// finishSeedJobs marks every queued job done, as the workers would have.
func finishSeedJobs(tb testing.TB, st *store.Store) {
	ctx := context.Background()
	for {
		jobs, err := st.ClaimJobs(ctx, "seed", 500, time.Now().Add(time.Hour), time.Now().Add(2*time.Hour))
		if err != nil {
			tb.Fatal(err)
		}
		if len(jobs) == 0 {
			return
		}
		res := make([]store.JobResult, len(jobs))
		for i, j := range jobs {
			res[i] = store.JobResult{ID: j.ID, Owner: "seed", State: store.JobDone}
		}
		if err := st.FinishJobs(ctx, res); err != nil {
			tb.Fatal(err)
		}
	}
}
