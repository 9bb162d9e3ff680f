// Package webhookfake is a webhook receiver on a loopback httptest server that does
// what the webhook package documentation asks of receivers: it verifies the
// signature and the timestamp, and it drops repeats of a delivery id.
package webhookfake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"nexus/pipeline/deliver/delivertest"
	"nexus/pipeline/deliver/webhook"
)

// Delivery is one accepted request.
type Delivery struct {
	ID        string // X-Nexus-Delivery
	Timestamp string
	Signature string
	UserAgent string
	Body      []byte
}

// Fault is a canned response for the next request that passes verification.
type Fault struct {
	Status     int
	RetryAfter string
}

// Receiver is the fake.
type Receiver struct {
	*httptest.Server
	secret    string
	tolerance time.Duration

	mu         sync.Mutex
	accepted   []Delivery
	seen       map[string]bool
	faults     []queued
	rejected   int
	duplicates int
	down       delivertest.Outage
}

// DownUntil makes every request fail with status (503 when 0), before any check, as
// a receiver that is down does, until now reaches until; now is the test's clock,
// which may be a fake one.
func (r *Receiver) DownUntil(now func() time.Time, until time.Time, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down.Set(now, until, status)
}

// FailedDown counts the requests refused by DownUntil's outage.
func (r *Receiver) FailedDown() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down.Failed()
}

// New starts a receiver for secret (empty: accept unsigned requests), stopped when
// the test ends. It tolerates five minutes of clock skew.
func New(t testing.TB, secret string) *Receiver {
	r := &Receiver{secret: secret, tolerance: 5 * time.Minute, seen: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

type queued struct {
	after int // verified requests to let through first
	f     Fault
}

// Fail queues responses for the next verified requests.
func (r *Receiver) Fail(f ...Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range f {
		r.faults = append(r.faults, queued{f: f})
	}
}

// FailAfter queues f behind n verified requests that are let through.
func (r *Receiver) FailAfter(n int, f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, queued{after: n, f: f})
}

// Deliveries returns the accepted, distinct deliveries in arrival order.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.accepted...)
}

// Rejected counts requests refused for a bad signature or timestamp.
func (r *Receiver) Rejected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// Duplicates counts verified requests whose delivery id was already accepted.
func (r *Receiver) Duplicates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.duplicates
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if status, down := r.down.Refuse(); down {
		r.mu.Unlock()
		w.WriteHeader(status)
		return
	}
	r.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(req.Body, 8<<20))
	if err != nil || req.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	d := Delivery{
		ID:        req.Header.Get(webhook.HeaderDelivery),
		Timestamp: req.Header.Get(webhook.HeaderTimestamp),
		Signature: req.Header.Get(webhook.HeaderSignature),
		UserAgent: req.Header.Get("User-Agent"),
		Body:      body,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secret != "" {
		if err := webhook.Verify(r.secret, d.Timestamp, body, d.Signature, time.Now(), r.tolerance); err != nil {
			r.rejected++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	if len(r.faults) > 0 && r.faults[0].after > 0 {
		r.faults[0].after--
	} else if len(r.faults) > 0 {
		f := r.faults[0].f
		r.faults = r.faults[1:]
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.WriteHeader(f.Status)
		return
	}
	if d.ID != "" && r.seen[d.ID] {
		r.duplicates++
		w.WriteHeader(http.StatusOK) // already have it: success, so the sender stops
		return
	}
	r.seen[d.ID] = true
	r.accepted = append(r.accepted, d)
	w.WriteHeader(http.StatusNoContent)
}
