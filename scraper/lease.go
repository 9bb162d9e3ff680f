package scraper

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// lease is the account one running operation (a search, a thread walk) holds. It is
// used by one goroutine. The account stays leased across pages, so that concurrent
// operations never share an account on the same operation, and is handed back with
// what happened to it when it is dropped or the operation ends.
type lease struct {
	c     *Client
	op    string
	acct  Account
	held  bool
	until time.Time
	out   Outcome // requests, errors and success under the current lease
}

func (c *Client) newLease(op string) *lease { return &lease{c: c, op: op} }

// ensure makes sure an account is held with time left on its lease. A lease near its
// end is handed back and a new one taken (the store may then pick another account):
// AccountStore has no renewal, and a long operation must not outlive its lease, or a
// second operation could be given the same account.
//
// The margin covers one request to its timeout, so that a request sent under the
// lease ends before it does.
func (l *lease) ensure(ctx context.Context) error {
	margin := min(max(l.c.lease/5, l.c.reqTimeout+5*time.Second), l.c.lease/2)
	if l.held && l.c.now().Add(margin).Before(l.until) {
		return nil
	}
	l.release(ctx, Outcome{})
	return l.acquire(ctx)
}

// acquire leases an account. With none free it returns the *NoAccountError, or, when
// the client may wait, sleeps until one frees, for at most WaitForAccount: it polls,
// since the store's next-free time may be the end of a lease that ends early, and
// wakes when an operation of this client hands an account back.
func (l *lease) acquire(ctx context.Context) error {
	c := l.c
	var deadline time.Time
	logged := false
	for {
		wake := c.releaseSignal() // before Acquire, so that no release is missed
		now := c.now()
		a, err := c.accounts.Acquire(ctx, l.op, now, now.Add(c.lease))
		if err == nil {
			l.acct, l.held, l.until, l.out = a, true, now.Add(c.lease), Outcome{}
			c.log.Debug().Str("operation", l.op).Str("account", a.Name).Msg("X account leased")
			return nil
		}
		var none *NoAccountError
		if !errors.As(err, &none) {
			return fmt.Errorf("lease X account for %s: %w", l.op, err)
		}
		if c.waitFor <= 0 || none.NextFree.IsZero() {
			return err
		}
		if deadline.IsZero() {
			deadline = now.Add(c.waitFor)
		}
		// No account frees before the deadline (a rate-limit window of 15 minutes, say):
		// hand the error back at once, so that the caller reschedules its work and this
		// goroutine serves other work meanwhile instead of sleeping to the deadline.
		if !now.Before(deadline) || none.NextFree.After(deadline) {
			return err
		}
		if !logged {
			c.log.Info().Str("operation", l.op).Time("next_free", none.NextFree).Time("give_up_at", deadline).
				Msg("waiting for an X account until " + none.NextFree.Local().Format(time.TimeOnly))
			logged = true
		}
		d := min(none.NextFree.Sub(now), maxWaitPoll, deadline.Sub(now))
		if err := c.waitForRelease(ctx, max(d, 10*time.Millisecond), wake); err != nil {
			return err
		}
	}
}

// release hands the account back with o plus what the lease counted.
func (l *lease) release(ctx context.Context, o Outcome) {
	if !l.held {
		return
	}
	o.Requests += l.out.Requests
	o.Errors += l.out.Errors
	o.Success = o.Success || l.out.Success
	l.held = false
	// Even when the caller gave up: the lease must end and the outcome be recorded.
	if err := l.c.accounts.Release(context.WithoutCancel(ctx), l.acct.ID, l.op, o); err != nil {
		l.c.log.Error().Err(err).Str("operation", l.op).Str("account", l.acct.Name).Msg("release X account")
	}
	l.c.signalRelease()
}

// succeeded records an answer with data.
func (l *lease) succeeded() {
	l.out.Requests++
	l.out.Success = true
	l.acct.Bare403s = 0
}

// failed records a failed request.
func (l *lease) failed() {
	l.out.Requests++
	l.out.Errors++
}

// drop hands the account back after X said what is wrong with it (o carries the lock,
// cooldown or ban), so that the next request takes another one.
func (l *lease) drop(ctx context.Context, o Outcome, v Verdict) {
	ev := l.c.log.Info()
	if o.Deactivate {
		ev = l.c.log.Warn()
	}
	ev.Str("operation", l.op).Str("account", l.acct.Name).Str("action", v.Action.String()).
		Str("reason", v.Reason).Msg("X account set aside")
	l.release(ctx, o)
}
