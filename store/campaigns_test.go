package store

import (
	"testing"
	"time"
)

func TestQuietHours(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(h, m int) time.Time { return time.Date(2026, 11, 26, h, m, 0, 0, paris) }
	night := &QuietHours{Start: "22:00", End: "07:00", TZ: "Europe/Paris"}
	lunch := &QuietHours{Start: "12:00", End: "14:00", TZ: "Europe/Paris"}
	tests := []struct {
		name  string
		q     *QuietHours
		now   time.Time
		quiet bool
		until time.Time
	}{
		{"none", nil, at(23, 0), false, time.Time{}},
		{"before midnight", night, at(23, 30), true, time.Date(2026, 11, 27, 7, 0, 0, 0, paris)},
		{"after midnight", night, at(3, 0), true, at(7, 0)},
		{"day", night, at(9, 0), false, time.Time{}},
		{"at the end", night, at(7, 0), false, time.Time{}},
		{"at the start", night, at(22, 0), true, time.Date(2026, 11, 27, 7, 0, 0, 0, paris)},
		{"lunch", lunch, at(12, 30), true, at(14, 0)},
		{"after lunch", lunch, at(14, 1), false, time.Time{}},
		{"in UTC terms", night, time.Date(2026, 11, 26, 22, 30, 0, 0, time.UTC), true, time.Date(2026, 11, 27, 7, 0, 0, 0, paris)},
	}
	for _, tt := range tests {
		until, quiet := tt.q.Until(tt.now)
		if quiet != tt.quiet || (quiet && !until.Equal(tt.until)) {
			t.Errorf("%s: quiet %v until %v, want %v until %v", tt.name, quiet, until, tt.quiet, tt.until)
		}
	}
}
