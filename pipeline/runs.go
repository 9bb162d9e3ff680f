package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"nexus/pipeline/analyze"
	"nexus/pipeline/query"
	"nexus/scraper"
	"nexus/store"
)

// Analyzer is what a run needs of the analysis provider.
type Analyzer interface {
	Analyze(ctx context.Context, c analyze.Campaign, conv analyze.Conversation) (analyze.Result, error)
	CacheKey(c analyze.Campaign, conv analyze.Conversation) string
}

// RunnerOptions are the parts a listening run is made of.
type RunnerOptions struct {
	Store *store.Store
	// NewClient builds the X client over one organization's account pool.
	NewClient func(accounts scraper.AccountStore) (*scraper.Client, error)
	Analyzer  Analyzer
	Log       zerolog.Logger
	// AccountWait is how long a run may go on finding no usable X account before it
	// fails (default 30m): locks of a few minutes are waited out, however long the run
	// has been going, and a pool that is all banned is reported at once.
	AccountWait time.Duration
	MaxReplies  int // per thread (default 500)
	Wake        func()
	// Senders delivers opportunities; nil: deliveries wait for a process that has one.
	Senders *Senders
	// OnTokens, when set, is told of the tokens each analysis spent (for /metrics).
	OnTokens func(provider, model string, prompt, response int)
	// Now is the runner's clock (default time.Now): the lookback of a first run, the
	// wait for X accounts, delivery retries and quiet hours. Tests pass a fake one,
	// together with the pool's PoolOptions.Now.
	Now func() time.Time
}

// Runner executes listening runs as chains of jobs: search → thread → analyze.
type Runner struct {
	o       RunnerOptions
	mu      sync.Mutex
	clients map[int64]*scraper.Client
	perRun  map[int64]analyze.Analyzer // the analyzer with each run's token budget
	// waiting is, per organization, its wait for a usable X account, from the first job
	// that found none until X answers one of its accounts with data. It lives in
	// memory: after a restart the wait starts over, which a crash loop cannot stretch
	// for long.
	waiting map[int64]accountWait
	// unsaved holds, by job, results their job could not store because the disk was
	// full (a fetched thread, an analysis): the job's next attempt stores them instead
	// of asking X or the LLM again, every FullWait, for as long as the disk stays full.
	unsaved map[string]any
}

// accountWait is an organization's wait for a usable X account.
type accountWait struct {
	since time.Time // when the first job found no account
	until time.Time // the latest time a job was told to come back at
}

// maxUnsaved bounds the results kept for a full disk.
const maxUnsaved = 1024

// keep remembers a result its job could not store for want of disk space, and
// forgets it once stored.
func (r *Runner) keep(key string, v any, saveErr error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case saveErr == nil:
		delete(r.unsaved, key)
	case store.IsFull(saveErr):
		if len(r.unsaved) >= maxUnsaved {
			clear(r.unsaved)
		}
		r.unsaved[key] = v
	}
}

// kept returns the result kept under key, if any.
func (r *Runner) kept(key string) (any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.unsaved[key]
	return v, ok
}

// forRunner is an analyzer that can give each run its own token budget.
type forRunner interface {
	ForRun() analyze.Analyzer
}

