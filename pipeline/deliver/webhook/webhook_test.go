package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"nexus/pipeline/deliver"
	"nexus/pipeline/deliver/delivertest"
	"nexus/pipeline/deliver/webhook"
	"nexus/pipeline/deliver/webhook/webhookfake"
)

const secret = "s3cret-shared-with-the-receiver"

// loopback is a client for fakes on 127.0.0.1; the tests that check the guard use nil.
var loopback = &http.Client{Timeout: 5 * time.Second}

type payload struct {
	Event         string                `json:"event"`
	DeliveryID    string                `json:"delivery_id"`
	Test          bool                  `json:"test"`
	Opportunities []deliver.Opportunity `json:"opportunities"`
}

func decode(t *testing.T, b []byte) payload {
	t.Helper()
	var p payload
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return p
}

func TestSignedDelivery(t *testing.T) {
	t.Parallel()
	rcv := webhookfake.New(t, secret)
	c := webhook.New(webhook.Config{URL: rcv.URL + "/hook", Secret: secret, AllowPrivate: true}, loopback)
	m := deliver.Message{Opportunities: delivertest.Opportunities("Acme", 1), IdempotencyKey: "del-42"}
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	ds := rcv.Deliveries()
	if len(ds) != 1 || rcv.Rejected() != 0 {
		t.Fatalf("deliveries %d, rejected %d", len(ds), rcv.Rejected())
	}
	d := ds[0]
	if d.ID != "del-42" || d.UserAgent != "Nexus-Webhook/1" || !strings.HasPrefix(d.Signature, "sha256=") {
		t.Errorf("headers: %+v", d)
	}
	p := decode(t, d.Body)
	if p.Event != "opportunity" || p.DeliveryID != "del-42" || len(p.Opportunities) != 1 {
		t.Fatalf("payload %+v", p)
	}
	o := p.Opportunities[0]
	if o.ID != "opp-0000" || o.Hit.Username != "user0" || o.Root.ID == "" || o.Reason == "" || len(o.SuggestedReplies) != 2 {
		t.Errorf("opportunity %+v", o)
	}
	if !strings.Contains(string(d.Body), `"opportunity_reason"`) {
		t.Errorf("body lacks opportunity_reason: %s", d.Body)
	}
}

