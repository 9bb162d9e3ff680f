package heuristic

import "testing"

func TestNegatedCue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, cue string
		want      bool
	}{
		{" not looking for a new crm ", "looking for", true},
		{" looking for a crm ", "looking for", false},
		{" i'm not looking for one but my friend is looking for a crm ", "looking for", false},
		{" never tried notion ", "tried", true},
		{" no cue here ", "looking for", false},
	}
	for _, tt := range tests {
		if got := negatedCue(tt.text, tt.cue); got != tt.want {
			t.Errorf("negatedCue(%q, %q) = %v, want %v", tt.text, tt.cue, got, tt.want)
		}
	}
}

func TestStripURLs(t *testing.T) {
	t.Parallel()
	if got := stripURLs("read https://example.com/crm-guide now"); got != "read   now" {
		t.Fatalf("got %q", got)
	}
}