// NewRunner builds a runner.
func NewRunner(o RunnerOptions) *Runner {
	if o.AccountWait <= 0 {
		o.AccountWait = 30 * time.Minute
	}
	if o.MaxReplies <= 0 {
		o.MaxReplies = 500
	}
	if o.Wake == nil {
		o.Wake = func() {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Runner{o: o, clients: map[int64]*scraper.Client{}, perRun: map[int64]analyze.Analyzer{},
		waiting: map[int64]accountWait{}, unsaved: map[string]any{}}
}

// Handlers are the job handlers of a run, for the pool.
func (r *Runner) Handlers() map[string]Handler {
	return map[string]Handler{
		store.KindSearch:  r.search,
		store.KindThread:  r.thread,
		store.KindAnalyze: r.analyze,
		store.KindDeliver: r.deliverOne,
		store.KindDigest:  r.deliverDigest,
	}
}

// client returns the X client of an organization, built once.
func (r *Runner) client(orgID int64) (*scraper.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[orgID]; ok {
		return c, nil
	}
	accounts := NewXAccounts(r.o.Store, orgID)
	accounts.onSuccess = func() { r.accountsUsable(orgID) }
	c, err := r.o.NewClient(accounts)
	if err != nil {
		return nil, err
	}
	r.clients[orgID] = c
	return c, nil
}

// searchPayload is the compiled query a run searches with, fixed when the run starts so
// that a resumed run asks for exactly the same thing.
type searchPayload struct {
	Query  string       `json:"query"`
	Filter query.Filter `json:"filter"`
}

// Start queues a run of campaign c. It is incremental: after a successful run, X is
// asked only for tweets newer than the newest that run saw; a first run looks back the
// campaign's window.
func (r *Runner) Start(ctx context.Context, c store.Campaign, trigger string) (store.Run, error) {
	sinceID, err := r.o.Store.LastNewestID(ctx, c.ID)
	if err != nil {
		return store.Run{}, err
	}
	opts := query.Options{SinceID: sinceID}
	if sinceID == "" {
		opts.Since = r.o.Now().Add(-query.Lookback(c))
	}
	compiled, err := query.Compile(c, opts)
	if err != nil {
		return store.Run{}, err
	}
	payload, _ := json.Marshal(searchPayload{Query: compiled.Query, Filter: compiled.Filter})
	run, err := r.o.Store.CreateRun(ctx, c.OrgID, c.ID, trigger, compiled.Query, sinceID, payload)
	if err != nil {
		return run, err
	}
	r.o.Wake()
	r.o.Log.Info().Int64("run_id", run.ID).Int64("campaign_id", c.ID).Str("trigger", trigger).Str("query", compiled.Query).Msg("run queued")
	return run, nil
}

// activeRun loads the job's run; ok is false when the run was cancelled or ended, and
// the job then has nothing to do.
func (r *Runner) activeRun(ctx context.Context, j store.Job) (store.Run, bool, error) {
	run, err := r.o.Store.RunForJob(ctx, j.RunID)
	if err != nil {
		return run, false, err
	}
	return run, run.Active(), nil
}

// accountError turns "no X account free" into a wait (until the next one frees), and
// into a permanent failure once the organization has had no usable account for
// AccountWait (X answered none of its requests with data meanwhile), or when none
// will free within that time. A failure for want of accounts is also written on the
// run, which then ends failed: the conversations it could not fetch are missing, and
// the next run searches for them again.
//
// The wait was once counted from the creation of the run: a run that had been going
// for AccountWait failed every job that met an ordinary rate-limit window, and lost
// those conversations while it reported success.
func (r *Runner) accountError(ctx context.Context, run store.Run, err error) error {
	var none *scraper.NoAccountError
	if !errors.As(err, &none) {
		return err
	}
	var fail error
	if none.NextFree.IsZero() {
		fail = fmt.Errorf("no usable X account: %w", err)
	} else if at, ok := r.waitForAccount(run.OrgID, none.NextFree.Add(time.Second)); ok {
		return Defer(err, at)
	} else {
		fail = fmt.Errorf("no usable X account for %s (runs.account_wait): %w", r.o.AccountWait, err)
	}
	if serr := r.o.Store.SetRunError(ctx, run.ID, fail.Error()); serr != nil {
		return serr // retried: the failure must reach the run
	}
	return Permanent(fail)
}

// waitForAccount adds a job to the organization's wait for an X account, and says
// whether it may wait until at: not past AccountWait from the start of the wait. A
// wait nobody came back to within AccountWait of its last deferral (its run ended)
// is over: a new one starts.
func (r *Runner) waitForAccount(orgID int64, at time.Time) (time.Time, bool) {
	now := r.o.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.waiting[orgID]
	if !ok || now.After(w.until.Add(r.o.AccountWait)) {
		w = accountWait{since: now}
	}
	deadline := w.since.Add(r.o.AccountWait)
	ok = !now.After(deadline) && !at.After(deadline)
	if !ok {
		at = now
	}
	if at.After(w.until) {
		w.until = at
	}
	r.waiting[orgID] = w
	return at, ok
}

// accountsUsable records that X answered one of the organization's accounts with
// data: its wait for a usable account is over.
func (r *Runner) accountsUsable(orgID int64) {
	r.mu.Lock()
	delete(r.waiting, orgID)
	r.mu.Unlock()
}

func (r *Runner) search(ctx context.Context, j store.Job) error {
	run, ok, err := r.activeRun(ctx, j)
	if err != nil || !ok {
		return err
	}
	if run.SearchDone {
		return nil
	}
	if err := r.o.Store.StartRun(ctx, run.ID); err != nil {
		return err
	}
	var p searchPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("search job payload: %w", err))
	}
	client, err := r.client(run.OrgID)
	if err != nil {
		return err
	}
	errCancelled := errors.New("run cancelled")
	// A restarted search job resumes after the last page it stored.
	err = client.Search(ctx, scraper.SearchOptions{Query: p.Query, Product: "Latest", Cursor: run.SearchCursor}, func(page scraper.Page) error {
		var kept []store.StoredTweet
		for _, t := range page.Tweets {
			if !p.Filter.Keep(t) {
				continue
			}
			st, err := storedTweet(t)
			if err != nil {
				return err
			}
			kept = append(kept, st)
		}
		if _, err := r.o.Store.SaveSearchPage(ctx, run, store.SearchPage{Tweets: kept, NextCursor: page.Cursors.Bottom}); err != nil {
			return err
		}
		r.o.Wake()
		if cur, err := r.o.Store.RunForJob(ctx, run.ID); err == nil {
			run = cur
			if !cur.Active() {
				return errCancelled
			}
		}
		return nil
	})
	if errors.Is(err, errCancelled) {
		return nil
	}
	if err != nil {
		return r.accountError(ctx, run, fmt.Errorf("run %d: search: %w", run.ID, err))
	}
	_, err = r.o.Store.SaveSearchPage(ctx, run, store.SearchPage{Done: true, NextCursor: run.SearchCursor})
	return err
}

