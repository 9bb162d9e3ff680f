package scraper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// FeaturesError says X wants feature flags the client does not send (error 336). The
// request is wrong, not the account: the features table needs the flags named.
type FeaturesError struct {
	Operation string
	Features  []string // the flags X named; empty when its message had none
	Reason    string   // X's message, clipped
}

// Error names the operation and the flags.
func (e *FeaturesError) Error() string {
	if len(e.Features) == 0 {
		return fmt.Sprintf("%s: X wants feature flags the client does not send: %s", e.Operation, e.Reason)
	}
	return fmt.Sprintf("%s: X wants feature flags the client does not send: %s", e.Operation, strings.Join(e.Features, ", "))
}

// StaleOperationError says X answers an operation with an empty 404 over both methods,
// also after the operation's id was re-discovered and the transaction-id generator
// rebuilt: the id is stale, or X refuses the transaction ids.
type StaleOperationError struct {
	Operation string
	ID        string
	// FallbackTxID: the transaction ids were fallback ones, because X's web page could
	// not be read; X likely refuses them.
	FallbackTxID bool
}

// Error names the operation and its id, and says what to do.
func (e *StaleOperationError) Error() string {
	s := fmt.Sprintf("%s: X answers an empty 404 to operation id %s over GET and POST, also after re-discovery: "+
		"the id is stale or X refuses the x-client-transaction-id", e.Operation, e.ID)
	if e.FallbackTxID {
		s += " (fallback ids: X's web page could not be read)"
	}
	return s + "; set the operation's current id in the config"
}

// staleState is the recovery from empty 404s during one fetch: the other method, then
// a rebuilt transaction-id generator and re-discovered ids with both methods again.
type staleState struct {
	otherTried   bool
	method       string // used instead of the table's method; "" for none
	recovered    bool
	fallbackTx   bool // the rebuilt transaction-id generator is a fallback
	tableChanges int  // retries because another fetch changed the table meanwhile
}

// fetch gets one page of cl with the lease's account. It classifies each answer and
// acts on it (research §1.6): rotating the account on a rate limit, a ban or a bare
// 403; retrying transient failures with backoff; recovering from empty 404s. It
// returns the parsed page, or the error that ends the operation.
func (c *Client) fetch(ctx context.Context, l *lease, cl call) (Page, error) {
	var (
		tries int // transient failures of the current account
		spent int // accounts whose retries this page used up
		stale staleState
	)
	for {
		if err := l.ensure(ctx); err != nil {
			return Page{}, err
		}
		op, err := c.operation(cl.op)
		if err != nil {
			return Page{}, err
		}
		if stale.method != "" {
			op.Method = stale.method
		}
		if l.acct.Cookies.AuthToken() == "" || l.acct.Cookies.CSRF() == "" {
			// X would answer 401 or 403; say what is wrong instead.
			v := Verdict{Action: ActionAuthFailed, Reason: "missing auth_token or ct0 cookie"}
			l.drop(ctx, Outcome{Deactivate: true, LastError: v.Reason}, v)
			continue
		}
		start := time.Now()
		ex, err := c.send(ctx, l.acct, op, cl)
		if err != nil {
			c.observe(cl.op, 0, "error")
		}
		if errors.Is(err, errProxy) {
			v := Verdict{Action: ActionBan, Reason: clipReason(err.Error())}
			l.failed()
			l.drop(ctx, Outcome{Deactivate: true, LastError: v.Reason}, v)
			continue
		}
		if err != nil {
			return Page{}, fmt.Errorf("%s: %w", cl.op, err)
		}
		v := Classify(c.now(), ex.status, ex.header, ex.body, ex.err, l.acct.Bare403s)
		var page Page
		var perr error
		if v.Action == ActionOK || v.Action == ActionOKThenLock {
			page, perr = ParseTimeline(ex.body)
			var gqlErrs GraphQLErrors
			if perr != nil && !errors.As(perr, &gqlErrs) {
				// A success status with a body the parser cannot read: cut or garbled.
				v = Verdict{Action: ActionTransient, Until: c.now().Add(TransientCooldown),
					Reason: clipReason("malformed response: " + perr.Error()), Remaining: v.Remaining}
			}
		}
		c.log.Debug().Str("operation", cl.op).Str("method", op.Method).Str("account", l.acct.Name).
			Int("status", ex.status).Str("action", v.Action.String()).Str("reason", v.Reason).
			Int("remaining", v.Remaining).Dur("took", time.Since(start)).Msg("X request")
		c.observe(cl.op, ex.status, v.Action.String())

		switch v.Action {
		case ActionOK, ActionOKThenLock:
			l.succeeded()
			if stale.method != "" {
				c.setOperation(op)
				c.log.Info().Str("operation", op.Name).Str("method", op.Method).Msg("X answers this operation over the other method now")
			}
			if v.Action == ActionOKThenLock {
				// The page that spent the quota is good: keep it, and let the account rest.
				l.drop(ctx, Outcome{LockedUntil: v.Until}, v)
			}
			return page, perr
		case ActionLock:
			l.failed()
			l.drop(ctx, Outcome{LockedUntil: v.Until, LastError: v.Reason}, v)
			tries = 0
		case ActionBan, ActionAuthFailed:
			l.failed()
			l.drop(ctx, Outcome{Deactivate: true, LastError: v.Reason}, v)
			tries = 0
		case ActionCooldown:
			l.failed()
			l.drop(ctx, Outcome{CooldownUntil: v.Until, Bare403: true, LastError: v.Reason}, v)
			tries = 0
		case ActionTransient:
			l.failed()
			tries++
			if tries <= c.maxRetries {
				d := c.backoff(tries)
				c.log.Debug().Str("operation", cl.op).Str("account", l.acct.Name).Str("reason", v.Reason).
					Dur("backoff", d).Int("retry", tries).Msg("X request failed; retrying")
				if err := c.sleep(ctx, d); err != nil {
					return Page{}, err
				}
				continue
			}
			l.drop(ctx, Outcome{LockedUntil: v.Until, LastError: v.Reason}, v)
			tries = 0
			if spent++; spent >= maxTransientAccounts {
				return Page{}, fmt.Errorf("%s: X keeps failing with %d accounts: %s", cl.op, spent, v.Reason)
			}
		case ActionFeaturesDrift:
			l.out.Requests++
			return Page{}, &FeaturesError{Operation: cl.op, Features: v.StaleFeatures, Reason: v.Reason}
		case ActionStaleOperation:
			l.out.Requests++
			if err := c.recoverStale(ctx, l, op, &stale); err != nil {
				return Page{}, err
			}
		default: // ActionFailed
			l.failed()
			if ex.err != nil {
				return Page{}, fmt.Errorf("%s: %w", cl.op, ex.err)
			}
			return Page{}, fmt.Errorf("%s: %s", cl.op, v.Reason)
		}
	}
}

