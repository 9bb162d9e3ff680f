package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"nexus/pipeline/query"
	"nexus/scraper/xfake"
	"nexus/store"
	"nexus/web"
)

// The demo: the real server (HTTP API, web UI, job pool, scheduler, X client, parser,
// heuristic analyzer) on a throw-away data directory, searching a fake X on loopback
// that keeps receiving new posts. Nothing is faked above the network, so what a
// newcomer sees is what Nexus does, without an X account or an LLM key.

const (
	demoEmail    = "demo@nexus.local"
	demoOrg      = "Demo"
	demoCampaign = "Social listening"
	// demoEvery is how often fresh posts arrive on the fake X, so that each run of the
	// one-minute schedule finds new ones.
	demoEvery = 20 * time.Second
)

// demoOptions are the demo's knobs; tests shorten the intervals.
type demoOptions struct {
	on    bool
	keep  bool
	every time.Duration              // fresh posts arrive this often
	ready func(url, password string) // told once the server listens
}

// demoFlags adds --demo (for serve) and --keep to a command's flags.
func demoFlags(fs interface {
	BoolVar(p *bool, name string, value bool, usage string)
}, withSwitch bool) *demoOptions {
	o := &demoOptions{every: demoEvery}
	if withSwitch {
		fs.BoolVar(&o.on, "demo", false, "run a self-contained demo: temporary data, a fake X with a live stream, a ready campaign")
	}
	fs.BoolVar(&o.keep, "keep", false, "with the demo: keep its temporary data directory at exit")
	return o
}

func (a *App) demoCmd() *cobra.Command {
	var o *demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Nexus on a fake X with a live stream of posts: no account, no key, nothing kept",
		Long: "Start the real server on a temporary data directory, with an admin whose password is printed,\n" +
			"two X sessions on a fake X that serves a lifelike stream on loopback, the offline analyzer and\n" +
			"one campaign that runs every minute. Same as `nexus serve --demo`.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runDemo(cmd.Context(), *o) },
	}
	o = demoFlags(cmd.Flags(), false)
	a.configFlag(cmd.Flags(), "addr", "server.addr", "listen address HOST:PORT")
	return cmd
}

// runDemo sets the demo up and serves until ctx ends.
func (a *App) runDemo(ctx context.Context, o demoOptions) (err error) {
	if err := a.loadConfig(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "nexus-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(a.stderr, "demo data kept in %s\n", dir)
			return
		}
		if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("demo: remove %s: %w", dir, rerr))
		}
	}()
	x := xfake.New(xfake.WithCorpus(time.Now().UnixNano(), 3000))
	defer x.Close()

	cfg := a.cfg
	cfg.DataDir = dir
	cfg.SecretKey = randomHex(32)
	cfg.X.APIBase, cfg.X.WebBase, cfg.X.TransactionID = x.URL(), x.RootURL(), "off"
	cfg.LLM.Provider, cfg.LLM.APIKey, cfg.LLM.BaseURL = "heuristic", "", ""
	if _, set := a.flags["server.addr"]; !set {
		cfg.Server.Addr = demoAddr(cfg.Server.Addr)
	}
	srv, err := newServer(ctx, cfg, a.log)
	if err != nil {
		return err
	}
	password := randomHex(9)
	camp, err := setUpDemo(ctx, srv, x, password)
	if err != nil {
		srv.store.Close()
		return fmt.Errorf("demo: %w", err)
	}
	stream := newDemoStream(x)
	stream.history(time.Now(), 7*24*time.Hour, 45)
	if _, err := srv.runner.Start(ctx, camp, "demo"); err != nil {
		srv.store.Close()
		return fmt.Errorf("demo: first run: %w", err)
	}
	streamCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { stream.live(streamCtx, o.every) })
	defer func() { stop(); wg.Wait() }()

	return srv.run(ctx, func(addr net.Addr) {
		url := "http://" + addr.String()
		fmt.Fprintf(a.stderr, "\n  Nexus demo: %s\n  log in as %s with password %s\n"+
			"  X is a fake on loopback with a live stream; %q runs every minute.\n  data: %s (%s at exit)\n\n",
			url, demoEmail, password, demoCampaign, dir, map[bool]string{true: "kept", false: "removed"}[o.keep])
		if o.ready != nil {
			o.ready(url, password)
		}
	})
}