func storedTweet(t scraper.Tweet) (store.StoredTweet, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return store.StoredTweet{}, fmt.Errorf("encode tweet %s: %w", t.ID, err)
	}
	return store.StoredTweet{ID: t.ID, ConversationID: t.ConversationID, Username: t.Username, CreatedAt: t.CreatedAt, Data: data}, nil
}

type threadPayload struct {
	ConversationID string `json:"conversation_id"`
	HitID          string `json:"hit_id"`
}

type threadNode struct {
	ID       string `json:"id"`
	ParentID string `json:"parent_id,omitempty"`
	Depth    int    `json:"depth"`
}

func (r *Runner) thread(ctx context.Context, j store.Job) error {
	run, ok, err := r.activeRun(ctx, j)
	if err != nil || !ok {
		return err
	}
	var p threadPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("thread job payload: %w", err))
	}
	if u, ok := r.kept(j.Key); ok {
		_, err := r.o.Store.SaveThread(ctx, run, u.(store.ThreadUpdate))
		r.keep(j.Key, u, err)
		if err == nil {
			r.o.Wake()
		}
		return err
	}
	client, err := r.client(run.OrgID)
	if err != nil {
		return err
	}
	th, err := client.Thread(ctx, p.HitID, scraper.ThreadOptions{MaxReplies: r.o.MaxReplies})
	if errors.Is(err, scraper.ErrTweetNotFound) {
		return Permanent(err) // deleted since the search: nothing to thread
	}
	if err != nil {
		return r.accountError(ctx, run, fmt.Errorf("run %d: thread %s: %w", run.ID, p.ConversationID, err))
	}
	u := store.ThreadUpdate{ConversationID: p.ConversationID, HitID: p.HitID, Complete: th.Complete}
	nodes := make([]threadNode, 0, len(th.Tweets))
	h := sha256.New()
	for _, tt := range th.Tweets {
		st, err := storedTweet(tt.Tweet)
		if err != nil {
			return err
		}
		u.Tweets = append(u.Tweets, st)
		nodes = append(nodes, threadNode{ID: tt.Tweet.ID, ParentID: tt.ParentID, Depth: tt.Depth})
		fmt.Fprintf(h, "%s\x00%s\x00", tt.Tweet.ID, tt.Tweet.Text)
	}
	if !containsHit(th, p.HitID) {
		// X hid the hit from its own thread (withheld, or the walk was cut): keep it.
		if hit, err := r.o.Store.Tweet(ctx, run.OrgID, p.HitID); err == nil {
			u.Tweets = append(u.Tweets, hit)
			nodes = append(nodes, threadNode{ID: p.HitID, Depth: 1})
		}
	}
	u.Thread, _ = json.Marshal(nodes)
	u.ContentHash = hex.EncodeToString(h.Sum(nil))
	if _, err := r.o.Store.SaveThread(ctx, run, u); err != nil {
		r.keep(j.Key, u, err)
		return err
	}
	r.o.Wake()
	return nil
}

