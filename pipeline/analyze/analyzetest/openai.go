package analyzetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// OpenAI is a fake OpenAI-compatible chat completions server (POST /v1/chat/completions),
// answering with the shapes OpenAI, Ollama, llama.cpp and vLLM share. BaseURL is what a
// client is configured with (it ends in /v1).
type OpenAI struct {
	script[ChatRequest]
	BaseURL string
	Key     string // when set, requests need "Authorization: Bearer <Key>"

	// Servers that predate structured outputs refuse the response formats they do not
	// know with a 400, as llama.cpp's server does; these make the fake one of them.
	RejectJSONSchema bool
	RejectJSONObject bool
	// RejectTemperature refuses any temperature, as OpenAI's reasoning models do.
	RejectTemperature bool

	rejected atomic.Int64
}

// ChatRequest is one chat completions request the fake received and answered from the
// script (rejected response formats are counted by Rejected, not recorded).
type ChatRequest struct {
	Header         http.Header
	Model          string          `json:"model"`
	Messages       []ChatMessage   `json:"messages"`
	ResponseFormat json.RawMessage `json:"response_format"`
	Temperature    *float64        `json:"temperature"`
	Stream         bool            `json:"stream"`
}

// FormatType is the request's response_format.type, "" when it sent none.
func (r ChatRequest) FormatType() string {
	var f struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(r.ResponseFormat, &f)
	return f.Type
}

// ChatMessage is one message of a chat request.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// NewOpenAI starts a fake chat completions server; key "" accepts any request. It stops
// when the test ends.
func NewOpenAI(t testing.TB, key string) *OpenAI {
	o := &OpenAI{Key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", o.chat)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		openAIError(w, http.StatusNotFound, "Unknown request URL: "+r.Method+" "+r.URL.Path, "invalid_request_error")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	o.BaseURL = srv.URL + "/v1"
	return o
}

// Rejected is how many requests were refused for their response_format or temperature.
func (o *OpenAI) Rejected() int { return int(o.rejected.Load()) }

func (o *OpenAI) chat(w http.ResponseWriter, r *http.Request) {
	if o.Key != "" && r.Header.Get("Authorization") != "Bearer "+o.Key {
		openAIError(w, http.StatusUnauthorized, "Incorrect API key provided.", "invalid_request_error")
		return
	}
	raw, err := io.ReadAll(r.Body)
	var req ChatRequest
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil || req.Model == "" || len(req.Messages) == 0 {
		openAIError(w, http.StatusBadRequest, "invalid request: need model and messages", "invalid_request_error")
		return
	}
	req.Header = r.Header.Clone()
	if o.RejectTemperature && req.Temperature != nil {
		o.rejected.Add(1)
		openAIError(w, http.StatusBadRequest, fmt.Sprintf(
			"Unsupported value: 'temperature' does not support %v with this model. Only the default (1) value is supported.",
			*req.Temperature), "invalid_request_error")
		return
	}
	switch f := req.FormatType(); {
	case f == "json_schema" && o.RejectJSONSchema,
		f == "json_object" && o.RejectJSONObject:
		o.rejected.Add(1)
		openAIError(w, http.StatusBadRequest,
			fmt.Sprintf(`response_format type must be one of "text" or "json_object", but got: %s`, f), "invalid_request_error")
		return
	}
	o.record(req)

	rep, ok := o.next()
	if !ok {
		openAIError(w, http.StatusInternalServerError, "analyzetest: no scripted reply left", "server_error")
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
		kind := "server_error"
		if rep.Status == http.StatusTooManyRequests {
			kind = "rate_limit_error"
		} else if rep.Status < 500 {
			kind = "invalid_request_error"
		}
		openAIError(w, rep.Status, rep.Message, kind)
		return
	}
	finish := rep.FinishReason
	if finish == "" {
		finish = "stop"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      "chatcmpl-fake",
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   req.Model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": rep.Text},
			"finish_reason": finish,
		}},
		"usage": map[string]any{
			"prompt_tokens":     rep.PromptTokens,
			"completion_tokens": rep.ResponseTokens,
			"total_tokens":      rep.PromptTokens + rep.ResponseTokens,
		},
	})
}

// openAIError writes OpenAI's error body: {"error":{"message","type","param","code"}}.
func openAIError(w http.ResponseWriter, code int, message, kind string) {
	if message == "" {
		message = http.StatusText(code)
	}
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"message": message, "type": kind, "param": nil, "code": strings.ToLower(strings.ReplaceAll(http.StatusText(code), " ", "_")),
	}})
}