func TestInstantAndDigestShapes(t *testing.T) {
	t.Parallel()
	rcv := webhookfake.New(t, secret)
	c := webhook.New(webhook.Config{URL: rcv.URL, Secret: secret, AllowPrivate: true}, loopback)
	opps := delivertest.Opportunities("Acme", 3)
	ctx := context.Background()
	if err := c.Send(ctx, deliver.Message{Opportunities: opps, IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, deliver.Message{Opportunities: opps, Digest: true, IdempotencyKey: "dg"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, deliver.Message{Test: true, IdempotencyKey: "t"}); err != nil {
		t.Fatal(err)
	}
	ds := rcv.Deliveries()
	var ids, events []string
	for _, d := range ds {
		p := decode(t, d.Body)
		ids = append(ids, d.ID)
		events = append(events, fmt.Sprintf("%s:%d", p.Event, len(p.Opportunities)))
	}
	wantIDs := "k/opp-0000 k/opp-0001 k/opp-0002 dg t"
	wantEvents := "opportunity:1 opportunity:1 opportunity:1 digest:3 test:0"
	if strings.Join(ids, " ") != wantIDs || strings.Join(events, " ") != wantEvents {
		t.Fatalf("ids %v events %v", ids, events)
	}
}

// TestRetryIsDeduplicated: a 503 in the middle fails the send; the runner's retry
// posts the whole message again and the receiver keeps each delivery once.
func TestRetryIsDeduplicated(t *testing.T) {
	t.Parallel()
	rcv := webhookfake.New(t, secret)
	c := webhook.New(webhook.Config{URL: rcv.URL, Secret: secret, AllowPrivate: true}, loopback)
	m := deliver.Message{Opportunities: delivertest.Opportunities("Acme", 3), IdempotencyKey: "k"}
	ctx := context.Background()
	if err := c.Send(ctx, deliver.Message{}); err != nil { // nothing to send
		t.Fatal(err)
	}
	rcv.FailAfter(1, webhookfake.Fault{Status: 503, RetryAfter: "3"})
	err := c.Send(ctx, m)
	if after, ok := deliver.RetryAfter(err); !ok || after != 3*time.Second {
		t.Fatalf("err = %v, want RetryError after 3s", err)
	}
	if err := c.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.Deliveries()); n != 3 {
		t.Fatalf("%d distinct deliveries, want 3", n)
	}
	if rcv.Duplicates() != 1 {
		t.Fatalf("duplicates %d, want 1 (the first request, re-sent)", rcv.Duplicates())
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_767_225_600, 0)
	body := []byte(`{"event":"opportunity"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := webhook.Sign(secret, ts, body)
	tests := []struct {
		name   string
		secret string
		ts     string
		body   []byte
		sig    string
		now    time.Time
		want   error
	}{
		{"valid", secret, ts, body, good, now, nil},
		{"valid within skew", secret, ts, body, good, now.Add(4 * time.Minute), nil},
		{"wrong secret", "other", ts, body, good, now, webhook.ErrBadSignature},
		{"body changed", secret, ts, []byte(`{"event":"digest"}`), good, now, webhook.ErrBadSignature},
		{"timestamp changed", secret, strconv.FormatInt(now.Unix()+1, 10), body, good, now, webhook.ErrBadSignature},
		{"no prefix", secret, ts, body, strings.TrimPrefix(good, "sha256="), now, webhook.ErrBadSignature},
		{"empty signature", secret, ts, body, "", now, webhook.ErrBadSignature},
		{"replayed later", secret, ts, body, good, now.Add(10 * time.Minute), webhook.ErrStale},
		{"from the future", secret, ts, body, good, now.Add(-10 * time.Minute), webhook.ErrStale},
		{"garbage timestamp", secret, "yesterday", body, good, now, webhook.ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.Verify(tt.secret, tt.ts, tt.body, tt.sig, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestReplayRejected captures a real signed request and replays it: after the
// tolerance the receiver refuses it; inside it, the delivery id makes it a no-op.
func TestReplayRejected(t *testing.T) {
	t.Parallel()
	rcv := webhookfake.New(t, secret)
	c := webhook.New(webhook.Config{URL: rcv.URL, Secret: secret, AllowPrivate: true}, loopback)
	if err := c.Send(context.Background(), deliver.Message{Opportunities: delivertest.Opportunities("c", 1), IdempotencyKey: "once"}); err != nil {
		t.Fatal(err)
	}
	d := rcv.Deliveries()[0]
	ts, _ := strconv.ParseInt(d.Timestamp, 10, 64)
	later := time.Unix(ts, 0).Add(6 * time.Minute)
	if err := webhook.Verify(secret, d.Timestamp, d.Body, d.Signature, later, 5*time.Minute); !errors.Is(err, webhook.ErrStale) {
		t.Fatalf("replay after tolerance: %v, want ErrStale", err)
	}
	// Replay now, byte for byte: accepted by the signature check, dropped as a repeat.
	req, _ := http.NewRequest(http.MethodPost, rcv.URL, bytes.NewReader(d.Body))
	req.Header.Set(webhook.HeaderTimestamp, d.Timestamp)
	req.Header.Set(webhook.HeaderSignature, d.Signature)
	req.Header.Set(webhook.HeaderDelivery, d.ID)
	resp, err := loopback.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if rcv.Duplicates() != 1 || len(rcv.Deliveries()) != 1 {
		t.Fatalf("duplicates %d deliveries %d", rcv.Duplicates(), len(rcv.Deliveries()))
	}
	// A forged body under the same headers is refused.
	req, _ = http.NewRequest(http.MethodPost, rcv.URL, strings.NewReader(`{"event":"forged"}`))
	req.Header.Set(webhook.HeaderTimestamp, d.Timestamp)
	req.Header.Set(webhook.HeaderSignature, d.Signature)
	resp, err = loopback.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || rcv.Rejected() != 1 {
		t.Fatalf("forged: status %d rejected %d", resp.StatusCode, rcv.Rejected())
	}
}

func TestSSRFRefused(t *testing.T) {
	t.Parallel()
	rcv := webhookfake.New(t, secret)
	localhost := strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1)
	tests := []struct {
		name string
		url  string
		hc   *http.Client
	}{
		{"literal, default client", rcv.URL, nil},
		{"localhost, default client", localhost, nil},
		{"literal, client without transport", rcv.URL, &http.Client{Timeout: time.Second}},
		{"metadata address", "http://169.254.169.254/latest/meta-data", nil},
		{"file scheme", "file:///etc/passwd", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := webhook.New(webhook.Config{URL: tt.url, Secret: secret}, tt.hc)
			err := c.Send(context.Background(), deliver.Message{Opportunities: delivertest.Opportunities("c", 1)})
			if !deliver.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent refusal", err)
			}
		})
	}
	if n := len(rcv.Deliveries()) + rcv.Rejected(); n != 0 {
		t.Fatalf("receiver reached %d times", n)
	}
	// The same URL with AllowPrivate and the default client goes through.
	c := webhook.New(webhook.Config{URL: localhost, Secret: secret, AllowPrivate: true}, nil)
	if err := c.Send(context.Background(), deliver.Message{Opportunities: delivertest.Opportunities("c", 1)}); err != nil {
		t.Fatalf("AllowPrivate: %v", err)
	}
}

// TestDialGuardCatchesWhatCheckMisses: CheckTarget passes for a public literal, but
// the dialer still refuses when the connection would go to loopback. A transport
// that rewrites the destination stands in for DNS rebinding.
func TestDialGuardCatchesWhatCheckMisses(t *testing.T) {
	t.Parallel()
	rcv := webhookfake.New(t, secret)
	safe := deliver.SafeTransport(false)
	rebind := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Host = strings.TrimPrefix(rcv.URL, "http://")
		return safe.RoundTrip(r)
	})
	c := webhook.New(webhook.Config{URL: "http://8.8.8.8/hook", Secret: secret}, &http.Client{Transport: rebind})
	err := c.Send(context.Background(), deliver.Message{Opportunities: delivertest.Opportunities("c", 1)})
	if !errors.Is(err, deliver.ErrForbiddenTarget) || !deliver.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent ErrForbiddenTarget", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestStatusClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     int
		retryAfter string
		ok         bool
		permanent  bool
		after      time.Duration
	}{
		{status: 200, ok: true},
		{status: 201, ok: true},
		{status: 204, ok: true},
		{status: 301, permanent: true}, // redirects are not followed
		{status: 307, permanent: true},
		{status: 400, permanent: true},
		{status: 401, permanent: true},
		{status: 403, permanent: true},
		{status: 404, permanent: true},
		{status: 410, permanent: true},
		{status: 422, permanent: true},
		{status: 408},
		{status: 429, retryAfter: "17", after: 17 * time.Second},
		{status: 429},
		{status: 500},
		{status: 502},
		{status: 503, retryAfter: "60", after: time.Minute},
		{status: 504},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+tt.retryAfter, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				if tt.status/100 == 3 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, "receiver says hi")
			}))
			t.Cleanup(srv.Close)
			c := webhook.New(webhook.Config{URL: srv.URL, AllowPrivate: true}, loopback)
			err := c.Send(context.Background(), deliver.Message{Opportunities: delivertest.Opportunities("c", 1), IdempotencyKey: "x"})
			if tt.ok {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if !strings.Contains(err.Error(), "receiver says hi") || !strings.HasPrefix(err.Error(), "webhook: ") {
				t.Errorf("error %q should start with webhook: and quote the body", err)
			}
			if got := deliver.IsPermanent(err); got != tt.permanent {
				t.Fatalf("IsPermanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			after, retry := deliver.RetryAfter(err)
			if retry == tt.permanent || after != tt.after {
				t.Fatalf("RetryAfter = %s, %v; want %s (%v)", after, retry, tt.after, err)
			}
		})
	}
}

func TestTransportErrorsRetry(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	for name, tc := range map[string]struct {
		url string
		hc  *http.Client
	}{
		"timeout": {slow.URL, &http.Client{Timeout: 100 * time.Millisecond}},
		"refused": {closedURL, loopback},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := webhook.New(webhook.Config{URL: tc.url + "/t?token=SECRET", AllowPrivate: true}, tc.hc)
			err := c.Send(context.Background(), deliver.Message{Opportunities: delivertest.Opportunities("c", 1)})
			if _, ok := deliver.RetryAfter(err); !ok {
				t.Fatalf("err = %v, want RetryError", err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks the URL: %v", err)
			}
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	t.Parallel()
	c := webhook.New(webhook.Config{URL: "https://8.8.8.8/x", Format: "xml"}, loopback)
	if err := c.Send(context.Background(), deliver.Message{Opportunities: delivertest.Opportunities("c", 1)}); !deliver.IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestUnsignedWithoutSecret(t *testing.T) {
	t.Parallel()
	rcv := webhookfake.New(t, "")
	c := webhook.New(webhook.Config{URL: rcv.URL, AllowPrivate: true}, loopback)
	if err := c.Send(context.Background(), deliver.Message{Opportunities: delivertest.Opportunities("c", 1)}); err != nil {
		t.Fatal(err)
	}
	if d := rcv.Deliveries(); len(d) != 1 || d[0].Signature != "" || d[0].Timestamp == "" {
		t.Fatalf("deliveries %+v", d)
	}
}