func containsHit(th scraper.Thread, id string) bool {
	for _, t := range th.Tweets {
		if t.Tweet.ID == id {
			return true
		}
	}
	return false
}

type analyzePayload struct {
	Conversation int64 `json:"conversation"`
}

func (r *Runner) analyze(ctx context.Context, j store.Job) error {
	run, ok, err := r.activeRun(ctx, j)
	if err != nil || !ok {
		return err
	}
	var p analyzePayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("analyze job payload: %w", err))
	}
	st := r.o.Store
	conv, err := st.Conversation(ctx, run.OrgID, p.Conversation)
	if err != nil {
		return err
	}
	if conv.AnalyzedHash == conv.ContentHash {
		return nil // analysed by an earlier attempt that committed
	}
	c, err := st.Campaign(ctx, run.OrgID, run.CampaignID)
	if err != nil {
		return err
	}
	stored, err := st.ConversationTweets(ctx, conv)
	if err != nil {
		return err
	}
	tweets := make([]scraper.Tweet, 0, len(stored))
	for _, s := range stored {
		var t scraper.Tweet
		if err := json.Unmarshal(s.Data, &t); err != nil {
			return Permanent(fmt.Errorf("stored tweet %s: %w", s.ID, err))
		}
		tweets = append(tweets, t)
	}
	ac, err := r.analyzeCampaign(ctx, c)
	if err != nil {
		return err
	}
	thread, err := analyze.Build(conv.HitID, tweets)
	if err != nil {
		return Permanent(err)
	}
	key := r.o.Analyzer.CacheKey(ac, thread)
	a := store.Analysis{CacheKey: key, Status: "ok"}
	keptKey := j.Key + "\x00" + key // a kept result is for this content only
	fresh := false
	if cached, hit, err := st.CachedAnalysis(ctx, run.OrgID, key); err != nil {
		return err
	} else if hit {
		a.Result, a.Relevance, a.Opportunity, a.Provider, a.Model = cached.Result, cached.Relevance, cached.Opportunity, cached.Provider, cached.Model
	} else if k, ok := r.kept(keptKey); ok {
		a = k.(store.Analysis)
	} else {
		fresh = true
		res, err := r.runAnalyzer(run.ID).Analyze(ctx, ac, thread)
		var failed *analyze.FailedAnalysis
		switch {
		case errors.As(err, &failed):
			a.Status, a.Raw, a.Error = "failed", failed.Raw, failed.Error()
			a.PromptTokens, a.ResponseTokens = failed.PromptTokens, failed.ResponseTokens
		case errors.Is(err, analyze.ErrBudgetExceeded):
			a.Status, a.Error = "failed", err.Error()
		case err != nil:
			err = fmt.Errorf("run %d: analyze conversation %d: %w", run.ID, conv.ID, err)
			// The provider named when to come back (a quota's RetryInfo or Retry-After,
			// longer than its own retries wait for): come back then. The pool's backoff
			// would spend the job's attempts within the quota window, and lose the
			// analysis to a 429 storm of a few minutes.
			var te *analyze.TransientError
			if errors.As(err, &te) && te.After > 0 {
				return RetryAt(err, r.o.Now().Add(te.After))
			}
			return err
		default:
			a.Result, _ = json.Marshal(res)
			a.Relevance, a.Opportunity, a.Provider, a.Model = res.Relevance, res.Opportunity, res.Provider, res.Model
			a.PromptTokens, a.ResponseTokens = res.PromptTokens, res.ResponseTokens
		}
	}
	if a.Result == nil {
		a.Result = json.RawMessage("{}")
	}
	if a.Provider == "" {
		a.Provider, a.Model = "none", "none"
	}
	if r.o.OnTokens != nil && fresh && a.PromptTokens+a.ResponseTokens > 0 {
		r.o.OnTokens(a.Provider, a.Model, a.PromptTokens, a.ResponseTokens)
	}
	opp := store.OpportunityDecision{Is: a.Status == "ok" && a.Opportunity && a.Relevance >= c.Threshold, Relevance: a.Relevance}
	if opp.Is {
		if opp.Deliver, opp.Digest, err = r.routes(ctx, c); err != nil {
			return err
		}
	}
	err = st.SaveAnalysis(ctx, run, conv, a, conv.ContentHash, opp)
	r.keep(keptKey, a, err)
	return err
}