// setUpDemo creates the organization, the admin, two X sessions on the fake and the
// campaign, through the same store calls and checks as the API.
func setUpDemo(ctx context.Context, srv *server, x *xfake.Server, password string) (store.Campaign, error) {
	st := srv.store
	hash, err := store.HashPassword(password)
	if err != nil {
		return store.Campaign{}, err
	}
	org, _, err := st.Setup(ctx, demoOrg, demoEmail, hash)
	if err != nil {
		return store.Campaign{}, err
	}
	for _, name := range []string{"demo-research", "demo-backup"} {
		tok, ct0 := randomHex(20), randomHex(16)
		x.AddAccount(tok, ct0)
		cookies, ua, err := web.NormalizeAccount(name, "auth_token="+tok+"; ct0="+ct0, "")
		if err != nil {
			return store.Campaign{}, err
		}
		if _, err := st.AddXAccount(ctx, org.ID, name, cookies, "", ua); err != nil {
			return store.Campaign{}, err
		}
	}
	c := store.Campaign{OrgID: org.ID, Name: demoCampaign, Match: query.MatchAny,
		Keywords: []string{"mentionly", "social listening", "brand monitoring"},
		Context: "We make Nexus, a self-hosted social-listening tool for X. Opportunities: people unhappy with " +
			"Mentionly or another listening tool, asking for a recommendation, comparing tools, or asking how to " +
			"track brand mentions. Job posts and event promotions are not opportunities.",
		// Threshold 40 lets the offline analyzer's judgement decide (it calls 60 and
		// up an opportunity), and a week of look-back gives the first run a history.
		Threshold: 40, LookbackHours: 7 * 24,
		// Every minute is below the interval the API accepts (query.MinScheduleInterval
		// protects real accounts' rate limits); the fake's are the demo's own.
		Schedule: "@every 1m",
	}
	query.Normalize(&c)
	if c, err = st.CreateCampaign(ctx, c); err != nil {
		return c, err
	}
	return c, srv.sched.SetCampaign(c, srv.runner.Start)
}

// demoAddr keeps the configured address when it is free, else takes a free port on
// the same host: a demo should start even when something already uses port 8000.
func demoAddr(addr string) string {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return addr
	}
	host, _, _ := net.SplitHostPort(addr)
	return net.JoinHostPort(host, "0")
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// demoStream writes lifelike posts to the fake X: questions, complaints,
// recommendations asked for, comparisons, praise and noise about social-listening
// tools, and replies to them, by the fake's synthetic authors.
type demoStream struct {
	x       *xfake.Server
	rng     *mrand.Rand
	authors []string
	mu      sync.Mutex
	roots   []string // recent conversation roots, newest last
}

func newDemoStream(x *xfake.Server) *demoStream {
	d := &demoStream{x: x, rng: mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 7))}
	for _, u := range x.Users() {
		if u.ID != xfake.DefaultUserID && u.ID != xfake.AdvertiserUserID {
			d.authors = append(d.authors, u.ID)
		}
	}
	return d
}

