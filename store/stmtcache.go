package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync"

	"modernc.org/sqlite"
)

// The SQLite driver compiles every statement again on each call with arguments: the
// prepare was 28% of a listening run's CPU and ~15% of the API's under load. So each
// connection keeps its compiled statements by SQL text and reuses them; every query of
// the store benefits without preparing anything by hand.

// maxCachedStmts bounds one connection's cache. The store has about a hundred
// statements; texts built for a number of arguments (IN lists) add a few more.
const maxCachedStmts = 256

// cachingConnector opens modernc connections wrapped in a statement cache.
type cachingConnector struct {
	dsn string
	drv *sqlite.Driver
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, errors.New("store: the sqlite driver's connection lacks a context method")
	}
	return &cachingConn{sqliteConn: inner, stmts: map[string]*cachedStmt{}}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is what modernc's connection implements and database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmt is what modernc's statement implements.
type stmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type cachedStmt struct {
	s    stmt
	busy bool // rows of it are open: a second use meanwhile takes the uncached path
}

// cachingConn is a connection with its statement cache. database/sql uses a connection
// from one goroutine at a time, but rows it returned may be closed later (from another
// goroutine, under database/sql's lock of the connection), hence the mutex.
type cachingConn struct {
	sqliteConn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

// take returns the cached statement for query, marked busy, preparing it when it is
// new; nil when it is in use or cannot be cached (the caller then runs query the plain
// way).
func (c *cachingConn) take(ctx context.Context, query string) *cachedStmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil
		}
		cs.busy = true
		return cs
	}
	if len(c.stmts) >= maxCachedStmts {
		// Full: drop an idle statement (map order is as good as any here).
		for q, cs := range c.stmts {
			if !cs.busy {
				cs.s.Close()
				delete(c.stmts, q)
				break
			}
		}
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil // the plain path reports the error
	}
	s, ok := ds.(stmt)
	if !ok {
		ds.Close()
		return nil
	}
	cs := &cachedStmt{s: s, busy: true}
	c.stmts[query] = cs
	return cs
}

func (c *cachingConn) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.busy = false
	c.mu.Unlock()
}

// ExecContext runs statements with arguments through the cache. Without arguments it
// runs them as they are: migrations and pragmas, run once, some of several statements.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	cs := c.take(ctx, query)
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	defer c.release(cs)
	return cs.s.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	cs := c.take(ctx, query)
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.s.QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, release: func() { c.release(cs) }}, nil
}

func (c *cachingConn) Close() error {
	c.mu.Lock()
	for q, cs := range c.stmts {
		cs.s.Close()
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return c.sqliteConn.Close()
}

// cachedRows frees its statement for the next use when closed. modernc's rows of a
// prepared statement reset it on Close instead of finalizing it.
type cachedRows struct {
	driver.Rows
	once    sync.Once
	release func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.release)
	return err
}