// feedbackExamples is how many of a campaign's judged opportunities go into its prompt.
const feedbackExamples = 6

// analyzeCampaign is what the analyzer is told of a campaign: its context followed by
// the last opportunities the team judged, so that the analysis learns from feedback.
// The examples are part of the context, hence of the cache key: new feedback means a
// new prompt, and conversations analysed under the old one are not reused.
func (r *Runner) analyzeCampaign(ctx context.Context, c store.Campaign) (analyze.Campaign, error) {
	ac := analyze.Campaign{Name: c.Name, Context: c.Context, Keywords: c.Keywords, Phrases: c.Phrases, Hashtags: c.Hashtags, Lang: c.Lang}
	examples, err := r.o.Store.FeedbackExamples(ctx, c.ID, feedbackExamples)
	if err != nil || len(examples) == 0 {
		return ac, err
	}
	var b strings.Builder
	b.WriteString(ac.Context)
	b.WriteString("\n\nPosts the team has judged (follow their judgement on similar posts):")
	for _, e := range examples {
		var t scraper.Tweet
		if json.Unmarshal(e.Hit, &t) != nil || t.Text == "" {
			continue
		}
		verdict := "NOT an opportunity"
		if e.Relevant {
			verdict = "an opportunity"
		}
		text := []rune(strings.Join(strings.Fields(t.Text), " "))
		if len(text) > 200 {
			text = append(text[:199], '…')
		}
		fmt.Fprintf(&b, "\n- %s: %q", verdict, string(text))
		if e.Note != "" {
			fmt.Fprintf(&b, " (note: %s)", e.Note)
		}
	}
	ac.Context = b.String()
	return ac, nil
}

// runAnalyzer returns the analyzer of a run, with the run's own token budget when the
// provider has one.
func (r *Runner) runAnalyzer(runID int64) analyze.Analyzer {
	fr, ok := r.o.Analyzer.(forRunner)
	if !ok {
		return r.o.Analyzer
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.perRun[runID]
	if !ok {
		a = fr.ForRun()
		r.perRun[runID] = a
	}
	return a
}

// routes are the campaign's routes whose integration is configured, instant and digest.
func (r *Runner) routes(ctx context.Context, c store.Campaign) (instant, digest []string, err error) {
	if len(c.Routes) == 0 {
		return nil, nil, nil
	}
	configured, err := r.o.Store.Integrations(ctx, c.OrgID)
	if err != nil {
		return nil, nil, err
	}
	have := map[string]bool{}
	for _, in := range configured {
		have[in.Kind] = true
	}
	for _, rt := range c.Routes {
		switch {
		case !have[rt.Integration]:
		case rt.Mode == "digest":
			digest = append(digest, rt.Integration)
		default:
			instant = append(instant, rt.Integration)
		}
	}
	return instant, digest, nil
}

// Watch closes runs that have no job left, until ctx ends. Completion is not a job of
// its own: the last job of a run cannot know it is the last while others run.
func (r *Runner) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ids, err := r.o.Store.FinishIdleRuns(ctx)
			if err != nil && ctx.Err() == nil {
				r.o.Log.Error().Err(err).Msg("finish idle runs")
			}
			for _, id := range ids {
				r.o.Log.Info().Int64("run_id", id).Msg("run finished")
				r.mu.Lock()
				delete(r.perRun, id)
				r.mu.Unlock()
			}
		}
	}
}