var (
	demoTools = []string{"Mentionly", "BuzzScope", "Hootlet", "Brandly"}
	demoWhat  = []string{"pricing", "the API limits", "support", "the alerts", "exports", "the dashboard", "missed mentions", "onboarding"}
	demoRoots = []string{
		"Looking for an alternative to %[1]s for social listening, ideally self-hosted. Any recommendations?",
		"Can anyone recommend a brand monitoring tool for a 5-person startup? %[1]s is overkill for us.",
		"%[1]s just raised prices again. Paying this much for brand monitoring is ridiculous.",
		"Third outage this week on %[1]s, our brand monitoring alerts are not working at all. Frustrating.",
		"%[1]s vs %[3]s for social listening: which one do you use and why?",
		"Switching from %[1]s, %[2]s was the last straw. What do you use for social listening now?",
		"How do you all track brand mentions on X these days? %[1]s stopped catching replies.",
		"Does any social listening tool handle %[2]s well? Asking before we renew %[1]s.",
		"Honestly %[1]s support has been terrible, still waiting on an answer about %[2]s.",
		"Loving the new %[1]s release, social listening reports finally look great.",
		"Wrote a short thread on how we do brand monitoring with a spreadsheet and two alerts.",
		"Social listening tip: track the misspellings of your brand too, half our mentions had typos.",
		"We're hiring a social media manager with brand monitoring experience, remote, DM me.",
		"Webinar tomorrow on social listening trends for 2027, link in bio.",
	}
	demoReplies = []string{
		"Same problem here, we are evaluating options too.",
		"We moved to a self-hosted setup last quarter, happy to share notes.",
		"Following, curious what people recommend.",
		"Their support never answered my ticket either.",
		"+1, the pricing page changed again this week.",
		"We use %[3]s, it is fine but misses replies.",
		"Have you tried exporting to Sheets? It helped us a lot.",
		"Honestly %[1]s worked well for us until %[2]s got worse.",
		"Social listening is so much harder since the API changes.",
		"What budget do you have? That decides most of it.",
	}
)

func (d *demoStream) fill(tmpl string) string {
	t := d.rng.Perm(len(demoTools))
	return fmt.Sprintf(tmpl, demoTools[t[0]], demoWhat[d.rng.IntN(len(demoWhat))], demoTools[t[1]])
}

func (d *demoStream) author() string { return d.authors[d.rng.IntN(len(d.authors))] }

// post adds one new conversation at t, with a few replies over the next minutes.
func (d *demoStream) post(t time.Time) {
	root := d.x.AddTweet(xfake.Tweet{AuthorID: d.author(), Text: d.fill(demoRoots[d.rng.IntN(len(demoRoots))]), CreatedAt: t,
		LikeCount: int64(d.rng.IntN(80)), RetweetCount: int64(d.rng.IntN(12)), ViewCount: int64(200 + d.rng.IntN(20000))})
	parent := root.ID
	for i := range d.rng.IntN(4) {
		r := d.x.AddTweet(xfake.Tweet{AuthorID: d.author(), Text: d.fill(demoReplies[d.rng.IntN(len(demoReplies))]),
			InReplyToID: parent, CreatedAt: t.Add(time.Duration(i+1) * time.Minute), LikeCount: int64(d.rng.IntN(10))})
		if d.rng.IntN(2) == 0 {
			parent = r.ID
		}
	}
	d.mu.Lock()
	d.roots = append(d.roots, root.ID)
	if len(d.roots) > 50 {
		d.roots = d.roots[1:]
	}
	d.mu.Unlock()
}

// history spreads n conversations over the span before now, for the first run's
// look-back and the dashboard's chart.
func (d *demoStream) history(now time.Time, span time.Duration, n int) {
	for i := range n {
		// More recent days get more posts, as a campaign that is picking up does.
		f := 1 - (float64(i)+d.rng.Float64())/float64(n)
		d.post(now.Add(-time.Duration(f * f * float64(span))).Add(-10 * time.Minute))
	}
}

// live adds a few posts and a reply to a recent conversation every interval (±25%)
// until ctx ends.
func (d *demoStream) live(ctx context.Context, every time.Duration) {
	for {
		wait := every*3/4 + time.Duration(d.rng.Int64N(int64(every/2)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		now := time.Now()
		for range 1 + d.rng.IntN(3) {
			d.post(now)
		}
		d.mu.Lock()
		root := d.roots[d.rng.IntN(len(d.roots))]
		d.mu.Unlock()
		text := d.fill(demoReplies[d.rng.IntN(len(demoReplies))])
		if !strings.Contains(strings.ToLower(text), "social listening") {
			text += " Still looking for better social listening."
		}
		d.x.AddTweet(xfake.Tweet{AuthorID: d.author(), Text: text, InReplyToID: root, CreatedAt: now})
	}
}
