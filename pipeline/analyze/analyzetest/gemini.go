// Package analyzetest holds fakes for the analysis providers' tests: a fake Gemini API
// and a fake OpenAI-compatible chat completions server, both on loopback and speaking the
// real REST protocols, so that the real clients talk to them; and hand-built threads.
package analyzetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Reply is one scripted answer of a fake server. The zero Status is 200.
type Reply struct {
	Status         int
	Text           string // the model's output text, for a 200
	PromptTokens   int
	ResponseTokens int
	Message        string // the error message, for a non-200
	RetryAfter     string // Retry-After header value
	RetryDelay     string // Gemini only: google.rpc.RetryInfo retryDelay in the error details, e.g. "7s"
	FinishReason   string // Gemini: default STOP; OpenAI: default stop
	BlockReason    string // Gemini only: promptFeedback.blockReason, no candidates
	Hang           bool   // hold the request until the client gives up
}

// script is the scripted replies and recorded requests that both fakes share.
type script[R any] struct {
	mu       sync.Mutex
	replies  []Reply
	requests []R
}

// Push queues replies, answered in order, one per request.
func (s *script[R]) Push(r ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, r...)
}

// Requests returns the requests received so far.
func (s *script[R]) Requests() []R {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]R(nil), s.requests...)
}

func (s *script[R]) record(r R) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

func (s *script[R]) next() (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replies) == 0 {
		return Reply{}, false
	}
	r := s.replies[0]
	s.replies = s.replies[1:]
	return r, true
}

// Gemini is a fake of the Gemini API's generateContent
// (POST /v1beta/models/{model}:generateContent), with the API's JSON shapes for answers,
// usage and errors. Point a genai client at URL.
type Gemini struct {
	script[GeminiRequest]
	URL string
	Key string // the API key it accepts in x-goog-api-key (or ?key=)
	// Respond, when set, answers the requests the script has no reply left for, from
	// the request itself: a storm decided per request, or an answer per conversation.
	// Set it before the first request; it may be called concurrently.
	Respond func(GeminiRequest) Reply
}

// GeminiRequest is one request the fake received.
type GeminiRequest struct {
	Model  string
	Header http.Header
	Body   GenerateContentRequest
}

// GenerateContentRequest is the REST body of generateContent (the fields Nexus uses).
type GenerateContentRequest struct {
	Contents          []GeminiContent `json:"contents"`
	SystemInstruction *GeminiContent  `json:"systemInstruction"`
	GenerationConfig  struct {
		ResponseMIMEType string          `json:"responseMimeType"`
		ResponseSchema   json.RawMessage `json:"responseSchema"`
		Temperature      *float64        `json:"temperature"`
	} `json:"generationConfig"`
}

// GeminiContent is a REST Content: a role and text parts.
type GeminiContent struct {
	Role  string `json:"role"`
	Parts []struct {
		Text string `json:"text"`
	} `json:"parts"`
}

// Text joins the content's text parts.
func (c GeminiContent) Text() string {
	var b strings.Builder
	for _, p := range c.Parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// NewGemini starts a fake Gemini API accepting key; it stops when the test ends.
func NewGemini(t testing.TB, key string) *Gemini {
	g := &Gemini{Key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1beta/models/{call}", g.generateContent)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		googleError(w, http.StatusNotFound, fmt.Sprintf("%s %s is not found", r.Method, r.URL.Path), "")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

func (g *Gemini) generateContent(w http.ResponseWriter, r *http.Request) {
	model, method, ok := strings.Cut(r.PathValue("call"), ":")
	if !ok || method != "generateContent" {
		googleError(w, http.StatusNotFound, "method not found: "+r.PathValue("call"), "")
		return
	}
	key := r.Header.Get("x-goog-api-key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	if key != g.Key {
		googleError(w, http.StatusBadRequest, "API key not valid. Please pass a valid API key.", "")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		googleError(w, http.StatusBadRequest, "Content-Type must be application/json", "")
		return
	}
	raw, err := io.ReadAll(r.Body)
	var body GenerateContentRequest
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil || len(body.Contents) == 0 {
		googleError(w, http.StatusBadRequest, "Invalid JSON payload received or contents is empty.", "")
		return
	}
	for _, c := range body.Contents {
		if c.Text() == "" {
			googleError(w, http.StatusBadRequest, "contents.parts must not be empty.", "")
			return
		}
	}
	req := GeminiRequest{Model: model, Header: r.Header.Clone(), Body: body}
	g.record(req)

	rep, ok := g.next()
	if !ok && g.Respond != nil {
		rep, ok = g.Respond(req), true
	}
	if !ok {
		googleError(w, http.StatusInternalServerError, "analyzetest: no scripted reply left", "")
		return
	}
	if rep.Hang {
		<-r.Context().Done()
		return
	}
	if rep.Status != 0 && rep.Status != http.StatusOK {
		if rep.RetryAfter != "" {
			w.Header().Set("Retry-After", rep.RetryAfter)
		}
		googleError(w, rep.Status, rep.Message, rep.RetryDelay)
		return
	}
	usage := map[string]any{
		"promptTokenCount":     rep.PromptTokens,
		"candidatesTokenCount": rep.ResponseTokens,
		"totalTokenCount":      rep.PromptTokens + rep.ResponseTokens,
	}
	resp := map[string]any{"usageMetadata": usage, "modelVersion": model, "responseId": "fake-response"}
	if rep.BlockReason != "" {
		resp["promptFeedback"] = map[string]any{"blockReason": rep.BlockReason}
	} else {
		finish := rep.FinishReason
		if finish == "" {
			finish = "STOP"
		}
		resp["candidates"] = []any{map[string]any{
			"content":      map[string]any{"role": "model", "parts": []any{map[string]any{"text": rep.Text}}},
			"finishReason": finish,
			"index":        0,
		}}
	}
	writeJSON(w, http.StatusOK, resp)
}

var googleStatus = map[int]string{
	400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}

// googleError writes a Google API error body: {"error":{"code","message","status","details"}},
// with a google.rpc.RetryInfo detail when retryDelay is set.
func googleError(w http.ResponseWriter, code int, message, retryDelay string) {
	if message == "" {
		message = http.StatusText(code)
	}
	status := googleStatus[code]
	if status == "" {
		status = "UNKNOWN"
	}
	e := map[string]any{"code": code, "message": message, "status": status}
	if retryDelay != "" {
		e["details"] = []any{
			map[string]any{
				"@type":      "type.googleapis.com/google.rpc.QuotaFailure",
				"violations": []any{map[string]any{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}},
			},
			map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retryDelay},
		}
	}
	writeJSON(w, code, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