// recoverStale decides the next step after an empty 404 to sent, or returns the error
// that ends the fetch. The account is not at fault and keeps its lease.
func (c *Client) recoverStale(ctx context.Context, l *lease, sent Operation, st *staleState) error {
	cur, err := c.operation(sent.Name)
	if err != nil {
		return err
	}
	if cur.ID != sent.ID && st.tableChanges < 2 {
		st.tableChanges++ // another fetch re-discovered the id meanwhile
		return nil
	}
	if !st.otherTried {
		st.otherTried = true
		st.method = otherMethod(sent.Method)
		c.log.Info().Str("operation", sent.Name).Str("method", sent.Method).
			Msg("X answers an empty 404; trying the other method")
		return nil
	}
	if !st.recovered {
		st.recovered, st.otherTried, st.method = true, false, ""
		realTx, err := c.rebuildTx(ctx, l.acct)
		if err != nil {
			return err
		}
		st.fallbackTx = !c.txOff && !realTx
		changed, err := c.rediscover(ctx, l.acct, sent)
		if err != nil {
			return err
		}
		if realTx || changed {
			return nil
		}
	}
	return &StaleOperationError{Operation: sent.Name, ID: cur.ID, FallbackTxID: st.fallbackTx}
}

func otherMethod(m string) string {
	if m == http.MethodPost {
		return http.MethodGet
	}
	return http.MethodPost
}

// rediscover reads the current operation ids from X's web bundle, with a's session,
// and updates the table. It runs at most once per rediscoverEvery per operation and
// reports whether sent's id changed. It fails only when ctx ends.
func (c *Client) rediscover(ctx context.Context, a Account, sent Operation) (bool, error) {
	c.discoverMu.Lock()
	defer c.discoverMu.Unlock()
	now := c.now()
	c.mu.Lock()
	cur, last := c.ops[sent.Name], c.discovered[sent.Name]
	due := last.IsZero() || now.Sub(last) >= rediscoverEvery
	if due {
		c.discovered[sent.Name] = now
	}
	c.mu.Unlock()
	if cur.ID != sent.ID {
		return true, nil // found by the discovery this one waited for
	}
	if !due {
		return false, nil
	}
	hc, err := c.webClient(a)
	if err != nil {
		c.log.Warn().Err(err).Str("operation", sent.Name).Msg("cannot re-discover operation ids")
		return false, nil
	}
	dctx, cancel := context.WithTimeout(ctx, 4*c.reqTimeout)
	found, err := DiscoverOperations(dctx, hc, c.webBase)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		c.log.Warn().Err(err).Str("operation", sent.Name).Msg("cannot re-discover operation ids")
		return false, nil
	}
	c.mu.Lock()
	var changed []string
	c.ops, changed = UpdateOperationIDs(c.ops, found)
	c.mu.Unlock()
	c.log.Info().Str("operation", sent.Name).Strs("changed", changed).Msg("operation ids re-discovered from X's web app")
	return slices.Contains(changed, sent.Name), nil
}

// observe reports an exchange to the OnResponse hook, if any.
func (c *Client) observe(op string, status int, action string) {
	if c.onResponse != nil {
		c.onResponse(op, status, action)
	}
}
