package store

import (
	"database/sql"
	"time"
)

// timeLayout is fixed-width UTC, so that timestamps compare correctly as text in SQL
// (`expires_at > ?`) and read well in the sqlite3 shell.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

func nullTS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func parseTS(s string) time.Time {
	t, _ := time.Parse(timeLayout, s)
	return t
}

func parseNullTS(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t := parseTS(s.String)
	return &t
}

// rowScanner is what *sql.Row and *sql.Rows have in common, so one scan helper per row
// type serves both.
type rowScanner interface {
	Scan(dest ...any) error
}
