package web

import (
	"strings"
	"testing"

	"nexus/store"
)

// TestExplainRun: each kind of run error gets the advice that cures it; in particular a
// run that waited for rate-limited accounts in vain is not told to reactivate one.
func TestExplainRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status, err string
		want        string // a substring of the explanation; "" for none
	}{
		{store.RunSucceeded, "", ""},
		{store.RunRunning, "", ""},
		{store.RunCancelled, "", "cancelled"},
		{store.RunFailed, "no usable X account for 30m0s (runs.account_wait): run 3: thread 17: every X account is busy or rate-limited for TweetDetail until 2026-11-26T10:00:00Z",
			"run this campaign less often"},
		{store.RunFailed, "no usable X account: run 3: search: no active X account for SearchTimeline; add one or reactivate one", "reactivate one"},
		{store.RunFailed, "search failed: SearchTimeline: account suspended", "X refused the accounts"},
		{store.RunFailed, "search failed: SearchTimeline: unexpected answer", "The search on X failed"},
		{store.RunFailed, "", "stopped with an error"},
		{store.RunRunning, "no usable X account: run 3: thread 9: no active X account for TweetDetail; add one or reactivate one",
			"then ends failed. No X account could search"},
	}
	for _, tt := range tests {
		got := explainRun(store.Run{Status: tt.status, Error: tt.err})
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s %q:\n got %q\nwant %q", tt.status, tt.err, got, tt.want)
		}
	}
}
