package store

import (
	"context"
	"fmt"
	"time"
)

// StatusCounts are the rows /metrics reports, counted by status across every
// organization (the metrics are the process's). Each map holds only the values that
// have rows; the caller fills in zeros for the values it always reports.
type StatusCounts struct {
	Runs          map[string]int // by runs.status
	Deliveries    map[string]int // by deliveries.state
	Opportunities map[string]int // by opportunities.status
	// Accounts are X sessions as "active", "cooling_down" (resting after bare 403s until
	// cooldown_until) or "inactive" (banned, logged out or set aside).
	Accounts map[string]int
	// OperationLocks has every operation any session has used, with the number of
	// sessions rate-limited on it at now (zero included).
	OperationLocks map[string]int
}

// StatusCounts counts each table with one GROUP BY. (Not in one transaction: the read
// pool's connections refuse BEGIN, and a scrape can live with counts a moment apart.)
func (s *Store) StatusCounts(ctx context.Context, now time.Time) (StatusCounts, error) {
	c := StatusCounts{Runs: map[string]int{}, Deliveries: map[string]int{}, Opportunities: map[string]int{},
		Accounts: map[string]int{}, OperationLocks: map[string]int{}}
	at := ts(now)
	queries := []struct {
		into map[string]int
		sql  string
		args []any
	}{
		{c.Runs, `SELECT status, COUNT(*) FROM runs GROUP BY status`, nil},
		{c.Deliveries, `SELECT state, COUNT(*) FROM deliveries GROUP BY state`, nil},
		{c.Opportunities, `SELECT status, COUNT(*) FROM opportunities GROUP BY status`, nil},
		{c.Accounts, `SELECT CASE WHEN active = 0 THEN 'inactive' WHEN cooldown_until > ? THEN 'cooling_down' ELSE 'active' END,
			COUNT(*) FROM x_accounts GROUP BY 1`, []any{at}},
		{c.OperationLocks, `SELECT operation, COALESCE(SUM(locked_until > ?), 0) FROM x_account_ops GROUP BY operation`, []any{at}},
	}
	for _, q := range queries {
		rows, err := s.ro.QueryContext(ctx, q.sql, q.args...)
		if err != nil {
			return c, fmt.Errorf("store: count statuses: %w", err)
		}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return c, fmt.Errorf("store: count statuses: %w", err)
			}
			q.into[k] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return c, fmt.Errorf("store: count statuses: %w", err)
		}
	}
	return c, nil
}
