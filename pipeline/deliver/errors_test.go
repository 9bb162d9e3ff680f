package deliver

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestClassifyStatus(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		retryAfter string
		permanent  bool
		after      time.Duration
	}{
		{400, "", true, 0},
		{401, "", true, 0},
		{403, "", true, 0},
		{404, "", true, 0},
		{410, "", true, 0},
		{413, "", true, 0},
		{408, "", false, 0},
		{429, "7", false, 7 * time.Second},
		{429, "Fri, 01 May 2026 12:00:30 GMT", false, 30 * time.Second},
		{429, "garbage", false, 0},
		{500, "", false, 0},
		{502, "", false, 0},
		{503, "120", false, 2 * time.Minute},
		{503, "999999999", false, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.retryAfter), func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.retryAfter != "" {
				h.Set("Retry-After", tt.retryAfter)
			}
			err := fmt.Errorf("svc: post: %w", ClassifyStatus(tt.status, h, now, errors.New("boom")))
			if got := IsPermanent(err); got != tt.permanent {
				t.Fatalf("IsPermanent = %v, want %v", got, tt.permanent)
			}
			after, ok := RetryAfter(err)
			if ok == tt.permanent {
				t.Fatalf("RetryAfter ok = %v with permanent %v", ok, tt.permanent)
			}
			if after != tt.after {
				t.Errorf("after = %s, want %s", after, tt.after)
			}
		})
	}
}

func TestWrapNil(t *testing.T) {
	t.Parallel()
	if Permanent(nil) != nil || Retry(time.Second, nil) != nil {
		t.Fatal("wrapping nil must stay nil")
	}
}
