package analyze

import (
	"context"
	"errors"
	"time"
)

// CompleteFunc sends one Request to a provider's model, once, and returns its answer and
// usage. It reports a failure worth retrying as a *TransientError, and an answer the
// model refused to give (a blocked prompt) as a *FailedAnalysis, whose token counts Ask
// fills in.
type CompleteFunc func(ctx context.Context, req Request) (Reply, error)

// FailedAnalysis is the error of an analysis whose model answered, but not with a usable
// result, even after one repair: the caller records Raw and goes on with the run. The
// token counts are what the exchange cost, so that a budget can still be charged.
type FailedAnalysis struct {
	Raw            string // the model's last answer, as it came
	Err            error  // what was wrong with it
	Provider       string
	Model          string
	PromptTokens   int
	ResponseTokens int
}

func (f *FailedAnalysis) Error() string { return "unusable model answer: " + f.Err.Error() }
func (f *FailedAnalysis) Unwrap() error { return f.Err }

// Ask runs one analysis through a provider: it sends req under the retry policy, parses
// and validates the answer, and when the answer is not valid JSON or breaks the schema it
// asks once more with a repair instruction that names the problems. If that answer is no
// better, the error is a *FailedAnalysis that keeps the raw text. Transport failures that
// outlast the retries come back as they are (wrapped), for the caller's job to retry.
//
// The Result carries the token counts of both exchanges and the latency of the whole;
// the provider fills in Provider and Model.
func Ask(ctx context.Context, complete CompleteFunc, retry Retry, req Request) (Result, error) {
	start := time.Now()
	var prompt, response int
	call := func(req Request) (Reply, error) {
		var rep Reply
		err := retry.Do(ctx, func(ctx context.Context) error {
			var err error
			rep, err = complete(ctx, req)
			return err
		})
		prompt += rep.PromptTokens
		response += rep.ResponseTokens
		return rep, err
	}
	failed := func(err error) error {
		var fa *FailedAnalysis
		if errors.As(err, &fa) {
			fa.PromptTokens, fa.ResponseTokens = prompt, response
		}
		return err
	}

	rep, err := call(req)
	if err != nil {
		return Result{}, failed(err)
	}
	r, problem := Parse(rep.Text)
	if problem != nil {
		raw := rep.Text
		if raw == "" {
			raw = "(empty answer)" // providers reject an empty turn
		}
		rep, err = call(repairRequest(req, raw, problem))
		if err != nil {
			return Result{}, failed(err)
		}
		if r, problem = Parse(rep.Text); problem != nil {
			return Result{}, &FailedAnalysis{Raw: rep.Text, Err: problem, PromptTokens: prompt, ResponseTokens: response}
		}
	}
	r.PromptTokens, r.ResponseTokens = prompt, response
	r.Latency = time.Since(start)
	return r, nil
}
