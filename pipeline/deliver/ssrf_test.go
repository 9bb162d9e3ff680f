package deliver

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestBlocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"100.128.0.1", false},
		{"0.0.0.0", true},
		{"224.0.0.1", true},
		{"255.255.255.255", true},
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"::", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:8.8.8.8", false},
		{"::127.0.0.1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fc00::1", true},
		{"fd12:3456:789a::1", true},
		{"ff02::1", true},
		{"64:ff9b::7f00:1", true},   // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
		{"2002:c0a8:101::1", true},  // 6to4 of 192.168.1.1
		{"2001:4860:4860::8888", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			ip := netip.MustParseAddr(tt.addr)
			if got := blocked(ip); got != tt.blocked {
				t.Errorf("blocked(%s) = %v, want %v", tt.addr, got, tt.blocked)
			}
		})
	}
}

func TestCheckTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		url          string
		allowPrivate bool
		forbidden    bool // ErrForbiddenTarget
		wantErr      bool
	}{
		{"public literal", "https://8.8.8.8/hook", false, false, false},
		{"public v6 literal", "https://[2001:4860:4860::8888]/hook", false, false, false},
		{"loopback literal", "http://127.0.0.1:8080/hook", false, true, true},
		{"loopback allowed", "http://127.0.0.1:8080/hook", true, false, false},
		{"metadata", "http://169.254.169.254/latest/meta-data/", false, true, true},
		{"private", "https://10.0.0.5/x", false, true, true},
		{"cgnat", "https://100.100.100.100/x", false, true, true},
		{"v6 loopback", "http://[::1]/x", false, true, true},
		{"v6 ula", "http://[fd00::1]/x", false, true, true},
		{"v4 mapped", "http://[::ffff:7f00:1]/x", false, true, true},
		{"localhost name", "http://localhost:9/x", false, true, true},
		{"localhost allowed", "http://localhost:9/x", true, false, false},
		{"scheme ftp", "ftp://8.8.8.8/x", false, false, true},
		{"scheme file", "file:///etc/passwd", true, false, true},
		{"scheme gopher", "gopher://8.8.8.8/x", false, false, true},
		{"no host", "https:///path", false, false, true},
		{"garbage", "://", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckTarget(tt.url, tt.allowPrivate)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckTarget(%q) = %v, want error %v", tt.url, err, tt.wantErr)
			}
			if got := errors.Is(err, ErrForbiddenTarget); got != tt.forbidden {
				t.Errorf("errors.Is(ErrForbiddenTarget) = %v, want %v (%v)", got, tt.forbidden, err)
			}
			if err != nil && !IsPermanent(err) {
				t.Errorf("error %v is not permanent", err)
			}
		})
	}
}

func TestCheckTargetHidesSecrets(t *testing.T) {
	t.Parallel()
	err := CheckTarget("http://127.0.0.1/services/T000/B000/SECRETPATH?token=SECRET", false)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error %v must exist and not contain the path or query", err)
	}
}

// TestSafeTransportDialer shows the dialer, not only CheckTarget, refuses a name that
// resolves to loopback: that is what stops DNS rebinding.
func TestSafeTransportDialer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	target := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	tests := []struct {
		name         string
		url          string
		allowPrivate bool
		wantErr      bool
	}{
		{"localhost refused", target, false, true},
		{"literal refused", srv.URL, false, true},
		{"localhost allowed", target, true, false},
		{"literal allowed", srv.URL, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := SafeTransport(tt.allowPrivate)
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			resp, err := hc.Get(tt.url)
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatal("request succeeded, want refusal")
				}
				if !errors.Is(err, ErrForbiddenTarget) {
					t.Fatalf("err = %v, want ErrForbiddenTarget", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
}

// TestSafeTransportRedirect: a public-looking first hop cannot bounce the request to
// loopback, because every dial is checked.
func TestSafeTransportRedirect(t *testing.T) {
	t.Parallel()
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "secret")
	}))
	defer inner.Close()
	// A transport that lets the first hop through (as if it were public) and then
	// delegates to the guarded one for the redirect target.
	guarded := SafeTransport(false)
	first := true
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if first {
			first = false
			return &http.Response{StatusCode: http.StatusFound, Header: http.Header{"Location": {inner.URL}},
				Body: http.NoBody, Request: r}, nil
		}
		return guarded.RoundTrip(r)
	})
	_, err := (&http.Client{Transport: rt}).Get("http://public.example/")
	if !errors.Is(err, ErrForbiddenTarget) {
		t.Fatalf("err = %v, want ErrForbiddenTarget", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
