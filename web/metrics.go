package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"nexus/store"
)

// Metrics holds the process's Prometheus collectors in a registry of its own (never
// the global default one): HTTP latency observed by the server, gauges read from the
// store at scrape time, and counters fed by hooks the app hands to the X client and the
// analyzer. One Metrics is shared by everything in a process; its methods are safe for
// concurrent use, and a nil *Metrics ignores every hook, so callers need no nil checks.
type Metrics struct {
	reg       *prometheus.Registry
	http      *prometheus.HistogramVec
	xRequests *prometheus.CounterVec
	llmTokens *prometheus.CounterVec
}

// NewMetrics builds the registry. st may be nil (no store gauges), for processes and
// tests without a database.
func NewMetrics(st *store.Store) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nexus_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route pattern and status class.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		xRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nexus_x_requests_total",
			Help: "Requests sent to X, by GraphQL operation, HTTP status (0: no answer) and the action the classifier chose.",
		}, []string{"operation", "status", "action"}),
		llmTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nexus_llm_tokens_total",
			Help: "Tokens spent on analyses, by provider, model and kind (prompt or response).",
		}, []string{"provider", "model", "kind"}),
	}
	m.reg.MustRegister(m.http, m.xRequests, m.llmTokens,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.reg.MustRegister(newStoreCollector(st))
	}
	return m
}

// Handler serves the metrics in the Prometheus text format, without authentication:
// the server mounts it behind an admin token at /metrics, and the app may serve it on
// a separate, private listener (server.metrics_addr). A store read that fails leaves
// its family out of the scrape instead of failing the whole scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registerer lets other parts of the process add collectors of their own.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// XRequest counts one answer (or transport failure, status 0) from X; it is meant to be
// called by the X client after it classified the response.
func (m *Metrics) XRequest(operation string, status int, action string) {
	if m == nil {
		return
	}
	m.xRequests.WithLabelValues(operation, strconv.Itoa(status), action).Inc()
}

// LLMTokens counts the tokens of one analysis, successful or not.
func (m *Metrics) LLMTokens(provider, model string, prompt, response int) {
	if m == nil {
		return
	}
	if prompt > 0 {
		m.llmTokens.WithLabelValues(provider, model, "prompt").Add(float64(prompt))
	}
	if response > 0 {
		m.llmTokens.WithLabelValues(provider, model, "response").Add(float64(response))
	}
}

// observe is pre-middleware, so that it times everything the server does for a
// request (rejections by the body limit and authentication included). It hands an
// error to the server's error handler itself, because only the handler knows the
// status an error becomes (a store.ErrNotFound is a 404). It labels by the route
// pattern that matched (c.Path() once routing has run), never by the raw URL, which
// would let any client create series at will; for the same reason unknown methods
// share one label.
func (m *Metrics) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		finished := false
		defer func() {
			if !finished { // a panic that nothing recovered: net/http answers 500 or drops the connection
				m.http.WithLabelValues(methodLabel(c.Request().Method), routeLabel(c.Path()), "5xx").Observe(time.Since(start).Seconds())
			}
		}()
		if err := next(c); err != nil {
			c.Echo().HTTPErrorHandler(c, err)
		}
		finished = true
		_, status := echo.ResolveResponseStatus(c.Response(), nil)
		m.http.WithLabelValues(methodLabel(c.Request().Method), routeLabel(c.Path()), statusClass(status)).
			Observe(time.Since(start).Seconds())
		return nil
	}
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

func routeLabel(p string) string {
	if p == "" {
		return "unmatched"
	}
	return p
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "5xx"
	}
	return strconv.Itoa(status/100) + "xx"
}

// storeCollector reads its gauges from the database at scrape time, so they are right
// whichever process changed the rows.
type storeCollector struct {
	st            *store.Store
	runs          *prometheus.Desc
	jobs          *prometheus.Desc
	accounts      *prometheus.Desc
	opLocks       *prometheus.Desc
	deliveries    *prometheus.Desc
	opportunities *prometheus.Desc
}

func newStoreCollector(st *store.Store) *storeCollector {
	return &storeCollector{
		st: st,
		runs: prometheus.NewDesc("nexus_runs", "Listening runs by status.",
			[]string{"status"}, nil),
		jobs: prometheus.NewDesc("nexus_jobs", "Jobs in the job table by state.",
			[]string{"state"}, nil),
		accounts: prometheus.NewDesc("nexus_x_accounts", "X sessions by state: active, cooling_down (resting after a bare 403) or inactive (banned, logged out, or set aside).",
			[]string{"state"}, nil),
		opLocks: prometheus.NewDesc("nexus_x_account_operation_locks", "X sessions rate-limited on a GraphQL operation right now.",
			[]string{"operation"}, nil),
		deliveries: prometheus.NewDesc("nexus_deliveries", "Opportunity deliveries by state.",
			[]string{"state"}, nil),
		opportunities: prometheus.NewDesc("nexus_opportunities", "Opportunities by status; their sum is the total.",
			[]string{"status"}, nil),
	}
}

func (sc *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sc.runs, sc.jobs, sc.accounts, sc.opLocks, sc.deliveries, sc.opportunities} {
		ch <- d
	}
}

// scrapeTimeout bounds the store reads of one scrape: a locked database answers with
// fewer families, not a hung scraper.
const scrapeTimeout = 5 * time.Second

// Every status is reported, zero included, so that a series does not vanish when its
// last row changes state.
var (
	runStatuses         = []string{store.RunQueued, store.RunRunning, store.RunSucceeded, store.RunFailed, store.RunCancelled}
	jobStates           = []string{store.JobQueued, store.JobRunning, store.JobDone, store.JobFailed, store.JobDead}
	deliveryStates      = []string{"pending", "sent", "failed"}
	opportunityStatuses = []string{"new", "done", "dismissed"}
	accountStates       = []string{"active", "cooling_down", "inactive"}
)

func (sc *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if jobs, err := sc.st.JobCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(sc.jobs, err)
	} else {
		for _, state := range jobStates {
			ch <- prometheus.MustNewConstMetric(sc.jobs, prometheus.GaugeValue, float64(jobs[state]), state)
		}
	}
	c, err := sc.st.StatusCounts(ctx, time.Now())
	if err != nil {
		for _, d := range []*prometheus.Desc{sc.runs, sc.deliveries, sc.opportunities, sc.accounts, sc.opLocks} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	gauges := func(d *prometheus.Desc, counts map[string]int, values []string) {
		for _, v := range values {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(counts[v]), v)
		}
	}
	gauges(sc.runs, c.Runs, runStatuses)
	gauges(sc.deliveries, c.Deliveries, deliveryStates)
	gauges(sc.opportunities, c.Opportunities, opportunityStatuses)
	gauges(sc.accounts, c.Accounts, accountStates)
	for op, n := range c.OperationLocks {
		ch <- prometheus.MustNewConstMetric(sc.opLocks, prometheus.GaugeValue, float64(n), op)
	}
}
