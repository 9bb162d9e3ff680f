package web

import (
	"fmt"
	"strings"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

type runPageData struct {
	Run      store.Run
	Campaign store.Campaign
	Stages   []stageView
	Problem  string // the run's error in plain words
	Detail   string // the error as recorded, for the operator
}

type stageView struct {
	Key, Label string
	State      string // done | current | todo
}

var runStages = []struct{ key, label string }{
	{"searching", "Search X"}, {"threads", "Read threads"}, {"analyzing", "Analyse"}, {"delivering", "Deliver"}, {"done", "Done"},
}

// stages marks the stepper of a run: every stage before the current one done.
func stages(r store.Run) []stageView {
	cur := len(runStages) - 1
	for i, s := range runStages {
		if s.key == r.Stage {
			cur = i
		}
	}
	out := make([]stageView, len(runStages))
	for i, s := range runStages {
		st := "todo"
		switch {
		case i < cur || (i == cur && !r.Active()):
			st = "done"
		case i == cur:
			st = "current"
		}
		out[i] = stageView{Key: s.key, Label: s.label, State: st}
	}
	return out
}

// explainRun says in plain words why a run did not succeed and what to do about it.
// The recorded error stays available under it for whoever reads logs.
func explainRun(r store.Run) string {
	e := strings.ToLower(r.Error)
	switch {
	case r.Status == store.RunCancelled:
		return "This run was cancelled before it finished. What it had found until then is kept."
	case r.Error == "" && r.Status != store.RunFailed:
		return ""
	case r.Active():
		// A job recorded why the run will fail (no X account, say); the rest of the
		// run goes on with what it has.
		return "Part of this run failed; it finishes what it has and then ends failed. " + explainError(e)
	}
	return explainError(e)
}

// explainError says what a run's error means and what to do about it.
func explainError(e string) string {
	switch {
	// Before the "no usable" case: a run that waited runs.account_wait in vain says
	// both, and the cure is fewer runs or more accounts, not reactivating one.
	case strings.Contains(e, "busy or rate-limited"):
		return "Every X account stayed rate-limited for longer than a run may wait. Add more accounts, or run this campaign less often."
	case strings.Contains(e, "no active x account") || strings.Contains(e, "no usable x account"):
		return "No X account could search. Add an account on the X accounts page, or reactivate one that X suspended, locked or logged out."
	case strings.Contains(e, "suspended") || strings.Contains(e, "locked") || strings.Contains(e, "could not authenticate"):
		return "X refused the accounts this run used (suspended, locked or logged out). Check them on the X accounts page."
	case strings.Contains(e, "cloudflare") || strings.Contains(e, "timeout") || strings.Contains(e, "connection"):
		return "X could not be reached reliably. The run gave up after several tries; starting it again later usually works."
	case strings.HasPrefix(e, "search failed"):
		return "The search on X failed, so nothing could be collected. The details below say what X answered."
	}
	return "The run stopped with an error. The details below say what went wrong."
}

func (u *ui) uiRun(c *echo.Context) (store.Run, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return store.Run{}, err
	}
	return u.store.Run(c.Request().Context(), principal(c).OrgID, id)
}

func (u *ui) runPage(c *echo.Context) error {
	run, err := u.uiRun(c)
	if err != nil {
		return err
	}
	camp, err := u.store.Campaign(c.Request().Context(), run.OrgID, run.CampaignID)
	if err != nil {
		return err
	}
	d := runPageData{Run: run, Campaign: camp, Stages: stages(run), Problem: explainRun(run), Detail: run.Error}
	return u.render(c, 200, "run", view{Title: fmt.Sprintf("Run %d · %s", run.ID, camp.Name), Nav: "campaigns", Data: d})
}

func (u *ui) runCancel(c *echo.Context) error {
	run, err := u.uiRun(c)
	if err != nil {
		return err
	}
	if _, err := u.store.CancelRun(c.Request().Context(), run.OrgID, run.ID); err != nil {
		return err
	}
	p := principal(c)
	u.audit(c, p.OrgID, p.UserID, p.Email, "run.cancel", fmt.Sprintf("run %d", run.ID))
	return u.done(c, fmt.Sprintf("/runs/%d", run.ID), "Run cancelled.")
}
